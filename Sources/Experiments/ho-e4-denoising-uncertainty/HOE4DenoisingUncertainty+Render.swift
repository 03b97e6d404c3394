// HO-E4's tables and figures from the typed results (issue 30); the verdicts are in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HOE4DenoisingUncertainty {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        func f3(_ v: Double) -> String { Format.significant(v, 3) }
        func ci(_ v: Double, _ lo: Double, _ hi: Double) -> String { "\(f3(v)) [\(f3(lo)), \(f3(hi))]" }
        func ci(_ e: Estimate) -> String { ci(e.mean, e.low, e.high) }
        let cal = results.calibration
        let calTable = cal.map { r in
            [r.model, "\(r.seed)", r.comparison, ci(r.pixelMeanPearson, r.pearsonLow, r.pearsonHigh), f3(r.pooledPearson), f3(r.meanTarget),
             f3(r.meanPredicted), ci(r.ratioPredictedToTarget, r.ratioLow, r.ratioHigh), "\(r.images)", "\(r.negativeVariancesClamped)",
             "\(r.negativeEigenvalues)", r.relativeFrobeniusErrorVsExact.map { f3($0) } ?? "–"]
        }
        let calHeader = ["model", "seed", "comparison", "Pearson r (per-pixel means)", "pooled r", "E[target]", "E[predicted]", "ratio predicted/target",
                         "images", "clamped variances", "negative eigenvalues", "rel. Frobenius error vs exact Σ"]
        try run.writeTable(Table(header: calHeader, rows: calTable,
                                 caption: "HO-E4 calibration, pre-audit statistics (information since issue 29), σ = \(c.sigma), per model and seed: Pearson r across pixels between per-pixel means over held-out images of the target ((x − m)² or the exact posterior variance) and of the predicted variance diag(σ⁴s̃₂ + σ²I); pooled r over all (image, pixel) pairs; means and their ratio; percentile-bootstrap 95% intervals over images (\(c.bootstrapResamples) resamples; the r intervals sit low, since a resample repeats images). Negative predicted variances are clamped to 0 and counted.",
                                 label: "tab:ho-e4-calibration"), name: "calibration")

        // HO-C5 (issue 29): per model and seed, and pooled over seeds (two-level bootstrap over
        // seeds and images), the clamped, unclamped and complement ratios, λ₁, its alignment
        // with x̃ − m, and the rank correlations.
        let curve = results.curve
        let diagModels = Self.models(results.diagnostics.map(\.model))
        let seedList = results.seeds
        let seedCount = seedList.count
        // The learning-curve rule, per model and seed.
        let stability = Self.stability(curve, config: c)
        var curveTable: [[String]] = []
        for m in Self.models(curve.map(\.model)) {
            for s in Set(curve.filter { $0.model == m }.map(\.seed)).sorted() {
                let pts = curve.filter { $0.model == m && $0.seed == s }.sorted { $0.step < $1.step }
                let (stable, change) = stability[m]![s]!
                curveTable.append([m, "\(s)", pts.map { "\($0.step): \(f3($0.ratioClamped))" }.joined(separator: ", "), f3(change), stable ? "yes" : "no"])
            }
        }
        try run.writeTable(Table(header: ["model", "seed", "step: ratio E[clamped]/E[(x − m)²]", "last relative change", "stable"], rows: curveTable,
                                 caption: "HO-E4 learning curve (issue 29): the claim's ratio at each snapshot (EMA weights) on the held-out pairs. Rule fixed before the claim is read (threshold ours): stable when the ratio changed by less than \(Format.significant(c.stabilityTolerance * 100, 3)) % between the last two points.",
                                 label: "tab:ho-e4-learning-curve"), name: "learning_curve")
        let curveModels = Self.models(curve.map(\.model))
        try run.writeFigure(Figure(name: "learning_curve", panels: curveModels.map { m in
            Panel(title: "\(m): E[predicted]/E[(x − m)²] against training steps", xLabel: "training step", yLabel: "ratio", key: "top right",
                  series: Set(curve.filter { $0.model == m }.map(\.seed)).sorted().flatMap { s -> [Series] in
                      let pts = curve.filter { $0.model == m && $0.seed == s }.sorted { $0.step < $1.step }
                      return [Series(x: pts.map { Double($0.step) }, y: pts.map(\.ratioClamped), title: "seed \(s), clamped", style: .linespoints, color: s),
                              Series(x: pts.map { Double($0.step) }, y: pts.map(\.ratioUnclamped), title: "seed \(s), unclamped", style: .linespoints, color: s, dashed: true)]
                  } + [Series(x: [Double(curve.map(\.step).min() ?? 0), Double(curve.map(\.step).max() ?? 1)], y: [1, 1], title: "calibrated", style: .lines, color: 7, dashed: true)])
        }, title: "HO-E4: variance ratio during training (issue 29)"))
        let deciles = results.deciles
        let decileModels = Self.models(deciles.map(\.model))
        try run.writeFigure(Figure(name: "calibration_deciles", panels: decileModels.map { m in
            let rows = deciles.filter { $0.model == m }
            let hi = max(rows.map(\.meanPredicted).max() ?? 1, rows.map(\.meanRealised).max() ?? 1)
            return Panel(title: "\(m): realised against predicted variance by decile", xLabel: "mean predicted variance", yLabel: "mean realised (x − m)²", key: "top left",
                         series: Set(rows.map(\.seed)).sorted().map { s in
                             let pts = rows.filter { $0.seed == s }.sorted { $0.bin < $1.bin }
                             return Series(x: pts.map(\.meanPredicted), y: pts.map(\.meanRealised), title: "seed \(s)", style: .linespoints, color: s)
                         } + [Series(x: [0, hi], y: [0, hi], title: "calibrated", style: .lines, color: 7, dashed: true)])
        }, title: "HO-E4: calibration by predicted-variance decile (issue 29)"))

        var c5Table: [[String]] = []
        let pooled = Self.pooledC5(results, config: c)
        for (mi, m) in diagModels.enumerated() {
            for s in seedList {
                let gs = results.groups(m, [s])
                guard !gs.isEmpty else { continue }
                let r = Self.c5(gs, config: c, seed: Self.c5Seed(results, model: mi, seed: s))
                let st = stability[m]?[s]
                c5Table.append([m, "\(s)", ci(r.clamped), ci(r.unclamped), ci(r.complement), f3(r.lambda1), f3(r.lambda2), f3(r.cosine), f3(r.aligned),
                                ci(r.spearman), ci(r.spearmanGain), r.exact.map(ci) ?? "–", st.map { $0.stable ? "yes" : "no" } ?? "–"])
            }
            let r = pooled[m]!
            c5Table.append([m, "all (\(seedCount))", ci(r.clamped), ci(r.unclamped), ci(r.complement), f3(r.lambda1), f3(r.lambda2), f3(r.cosine), f3(r.aligned),
                            ci(r.spearman), ci(r.spearmanGain), r.exact.map(ci) ?? "–", (stability[m]?.values.allSatisfy(\.stable) ?? false) ? "yes" : "no"])
        }
        try run.writeTable(Table(header: ["model", "seed", "ratio (clamped)", "ratio (unclamped)", "ratio on the complement of u₁", "mean λ₁", "mean λ₂",
                                          "mean |cos(u₁, x̃ − m)|", "share |cos| > \(c.noiseCosineThreshold)", "mean Spearman ρ", "ρ − ρ(image-ignoring map)",
                                          "ratio predicted/exact", "curve stable"], rows: c5Table,
                                 caption: "HO-E4 uncertainty (HO-C5, issue 29), σ = \(c.sigma): ratios E[predicted]/E[realised] with the predicted variance clamped at 0 (the claim's), unclamped (tr Σ), and on the orthogonal complement of the top eigenvector u₁ of Σ (tr Σ − λ₁ against ‖x − m‖² − (u₁ᵀ(x − m))²); λ₁, λ₂ and u₁'s alignment with the noise direction x̃ − m; per-image Spearman ρ between the predicted variance map and (x − m)² (a constant map scores 0), and its gain over a map that ignores the image (the leave-one-out per-pixel mean of (x − m)²). Per seed: percentile-bootstrap 95% intervals over images; 'all': two-level bootstrap over seeds and images (\(c.bootstrapResamples) resamples).",
                                 label: "tab:ho-e4-uncertainty"), name: "uncertainty")

        // HO-C6's table (issue 29): per model and eigenvector rank, the stroke share against both
        // nulls, the noise direction apart (the per-image test is in +Claims).
        let st = results.structure
        var structTable: [[String]] = []
        for m in Self.models(st.map(\.model)) {
            let rowsM = st.filter { $0.model == m }
            for k in Set(rowsM.map(\.eigenRank)).sorted() {
                let rows = rowsM.filter { $0.eigenRank == k }
                let kept = rows.filter { !$0.noiseDirection }
                structTable.append([m, "\(k)", f3(Stats.mean(rows.map(\.strokeShare))), f3(Stats.mean(rows.map(\.randomDirectionShare))),
                                    f3(Stats.mean(rows.map(\.weightedNullShare))), f3(Stats.mean(rows.map(\.noiseCosine))),
                                    "\(rows.count - kept.count)/\(rows.count)", kept.isEmpty ? "–" : f3(Stats.mean(kept.map { $0.strokeShare - $0.weightedNullShare }))])
            }
        }
        try run.writeTable(Table(header: ["model", "eigenvector", "stroke share", "isotropic-null share", "variance-weighted-null share", "mean |cos(u, x̃ − m)|",
                                          "noise directions", "share − weighted null (non-noise)"],
                                 rows: structTable,
                                 caption: "HO-E4 structure (HO-C6), all seeds: share of each top eigenvector's energy on pixels where the clean image or the denoised mean exceeds \(c.strokeThreshold), against \(c.randomDirections) isotropic random directions per image (the pre-audit null; its expectation is the stroke-pixel fraction) and \(c.randomDirections) random directions with per-pixel SD ∝ √(predicted variance) (issue 29's null, which knows where the variance is). Eigenvectors with |cos(u, x̃ − m)| > \(c.noiseCosineThreshold) are the noise direction, counted apart and left out of the last column.",
                                 label: "tab:ho-e4-structure"), name: "structure")

        print(Table(header: ["model", "seed", "clamped", "unclamped", "complement", "λ₁", "λ₂", "|cos|", "aligned", "ρ", "ρ gain", "exact", "stable"], rows: c5Table).markdown())
        print(Table(header: ["model", "k", "share", "iso null", "weighted null", "|cos|", "noise", "diff"], rows: structTable).markdown())
    }
}
