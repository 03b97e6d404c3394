// HOE1HessianAccuracy: row types, the typed results and their reading (issue 30).
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

extension HOE1HessianAccuracy {
    // MARK: - Rows

    /// A row of head_floor.csv: how closely a rank-r + diagonal head can fit the exact s₂ at one
    /// cell's test points (issue 17; the D > fullHeadMaxDimension cells only).
    struct HeadFloorRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, rank: Int, relativeFrobenius: Double, low: Double, high: Double, testPoints: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, rank, relativeFrobenius = "relative_frobenius_floor", low, high, testPoints = "test_points"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the Gaussian-mixture ground truth whose D exceeds the full-head limit (digits-64 at full scale)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ of q_σ"),
            .init("seed", "index", "seed index k (the same test points as the cell's arms)"),
            .init("rank", "count", "r of the head UUᵀ + diag(d), U ∈ R^{D×r}"),
            .init("relative_frobenius_floor", "1", "mean over test points of ‖S − UUᵀ − diag(d)‖_F / ‖S‖_F for the exact s₂ = S, after at most \(HOE1HessianAccuracy.headFloorIterations) rounds of alternating exact fits, stopping when a round improves by less than \(HOE1HessianAccuracy.headFloorTolerance) of the residual (an upper bound on the best fit; no network involved)"),
            .init("low", "1", "lower end of the 95% t-interval of that mean over test points"),
            .init("high", "1", "upper end of that interval"),
            .init("test_points", "count", "test points x̃ ~ q_σ used: the cell's first curvePoints test points (those of curves.csv)"),
        ]
    }

    /// A row of arms.csv: one arm's s₂ estimate in one (data set, σ, seed) cell.
    struct ArmRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, arm: String, relativeFrobenius: Double, mse: Double, mseSigma4: Double
        var diagonalMSE: Double, firstOrderError: Double, stepsTrained: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, arm, relativeFrobenius = "relative_frobenius", mse, mseSigma4 = "mse_sigma4"
            case diagonalMSE = "diagonal_mse", firstOrderError = "first_order_error", stepsTrained = "steps_trained"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the Gaussian-mixture ground truth: anisotropic-2d, random-D (D dimensions, `components` components) or digits-64 (class-conditional 8×8-digits mixture)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ of q_σ"),
            .init("seed", "index", "seed index k (test points and networks of the cell)"),
            .init("arm", "text", "autodiff (symmetrised input Jacobian of the DSM-VR s̃₁), D2SM-A/-B (± -VR, s̃₁ frozen), D2SM-A-joint (trained jointly with s̃₁, the released code), or an -N<n> small-data arm (both networks on n fixed samples)"),
            .init("relative_frobenius", "1", "mean over test points x̃ ~ q_σ of ‖ŝ₂ − s₂‖_F / ‖s₂‖_F against the exact Hessian of log q_σ"),
            .init("mse", "1/data units⁴", "mean over test points of the mean squared error of the D² entries"),
            .init("mse_sigma4", "1", "mse × σ⁴ (posterior-covariance units, comparable across σ)"),
            .init("diagonal_mse", "1/data units⁴", "mean squared error of the D diagonal entries"),
            .init("first_order_error", "1", "mean over test points of ‖s̃₁ − s₁‖/‖s₁‖ of the s̃₁ this arm used"),
            .init("steps_trained", "count", "Adam steps its network (the s̃₂ head, or s̃₁ for autodiff arms) was trained (the cap, or earlier at a plateau)"),
        ]
    }

    /// A row of ratios.csv: one D2SM arm against its autodiff baseline, pooled over seeds.
    struct RatioRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, arm: String, baseline: String, ratio: Double, low: Double, high: Double, seeds: Int
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture (as arms.csv)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("arm", "text", "the D2SM arm"),
            .init("baseline", "text", "its autodiff arm (the same s̃₁, or the same n samples)"),
            .init("ratio", "1", "err(arm)/err(baseline): mean relative Frobenius errors, group means averaged over seeds"),
            .init("low", "1", "lower end of the two-level (seeds, then test points) bootstrap 95 % interval"),
            .init("high", "1", "upper end of that interval"),
            .init("seeds", "count", "seeds pooled (n)"),
        ]
    }

    /// A row of curves.csv: one arm's error at one training checkpoint.
    struct CurveRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, arm: String, step: Int, relativeFrobenius: Double
        enum CodingKeys: String, CodingKey { case dataset, dimension, sigma, seed, arm, step, relativeFrobenius = "relative_frobenius" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("arm", "text", "the arm (as arms.csv)"),
            .init("step", "count", "training step of the traced network (every steps/checkpoints steps)"),
            .init("relative_frobenius", "1", "mean relative Frobenius error of ŝ₂ on the first curvePoints test points"),
        ]
    }

    /// A row of denoising.csv: denoising errors in one cell.
    struct DenoisingRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, mseTweedie: Double, mseRegression: Double, mseBayes: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, mseTweedie = "mse_tweedie", mseRegression = "mse_regression", mseBayes = "mse_bayes"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("mse_tweedie", "data units²", "mean over test pairs of ‖x̃ + σ²s̃₁(x̃) − x‖² (the Tweedie denoiser of the trained s̃₁)"),
            .init("mse_regression", "data units²", "the same for a network regressing x on x̃ directly (same MLP and budget); nan for D > regressionMaxDimension (not trained)"),
            .init("mse_bayes", "data units²", "the same for the exact posterior mean E[x | x̃] = x̃ + σ²s₁(x̃)"),
        ]
    }

    /// A row of tweedie_identity.csv: the identity σ⁴·L_DSM = L_reg measured in one cell.
    struct IdentityRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, valueRatio: Double, gradientCoefficient: Double, gradientCosine: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, valueRatio = "value_ratio", gradientCoefficient = "gradient_coefficient", gradientCosine = "gradient_cosine"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("value_ratio", "1", "σ⁴·(the library's DSM loss of s̃₁) / (regression loss of h = x̃ + σ²s̃₁) on the first identityPairs test pairs (1 exactly)"),
            .init("gradient_coefficient", "1", "least-squares coefficient of the σ⁴-scaled DSM parameter gradient on the regression gradient (1 when equal)"),
            .init("gradient_cosine", "1", "cosine between the two parameter gradients"),
        ]
    }

    /// A row of tweedie_ratios.csv: denoising-error ratios per (data set, σ), pooled over seeds.
    struct TweedieRatioRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, ratioRegression: Double, lowRegression: Double, highRegression: Double
        var ratioBayes: Double, lowBayes: Double, highBayes: Double, seeds: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, ratioRegression = "ratio_regression", lowRegression = "low_regression", highRegression = "high_regression"
            case ratioBayes = "ratio_bayes", lowBayes = "low_bayes", highBayes = "high_bayes", seeds
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("ratio_regression", "1", "MSE(Tweedie denoiser) / MSE(direct regression network), two-level bootstrap point estimate; nan where no regression network was trained"),
            .init("low_regression", "1", "lower end of its bootstrap 95 % interval (nan as above)"),
            .init("high_regression", "1", "upper end (nan as above)"),
            .init("ratio_bayes", "1", "MSE(Tweedie denoiser) / MSE(E[x | x̃]): the oracle gap, ≥ 1 for any imperfect s̃₁"),
            .init("low_bayes", "1", "lower end of its bootstrap 95 % interval"),
            .init("high_bayes", "1", "upper end"),
            .init("seeds", "count", "seeds pooled (n)"),
        ]
    }

    /// A row of arm_verdicts.csv: HO-C2's verdict for one arm in one (data set, σ).
    struct ArmVerdictRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, arm: String, baseline: String, ratio: Double, low: Double, high: Double, verdict: String
        var firstOrderErrorArm: Double, firstOrderErrorBaseline: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, arm, baseline, ratio, low, high, verdict
            case firstOrderErrorArm = "first_order_error_arm", firstOrderErrorBaseline = "first_order_error_baseline"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture (D ≥ 10 only)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ ∈ [0.05, 0.5]"),
            .init("arm", "text", "the D2SM arm"),
            .init("baseline", "text", "its autodiff arm"),
            .init("ratio", "1", "err(arm)/err(baseline) (as ratios.csv)"),
            .init("low", "1", "lower end of the bootstrap 95 % interval"),
            .init("high", "1", "upper end"),
            .init("verdict", "text", "the check ratio < 1: supported, not supported or inconclusive"),
            .init("first_order_error_arm", "1", "mean over seeds of the relative error of the s̃₁ the arm used"),
            .init("first_order_error_baseline", "1", "the same for the baseline's s̃₁"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("arms.csv", ArmRow.self, "Error metrics of every s₂ arm per data set, σ and seed (tables/accuracy, tables/metrics, figures/error_vs_dimension)."),
        CSVFileDoc("ratios.csv", RatioRow.self, "Error ratio of each D2SM arm to its autodiff baseline with bootstrap intervals (tables/ratios, HO-C2)."),
        CSVFileDoc("arm_verdicts.csv", ArmVerdictRow.self, "HO-C2's verdict per arm (tables/arm_verdicts)."),
        CSVFileDoc("curves.csv", CurveRow.self, "s₂ error during training per arm (figures/error_vs_steps)."),
        CSVFileDoc("denoising.csv", DenoisingRow.self, "Denoising errors of the Tweedie denoiser, a direct regression network and the exact posterior mean per cell."),
        CSVFileDoc("tweedie_identity.csv", IdentityRow.self, "The DSM/regression identity measured on the trained s̃₁ per cell (HO-C1)."),
        CSVFileDoc("tweedie_ratios.csv", TweedieRatioRow.self, "Denoising-error ratios pooled over seeds (the oracle gap in HO-C1's notes)."),
        CSVFileDoc("head_floor.csv", HeadFloorRow.self, "How closely the rank-r + diagonal s̃₂ head can fit the exact s₂ at all, per low-rank cell (HO-C2's notes)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of arms.csv, ratios.csv, tweedie_ratios.csv,
    /// curves.csv, tweedie_identity.csv and head_floor.csv.
    struct Results {
        var arms: [ArmRow]
        var ratios: [RatioRow]
        var tweedieRatios: [TweedieRatioRow]
        var curves: [CurveRow]
        var identity: [IdentityRow]
        /// Empty for a result committed before the head-floor unit group existed: it still
        /// re-renders (without the floor) until a rerun computes that group.
        var headFloors: [HeadFloorRow]

        /// The data sets, by dimension.
        var dataSets: [String] {
            var names: [String] = []
            for r in arms where !names.contains(r.dataset) { names.append(r.dataset) }
            return names.sorted { dimension(of: $0) < dimension(of: $1) }
        }
        func dimension(of name: String) -> Int { arms.first { $0.dataset == name }!.dimension }
        /// The arms in the order arms.csv lists them.
        var armOrder: [String] {
            var order: [String] = []
            for r in arms where !order.contains(r.arm) { order.append(r.arm) }
            return order
        }
        func armRows(_ n: String, _ s: Double, _ arm: String) -> [ArmRow] { arms.filter { $0.dataset == n && $0.sigma == s && $0.arm == arm } }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        let arms = try run.readRows(ArmRow.self, from: "arms.csv")
        let ratios = try run.readRows(RatioRow.self, from: "ratios.csv")
        let tw = try run.readRows(TweedieRatioRow.self, from: "tweedie_ratios.csv")
        let cv = try run.readRows(CurveRow.self, from: "curves.csv")
        let floors = FileManager.default.fileExists(atPath: run.file("head_floor.csv").path)
            ? try run.readRows(HeadFloorRow.self, from: "head_floor.csv") : []
        let ident = try run.readRows(IdentityRow.self, from: "tweedie_identity.csv")
        return Results(arms: arms, ratios: ratios, tweedieRatios: tw, curves: cv, identity: ident, headFloors: floors)
    }

    static func seedCount(of results: Results) -> Int { results.ratios.first?.seeds ?? 0 }
}
