// Training of the image score network (NeuralNet.UNet) with the GND-DSM objective of ScoreKit,
// with checkpoints and bit-identical resume (heavy-tailed spec §1.4, §1.6; NCSNv2 techniques 1–2
// for the noise levels; issue 14).
//
// Per step t (B = batch, D = H·W, L levels):
//   rows  ~ Uniform{0..N−1}^B            from Xoshiro256(seed, key: [batches, t])
//   i_b   ~ Uniform{0..L−1}               from Xoshiro256(seed, key: [levels, t])
//   ε_bd  ~ GND(0, α(σ_{i_b}), β)          from Xoshiro256(seed, key: [noise, t])
//   loss  = (1/B) Σ_b σ_b^p · ½‖s_θ(x_b + ε_b, σ_b) − t(ε_b)‖²,  t = GND kernel score (p = 2)
//   Adam step, then EMA update (decay from the config; sampling uses the EMA weights).
// Every random draw is keyed by (seed, role, step), so (a) a resumed run needs only the step
// count to continue the same streams, and (b) runs that differ only in β (arms paired by seed)
// share the initialisation, the minibatches and the levels, and draw their noise from the same
// stream (identical noise for equal β; common random numbers otherwise).
//
// Checkpoints (Checkpoint.saveTraining: parameters, Adam moments, EMA, step, config JSON;
// written atomically) go to <folder>/<name>.h5 every `checkpointEvery` steps and at the end. A
// run that finds a checkpoint of the same configuration continues from it; one of another
// configuration is refused with the file and the differing setting named. A checkpoint at the
// final step means the model is trained: `ImageScoreTraining.run` then only loads it.
import DataIO
import Foundation
import NeuralNet
import ScoreKit
import TensorCore

/// How the noise levels were chosen.
public enum NoiseLevelRule: String, Codable, Sendable, CaseIterable {
    /// NCSNv2 techniques 1 and 2: σ_1 = the largest pairwise distance of the training images,
    /// the ratio γ from the Gaussian overlap rule in dimension D (target 0.5, ±3 std band), then
    /// σ_{i+1} = σ_i/γ while σ ≥ σ_min.
    case ncsnv2
    /// The heavy-tailed paper's noise-scaling algorithm (reconstructed, ScoreKit.NoiseScaling):
    /// σ_1 as above, γ from the empirical GND(β) noise-norm law (quantile band), down to σ_min.
    case noiseScaling = "noise-scaling"
    /// A fixed geometric schedule σ_1 → σ_L with L levels, as the authors' MNIST and
    /// Fashion-MNIST configs set it (σ 1 → 0.01, L = 10; heavy-tailed spec E6 [CODE]).
    case fixedGeometric = "fixed-geometric"
}

/// The geometric noise levels of an image model, with how they were chosen.
public struct ImageNoiseLevels: Codable, Sendable, Equatable {
    /// σ_1 > … > σ_L.
    public var sigmas: [Double]
    /// The rule.
    public var rule: NoiseLevelRule
    /// The ratio γ = σ_i/σ_{i+1}.
    public var ratio: Double
    /// How many training images σ_1 was computed from (the first n).
    public var imagesForSigmaMax: Int
    /// One sentence for config.json and captions.
    public var description: String

