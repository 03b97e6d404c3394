/// HT-E2: choosing the noise levels for GND noise (heavy-tailed spec §3, experiment E2; claims
/// HT-C3 (overlap part), HT-C4, HT-C5).
///
/// For each dimension D ∈ {64, 196, 784, 3072} and shape β it compares three geometric
/// schedules from σ_1 (the largest pairwise distance of a data set, NCSNv2 technique 1) down to
/// σ_L = 0.01:
///   (i)   NCSNv2's Gaussian closed-form ratio γ_G (overlap target C = 0.5, band ±3 std);
///   (ii)  the same schedule used unchanged with GND(β) noise — its realised overlap;
///   (iii) the iterative algorithm (our reconstruction, [RECON]) with the quantile band, and with
///         the moment band where that band is defined — its realised overlap.
/// Realised overlaps are measured on an independent Monte Carlo draw of the norm law, so they
/// are not the solver's own fitted value. Issue 30: HT-C4's overlaps are measured under the
/// EXACT law of ‖ε‖ (`NoiseNormExactLaw`, exact quantile and moment bands), not a shared
/// 200k-draw reference law (whose own error, up to 0.015, was shared by all seeds); the solver
/// that decides HT-C4 draws `solverSamples` = 10⁶ norms from the exact law by inversion (the
/// same law as norms of drawn GND vectors; per-run SD ≈ 0.029·√(20k/10⁶) ≈ 0.004 ≤ 0.005), and
/// the claim is tested per run: the share of runs within ±0.02. The spec's 20k-draw solver
/// (GND vectors, as before) still gives the schedules, HT-C3 and HT-C5, and its exact-law
/// overlaps are reported for information. Ratios are solved once per seed; intervals are over
/// seeds. Data: 8×8 digits (D = 64), Fashion-MNIST pooled to 14×14 (D = 196), Fashion-MNIST
/// (D = 784), and uniform-random "images" for every D (the only option at D = 3072: CIFAR-10 is
/// not available here).
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

