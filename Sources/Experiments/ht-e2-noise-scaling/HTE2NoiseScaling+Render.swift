// HT-E2's tables and figures from the typed results (issue 30); the verdicts are in +Claims.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

extension HTE2NoiseScaling {
    func render(_ results: Results, in run: RunDirectory) throws {
        let cfg = self.config
        let cells = results.cells
        let src = results.sources
        let betas = Array(Set(cells.map(\.beta))).sorted()
        let dims = Array(Set(cells.map(\.dimension))).sorted()

        // Schedules table: per data set (σ_1) and β.
        var scheduleRows: [ScheduleRow] = []
        var table: [[String]] = []
        for source in src {
            let d = source.dimension, s1 = source.sigmaMax
            for c in cells where c.dimension == d {
                let lG = Self.levels(s1, c.gammaG, cfg.sigmaMin)
                let lQ = Self.levels(s1, c.gammaQ.mean, cfg.sigmaMin)
                let lM = c.gammaM.map { Self.levels(s1, $0.mean, cfg.sigmaMin) }
                scheduleRows.append(ScheduleRow(dataset: source.dataset, dimension: d, sigmaMax: s1, beta: c.beta, gammaNCSNv2: c.gammaG, levelsNCSNv2: lG,
                                                overlapNCSNv2MomentBand: c.overlapGM.mean, gammaIterativeQuantile: c.gammaQ.mean, levelsIterativeQuantile: lQ,
                                                overlapIterativeQuantile: c.overlapQ.mean, gammaIterativeMoment: c.gammaM?.mean ?? .nan,
                                                levelsIterativeMoment: lM, overlapIterativeMoment: c.overlapM?.mean ?? .nan))
                table.append([source.dataset, "\(d)", Format.significant(s1, 4), Format.significant(c.beta, 3),
                              Format.significant(c.gammaG, 5), "\(lG)", Format.withError(c.overlapGM.mean, c.overlapGM.halfWidth),
                              Format.withError(c.gammaQ.mean, c.gammaQ.halfWidth), "\(lQ)", Format.withError(c.overlapQ.mean, c.overlapQ.halfWidth),
                              c.gammaM.map { Format.withError($0.mean, $0.halfWidth) } ?? "degenerate", lM.map { "\($0)" } ?? "–",
                              c.overlapM.map { Format.withError($0.mean, $0.halfWidth) } ?? "–"])
            }
        }
        try run.writeRows(scheduleRows, to: "schedules.csv")
        try run.writeTable(Table(
            header: ["data set", "D", "σ_1", "β", "γ NCSNv2", "L", "overlap (ii)", "γ iter. (quantile)", "L", "overlap (iii)",
                     "γ iter. (moment)", "L", "overlap"],
            rows: table,
            caption: "Noise schedules from σ_1 to σ_L = \(cfg.sigmaMin): (i) NCSNv2 closed form, (ii) its realised overlap under GND(β) noise (NCSNv2's moment band), (iii) the iterative algorithm ([RECON]) with quantile and moment bands. Target overlap \(cfg.overlapTarget); ± is a 95% interval over \(cells.first?.seeds ?? 0) seeds.",
            label: "tab:ht-e2-schedules"), name: "schedules")

        // Figure 1: overlap against level index (one panel per D, largest-σ_1 data set of that D).
        var panels: [Panel] = []
        for d in dims {
            guard let source = src.filter({ $0.dimension == d }).max(by: { $0.sigmaMax < $1.sigmaMax }) else { continue }
            var series: [Series] = []
            for (k, c) in cells.filter({ $0.dimension == d }).enumerated() {
                let lG = Self.levels(source.sigmaMax, c.gammaG, cfg.sigmaMin), lQ = Self.levels(source.sigmaMax, c.gammaQ.mean, cfg.sigmaMin)
                series.append(Series(x: (2...max(lG, 2)).map(Double.init), y: Array(repeating: c.overlapGM.mean, count: max(lG - 1, 1)),
                                     title: "NCSNv2 γ, β = \(Format.significant(c.beta, 3))", style: .lines, color: k, dashed: true))
                series.append(Series(x: (2...max(lQ, 2)).map(Double.init), y: Array(repeating: c.overlapQ.mean, count: max(lQ - 1, 1)),
                                     title: "iterative, β = \(Format.significant(c.beta, 3))", style: .lines, color: k))
            }
            panels.append(Panel(title: "D = \(d) (\(source.dataset), σ_1 = \(Format.significant(source.sigmaMax, 3)))", xLabel: "level index i",
                                yLabel: "overlap with level i−1", yRange: 0...1, key: "off", series: series))
        }
        // One legend in its own slot instead of over the D = 64 panel (issue 19).
        if let first = panels.first { panels.append(.legend(for: first.series)) }
        try run.writeFigure(Figure(name: "overlap_by_level", panels: panels, rows: 1,
                                   title: "Adjacent-level overlap (dashed: NCSNv2 γ, moment band; solid: iterative, quantile band), target \(cfg.overlapTarget) (HT-E2)", panelWidth: 480, panelHeight: 400))

        // Figure 2: the solver's overlap curves.
        let curves = results.curves
        let curvePanels = dims.map { d -> Panel in
            var s = betas.enumerated().map { (k, b) -> Series in
                let points = curves.filter { $0.dimension == d && $0.beta == b }
                return Series(x: points.map(\.gamma), y: points.map(\.overlapQuantileBand), title: "β = \(Format.significant(b, 3))", style: .lines, color: k)
            }
            let points = curves.filter { $0.dimension == d && $0.beta == betas[0] }
            s.append(Series(x: points.map(\.gamma), y: points.map(\.overlapGaussianClosedForm), title: "NCSNv2 closed form", style: .lines, color: 6, dashed: true))
            return Panel(title: "D = \(d)", xLabel: "γ = σ_{i−1}/σ_i", yLabel: "overlap", yRange: 0...1, key: "off", series: s)
        }
        let ratioPanels = curvePanels + (curvePanels.first.map { [Panel.legend(for: $0.series)] } ?? [])
        try run.writeFigure(Figure(name: "overlap_vs_ratio", panels: ratioPanels, rows: 1, title: "Overlap against ratio (HT-E2)", panelWidth: 420, panelHeight: 380))

        // Issue 30: HT-C4's per-run overlaps under the exact law, per (β, D), both solvers.
        func describe(_ x: [Double]?) -> [String] {
            guard let x else { return ["–", "–", "–"] }
            let e = Stats.meanCI(x)
            return [Format.withError(e.mean, e.halfWidth), Format.significant(Stats.standardDeviation(x), 3),
                    "\(x.filter { abs($0 - cfg.overlapTarget) <= Self.overlapTolerance }.count)/\(x.count)"]
        }
        try run.writeTable(Table(
            header: ["D", "β", "overlap, quantile, large M", "SD", "within ±0.02", "overlap, moment, large M", "SD", "within ±0.02",
                     "overlap, quantile, spec M", "SD", "within ±0.02"],
            rows: cells.map { c in ["\(c.dimension)", Format.significant(c.beta, 3)] + describe(c.exactQLarge) + describe(c.exactMLarge) + describe(c.exactQSpec) },
            caption: "HT-C4 (issue 30): the overlap each run's γ realises under the exact law of the norm (exact bands), for the solver on \(cells.first?.solverSamples ?? 0) norms drawn from the exact law (large M, HT-C4's statistic) and for the spec's \(cells.first?.samples ?? 0)-draw solver (information); mean ± 95% interval over seeds, the per-run SD, and the runs within ±\(Self.overlapTolerance) of \(cfg.overlapTarget).",
            label: "tab:ht-e2-exact-overlap"), name: "exact_overlaps")
        print(Table(header: ["D", "β", "γ NCSNv2", "γ iterative (quantile)", "overlap (ii)", "overlap (iii)"],
                    rows: cells.map { ["\($0.dimension)", Format.significant($0.beta, 3), Format.significant($0.gammaG, 5),
                                       Format.withError($0.gammaQ.mean, $0.gammaQ.halfWidth), Format.significant($0.overlapGM.mean, 3),
                                       Format.significant($0.overlapQ.mean, 3)] }).markdown())
    }
}
