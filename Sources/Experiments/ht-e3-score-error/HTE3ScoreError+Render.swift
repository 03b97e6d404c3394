// HT-E3's tables and figures from the typed results (issue 30); the verdicts are in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE3ScoreError {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let sum = results.summary, lv = results.levels, cv = results.curves
        let names = results.dataSets
        func dim(_ n: String) -> Int { results.dimension(of: n) }
        let seedCount = Self.seedCount(of: results)
        func bySeed(_ n: String, _ b: Double, _ v: KeyPath<SummaryRow, Double>) -> [Double] { results.bySeed(n, b, v) }
        func curveAt(_ n: String, _ b: Double, step: Int) -> [Double] { results.curveAt(n, b, step: step) }

        // Table: per data set and β.
        var rows: [[String]] = []
        for n in names {
            for b in c.betas {
                guard let first = sum.first(where: { $0.dataset == n && $0.beta == b }) else { continue }
                let a = Stats.meanCI(bySeed(n, b, \.relativeErrorSame)), cm = Stats.meanCI(bySeed(n, b, \.relativeErrorCommon))
                let held = Stats.mean(lv.filter { $0.dataset == n && $0.beta == b }.map(\.heldoutDSMLoss))
                let start = Stats.meanCI(curveAt(n, b, step: 0))
                let o = Stats.meanCI(bySeed(n, b, \.relativeErrorOff)), ao = Stats.meanCI(bySeed(n, b, \.absoluteErrorOff))
                let aa = Stats.mean(bySeed(n, b, \.absoluteErrorSame)), ab = Stats.mean(bySeed(n, b, \.absoluteErrorCommon))
                rows.append([n, "\(dim(n))", Format.significant(b, 3), "\(first.levels)", Format.significant(first.ratio, 4),
                             Format.withError(start.mean, start.halfWidth), Format.withError(a.mean, a.halfWidth), Format.withError(cm.mean, cm.halfWidth),
                             Format.withError(o.mean, o.halfWidth), Format.significant(aa, 3), Format.significant(ab, 3), Format.withError(ao.mean, ao.halfWidth),
                             Format.significant(held, 4)])
            }
        }
        try run.writeTable(Table(header: ["data", "D", "β", "L", "γ", "rel. error at init (a)", "rel. error (a) same-β points", "rel. error (b) common points",
                                          "rel. error (c) off-shell", "abs. error (a)", "abs. error (b)", "abs. error (c)", "held-out DSM loss"],
                                 rows: rows,
                                 caption: "Relative Fisher divergence Σσ²E‖s_θ − s‖²/Σσ²E‖s‖² against the exact score of the GND-perturbed training set (N = \(c.trainPoints)), over \(c.evalScales) evaluation scales from σ_1 to \(Format.significant(c.sigmaMinFraction, 2))σ_1; (a) points perturbed with the model's own β, (b) the same Gaussian-perturbed points for every β, (c) off-shell points (each β's own noise × \(Format.significant(c.offShellFactor ?? 1.5, 2))). Absolute error: mean over scales of σ²E‖s_θ − s‖²/D, a normaliser common to every β. Mean ± 95% t-interval over \(seedCount) seeds; \(c.steps) Adam steps. Held-out DSM loss: σ²-weighted, mean over the evaluation levels (not comparable across β). Protocol [RECON].",
                                 label: "tab:ht-e3"), name: "score_error")

        // Table: HT-C1's DSM identity and the floor's learnability per data set and β (issue 30).
        var identityRows: [[String]] = []
        for n in names {
            for b in c.betas {
                let floor = Self.floorRelativeError(results, n, b)
                if let e = Self.identityEstimate(results, n, b) {
                    identityRows.append([n, "\(dim(n))", Format.significant(b, 3), Format.significant(e.mean, 3),
                                         "[\(Format.significant(e.low, 3)), \(Format.significant(e.high, 3))]", "\(e.n)", Format.significant(floor, 3)])
                } else {
                    identityRows.append([n, "\(dim(n))", Format.significant(b, 3), "", "", "0", Format.significant(floor, 3)])
                }
            }
        }
        try run.writeTable(Table(header: ["data", "D", "β", "DSM identity (E[s·t] − E[s·∇log q]) / E[s·∇log q]", "95% interval", "draws", "floor rel. error (a)"],
                                 rows: identityRows,
                                 caption: "HT-C1 (issue 30): the DSM identity by Monte Carlo, s = ∇log q the exact score, pairs (x̃, t) from the training code's batch maker at the \(c.evalScales) evaluation scales, σ²-weighted (tolerance ±\(Self.identityTolerance)); and the floor network's relative error on same-β points, pooled over seeds (learnable below \(Self.learnableFloor); the learned checks decide only where β = 1 and β = 2 are both learnable).",
                                 label: "tab:ht-e3-identity"), name: "dsm_identity")

        // Figure 1: aggregate error against D per β (synthetic mixtures; digits as separate points).
        var panels: [Panel] = []
        for (title, v) in [("(a) same-β points", \SummaryRow.relativeErrorSame), ("(b) common Gaussian-perturbed points", \SummaryRow.relativeErrorCommon)] {
            var series: [Series] = []
            for (k, b) in c.betas.enumerated() {
                let syn = names.filter { !$0.hasPrefix("digits") }
                let est = syn.map { Stats.meanCI(bySeed($0, b, v)) }
                series.append(Series(x: syn.map { Double(dim($0)) }, y: est.map { $0.mean }, yError: est.map { $0.halfWidth },
                                     title: "β = \(Format.significant(b, 3)) mixture", style: .linespoints, color: k))
                if names.contains("digits8x8") {
                    let e = Stats.meanCI(bySeed("digits8x8", b, v))
                    series.append(Series(x: [64], y: [e.mean], yError: [e.halfWidth], title: "β = \(Format.significant(b, 3)) digits", style: .points, color: k))
                }
            }
            panels.append(Panel(title: title, xLabel: "dimension D", yLabel: "relative score error", logX: true, logY: true, key: "off", series: series))
        }
        // One legend beside the panels instead of one over each (issue 19).
        if let first = panels.first { panels.append(.legend(for: first.series)) }
        try run.writeFigure(Figure(name: "error_vs_dimension", panels: panels, title: "HT-E3: score error against dimension (mean ± 95% CI over seeds)",
                                   panelWidth: 520))

        // Figure 2: per data set, error against the evaluation scale, per β, both point sets.
        var levelPanels: [Panel] = []
        for n in names {
            var series: [Series] = []
            for (k, b) in c.betas.enumerated() {
                for (label, v, style) in [("(a)", \LevelRow.relativeErrorSame, Series.Style.linespoints), ("(b)", \LevelRow.relativeErrorCommon, Series.Style.lines)] {
                    var byTau: [Double: [Double]] = [:]
                    for r in lv where r.dataset == n && r.beta == b { byTau[r.tau, default: []].append(r[keyPath: v]) }
                    let taus = byTau.keys.sorted()
                    series.append(Series(x: taus, y: taus.map { Stats.mean(byTau[$0]!) }, title: "β = \(Format.significant(b, 3)) \(label)", style: style, color: k))
                }
            }
            levelPanels.append(Panel(title: "\(n) (D = \(dim(n)))", xLabel: "evaluation scale τ", yLabel: "relative error", logX: true, logY: true, key: "off", series: series))
        }
        if let first = levelPanels.first { levelPanels.append(.legend(for: first.series, title: "(a) same-β points, (b) common points")) }
        try run.writeFigure(Figure(name: "error_by_level", panels: levelPanels, rows: 2, title: "HT-E3: relative score error per noise level ((a) same-β points, (b) common points; mean over seeds)",
                                   panelWidth: 420, panelHeight: 340))

        // Figure 3: training curves.
        var curvePanels: [Panel] = []
        for n in names {
            curvePanels.append(Panel(title: "\(n) (D = \(dim(n)))", xLabel: "training step", yLabel: "relative error (a)", logY: true, key: "off",
                                     series: c.betas.enumerated().map { (k, b) in
                                         var byStep: [Double: [Double]] = [:]
                                         for r in cv where r.dataset == n && r.beta == b { byStep[Double(r.step), default: []].append(r.relativeErrorSame) }
                                         let xs = byStep.keys.sorted()
                                         return Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: "β = \(Format.significant(b, 3))", style: .linespoints, color: k)
                                     }))
        }
        if let first = curvePanels.first { curvePanels.append(.legend(for: first.series)) }
        try run.writeFigure(Figure(name: "error_vs_steps", panels: curvePanels, rows: 2, title: "HT-E3: relative score error (a) during training (subset of the evaluation points; mean over seeds)",
                                   panelWidth: 420, panelHeight: 340))
        print(Table(header: ["data", "D", "β", "L", "γ", "init (a)", "(a)", "(b)", "(c)", "abs (a)", "abs (b)", "abs (c)", "held-out"], rows: rows).markdown())
    }
}
