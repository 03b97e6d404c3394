// HT-E4's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE4Convergence {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let mag = results.magnitude, tr = results.trace
        let fits = Self.exponentFits(results, config: c)
        let fitRanges = fits.fitRanges, exponents = fits.exponents, targetExponents = fits.targetExponents
        let q = c.supportQuantile ?? 0.99
        let noiseArms = c.langevinNoises ?? ["unscaled-gaussian"]
        func shares(_ b: Double, _ e: Double, _ noise: String) -> [Double] { results.shares(b, e, noise) }
        func finalMean(_ b: Double, _ e: Double, _ noise: String, _ v: (TraceRow) -> Double) -> Estimate {
            let last = c.stepsPerLevel, lastLevel = c.toy.sigmas.count - 1
            return Stats.meanCI(tr.filter { $0.beta == b && $0.stepSize == e && $0.langevinNoise == noise && $0.level == lastLevel && $0.step == last }.map(v))
        }

        var rows: [[String]] = []
        for b in c.betas {
            let ex = Stats.meanCI(exponents[b] ?? []), tx = Stats.meanCI(targetExponents[b] ?? [])
            let cx = Stats.meanCI(Array((fits.commonExponents[b] ?? [:]).values)), ctx = Stats.mean(Array((fits.commonTargetExponents[b] ?? [:]).values))
            for noise in noiseArms {
                for e in c.stepSizes {
                    let sh = Stats.meanCI(shares(b, e, noise))
                    let n = finalMean(b, e, noise, \.meanScoreNorm), snr = finalMean(b, e, noise, \.snr), d = finalMean(b, e, noise, \.meanNearestDistance)
                    rows.append([Format.significant(b, 3), Format.significant(b - 1, 3), Format.withError(ex.mean, ex.halfWidth), Format.significant(tx.mean, 3),
                                 "[1, \(Format.significant(fitRanges[b]!.upperBound, 3))]", Format.withError(cx.mean, cx.halfWidth), Format.significant(ctx, 3), noise, Format.significant(e, 3),
                                 Format.withError(n.mean, n.halfWidth), Format.withError(snr.mean, snr.halfWidth), Format.withError(d.mean, d.halfWidth),
                                 Format.withError(100 * sh.mean, 100 * sh.halfWidth)])
                }
            }
        }
        try run.writeTable(Table(header: ["β", "β − 1", "fitted exponent", "exact minimiser's exponent", "fit range", "fitted exponent, common range", "exact minimiser's, common range", "Langevin noise", "ε", "final ‖s_θ‖", "final SNR", "final distance to data", "diverged %"], rows: rows,
                                 caption: "Annealed Langevin diagnostics on the 10:1 toy (\(c.stepsPerLevel) steps per level, fixed ε; unscaled-gaussian: z ~ N(0, I) unscaled, neither the released code's rule nor the notebook's; laplace-sigma-scaled: the notebook's σ_i·Laplace noise; final = last step of the last level; mean ± 95% t-interval over seeds). Exponents: slope of log‖·‖ against log distance to the nearest training point over the fit range [1, r₉₉(β)] (the \(Format.significant(100 * q, 3)) % quantile of the largest level's noise norm), for the network and for the exact minimiser of the notebook loss at the same points; the common range [1, \(Format.significant(fits.commonRange.upperBound, 3))] is the one every β's training inputs reach (the ordering checks of HT-C7).",
                                 label: "tab:ht-e4"), name: "convergence")

        // Figures: score norm and distance along the chain, per β, for each step size.
        var panels: [Panel] = []
        for (name, v, ylabel) in [("mean ‖s_θ‖", \TraceRow.meanScoreNorm, "mean score norm"), ("mean distance to nearest training point", \TraceRow.meanNearestDistance, "distance")] {
            for noise in noiseArms { for e in c.stepSizes {
                panels.append(Panel(title: "\(name), ε = \(Format.significant(e, 3)), \(noise)", xLabel: "Langevin step (both levels)", yLabel: ylabel, key: "top right",
                                    series: c.betas.enumerated().map { (k, b) in
                                        var byStep: [Double: [Double]] = [:]
                                        for r in tr where r.beta == b && r.stepSize == e && r.langevinNoise == noise { byStep[Double(r.level) * Double(c.stepsPerLevel) + Double(r.step), default: []].append(r[keyPath: v]) }
                                        let xs = byStep.keys.sorted()
                                        return Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: "β = \(Format.significant(b, 3))", style: .lines, color: k)
                                    }))
            } }
        }
        try run.writeFigure(Figure(name: "chain_diagnostics", panels: panels, rows: 2 * noiseArms.count, title: "HT-E4: score norm and distance to data along Langevin chains", panelWidth: 460, panelHeight: 360))
        // One panel per β on common axes, so that no β's points hide another's; the exact
        // minimiser's magnitudes (seed 0) in black beside the learned ones.
        let first = mag.map(\.seed).min() ?? 0
        let positive = mag.filter { $0.scoreNorm > 0 }
        let xs = positive.map(\.distance), ys = positive.map(\.scoreNorm) + positive.map(\.minimiserNorm).filter { $0 > 0 }
        let xRange = (xs.min() ?? 1e-3, xs.max() ?? 10), yRange = (ys.min() ?? 1e-3, ys.max() ?? 10)
        try run.writeFigure(Figure(name: "magnitude_vs_distance", panels: c.betas.enumerated().map { (k, b) -> Panel in
            let points = positive.filter { $0.beta == b }
            let target = points.filter { $0.seed == first && $0.minimiserNorm > 0 }.sorted { $0.distance < $1.distance }
            return Panel(title: "β = \(Format.significant(b, 3)): learned slope \(Format.significant(Stats.mean(exponents[b] ?? [.nan]), 3))",
                         xLabel: "distance to nearest training point", yLabel: "‖s_θ‖", logX: true, logY: true,
                         xRange: (xRange.0 / 1.5)...(xRange.1 * 1.5), yRange: (yRange.0 / 1.5)...(yRange.1 * 1.5), key: "top left",
                         series: [Series(x: points.map(\.distance), y: points.map(\.scoreNorm), title: "learned s_θ (all seeds)", style: .points, color: k, weight: 0.5),
                                  Series(x: target.map(\.distance), y: target.map(\.minimiserNorm), title: "exact minimiser (seed \(first))", style: .points, color: 6, weight: 0.2)])
        }, rows: 2, title: "HT-E4: learned score magnitude against distance from the data, per β"))
        print(Table(header: ["β", "β − 1", "exponent", "minimiser", "fit range", "common", "minimiser common", "noise", "ε", "‖s‖", "SNR", "dist", "diverged %"], rows: rows).markdown())
    }
}
