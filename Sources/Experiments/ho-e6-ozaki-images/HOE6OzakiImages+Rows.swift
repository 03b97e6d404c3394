// HOE6OzakiImages: row types, the typed results and their reading (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HOE6OzakiImages {
    // MARK: - Rows

    /// A row of mixing.csv: the chains of one (seed, c, sampler, start kind).
    struct MixingRow: DocumentedRow {
        var seed: Int, stepRatio: Double, stepSize: Double, sampler: String, start: String
        var switchesPerChain: Double, switchesPer1000Steps: Double, pooledClassEntropyNats: Double, divergedChainsAllStarts: Int
        var persistentSwitchesPer1000Steps: Double, finalHistogramDistance: Double, pixelPrecisionFinal: Double
        enum CodingKeys: String, CodingKey {
            case seed, stepRatio = "step_ratio", stepSize = "step_size", sampler, start, switchesPerChain = "switches_per_chain"
            case switchesPer1000Steps = "switches_per_1000_steps", pooledClassEntropyNats = "pooled_class_entropy_nats"
            case divergedChainsAllStarts = "diverged_chains_all_starts"
            case persistentSwitchesPer1000Steps = "persistent_switches_per_1000_steps", finalHistogramDistance = "final_histogram_distance"
            case pixelPrecisionFinal = "pixel_precision_final"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k (the starts and the noise of seed k are shared by every c and both samplers)"),
            .init("step_ratio", "1", "c, the step as a multiple of σ²"),
            .init("step_size", "pixels² ([0,1] scale)", "ε = c·σ²"),
            .init("sampler", "text", "ULA or diagonal Ozaki (LangevinStepRule raw value)"),
            .init("start", "text", "start kind: \"test image\" (held-out test images) or \"noise\" (Uniform[0, 1] pixels)"),
            .init("switches_per_chain", "count", "mean over chains of class changes between consecutive records (classes of the clamped Tweedie-denoised state, every recordEvery steps)"),
            .init("switches_per_1000_steps", "count", "switches_per_chain × 1000 / steps (HO-C8's statistic)"),
            .init("pooled_class_entropy_nats", "nats", "entropy of the class histogram pooled over chains and records after step 0"),
            .init("diverged_chains_all_starts", "count", "chains of this sampler frozen for divergence, both start kinds together (repeated on both start kinds' rows)"),
            .init("persistent_switches_per_1000_steps", "count", "mean over chains of switches to a class held for persistRecords consecutive records (config), × 1000 / steps (HO-C8's statistic since issue 29)"),
            .init("final_histogram_distance", "fraction", "total-variation distance between the class histogram of these chains at the last record and the true class mix (reference_mix.csv)"),
            .init("pixel_precision_final", "fraction", "PRDC pixel precision (k = 5) of this sampler's final denoised states (both start kinds; repeated on both rows) against 1000 random training images; below the image gate's 0.5 the sampler counts as unstable at this c (issue 29)"),
        ]
    }

    /// A row of left.csv: the share of chains that have left their start class by a report step.
    struct LeftRow: DocumentedRow {
        var seed: Int, stepRatio: Double, sampler: String, start: String, step: Int, fractionLeftStartClass: Double
        enum CodingKeys: String, CodingKey {
            case seed, stepRatio = "step_ratio", sampler, start, step, fractionLeftStartClass = "fraction_left_start_class"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k"),
            .init("step_ratio", "1", "c, the step as a multiple of σ²"),
            .init("sampler", "text", "ULA or diagonal Ozaki"),
            .init("start", "text", "start kind: \"test image\" or \"noise\""),
            .init("step", "count", "report step t"),
            .init("fraction_left_start_class", "fraction", "share of chains with a recorded class other than their step-0 class at some record ≤ t"),
        ]
    }

    /// A row of chains.csv: one chain of one (seed, c, sampler, start kind). Chain j of a seed has
    /// the same start and noise stream under both samplers (HO-C8 pairs them).
    struct ChainRow: DocumentedRow {
        var seed: Int, stepRatio: Double, sampler: String, start: String, chain: Int
        var switches: Int, switchesPer1000Steps: Double, startClass: Int, finalClass: Int
        var persistentSwitches: Int, persistentSwitchesPer1000Steps: Double
        enum CodingKeys: String, CodingKey {
            case seed, stepRatio = "step_ratio", sampler, start, chain, switches, switchesPer1000Steps = "switches_per_1000_steps"
            case startClass = "start_class", finalClass = "final_class"
            case persistentSwitches = "persistent_switches", persistentSwitchesPer1000Steps = "persistent_switches_per_1000_steps"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k (starts and noise)"),
            .init("step_ratio", "1", "c, the step as a multiple of σ²"),
            .init("sampler", "text", "ULA or diagonal Ozaki"),
            .init("start", "text", "start kind: \"test image\" or \"noise\""),
            .init("chain", "index", "chain j within the start kind (same start and noise stream under both samplers)"),
            .init("switches", "count", "class changes between consecutive records of this chain"),
            .init("switches_per_1000_steps", "count", "switches × 1000 / steps (HO-C8's per-chain statistic)"),
            .init("start_class", "label", "class of the denoised state at step 0"),
            .init("final_class", "label", "class at the last record"),
            .init("persistent_switches", "count", "switches to a class that then holds for persistRecords consecutive records (config; back-and-forth flips do not count)"),
            .init("persistent_switches_per_1000_steps", "count", "persistent_switches × 1000 / steps (HO-C8's per-chain statistic since issue 29)"),
        ]
    }

    /// A row of histogram_distance.csv: how far the pooled class histogram of one sampler's
    /// chains (both start kinds) is from the true class mix at one record.
    struct DistanceRow: DocumentedRow {
        var seed: Int, stepRatio: Double, sampler: String, step: Int, histogramDistance: Double
        enum CodingKeys: String, CodingKey { case seed, stepRatio = "step_ratio", sampler, step, histogramDistance = "histogram_distance" }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k (starts and noise)"),
            .init("step_ratio", "1", "c, the step as a multiple of σ²"),
            .init("sampler", "text", "ULA or diagonal Ozaki"),
            .init("step", "count", "record step t"),
            .init("histogram_distance", "fraction", "total-variation distance between the class histogram of all chains (test-image and noise starts) at t and the true class mix (reference_mix.csv)"),
        ]
    }

    /// A row of reference_mix.csv: the true class mix, as the kit's classifier reads the test split.
    struct ReferenceMixRow: DocumentedRow {
        var `class`: Int, proportion: Double
        static let columns: [ColumnDoc] = [
            .init("class", "label", "class index"),
            .init("proportion", "fraction", "share of the test split's images the classifier assigns to the class"),
        ]
    }

    /// loss.csv: one model, no model columns.
    struct LossModel: LossTraceModel {
        static let columns: [ColumnDoc] = []
        static let lossDescription = "mean joint training loss (10·DSM-VR/σ² + D2SM-A, scaled by σ⁴) over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("mixing.csv", MixingRow.self, "Class mixing per seed, step size, sampler and start kind (tables/mixing, the HO-C8 checks)."),
        CSVFileDoc("left.csv", LeftRow.self, "Share of chains that left their start class by each report step (tables/mixing)."),
        CSVFileDoc("chains.csv", ChainRow.self, "Class switches of every chain (HO-C8's paired checks)."),
        CSVFileDoc("histogram_distance.csv", DistanceRow.self, "Distance of the pooled class histogram to the true class mix over time (figures/histogram_distance, HO-C8's notes)."),
        CSVFileDoc("reference_mix.csv", ReferenceMixRow.self, "The true class mix: the classifier's reading of the test split."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of the second-order U-Net, averaged per interval."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of mixing.csv, left.csv, chains.csv and
    /// histogram_distance.csv, and the classifier's test accuracy from config.json (quoted in the
    /// table caption and HO-C8's notes).
    struct Results {
        var mixing: [MixingRow]
        var left: [LeftRow]
        var chains: [ChainRow]
        var distances: [DistanceRow]
        /// The classifier's recorded test accuracy; nan when config.json does not hold it.
        var classifierAccuracy: Double

        /// The seeds of mixing.csv, in order.
        var seeds: [Int] { Set(mixing.map(\.seed)).sorted() }
    }

    /// Reads the run's CSVs. chains.csv (HO-C8's per-chain switches) is required: a result
    /// written before it existed is refused with the way to rebuild it.
    static func readResults(from run: RunDirectory) throws -> Results {
        let mixing = try run.readRows(MixingRow.self, from: "mixing.csv")
        let left = try run.readRows(LeftRow.self, from: "left.csv")
        guard FileManager.default.fileExists(atPath: run.file("chains.csv").path) else {
            throw ValidationFailure("\(run.file("chains.csv").path): missing (HO-C8's per-chain switches); this result predates the file: rerun with --merge-only")
        }
        let accuracy = (try? JSONDecoder().decode(RunRecordProbe.self, from: Data(contentsOf: run.file("config.json"))))?.config.classifier.testAccuracy ?? .nan
        return Results(mixing: mixing, left: left, chains: try run.readRows(ChainRow.self, from: "chains.csv"),
                       distances: try run.readRows(DistanceRow.self, from: "histogram_distance.csv"), classifierAccuracy: accuracy)
    }

    static func seedCount(of results: Results) -> Int { results.seeds.count }

    /// The part of config.json the render reads.
    struct RunRecordProbe: Decodable {
        struct Inner: Decodable { var classifier: ClassifierRecord }
        var config: Inner
    }
}
