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
struct HTE1Concentration: TypedVerdicts {
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
