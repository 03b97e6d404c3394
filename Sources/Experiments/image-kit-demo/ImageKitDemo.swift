/// image-kit-demo: the image kit end to end at a size CI can afford (issue 14). It loads the 8×8
/// digits classifier (data/classifiers/digits8x8.h5, `make classifiers` or the Makefile's file
/// target), trains a tiny U-Net score network with GND-DSM on the 8×8 digits (checkpoints in
/// the run's models folder: an interrupted run resumes from the last one), samples with
/// annealed Langevin using the EMA weights, and writes a sample grid (PNG + JSON sidecar) and the
/// sample metrics (classifier-feature FD/KID/PRDC, pixel PRDC, class histogram, nearest-training
/// distances). It tests no claim; it shows that the pieces work together and how long each takes.
///
/// Outputs (results/<scale>/image-kit-demo/): metrics.csv, metrics.json, class_histogram.csv,
/// samples.csv, loss.csv, timings.json, images/samples.{png,json},
/// images/training-examples.{png,json}, models/score-network.h5, tables/metrics.{md,tex},
/// config.json.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

@main
struct ImageKitDemo: Experiment {
    static let experimentID = "image-kit-demo"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "Image kit demo: train a tiny score network on the 8×8 digits, sample, write a grid and the sample metrics.")

    @OptionGroup var options: ExperimentOptions
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: ScaleHelp.override("Override the training steps.", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), parsing: .unconditional, help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the number of samples.", quick: Config.quick.samples, full: Config.full.samples)) var samples: Int?
    @Option(help: "Classifier checkpoint (default: data/classifiers/digits8x8.h5).") var classifier: String?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the smallest noise level σ_min.", quick: Config.quick.sigmaMin, full: Config.full.sigmaMin)) var sigmaMin: Double?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override Adam's learning rate.", quick: Config.quick.learningRate, full: Config.full.learningRate)) var learningRate: Double?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the U-Net width (base channels, a multiple of 8).", quick: Config.quick.baseChannels, full: Config.full.baseChannels)) var width: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 27: one name per meaning).
    @Option(name: .customLong("base-channels"), parsing: .unconditional, help: .hidden) var baseChannelsAlias: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the EMA decay of the evaluated weights.", quick: Config.quick.emaDecay, full: Config.full.emaDecay)) var ema: Double?
    @Flag(inversion: .prefixedNo, help: ScaleHelp.emaBiasCorrection(quick: Config.quick.emaBiasCorrected, full: Config.full.emaBiasCorrected)) var emaBiasCorrection: Bool?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the training minibatch size.", quick: Config.quick.batchSize, full: Config.full.batchSize)) var batch: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the Langevin step ratio ε/σ_L².", quick: Config.quick.stepRatio, full: Config.full.stepRatio)) var stepRatio: Double?
    @Option(name: .customLong("langevin-steps"), parsing: .unconditional, help: ScaleHelp.override("Override the Langevin steps per noise level T.", quick: Config.quick.stepsPerLevel, full: Config.full.stepsPerLevel)) var langevinStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps-per-level"), parsing: .unconditional, help: .hidden) var stepsPerLevelAlias: Int?
    var stepsPerLevel: Int? { langevinStepsOption ?? stepsPerLevelAlias }

    struct Config: Codable {
        var dataset = DatasetName.digits8x8
        var classifier = ImageClassifier.path(for: .digits8x8)
        var baseChannels = 16
        var beta = 2.0
        var noiseLevelRule = NoiseLevelRule.ncsnv2
        var sigmaMin = 0.01
        /// 1200 steps and T = 20 (issue 15's diagnosis): with 600 steps the samples are blurred
        /// strokes, and with T = 5 the chains do not settle at each level (speckle noise).
        var steps = 1200
        var batchSize = 64
        var learningRate = 1e-3
        /// 0.99, not NCSNv2's 0.999: the average starts at the initial weights and keeps
        /// decay^steps of them (0.999^1200 = 0.30; 0.99^1200 ≈ 6e-6).
        var emaDecay = 0.99
        /// Bias-corrected EMA (issue 27): on at the quick scale; nil (the plain average) at the
        /// full scale until it is rerun with the image kit's budget.
        var emaBiasCorrected: Bool? = nil
        var checkpointEvery = 100
        var samples = 100
        var samplingBatch = 100
        /// ε/σ_L²: the Langevin step at level i is ε_i = ε·σ_i²/σ_L² = stepRatio·σ_i² (NCSNv2's
        /// rule, with ε set relative to the last level so that it does not depend on σ_min).
        var stepRatio = 0.2
        var stepsPerLevel = 20
        var langevinNoise = LangevinNoise.gaussian
        var finalDenoise = true

        static let quick: Config = {
            var c = Config()
            c.emaBiasCorrected = true
            return c
        }()
        static let full: Config = {
            var c = Config()
            c.baseChannels = 32
            c.steps = 5000
            c.emaDecay = 0.999
            c.checkpointEvery = 500
            c.samples = 1000
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let s = steps { c.steps = s }
        if let s = samples { c.samples = s }
        if let p = classifier { c.classifier = p }
        if let v = sigmaMin { c.sigmaMin = v }
        if let v = learningRate { c.learningRate = v }
        if let v = width ?? baseChannelsAlias { c.baseChannels = v }
        if let v = ema { c.emaDecay = v }
        if let v = emaBiasCorrection { c.emaBiasCorrected = v }
        if let v = batch { c.batchSize = v }
        if let v = stepRatio { c.stepRatio = v }
        if let v = stepsPerLevel { c.stepsPerLevel = v }
        return c
    }

    func validate() throws {
        try Validate.trainSteps(steps)
        try Validate.prdcSamples(samples, imagePixels: 64, trainingImages: 1797)
        try Validate.nonEmpty(classifier, option: "--classifier")
        if let v = sigmaMin { try Validate.sigma(v, option: "--sigma-min") }
        if let v = learningRate, !(v > 0 && v < 1) { throw ValidationError("--learning-rate must be in (0, 1), got \(v)") }
        try Validate.width(width)
        try Validate.width(baseChannelsAlias, option: "--base-channels")
        try Validate.ema(ema)
        try Validate.batch(batch)
        if let v = stepRatio, !(v > 0 && v < 2) { throw ValidationError("--step-ratio must be in (0, 2), got \(v)") }
        try Validate.langevinSteps(stepsPerLevel)
    }

    /// Seconds since `start`.
    static func seconds(since start: Date) -> Double { Date().timeIntervalSince(start) }

    func compute(in run: RunDirectory) throws {
        let c = config
        var timings: [String: Double] = [:]
        var t = Date()
        let classifierURL = URL(fileURLWithPath: c.classifier)
        let classifier = try ImageClassifier.load(from: classifierURL, dataset: c.dataset.rawValue)
        try DataFileLog.shared.record(path: c.classifier)
        let train = try ImageDataset.load(path: c.dataset.path, split: .train)
        let test = try ImageDataset.load(path: c.dataset.path, split: .test)
        timings["load classifier and data"] = Self.seconds(since: t)

        t = Date()
        let levels = try ImageNoiseLevels.choose(rule: c.noiseLevelRule, images: train.images, beta: c.beta, sigmaMin: c.sigmaMin)
        let training = ImageScoreTrainingConfig(
            baseChannels: c.baseChannels, height: train.height, width: train.width, beta: c.beta, levels: levels, steps: c.steps,
            batchSize: c.batchSize, learningRate: c.learningRate, emaDecay: c.emaDecay, emaBiasCorrected: c.emaBiasCorrected, checkpointEvery: c.checkpointEvery,
            seed: options.seed)
        timings["noise levels"] = Self.seconds(since: t)
        log("\(Self.experimentID): \(levels.description)")

        t = Date()
        let summary = try run.units("train", count: 1, key: { _ in "score-network" }) { _ in
            try run.trainImageScoreModel("score-network", config: training, data: train.images)
        }[0]
        let model = try run.loadImageScoreModel("score-network", config: training)
        timings["train score network"] = Self.seconds(since: t)

        // Score quality per level: Tweedie denoising x̃ + σ²s(x̃, σ) of test images with Gaussian
        // noise, mean squared error per pixel against the clean images and against σ² (the error
        // of returning x̃ itself).
        t = Date()
        // As many images as one sampling batch: the network's oneDNN primitives are made once per
        // batch shape, so the check and the sampler share them.
        let probe = test.images.gatherRows(Array(0..<min(100, c.samples, c.samplingBatch, test.count)))
        var denoisingRows: [DenoisingRow] = []
        var noiseRNG = Xoshiro256(seed: options.seed, key: [0x6465_6E6F])
        var score = Tensor<Float>(shape: [0])
        for (i, sigma) in levels.sigmas.enumerated() {
            var noisy = probe
            for k in 0..<noisy.count { noisy.scalars[k] += Float(sigma * noiseRNG.nextNormal()) }
            model.score(noisy, level: i, into: &score)
            var mse = 0.0
            for k in 0..<noisy.count {
                let e = Double(noisy.scalars[k]) + sigma * sigma * Double(score.scalars[k]) - Double(probe.scalars[k])
                mse += e * e
            }
            mse /= Double(noisy.count)
            denoisingRows.append(DenoisingRow(level: i, sigma: sigma, tweedieMSEPerPixel: mse, noisyMSEPerPixel: sigma * sigma))
        }
        try run.writeRows(denoisingRows, to: "denoising.csv")
        timings["denoising check"] = Self.seconds(since: t)

        t = Date()
        let sigmaL = levels.sigmas[levels.sigmas.count - 1]
        let sampling = ImageSamplingConfig(stepSize: c.stepRatio * sigmaL * sigmaL, stepsPerLevel: c.stepsPerLevel, noise: c.langevinNoise,
                                           finalDenoise: c.finalDenoise, batchSize: c.samplingBatch)
        let progress = Progress("sampling", total: c.samples)
        let samples = try run.units("sample", count: 1, key: { _ in "chains" }) { _ in
            ImageSampler.sample(model: model, config: sampling, count: c.samples, seed: options.seed, progress: progress)
        }[0]
        timings["sample"] = Self.seconds(since: t)

        t = Date()
        var trainingCounts = [Double](repeating: 0, count: train.classes)
        for l in train.labels { trainingCounts[Int(l)] += 1 }
        let metrics = try ImageSampleMetrics.evaluate(samples: samples, reference: test.images, training: train.images,
                                                      classifier: classifier, trainingProportions: trainingCounts)
        timings["metrics"] = Self.seconds(since: t)

        t = Date()
        try run.writeRows(metrics.metricRows, to: "metrics.csv")
        try run.writeJSON(metrics, to: "metrics.json")
        let total = trainingCounts.reduce(0, +)
        try run.writeRows((0..<train.classes).map { k in
            ClassHistogramRow(class: k, count: metrics.classBalance.counts[k], proportion: metrics.classBalance.proportions[k],
                              trainingProportion: trainingCounts[k] / total)
        }, to: "class_histogram.csv")
        try run.writeRows((0..<c.samples).map { i in
            SampleRow(chain: i, predictedClass: metrics.predictedClasses[i], nnDistanceTraining: metrics.nearestTrainingDistances[i],
                      divergedAtStep: samples.divergence.frozenAtStep[i])
        }, to: "samples.csv")
        try run.writeRows(LossRow.rows(summary.lossTrace, every: c.checkpointEvery, steps: c.steps, model: LossModel()), to: "loss.csv")

        // Grids: samples (clamped to [0, 1]) and, for comparison, training images.
        let columns = min(10, c.samples)
        let shown = (c.samples / columns) * columns
        let clamped = samples.clamped().images.gatherRows(Array(0..<shown))
        let sampleGrid = LabelledImageGrid(
            rows: GridAxis(name: "chains", labels: (0..<(shown / columns)).map { "\($0 * columns)-\($0 * columns + columns - 1)" }),
            columns: GridAxis(name: "chain offset", labels: (0..<columns).map(String.init)),
            panelHeight: train.height, panelWidth: train.width,
            title: "annealed Langevin samples (EMA weights, \(c.steps) training steps, β = \(c.beta)); predicted classes in samples.csv")
        try run.writeLabelledGrid(clamped, grid: sampleGrid, name: "samples")
        let examples = min(shown, train.count)
        let trainingGrid = LabelledImageGrid(
            rows: GridAxis(name: "training images", labels: (0..<(examples / columns)).map { "\($0 * columns)-\($0 * columns + columns - 1)" }),
            columns: GridAxis(name: "offset", labels: (0..<columns).map(String.init)),
            panelHeight: train.height, panelWidth: train.width, title: "the first training images, for comparison")
        try run.writeLabelledGrid(train.images.gatherRows(Array(0..<(examples / columns * columns))), grid: trainingGrid, name: "training-examples")
        try run.publishModels()
        timings["write outputs"] = Self.seconds(since: t)

        try run.writeJSON(timings, to: "timings.json")
        struct Record: Encodable {
            var demo: Config
            var training: ImageScoreTrainingConfig
            var sampling: ImageSamplingConfig
            var classifier: ClassifierRecord
            var trainingResumedFromStep: Int
        }
        try run.writeConfig(Record(demo: c, training: training, sampling: sampling, classifier: classifier.record,
                                   trainingResumedFromStep: summary.resumedFromStep))
        for (part, s) in timings.sorted(by: { $0.value > $1.value }) { log(String(format: "%@: %@ took %.1f s", Self.experimentID, part, s)) }
    }

    // MARK: - Rows

    /// A row of denoising.csv: Tweedie denoising of test images at one noise level.
    struct DenoisingRow: DocumentedRow {
        var level: Int, sigma: Double, tweedieMSEPerPixel: Double, noisyMSEPerPixel: Double
        enum CodingKeys: String, CodingKey {
            case level, sigma, tweedieMSEPerPixel = "tweedie_mse_per_pixel", noisyMSEPerPixel = "noisy_mse_per_pixel"
        }
        static let columns: [ColumnDoc] = [
            .init("level", "index", "noise-level index i of the score network (0 = the largest σ)"),
            .init("sigma", "pixels in [0,1]", "the level's noise standard deviation σ_i (Gaussian noise added to the probe images)"),
            .init("tweedie_mse_per_pixel", "pixels² ([0,1] scale)", "mean over pixels and probe images of (x̃ + σ²·s_θ(x̃, σ) − x)², x̃ the noised test image"),
            .init("noisy_mse_per_pixel", "pixels² ([0,1] scale)", "σ², the expected error of returning x̃ itself (the baseline)"),
        ]
    }

    /// A row of class_histogram.csv: one class of the classifier's predictions on the samples.
    struct ClassHistogramRow: DocumentedRow {
        var `class`: Int, count: Int, proportion: Double, trainingProportion: Double
        enum CodingKeys: String, CodingKey { case `class`, count, proportion, trainingProportion = "training_proportion" }
        static let columns: [ColumnDoc] = [
            .init("class", "label", "class label 0…9 (digit)"),
            .init("count", "count", "samples the classifier assigns to the class"),
            .init("proportion", "fraction", "count / samples"),
            .init("training_proportion", "fraction", "share of the class in the training split"),
        ]
    }

    /// A row of samples.csv: one Langevin chain.
    struct SampleRow: DocumentedRow {
        var chain: Int, predictedClass: Int, nnDistanceTraining: Double, divergedAtStep: Int?
        enum CodingKeys: String, CodingKey {
            case chain, predictedClass = "predicted_class", nnDistanceTraining = "nn_distance_training", divergedAtStep = "diverged_at_step"
        }
        static let columns: [ColumnDoc] = [
            .init("chain", "index", "chain index (row of images/samples.png, 10 per row)"),
            .init("predicted_class", "label", "the classifier's predicted class of the final sample"),
            .init("nn_distance_training", "pixel values (images in [0,1])", "Euclidean distance of the sample to its nearest training image"),
            .init("diverged_at_step", "count", "global Langevin step (0-based over all levels) at which the chain was frozen for a non-finite value or one beyond the bound; empty when it never diverged"),
        ]
    }

    /// loss.csv: one model, no model columns.
    struct LossModel: LossTraceModel {
        static let columns: [ColumnDoc] = []
        static let lossDescription = "mean GND-DSM training loss over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("denoising.csv", DenoisingRow.self, "Score quality per noise level: Tweedie denoising error of test images against the noisy input's."),
        CSVFileDoc("metrics.csv", ImageMetricRow.self, "Sample-quality metrics of the Langevin samples (tables/metrics)."),
        CSVFileDoc("class_histogram.csv", ClassHistogramRow.self, "Classes of the samples as the classifier predicts them, beside the training split's."),
        CSVFileDoc("samples.csv", SampleRow.self, "One row per Langevin chain: predicted class, distance to the training set, divergence."),
        CSVFileDoc("loss.csv", LossRow.self, "The score network's training loss, averaged per interval."),
    ]

    func render(in run: RunDirectory) throws {
        let m = try run.readRows(ImageMetricRow.self, from: "metrics.csv")
        let accuracy = m.first { $0.metric == "classifier_test_accuracy" }?.value ?? .nan
        let rows = m.map { r in
            [r.metric, Format.significant(r.value), r.low.map { "[\(Format.significant($0)), \(Format.significant(r.high ?? .nan))]" } ?? ""]
        }
        try run.writeTable(Table(
            header: ["metric", "value", "interval"], rows: rows,
            caption: String(format: "Image kit demo: metrics of %@ samples of a tiny score network on the 8×8 digits against the test split (classifier test accuracy %.3f; KID ± 2 sd over subsets, class statistics with bootstrap 95%% intervals).",
                            "\(config.samples)", accuracy),
            label: "tab:image-kit-demo"), name: "metrics")
        print(Table(header: ["metric", "value", "interval"], rows: rows).markdown())
    }
}

extension ImageKitDemo.Config: DerivedSettings {
    var derivedSettings: [String: Double] {
        ["ema_initial_weight_share": emaInitialWeightShare(decay: emaDecay, steps: steps, biasCorrected: emaBiasCorrected)]
    }
}
