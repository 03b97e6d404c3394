/// HT-E1: concentration of the noise-vector norm R = ‖ε‖₂ for ε with D i.i.d. GND(0, α, β)
/// coordinates (heavy-tailed spec §2, experiment E1; claims HT-C2 and HT-C3).
///
/// No training. For every (β, D) it draws M noise vectors at unit scale (σ = 1, α = √2σ, the
/// released code's convention; R scales linearly with σ) and records mean, standard deviation,
/// coefficient of variation and skewness of R, with Monte Carlo standard errors from 20 batch
/// means, beside the closed-form/delta-method values of §2:
///
///     E[R] ≈ sqrt(D m2),  std R ≈ sqrt((m4 − m2²)/(4 m2)),  CV ≈ sqrt(κ − 1)/(2√D),
///     skew R ≈ skew(R²) − (3/2)·CV(R²)  (leading order in 1/√D; exact skew(R²) = c(β)/√D)
///
/// where m_k = E|X|^k and κ is the kurtosis of one coordinate, and beside the exact mean, std, CV
/// and skew of R from 1-D quadrature of its law (`NoiseNormExact`, issue 17). HT-C3's skew
/// checks use the exact values (Monte Carlo skew differences at M = 10⁵ are smaller than their
/// own error for β near 2); the Monte Carlo columns validate the sampler against them. The
/// figure layout is a reconstruction ([RECON] in the spec): the paper's own figure could not be
/// read.
///
/// Outputs in results/ht-e1-concentration/: moments.csv, histograms.csv, figures/, tables/,
/// claims.json, config.json.
import ArgumentParser
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