    /// Levels for `images` [N, D] down to `sigmaMin` by `rule` (β only matters for
    /// `.noiseScaling`). σ_1 uses the first `maxImages` images (O(n²D) distances).
    public static func choose(rule: NoiseLevelRule, images: Tensor<Float>, beta: Double, sigmaMin: Double,
                              maxImages: Int = 10_000, seed: UInt64 = 0, fixed: (sigmaMax: Double, levels: Int)? = nil) throws -> ImageNoiseLevels {
        if rule == .fixedGeometric {
            guard let fixed, fixed.levels >= 2, fixed.sigmaMax > sigmaMin else {
                throw ValidationFailure("noise levels: the fixed geometric rule needs σ_1 > σ_min = \(sigmaMin) and at least 2 levels")
            }
            let sigmas = NoiseSchedule.geometric(sigmaMax: fixed.sigmaMax, sigmaMin: sigmaMin, levels: fixed.levels)
            return ImageNoiseLevels(sigmas: sigmas, rule: rule, ratio: sigmas[0] / sigmas[1], imagesForSigmaMax: 0,
                                    description: String(format: "fixed geometric schedule σ %g → %g, L = %d levels (the authors' MNIST/Fashion-MNIST configs)", fixed.sigmaMax, sigmaMin, fixed.levels))
        }
        let n = min(images.rows, maxImages)
        let subset = n == images.rows ? images : images.gatherRows(Array(0..<n))
        let sigmaMax = NoiseScaling.maxPairwiseDistance(subset)
        let d = images.columns
        guard sigmaMax > sigmaMin else {
            throw ValidationFailure("noise levels: the largest pairwise distance \(sigmaMax) is not above σ_min = \(sigmaMin)")
        }
        let gamma: Double
        let how: String
        switch rule {
        case .ncsnv2:
            gamma = try NoiseScaling.ncsnv2Ratio(dimension: d)
            how = "NCSNv2 rule (σ_1 = largest pairwise distance of the first \(n) training images; γ from the Gaussian overlap 0.5 in D = \(d))"
        case .noiseScaling:
            var rng = Xoshiro256(seed: seed, key: [0x6E73])
            let law = NoiseNormLaw(beta: beta, dimension: d, samples: 20_000, using: &rng)
            gamma = try NoiseScaling.ratio(for: law, band: .quantile)
            how = "noise-scaling algorithm (σ_1 = largest pairwise distance of the first \(n) training images; γ from the GND(β = \(beta)) norm law, quantile band, overlap 0.5, D = \(d))"
        case .fixedGeometric:
            preconditionFailure("handled above")
        }
        let sigmas = NoiseSchedule.geometric(sigmaMax: sigmaMax, ratio: gamma, sigmaMin: sigmaMin)
        return ImageNoiseLevels(sigmas: sigmas, rule: rule, ratio: gamma, imagesForSigmaMax: n,
                                description: how + String(format: ", down to σ_min = %g: L = %d levels, σ_1 = %.4g", sigmaMin, sigmas.count, sigmaMax))
    }
}

/// Every setting of an image score-network training run (part of its identity).
public struct ImageScoreTrainingConfig: Codable, Sendable, Equatable {
    /// U-Net base channels C (a positive multiple of 8).
    public var baseChannels: Int
    /// Image height and width (multiples of 4).
    public var height: Int
    public var width: Int
    /// GND shape β of the training noise (2 = Gaussian DSM).
    public var beta: Double
    /// The noise levels and how they were chosen.
    public var levels: ImageNoiseLevels
    /// Optimisation steps.
    public var steps: Int
    /// Minibatch size.
    public var batchSize: Int
    /// Adam's learning rate (constant).
    public var learningRate: Double
    /// EMA decay (0.999 as NCSNv2; short runs may need less, since the plain average starts at
    /// the initial weights and keeps decay^steps of them).
    public var emaDecay: Double
    /// Whether the EMA is bias-corrected (normalised by 1 − d^t, so the initial weights carry no
    /// weight; issue 27). nil means the plain average (and is left out of the JSON, so earlier
    /// checkpoints and run identities stay valid).
    public var emaBiasCorrected: Bool?
    /// Loss weight λ(σ) = σ^p.
    public var weightingPower: Double
    /// Steps between checkpoints.
    public var checkpointEvery: Int
    /// The seed of every random stream.
    public var seed: UInt64

