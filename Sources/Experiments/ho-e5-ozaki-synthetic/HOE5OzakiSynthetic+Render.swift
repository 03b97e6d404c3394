// HO-E5's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting
import ScoreKit

extension HOE5OzakiSynthetic {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let fr = results.fractions, re = results.reached
        func steps(_ r: ReachedRow) -> Double { Self.steps(r, config: c) }
        let e1 = results.accuracy.map(\.firstOrderError), e2 = results.accuracy.map(\.secondOrderError)
        let seedCount = Self.seedCount(of: results)
        let exactFraction = Self.exactHeavyFraction(c)
        let armKeys = results.armKeys

        // Table: pooled heavy fraction (Wilson) at the report steps, steps to the band, diverged.
        let pilot: [String: [Int: Double]] = ["ULA 0.02": [100: 0.54, 300: 0.59, 1000: 0.69, 3000: 0.78], "Ozaki 0.1": [100: 0.61, 300: 0.73, 1000: 0.80, 3000: 0.80],
                                              "Ozaki 1": [100: 0.79, 300: 0.83, 1000: 0.82, 3000: 0.82]]
        var rows: [[String]] = []
        for (scores, rule, eps) in armKeys {
            var row = [scores, rule, Format.significant(eps, 2)]
            for t in c.reportSteps {
                let at = fr.filter { $0.scores == scores && $0.rule == rule && $0.stepSize == eps && $0.step == t }
                let heavy = at.reduce(0.0) { $0 + Double($1.heavy) }, all = Double(at.count * c.chains)
                let w = Stats.proportionCI(successes: Int(heavy), trials: Int(all))
                row.append(all > 0 ? "\(Format.significant(w.mean, 3)) [\(Format.significant(w.low, 3)), \(Format.significant(w.high, 3))]" : "–")
            }
            let reached = re.filter { $0.scores == scores && $0.rule == rule && $0.stepSize == eps }.sorted { $0.seed < $1.seed }
            row.append(reached.map { steps($0) > Double(c.steps) ? "> \(c.steps)" : "\(Int(steps($0)))" }.joined(separator: ", "))
            row.append("\(Int(reached.reduce(0.0) { $0 + Double($1.diverged) }))")
            let clampTotal = reached.reduce(0.0) { $0 + Double($1.clampedCurvatures) }
            row.append(rule.hasSuffix(Arm.clampSuffix) ? Format.significant(clampTotal / Double(c.steps * c.chains * reached.count), 3) : "–")
            rows.append(row)
        }
        for (name, values) in pilot.sorted(by: { $0.key < $1.key }) {
            rows.append(["pilot (spec §6.6, NumPy, oracle; not the paper's)", name.components(separatedBy: " ")[0], name.components(separatedBy: " ")[1]]
                        + c.reportSteps.map { values[$0].map { Format.significant($0, 2) } ?? "–" } + ["–", "–", "–"])
        }
        try run.writeTable(Table(header: ["scores", "sampler", "ε"] + c.reportSteps.map { "t = \($0)" } + ["steps to |f − 0.8| < \(Format.significant(c.band, 2)) (per seed)", "diverged", "clamped curvatures per chain-step"],
                                 rows: rows,
                                 caption: "Heavy-mode fraction (x₁ > 0; diverged chains count as out) of \(c.chains) chains per seed started inside the support (x₁ ~ Uniform[−6, 6], x₂ ~ N(0, \(Format.significant(c.variances[1] + c.sigma * c.sigma, 3)))), pooled over \(seedCount) seeds with Wilson 95% intervals; target q_σ of the 0.2/0.8 stiff mixture, σ = \(c.sigma), true weight 0.8. Exact samples of q_σ give \(Format.significant(exactFraction, 4)) under the x₁ > 0 rule (closed form; each mode puts Φ(−2.5) ≈ 0.6 % of its mass across x₁ = 0), so a perfect sampler sits 0.004 below 0.8. Steps to the band: first record (every \(c.recordEvery) steps) from which the fraction stays within the band. Learned scores: s̃₁ relative error \(Format.significant(Stats.mean(e1), 3)), s̃₂ relative Frobenius error \(Format.significant(Stats.mean(e2), 3)) (mean over seeds). Ozaki-clamped: h ← min(h, 1/ε) on the eigenvalues (spec §3.1; not known to be in the paper), a pre-registered check of HO-C7 (issue 17). Setup [RECON].",
                                 label: "tab:ho-e5"), name: "mixing")

        // Figure: fraction against steps (log x), oracle and learned panels.
        var panels: [Panel] = []
        for scores in ["oracle", "learned"] {
            var series: [Series] = []
            for (k, key) in armKeys.filter({ $0.0 == scores }).enumerated() {
                var byStep: [Double: (Double, Double)] = [:]
                for r in fr where r.scores == key.0 && r.rule == key.1 && r.stepSize == key.2 {
                    let cur = byStep[Double(r.step)] ?? (0, 0)
                    byStep[Double(r.step)] = (cur.0 + Double(r.heavy), cur.1 + Double(c.chains))
                }
                let xs = byStep.keys.sorted()
                // Clamped Ozaki dashed and heavier, ULA drawn thick underneath: where a curve
                // coincides with another (clamped with plain Ozaki where no curvature exceeds 1/ε,
                // Ozaki with ULA at small ε) both stay visible (issue 19).
                let clamped = key.1.hasSuffix(Arm.clampSuffix)
                series.append(Series(x: xs, y: xs.map { byStep[$0]!.1 > 0 ? byStep[$0]!.0 / byStep[$0]!.1 : .nan }, title: "\(key.1) ε = \(Format.significant(key.2, 2))",
                                     style: .lines, color: k, dashed: clamped, weight: clamped ? 1.6 : (key.1 == "ULA" ? 2.4 : 1)))
            }
            series.append(Series(x: [1, Double(c.steps)], y: [c.heavyWeight, c.heavyWeight], title: "true weight 0.8", style: .lines, color: 6, dashed: true, weight: 0.7))
            panels.append(Panel(title: "\(scores) scores", xLabel: "Langevin step", yLabel: "heavy-mode fraction", logX: true, yRange: 0.3...1.0, key: "off", series: series))
        }
        if let first = panels.first { panels.append(.legend(for: first.series, title: "clamped Ozaki dashed; ULA thick, underneath")) }
        try run.writeFigure(Figure(name: "heavy_fraction", panels: panels, title: "HO-E5: mixing on the stiff 0.2/0.8 mixture (pooled over seeds)", panelWidth: 500))
        print(Table(header: ["scores", "sampler", "ε"] + c.reportSteps.map { "t=\($0)" } + ["steps to band", "diverged", "clamped"], rows: rows).markdown())
    }
}
