// HT-E1's tables and figures from the typed results (issue 30); the verdicts are in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE1Concentration {
    func render(_ results: Results, in run: RunDirectory) throws {
        let rows = results.moments
        let betas = Array(Set(rows.map(\.beta))).sorted()
        let hist = results.histograms

        // (a) histograms of R/E[R], one panel per D.
        let panelDims = Array(Set(hist.map(\.dimension))).sorted()
        let histPanels = panelDims.map { d -> Panel in
            Panel(title: "D = \(d)", xLabel: "R / E[R]", yLabel: "density", key: d == panelDims.first ? "top right" : "off",
                  series: betas.enumerated().map { (k, b) in
                      let bins = hist.filter { $0.dimension == d && $0.beta == b }
                      return Series(x: bins.map(\.normalisedNorm), y: bins.map(\.density), title: "β = \(Format.significant(b, 3))",
                                    style: .steps, color: k)
                  })
        }
        try run.writeFigure(Figure(name: "norm_histograms", panels: histPanels, rows: 1,
                                   title: "Noise-norm distributions, GND(0, √2, β) coordinates (HT-E1)", panelWidth: 420, panelHeight: 380))

        // (b) CV and skew against D, measured with closed-form overlays.
        func series(_ value: (Row) -> Double, _ error: ((Row) -> Double)?, closed: (Row) -> Double, only: (Row) -> Bool = { _ in true }) -> [Series] {
            betas.enumerated().flatMap { (k, b) -> [Series] in
                let rs = rows.filter { $0.beta == b && only($0) }.sorted { $0.dimension < $1.dimension }
                let xs = rs.map { Double($0.dimension) }
                return [
                    Series(x: xs, y: rs.map(value), yError: error.map { e in rs.map(e) }, title: "β = \(Format.significant(b, 3))",
                           style: error == nil ? .linespoints : .errorbars, color: k),
                    Series(x: xs, y: rs.map(closed), title: "", style: .lines, color: k, dashed: true),
                ]
            }
        }
        let cvPanel = Panel(title: "CV(R) (dashed: sqrt(κ−1)/(2√D))", xLabel: "dimension D", yLabel: "CV(R)", logX: true, logY: true,
                            key: "bottom left", series: series({ $0.cv }, { $0.cvSE }, closed: { $0.cvClosed }))
        let skewPanel = Panel(title: "skew(R), β ≤ 2 (dashed: exact)", xLabel: "dimension D", yLabel: "skew(R)", logX: true, logY: true,
                              key: "off", series: series({ $0.skew }, nil, closed: { $0.skewExact }, only: { $0.beta <= 2 && $0.skew > 0 && $0.skewExact > 0 }))
        let scaledSkewPanel = Panel(title: "√D · skew(R), all β (dashed: exact)", xLabel: "dimension D", yLabel: "√D · skew(R)", logX: true,
                                    key: "off", series: series({ $0.skew * Double($0.dimension).squareRoot() },
                                                               { $0.skewSE * Double($0.dimension).squareRoot() },
                                                               closed: { $0.skewExact * Double($0.dimension).squareRoot() }))
        try run.writeFigure(Figure(name: "cv_skew_vs_dimension", panels: [cvPanel, skewPanel, scaledSkewPanel], rows: 1,
                                   title: "Concentration of the noise norm (HT-E1)", panelWidth: 560, panelHeight: 440))

        // Table in the layout of the spec's §2 reference table, measured beside closed form.
        let tableDims = [10, 100, 784, 3072]
        let tableRows = rows.filter { tableDims.contains($0.dimension) }.sorted { ($0.dimension, $0.beta) < ($1.dimension, $1.beta) }
        let table = Table(
            header: ["D", "β", "mean R", "(closed form)", "std R", "(closed form)", "CV", "(closed form)", "skew R", "(delta method)", "(exact)"],
            rows: tableRows.map { r in
                ["\(r.dimension)", Format.significant(r.beta, 3), Format.withError(r.mean, 2 * r.meanSE), Format.significant(r.meanClosed),
                 Format.withError(r.std, 2 * r.stdSE), Format.significant(r.stdClosed), Format.withError(r.cv, 2 * r.cvSE),
                 Format.significant(r.cvClosed, 3), Format.withError(r.skew, 2 * r.skewSE), Format.significant(r.skewClosed, 3),
                 Format.significant(r.skewExact, 4)]
            },
            caption: "Noise norm R = ||eps||_2 for GND(0, √2, β) coordinates (σ = 1): Monte Carlo (± 2 s.e., \(rows.first?.samples ?? 0) draws per cell) beside the closed form / delta method of the heavy-tailed spec §2 and the exact skew (quadrature of the law of R).",
            label: "tab:ht-e1-moments")
        try run.writeTable(table, name: "moments")
        print(table.markdown())
    }
}
