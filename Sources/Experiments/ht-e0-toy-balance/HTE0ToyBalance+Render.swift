// HT-E0's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE0ToyBalance {
    func render(_ results: Results, in run: RunDirectory) throws {
        let groups = results.groups
        let arms = results.armOrder
        func est(_ a: Arm, _ v: KeyPath<ArmRow, Double>) -> Estimate { Stats.meanCI(groups[a]!.map { $0[keyPath: v] }) }

        var table: [[String]] = []
        var summary: [SummaryRow] = []
        for a in arms {
            let m = est(a, \.minorityFraction), f = est(a, \.farFraction)
            let d = groups[a]!.map(\.diverged).reduce(0, +)
            table.append([a.conditioned ? "σ-conditioned" : "unconditioned", a.noise == "gnd-beta" ? "GND(β)" : (a.noise == "unscaled-gaussian" ? "Gaussian, unscaled (ours)" : a.noise),
                          Format.significant(a.beta, 3), "\(m.n)", Format.withError(100 * m.mean, 100 * m.halfWidth),
                          Format.withError(100 * f.mean, 100 * f.halfWidth), "\(d)"])
            summary.append(SummaryRow(conditioned: a.conditioned ? 1 : 0, langevinNoise: a.noise, beta: a.beta, seeds: m.n, minorityMean: m.mean,
                                      minorityLow: m.low, minorityHigh: m.high, farMean: f.mean, farLow: f.low, farHigh: f.high))
        }
        table.append(["notebook (authors)", "GND(β)", "1.25", "1", "44.4", "–", "–"])
        table.append(["notebook (authors)", "laplace", "2", "1", "6.2", "–", "–"])
        try run.writeRows(summary, to: "summary.csv")
        try run.writeTable(Table(header: ["model", "Langevin noise", "β", "seeds", "minority % (data: 9.1)", "far from both modes %", "diverged chains"],
                                 rows: table,
                                 caption: "Minority-mode fraction of annealed Langevin samples on the 10:1 toy (mean ± 95% t-interval over seeds; within a seed all β share the initialisation, minibatch and Langevin streams). Langevin noise: Gaussian, unscaled (ours) = z ~ N(0, I) with the fixed ε, neither the released code's rule nor the notebook's; laplace and GND(β) = the notebook's σ_i-scaled noise. The last two rows are the authors' notebook outputs (one run each), for reference only.",
                                 label: "tab:ht-e0"), name: "balance")

        // Figure: minority fraction against β, one panel per conditioning, one line per noise arm.
        let panels = [false, true].map { conditioned -> Panel in
            Panel(title: conditioned ? "σ-conditioned MLP" : "unconditioned MLP (notebook)", xLabel: "β", yLabel: "minority-mode fraction", xRange: 0.9...2.1,
                  yRange: 0...0.6, key: "top right", series: Self.noiseArms.enumerated().map { (k, n) in
                      let sel = arms.filter { $0.conditioned == conditioned && $0.noise == n }.sorted { $0.beta < $1.beta }
                      let e = sel.map { est($0, \.minorityFraction) }
                      return Series(x: sel.map(\.beta), y: e.map(\.mean), yError: e.map(\.halfWidth), title: n == "gnd-beta" ? "GND(β) noise" : (n == "unscaled-gaussian" ? "unscaled Gaussian noise" : "\(n) noise"),
                                    style: .errorbars, color: k)
                  } + [Series(x: [0.9, 2.1], y: [1.0 / 11, 1.0 / 11], title: "data (1/11)", style: .lines, color: 6, dashed: true),
                       // The caption promises it (issue 31): the balanced fraction.
                       Series(x: [0.9, 2.1], y: [0.5, 0.5], title: "balanced (50%)", style: .lines, color: 3, dashed: true)])
        }
        try run.writeFigure(Figure(name: "minority_fraction", panels: panels, rows: 1, title: "HT-E0: minority-mode fraction of Langevin samples", panelWidth: 520, panelHeight: 420))

        // Figure: data and noised data.
        let pts = results.dataPoints
        let names = Array(Set(pts.map(\.set))).sorted()
        try run.writeFigure(Figure(name: "data", panels: [Panel(title: "toy data and GND-noised data (σ = 1)", xLabel: "x_1", yLabel: "x_2",
            xRange: -10...10, yRange: -10...10, key: "top left",
            series: names.enumerated().map { (k, n) in
                let inSet = pts.filter { $0.set == n }
                return Series(x: inSet.map(\.x), y: inSet.map(\.y), title: n, style: .points, color: k, weight: 0.5)
            })]))

        // Figure: Langevin paths (seed 0), coloured by the mode reached, for the notebook arms.
        let p = results.paths
        let pathPanels = [1.0, 1.25, 2.0].filter { config.betas.contains($0) }.map { b -> Panel in
            let arm = p.filter { $0.beta == b && $0.conditioned == 0 && $0.langevinNoise == "laplace" }
            let chainsHere = Array(Set(arm.map(\.chain))).sorted()
            return Panel(title: "β = \(Format.significant(b, 3)), Laplace noise", xLabel: "x_1", yLabel: "x_2", xRange: -8...8, yRange: -8...8, key: "off",
                         series: chainsHere.map { k in
                             let pts = arm.filter { $0.chain == k }
                             let end = pts.last.map { ($0.x, $0.y) } ?? (0, 0)
                             let toMinority = (end.0 + 5) * (end.0 + 5) + (end.1 + 5) * (end.1 + 5) < (end.0 - 5) * (end.0 - 5) + (end.1 - 5) * (end.1 - 5)
                             return Series(x: pts.map(\.x), y: pts.map(\.y), style: .lines, color: toMinority ? 1 : 0, weight: 0.6)
                         })
        }
        try run.writeFigure(Figure(name: "langevin_paths", panels: pathPanels, rows: 1, title: "Langevin paths, seed 0, unconditioned MLP (orange: ends at the minority mode)", panelWidth: 420, panelHeight: 420))

        print(Table(header: table.isEmpty ? [] : ["model", "noise", "β", "seeds", "minority %", "far %", "diverged"], rows: table).markdown())
    }
}
