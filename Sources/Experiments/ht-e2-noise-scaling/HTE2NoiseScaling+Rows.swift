// HTE2NoiseScaling: row types, the typed results and their reading (issue 30).
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

extension HTE2NoiseScaling {
    // MARK: - Rows

    /// A row of ratios.csv: the ratios solved for one (seed, β, D) and the overlaps they realise.
    struct RatioRow: DocumentedRow {
        var seed: Int, beta: Double, dimension: Int, gammaNCSNv2: Double
        var overlapNCSNv2QuantileBand: Double, overlapNCSNv2MomentBand: Double
        var gammaIterativeQuantile: Double, overlapIterativeQuantile: Double, gammaIterativeMoment: Double, overlapIterativeMoment: Double
        var momentBandLowerEdge: Double, overlapSamples: Int
        var overlapIterativeQuantileExact: Double, overlapIterativeMomentExact: Double
        var gammaIterativeQuantileLarge: Double, overlapIterativeQuantileLargeExact: Double
        var gammaIterativeMomentLarge: Double, overlapIterativeMomentLargeExact: Double, solverSamples: Int
        enum CodingKeys: String, CodingKey {
            case seed, beta, dimension, gammaNCSNv2 = "gamma_ncsnv2", overlapNCSNv2QuantileBand = "overlap_ncsnv2_schedule_quantile_band"
            case overlapNCSNv2MomentBand = "overlap_ncsnv2_schedule_moment_band", gammaIterativeQuantile = "gamma_iterative_quantile"
            case overlapIterativeQuantile = "overlap_iterative_quantile", gammaIterativeMoment = "gamma_iterative_moment"
            case overlapIterativeMoment = "overlap_iterative_moment", momentBandLowerEdge = "moment_band_lower_edge", overlapSamples = "overlap_samples"
            case overlapIterativeQuantileExact = "overlap_iterative_quantile_exact", overlapIterativeMomentExact = "overlap_iterative_moment_exact"
            case gammaIterativeQuantileLarge = "gamma_iterative_quantile_large_m", overlapIterativeQuantileLargeExact = "overlap_iterative_quantile_large_m_exact"
            case gammaIterativeMomentLarge = "gamma_iterative_moment_large_m", overlapIterativeMomentLargeExact = "overlap_iterative_moment_large_m_exact"
            case solverSamples = "solver_samples"
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
            .init("overlap_iterative_quantile_exact", "fraction", "overlap of gamma_iterative_quantile (the spec's 20k-draw solver) under the EXACT law of the norm with its exact quantile band (issue 30; information for HT-C4)"),
            .init("overlap_iterative_moment_exact", "fraction", "the same for gamma_iterative_moment with the exact moment band (exact mean ∓ k·std); nan where degenerate"),
            .init("gamma_iterative_quantile_large_m", "1", "γ of the iterative algorithm (quantile band) solved on solver_samples norms drawn from the exact law by inversion (issue 30: HT-C4's solver)"),
            .init("overlap_iterative_quantile_large_m_exact", "fraction", "overlap of gamma_iterative_quantile_large_m under the exact law, exact quantile band (HT-C4's statistic, per run)"),
            .init("gamma_iterative_moment_large_m", "1", "γ of the iterative algorithm (moment band) on the same solver_samples norms; nan where degenerate"),
            .init("overlap_iterative_moment_large_m_exact", "fraction", "its overlap under the exact law, exact moment band (HT-C4's statistic, per run); nan where degenerate"),
            .init("solver_samples", "count", "norms drawn from the exact law for the large-M solver (config solverSamples)"),
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

    // MARK: - Results

    struct Cell {
        var beta: Double, dimension: Int
        var gammaG: Double
        var overlapGQ: Estimate, overlapGM: Estimate
        var gammaQ: Estimate, overlapQ: Estimate
        var gammaM: Estimate?, overlapM: Estimate?
        /// Issue 30: per seed (in seed order), the exact-law overlap of the large-M solver's γ
        /// (HT-C4's statistic) and of the spec-size solver's γ (information), per band; the moment
        /// band's are nil where that band is degenerate in some seed.
        var exactQLarge: [Double], exactMLarge: [Double]?
        var exactQSpec: [Double], exactMSpec: [Double]?
        /// γ of the iterative algorithm (quantile band, spec-size solver) per seed, for paired comparisons.
        var gammaQBySeed: [Int: Double]
        var samples: Int, seeds: Int, solverSamples: Int
    }

    /// The per-(β, D) summary of ratios.csv, ordered by D then β.
    static func summarise(_ t: [RatioRow]) -> [Cell] {
        var cells: [Cell] = []
        let keys = Set(t.map { Pair(beta: $0.beta, dimension: $0.dimension) })
        for key in keys.sorted(by: { ($0.dimension, $0.beta) < ($1.dimension, $1.beta) }) {
            let rows = t.filter { $0.beta == key.beta && $0.dimension == key.dimension }.sorted { $0.seed < $1.seed }
            func est(_ v: KeyPath<RatioRow, Double>) -> Estimate { Stats.meanCI(rows.map { $0[keyPath: v] }) }
            let momentDefined = rows.allSatisfy { $0.gammaIterativeMoment.isFinite }
            let momentLargeDefined = rows.allSatisfy { $0.gammaIterativeMomentLarge.isFinite }
            cells.append(Cell(beta: key.beta, dimension: key.dimension, gammaG: rows[0].gammaNCSNv2, overlapGQ: est(\.overlapNCSNv2QuantileBand),
                              overlapGM: est(\.overlapNCSNv2MomentBand), gammaQ: est(\.gammaIterativeQuantile), overlapQ: est(\.overlapIterativeQuantile),
                              gammaM: momentDefined ? est(\.gammaIterativeMoment) : nil, overlapM: momentDefined ? est(\.overlapIterativeMoment) : nil,
                              exactQLarge: rows.map(\.overlapIterativeQuantileLargeExact), exactMLarge: momentLargeDefined ? rows.map(\.overlapIterativeMomentLargeExact) : nil,
                              exactQSpec: rows.map(\.overlapIterativeQuantileExact), exactMSpec: momentDefined ? rows.map(\.overlapIterativeMomentExact) : nil,
                              gammaQBySeed: Dictionary(uniqueKeysWithValues: rows.map { ($0.seed, $0.gammaIterativeQuantile) }),
                              samples: rows[0].overlapSamples, seeds: rows.count, solverSamples: rows[0].solverSamples))
        }
        return cells
    }

    /// The typed results of a run: the rows of ratios.csv, data_sources.csv and overlap_curves.csv.
    struct Results {
        var ratios: [RatioRow]
        var sources: [DataSourceRow]
        var curves: [OverlapCurveRow]
        var cells: [Cell] { HTE2NoiseScaling.summarise(ratios) }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(ratios: try run.readRows(RatioRow.self, from: "ratios.csv"), sources: try run.readRows(DataSourceRow.self, from: "data_sources.csv"),
                curves: try run.readRows(OverlapCurveRow.self, from: "overlap_curves.csv"))
    }

    static func seedCount(of results: Results) -> Int { Set(results.ratios.map(\.seed)).count }

    struct Pair: Hashable { var beta: Double; var dimension: Int }

    /// L for a geometric schedule from σ_1 with ratio γ: every level σ_1·γ^(−i) ≥ σ_min.
    static func levels(_ sigmaMax: Double, _ gamma: Double, _ sigmaMin: Double) -> Int {
        NoiseSchedule.geometric(sigmaMax: sigmaMax, ratio: gamma, sigmaMin: sigmaMin).count
    }
}
