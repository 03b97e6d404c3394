/// ht-e6-sample-quality: sample quality of GND(β)-DSM score networks against Gaussian DSM, with
/// offline proxies for the paper's FID/IS/KID (heavy-tailed spec E6, §6 E6; claim HT-C10; issue 15).
///
/// The paper's Inception FID/IS/KID cannot be computed here (no Inception weights, no network,
/// no MNIST/CIFAR-10). The proxies: Fréchet distance and KID in the feature space of the kit's
/// classifier (its penultimate layer), PRDC (k = 5) on those features and on pixels, and the
/// per-class histogram of the samples. As a floor, the same metrics are computed for as many
/// real training images as there are samples (what a generator that reproduced the data would
/// score at this sample size).
///
/// Cases: the balanced 8×8 digits (all classes; the fast case, both scales) and, at full scale,
/// Fashion-MNIST (all classes). One U-Net score network per (case, seed, β), β ∈ {1, 1.5, 2},
/// with the same architecture, noise levels (per case, β-independent), optimiser, steps and
/// seed streams; annealed Langevin with Gaussian noise (the released code) from the EMA weights,
/// chain c of a seed sharing its start and noise across β. Sampling runs in chunks of chains (work
/// units); the metrics are computed on all samples of a (case, seed, β) at the merge.
///
/// HT-C10 ("competitive", direction and size unknown: spec §5 "record, don't assert") gets a
/// "proxy recorded" verdict: the classifier-feature FD ratio FD(β)/FD(2) per case, with an
/// interval over seeds where there are several, and a sentence of what it shows.
///
/// Outputs (results/<scale>/ht-e6-sample-quality/): metrics.csv (per case, seed, β), floor.csv,
/// class_histogram.csv, ratios.csv, loss.csv, images/samples-<case>.png (rows β, seed 0),
/// tables/quality, claims.json (HT-C10), models/.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import SampleMetrics
import ScoreKit
import TensorCore

@main
struct HTE6SampleQuality: TypedVerdicts {
    static let experimentID = "ht-e6-sample-quality"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E6: sample quality (classifier-feature FD/KID, PRDC, class histogram) of GND(β)-DSM score networks against Gaussian DSM (heavy-tailed spec E6; claim HT-C10, as a proxy).")

