// HTE5ClassBalance: row types, the typed results and their reading (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HTE5ClassBalance {
    // MARK: - Rows

    /// A row of balance.csv (typed CSV rows, issue 12: the header is these names).
    struct BalanceRow: DocumentedRow {
        var seed: Int
        var beta: Double
        var langevinNoise: String
        var samples: Int
        var minoritySamples: Int
        var minorityFraction: Double
        var minorityLow: Double
        var minorityHigh: Double
        var entropyTwoClass: Double
        var klToUniform: Double
        var klToTraining: Double
        var otherClassFraction: Double
        var divergedChains: Int
        var entropyTenClass: Double

        enum CodingKeys: String, CodingKey {
            case seed, beta, langevinNoise = "langevin_noise", samples, minoritySamples = "minority_samples"
            case minorityFraction = "minority_fraction", minorityLow = "minority_low", minorityHigh = "minority_high"
            case entropyTwoClass = "entropy_two_class", klToUniform = "kl_to_uniform", klToTraining = "kl_to_training"
            case otherClassFraction = "other_class_fraction", divergedChains = "diverged_chains", entropyTenClass = "entropy_ten_class"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k (models and chains of seed k use base seed + k; the arms of one seed share every stream but the training-noise shape)"),
            .init("beta", "1", "GND shape β of the score network's training noise"),
            .init("langevin_noise", "text", "Langevin-noise arm: gaussian (z ~ N(0, I), the released code; the primary test) or gnd-unscaled (z from GND(β) at unit scale)"),
            .init("samples", "count", "samples (chains) drawn"),
            .init("minority_samples", "count", "samples the classifier, its decision restricted to the minority and majority classes, assigns to the minority class"),
            .init("minority_fraction", "fraction", "minority_samples / samples"),
            .init("minority_low", "fraction", "lower end of the Wilson 95 % interval of minority_fraction (within this seed)"),
            .init("minority_high", "fraction", "upper end of the Wilson 95 % interval"),
            .init("entropy_two_class", "nats", "entropy of the two-class histogram (1 − f, f), f = minority_fraction; log 2 is balanced"),
            .init("kl_to_uniform", "nats", "KL((1 − f, f) ‖ (½, ½))"),
            .init("kl_to_training", "nats", "KL((1 − f, f) ‖ the training split's two-class proportions)"),
            .init("other_class_fraction", "fraction", "share of samples whose ten-way predicted label is neither class"),
            .init("diverged_chains", "count", "chains frozen for a non-finite value or one beyond the sampler's bound"),
            .init("entropy_ten_class", "nats", "entropy of the ten-way predicted-class histogram"),
        ]
    }

    /// A row of quality.csv: sample-quality metrics of one (seed, β, arm) against the reference set.
    struct QualityRow: DocumentedRow {
        var seed: Int, beta: Double, langevinNoise: String
        var fdFeatures: Double, kidFeatures: Double, precisionFeatures: Double, recallFeatures: Double, densityFeatures: Double, coverageFeatures: Double
        var precisionPixels: Double, recallPixels: Double, densityPixels: Double, coveragePixels: Double
        var nnDistanceSamplesMean: Double, nnDistanceReferenceMean: Double, valuesMoreThan01Outside: Int
        enum CodingKeys: String, CodingKey {
            case seed, beta, langevinNoise = "langevin_noise", fdFeatures = "fd_features", kidFeatures = "kid_features"
            case precisionFeatures = "precision_features", recallFeatures = "recall_features", densityFeatures = "density_features"
            case coverageFeatures = "coverage_features", precisionPixels = "precision_pixels", recallPixels = "recall_pixels"
            case densityPixels = "density_pixels", coveragePixels = "coverage_pixels", nnDistanceSamplesMean = "nn_distance_samples_mean"
            case nnDistanceReferenceMean = "nn_distance_reference_mean", valuesMoreThan01Outside = "values_more_than_0.1_outside"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("langevin_noise", "text", "Langevin-noise arm (gaussian or gnd-unscaled)"),
            .init("fd_features", "squared feature units", "Fréchet distance between samples and reference images in the classifier's feature space"),
            .init("kid_features", "squared feature units", "kernel inception distance (mean over subsets) in the classifier's feature space"),
            .init("precision_features", "fraction", "PRDC precision (k = 5) in feature space"),
            .init("recall_features", "fraction", "PRDC recall (k = 5) in feature space"),
            .init("density_features", "1", "PRDC density (k = 5) in feature space (may exceed 1)"),
            .init("coverage_features", "fraction", "PRDC coverage (k = 5) in feature space"),
            .init("precision_pixels", "fraction", "PRDC precision on raw pixels"),
            .init("recall_pixels", "fraction", "PRDC recall on raw pixels"),
            .init("density_pixels", "1", "PRDC density on raw pixels"),
            .init("coverage_pixels", "fraction", "PRDC coverage on raw pixels"),
            .init("nn_distance_samples_mean", "pixel values (images in [0,1])", "mean Euclidean distance from a sample to its nearest training image"),
            .init("nn_distance_reference_mean", "pixel values (images in [0,1])", "the same for the reference images (the baseline for memorisation)"),
            .init("values_more_than_0.1_outside", "count", "sample pixel values non-finite or outside [−0.1, 1.1] (before clamping)"),
        ]
    }

    /// loss.csv's model columns.
    struct LossModel: LossTraceModel {
        var seed: Int, beta: Double
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k of the model"),
            .init("beta", "1", "GND shape β of the model's training noise"),
        ]
        static let lossDescription = "mean GND-DSM training loss over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// A row of classifier.csv: one quantity about the classifier and the data.
    struct ClassifierRow: DocumentedRow {
        var quantity: String
        var value: CSVNumber
        static let columns: [ColumnDoc] = [
            .init("quantity", "text", "ten_way_test_accuracy_all_classes (the classifier's recorded test accuracy on all ten classes), ten_way_accuracy_reference_set, restricted_accuracy_reference_set (decision restricted to the two classes), reference_minority_fraction_true, reference_minority_fraction_classified (restricted decision), training_minority_fraction, training_images, reference_images"),
            .init("value", "fraction or count", "the quantity's value: accuracies and fractions in [0, 1], training_images and reference_images counts of images"),
        ]
    }

    /// A row of summary.csv: one (arm, β) over seeds.
    struct SummaryRow: DocumentedRow {
        var langevinNoise: String, beta: Double, seeds: Int, minorityFraction: Double, minorityLow: Double, minorityHigh: Double
        var entropyTwoClass: Double, entropyLow: Double, entropyHigh: Double, klToUniform: Double, klToTraining: Double
        var otherClassFraction: Double, divergedChains: Double
        enum CodingKeys: String, CodingKey {
            case langevinNoise = "langevin_noise", beta, seeds, minorityFraction = "minority_fraction", minorityLow = "minority_low"
            case minorityHigh = "minority_high", entropyTwoClass = "entropy_two_class", entropyLow = "entropy_low", entropyHigh = "entropy_high"
            case klToUniform = "kl_to_uniform", klToTraining = "kl_to_training", otherClassFraction = "other_class_fraction", divergedChains = "diverged_chains"
        }
        static let columns: [ColumnDoc] = [
            .init("langevin_noise", "text", "Langevin-noise arm (gaussian or gnd-unscaled)"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("seeds", "count", "seeds averaged (n)"),
            .init("minority_fraction", "fraction", "mean over seeds of balance.csv's minority_fraction"),
            .init("minority_low", "fraction", "lower end of the Student-t 95 % interval over seeds (equal to the mean with one seed)"),
            .init("minority_high", "fraction", "upper end of that interval"),
            .init("entropy_two_class", "nats", "mean over seeds of the two-class entropy"),
            .init("entropy_low", "nats", "lower end of its Student-t 95 % interval over seeds"),
            .init("entropy_high", "nats", "upper end of that interval"),
            .init("kl_to_uniform", "nats", "mean over seeds of KL(two-class ‖ uniform)"),
            .init("kl_to_training", "nats", "mean over seeds of KL(two-class ‖ training proportions)"),
            .init("other_class_fraction", "fraction", "mean over seeds of the share of samples of neither class"),
            .init("diverged_chains", "count", "diverged chains summed over seeds (written as a number)"),
        ]
    }

    /// A row of paired.csv: a β < 2 arm against β = 2, paired by seed.
    struct PairedRow: DocumentedRow {
        var langevinNoise: String, beta: Double, seeds: Int
        var minorityDifference: Double, minorityDifferenceLow: Double, minorityDifferenceHigh: Double
        var entropyGapDifference: Double, entropyGapDifferenceLow: Double, entropyGapDifferenceHigh: Double
        enum CodingKeys: String, CodingKey {
            case langevinNoise = "langevin_noise", beta, seeds, minorityDifference = "minority_difference"
            case minorityDifferenceLow = "minority_difference_low", minorityDifferenceHigh = "minority_difference_high"
            case entropyGapDifference = "entropy_gap_difference", entropyGapDifferenceLow = "entropy_gap_difference_low"
            case entropyGapDifferenceHigh = "entropy_gap_difference_high"
        }
        static let columns: [ColumnDoc] = [
            .init("langevin_noise", "text", "Langevin-noise arm (gaussian or gnd-unscaled)"),
            .init("beta", "1", "GND shape β < 2 of the arm compared with β = 2"),
            .init("seeds", "count", "seeds paired (n)"),
            .init("minority_difference", "fraction", "mean over seeds of minority_fraction(β) − minority_fraction(β = 2)"),
            .init("minority_difference_low", "fraction", "lower end of its Student-t 95 % interval (not Bonferroni-widened; claims.json widens it)"),
            .init("minority_difference_high", "fraction", "upper end of that interval"),
            .init("entropy_gap_difference", "nats", "mean over seeds of |H(β) − log 2| − |H(2) − log 2|, H the two-class entropy (negative: β closer to balanced)"),
            .init("entropy_gap_difference_low", "nats", "lower end of its Student-t 95 % interval"),
            .init("entropy_gap_difference_high", "nats", "upper end of that interval"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("balance.csv", BalanceRow.self, "Class balance of the samples per seed, β and Langevin-noise arm (the classifier's decision restricted to the two classes)."),
        CSVFileDoc("quality.csv", QualityRow.self, "Sample-quality metrics per seed, β and arm against the reference (test) set."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of each (seed, β) model, averaged per interval."),
        CSVFileDoc("classifier.csv", ClassifierRow.self, "The classifier's accuracies and the data's minority fractions and sizes (the table caption and the reference lines)."),
        CSVFileDoc("summary.csv", SummaryRow.self, "Per arm and β, means over seeds with Student-t intervals (tables/balance, figures/balance_vs_beta)."),
        CSVFileDoc("paired.csv", PairedRow.self, "Paired-by-seed differences of each β < 2 against β = 2 (the HT-C9 checks)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of balance.csv, classifier.csv and quality.csv.
    struct Results {
        var balance: [BalanceRow]
        var classifier: [ClassifierRow]
        var quality: [QualityRow]

        /// A quantity of classifier.csv; nan when it is absent.
        func classifierValue(_ name: String) -> Double { classifier.first { $0.quantity == name }?.value.value ?? .nan }
        /// The training split's minority fraction.
        var trainingFraction: Double { classifierValue("training_minority_fraction") }
        /// The seeds of balance.csv, in order.
        var seeds: [Int] { Array(Set(balance.map(\.seed))).sorted() }
        /// The configured Langevin-noise arms that have rows, in the configured order.
        func arms(_ c: Config) -> [String] { c.langevinArms.filter { a in balance.contains { $0.langevinNoise == a } } }
        /// The rows of one (arm, β), in seed order.
        func rows(_ a: String, _ bb: Double) -> [BalanceRow] {
            balance.filter { $0.langevinNoise == a && $0.beta == bb }.sorted { $0.seed < $1.seed }
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(balance: try run.readRows(BalanceRow.self, from: "balance.csv"), classifier: try run.readRows(ClassifierRow.self, from: "classifier.csv"),
                quality: try run.readRows(QualityRow.self, from: "quality.csv"))
    }

    static func seedCount(of results: Results) -> Int { results.seeds.count }

    /// One (arm, β) over seeds: a row of summary.csv, the table and the figure.
    struct Summary {
        var arm: String, beta: Double, seeds: Int, fraction: Estimate, entropy: Estimate
        var klUniform: Double, klTraining: Double, other: Double, diverged: Double
    }

    /// A β < 2 arm against β = 2, paired by seed.
    struct PairedDifference {
        var arm: String
        var beta: Double
        var seeds: Int
        /// minority(β) − minority(2).
        var minority: Estimate
        /// |H(β) − log 2| − |H(2) − log 2|.
        var entropyGap: Estimate
    }

    /// Summary per (β, arm) over seeds, and paired differences against β = 2 (the HT-C9 checks,
    /// paired.csv), in the configured arm and β order. A β whose seed count differs from β = 2's
    /// gets no paired difference.
    static func summarise(_ results: Results, config c: Config) -> (summaries: [Summary], pairs: [PairedDifference]) {
        let arms = results.arms(c)
        func rows(_ a: String, _ bb: Double) -> [BalanceRow] { results.rows(a, bb) }
        var summaries: [Summary] = [], pairs: [PairedDifference] = []
        for a in arms {
            for bb in c.betas {
                let idx = rows(a, bb)
                guard !idx.isEmpty else { continue }
                summaries.append(Summary(arm: a, beta: bb, seeds: idx.count, fraction: Stats.meanCI(idx.map(\.minorityFraction)),
                                         entropy: Stats.meanCI(idx.map(\.entropyTwoClass)), klUniform: Stats.mean(idx.map(\.klToUniform)),
                                         klTraining: Stats.mean(idx.map(\.klToTraining)), other: Stats.mean(idx.map(\.otherClassFraction)),
                                         diverged: Double(idx.map(\.divergedChains).reduce(0, +))))
            }
            let reference = rows(a, 2)
            for bb in c.betas where bb < 2 {
                let idx = rows(a, bb)
                // Paired by seed: both in seed order, and the same seeds (not only as many).
                guard idx.map(\.seed) == reference.map(\.seed), !idx.isEmpty else { continue }
                pairs.append(PairedDifference(
                    arm: a, beta: bb, seeds: idx.count,
                    minority: Stats.meanCI(zip(idx, reference).map { $0.0.minorityFraction - $0.1.minorityFraction }),
                    entropyGap: Stats.meanCI(zip(idx, reference).map { abs($0.0.entropyTwoClass - log(2.0)) - abs($0.1.entropyTwoClass - log(2.0)) })))
            }
        }
        return (summaries, pairs)
    }
}
