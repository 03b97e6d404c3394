// HTE6SampleQuality: row types, the typed results and their reading (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HTE6SampleQuality {
    // MARK: - Rows

    /// The sample-quality columns shared by metrics.csv and floor.csv (encoded into the
    /// enclosing row, after its own columns).
    struct QualityMetrics: Codable {
        var fdFeatures: Double, kidFeatures: Double, kidFeaturesSD: Double
        var precisionFeatures: Double, recallFeatures: Double, densityFeatures: Double, coverageFeatures: Double
        var precisionPixels: Double, recallPixels: Double, densityPixels: Double, coveragePixels: Double
        var classEntropy: Double, klToTrainingProportions: Double, nnDistanceTrainingMean: Double
        var valuesMoreThan01Outside: Int, divergedChains: Int
        enum CodingKeys: String, CodingKey {
            case fdFeatures = "fd_features", kidFeatures = "kid_features", kidFeaturesSD = "kid_features_sd", precisionFeatures = "precision_features"
            case recallFeatures = "recall_features", densityFeatures = "density_features", coverageFeatures = "coverage_features"
            case precisionPixels = "precision_pixels", recallPixels = "recall_pixels", densityPixels = "density_pixels", coveragePixels = "coverage_pixels"
            case classEntropy = "class_entropy", klToTrainingProportions = "kl_to_training_proportions"
            case nnDistanceTrainingMean = "nn_distance_training_mean", valuesMoreThan01Outside = "values_more_than_0.1_outside", divergedChains = "diverged_chains"
        }
        init(_ m: ImageSampleMetrics) {
            fdFeatures = m.features.frechetDistance; kidFeatures = m.features.kernelDistance.mean; kidFeaturesSD = m.features.kernelDistance.standardDeviation
            precisionFeatures = m.features.prdc.precision; recallFeatures = m.features.prdc.recall
            densityFeatures = m.features.prdc.density; coverageFeatures = m.features.prdc.coverage
            precisionPixels = m.pixelPRDC.precision; recallPixels = m.pixelPRDC.recall; densityPixels = m.pixelPRDC.density; coveragePixels = m.pixelPRDC.coverage
            classEntropy = m.classBalance.entropy.value; klToTrainingProportions = m.classBalance.klToReference?.value ?? .nan
            nnDistanceTrainingMean = m.nearestTraining.mean; valuesMoreThan01Outside = m.valuesFarOutsideUnitInterval; divergedChains = m.divergedChains
        }
        static let columns: [ColumnDoc] = [
            .init("fd_features", "squared feature units", "Fréchet distance to the test split in the feature space of the kit's classifier (its penultimate layer), not Inception's"),
            .init("kid_features", "squared feature units", "kernel distance (KID) in that feature space, mean over subsets"),
            .init("kid_features_sd", "squared feature units", "standard deviation of the KID over subsets"),
            .init("precision_features", "fraction", "PRDC precision (k = 5) in feature space"),
            .init("recall_features", "fraction", "PRDC recall (k = 5) in feature space"),
            .init("density_features", "1", "PRDC density (k = 5) in feature space (may exceed 1)"),
            .init("coverage_features", "fraction", "PRDC coverage (k = 5) in feature space"),
            .init("precision_pixels", "fraction", "PRDC precision on raw pixels"),
            .init("recall_pixels", "fraction", "PRDC recall on raw pixels"),
            .init("density_pixels", "1", "PRDC density on raw pixels"),
            .init("coverage_pixels", "fraction", "PRDC coverage on raw pixels"),
            .init("class_entropy", "nats", "entropy of the classifier's predicted-class histogram (log 10 is uniform)"),
            .init("kl_to_training_proportions", "nats", "KL(predicted-class proportions ‖ training-split proportions); nan when there is no reference"),
            .init("nn_distance_training_mean", "pixel values (images in [0,1])", "mean Euclidean distance to the nearest training image"),
            .init("values_more_than_0.1_outside", "count", "pixel values non-finite or outside [−0.1, 1.1] (before clamping)"),
            .init("diverged_chains", "count", "chains frozen for divergence (0 for real images)"),
        ]
    }

    /// A row of metrics.csv: the samples of one (case, seed, β).
    struct MetricsRow: DocumentedRow {
        var dataset: String, seed: Int, beta: Double, samples: Int
        var metrics: QualityMetrics
        enum CodingKeys: String, CodingKey { case dataset, seed, beta, samples }
        init(dataset: String, seed: Int, beta: Double, samples: Int, metrics: QualityMetrics) {
            self.dataset = dataset; self.seed = seed; self.beta = beta; self.samples = samples; self.metrics = metrics
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            dataset = try c.decode(String.self, forKey: .dataset); seed = try c.decode(Int.self, forKey: .seed)
            beta = try c.decode(Double.self, forKey: .beta); samples = try c.decode(Int.self, forKey: .samples)
            metrics = try QualityMetrics(from: decoder)
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(dataset, forKey: .dataset); try c.encode(seed, forKey: .seed); try c.encode(beta, forKey: .beta); try c.encode(samples, forKey: .samples)
            try metrics.encode(to: encoder)
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist (all ten classes)"),
            .init("seed", "index", "seed index k of the score network (chains of seed k share starts and noise across β)"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("samples", "count", "samples (Langevin chains, Gaussian Langevin noise, EMA weights) scored against the test split"),
        ] + QualityMetrics.columns
    }

    /// A row of floor.csv: real training images scored as if they were samples.
    struct FloorRow: DocumentedRow {
        var dataset: String, images: Int
        var metrics: QualityMetrics
        enum CodingKeys: String, CodingKey { case dataset, images }
        init(dataset: String, images: Int, metrics: QualityMetrics) { self.dataset = dataset; self.images = images; self.metrics = metrics }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            dataset = try c.decode(String.self, forKey: .dataset); images = try c.decode(Int.self, forKey: .images)
            metrics = try QualityMetrics(from: decoder)
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(dataset, forKey: .dataset); try c.encode(images, forKey: .images)
            try metrics.encode(to: encoder)
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("images", "count", "the first training images used (as many as samples per model, at most the split)"),
        ] + QualityMetrics.columns
    }

    /// A row of class_histogram.csv: one class of one (case, seed, β)'s samples.
    struct ClassHistogramRow: DocumentedRow {
        var dataset: String, seed: Int, beta: Double, `class`: Int, count: Int, proportion: Double
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("seed", "index", "seed index k"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("class", "label", "class label 0…9"),
            .init("count", "count", "samples the classifier assigns to the class"),
            .init("proportion", "fraction", "count / samples"),
        ]
    }

    /// loss.csv's model columns.
    struct LossModel: LossTraceModel {
        var dataset: String, seed: Int, beta: Double
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("seed", "index", "seed index k of the model"),
            .init("beta", "1", "GND shape β of the model's training noise"),
        ]
        static let lossDescription = "mean GND-DSM training loss over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// A row of classifiers.csv: the classifier of one case.
    struct ClassifierRow: DocumentedRow {
        var dataset: String, testAccuracy: Double
        enum CodingKeys: String, CodingKey { case dataset, testAccuracy = "test_accuracy" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("test_accuracy", "fraction", "the classifier's recorded ten-way test accuracy"),
        ]
    }

    /// A row of ratios.csv: FD(β)/FD(2) on one case.
    struct FDRatioRow: DocumentedRow {
        var dataset: String, beta: Double, seeds: Int, fdRatioToBeta2: Double, low: Double, high: Double
        enum CodingKeys: String, CodingKey { case dataset, beta, seeds, fdRatioToBeta2 = "fd_ratio_to_beta_2", low, high }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("beta", "1", "GND shape β ≠ 2 compared with β = 2"),
            .init("seeds", "count", "seeds paired (n)"),
            .init("fd_ratio_to_beta_2", "1", "geometric mean over seeds of fd_features(β) / fd_features(β = 2), paired by seed"),
            .init("low", "1", "lower end of the Student-t 95 % interval of the mean log ratio, mapped back by exp (equal to the ratio with one seed)"),
            .init("high", "1", "upper end of that interval"),
        ]
    }

    /// A row of fd_chain_bootstrap.csv: the sampling-only interval of FD(β)/FD(2) on one case.
    struct ChainBootstrapRow: DocumentedRow {
        var dataset: String, beta: Double, seeds: Int, chains: Int, resamples: Int, fdRatioToBeta2: Double, low: Double, high: Double
        enum CodingKeys: String, CodingKey { case dataset, beta, seeds, chains, resamples, fdRatioToBeta2 = "fd_ratio_to_beta_2", low, high }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("beta", "1", "GND shape β ≠ 2 compared with β = 2"),
            .init("seeds", "count", "seeds (score networks per β) whose log ratios are averaged"),
            .init("chains", "count", "samples (chains) per model, resampled with replacement"),
            .init("resamples", "count", "bootstrap resamples (a fixed constant, ours)"),
            .init("fd_ratio_to_beta_2", "1", "geometric mean over seeds of fd_features(β) / fd_features(β = 2) (as in ratios.csv)"),
            .init("low", "1", "2.5 % percentile of the ratio when each seed's chains are resampled, the same chain indices for every β; the test split held fixed: sampling variation only, not training variation"),
            .init("high", "1", "97.5 % percentile of that bootstrap"),
        ]
    }

    /// A row of comparisons.csv: one metric of one (case, β ≠ 2) against β = 2.
    struct ComparisonRow: DocumentedRow, Equatable {
        var dataset: String, beta: Double, metric: String, seeds: Int
        var meanBeta: Double, meanBeta2: Double
        var seedsBetter: Int, seedsWorse: Int, ties: Int, pBetter: Double, pWorse: Double
        var outcome: String
        enum CodingKeys: String, CodingKey {
            case dataset, beta, metric, seeds, meanBeta = "mean_beta", meanBeta2 = "mean_beta_2"
            case seedsBetter = "seeds_better", seedsWorse = "seeds_worse", ties, pBetter = "p_better", pWorse = "p_worse", outcome
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "case: digits8x8 or fashion-mnist"),
            .init("beta", "1", "GND shape β ≠ 2 compared with β = 2"),
            .init("metric", "text", "the metric (the class-entropy gap is |class_entropy − the real images' class_entropy|)"),
            .init("seeds", "count", "seeds paired (the same seed's β = 2 model)"),
            .init("mean_beta", "metric units", "mean over seeds of the metric at β"),
            .init("mean_beta_2", "metric units", "mean over seeds of the metric at β = 2"),
            .init("seeds_better", "count", "seeds where β did better than β = 2 (lower or higher, by the metric's direction)"),
            .init("seeds_worse", "count", "seeds where β did worse"),
            .init("ties", "count", "seeds with equal values (dropped by the sign test)"),
            .init("p_better", "probability", "one-sided exact sign-test p-value for β better"),
            .init("p_worse", "probability", "one-sided exact sign-test p-value for β worse"),
            .init("outcome", "text", "better / worse (p ≤ 0.05 one-sided, ours) / no difference shown / underpowered (fewer seeds than any test at 0.05 needs)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("metrics.csv", MetricsRow.self, "Sample-quality proxies per case, seed and β (tables/quality, HT-C10)."),
        CSVFileDoc("floor.csv", FloorRow.self, "The same metrics for real training images, the floor at this sample size (tables/quality)."),
        CSVFileDoc("ratios.csv", FDRatioRow.self, "Feature-space FD ratio of each β to β = 2, paired by seed (HT-C10's recorded proxy)."),
        CSVFileDoc("fd_chain_bootstrap.csv", ChainBootstrapRow.self, "The same ratio's sampling-only interval: chains resampled, paired across β (HT-C10's notes; the only interval with one seed)."),
        CSVFileDoc("comparisons.csv", ComparisonRow.self, "Each β < 2 against β = 2, per metric: per-seed exact sign tests paired by seed (tables/comparison, HT-C10's words, issue 28)."),
        CSVFileDoc("class_histogram.csv", ClassHistogramRow.self, "Predicted-class histogram of the samples per case, seed and β."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of every model, averaged per interval."),
        CSVFileDoc("classifiers.csv", ClassifierRow.self, "Test accuracy of each case's classifier (the table caption)."),
    ]

    // MARK: - Results

    /// FD(β)/FD(2) on one data set, paired by seed.
    struct RatioRow {
        var dataset: String
        var beta: Double
        var seeds: Int
        /// Geometric mean over seeds, with the interval of the mean log ratio mapped back.
        var ratio: Estimate
    }

    /// The typed results of a run: the rows of metrics.csv, floor.csv, classifiers.csv,
    /// class_histogram.csv and fd_chain_bootstrap.csv.
    struct Results {
        var metrics: [MetricsRow]
        var floors: [FloorRow]
        var classifiers: [ClassifierRow]
        var histogram: [ClassHistogramRow]
        /// Empty for a result merged before the chain bootstrap existed.
        var bootstrap: [ChainBootstrapRow]

        /// The configured cases that have rows, in the configured order.
        func cases(_ c: Config) -> [String] { c.cases.map(\.dataset.rawValue).filter { name in metrics.contains { $0.dataset == name } } }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        let metrics = try run.readRows(MetricsRow.self, from: "metrics.csv")
        let floors = try run.readRows(FloorRow.self, from: "floor.csv")
        let classifiers = try run.readRows(ClassifierRow.self, from: "classifiers.csv")
        // A result merged before the chain bootstrap existed has no fd_chain_bootstrap.csv; it
        // still re-renders, without those intervals.
        let bootstrap = FileManager.default.fileExists(atPath: run.file("fd_chain_bootstrap.csv").path)
            ? try run.readRows(ChainBootstrapRow.self, from: "fd_chain_bootstrap.csv") : []
        let histogram = try run.readRows(ClassHistogramRow.self, from: "class_histogram.csv")
        return Results(metrics: metrics, floors: floors, classifiers: classifiers, histogram: histogram, bootstrap: bootstrap)
    }

    /// The most seeds behind one FD ratio: per case and β ≠ 2, the seeds of β, when they are as
    /// many as β = 2's (`fdRatios` pairs them only then). claims.json's `seeds`.
    static func seedCount(of results: Results) -> Int {
        var most = 0
        for name in results.metrics.map(\.dataset).uniqued() {
            let rows = results.metrics.filter { $0.dataset == name }
            let reference = rows.filter { $0.beta == 2 }.count
            for b in rows.map(\.beta).uniqued() where b != 2 {
                let n = rows.filter { $0.beta == b }.count
                if n == reference { most = max(most, n) }
            }
        }
        return most
    }

    /// FD(β)/FD(2) per case and β ≠ 2, paired by seed (ratios.csv and HT-C10's checks), in the
    /// configured case and β order. A β whose seed count differs from β = 2's gets no ratio.
    static func fdRatios(_ results: Results, config c: Config) -> [RatioRow] {
        let m = results.metrics
        var ratios: [RatioRow] = []
        for name in results.cases(c) {
            let reference = m.filter { $0.dataset == name && $0.beta == 2 }.sorted { $0.seed < $1.seed }
            for b in c.betas where b != 2 {
                let idx = m.filter { $0.dataset == name && $0.beta == b }.sorted { $0.seed < $1.seed }
                guard idx.count == reference.count, !idx.isEmpty else { continue }
                let logs = Stats.meanCI(zip(idx, reference).map { log($0.0.metrics.fdFeatures / $0.1.metrics.fdFeatures) })
                ratios.append(RatioRow(dataset: name, beta: b, seeds: idx.count,
                                       ratio: Estimate(mean: exp(logs.mean), low: exp(logs.low), high: exp(logs.high), n: logs.n)))
            }
        }
        return ratios
    }
}
