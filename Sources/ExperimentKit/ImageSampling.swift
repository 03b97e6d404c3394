// Sampling glue of the image kit: annealed Langevin (ScoreKit.AnnealedLangevin.runBatch) with a
// trained image score network, and one call for the sample metrics (SampleMetrics) against a
// reference set.
//
// Chains start from Uniform[0, 1]^D (NCSNv2's initialisation), chain c drawing its start from
// Xoshiro256(seed, key: [start, c]) and its Langevin noise from ChainNoise (key [c]); so a chain's
// path depends only on (seed, c, model, sampler), not on the batch it runs in, and arms paired
// by seed share starts and noise. One network forward serves a batch of chains.
import DataIO
import Foundation
import NeuralNet
import SampleMetrics
import ScoreKit
import TensorCore

/// A trained score network ready for sampling: s(x, σ_i) for images [n, H·W].
public struct ImageScoreModel {
    /// The network (EMA weights).
    public let network: UNet<Float>
    /// σ_1 > … > σ_L it was trained on.
    public let sigmas: [Double]
    public let height: Int
    public let width: Int

    /// A model from a network and its levels.
    public init(network: UNet<Float>, sigmas: [Double], height: Int, width: Int) {
        self.network = network
        self.sigmas = sigmas
        self.height = height
        self.width = width
    }

    /// The EMA network of a trainer.
    public init(trainer: ImageScoreTrainer) {
        self.init(network: trainer.emaNetwork(), sigmas: trainer.config.levels.sigmas, height: trainer.config.height,
                  width: trainer.config.width)
    }

    /// Loads the EMA weights of a training checkpoint written by `ImageScoreTrainer`.
    public static func load(checkpoint url: URL, config: ImageScoreTrainingConfig) throws -> ImageScoreModel {
        let dummy = Tensor<Float>(shape: [1, config.height * config.width])
        let trainer = try ImageScoreTrainer(config: config, data: dummy)
        try trainer.resume(from: url)
        return ImageScoreModel(trainer: trainer)
    }

    /// s(x, σ_level) for x [n, H·W] (or [n, 1, H, W]) into `score` (shape of x).
    public func score(_ x: Tensor<Float>, level: Int, into score: inout Tensor<Float>) {
        let n = x.rows
        let images = x.rank == 4 ? x : x.reshaped([n, 1, height, width])
        // The inference forward: oneDNN's blocked layout throughout where the width allows
        // (issue 32); the same values as the training forward to Float32 rounding.
        network.forwardInference(images, sigmas: Tensor(shape: [n], repeating: Float(sigmas[level])), into: &score)
        score.reshape(x.shape)
    }
}

/// Settings of annealed Langevin sampling for images.
public struct ImageSamplingConfig: Codable, Sendable, Equatable {
    /// ε: the step at σ_L (ε_i = ε·σ_i²/σ_L², NCSNv2's rule).
    public var stepSize: Double
    /// T steps per level.
    public var stepsPerLevel: Int
    /// Gaussian or GND(β) Langevin noise.
    public var noise: LangevinNoise
    /// The final Tweedie step x + σ_L² s(x, σ_L).
    public var finalDenoise: Bool
    /// Chains per network forward.
    public var batchSize: Int
    /// Chains beyond ±bound are frozen and counted as diverged.
    public var bound: Double

    /// Settings; see the properties.
    public init(stepSize: Double, stepsPerLevel: Int, noise: LangevinNoise = .gaussian, finalDenoise: Bool = true,
                batchSize: Int = 250, bound: Double = 1e4) {
        self.stepSize = stepSize
        self.stepsPerLevel = stepsPerLevel
        self.noise = noise
        self.finalDenoise = finalDenoise
        self.batchSize = batchSize
        self.bound = bound
    }
}

/// Samples and what happened to their chains.
public struct ImageSamples: Codable, Sendable {
    /// The final states, [count, H·W] (not clamped).
    public var images: Tensor<Float>
    /// Per chain, the step at which it diverged (frozen at its last good state), or nil.
    public var divergence: ChainDivergence
    /// Global index of the first chain.
    public var firstChain: Int

    enum CodingKeys: String, CodingKey { case shape, values, frozenAtStep, firstChain }

    public init(images: Tensor<Float>, divergence: ChainDivergence, firstChain: Int) {
        self.images = images
        self.divergence = divergence
        self.firstChain = firstChain
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        images = Tensor(shape: try c.decode([Int].self, forKey: .shape), scalars: try c.decode([Float].self, forKey: .values))
        divergence = ChainDivergence(chains: images.rows)
        divergence.frozenAtStep = try c.decode([Int?].self, forKey: .frozenAtStep)
        firstChain = try c.decode(Int.self, forKey: .firstChain)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(images.shape, forKey: .shape)
        try c.encode(images.scalars, forKey: .values)
        try c.encode(divergence.frozenAtStep, forKey: .frozenAtStep)
        try c.encode(firstChain, forKey: .firstChain)
    }

