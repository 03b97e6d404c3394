// HO-E1's tables and figures from the typed results (issue 30); the verdicts are in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HOE1HessianAccuracy {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let arms = results.arms, ratios = results.ratios, cv = results.curves
        let names = results.dataSets
        func dim(_ n: String) -> Int { results.dimension(of: n) }
        let armOrder = results.armOrder
        let seedCount = Self.seedCount(of: results)
        func armRows(_ n: String, _ s: Double, _ arm: String) -> [ArmRow] { results.armRows(n, s, arm) }

        // Table 1: relative Frobenius error per arm (mean ± t-interval over seeds).
        var rows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(arms.filter { $0.dataset == n }.map(\.sigma))).sorted()
            for s in sigmas {
                var row = [n, "\(dim(n))", Format.significant(s, 2)]
                let first = Stats.meanCI(armRows(n, s, "autodiff").map(\.firstOrderError))
                row.append(Format.withError(first.mean, first.halfWidth))
                for arm in armOrder {
                    let v = armRows(n, s, arm).map(\.relativeFrobenius)
                    if v.isEmpty { row.append("–"); continue }
                    let e = Stats.meanCI(v)
                    row.append(Format.withError(e.mean, e.halfWidth))
                }
                rows.append(row)
            }
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "s̃₁ rel. error"] + armOrder, rows: rows,
                                 caption: "Mean relative Frobenius error ‖ŝ₂ − s₂‖_F/‖s₂‖_F on \(c.testPoints) test points x̃ ~ q_σ (mean ± 95% t-interval over \(seedCount) seeds). autodiff: symmetrised input Jacobian of the DSM-VR-trained s̃₁; D2SM arms: s̃₂ networks trained (\(c.plateau == nil ? "\(c.steps) steps" : "to a held-out plateau, at most \(c.steps) steps")) with s̃₁ frozen (A, B, ± VR) or jointly (A-joint, code-faithful); -N arms: both networks trained on N fixed samples; VR arms for D > \(c.smallNetworkMaxDimension) only at σ ≤ \(Format.significant(c.vrLargeDimensionMaxSigma, 2)) (– not run). Networks in \(c.precision.label). Protocol [RECON].",
                                 label: "tab:ho-e1"), name: "accuracy")

        // Table 1b: the other metrics of spec §2.2, mean over seeds.
        var metricRows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(arms.filter { $0.dataset == n }.map(\.sigma))).sorted()
            for s in sigmas {
                for arm in armOrder {
                    let rs = armRows(n, s, arm)
                    if rs.isEmpty { continue }
                    metricRows.append([n, "\(rs[0].dimension)", Format.significant(s, 2), arm]
                                      + [\ArmRow.relativeFrobenius, \.mse, \.mseSigma4, \.diagonalMSE, \.firstOrderError].map { v in
                        Format.significant(Stats.mean(rs.map { $0[keyPath: v] }), 3)
                    })
                }
            }
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "rel. Frobenius", "MSE of entries", "σ⁴·MSE", "diagonal MSE", "s̃₁ rel. error"], rows: metricRows,
                                 caption: "All error metrics of the spec's §2.2 per arm, mean over \(seedCount) seeds on \(c.testPoints) test points: relative Frobenius error, MSE of the D² entries, σ⁴-scaled MSE (posterior-covariance units, comparable across σ), MSE of the diagonal, and the first-order error of the s̃₁ the arm used.",
                                 label: "tab:ho-e1-metrics"), name: "metrics")

        // Table 2: ratios to autodiff with bootstrap intervals.
        var ratioTable: [[String]] = []
        for r in ratios {
            ratioTable.append([r.dataset, "\(r.dimension)", Format.significant(r.sigma, 2), r.arm, "\(Format.significant(r.ratio, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]"])
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "err_arm / err_autodiff [95% CI]"], rows: ratioTable,
                                 caption: "Error ratio of each D2SM arm to its autodiff baseline (same s̃₁ or same N samples), two-level bootstrap over seeds and test points.",
                                 label: "tab:ho-e1-ratios"), name: "ratios")

        // Figure: error against training steps, autodiff vs D2SM-A (frozen), per data set at σ = 0.3 (or the first σ).
        var panels: [Panel] = []
        for n in names {
            let sigmas = Array(Set(cv.filter { $0.dataset == n }.map(\.sigma))).sorted()
            guard let s = sigmas.first(where: { $0 == 0.3 }) ?? sigmas.last else { continue }
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                var byStep: [Double: [Double]] = [:]
                for r in cv where r.dataset == n && r.sigma == s && r.arm == arm { byStep[Double(r.step), default: []].append(r.relativeFrobenius) }
                let xs = byStep.keys.sorted()
                if xs.isEmpty { continue }
                series.append(Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: arm, style: .linespoints, color: k))
            }
            panels.append(Panel(title: "\(n), σ = \(Format.significant(s, 2))", xLabel: "training step", yLabel: "relative Frobenius error", logY: true, key: "off", series: series))
        }
        if !panels.isEmpty {
            // One legend in a spare slot; a title short enough for the figure's width (issue 19).
            let withLegend = panels + [Panel.legend(for: panels.max { $0.series.count < $1.series.count }!.series)]
            try run.writeFigure(Figure(name: "error_vs_steps", panels: withLegend, rows: 2, title: "HO-E1: s₂ error in training (seed mean, test subset)",
                                       panelWidth: 420, panelHeight: 340))
        }
        // Figure: error against D per arm at each σ.
        var dimPanels: [Panel] = []
        for s in Array(Set(arms.map(\.sigma))).sorted() {
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                let ns = names.filter { n in arms.contains { $0.dataset == n && $0.sigma == s && $0.arm == arm } }
                if ns.isEmpty { continue }
                let est = ns.map { n in Stats.meanCI(armRows(n, s, arm).map(\.relativeFrobenius)) }
                series.append(Series(x: ns.map { Double(dim($0)) }, y: est.map { $0.mean }, yError: est.map { $0.halfWidth }, title: arm, style: .errorbars, color: k))
            }
            if !series.isEmpty {
                dimPanels.append(Panel(title: "σ = \(Format.significant(s, 2))", xLabel: "dimension D", yLabel: "relative Frobenius error", logX: true, logY: true, key: "off", series: series))
            }
        }
        if !dimPanels.isEmpty {
            let legend = Panel.legend(for: dimPanels.max { $0.series.count < $1.series.count }!.series)
            // Two rows once there are more than three slots (five in one row came out 3200 px wide).
            try run.writeFigure(Figure(name: "error_vs_dimension", panels: dimPanels + [legend], rows: dimPanels.count + 1 > 3 ? 2 : 1,
                                       title: "HO-E1: s₂ error against D (mean ± 95% CI over seeds)"))
        }

        // HO-C2 per arm (the verdicts themselves are decided in +Claims).
        let perArm = Self.armVerdicts(results, config: c)
        let armVerdictRows = perArm.tableRows, armVerdictCSV = perArm.rows
        try run.writeRows(armVerdictCSV, to: "arm_verdicts.csv")
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "baseline", "err_arm / err_baseline [95% CI]", "verdict (< 1)", "s̃₁ rel. error (arm)", "s̃₁ rel. error (baseline)"],
                                 rows: armVerdictRows,
                                 caption: "HO-C2 per arm (D ≥ 10, σ ∈ [0.05, 0.5]): each D2SM arm against its autodiff baseline, with the verdict of ratio < 1 and the first-order errors of the s̃₁ each side used. The decisive arm is \(c.primaryArm) (the authors' joint training); -N arms train both networks on N fixed samples (the spec names data size as a factor).",
                                 label: "tab:ho-e1-arm-verdicts"), name: "arm_verdicts")
        print(Table(header: ["data", "D", "σ", "s̃₁ err"] + armOrder, rows: rows).markdown())
        print(Table(header: ["data", "D", "σ", "arm", "ratio"], rows: ratioTable).markdown())
    }
}
