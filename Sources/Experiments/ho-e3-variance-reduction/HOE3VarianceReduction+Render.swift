// HO-E3's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HOE3VarianceReduction {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let sp = results.spread, er = results.errorRatios, tr = results.training
        let seedCount = Self.seedCount(of: results)

        // Spec §1.6 pilot (NumPy, 2·10⁵ samples, a different fixed model): plain, antithetic, VR.
        let pilot: [Double: (Double, Double, Double)] = [0.01: (2.5e5, 2.5e5, 685), 0.05: (1.0e4, 9.6e3, 652), 0.1: (2.7e3, 2.3e3, 552), 0.3: (320, 228, 244), 1.0: (9.1, 7.6, 9.1)]
        var rows: [[String]] = []
        for r in sp {
            let p = pilot[r.sigma]
            rows.append([Format.significant(r.sigma, 2), r.form, Format.significant(r.stdPlain, 3), Format.significant(r.stdAntithetic, 3), Format.significant(r.stdVR, 3),
                         "\(Format.significant(r.stdRatio, 3)) [\(Format.significant(r.stdRatioLow, 3)), \(Format.significant(r.stdRatioHigh, 3))]",
                         Format.significant(r.batchStdPlain, 3), Format.significant(r.batchStdVR, 3), Format.significant(r.meanDifferenceZ, 2),
                         r.form == "A" && p != nil ? "\(Format.significant(p!.0, 2)) / \(Format.significant(p!.1, 2)) / \(Format.significant(p!.2, 3))" : "–"])
        }
        try run.writeTable(Table(header: ["σ", "form", "std plain", "std antithetic", "std VR", "plain/VR [95% CI]", "batch std plain", "batch std VR", "mean diff. (s.e.)", "spec pilot plain / anti / VR"],
                                 rows: rows,
                                 caption: "Per-sample standard deviation of the D2SM loss estimate at a fixed, slightly wrong model on the 2-D mixture (code-faithful scale, ÷2 included), and per batch of \(c.batchSize). Mean diff.: (mean plain − mean VR)/s.e., expected within ±4. The last column is the spec's NumPy pilot with a different fixed model (not the paper's numbers).",
                                 label: "tab:ho-e3-spread"), name: "spread")
        var errRows: [[String]] = []
        for e in er {
            let plain = Stats.meanCI(tr.filter { $0.sigma == e.sigma && $0.arm == "D2SM-A" }.map(\.relativeFrobenius))
            let vr = Stats.meanCI(tr.filter { $0.sigma == e.sigma && $0.arm == "D2SM-A-VR" }.map(\.relativeFrobenius))
            errRows.append([Format.significant(e.sigma, 2), Format.withError(plain.mean, plain.halfWidth), Format.withError(vr.mean, vr.halfWidth),
                            "\(Format.significant(e.ratioVRToPlain, 3)) [\(Format.significant(e.low, 3)), \(Format.significant(e.high, 3))]"])
        }
        try run.writeTable(Table(header: ["σ", "rel. error plain D2SM-A", "rel. error D2SM-A-VR", "VR / plain [95% CI]"], rows: errRows,
                                 caption: "Relative Frobenius error of s̃₂ after \(c.steps) steps (s̃₁ frozen, trained \(c.steps) steps with DSM-VR), mean ± t-interval over \(seedCount) seeds; ratio by two-level bootstrap. VR uses three network evaluations per sample.",
                                 label: "tab:ho-e3-error"), name: "error")

        let forms = ["A", "B"]
        try run.writeFigure(Figure(name: "spread_vs_sigma", panels: forms.map { f in
            let rs = sp.filter { $0.form == f }
            return Panel(title: "form \(f): per-sample std of the loss estimate", xLabel: "σ", yLabel: "standard deviation", logX: true, logY: true, key: "top right",
                         series: [Series(x: rs.map(\.sigma), y: rs.map(\.stdPlain), title: "plain", style: .linespoints, color: 0),
                                  Series(x: rs.map(\.sigma), y: rs.map(\.stdAntithetic), title: "antithetic only", style: .linespoints, color: 1),
                                  Series(x: rs.map(\.sigma), y: rs.map(\.stdVR), title: "VR", style: .linespoints, color: 2)])
        }, title: "HO-E3: spread of the D2SM loss estimate at a fixed model"))
        print(Table(header: ["σ", "form", "plain", "anti", "VR", "ratio", "b plain", "b VR", "z", "pilot"], rows: rows).markdown())
        print(Table(header: ["σ", "plain", "VR", "ratio"], rows: errRows).markdown())
    }
}
