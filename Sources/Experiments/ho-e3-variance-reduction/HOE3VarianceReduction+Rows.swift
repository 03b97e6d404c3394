// HOE3VarianceReduction: row types, the typed results and their reading (issue 30).
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

extension HOE3VarianceReduction {
    // MARK: - Rows

    /// A row of spread.csv: the loss estimate's spread at the fixed model for one (σ, form).
    struct SpreadRow: DocumentedRow {
        var sigma: Double, form: String, samples: Int, stdPlain: Double, stdAntithetic: Double, stdVR: Double
        var batchStdPlain: Double, batchStdVR: Double, stdRatio: Double, stdRatioLow: Double, stdRatioHigh: Double
        var meanPlain: Double, meanVR: Double, meanDifferenceZ: Double
        enum CodingKeys: String, CodingKey {
            case sigma, form, samples, stdPlain = "std_plain", stdAntithetic = "std_antithetic", stdVR = "std_vr", batchStdPlain = "batch_std_plain"
            case batchStdVR = "batch_std_vr", stdRatio = "std_ratio", stdRatioLow = "std_ratio_low", stdRatioHigh = "std_ratio_high"
            case meanPlain = "mean_plain", meanVR = "mean_vr", meanDifferenceZ = "mean_difference_z"
        }
        static let columns: [ColumnDoc] = [
            .init("sigma", "data units", "noise level σ"),
            .init("form", "text", "D2SM loss form A or B (high-order spec §1.6)"),
            .init("samples", "count", "Monte Carlo samples M (clean point, noise z) at the fixed model s̃₁ = s₁ + 0.1·sin(x̃), s̃₂ = s₂ + 0.2·I − 0.1·e₁e₁ᵀ"),
            .init("std_plain", "loss units", "per-sample standard deviation of the plain D2SM loss estimate (code-faithful scale, ÷2 included)"),
            .init("std_antithetic", "loss units", "the same with the antithetic pair (x ± σz) only"),
            .init("std_vr", "loss units", "the same for D2SM-VR (antithetic pair and control variate)"),
            .init("batch_std_plain", "loss units", "std_plain / √batchSize: the spread of a batch mean"),
            .init("batch_std_vr", "loss units", "std_vr / √batchSize"),
            .init("std_ratio", "1", "std_plain / std_vr"),
            .init("std_ratio_low", "1", "lower end of the bootstrap 95 % interval of std_ratio (samples resampled, bootstrapResamples times)"),
            .init("std_ratio_high", "1", "upper end of that interval"),
            .init("mean_plain", "loss units", "mean of the plain per-sample estimates"),
            .init("mean_vr", "loss units", "mean of the VR per-sample estimates"),
            .init("mean_difference_z", "1", "(mean_plain − mean_vr) / √((var plain + var VR)/M): the difference in standard errors (both estimate the same loss)"),
        ]
    }

    /// A row of training.csv: one trained s̃₂ head.
    struct TrainingRow: DocumentedRow {
        var sigma: Double, seed: Int, arm: String, relativeFrobenius: Double, mseSigma4: Double
        enum CodingKeys: String, CodingKey { case sigma, seed, arm, relativeFrobenius = "relative_frobenius", mseSigma4 = "mse_sigma4" }
        static let columns: [ColumnDoc] = [
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k (test points, s̃₁ and both heads of a (σ, seed) share the seed)"),
            .init("arm", "text", "D2SM-A (plain) or D2SM-A-VR: the loss the full s̃₂ head was trained with (s̃₁ frozen, trained by DSM-VR)"),
            .init("relative_frobenius", "1", "mean over testPoints fresh noisy points of ‖s̃₂ − s₂‖_F / ‖s₂‖_F against the exact Hessian of log q_σ"),
            .init("mse_sigma4", "1", "mean squared error of the s̃₂ entries times σ⁴"),
        ]
    }

    /// A row of error_ratios.csv: the VR/plain error ratio at one σ.
    struct ErrorRatioRow: DocumentedRow {
        var sigma: Double, ratioVRToPlain: Double, low: Double, high: Double, seeds: Int
        enum CodingKeys: String, CodingKey { case sigma, ratioVRToPlain = "ratio_vr_to_plain", low, high, seeds }
        static let columns: [ColumnDoc] = [
            .init("sigma", "data units", "noise level σ"),
            .init("ratio_vr_to_plain", "1", "ratio of the mean relative Frobenius errors, D2SM-A-VR / D2SM-A, over seeds and test points"),
            .init("low", "1", "lower end of the two-level (seeds, then points) bootstrap 95 % interval of the ratio"),
            .init("high", "1", "upper end of that interval"),
            .init("seeds", "count", "seeds (n)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("spread.csv", SpreadRow.self, "Spread of the D2SM loss estimate at a fixed, slightly wrong model per σ and form (tables/spread, figures/spread_vs_sigma, HO-C4)."),
        CSVFileDoc("training.csv", TrainingRow.self, "s₂ error of heads trained by plain D2SM and by D2SM-VR per σ and seed (tables/error)."),
        CSVFileDoc("error_ratios.csv", ErrorRatioRow.self, "VR/plain ratio of the s₂ errors per σ with bootstrap intervals (tables/error, HO-C4)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of spread.csv, error_ratios.csv and training.csv.
    struct Results {
        var spread: [SpreadRow]
        var errorRatios: [ErrorRatioRow]
        var training: [TrainingRow]
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        let sp = try run.readRows(SpreadRow.self, from: "spread.csv")
        let er = try run.readRows(ErrorRatioRow.self, from: "error_ratios.csv")
        return Results(spread: sp, errorRatios: er, training: try run.readRows(TrainingRow.self, from: "training.csv"))
    }

    static func seedCount(of results: Results) -> Int { results.errorRatios.first?.seeds ?? 0 }
}