    @OptionGroup var options: ExperimentOptions
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the training steps per model (every case).", quick: Config.caseValues(Config.quick, \.steps), full: Config.caseValues(Config.full, \.steps))) var trainSteps: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the samples per (case, seed, β).", quick: Config.caseValues(Config.quick, \.samples), full: Config.caseValues(Config.full, \.samples))) var samples: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the Langevin steps per noise level T (every case).", quick: Config.caseValues(Config.quick, \.stepsPerLevel), full: Config.caseValues(Config.full, \.stepsPerLevel))) var langevinSteps: Int?
    @Option(help: "Classifier checkpoint of the digits case (default: data/classifiers/digits8x8.h5).") var classifier: String?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the U-Net width (base channels, a multiple of 8; every case).", quick: Config.caseValues(Config.quick, \.baseChannels), full: Config.caseValues(Config.full, \.baseChannels))) var width: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the EMA decay of the evaluated weights (every case).", quick: Config.quick.cases.map { "\($0.emaDecay)" }.joined(separator: " / "), full: Config.full.cases.map { "\($0.emaDecay)" }.joined(separator: " / "))) var ema: Double?
    @Flag(inversion: .prefixedNo, help: ScaleHelp.emaBiasCorrection(quick: Config.quick.cases[0].emaBiasCorrected, full: Config.full.cases[0].emaBiasCorrected)) var emaBiasCorrection: Bool?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the training minibatch size (every case).", quick: Config.caseValues(Config.quick, \.batchSize), full: Config.caseValues(Config.full, \.batchSize))) var batch: Int?

    /// One data set with its model and sampling settings.
    struct Case: Codable {
        var dataset: DatasetName
        var classifier: String
        var baseChannels: Int
        var steps: Int
        var batchSize = 64
        var learningRate = 1e-3
        var emaDecay: Double
        /// Bias-corrected EMA (issue 27; nil: the plain average, as the committed full-scale run).
        var emaBiasCorrected: Bool? = nil
        var checkpointEvery: Int
        /// Samples per (seed, β), drawn in chunks of `chunk` chains (one work unit each).
        var samples: Int
        var chunk: Int
        var samplingBatch: Int
        var stepsPerLevel: Int
        var seeds: Int
        /// This case's level rule (nil: the config's), with σ_1 and L of the fixed rule.
        var noiseLevelRule: NoiseLevelRule? = nil
        var fixedSigmaMax: Double? = nil
        var fixedLevelCount: Int? = nil
    }

    struct Config: Codable {
        var cases: [Case]
        var betas: [Double] = [1, 1.5, 2]
        var noiseLevelRule = NoiseLevelRule.ncsnv2
        var sigmaMin = 0.01
        /// ε/σ_L² (as ht-e5: 0.2, chosen on the β = 2 image-kit demo).
        var stepRatio = 0.2
        var finalDenoise = true
        /// Samples of seed 0 shown per β in the grids.
        var gridSamples = 20

        static let digitsQuick = Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), baseChannels: 8, steps: 1000,
                                      emaDecay: 0.99, emaBiasCorrected: true, checkpointEvery: 250, samples: 200, chunk: 200, samplingBatch: 100, stepsPerLevel: 20, seeds: 1)
        static let quick = Config(cases: [digitsQuick])
        /// Issue 28, fixed before any model of this run was trained. Both cases use the authors'
        /// schedule (σ 1 → 0.01, L = 10), the schedule of the image-budget curve
        /// (reference/full/image-budget), width 16, EMA 0.99 bias-corrected and T = 100:
        /// - Digits: 2000 steps, as HT-E5 (above the curve's knee of 1000 steps at width 16,
        ///   where pixel precision is 0.96–0.99 and class entropy 2.28–2.29 nats against 2.3
        ///   for real images); T = 100 because the β = 2 curve cannot speak for β = 1, whose
        ///   bounded Laplace score moves a stray pixel at most 0.14σ per step. 5 seeds, 1000
        ///   samples per (seed, β).
        /// - Fashion-MNIST: 2000 steps and T = 100, the curve's only cell that passes the gate
        ///   (class entropy 1.88 nats = 0.82 × real; T = 20 fails). 3 seeds, 500 samples per
        ///   (seed, β): the curve measured ≈ 1000 s per model and ≈ 1450 s per 1000 samples on
        ///   one core, so 9 models with 500 samples each are ≈ 4.4 h of core time, the most
        ///   that fits the 3 h on 2 cores beside the digits (≈ 1 h).
        static let full = Config(cases: [
            Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), baseChannels: 16, steps: 2000,
                 emaDecay: 0.99, emaBiasCorrected: true, checkpointEvery: 250, samples: 1000, chunk: 500, samplingBatch: 250, stepsPerLevel: 100, seeds: 5,
                 noiseLevelRule: .fixedGeometric, fixedSigmaMax: 1, fixedLevelCount: 10),
            Case(dataset: .fashionMNIST, classifier: ImageClassifier.path(for: .fashionMNIST), baseChannels: 16, steps: 2000,
                 emaDecay: 0.99, emaBiasCorrected: true, checkpointEvery: 250, samples: 500, chunk: 250, samplingBatch: 250, stepsPerLevel: 100, seeds: 3,
                 noiseLevelRule: .fixedGeometric, fixedSigmaMax: 1, fixedLevelCount: 10),
        ])

        /// One setting of every case, for `--help`: "1000 (digits8x8)", or "2400 (digits8x8) / 2000 (fashion-mnist)".
        static func caseValues(_ config: Config, _ field: KeyPath<Case, Int>) -> String {
            config.cases.map { "\($0[keyPath: field]) (\($0.dataset.rawValue))" }.joined(separator: " / ")
        }
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        for i in c.cases.indices {
            if let v = trainSteps { c.cases[i].steps = v; c.cases[i].checkpointEvery = min(c.cases[i].checkpointEvery, v) }
            if let v = samples {
                c.cases[i].samples = v; c.cases[i].chunk = min(c.cases[i].chunk, v); c.cases[i].samplingBatch = min(c.cases[i].samplingBatch, v)
                c.gridSamples = min(c.gridSamples, v)
            }
            if let v = langevinSteps { c.cases[i].stepsPerLevel = v }
            if let v = options.seeds { c.cases[i].seeds = v }
            if let p = classifier, c.cases[i].dataset == .digits8x8 { c.cases[i].classifier = p }
            if let v = width { c.cases[i].baseChannels = v }
            if let v = ema { c.cases[i].emaDecay = v }
            if let v = emaBiasCorrection { c.cases[i].emaBiasCorrected = v }
            if let v = batch { c.cases[i].batchSize = v }
        }
        return c
    }

    func validate() throws {
        try Validate.trainSteps(trainSteps)
        try Validate.prdcSamples(samples, imagePixels: 784, trainingImages: 70_000)
        try Validate.langevinSteps(langevinSteps)
        try Validate.nonEmpty(classifier, option: "--classifier")
        try Validate.width(width)
        try Validate.ema(ema)
        try Validate.batch(batch)
    }

    /// A chunk of samples (Float32 bytes, base64 in the unit's JSON).
    struct Chunk: Codable {
        var images: Data
        /// Per chain of the chunk: the step at which it diverged, or nil.
        var frozenAtStep: [Int?]
    }

    /// The metrics of one (case, seed, β), computed at the merge.
    struct Evaluated: Codable {
        var caseName: String
        var seed: Int
        var beta: Double
        var metrics: ImageSampleMetrics
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func compute(in run: RunDirectory) throws {
        let c = config
        var rows: [Evaluated] = [], floors: [(String, ImageSampleMetrics)] = [], grids: [(Case, [[Float]])] = []
        var lossRows: [LossRow] = [], levelsRecord: [String: ImageNoiseLevels] = [:], classifiers: [String: ClassifierRecord] = [:]
        var bootstrapRows: [ChainBootstrapRow] = []
        for cs in c.cases {
            let name = cs.dataset.rawValue
            let classifier = try ImageClassifier.load(from: URL(fileURLWithPath: cs.classifier), dataset: name)
            try DataFileLog.shared.record(path: cs.classifier)
            classifiers[name] = classifier.record
            let train = try ImageDataset.load(path: cs.dataset.path, split: .train)
            let test = try ImageDataset.load(path: cs.dataset.path, split: .test)
            let levels = try ImageNoiseLevels.choose(rule: cs.noiseLevelRule ?? c.noiseLevelRule, images: train.images, beta: 2, sigmaMin: c.sigmaMin,
                                                     fixed: cs.fixedSigmaMax.flatMap { s in cs.fixedLevelCount.map { (s, $0) } })
            levelsRecord[name] = levels
            log("\(Self.experimentID) \(name): \(levels.description)")
            func trainingConfig(seed k: Int, beta: Double) -> ImageScoreTrainingConfig {
                ImageScoreTrainingConfig(baseChannels: cs.baseChannels, height: train.height, width: train.width, beta: beta, levels: levels,
                                         steps: cs.steps, batchSize: cs.batchSize, learningRate: cs.learningRate, emaDecay: cs.emaDecay, emaBiasCorrected: cs.emaBiasCorrected,
                                         checkpointEvery: cs.checkpointEvery, seed: options.seed &+ UInt64(k))
            }
            func modelName(seed k: Int, beta: Double) -> String { "\(name)_seed-\(k)_beta-\(Format.significant(beta, 3))" }
            let models = (0..<cs.seeds).flatMap { k in c.betas.map { (seed: k, beta: $0) } }
            let trainProgress = Progress("\(Self.experimentID) \(name) training", total: models.count)
            let summaries = try run.units("train-\(name)", count: models.count, key: { modelName(seed: models[$0].seed, beta: models[$0].beta) },
                                          progress: { trainProgress.advance() }) { i in
                try run.trainImageScoreModel(modelName(seed: models[i].seed, beta: models[i].beta),
                                             config: trainingConfig(seed: models[i].seed, beta: models[i].beta), data: train.images, quiet: true)
            }
            for m in models { try run.publishModel(modelName(seed: m.seed, beta: m.beta), config: trainingConfig(seed: m.seed, beta: m.beta)) }
            for (m, s) in zip(models, summaries) {
                lossRows += LossRow.rows(s.lossTrace, every: cs.checkpointEvery, steps: cs.steps, model: LossModel(dataset: name, seed: m.seed, beta: m.beta))
            }

            let sigmaL = levels.sigmas[levels.sigmas.count - 1]
            let sampling = ImageSamplingConfig(stepSize: c.stepRatio * sigmaL * sigmaL, stepsPerLevel: cs.stepsPerLevel, noise: .gaussian,
                                               finalDenoise: c.finalDenoise, batchSize: cs.samplingBatch)
            let chunks = Int((Double(cs.samples) / Double(cs.chunk)).rounded(.up))
            let tasks = models.flatMap { m in (0..<chunks).map { (seed: m.seed, beta: m.beta, chunk: $0) } }
            let sampleProgress = Progress("\(Self.experimentID) \(name) sampling", total: tasks.count)
            let sampled = try run.units("sample-\(name)", count: tasks.count,
                                        key: { "\(modelName(seed: tasks[$0].seed, beta: tasks[$0].beta))_chains-\(tasks[$0].chunk * cs.chunk)" },
                                        progress: { sampleProgress.advance() }) { i -> Chunk in
                let t = tasks[i]
                let model = try run.loadImageScoreModel(modelName(seed: t.seed, beta: t.beta), config: trainingConfig(seed: t.seed, beta: t.beta))
                let first = t.chunk * cs.chunk
                let out = ImageSampler.sample(model: model, config: sampling, count: min(cs.chunk, cs.samples - first),
                                              seed: options.seed &+ UInt64(t.seed), firstChain: first)
                return Chunk(images: out.images.scalars.withUnsafeBytes { Data($0) }, frozenAtStep: out.divergence.frozenAtStep)
            }

            // The merge: all chunks of a (seed, β), then the metrics against the test split.
            let d = train.height * train.width
            var trainingCounts = [Double](repeating: 0, count: train.classes)
            for l in train.labels { trainingCounts[Int(l)] += 1 }
            var gridRows: [[Float]] = []
            // Classifier features of every model's samples, [seed][β index] (HT-C10's chain bootstrap).
            var sampleFeatures = [[Tensor<Double>?]](repeating: [Tensor<Double>?](repeating: nil, count: c.betas.count), count: cs.seeds)
            for m in models {
                let parts = tasks.indices.filter { tasks[$0].seed == m.seed && tasks[$0].beta == m.beta }
                let scalars = parts.flatMap { Self.floats(sampled[$0].images) }
                var divergence = ChainDivergence(chains: cs.samples)
                divergence.frozenAtStep = parts.flatMap { sampled[$0].frozenAtStep }
                let samples = ImageSamples(images: Tensor(shape: [cs.samples, d], scalars: scalars), divergence: divergence, firstChain: 0)
                let metrics = try ImageSampleMetrics.evaluate(samples: samples, reference: test.images, training: train.images,
                                                              classifier: classifier, trainingProportions: trainingCounts)
                rows.append(Evaluated(caseName: name, seed: m.seed, beta: m.beta, metrics: metrics))
                let clamped = samples.clamped().images
                sampleFeatures[m.seed][c.betas.firstIndex(of: m.beta)!] = classifier.evaluate(clamped).features.converted(to: Double.self)
                if m.seed == 0 { gridRows.append(Array(clamped.scalars.prefix(min(c.gridSamples, cs.samples) * d))) }
            }
            grids.append((cs, gridRows))
            if c.betas.contains(2) {
                let reference = FeatureGaussian(features: classifier.evaluate(test.images).features.converted(to: Double.self))
                let intervals = try Self.chainBootstrap(features: sampleFeatures.map { $0.map { $0! } }, reference: reference, betas: c.betas,
                                                        resamples: Self.chainBootstrapResamples, seed: options.seed)
                bootstrapRows += intervals.map {
                    ChainBootstrapRow(dataset: name, beta: $0.beta, seeds: cs.seeds, chains: cs.samples, resamples: Self.chainBootstrapResamples,
                                      fdRatioToBeta2: $0.ratio, low: $0.low, high: $0.high)
                }
            }
            // Floor: as many training images as samples (the first ones), as if they were samples.
            let n = min(cs.samples, train.count)
            let real = ImageSamples(images: train.images.gatherRows(Array(0..<n)), divergence: ChainDivergence(chains: n), firstChain: 0)
            floors.append((name, try ImageSampleMetrics.evaluate(samples: real, reference: test.images, training: train.images,
                                                                 classifier: classifier, trainingProportions: trainingCounts)))
        }

        try run.writeRows(rows.map { r in
            MetricsRow(dataset: r.caseName, seed: r.seed, beta: r.beta, samples: r.metrics.predictedClasses.count, metrics: QualityMetrics(r.metrics))
        }, to: "metrics.csv")
        try run.writeRows(floors.map { f in FloorRow(dataset: f.0, images: f.1.predictedClasses.count, metrics: QualityMetrics(f.1)) }, to: "floor.csv")
        try run.writeRows(rows.flatMap { r in
            r.metrics.classBalance.counts.indices.map { k in
                ClassHistogramRow(dataset: r.caseName, seed: r.seed, beta: r.beta, class: k, count: r.metrics.classBalance.counts[k],
                                  proportion: r.metrics.classBalance.proportions[k])
            }
        }, to: "class_histogram.csv")
        try run.writeRows(lossRows, to: "loss.csv")
        try run.writeRows(bootstrapRows, to: "fd_chain_bootstrap.csv")
        try run.writeRows(classifiers.keys.sorted().map { ClassifierRow(dataset: $0, testAccuracy: classifiers[$0]!.testAccuracy) }, to: "classifiers.csv")

        for (cs, gridRows) in grids where gridRows.count == c.betas.count {
            let shown = min(c.gridSamples, cs.samples)
            let side = cs.dataset == .digits8x8 ? 8 : 28
            try run.writeLabelledGrid(
                Tensor<Float>(shape: [c.betas.count * shown, side * side], scalars: gridRows.flatMap { $0 }),
                grid: LabelledImageGrid(rows: GridAxis(name: "β", labels: c.betas.map { "β = \(Format.significant($0, 3))" }),
                                        columns: GridAxis(name: "chain", labels: (0..<shown).map(String.init)),
                                        panelHeight: side, panelWidth: side,
                                        title: "\(cs.dataset.rawValue): samples of seed 0; column j is chain j (same start and noise stream) in every row"),
                name: "samples-\(cs.dataset.rawValue)")
        }
        try run.publishModels()
        struct Record: Encodable {
            var experiment: Config
            var levels: [String: ImageNoiseLevels]
            var classifiers: [String: ClassifierRecord]
        }
        try run.writeConfig(Record(experiment: c, levels: levelsRecord, classifiers: classifiers))
    }

    // MARK: - HT-C10's chain bootstrap

    /// Resamples of the chain bootstrap below: a fixed protocol constant (ours), kept out of
    /// `Config` so that the run identities of cached units stay as they were.
    static let chainBootstrapResamples = 200

    /// The sampling variation of the proxy: a percentile 95 % interval of the seed-mean log ratio
    /// log FD(β)/FD(2) when each seed's chains are resampled with replacement, with the same chain
    /// indices for every β (chain j of a seed shares its start and noise stream across β), and the
    /// test-split Gaussian held fixed. It leaves out training variation (another seed trains
    /// another network), which only an interval over seeds shows.
    /// - Parameters:
    ///   - features: [seed][β index] the classifier features [chains, F] of that model's samples,
    ///     rows in chain order (the same chain count for every β of a seed).
    ///   - reference: the test split's feature Gaussian.
    /// - Returns: per β ≠ 2, the point ratio (geometric mean over seeds) and the interval.
    static func chainBootstrap(features: [[Tensor<Double>]], reference: FeatureGaussian, betas: [Double], resamples: Int,
                               seed: UInt64) throws -> [(beta: Double, ratio: Double, low: Double, high: Double)] {
        guard let base = betas.firstIndex(of: 2), !features.isEmpty, resamples >= 2 else { return [] }
        func meanLogRatios(_ pick: (Int, Tensor<Double>) -> Tensor<Double>) throws -> [Double] {
            var sums = [Double](repeating: 0, count: betas.count)
            for (k, perSeed) in features.enumerated() {
                let fd = try perSeed.map { try FrechetDistance.between(FeatureGaussian(features: pick(k, $0)), reference) }
                for b in betas.indices { sums[b] += log(fd[b] / fd[base]) }
            }
            return sums.map { $0 / Double(features.count) }
        }
        let point = try meanLogRatios { _, x in x }
        var rng = Xoshiro256(seed: seed, key: [0x6664_6368_6169_6E73])  // "fdchains"
        var draws = [[Double]](repeating: [], count: betas.count)
        for _ in 0..<resamples {
            // One index draw per seed, shared by that seed's models.
            let picks = features.map { perSeed in (0..<perSeed[0].rows).map { _ in rng.nextIndex(perSeed[0].rows) } }
            let values = try meanLogRatios { k, x in x.gatherRows(picks[k]) }
            for b in betas.indices { draws[b].append(values[b]) }
        }
        return betas.indices.filter { $0 != base }.map { b in
            let sorted = draws[b].sorted()
            return (betas[b], exp(point[b]), exp(sorted[Int(0.025 * Double(resamples - 1))]), exp(sorted[Int(0.975 * Double(resamples - 1))]))
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in order, without repeats.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension HTE6SampleQuality.Config: DerivedSettings {
    var derivedSettings: [String: Double] {
        Dictionary(uniqueKeysWithValues: cases.map {
            ("ema_initial_weight_share_\($0.dataset.rawValue)", emaInitialWeightShare(decay: $0.emaDecay, steps: $0.steps, biasCorrected: $0.emaBiasCorrected))
        })
    }
}

