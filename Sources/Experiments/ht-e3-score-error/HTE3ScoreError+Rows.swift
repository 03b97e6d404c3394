// HTE3ScoreError: row types, the typed results and their reading (issue 30).
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

extension HTE3ScoreError {
    // MARK: - Rows

    /// A row of schedules.csv: one noise level of the schedule of a (data set, β).
    struct ScheduleRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, level: Int, sigma: Double, ratio: Double, evalScaleIndex: Int?
        enum CodingKeys: String, CodingKey { case dataset, dimension, beta, level, sigma, ratio, evalScaleIndex = "eval_scale_index" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D (10:1 two-cluster Gaussian mixture in D dimensions) or digits8x8 (N training images)"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β"),
            .init("level", "index", "level index i (0 = σ_1, the largest)"),
            .init("sigma", "data units", "σ_i = σ_1/γ^i, σ_1 the largest pairwise distance of the training set"),
            .init("ratio", "1", "γ_β from HT-E2's iterative algorithm (the schedule's ratio; the same on every row of the schedule)"),
            .init("eval_scale_index", "count", "index k of the evaluation scale τ_k this level serves (the trained level nearest τ_k in log σ); empty when it serves none"),
        ]
    }

    /// A row of levels.csv: one model's errors at one evaluation scale.
    struct LevelRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, scaleIndex: Int, tau: Double, level: Int, sigma: Double
        var errorSame: Double, normSame: Double, relativeErrorSame: Double, errorCommon: Double, normCommon: Double, relativeErrorCommon: Double
        var heldoutDSMLoss: Double, errorOff: Double, normOff: Double, relativeErrorOff: Double, errorFloorSame: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, scaleIndex = "scale_index", tau, level, sigma, errorSame = "error_same", normSame = "norm_same"
            case relativeErrorSame = "relative_error_same", errorCommon = "error_common", normCommon = "norm_common"
            case relativeErrorCommon = "relative_error_common", heldoutDSMLoss = "heldout_dsm_loss", errorOff = "error_off", normOff = "norm_off"
            case relativeErrorOff = "relative_error_off", errorFloorSame = "error_floor_same"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β of the model's training noise"),
            .init("seed", "index", "seed index k (initial weights, minibatches and noise of the model)"),
            .init("scale_index", "index", "evaluation scale index k (0 = τ_1 = σ_1)"),
            .init("tau", "data units", "evaluation scale τ_k (geometric from σ_1 to sigmaMinFraction·σ_1, common to every β)"),
            .init("level", "index", "the model's trained level used at τ_k (nearest in log σ)"),
            .init("sigma", "data units", "σ of that level"),
            .init("error_same", "1/data units²", "E‖s_θ − s‖² on (a) same-β points x_j + GND_β(σ) noise, s the exact score of the β-perturbed training set"),
            .init("norm_same", "1/data units²", "E‖s‖² on the same points"),
            .init("relative_error_same", "1", "error_same / norm_same"),
            .init("error_common", "1/data units²", "E‖s_θ − s‖² on (b) the common points x_j + τ_k·N(0, I), identical for every β"),
            .init("norm_common", "1/data units²", "E‖s‖² on the common points"),
            .init("relative_error_common", "1", "error_common / norm_common"),
            .init("heldout_dsm_loss", "1", "σ²-weighted DSM loss on the held-out set at this level (one noise draw)"),
            .init("error_off", "1/data units²", "E‖s_θ − s‖² on (c) off-shell points x_j + κ·ε, ε ~ GND_β(σ), κ = offShellFactor"),
            .init("norm_off", "1/data units²", "E‖s‖² on the off-shell points"),
            .init("relative_error_off", "1", "error_off / norm_off"),
            .init("error_floor_same", "1/data units²", "E‖s_floor − s‖² on the same-β points, s_floor the same network regressed directly on the exact score (HT-C1's floor)"),
        ]
    }

    /// A row of curves.csv: one model's aggregate error at one training checkpoint.
    struct CurveRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, step: Int, relativeErrorSame: Double, relativeErrorCommon: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, step, relativeErrorSame = "relative_error_same", relativeErrorCommon = "relative_error_common"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β"),
            .init("seed", "index", "seed index k"),
            .init("step", "count", "training step (curveCheckpoints + 1 evenly spaced checkpoints, 0 and the last included)"),
            .init("relative_error_same", "1", "Σ_k σ_k²·err / Σ_k σ_k²·norm over the evaluation scales on the first curvePoints same-β points of each"),
            .init("relative_error_common", "1", "the same on the first curvePoints common points"),
        ]
    }

    /// A row of summary.csv: one model's errors aggregated over the evaluation scales.
    struct SummaryRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, levels: Int, ratio: Double, relativeErrorSame: Double, relativeErrorCommon: Double
        var finalTrainLoss: Double, relativeErrorOff: Double, absoluteErrorSame: Double, absoluteErrorCommon: Double, absoluteErrorOff: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, levels, ratio, relativeErrorSame = "relative_error_same", relativeErrorCommon = "relative_error_common"
            case finalTrainLoss = "final_train_loss", relativeErrorOff = "relative_error_off", absoluteErrorSame = "absolute_error_same"
            case absoluteErrorCommon = "absolute_error_common", absoluteErrorOff = "absolute_error_off"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("seed", "index", "seed index k"),
            .init("levels", "count", "L_β, the number of trained noise levels"),
            .init("ratio", "1", "γ_β of the schedule"),
            .init("relative_error_same", "1", "relative Fisher divergence Σ_k σ_k² E‖s_θ − s‖² / Σ_k σ_k² E‖s‖² on (a) same-β points, over the evaluation scales"),
            .init("relative_error_common", "1", "the same on (b) the common Gaussian-perturbed points"),
            .init("final_train_loss", "1", "mean σ²-weighted DSM training loss over the last 100 steps"),
            .init("relative_error_off", "1", "the same relative divergence on (c) the off-shell points (HT-C6's statistic since issue 30)"),
            .init("absolute_error_same", "1", "mean over scales of σ_k² E‖s_θ − s‖²/D on (a): squared error per coordinate in units of 1/σ², one normaliser for every β"),
            .init("absolute_error_common", "1", "the same on (b)"),
            .init("absolute_error_off", "1", "the same on (c) (HT-C6's statistic from issue 17 to issue 30; reported beside it since)"),
        ]
    }

    /// A row of identity.csv: HT-C1's Monte-Carlo check of the DSM identity at one (data set, β,
    /// evaluation scale) (issue 30).
    struct IdentityRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, scaleIndex: Int, sigma: Double, draws: Int
        var meanTargetProduct: Double, meanScoreProduct: Double, meanDifference: Double, sdDifference: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, scaleIndex = "scale_index", sigma, draws, meanTargetProduct = "mean_target_product"
            case meanScoreProduct = "mean_score_product", meanDifference = "mean_difference", sdDifference = "sd_difference"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β of the noise kernel"),
            .init("scale_index", "index", "evaluation scale k (0 = τ_1 = σ_1, the largest)"),
            .init("sigma", "data units", "the noise scale τ_k (α = √2τ_k)"),
            .init("draws", "count", "Monte-Carlo pairs (x̃, t): x̃ = x_j + ε, j uniform over the training set, t the DSM target (kernel score at ε), drawn by the training code's batch maker"),
            .init("mean_target_product", "1/σ²", "mean of s(x̃)·t, with s = ∇log q_τ (the exact score of the perturbed training set) as test function"),
            .init("mean_score_product", "1/σ²", "mean of s(x̃)·∇log q_τ(x̃) = E‖∇log q_τ‖²"),
            .init("mean_difference", "1/σ²", "mean of d = s(x̃)·(t − ∇log q_τ(x̃)); the DSM identity says its expectation is 0"),
            .init("sd_difference", "1/σ²", "sample standard deviation of d (standard error = sd/√draws)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("summary.csv", SummaryRow.self, "Score errors of each (data set, β, seed) model aggregated over the evaluation scales (tables/score_error, figures/error_vs_dimension, HT-C6)."),
        CSVFileDoc("levels.csv", LevelRow.self, "Score errors per model and evaluation scale, with the held-out DSM loss and HT-C1's floor (figures/error_by_level, HT-C1)."),
        CSVFileDoc("curves.csv", CurveRow.self, "Aggregate relative error during training (figures/error_vs_steps, HT-C1's fall check)."),
        CSVFileDoc("schedules.csv", ScheduleRow.self, "The noise levels of each (data set, β), shared by all seeds."),
        CSVFileDoc("identity.csv", IdentityRow.self, "HT-C1's Monte-Carlo check of the DSM identity E[s·t] = E[s·∇log q] per data set, β and evaluation scale (tables/dsm_identity, HT-C1; issue 30)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of summary.csv, levels.csv and curves.csv.
    struct Results {
        var summary: [SummaryRow]
        var levels: [LevelRow]
        var curves: [CurveRow]
        /// HT-C1's DSM-identity rows (issue 30); empty for a run configured before issue 30.
        var identity: [IdentityRow] = []

        /// The data sets, by dimension, then name.
        var dataSets: [String] {
            var names: [String] = []
            for r in summary where !names.contains(r.dataset) { names.append(r.dataset) }
            return names.sorted { (dimension(of: $0), $0) < (dimension(of: $1), $1) }
        }
        func dimension(of name: String) -> Int { summary.first { $0.dataset == name }!.dimension }
        /// A summary column of one (data set, β), in seed order.
        func bySeed(_ name: String, _ beta: Double, _ v: KeyPath<SummaryRow, Double>) -> [Double] {
            summary.filter { $0.dataset == name && $0.beta == beta }.sorted { $0.seed < $1.seed }.map { $0[keyPath: v] }
        }
        /// The traced relative error (a) of one (data set, β) at a training step, in seed order.
        func curveAt(_ name: String, _ beta: Double, step: Int) -> [Double] {
            curves.filter { $0.dataset == name && $0.beta == beta && $0.step == step }.sorted { $0.seed < $1.seed }.map(\.relativeErrorSame)
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(summary: try run.readRows(SummaryRow.self, from: "summary.csv"), levels: try run.readRows(LevelRow.self, from: "levels.csv"),
                curves: try run.readRows(CurveRow.self, from: "curves.csv"),
                identity: FileManager.default.fileExists(atPath: run.file("identity.csv").path) ? try run.readRows(IdentityRow.self, from: "identity.csv") : [])
    }

    static func seedCount(of results: Results) -> Int { Set(results.summary.map(\.seed)).count }
}
