// HOE4DenoisingUncertainty: row types, the typed results, their reading and the summaries that
// the tables and the verdicts share (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HOE4DenoisingUncertainty {
    // MARK: - Rows

    static let modelDoc = "lowrank-A (low-rank r + diagonal s̃₂ head, loss DSM-VR + D2SM form A, the released code's), lowrank-B (the same head with D2SM form B, s̃₁ detached from it; issue 29) or full-mixture (full head, form A, on draws of the class-conditional digits mixture, exact Cov[x | x̃] known)"
    static let seedDoc = "seed index k (training seed = --seed + k; A and B of one k share held-out images and noise)"

    /// A row of calibration.csv: one (model, seed, comparison) of predicted against target variances.
    struct CalibrationRow: DocumentedRow {
        var model: String, seed: Int, comparison: String, pixelMeanPearson: Double, pearsonLow: Double, pearsonHigh: Double, pooledPearson: Double
        var meanTarget: Double, meanPredicted: Double, ratioPredictedToTarget: Double, ratioLow: Double, ratioHigh: Double, images: Int
        var negativeVariancesClamped: Int, negativeEigenvalues: Int, relativeFrobeniusErrorVsExact: Double?
        enum CodingKeys: String, CodingKey {
            case model, seed, comparison, pixelMeanPearson = "pixel_mean_pearson", pearsonLow = "pearson_low", pearsonHigh = "pearson_high"
            case pooledPearson = "pooled_pearson", meanTarget = "mean_target", meanPredicted = "mean_predicted"
            case ratioPredictedToTarget = "ratio_predicted_to_target", ratioLow = "ratio_low", ratioHigh = "ratio_high", images
            case negativeVariancesClamped = "negative_variances_clamped", negativeEigenvalues = "negative_eigenvalues"
            case relativeFrobeniusErrorVsExact = "relative_frobenius_error_vs_exact"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("comparison", "text", "target against predicted: squared error (x − m)² vs predicted variance diag(σ⁴s̃₂ + σ²I); exact posterior variance vs predicted (mixture only); squared error of the exact mean vs exact variance (reference, not a check)"),
            .init("pixel_mean_pearson", "1", "Pearson r across pixels between the per-pixel means over held-out images of the target and of the predicted value (the pre-audit HO-C5 sub-check, information only since issue 29: a map that ignores the image scores high)"),
            .init("pearson_low", "1", "lower end of the percentile-bootstrap 95 % interval of pixel_mean_pearson (images resampled, bootstrapResamples times)"),
            .init("pearson_high", "1", "upper end of that interval"),
            .init("pooled_pearson", "1", "Pearson r over all (image, pixel) pairs"),
            .init("mean_target", "pixels² ([0,1] scale)", "mean of the target over images and pixels"),
            .init("mean_predicted", "pixels² ([0,1] scale)", "mean of the predicted variance (negative entries clamped to 0)"),
            .init("ratio_predicted_to_target", "1", "mean_predicted / mean_target"),
            .init("ratio_low", "1", "lower end of the percentile-bootstrap 95 % interval of the ratio (images resampled)"),
            .init("ratio_high", "1", "upper end of that interval"),
            .init("images", "count", "held-out images (n)"),
            .init("negative_variances_clamped", "count", "predicted per-pixel variances below 0, clamped to 0, over all images (per model and seed; repeated on each comparison row)"),
            .init("negative_eigenvalues", "count", "negative eigenvalues of the predicted Σ (all D eigenpairs, LAPACK dsyevd) summed over images (per model and seed; repeated on each comparison row)"),
            .init("relative_frobenius_error_vs_exact", "1", "mean over images of ‖Σ̂ − Σ‖_F / ‖Σ‖_F against the exact Cov[x | x̃]; empty for the low-rank models (no exact covariance)"),
        ]
    }

    /// A row of diagnostics.csv (issue 29): one held-out image of one model and seed.
    struct DiagnosticsRow: DocumentedRow {
        var model: String, seed: Int, image: Int, predictedClampedSum: Double, predictedTrace: Double, squaredError: Double
        var lambda1: Double, lambda2: Double, noiseCosine: Double, errorAlongTop: Double, spearman: Double, spearmanImageIgnoring: Double
        var exactVarianceSum: Double?
        var spearmanExact: Double?, spearmanExactImageIgnoring: Double?
        enum CodingKeys: String, CodingKey {
            case model, seed, image, predictedClampedSum = "predicted_clamped_sum", predictedTrace = "predicted_trace", squaredError = "squared_error"
            case lambda1 = "lambda1", lambda2 = "lambda2", noiseCosine = "noise_cosine", errorAlongTop = "error_along_top", spearman
            case spearmanImageIgnoring = "spearman_image_ignoring", exactVarianceSum = "exact_variance_sum"
            case spearmanExact = "spearman_exact", spearmanExactImageIgnoring = "spearman_exact_image_ignoring"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("predicted_clamped_sum", "pixels² ([0,1] scale)", "Σ_j max(Σ_jj, 0): the clamped predicted variance map summed over pixels (numerator of the claim's ratio)"),
            .init("predicted_trace", "pixels² ([0,1] scale)", "tr Σ = Σ_j Σ_jj without clamping (numerator of the unclamped ratio)"),
            .init("squared_error", "pixels² ([0,1] scale)", "‖x − m‖², the realised squared error of the mean m = x̃ + σ²s̃₁ (denominator of both ratios)"),
            .init("lambda1", "pixels² ([0,1] scale)", "largest eigenvalue λ₁ of Σ = σ⁴s̃₂ + σ²I (LAPACK dsyevd)"),
            .init("lambda2", "pixels² ([0,1] scale)", "second largest eigenvalue λ₂ of Σ"),
            .init("noise_cosine", "1", "|cos| between λ₁'s eigenvector u₁ and the noise direction x̃ − m"),
            .init("error_along_top", "pixels² ([0,1] scale)", "(u₁ᵀ(x − m))², the realised squared error along u₁; the complement ratio is Σ(predicted_trace − lambda1) / Σ(squared_error − error_along_top)"),
            .init("spearman", "1", "Spearman rank correlation across the image's pixels between the clamped predicted variance and the realised (x − m)² (a constant map scores 0)"),
            .init("spearman_image_ignoring", "1", "the same rank correlation for a map that ignores the image: the per-pixel mean of (x − m)² over the other held-out images of this model and seed (leave one out)"),
            .init("exact_variance_sum", "pixels² ([0,1] scale)", "Σ_j of the exact posterior variance (full-mixture only; empty otherwise)"),
            .init("spearman_exact", "1", "reference (full-mixture only): Spearman ρ across pixels between the exact posterior variance and the squared error of the exact mean, what a perfect model would score"),
            .init("spearman_exact_image_ignoring", "1", "reference (full-mixture only): the same for the image-ignoring map of the exact mean's squared errors (leave one out)"),
        ]
    }

    /// A row of calibration-deciles.csv (issue 29): one predicted-variance decile of one model and seed.
    struct DecileRow: DocumentedRow {
        var model: String, seed: Int, bin: Int, pairs: Int, meanPredicted: Double, meanRealised: Double
        enum CodingKeys: String, CodingKey { case model, seed, bin, pairs, meanPredicted = "mean_predicted", meanRealised = "mean_realised" }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("bin", "index", "decile 1 … calibrationBins of the clamped predicted variance over all (image, pixel) pairs, 1 = smallest"),
            .init("pairs", "count", "(image, pixel) pairs in the bin (equal counts, the last bin takes the remainder)"),
            .init("mean_predicted", "pixels² ([0,1] scale)", "mean clamped predicted variance in the bin"),
            .init("mean_realised", "pixels² ([0,1] scale)", "mean realised (x − m)² in the bin (calibrated: equal to mean_predicted)"),
        ]
    }

    /// A row of learning-curve.csv (issue 29): the ratio at one training step of one model and seed.
    struct CurveRow: DocumentedRow {
        var model: String, seed: Int, step: Int, ratioClamped: Double, ratioUnclamped: Double, images: Int
        enum CodingKeys: String, CodingKey { case model, seed, step, ratioClamped = "ratio_clamped", ratioUnclamped = "ratio_unclamped", images }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("step", "count", "training step of the snapshot (k·steps/curvePoints rounded down to a checkpoint, and the last step); the EMA weights at that step"),
            .init("ratio_clamped", "1", "E[clamped predicted variance]/E[(x − m)²] on the held-out pairs (the claim's ratio) at that step"),
            .init("ratio_unclamped", "1", "E[diag Σ]/E[(x − m)²] without clamping at that step"),
            .init("images", "count", "held-out images"),
        ]
    }

    /// A row of structure.csv: one eigenvector of one held-out image's Σ.
    struct StructureRow: DocumentedRow {
        var model: String, seed: Int, image: Int, eigenRank: Int, strokeShare: Double, noiseCosine: Double, noiseDirection: Bool
        var randomDirectionShare: Double, weightedNullShare: Double, maskFraction: Double
        enum CodingKeys: String, CodingKey {
            case model, seed, image, eigenRank = "eigen_rank", strokeShare = "stroke_share", noiseCosine = "noise_cosine", noiseDirection = "noise_direction"
            case randomDirectionShare = "random_direction_share", weightedNullShare = "weighted_null_share", maskFraction = "mask_fraction"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("eigen_rank", "index", "rank k of the eigenvector of Σ = σ⁴s̃₂ + σ²I, 1 = largest eigenvalue"),
            .init("stroke_share", "fraction", "share of the unit eigenvector's energy (squared entries) on stroke pixels, where the clean image or the mean exceeds strokeThreshold"),
            .init("noise_cosine", "1", "|cos| between this eigenvector and the noise direction x̃ − m"),
            .init("noise_direction", "bool", "noise_cosine > noiseCosineThreshold: the eigenvector is the noise direction, reported apart and left out of HO-C6's test (issue 29)"),
            .init("random_direction_share", "fraction", "the same share averaged over randomDirections isotropic Gaussian directions for this image (the pre-audit null; repeated for every rank)"),
            .init("weighted_null_share", "fraction", "the same share averaged over randomDirections Gaussian directions with per-pixel SD ∝ √(clamped predicted variance), normalised (issue 29's null that knows the variance map; repeated for every rank)"),
            .init("mask_fraction", "fraction", "share of the image's pixels that are stroke pixels (the isotropic null's expectation)"),
        ]
    }

    /// A row of eigenvalues.csv: one eigenvalue of one held-out image's Σ.
    struct EigenvalueRow: DocumentedRow {
        var model: String, seed: Int, image: Int, eigenRank: Int, eigenvalue: Double
        enum CodingKeys: String, CodingKey { case model, seed, image, eigenRank = "eigen_rank", eigenvalue }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("eigen_rank", "index", "rank k, 1 = largest"),
            .init("eigenvalue", "pixels² ([0,1] scale)", "the k-th largest eigenvalue of Σ = σ⁴s̃₂ + σ²I (LAPACK dsyevd)"),
        ]
    }

    /// loss.csv's model columns.
    struct LossModel: LossTraceModel {
        var model: String, seed: Int
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
        ]
        static let lossDescription = "mean joint training loss σ⁴·(firstOrderWeight·DSM-VR/σ² + D2SM, form A or B) over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("calibration.csv", CalibrationRow.self, "Calibration of the predicted posterior variance per model, seed and comparison, pre-audit statistics (tables/calibration)."),
        CSVFileDoc("diagnostics.csv", DiagnosticsRow.self, "Per held-out image: predicted against realised variance in total, along the top eigenvector and on its complement; rank correlations (tables/uncertainty, HO-C5; issue 29)."),
        CSVFileDoc("calibration-deciles.csv", DecileRow.self, "Calibration curve by predicted-variance decile (figures/calibration_deciles; issue 29)."),
        CSVFileDoc("learning-curve.csv", CurveRow.self, "The variance ratio against training steps, and the stability rule's input (figures/learning_curve, tables/learning_curve; issue 29)."),
        CSVFileDoc("structure.csv", StructureRow.self, "Stroke localisation of the top eigenvectors of Σ per held-out image, their noise alignment and both nulls (tables/structure, HO-C6)."),
        CSVFileDoc("eigenvalues.csv", EigenvalueRow.self, "The top eigenvalues of Σ per held-out image (for the eigen-image grids)."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of each model and seed, averaged per interval."),
    ]

    /// The models present in `rows`, in order of first appearance.
    static func models(_ names: [String]) -> [String] { names.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }

    // MARK: - Results

    /// The typed results of a run: the rows of calibration.csv, diagnostics.csv,
    /// learning-curve.csv, calibration-deciles.csv and structure.csv, and the run's base seed
    /// (the bootstrap intervals' streams derive from it, so the same run gives the same
    /// intervals).
    struct Results {
        var calibration: [CalibrationRow]
        var diagnostics: [DiagnosticsRow]
        var curve: [CurveRow]
        var deciles: [DecileRow]
        var structure: [StructureRow]
        var seed: UInt64

        /// The seeds of diagnostics.csv, in order.
        var seeds: [Int] { Set(diagnostics.map(\.seed)).sorted() }
        /// The diagnostics rows of one model, one group per seed (seeds without rows left out).
        func groups(_ model: String, _ seeds: [Int]) -> [[DiagnosticsRow]] {
            seeds.map { s in diagnostics.filter { $0.model == model && $0.seed == s } }.filter { !$0.isEmpty }
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(calibration: try run.readRows(CalibrationRow.self, from: "calibration.csv"),
                diagnostics: try run.readRows(DiagnosticsRow.self, from: "diagnostics.csv"),
                curve: try run.readRows(CurveRow.self, from: "learning-curve.csv"),
                deciles: try run.readRows(DecileRow.self, from: "calibration-deciles.csv"),
                structure: try run.readRows(StructureRow.self, from: "structure.csv"), seed: run.options.seed)
    }

    static func seedCount(of results: Results) -> Int { results.seeds.count }

    // MARK: - Summaries (tables and verdicts)

    /// A ratio of means over groups of rows (seeds of held-out images): a two-level percentile
    /// bootstrap over seeds and images.
    static func bootstrapRatio(_ gs: [[DiagnosticsRow]], _ a: (DiagnosticsRow) -> Double, _ b: (DiagnosticsRow) -> Double, config c: Config,
                               seed: UInt64) -> Estimate {
        Stats.pairedRatioBootstrapCI(gs.map { g in (a: g.map(a), b: g.map(b)) }, resamples: c.bootstrapResamples, seed: seed)
    }

    /// A mean over groups of rows, with the same two-level bootstrap.
    static func bootstrapMean(_ gs: [[DiagnosticsRow]], _ v: (DiagnosticsRow) -> Double, config c: Config, seed: UInt64) -> Estimate {
        Stats.twoLevelMeanBootstrapCI(gs.map { $0.map(v) }, resamples: c.bootstrapResamples, seed: seed)
    }

    /// HO-C5's statistics of one model over a group of seeds (issue 29): the clamped, unclamped
    /// and complement ratios, the rank correlations, the ratio against the exact variance (the
    /// mixture model only), λ₁, λ₂ and u₁'s alignment with x̃ − m.
    struct C5Summary {
        var clamped, unclamped, complement, spearman, spearmanGain: Estimate
        var exact: Estimate?
        var lambda1, lambda2, cosine, aligned: Double
    }

    /// HO-C5's statistics of the groups `gs`; the bootstrap streams are `seed` to `seed + 5`.
    static func c5(_ gs: [[DiagnosticsRow]], config c: Config, seed: UInt64) -> C5Summary {
        func ratio(_ a: (DiagnosticsRow) -> Double, _ b: (DiagnosticsRow) -> Double, seed: UInt64) -> Estimate {
            bootstrapRatio(gs, a, b, config: c, seed: seed)
        }
        func mean(_ v: (DiagnosticsRow) -> Double, seed: UInt64) -> Estimate { bootstrapMean(gs, v, config: c, seed: seed) }
        let all = gs.flatMap { $0 }
        let hasExact = all.allSatisfy { $0.exactVarianceSum != nil }
        return C5Summary(clamped: ratio(\.predictedClampedSum, \.squaredError, seed: seed),
                         unclamped: ratio(\.predictedTrace, \.squaredError, seed: seed &+ 1),
                         complement: ratio({ $0.predictedTrace - $0.lambda1 }, { $0.squaredError - $0.errorAlongTop }, seed: seed &+ 2),
                         spearman: mean(\.spearman, seed: seed &+ 3), spearmanGain: mean({ $0.spearman - $0.spearmanImageIgnoring }, seed: seed &+ 4),
                         exact: hasExact ? ratio(\.predictedClampedSum, { $0.exactVarianceSum! }, seed: seed &+ 5) : nil,
                         lambda1: Stats.mean(all.map(\.lambda1)), lambda2: Stats.mean(all.map(\.lambda2)), cosine: Stats.mean(all.map(\.noiseCosine)),
                         aligned: Double(all.filter { $0.noiseCosine > c.noiseCosineThreshold }.count) / Double(all.count))
    }

    /// The bootstrap seed of model i's HO-C5 statistics in seed s (per-seed table rows), or
    /// pooled over seeds (`s` nil: the "all" row and the verdict).
    static func c5Seed(_ results: Results, model i: Int, seed s: Int?) -> UInt64 { results.seed &+ UInt64(100 * i + (s ?? 99)) }

    /// HO-C5's statistics of each model pooled over seeds (the "all" rows of tables/uncertainty
    /// and the HO-C5 checks).
    static func pooledC5(_ results: Results, config c: Config) -> [String: C5Summary] {
        var pooled: [String: C5Summary] = [:]
        for (mi, m) in models(results.diagnostics.map(\.model)).enumerated() {
            pooled[m] = c5(results.groups(m, results.seeds), config: c, seed: c5Seed(results, model: mi, seed: nil))
        }
        return pooled
    }

    /// The learning-curve rule (issue 29, fixed before the claim is read) per model and seed:
    /// whether the clamped ratio changed by less than the tolerance between the last two curve
    /// points, and that change.
    static func stability(_ curve: [CurveRow], config c: Config) -> [String: [Int: (stable: Bool, change: Double)]] {
        var stability: [String: [Int: (stable: Bool, change: Double)]] = [:]
        for m in models(curve.map(\.model)) {
            for s in Set(curve.filter { $0.model == m }.map(\.seed)).sorted() {
                let r = curve.filter { $0.model == m && $0.seed == s }.sorted { $0.step < $1.step }.map(\.ratioClamped)
                stability[m, default: [:]][s] = (LearningCurveRule.isStable(r, tolerance: c.stabilityTolerance), LearningCurveRule.lastChange(r))
            }
        }
        return stability
    }

    /// HO-C6's statistics of one model over all seeds (issue 29).
    struct C6Summary {
        /// Per image, the mean stroke share of the top eigenvectors that are not the noise
        /// direction − the variance-weighted null; two-level bootstrap over seeds and images.
        var test: Estimate
        /// The pre-audit statistic: the mean stroke share of all top eigenvectors − the isotropic null.
        var old: Estimate
        /// Noise-direction eigenvectors per image, and their mean stroke share.
        var noise: Double, noiseShare: Double
        /// Image-seed pairs in the test.
        var images: Int
    }

    /// HO-C6's statistics per model: per image, the mean stroke share of the top eigenvectors
    /// that are not the noise direction, against the variance-weighted null; the noise direction
    /// apart.
    static func c6(_ results: Results, config c: Config) -> [String: C6Summary] {
        let st = results.structure
        var c6: [String: C6Summary] = [:]
        for (mi, m) in models(st.map(\.model)).enumerated() {
            let rowsM = st.filter { $0.model == m }
            var test: [[Double]] = [], old: [[Double]] = []
            for s in Set(rowsM.map(\.seed)).sorted() {
                var t: [Double] = [], o: [Double] = []
                for im in Set(rowsM.filter { $0.seed == s }.map(\.image)).sorted() {
                    let rows = rowsM.filter { $0.seed == s && $0.image == im }
                    o.append(Stats.mean(rows.map(\.strokeShare)) - rows[0].randomDirectionShare)
                    let kept = rows.filter { !$0.noiseDirection }
                    if !kept.isEmpty { t.append(Stats.mean(kept.map(\.strokeShare)) - rows[0].weightedNullShare) }
                }
                if !t.isEmpty { test.append(t) }
                old.append(o)
            }
            let noise = rowsM.filter(\.noiseDirection)
            let base = results.seed &+ 7_000 &+ UInt64(mi * 10)
            c6[m] = C6Summary(
                test: test.isEmpty ? Estimate(mean: .nan, low: .nan, high: .nan, n: 0) : Stats.twoLevelMeanBootstrapCI(test, resamples: c.bootstrapResamples, seed: base),
                old: Stats.twoLevelMeanBootstrapCI(old, resamples: c.bootstrapResamples, seed: base &+ 1),
                noise: Double(noise.count) / Double(Set(rowsM.map { "\($0.seed)/\($0.image)" }).count), noiseShare: Stats.mean(noise.map(\.strokeShare)),
                images: test.map(\.count).reduce(0, +))
        }
        return c6
    }
}