@main
struct HTE2NoiseScaling: TypedVerdicts {
    static let experimentID = "ht-e2-noise-scaling"
    static let seedDefaults = SeedDefaults(quick: 3, full: 10)
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E2: NCSNv2 vs iterative noise scaling for GND noise (heavy-tailed spec §3; HT-C3, HT-C4, HT-C5).",
        discussion: seedDefaults.help)

    @OptionGroup var options: ExperimentOptions

    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the Monte Carlo draws of the norm law per (β, D, seed).", quick: Config.quick.samples, full: Config.full.samples))
    var samples: Int?

    @Option(parsing: .upToNextOption, help: ScaleHelp.override("Restrict the dimensions (a subset of 64 196 784 3072).", quick: Config.quick.dimensions, full: Config.full.dimensions))
    var dimensions: [Int] = []

    @Option(help: "Folder holding fashion-mnist.h5 and digits8x8.h5 (from make data).")
    var dataDir = "data"

    struct Config: Codable {
        var betas: [Double]
        var dimensions: [Int]
        var samples: Int
        var overlapTarget: Double
        var bandHalfWidth: Double
        var sigmaMin: Double
        var pairwiseSubset: Int
        var syntheticPoints: Int
        /// Issue 30: norms the HT-C4 solver draws from the exact law (by inversion) per run; nil
        /// (a run configured before issue 30) is not supported by this version.
        var solverSamples: Int?
        var alphaConvention: String
        var recon: String

        static let quick = Config(
            betas: [1, 1.25, 1.5, 1.75, 2], dimensions: [64, 196, 784, 3072], samples: 4_000, overlapTarget: 0.5,
            bandHalfWidth: 3, sigmaMin: 0.01, pairwiseSubset: 5_000, syntheticPoints: 2_000, solverSamples: 100_000,
            alphaConvention: GNDScaleConvention.codeConvention.rawValue,
            recon: "The iterative algorithm is the spec's reconstruction (§3, [RECON]); the paper's exact algorithm was not available.")
        static let full: Config = {
            var c = quick
            c.samples = 20_000  // the spec's Monte Carlo size (§3)
            c.pairwiseSubset = 60_000
            // Issue 30: per-run SD of the exact-law overlap ∝ 1/√M; the audit measured 0.015–0.029
            // at 20k draws, so 10⁶ draws give ≤ 0.0041 (target ≤ 0.005). Fixed before the rerun.
            c.solverSamples = 1_000_000
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let s = samples { c.samples = s; c.solverSamples = max(c.solverSamples ?? 0, 5 * s) }
        if !dimensions.isEmpty { c.dimensions = dimensions }
        return c
    }

    func validate() throws {
        if let s = samples, s < 500 { throw ValidationError("--samples must be at least 500, got \(s)") }
        if let s = samples {
            try Limits.memory("--samples", s, bytesPerUnit: 8 * 4 * Double(max(options.threads, 1)),
                              estimate: "4 arrays of 8-byte norms per (β, D) law, one law per thread")
        }
        if let bad = dimensions.first(where: { !Config.quick.dimensions.contains($0) }) {
            throw ValidationError("--dimensions: \(bad) is not one of \(Config.quick.dimensions.map(String.init).joined(separator: " "))")
        }
        try Validate.distinct(dimensions, option: "--dimensions")
        try Validate.nonEmpty(dataDir, option: "--data-dir")
    }

    /// A data set whose largest pairwise distance sets σ_1.
    struct DataSource {
        var name: String
        var dimension: Int
        var sigmaMax: Double
        var points: Int
    }

    func dataSources(_ config: Config, rng: inout Xoshiro256) throws -> [DataSource] {
        var out: [DataSource] = []
        let digits = try ImageDataset.load(path: "\(dataDir)/digits8x8.h5", split: .train)
        out.append(DataSource(name: "digits8x8", dimension: 64, sigmaMax: NoiseScaling.maxPairwiseDistance(digits.images), points: digits.count))
        let fashion = try ImageDataset.load(path: "\(dataDir)/fashion-mnist.h5", split: .train)
        let subset = fashion.images.gatherRows(Array(0..<min(config.pairwiseSubset, fashion.count)))
        out.append(DataSource(name: "fashion-mnist-14x14", dimension: 196,
                              sigmaMax: NoiseScaling.maxPairwiseDistance(averagePool2x2(subset, side: 28)), points: subset.rows))
        out.append(DataSource(name: "fashion-mnist", dimension: 784, sigmaMax: NoiseScaling.maxPairwiseDistance(subset), points: subset.rows))
        for d in config.dimensions {
            let u = Tensor<Double>.randomUniform([config.syntheticPoints, d], using: &rng)
            out.append(DataSource(name: "uniform-synthetic", dimension: d, sigmaMax: NoiseScaling.maxPairwiseDistance(u), points: config.syntheticPoints))
        }
        return out.filter { config.dimensions.contains($0.dimension) }
    }

    /// 2×2 mean pooling of square images [N, side²] -> [N, (side/2)²].
    func averagePool2x2(_ x: Tensor<Float>, side: Int) -> Tensor<Float> {
        let h = side / 2
        var out = Tensor<Float>(shape: [x.rows, h * h])
        for n in 0..<x.rows {
            for i in 0..<h { for j in 0..<h {
                let base = n * side * side
                let s = x.scalars[base + 2 * i * side + 2 * j] + x.scalars[base + 2 * i * side + 2 * j + 1]
                    + x.scalars[base + (2 * i + 1) * side + 2 * j] + x.scalars[base + (2 * i + 1) * side + 2 * j + 1]
                out.scalars[n * h * h + i * h + j] = s / 4
            } }
        }
        return out
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let config = self.config
        let seeds = options.seedCount(Self.seedDefaults)
        // σ_1 of every data source is O(n²D) over up to 60,000 Fashion-MNIST images, so it is a
        // work unit of its own: computed once and cached, not again in every task of the solver
        // grid. The data files are logged (path, SHA-256) even when the unit comes from the cache.
        for name in ["digits8x8", "fashion-mnist"] { try DataFileLog.shared.record(path: "\(dataDir)/\(name).h5") }
        let seed = options.seed
        let sourceRows = try run.units("sources", count: 1, key: { _ in "sigma-max" }) { _ -> [DataSourceRow] in
            var dataRNG = Xoshiro256(seed: seed, stream: 0)
            return try dataSources(config, rng: &dataRNG).map {
                DataSourceRow(dataset: $0.name, dimension: $0.dimension, pointsUsed: $0.points, sigmaMax: $0.sigmaMax)
            }
        }[0]
        try run.writeRows(sourceRows, to: "data_sources.csv")

        // Per (seed, β, D): solve γ with both bands on one draw; measure overlaps on another.
        let cells = (0..<seeds).flatMap { s in config.betas.flatMap { b in config.dimensions.map { (seed: s, beta: b, dimension: $0) } } }
        var curveRows: [OverlapCurveRow] = []
        let progress = Progress("\(Self.experimentID) solving", total: cells.count)
        let baseSeed = options.seed
        // Issue 30: the exact law of the norm per (β, D) and its exact moments (for the moment
        // band), computed once and shared by all seeds; nothing in it is random.
        let lawKeys = config.betas.flatMap { b in config.dimensions.map { (beta: b, dimension: $0) } }
        let exactProgress = Progress("\(Self.experimentID) exact laws", total: lawKeys.count)
        let exactLaws = try parallelMap(lawKeys.count, threads: options.threads, progress: { exactProgress.advance() }) { k -> ExactLaw in
            let b = lawKeys[k].beta, d = lawKeys[k].dimension
            let m = NoiseNormExact(gnd: GeneralizedNormal(sigma: 1, beta: b)).moments(dimension: d)
            let law = NoiseNormExactLaw(beta: b, dimension: d)
            return ExactLaw(law: law, quantileBand: law.quantileBand(halfWidth: config.bandHalfWidth),
                            momentBand: (m.mean - config.bandHalfWidth * m.std, m.mean + config.bandHalfWidth * m.std))
        }
        func exact(_ beta: Double, _ d: Int) -> ExactLaw {
            exactLaws[lawKeys.firstIndex { $0.beta == beta && $0.dimension == d }!]
        }
        // Task c uses its own generator (seed derived from c + 1; stream 0 made the synthetic
        // data), so the numbers do not depend on the thread count.
        let rows = try run.units("solve", count: cells.count,
                                 key: { "seed-\(cells[$0].seed)_beta-\(cells[$0].beta)_D-\(cells[$0].dimension)" },
                                 progress: { progress.advance() }) { c -> [CSVCell] in  // one row of ratios.csv
            let cell = cells[c]
            var rng = Xoshiro256(seed: baseSeed &+ UInt64(c + 1) &* 0x9E37_79B9)
            let row = try solveCell(cell.beta, cell.dimension, seed: cell.seed, config: config, exact: exact(cell.beta, cell.dimension), rng: &rng)
            return try UnitRows.cells([row])[0]
        }
        try run.writeRows(try UnitRows.rows(rows, as: RatioRow.self), to: "ratios.csv")

        // Overlap as a function of γ at each D (seed 0's law, quantile band) for the solver figure.
        for d in config.dimensions {
            for b in config.betas {
                var rng = Xoshiro256(seed: baseSeed &+ 0xC0FFEE &+ UInt64(d))
                let law = NoiseNormLaw(beta: b, dimension: d, samples: config.samples, using: &rng)
                let band = law.band(.quantile, halfWidth: config.bandHalfWidth)
                let gammaMax = 1 + 6 / Double(d).squareRoot()
                for k in 0...80 {
                    let g = 1 + (gammaMax - 1) * Double(k) / 80
                    curveRows.append(OverlapCurveRow(dimension: d, beta: b, gamma: g, overlapQuantileBand: law.overlap(ratio: g, band: band),
                                                     overlapGaussianClosedForm: NoiseScaling.gaussianOverlap(ratio: g, dimension: d, halfWidth: config.bandHalfWidth)))
                }
            }
        }
        try run.writeRows(curveRows, to: "overlap_curves.csv")
        try run.writeConfig(config)
    }

    /// The exact law of one (β, D) with its exact quantile and moment bands (issue 30).
    struct ExactLaw: Sendable {
        var law: NoiseNormExactLaw
        var quantileBand: (lower: Double, upper: Double)
        var momentBand: (lower: Double, upper: Double)
    }

    func solveCell(_ beta: Double, _ d: Int, seed: Int, config: Config, exact: ExactLaw, rng: inout Xoshiro256) throws -> RatioRow {
        let k = config.bandHalfWidth, c = config.overlapTarget
        let law = NoiseNormLaw(beta: beta, dimension: d, samples: config.samples, using: &rng)
        // The validation draw is twice as large, so the measured overlap's own error is small
        // next to the solver's (whose error comes mostly from estimating the band edges).
        let validation = NoiseNormLaw(beta: beta, dimension: d, samples: 2 * config.samples, using: &rng)
        let gammaG = try NoiseScaling.ncsnv2Ratio(dimension: d, target: c, halfWidth: k)
        let gammaQ = try NoiseScaling.ratio(for: law, band: .quantile, target: c, halfWidth: k)
        let qBand = validation.band(.quantile, halfWidth: k), mBand = validation.band(.moment, halfWidth: k)
        var gammaM = Double.nan, overlapM = Double.nan, overlapMExact = Double.nan
        do {
            gammaM = try NoiseScaling.ratio(for: law, band: .moment, target: c, halfWidth: k)
            overlapM = validation.overlap(ratio: gammaM, band: mBand)
            overlapMExact = exact.law.overlap(ratio: gammaM, band: exact.momentBand)
        } catch NoiseScalingError.degenerateBand {
            // Reported as nan with the (negative) lower edge in its own column.
        }
        // Issue 30: HT-C4's solver, on `solverSamples` norms drawn from the exact law by
        // inversion (its own stream, so the spec-size draws above are as before).
        let m = config.solverSamples ?? 1_000_000
        var solverRNG = Xoshiro256(seed: options.seed, key: [30, UInt64(seed), UInt64(beta * 1000), UInt64(d)])
        let large = NoiseNormLaw(beta: beta, dimension: d, norms: exact.law.sampleNorms(m, using: &solverRNG))
        let gammaQLarge = try NoiseScaling.ratio(for: large, band: .quantile, target: c, halfWidth: k)
        var gammaMLarge = Double.nan, overlapMLargeExact = Double.nan
        do {
            gammaMLarge = try NoiseScaling.ratio(for: large, band: .moment, target: c, halfWidth: k)
            overlapMLargeExact = exact.law.overlap(ratio: gammaMLarge, band: exact.momentBand)
        } catch NoiseScalingError.degenerateBand {}
        return RatioRow(seed: seed, beta: beta, dimension: d, gammaNCSNv2: gammaG,
                        overlapNCSNv2QuantileBand: validation.overlap(ratio: gammaG, band: qBand), overlapNCSNv2MomentBand: validation.overlap(ratio: gammaG, band: mBand),
                        gammaIterativeQuantile: gammaQ, overlapIterativeQuantile: validation.overlap(ratio: gammaQ, band: qBand),
                        gammaIterativeMoment: gammaM, overlapIterativeMoment: overlapM,
                        momentBandLowerEdge: law.band(.moment, halfWidth: k).lower, overlapSamples: config.samples,
                        overlapIterativeQuantileExact: exact.law.overlap(ratio: gammaQ, band: exact.quantileBand), overlapIterativeMomentExact: overlapMExact,
                        gammaIterativeQuantileLarge: gammaQLarge, overlapIterativeQuantileLargeExact: exact.law.overlap(ratio: gammaQLarge, band: exact.quantileBand),
                        gammaIterativeMomentLarge: gammaMLarge, overlapIterativeMomentLargeExact: overlapMLargeExact, solverSamples: m)
    }
}

/// The number of geometric levels from σ_1 down to σ_L with ratio γ, as a real number:
/// L_c = 1 + ln(σ_1/σ_L)/ln γ (the integer schedule has ⌊L_c⌋ levels). Continuous in γ, so
/// paired differences across β have no rounding artefacts.
enum ContinuousLevels {
    /// `span` = ln(σ_1/σ_L) > 0, `ratio` = γ > 1.
    static func count(span: Double, ratio: Double) -> Double { 1 + span / log(ratio) }
}