    /// A configuration; see the properties.
    public init(baseChannels: Int, height: Int, width: Int, beta: Double, levels: ImageNoiseLevels, steps: Int, batchSize: Int,
                learningRate: Double, emaDecay: Double = 0.999, emaBiasCorrected: Bool? = nil, weightingPower: Double = 2,
                checkpointEvery: Int, seed: UInt64) {
        self.baseChannels = baseChannels
        self.height = height
        self.width = width
        self.beta = beta
        self.levels = levels
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.emaDecay = emaDecay
        self.emaBiasCorrected = emaBiasCorrected
        self.weightingPower = weightingPower
        self.checkpointEvery = checkpointEvery
        self.seed = seed
    }

    /// Why this configuration cannot run, or nil.
    public var problem: String? {
        if baseChannels < 8 || baseChannels % 8 != 0 { return "base channels must be a positive multiple of 8, got \(baseChannels)" }
        if height < 4 || width < 4 || height % 4 != 0 || width % 4 != 0 { return "image sides must be positive multiples of 4, got \(height)×\(width)" }
        if !(beta > 0.5) { return "β must exceed 0.5, got \(beta)" }
        if levels.sigmas.isEmpty || levels.sigmas.contains(where: { !($0 > 0) }) { return "noise levels must be positive" }
        if steps < 1 || batchSize < 1 || checkpointEvery < 1 { return "steps, batch size and checkpoint interval must be positive" }
        if !(learningRate > 0) || !(emaDecay >= 0 && emaDecay < 1) { return "need a positive learning rate and an EMA decay in [0, 1)" }
        return nil
    }

    /// The JSON stored in checkpoints (sorted keys, so equal configurations give equal text).
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}

/// A training configuration that identifies a trained model by its canonical JSON (sorted keys):
/// the model store names checkpoints by its hash, and checkpoints record it.
public protocol ModelTrainingConfiguration {
    /// The JSON stored in checkpoints (equal configurations give equal text).
    func json() throws -> String
}

extension ImageScoreTrainingConfig: ModelTrainingConfiguration {}

/// The GND-DSM training loop of the image score network, with checkpoints and resume (the
/// bookkeeping is `UNetTrainingLoop`'s).
public final class ImageScoreTrainer: UNetLoopTrainer {
    /// Stream roles (the first key part of each step's generators).
    enum Stream: UInt64 { case initialisation = 0x696E_6974, batches = 0x6261_7463, levels = 0x6C65_766C, noise = 0x6E6F_6973 }

    public let config: ImageScoreTrainingConfig
    /// Network, Adam, EMA, step count, loss trace and checkpoints.
    public let loop: UNetTrainingLoop

    private let data: Tensor<Float>
    private let objective: GNDScoreMatching
    // Step buffers.
    private var clean = Tensor<Float>(shape: [0]), noisy = Tensor<Float>(shape: [0]), target = Tensor<Float>(shape: [0])
    private var sigmaBatch = Tensor<Float>(shape: [0]), weights = Tensor<Float>(shape: [0])
    private var prediction = Tensor<Float>(shape: [0]), dPrediction = Tensor<Float>(shape: [0]), dInput = Tensor<Float>(shape: [0])

    /// A fresh run on `data` [N, H·W] (values in [0, 1]), initialised from the seed.
    public init(config: ImageScoreTrainingConfig, data: Tensor<Float>) throws {
        if let p = config.problem { throw ValidationFailure("image score training: \(p)") }
        guard data.columns == config.height * config.width, data.rows >= 1 else {
            throw ValidationFailure("image score training: data \(data.shape) does not hold \(config.height)×\(config.width) images")
        }
        self.config = config
        self.data = data
        objective = GNDScoreMatching(sigmas: config.levels.sigmas, beta: config.beta, weighting: .sigmaPower(config.weightingPower))
        var rng = Xoshiro256(seed: config.seed, key: [Stream.initialisation.rawValue])
        loop = UNetTrainingLoop(
            network: UNet<Float>(baseChannels: config.baseChannels, using: &rng), baseChannels: config.baseChannels, outputChannels: 1,
            learningRate: config.learningRate, emaDecay: config.emaDecay, emaBiasCorrected: config.emaBiasCorrected ?? false, totalSteps: config.steps,
            checkpointEvery: config.checkpointEvery, configJSON: try config.json(), kind: "image-score-network (GND-DSM)")
    }