    /// The images clamped to [0, 1] (for grids and metrics), and how many values were outside.
    public func clamped() -> (images: Tensor<Float>, valuesOutside: Int) {
        var outside = 0
        let t = images.map { v -> Float in
            if v < 0 || v > 1 || !v.isFinite { outside += 1 }
            return v.isFinite ? min(1, max(0, v)) : 0
        }
        return (t, outside)
    }
}

/// Annealed Langevin sampling of image batches.
public enum ImageSampler {
    /// Key of the chains' start streams.
    static let startKey: UInt64 = 0x7374_6172

    /// Runs chains firstChain ..< firstChain + count with `model`, in batches of
    /// `config.batchSize` (one network forward per batch and step).
    /// - Parameter observe: after every step, (global chain index of the batch's first chain,
    ///   level, step within level, states [n, H·W]).
    public static func sample(
        model: ImageScoreModel, config: ImageSamplingConfig, count: Int, seed: UInt64, firstChain: Int = 0,
        progress: Progress? = nil, observe: ((Int, Int, Int, Tensor<Float>) -> Void)? = nil
    ) -> ImageSamples {
        precondition(count >= 1 && config.batchSize >= 1, "image sampling: need at least one chain and a positive batch")
        let d = model.height * model.width
        let sampler = AnnealedLangevin(sigmas: model.sigmas, stepSize: config.stepSize, stepsPerLevel: config.stepsPerLevel,
                                       rescaleSteps: true, noise: config.noise, finalDenoise: config.finalDenoise, bound: config.bound)
        var out = [Float]()
        out.reserveCapacity(count * d)
        var frozen: [Int?] = []
        var start = 0
        while start < count {
            let n = min(config.batchSize, count - start)
            let first = firstChain + start
            var x = Tensor<Float>(shape: [n, d])
            for r in 0..<n {
                var g = Xoshiro256(seed: seed, key: [startKey, UInt64(first + r)])
                for k in 0..<d { x.scalars[r * d + k] = Float(g.nextUniform()) }
            }
            var noise = ChainNoise(seed: seed, count: n, firstChain: first)
            let divergence = sampler.runBatch(&x, noise: &noise, score: { states, level, s in
                model.score(states, level: level, into: &s)
            }, observe: { level, t, states in
                observe?(first, level, t, states)
            })
            out += x.scalars
            frozen += divergence.frozenAtStep
            progress?.advance(n)
            start += n
        }
        var divergence = ChainDivergence(chains: count)
        divergence.frozenAtStep = frozen
        return ImageSamples(images: Tensor(shape: [count, d], scalars: out), divergence: divergence, firstChain: firstChain)
    }
}

/// The sample metrics of an image experiment, against a reference set.
public struct ImageSampleMetrics: Codable, Sendable, Equatable {
    /// FD, KID and PRDC in the classifier's feature space (reference = `reference`).
    public var features: SampleQuality
    /// PRDC on pixels.
    public var pixelPRDC: PRDC
    /// The classifier's class histogram of the samples (entropy, KL to uniform and to the
    /// training proportions, bootstrap 95 % intervals).
    public var classBalance: ClassBalance
    /// The predicted class of each sample.
    public var predictedClasses: [Int]
    /// Pixel distance of each sample to its nearest training image.
    public var nearestTrainingDistances: [Double]
    /// Summary of those distances.
    public var nearestTraining: NearestNeighbourSummary
    /// The same summary for the reference images (real images not trained on), for comparison.
    public var referenceNearestTraining: NearestNeighbourSummary
    /// The classifier's test accuracy (from its checkpoint).
    public var classifierAccuracy: Double
    /// Sample values outside [0, 1] before clamping (a denoised background pixel scatters
    /// around 0, so about half of them fall just below it).
    public var valuesOutsideUnitInterval: Int
    /// Sample values more than 0.1 outside [0, 1] (unconverged chains, not boundary scatter).
    public var valuesFarOutsideUnitInterval: Int
    /// Chains that diverged (their last good state is used).
    public var divergedChains: Int

