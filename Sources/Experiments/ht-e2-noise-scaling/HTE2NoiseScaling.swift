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
/// are not the solver's own fitted value, and (issue 17) against one fixed large-sample
/// reference law per (β, D), shared by all seeds, whose band is the population band: HT-C4 tests
/// the signed bias of that reference overlap. Ratios are solved once per seed; intervals are
/// over seeds. Data: 8×8 digits (D = 64), Fashion-MNIST pooled to 14×14 (D = 196), Fashion-MNIST
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
struct HTE2NoiseScaling: Experiment {
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
        /// Draws of the fixed reference law per (β, D) that measures HT-C4's realised overlap.
        var referenceSamples: Int?
        var alphaConvention: String
        var recon: String

        static let quick = Config(
            betas: [1, 1.25, 1.5, 1.75, 2], dimensions: [64, 196, 784, 3072], samples: 4_000, overlapTarget: 0.5,
            bandHalfWidth: 3, sigmaMin: 0.01, pairwiseSubset: 5_000, syntheticPoints: 2_000, referenceSamples: 20_000,
            alphaConvention: GNDScaleConvention.codeConvention.rawValue,
            recon: "The iterative algorithm is the spec's reconstruction (§3, [RECON]); the paper's exact algorithm was not available.")
        static let full: Config = {
            var c = quick
            c.samples = 20_000  // the spec's Monte Carlo size (§3)
            c.pairwiseSubset = 60_000
            // 10× the solver's draws: the Φ(∓3) band edges then rest on ≈ 270 order statistics
            // each instead of ≈ 27, so the reference band's own error is small next to the solver's.
            c.referenceSamples = 200_000
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let s = samples { c.samples = s; c.referenceSamples = max(c.referenceSamples ?? 0, 4 * s) }
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
        // The fixed reference law of each (β, D), drawn once from its own stream (independent of
        // every seed's solver draws) and shared by all seeds.
        let lawKeys = config.betas.flatMap { b in config.dimensions.map { (beta: b, dimension: $0) } }
        let referenceSamples = config.referenceSamples ?? 10 * config.samples
        let referenceProgress = Progress("\(Self.experimentID) reference laws", total: lawKeys.count)
        let referenceLaws = try parallelMap(lawKeys.count, threads: options.threads, progress: { referenceProgress.advance() }) { k -> NoiseNormLaw in
            var rng = Xoshiro256(seed: baseSeed &+ 0x5EED_0F_1A3 &+ UInt64(k) &* 0x9E37_79B9)
            return NoiseNormLaw(beta: lawKeys[k].beta, dimension: lawKeys[k].dimension, samples: referenceSamples, using: &rng)
        }
        func reference(_ beta: Double, _ d: Int) -> NoiseNormLaw {
            referenceLaws[lawKeys.firstIndex { $0.beta == beta && $0.dimension == d }!]
        }
        // Task c uses its own generator (seed derived from c + 1; stream 0 made the synthetic
        // data), so the numbers do not depend on the thread count.
        let rows = try run.units("solve", count: cells.count,
                                 key: { "seed-\(cells[$0].seed)_beta-\(cells[$0].beta)_D-\(cells[$0].dimension)" },
                                 progress: { progress.advance() }) { c -> [CSVCell] in  // one row of ratios.csv
            let cell = cells[c]
            var rng = Xoshiro256(seed: baseSeed &+ UInt64(c + 1) &* 0x9E37_79B9)
            let row = try solveCell(cell.beta, cell.dimension, seed: cell.seed, config: config, reference: reference(cell.beta, cell.dimension), rng: &rng)
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

    // MARK: - Rows

    /// A row of ratios.csv: the ratios solved for one (seed, β, D) and the overlaps they realise.
    struct RatioRow: DocumentedRow {
        var seed: Int, beta: Double, dimension: Int, gammaNCSNv2: Double
        var overlapNCSNv2QuantileBand: Double, overlapNCSNv2MomentBand: Double
        var gammaIterativeQuantile: Double, overlapIterativeQuantile: Double, gammaIterativeMoment: Double, overlapIterativeMoment: Double
        var momentBandLowerEdge: Double, overlapSamples: Int
        var overlapIterativeQuantileReference: Double, overlapIterativeMomentReference: Double, referenceSamples: Int
        enum CodingKeys: String, CodingKey {
            case seed, beta, dimension, gammaNCSNv2 = "gamma_ncsnv2", overlapNCSNv2QuantileBand = "overlap_ncsnv2_schedule_quantile_band"
            case overlapNCSNv2MomentBand = "overlap_ncsnv2_schedule_moment_band", gammaIterativeQuantile = "gamma_iterative_quantile"
            case overlapIterativeQuantile = "overlap_iterative_quantile", gammaIterativeMoment = "gamma_iterative_moment"
            case overlapIterativeMoment = "overlap_iterative_moment", momentBandLowerEdge = "moment_band_lower_edge", overlapSamples = "overlap_samples"
            case overlapIterativeQuantileReference = "overlap_iterative_quantile_reference"
            case overlapIterativeMomentReference = "overlap_iterative_moment_reference", referenceSamples = "reference_samples"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k (each (seed, β, D) cell draws from its own generator)"),
            .init("beta", "1", "GND shape β of the noise coordinates"),
            .init("dimension", "count", "D, the number of noise coordinates"),
            .init("gamma_ncsnv2", "1", "NCSNv2's closed-form ratio γ = σ_{i−1}/σ_i for overlap target C and band ±k std (Gaussian approximation; the same for every β)"),
            .init("overlap_ncsnv2_schedule_quantile_band", "fraction", "overlap realised by gamma_ncsnv2 under GND(β) noise: P(level-i norm in the quantile band of level i−1), on an independent validation draw (2 × samples)"),
            .init("overlap_ncsnv2_schedule_moment_band", "fraction", "the same with the moment band mean ∓ k·std"),
            .init("gamma_iterative_quantile", "1", "γ of the iterative algorithm ([RECON]) with the quantile band, solved on `overlap_samples` draws of the unit-scale norm"),
            .init("overlap_iterative_quantile", "fraction", "overlap of gamma_iterative_quantile on the validation draw (quantile band)"),
            .init("gamma_iterative_moment", "1", "γ of the iterative algorithm with the moment band; nan where that band is degenerate (its lower edge below 0)"),
            .init("overlap_iterative_moment", "fraction", "overlap of gamma_iterative_moment on the validation draw (moment band); nan where degenerate"),
            .init("moment_band_lower_edge", "σ units", "mean − k·std of the unit-scale norm on the solver's draw (below 0: the moment band is degenerate)"),
            .init("overlap_samples", "count", "draws of the norm law the solver used (config samples)"),
            .init("overlap_iterative_quantile_reference", "fraction", "overlap of gamma_iterative_quantile under the fixed reference law of (β, D), shared by all seeds, with its own quantile band (HT-C4's statistic)"),
            .init("overlap_iterative_moment_reference", "fraction", "the same for gamma_iterative_moment with the reference law's moment band; nan where degenerate"),
            .init("reference_samples", "count", "draws of the reference law"),
        ]
    }

    /// A row of data_sources.csv: the σ_1 of one data set.
    struct DataSourceRow: DocumentedRow {
        var dataset: String, dimension: Int, pointsUsed: Int, sigmaMax: Double
        enum CodingKeys: String, CodingKey { case dataset, dimension, pointsUsed = "points_used", sigmaMax = "sigma_max" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "digits8x8 (D = 64), fashion-mnist-14x14 (2×2 mean-pooled, D = 196), fashion-mnist (D = 784) or uniform-synthetic (Uniform[0, 1]^D points)"),
            .init("dimension", "count", "D"),
            .init("points_used", "count", "data points searched (the first pairwiseSubset training images; syntheticPoints uniform points)"),
            .init("sigma_max", "pixels in [0,1]", "σ_1: the largest Euclidean distance between two of those points (NCSNv2 technique 1)"),
        ]
    }

    /// A row of overlap_curves.csv: the overlap at one ratio γ (seed 0's law).
    struct OverlapCurveRow: DocumentedRow {
        var dimension: Int, beta: Double, gamma: Double, overlapQuantileBand: Double, overlapGaussianClosedForm: Double
        enum CodingKeys: String, CodingKey {
            case dimension, beta, gamma, overlapQuantileBand = "overlap_quantile_band", overlapGaussianClosedForm = "overlap_gaussian_closed_form"
        }
        static let columns: [ColumnDoc] = [
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β"),
            .init("gamma", "1", "ratio γ = σ_{i−1}/σ_i, 81 points from 1 to 1 + 6/√D"),
            .init("overlap_quantile_band", "fraction", "overlap at γ of one draw (`samples` norms, a fixed stream per D) with its quantile band"),
            .init("overlap_gaussian_closed_form", "fraction", "NCSNv2's Gaussian overlap Φ(√(2D)(γ − 1) + kγ) − Φ(√(2D)(γ − 1) − kγ)"),
        ]
    }

    /// A row of schedules.csv: the schedules from one data set's σ_1 for one β.
    struct ScheduleRow: DocumentedRow {
        var dataset: String, dimension: Int, sigmaMax: Double, beta: Double, gammaNCSNv2: Double, levelsNCSNv2: Int
        var overlapNCSNv2MomentBand: Double, gammaIterativeQuantile: Double, levelsIterativeQuantile: Int, overlapIterativeQuantile: Double
        var gammaIterativeMoment: Double, levelsIterativeMoment: Int?, overlapIterativeMoment: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigmaMax = "sigma_max", beta, gammaNCSNv2 = "gamma_ncsnv2", levelsNCSNv2 = "levels_ncsnv2"
            case overlapNCSNv2MomentBand = "overlap_ncsnv2_schedule_moment_band", gammaIterativeQuantile = "gamma_iterative_quantile"
            case levelsIterativeQuantile = "levels_iterative_quantile", overlapIterativeQuantile = "overlap_iterative_quantile"
            case gammaIterativeMoment = "gamma_iterative_moment", levelsIterativeMoment = "levels_iterative_moment"
            case overlapIterativeMoment = "overlap_iterative_moment"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the data set giving σ_1 (as data_sources.csv)"),
            .init("dimension", "count", "D"),
            .init("sigma_max", "pixels in [0,1]", "σ_1 of the data set"),
            .init("beta", "1", "GND shape β"),
            .init("gamma_ncsnv2", "1", "NCSNv2's closed-form γ"),
            .init("levels_ncsnv2", "count", "L: levels σ_1·γ^(−i) ≥ sigmaMin of the geometric schedule with gamma_ncsnv2"),
            .init("overlap_ncsnv2_schedule_moment_band", "fraction", "mean over seeds of its realised overlap under GND(β) (moment band)"),
            .init("gamma_iterative_quantile", "1", "mean over seeds of the iterative γ (quantile band)"),
            .init("levels_iterative_quantile", "count", "L of the schedule with that mean γ"),
            .init("overlap_iterative_quantile", "fraction", "mean over seeds of its realised overlap (validation draw)"),
            .init("gamma_iterative_moment", "1", "mean over seeds of the iterative γ (moment band); nan where the band is degenerate"),
            .init("levels_iterative_moment", "count", "L of that schedule; empty where the moment band is degenerate"),
            .init("overlap_iterative_moment", "fraction", "mean over seeds of its realised overlap; nan where degenerate"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("ratios.csv", RatioRow.self, "Noise-level ratios solved per seed, β and D, and the overlaps they realise (tables/schedules, HT-C3, HT-C4, HT-C5)."),
        CSVFileDoc("schedules.csv", ScheduleRow.self, "Schedules from each data set's σ_1 per β, means over seeds (tables/schedules)."),
        CSVFileDoc("data_sources.csv", DataSourceRow.self, "σ_1 (largest pairwise distance) of each data set and dimension."),
        CSVFileDoc("overlap_curves.csv", OverlapCurveRow.self, "Overlap against the ratio γ per D and β (figures/overlap_vs_ratio)."),
    ]

    func solveCell(_ beta: Double, _ d: Int, seed: Int, config: Config, reference: NoiseNormLaw, rng: inout Xoshiro256) throws -> RatioRow {
        let k = config.bandHalfWidth, c = config.overlapTarget
        let law = NoiseNormLaw(beta: beta, dimension: d, samples: config.samples, using: &rng)
        // The validation draw is twice as large, so the measured overlap's own error is small
        // next to the solver's (whose error comes mostly from estimating the band edges).
        let validation = NoiseNormLaw(beta: beta, dimension: d, samples: 2 * config.samples, using: &rng)
        let gammaG = try NoiseScaling.ncsnv2Ratio(dimension: d, target: c, halfWidth: k)
        let gammaQ = try NoiseScaling.ratio(for: law, band: .quantile, target: c, halfWidth: k)
        let qBand = validation.band(.quantile, halfWidth: k), mBand = validation.band(.moment, halfWidth: k)
        var gammaM = Double.nan, overlapM = Double.nan, overlapMRef = Double.nan
        do {
            gammaM = try NoiseScaling.ratio(for: law, band: .moment, target: c, halfWidth: k)
            overlapM = validation.overlap(ratio: gammaM, band: mBand)
            overlapMRef = reference.overlap(ratio: gammaM, band: reference.band(.moment, halfWidth: k))
        } catch NoiseScalingError.degenerateBand {
            // Reported as nan with the (negative) lower edge in its own column.
        }
        return RatioRow(seed: seed, beta: beta, dimension: d, gammaNCSNv2: gammaG,
                        overlapNCSNv2QuantileBand: validation.overlap(ratio: gammaG, band: qBand), overlapNCSNv2MomentBand: validation.overlap(ratio: gammaG, band: mBand),
                        gammaIterativeQuantile: gammaQ, overlapIterativeQuantile: validation.overlap(ratio: gammaQ, band: qBand),
                        gammaIterativeMoment: gammaM, overlapIterativeMoment: overlapM,
                        momentBandLowerEdge: law.band(.moment, halfWidth: k).lower, overlapSamples: config.samples,
                        overlapIterativeQuantileReference: reference.overlap(ratio: gammaQ, band: reference.band(.quantile, halfWidth: k)),
                        overlapIterativeMomentReference: overlapMRef, referenceSamples: reference.sortedNorms.count)
    }

    // MARK: - Render

    struct Cell {
        var beta: Double, dimension: Int
        var gammaG: Double
        var overlapGQ: Estimate, overlapGM: Estimate
        var gammaQ: Estimate, overlapQ: Estimate
        var gammaM: Estimate?, overlapM: Estimate?
        /// Mean over seeds of the per-run |realised overlap − C| (information only since issue 17).
        var deviationQ: Estimate, deviationM: Estimate?
        /// Mean over seeds of the signed (reference overlap − C), and the per-run SD.
        var biasQ: Estimate, biasM: Estimate?
        var spreadQ: Double, spreadM: Double?
        /// γ of the iterative algorithm (quantile band) per seed, for paired comparisons.
        var gammaQBySeed: [Int: Double]
        var samples: Int, seeds: Int, referenceSamples: Int
    }

    func summarise(_ run: RunDirectory) throws -> [Cell] {
        let config = self.config
        let t = try run.readRows(RatioRow.self, from: "ratios.csv")
        var cells: [Cell] = []
        let keys = Set(t.map { Pair(beta: $0.beta, dimension: $0.dimension) })
        for key in keys.sorted(by: { ($0.dimension, $0.beta) < ($1.dimension, $1.beta) }) {
            let rows = t.filter { $0.beta == key.beta && $0.dimension == key.dimension }
            func est(_ v: KeyPath<RatioRow, Double>) -> Estimate { Stats.meanCI(rows.map { $0[keyPath: v] }) }
            let momentDefined = rows.allSatisfy { $0.gammaIterativeMoment.isFinite }
            let target = config.overlapTarget
            func deviation(_ v: KeyPath<RatioRow, Double>) -> Estimate { Stats.meanCI(rows.map { abs($0[keyPath: v] - target) }) }
            func bias(_ v: KeyPath<RatioRow, Double>) -> Estimate { Stats.meanCI(rows.map { $0[keyPath: v] - target }) }
            func spread(_ v: KeyPath<RatioRow, Double>) -> Double { Stats.standardDeviation(rows.map { $0[keyPath: v] }) }
            cells.append(Cell(beta: key.beta, dimension: key.dimension, gammaG: rows[0].gammaNCSNv2, overlapGQ: est(\.overlapNCSNv2QuantileBand),
                              overlapGM: est(\.overlapNCSNv2MomentBand), gammaQ: est(\.gammaIterativeQuantile), overlapQ: est(\.overlapIterativeQuantile),
                              gammaM: momentDefined ? est(\.gammaIterativeMoment) : nil, overlapM: momentDefined ? est(\.overlapIterativeMoment) : nil,
                              deviationQ: deviation(\.overlapIterativeQuantile), deviationM: momentDefined ? deviation(\.overlapIterativeMoment) : nil,
                              biasQ: bias(\.overlapIterativeQuantileReference), biasM: momentDefined ? bias(\.overlapIterativeMomentReference) : nil,
                              spreadQ: spread(\.overlapIterativeQuantileReference), spreadM: momentDefined ? spread(\.overlapIterativeMomentReference) : nil,
                              gammaQBySeed: Dictionary(uniqueKeysWithValues: rows.map { ($0.seed, $0.gammaIterativeQuantile) }),
                              samples: rows[0].overlapSamples, seeds: rows.count, referenceSamples: rows[0].referenceSamples))
        }
        return cells
    }

    struct Pair: Hashable { var beta: Double; var dimension: Int }

    /// L for a geometric schedule from σ_1 with ratio γ: every level σ_1·γ^(−i) ≥ σ_min.
    func levels(_ sigmaMax: Double, _ gamma: Double, _ sigmaMin: Double) -> Int {
        NoiseSchedule.geometric(sigmaMax: sigmaMax, ratio: gamma, sigmaMin: sigmaMin).count
    }

    func render(in run: RunDirectory) throws {
        let cfg = self.config
        let cells = try summarise(run)
        let src = try run.readRows(DataSourceRow.self, from: "data_sources.csv")
        let betas = Array(Set(cells.map(\.beta))).sorted()
        let dims = Array(Set(cells.map(\.dimension))).sorted()

        // Schedules table: per data set (σ_1) and β.
        var scheduleRows: [ScheduleRow] = []
        var table: [[String]] = []
        for source in src {
            let d = source.dimension, s1 = source.sigmaMax
            for c in cells where c.dimension == d {
                let lG = levels(s1, c.gammaG, cfg.sigmaMin)
                let lQ = levels(s1, c.gammaQ.mean, cfg.sigmaMin)
                let lM = c.gammaM.map { levels(s1, $0.mean, cfg.sigmaMin) }
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
                let lG = levels(source.sigmaMax, c.gammaG, cfg.sigmaMin), lQ = levels(source.sigmaMax, c.gammaQ.mean, cfg.sigmaMin)
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
        let curves = try run.readRows(OverlapCurveRow.self, from: "overlap_curves.csv")
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

        try run.writeClaims(claims(cells, sources: src.map { ($0.dimension, $0.sigmaMax) }, config: cfg))
        print(Table(header: ["D", "β", "γ NCSNv2", "γ iterative (quantile)", "overlap (ii)", "overlap (iii)"],
                    rows: cells.map { ["\($0.dimension)", Format.significant($0.beta, 3), Format.significant($0.gammaG, 5),
                                       Format.withError($0.gammaQ.mean, $0.gammaQ.halfWidth), Format.significant($0.overlapGM.mean, 3),
                                       Format.significant($0.overlapQ.mean, 3)] }).markdown())
    }

    // MARK: - Claims

    func claims(_ cells: [Cell], sources: [(Int, Double)], config: Config) -> [ClaimResult] {
        let command = "make ht-e2-noise-scaling SCALE=\(options.scale.rawValue)"
        let seeds = cells.first?.seeds ?? 0
        let c = config.overlapTarget
        // HT-C4 (a), issue 17: the overlap that each run's γ realises under one fixed large-sample
        // reference law of the norm (population band), its signed bias over seeds within ±0.02.
        // The former statistic (mean |overlap − C| against a band re-estimated from 20k draws,
        // whose Φ(∓3) quantiles rest on ≈ 27 draws) measured Monte Carlo noise, folded upwards.
        let c4Provenance = ThresholdProvenance.specRecon("spec §5 C4: \"the iterative algorithm yields adjacent-level overlap within ±0.02 of the target C for all β and D\"; tested as the mean signed deviation over seeds")
        var c4: [ClaimCheck] = []
        for cell in cells {
            c4.append(ClaimCheck(statistic: "mean (reference-law overlap − \(c)), iterative (quantile band), β = \(Format.significant(cell.beta, 3)), D = \(cell.dimension)",
                                 estimate: cell.biasQ, direction: .within, threshold: 0, tolerance: 0.02, provenance: c4Provenance,
                                 power: CheckPower.ofInterval(cell.biasQ, claimedEffect: 0.02, counts: "seeds")))
            if let m = cell.biasM {
                c4.append(ClaimCheck(statistic: "mean (reference-law overlap − \(c)), iterative (moment band), β = \(Format.significant(cell.beta, 3)), D = \(cell.dimension)",
                                     estimate: m, direction: .within, threshold: 0, tolerance: 0.02, provenance: c4Provenance,
                                     power: CheckPower.ofInterval(m, claimedEffect: 0.02, counts: "seeds")))
            }
        }
        let worstSpread = cells.map(\.spreadQ).max() ?? .nan
        let worstSpreadCell = cells.max { $0.spreadQ < $1.spreadQ }
        // HT-C4 (b): at β = 2 and large D the moment-band γ equals NCSNv2's closed form (±0.005).
        for cell in cells where cell.beta == 2 && cell.dimension >= 784 {
            if let g = cell.gammaM {
                c4.append(ClaimCheck(statistic: "γ iterative (moment band) at β = 2, D = \(cell.dimension), vs NCSNv2 \(Format.significant(cell.gammaG, 6))",
                                     estimate: g, direction: .within, threshold: cell.gammaG, tolerance: 0.005,
                                     provenance: .ours("±0.005 on γ ≈ 1.02–1.05 is a few % of γ − 1; the spec's C4 says only \"reproduces the NCSNv2 γ at β = 2\"")))
            }
        }
        // HT-C5, issue 17: fewer levels for heavier tails over the same [σ_L, σ_1], as the
        // continuous level count L_c(γ) = 1 + ln(σ_1/σ_L)/ln γ, paired by seed: the mean over
        // seeds of L_c(γ_β,s) − L_c(γ_2,s) < 0. (Integer L with interval endpoints subtracted gave
        // artefacts such as [−2, 0].)
        var c5: [ClaimCheck] = []
        let largestSigma = Dictionary(sources, uniquingKeysWith: max)
        let c5Provenance = ThresholdProvenance.specRecon("spec §5 C5: \"heavier tails need fewer noise levels to span the same [σ_L, σ_1] at the same overlap\"; the sign of the paired difference")
        for d in Set(cells.map(\.dimension)).sorted() {
            guard let s1 = largestSigma[d], let ref = cells.first(where: { $0.beta == 2 && $0.dimension == d }) else { continue }
            let span = log(s1 / config.sigmaMin)
            for cell in cells where cell.dimension == d && cell.beta < 2 {
                let diffs = cell.gammaQBySeed.keys.sorted().compactMap { s -> Double? in
                    guard let g = cell.gammaQBySeed[s], let g2 = ref.gammaQBySeed[s] else { return nil }
                    return ContinuousLevels.count(span: span, ratio: g) - ContinuousLevels.count(span: span, ratio: g2)
                }
                let e = Stats.meanCI(diffs)
                c5.append(ClaimCheck(statistic: "continuous L(β = \(Format.significant(cell.beta, 3))) − L(β = 2), paired by seed, D = \(d), σ_1 = \(Format.significant(s1, 4)) → \(config.sigmaMin)",
                                     estimate: e, direction: .lessThan, threshold: 0, provenance: c5Provenance,
                                     power: CheckPower.ofInterval(e, counts: "seeds")))
            }
        }
        // HT-C3 (overlap part): under the unchanged NCSNv2 schedule the overlap differs from C for β < 2.
        let c3 = cells.filter { $0.beta < 2 && $0.dimension >= 784 }.map { cell -> ClaimCheck in
            let e = cell.overlapGM
            let dev = Estimate(mean: abs(e.mean - c), low: (e.low - c) * (e.high - c) <= 0 ? 0 : min(abs(e.low - c), abs(e.high - c)),
                               high: max(abs(e.low - c), abs(e.high - c)), n: e.n)
            return ClaimCheck(statistic: "|overlap of the NCSNv2 schedule under GND(β = \(Format.significant(cell.beta, 3))) − \(c)|, D = \(cell.dimension)",
                              estimate: dev, direction: .greaterThan, threshold: 0.02,
                              provenance: .ours("spec §5 C3 \"the realised overlap under the unchanged NCSNv2 schedule differs from 0.5\", read as by more than C4's own tolerance 0.02"))
        }
        let notes = "Iterative algorithm reconstructed from the abstract ([RECON], spec §3). \(seeds) seeds × \(cells.first?.samples ?? 0) Monte Carlo draws per law; intervals are 95% over seeds."
        let c4Notes = notes + " What changed and why (issue 17): the realised overlap is now measured against one fixed reference law per (β, D) (\(cells.first?.referenceSamples ?? 0) draws, its own population band) and the check is the signed bias over seeds within ±0.02; the old mean |overlap − 0.5| against a re-estimated band measured Monte Carlo noise, folded upwards. Finding: the per-run SD of the reference overlap (quantile band, \(cells.first?.samples ?? 0) solver draws) is up to \(Format.significant(worstSpread, 3))\(worstSpreadCell.map { " (β = \(Format.significant($0.beta, 3)), D = \($0.dimension))" } ?? ""); where it exceeds ≈ 0.01, single runs leave ±0.02 often and the solver needs more draws than the spec's 20k."
        let c5Notes = notes + " What changed and why (issue 17): the continuous level count 1 + ln(σ_1/σ_L)/ln γ, paired by seed, replaces integer L compared by subtracting interval endpoints (which gave artefacts such as [−2, 0])."
        return [
            ClaimResult(claim: "HT-C3", scope: "Under the unchanged NCSNv2 (Gaussian) schedule, the realised adjacent-level overlap for β < 2 differs from the target 0.5 (by more than 0.02) at D = 784 and 3072.",
                        experiment: Self.experimentID, command: command, checks: c3, seeds: seeds, notes: notes + " Overlap part of HT-C3 only; the skew part is in ht-e1-concentration."),
            ClaimResult(claim: "HT-C4", scope: "The iterative algorithm yields adjacent-level overlap within ±0.02 of the target for all β and D, and reproduces the NCSNv2 γ at β = 2.",
                        experiment: Self.experimentID, command: command, checks: c4, seeds: seeds, notes: c4Notes),
            ClaimResult(claim: "HT-C5", scope: "Heavier tails need fewer noise levels to span the same [σ_L, σ_1] at the same overlap.",
                        experiment: Self.experimentID, command: command, checks: c5, seeds: seeds, notes: c5Notes),
        ]
    }
}

/// The number of geometric levels from σ_1 down to σ_L with ratio γ, as a real number:
/// L_c = 1 + ln(σ_1/σ_L)/ln γ (the integer schedule has ⌊L_c⌋ levels). Continuous in γ, so
/// paired differences across β have no rounding artefacts.
enum ContinuousLevels {
    /// `span` = ln(σ_1/σ_L) > 0, `ratio` = γ > 1.
    static func count(span: Double, ratio: Double) -> Double { 1 + span / log(ratio) }
}
