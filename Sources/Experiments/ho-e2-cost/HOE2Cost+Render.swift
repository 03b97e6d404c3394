// HO-E2's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HOE2Cost {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let timings = Self.timings(results)
        let dims = timings.dims, summary = timings.summary, slopes = timings.slopes
        var rows: [[String]] = []
        for m in Self.methods {
            guard let byD = summary[m] else { continue }
            var row = [m]
            for d in dims {
                if let s = byD[d] {
                    row.append("\(Format.significant(s.median * 1e3, 3)) [\(Format.significant(s.q1 * 1e3, 3)), \(Format.significant(s.q3 * 1e3, 3))]")
                } else { row.append("–") }
            }
            if let e = slopes[m] { row.append("\(Format.significant(e.mean, 3)) [\(Format.significant(e.low, 3)), \(Format.significant(e.high, 3))]") } else { row.append("–") }
            rows.append(row)
        }
        try run.writeTable(Table(header: ["method"] + dims.map { "D = \(Int($0))" } + ["log-log slope [95% CI]"], rows: rows,
                                 caption: "Milliseconds per batch of \(c.batch) points, median [inter-quartile range] of \(c.repeats) repeats after \(c.warmup) warm-up runs; Float32 MLPs D → \(c.hidden.map(String.init).joined(separator: " → ")) → head, Softplus, random weights; BLAS threads \(options.threads). Slope: least-squares fit of log median time against log D with a t interval.",
                                 label: "tab:ho-e2"), name: "cost")
        try run.writeFigure(Figure(name: "cost_vs_dimension", panels: [Panel(
            title: "time to obtain s₂ per batch of \(c.batch)", xLabel: "dimension D", yLabel: "seconds (median)", logX: true, logY: true,
            key: "outside right top",
            series: Self.methods.enumerated().compactMap { (k, m) in
                guard let byD = summary[m] else { return nil }
                let ds = byD.keys.sorted()
                let slope = slopes[m].map { ", slope \(Format.significant($0.mean, 2))" } ?? ""
                // The two D-VJP autodiff arms nearly coincide (the diagonal still needs D VJPs):
                // the full one thick underneath, the diagonal one dashed on top (issue 19).
                return Series(x: ds, y: ds.map { byD[$0]!.median }, title: m + slope, style: .linespoints, color: k,
                              dashed: m == "autodiff diagonal (D VJPs)", weight: m == "autodiff full (D VJPs)" ? 2.4 : 1)
            })], title: "HO-E2: cost of s₂ (the two D-VJP autodiff curves nearly coincide: thick solid and dashed)", panelWidth: 960, panelHeight: 480))
        print(Table(header: ["method"] + dims.map { "D=\(Int($0))" } + ["slope"], rows: rows).markdown())
    }
}