@main
struct HTE1Concentration: Experiment {
    static let experimentID = "ht-e1-concentration"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E1: noise-norm concentration for GND noise (heavy-tailed spec §2; claims HT-C2, HT-C3).",
        // As every other experiment's: the generated synopsis would list the shared options with
        // "..." (they are stored as lists so that a repeat can be refused, ExperimentOptions).
        usage: "\(experimentID) <options>")

    @OptionGroup var options: ExperimentOptions

    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the number of noise vectors per (β, D) cell.", quick: Config.quick.samplesPerCell, full: Config.full.samplesPerCell))
    var samples: Int?

    /// Settings of one run; both scales are named values, never scattered literals.
    struct Config: Codable {
        var betas: [Double]
        var dimensions: [Int]
        var samplesPerCell: Int
        var histogramDimensions: [Int]
        var histogramBins: Int
        var batchesForStandardErrors: Int
        var alphaConvention: String
        var sigma: Double

        static let betaGrid: [Double] = [1, 1.25, 1.5, 1.75, 2, 3, 4]
        static let dimensionGrid: [Int] = Array(Set((0...12).map { 1 << $0 } + [10, 100, 784, 3072, 12288])).sorted()
        static let quick = Config(
            betas: betaGrid, dimensions: dimensionGrid, samplesPerCell: 4_000,
            histogramDimensions: [2, 10, 100, 784, 3072], histogramBins: 60, batchesForStandardErrors: 20,
            alphaConvention: GNDScaleConvention.codeConvention.rawValue, sigma: 1)
        static let full: Config = {
            var c = quick
            c.samplesPerCell = 100_000
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let m = samples { c.samplesPerCell = m }
        return c
    }

    func validate() throws {
        if let m = samples, m < 200 { throw ValidationError("--samples must be at least 200 (20 batches of 10), got \(m)") }
        if let m = samples {
            let cells = Config.quick.betas.count * Config.quick.dimensions.count
            try Limits.memory("--samples", m, bytesPerUnit: Double(cells) * 8 * 2, estimate: "\(cells) cells × 8 bytes per norm, kept and sorted once")
        }
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let config = self.config
        // Cells are (β, D), β-major. Work is split into blocks of samples; block k of cell c always
        // uses RNG stream (c · blocksPerCell + k) of the seed, so the numbers depend neither on the
        // thread count nor on how cells are grouped into work units.
        let blocksPerCell = config.batchesForStandardErrors
        let blockSize = (config.samplesPerCell + blocksPerCell - 1) / blocksPerCell
        let m = blockSize * blocksPerCell
        let baseSeed = options.seed

        // Exact moments by quadrature (one Laplace-transform table per β, all D from it).
        let exactLaws = Dictionary(uniqueKeysWithValues: config.betas.map { b in
            (b, NoiseNormExact(gnd: GeneralizedNormal(sigma: config.sigma, beta: b, convention: .codeConvention)))
        })

        // One work unit per dimension D: every β at that D (the histograms share a range per D).
        let progress = Progress("\(Self.experimentID) sampling", total: config.dimensions.count)
        let perDimension = try run.units("dimension", count: config.dimensions.count, key: { "D-\(config.dimensions[$0])" },
                                         progress: { progress.advance() }) { di -> UnitRows in
            let d = config.dimensions[di]
            var norms: [[Double]] = []
            var momentRows: [Row] = []
            for (bi, beta) in config.betas.enumerated() {
                let c = bi * config.dimensions.count + di  // the (β, D) cell index, β-major
                let gnd = GeneralizedNormal(sigma: config.sigma, beta: beta, convention: .codeConvention)
                var r = [Double](repeating: 0, count: m)
                for k in 0..<blocksPerCell {
                    let task = c * blocksPerCell + k
                    var rng = Xoshiro256(seed: baseSeed &+ UInt64(task) &* 0x9E37_79B9)
                    for i in 0..<blockSize {
                        var s = 0.0
                        for _ in 0..<d {
                            let x = gnd.sample(using: &rng)
                            s += x * x
                        }
                        r[k * blockSize + i] = s.squareRoot()
                    }
                }
                norms.append(r)
                // Moments with batch-means standard errors, beside the closed forms and exact values.
                let batches = (0..<blocksPerCell).map { k in Array(r[(k * blockSize)..<((k + 1) * blockSize)]) }
                func statistic(_ f: ([Double]) -> Double) -> (Double, Double) {
                    let values = batches.map(f)
                    return (f(r), Stats.standardDeviation(values) / Double(values.count).squareRoot())
                }
                let (mean, meanSE) = statistic(Stats.mean)
                let (std, stdSE) = statistic(Stats.standardDeviation)
                let (cv, cvSE) = statistic { Stats.standardDeviation($0) / Stats.mean($0) }
                let (skew, skewSE) = statistic(Stats.skewness)
                let closed = ClosedForm(beta: beta, dimension: d, sigma: config.sigma)
                let exact = exactLaws[beta]!.moments(dimension: d)
                momentRows.append(Row(
                    beta: beta, dimension: d, samples: m, mean: mean, meanSE: meanSE, std: std, stdSE: stdSE, cv: cv, cvSE: cvSE,
                    skew: skew, skewSE: skewSE, meanClosed: closed.mean, stdClosed: closed.std, cvClosed: closed.cv, skewClosed: closed.skew,
                    meanExact: exact.mean, stdExact: exact.std, cvExact: exact.cv, skewExact: exact.skew, skewExactError: exact.skewError))
            }
            // Histograms of R / E[R] (densities) for the panel dimensions, on a shared range per D.
            var histRows: [HistogramRow] = []
            if config.histogramDimensions.contains(d) {
                let scaled = norms.map { r -> [Double] in
                    let mu = Stats.mean(r)
                    return r.map { $0 / mu }.sorted()
                }
                let lo = scaled.map { $0[Int(0.001 * Double($0.count))] }.min() ?? 0
                let hi = scaled.map { $0[Int(0.999 * Double($0.count - 1))] }.max() ?? 2
                let width = (hi - lo) / Double(config.histogramBins)
                for (bi, beta) in config.betas.enumerated() {
                    var counts = [Int](repeating: 0, count: config.histogramBins)
                    for v in scaled[bi] where v >= lo && v < hi { counts[min(Int((v - lo) / width), config.histogramBins - 1)] += 1 }
                    for b in 0..<config.histogramBins {
                        histRows.append(HistogramRow(dimension: d, beta: beta, normalisedNorm: lo + (Double(b) + 0.5) * width,
                                                     density: Double(counts[b]) / (Double(m) * width)))
                    }
                }
            }
            return UnitRows(try UnitRows.cells(momentRows), try UnitRows.cells(histRows))
        }
        // Rows in cell order (β-major, then D), histograms in the panel order.
        let moments = try perDimension.map { try $0.rows(0, as: Row.self) }
        let rows = config.betas.indices.flatMap { bi in config.dimensions.indices.map { di in moments[di][bi] } }
        try run.writeRows(rows, to: "moments.csv")
        let histRows = try config.histogramDimensions.flatMap { d in try config.dimensions.firstIndex(of: d).map { try perDimension[$0].rows(1, as: HistogramRow.self) } ?? [] }
        try run.writeRows(histRows, to: "histograms.csv")
        try run.writeConfig(config)
    }

    // MARK: - Render

    /// A row of moments.csv: the noise norm R = ‖ε‖₂ of one (β, D) cell.
    struct Row: DocumentedRow {
        var beta: Double, dimension: Int, samples: Int
        var mean: Double, meanSE: Double, std: Double, stdSE: Double, cv: Double, cvSE: Double, skew: Double, skewSE: Double
        var meanClosed: Double, stdClosed: Double, cvClosed: Double, skewClosed: Double
        /// Exact values by quadrature, and the skew's numerical error bound.
        var meanExact: Double, stdExact: Double, cvExact: Double, skewExact: Double, skewExactError: Double

        enum CodingKeys: String, CodingKey {
            case beta, dimension, samples, mean, meanSE = "mean_se", std, stdSE = "std_se", cv, cvSE = "cv_se", skew, skewSE = "skew_se"
            case meanClosed = "mean_closed_form", stdClosed = "std_closed_form", cvClosed = "cv_closed_form", skewClosed = "skew_closed_form"
            case meanExact = "mean_exact", stdExact = "std_exact", cvExact = "cv_exact", skewExact = "skew_exact", skewExactError = "skew_exact_error"
        }
        static let columns: [ColumnDoc] = [
            .init("beta", "1", "GND shape β of each noise coordinate (GND(0, √2·σ, β) in the released code's convention, σ = config sigma)"),
            .init("dimension", "count", "D, the number of i.i.d. noise coordinates"),
            .init("samples", "count", "Monte Carlo draws of R in this cell (samplesPerCell rounded up to a multiple of the batch count)"),
            .init("mean", "noise units", "Monte Carlo mean of R"),
            .init("mean_se", "noise units", "standard error of `mean` by batch means (the draws split into batchesForStandardErrors equal batches)"),
            .init("std", "noise units", "Monte Carlo standard deviation of R"),
            .init("std_se", "noise units", "batch-means standard error of `std`"),
            .init("cv", "1", "Monte Carlo coefficient of variation std(R)/mean(R)"),
            .init("cv_se", "1", "batch-means standard error of `cv`"),
            .init("skew", "1", "Monte Carlo skewness of R"),
            .init("skew_se", "1", "batch-means standard error of `skew`"),
            .init("mean_closed_form", "noise units", "mean of R by the delta method of the heavy-tailed spec §2 (leading order in 1/D)"),
            .init("std_closed_form", "noise units", "standard deviation of R by the delta method (spec §2)"),
            .init("cv_closed_form", "1", "CV of R by the delta method, √(κ−1)/(2√D) with κ the coordinate kurtosis (spec §2)"),
            .init("skew_closed_form", "1", "skew of R to leading order in 1/√D: skew(R²) − (3/2)·CV(R²)"),
            .init("mean_exact", "noise units", "mean of R by 1-D quadrature of the law of R (NoiseNormExact)"),
            .init("std_exact", "noise units", "standard deviation of R by quadrature"),
            .init("cv_exact", "1", "CV of R by quadrature"),
            .init("skew_exact", "1", "skewness of R by quadrature"),
            .init("skew_exact_error", "1", "numerical error bound of `skew_exact`: |skew at quadrature step h − skew at step 2h|"),
        ]
    }

    /// A row of histograms.csv: one bin of the density of R / mean(R).
    struct HistogramRow: DocumentedRow {
        var dimension: Int
        var beta: Double
        var normalisedNorm: Double
        var density: Double
        enum CodingKeys: String, CodingKey { case dimension, beta, normalisedNorm = "normalised_norm", density }
        static let columns: [ColumnDoc] = [
            .init("dimension", "count", "D, the number of noise coordinates (only the histogram dimensions)"),
            .init("beta", "1", "GND shape β of the noise coordinates"),
            .init("normalised_norm", "1", "bin centre of R / mean(R), the Monte Carlo mean of the same cell; the bins span a range shared by all β at this D (0.1 % to 99.9 % quantiles)"),
            .init("density", "1", "histogram density: draws in the bin / (samples × bin width); draws outside the range are not counted"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("moments.csv", Row.self, "Moments of the noise norm R = ‖ε‖₂ per (β, D) cell: Monte Carlo with standard errors, the spec's closed forms and exact quadrature values (tables/moments, the CV/skew figure, HT-C2 and HT-C3)."),
        CSVFileDoc("histograms.csv", HistogramRow.self, "Histograms of R / mean(R) for the panel dimensions (figures/norm_histograms)."),
    ]

    func render(in run: RunDirectory) throws {
        let rows = try run.readRows(Row.self, from: "moments.csv")
        let betas = Array(Set(rows.map(\.beta))).sorted()
        let hist = try run.readRows(HistogramRow.self, from: "histograms.csv")

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

        try run.writeClaims(claims(rows))
        print(table.markdown())
    }

    // MARK: - Claims

    func claims(_ rows: [Row]) -> [ClaimResult] {
        let command = "make ht-e1-concentration SCALE=\(options.scale.rawValue)"
        let maxD = rows.map(\.dimension).max() ?? 1
        var c2: [ClaimCheck] = []
        // CV ∝ D^(−1/2): fitted log-log slope over D ≥ 16 within ±0.05 of −1/2, per β.
        for b in Set(rows.map(\.beta)).sorted() {
            let rs = rows.filter { $0.beta == b && $0.dimension >= 16 }
            guard rs.count >= 3 else { continue }
            let fit = Stats.linearFit(x: rs.map { log(Double($0.dimension)) }, y: rs.map { log($0.cv) })
            let h = Stats.tQuantile975(df: rs.count - 2) * fit.slopeSE
            c2.append(ClaimCheck(statistic: "log-log slope of CV(R) against D (D ≥ 16), β = \(Format.significant(b, 3))",
                                 estimate: Estimate(mean: fit.slope, low: fit.slope - h, high: fit.slope + h, n: rs.count),
                                 direction: .within, threshold: -0.5, tolerance: 0.05,
                                 provenance: .ours("spec §5 C2 \"CV decays as 1/√D\": slope −1/2; ±0.05 allows the O(1/D) corrections at D ≥ 16")))
        }
        // CV(β=1)/CV(β=2) at the largest D → sqrt((κ(1)−1)/(κ(2)−1)) = sqrt(5/2) ≈ 1.58.
        if let r1 = rows.first(where: { $0.beta == 1 && $0.dimension == maxD }),
           let r2 = rows.first(where: { $0.beta == 2 && $0.dimension == maxD }) {
            let ratio = r1.cv / r2.cv
            let se = ratio * ((r1.cvSE / r1.cv) * (r1.cvSE / r1.cv) + (r2.cvSE / r2.cv) * (r2.cvSE / r2.cv)).squareRoot()
            c2.append(ClaimCheck(statistic: "CV(β=1)/CV(β=2) at D = \(maxD)",
                                 estimate: Estimate(mean: ratio, low: ratio - 1.96 * se, high: ratio + 1.96 * se, n: r1.samples),
                                 direction: .within, threshold: 1.58, tolerance: 0.05,
                                 provenance: .specRecon("spec §2 and §5 C2: \"CV(β=1)/CV(β=2) → 1.58\" (= √(5/2)); ±0.05 ours")))
        }
        var c3: [ClaimCheck] = []
        // Issue 17: exact skew differences (quadrature), the interval being the numerical error
        // bound. The Monte Carlo differences at M = 10⁵ had Bonferroni half-widths ≈ 0.03, larger
        // than the true differences for β = 1.5 and 1.75, so they could not decide the claim.
        let c3Provenance = ThresholdProvenance.specRecon(
            "spec §5 C3: \"for β < 2 the norm distribution is measurably right-skewed at the dimensionalities used (skew(R) ≈ 0.11 at D = 784 for β = 1, against ≈ 0.03 for β = 2)\"; tested as skew(R; β) − skew(R; 2) > 0")
        for d in [784, 3072] {
            guard let g = rows.first(where: { $0.beta == 2 && $0.dimension == d }) else { continue }
            for r in rows.filter({ $0.beta < 2 && $0.dimension == d }).sorted(by: { $0.beta < $1.beta }) {
                let diff = r.skewExact - g.skewExact
                let err = r.skewExactError + g.skewExactError
                c3.append(ClaimCheck(statistic: "exact skew(R; β = \(Format.significant(r.beta, 3))) − skew(R; β = 2) at D = \(d)",
                                     estimate: Estimate(mean: diff, low: diff - err, high: diff + err, n: 1),
                                     direction: .greaterThan, threshold: 0, provenance: c3Provenance,
                                     power: CheckPower(smallestDetectableEffect: err, n: 1, counts: "exact quadrature values (error bound |h − 2h|)")))
            }
        }
        // The sampler against the exact values: the largest |Monte Carlo − exact| in s.e. units.
        func worstZ(_ f: (Row) -> Double) -> Double { rows.map(f).filter(\.isFinite).max() ?? .nan }
        let zMean = worstZ { abs($0.mean - $0.meanExact) / $0.meanSE }
        let zStd = worstZ { abs($0.std - $0.stdExact) / $0.stdSE }
        let zSkew = worstZ { abs($0.skew - $0.skewExact) / $0.skewSE }
        let samples = rows.first?.samples ?? 0
        return [
            ClaimResult(claim: "HT-C2",
                        scope: "For every β the noise-norm CV decays as 1/√D; CV(β=1)/CV(β=2) → 1.58.",
                        experiment: Self.experimentID, command: command, checks: c2, seeds: 1,
                        notes: "One seed; intervals are Monte Carlo (batch means over \(samples) draws per cell, and regression s.e. for slopes)."),
            ClaimResult(claim: "HT-C3",
                        scope: "For β < 2 the noise-norm distribution is more right-skewed than for β = 2 at the dimensions used (D = 784, 3072).",
                        experiment: Self.experimentID, command: command, checks: c3, seeds: 1,
                        notes: "What changed and why (issue 17): the skew checks now compare exact skews (1-D quadrature of the law of R, tested against the chi distribution and the D = 1 closed forms) instead of Monte Carlo differences whose Bonferroni half-width (≈ 0.03 at M = 10⁵) exceeded the true differences for β = 1.5, 1.75; intervals are the quadrature error bounds. Sampler validation over all \(rows.count) cells: max |MC − exact| = \(Format.significant(zMean, 3)) s.e. (mean), \(Format.significant(zStd, 3)) s.e. (std), \(Format.significant(zSkew, 3)) s.e. (skew), with \(samples) draws per cell (batch-means s.e.). Skew part only; the overlap part of HT-C3 is tested by ht-e2-noise-scaling."),
        ]
    }
}

/// Closed-form and delta-method moments of R for one cell (heavy-tailed spec §2).
struct ClosedForm {
    var mean: Double, std: Double, cv: Double, skew: Double
    init(beta: Double, dimension: Int, sigma: Double) {
        let m = NoiseNormMoments(dimension: dimension, gnd: GeneralizedNormal(sigma: sigma, beta: beta, convention: .codeConvention))
        mean = m.meanApprox
        std = m.stdApprox
        cv = m.cvApprox
        // skew(R) ≈ skew(R²) − (3/2)·CV(R²) to leading order in 1/√D.
        skew = m.skewnessSquaredNorm - 1.5 * m.varianceSquaredNorm.squareRoot() / m.meanSquaredNorm
    }
}