    /// The generator of `role` at step `t`.
    func generator(_ role: Stream, step t: Int) -> Xoshiro256 { Xoshiro256(seed: config.seed, key: [role.rawValue, UInt64(t)]) }

    /// One optimisation step; returns its loss.
    @discardableResult
    public func trainStep() -> Double {
        let (b, d, l) = (config.batchSize, config.height * config.width, config.levels.sigmas.count)
        var batches = generator(.batches, step: step), levels = generator(.levels, step: step), noise = generator(.noise, step: step)
        let rows = (0..<b).map { _ in batches.nextIndex(data.rows) }
        if clean.count != b * d { clean = Tensor(shape: [b, d]) }
        data.gatherRows(rows, into: &clean)
        if noisy.count != b * d { noisy = Tensor(shape: [b, 1, config.height, config.width]); target = Tensor(shape: [b, d]) }
        if sigmaBatch.count != b { sigmaBatch = Tensor(shape: [b]); weights = Tensor(shape: [b]) }
        for r in 0..<b {
            let i = levels.nextIndex(l)
            let law = objective.noise(level: i)
            let s = config.levels.sigmas[i]
            sigmaBatch.scalars[r] = Float(s)
            weights.scalars[r] = Float(pow(s, config.weightingPower))
            for k in 0..<d {
                let e = law.sample(using: &noise)
                noisy.scalars[r * d + k] = clean.scalars[r * d + k] + Float(e)
                target.scalars[r * d + k] = Float(law.kernelScore(e))
            }
        }
        network.zeroGradients()
        network.forward(noisy, sigmas: sigmaBatch, into: &prediction)
        let loss = weightedSquaredError(prediction: prediction, target: target, rowWeights: weights, dPrediction: &dPrediction)
        dPrediction.reshape(prediction.shape)
        network.backward(input: noisy, dOutput: dPrediction, into: &dInput, accumulateParameterGradients: true)
        loop.completeStep(loss: loss)
        return loss
    }

    /// Trains until step `stop` (at most `config.steps`), writing a checkpoint to `checkpoint`
    /// every `checkpointEvery` steps and at `config.steps`.
    public func train(until stop: Int? = nil, checkpoint: URL?, progress: Progress? = nil) throws {
        try loop.train(until: stop, checkpoint: checkpoint, progress: progress) { trainStep() }
    }
}

/// What a finished (or reloaded) training run reports.
public struct ImageScoreTrainingSummary: Codable, Sendable, Equatable {
    /// The checkpoint file (path as given).
    public var checkpoint: String
    /// Steps trained in total.
    public var steps: Int
    /// The step the run resumed from (0 for a fresh run; `steps` when the model was already trained).
    public var resumedFromStep: Int
    /// Mean loss of each checkpoint interval.
    public var lossTrace: [Double]
}

/// One call for experiments: train (or resume, or just load) a score network.
public enum ImageScoreTraining {
    /// Trains `config` on `data` [N, H·W] with checkpoints at `folder`/`name`.h5, resuming from a
    /// checkpoint of the same configuration there (a finished one is only loaded).
    /// - Returns: the trainer (its `emaNetwork()` samples) and a summary.
    public static func run(config: ImageScoreTrainingConfig, data: Tensor<Float>, folder: URL, name: String,
                           quiet: Bool = false) throws -> (trainer: ImageScoreTrainer, summary: ImageScoreTrainingSummary) {
        let trainer = try ImageScoreTrainer(config: config, data: data)
        let url = folder.appendingPathComponent("\(name).h5")
        let resumed = try trainer.loop.runOrResume(checkpoint: url, name: name, quiet: quiet) { trainer.trainStep() }
        return (trainer, ImageScoreTrainingSummary(checkpoint: url.path, steps: trainer.step, resumedFromStep: resumed,
                                                   lossTrace: trainer.lossTrace))
    }
}