    /// Computes every metric of the brief for `samples` (clamped to [0, 1] first).
    /// - Parameters:
    ///   - reference: real images [N, H·W] not used for training (e.g. the test split).
    ///   - training: the training images [N', H·W] (nearest-neighbour check; subsample if large).
    ///   - trainingProportions: class proportions of the training set (KL to them); nil to skip.
    ///   - kid: KID settings (its subset size is capped at the smaller set).
    ///   - k: PRDC neighbours.
    public static func evaluate(
        samples: ImageSamples, reference: Tensor<Float>, training: Tensor<Float>, classifier: ImageClassifier,
        trainingProportions: [Double]?, kid: KernelDistance = KernelDistance(subsets: 100, subsetSize: 1000, seed: 0), k: Int = 5,
        bootstrapSeed: UInt64 = 0
    ) throws -> ImageSampleMetrics {
        let (x, outside) = samples.clamped()
        guard x.rows > k, reference.rows > k else {
            throw ValidationFailure("sample metrics need more than k = \(k) samples and reference images, got \(x.rows) and \(reference.rows)")
        }
        let generated = classifier.evaluate(x)
        let real = classifier.evaluate(reference)
        var kidSettings = kid
        kidSettings.subsetSize = min(kid.subsetSize, x.rows, reference.rows)
        let quality = try SampleQuality.evaluate(generated: generated.features, reference: real.features, kid: kidSettings, k: k)
        let pixels = PRDC.evaluate(real: reference.converted(to: Double.self), generated: x.converted(to: Double.self), k: k)
        let classes = classifier.network.architecture.classes
        let balance = ClassBalance.evaluate(labels: generated.labels, classCount: classes, reference: trainingProportions, seed: bootstrapSeed)
        let trainingDouble = training.converted(to: Double.self)
        let nn = NearestNeighbours.search(samples: x.converted(to: Double.self), training: trainingDouble)
        let referenceNN = NearestNeighbours.search(samples: reference.converted(to: Double.self), training: trainingDouble)
        return ImageSampleMetrics(
            features: quality, pixelPRDC: pixels, classBalance: balance, predictedClasses: generated.labels,
            nearestTrainingDistances: nn.distances, nearestTraining: NearestNeighbourSummary(nn.distances),
            referenceNearestTraining: NearestNeighbourSummary(referenceNN.distances),
            classifierAccuracy: classifier.record.testAccuracy, valuesOutsideUnitInterval: outside,
            valuesFarOutsideUnitInterval: samples.images.scalars.reduce(0) { $0 + (!$1.isFinite || $1 < -0.1 || $1 > 1.1 ? 1 : 0) },
            divergedChains: samples.divergence.count)
    }

    /// (metric, value, low, high) rows for a metrics CSV (low/high empty when there is no
    /// interval).
    public var metricRows: [ImageMetricRow] {
        func row(_ name: String, _ v: Double, _ lo: Double? = nil, _ hi: Double? = nil) -> ImageMetricRow {
            ImageMetricRow(metric: name, value: v, low: lo, high: hi)
        }
        var rows = [
            row("frechet_distance_features", features.frechetDistance),
            row("kid_features", features.kernelDistance.mean, features.kernelDistance.mean - 2 * features.kernelDistance.standardDeviation,
                features.kernelDistance.mean + 2 * features.kernelDistance.standardDeviation),
            row("precision_features", features.prdc.precision), row("recall_features", features.prdc.recall),
            row("density_features", features.prdc.density), row("coverage_features", features.prdc.coverage),
            row("precision_pixels", pixelPRDC.precision), row("recall_pixels", pixelPRDC.recall),
            row("density_pixels", pixelPRDC.density), row("coverage_pixels", pixelPRDC.coverage),
            row("class_entropy", classBalance.entropy.value, classBalance.entropy.low, classBalance.entropy.high),
            row("kl_to_uniform", classBalance.klToUniform.value, classBalance.klToUniform.low, classBalance.klToUniform.high),
        ]
        if let r = classBalance.klToReference { rows.append(row("kl_to_training_proportions", r.value, r.low, r.high)) }
        rows += [
            row("nn_distance_samples_mean", nearestTraining.mean), row("nn_distance_samples_min", nearestTraining.minimum),
            row("nn_distance_reference_mean", referenceNearestTraining.mean),
            row("nn_distance_reference_min", referenceNearestTraining.minimum),
            row("classifier_test_accuracy", classifierAccuracy),
            row("values_outside_unit_interval", Double(valuesOutsideUnitInterval)),
            row("values_more_than_0.1_outside_unit_interval", Double(valuesFarOutsideUnitInterval)),
            row("diverged_chains", Double(divergedChains)),
        ]
        return rows
    }
}

extension RunDirectory {
    /// Where trained image models are kept: results/<scale>/.models/<experiment-id>/, outside
    /// the run's units cache, so that a run of another sampling or metric configuration (a new
    /// run identity) reuses them and only trains what it lacks. A model file is named by its
    /// training configuration's hash (`<name>-<hash>.h5`), so a changed training setting never
    /// loads a stale model; `--force` retrains.
    public var modelStore: URL {
        options.outputURL(for: experimentID).deletingLastPathComponent()
            .appendingPathComponent(".models").appendingPathComponent(experimentID)
    }

    /// The checkpoint of model `name` trained with `config` (any training configuration with a
    /// canonical JSON: first-order `ImageScoreTrainingConfig`, second-order
    /// `ImageSecondOrderTrainingConfig`).
    public func modelURL<C: ModelTrainingConfiguration>(_ name: String, config: C) throws -> URL {
        let hash = Digest.sha256(try config.json()).prefix(12)
        return modelStore.appendingPathComponent("\(name)-\(hash).h5")
    }

    /// Trains model `name` (or resumes it, or only loads it when it is trained) with `config`
    /// on `data` [N, H·W], checkpointing into the model store; the run publishes it under
    /// models/<name>.h5. With `--force` an existing checkpoint of this configuration is deleted
    /// first, so the model is trained anew.
    @discardableResult
    public func trainImageScoreModel(_ name: String, config: ImageScoreTrainingConfig, data: Tensor<Float>,
                                     quiet: Bool = false) throws -> ImageScoreTrainingSummary {
        let url = try modelURL(name, config: config)
        if options.force { FolderCommit.removeIfPresent(url) }
        let summary = try ImageScoreTraining.run(config: config, data: data, folder: url.deletingLastPathComponent(),
                                                 name: url.deletingPathExtension().lastPathComponent, quiet: quiet).summary
        return summary
    }

    /// The EMA model of `name` trained with `config` (trained by `trainImageScoreModel`, in this
    /// process or another); remembered for `publishModels`. Safe to call from parallel work units
    /// (each call returns its own network).
    /// - Throws: `DataIOError` naming the file when it is missing, unfinished or of another
    ///   configuration.
    public func loadImageScoreModel(_ name: String, config: ImageScoreTrainingConfig) throws -> ImageScoreModel {
        let url = try modelURL(name, config: config)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.format(path: url.path, object: "model \(name)", expected: "a trained checkpoint (its training unit has not run)", found: "no file")
        }
        let model = try ImageScoreModel.load(checkpoint: url, config: config)
        publishedModelsLock.lock()
        publishedModels[name] = url
        publishedModelsLock.unlock()
        return model
    }

    /// Records model `name` trained with `config` for `publishModels` without loading it, when
    /// its checkpoint is in the model store (issue 26: a resumed or `--merge-only` run whose
    /// sampling units were all cached loaded no model and so published none). Returns whether
    /// the checkpoint was there.
    @discardableResult
    public func publishModel<C: ModelTrainingConfiguration>(_ name: String, config: C) throws -> Bool {
        let url = try modelURL(name, config: config)
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        publishedModelsLock.lock()
        publishedModels[name] = url
        publishedModelsLock.unlock()
        return true
    }

    /// Hard-links every model loaded with `loadImageScoreModel` into models/<name>.h5 of the run
    /// (no copy), so that the committed result carries the models its numbers came from.
    public func publishModels() throws {
        guard !publishedModels.isEmpty else { return }
        let target = url.appendingPathComponent("models")
        FolderCommit.removeIfPresent(target)
        try AtomicFile.createFolder(target)
        for (name, source) in publishedModels.sorted(by: { $0.key < $1.key }) {
            try FileManager.default.linkItem(at: source, to: target.appendingPathComponent("\(name).h5"))
        }
    }
}

/// A row of a metrics CSV of image samples (`ImageSampleMetrics.metricRows`).
public struct ImageMetricRow: DocumentedRow, Sendable {
    public var metric: String
    public var value: Double
    public var low: Double?
    public var high: Double?
    public init(metric: String, value: Double, low: Double?, high: Double?) {
        self.metric = metric
        self.value = value
        self.low = low
        self.high = high
    }
    public static let columns: [ColumnDoc] = [
        .init("metric", "text", "the metric: frechet_distance_features, kid_features, precision/recall/density/coverage_features (PRDC, k = 5, in the classifier's feature space against the test split), the same four _pixels (on raw pixels), class_entropy and kl_to_uniform / kl_to_training_proportions (nats, of the classifier's predicted-class proportions), nn_distance_samples_mean/_min and nn_distance_reference_mean/_min (Euclidean pixel distance to the nearest training image, of the samples and of the test images), classifier_test_accuracy (fraction), values_outside_unit_interval and values_more_than_0.1_outside_unit_interval (counts of sample pixel values), diverged_chains (count)"),
        .init("value", "per metric", "the metric's value (unit as listed for `metric`: FD and KID in squared feature units, PRDC and accuracy as fractions (density may exceed 1), entropies and KLs in nats, distances in pixel-value units, counts)"),
        .init("low", "as value", "lower end of the interval: KID mean − 2 sd over subsets, class statistics a bootstrap 95 % interval; empty when the metric has no interval"),
        .init("high", "as value", "upper end of the interval (KID mean + 2 sd; bootstrap 95 %); empty when the metric has no interval"),
    ]
}
