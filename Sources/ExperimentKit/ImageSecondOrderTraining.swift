// Training of an image network that outputs s̃₁ and an s̃₂ head at one noise level σ, with the
// code-faithful joint loss of the released MNIST runner (high-order spec §1.4–§1.6, E4, §6.4;
// issue 16), beside the first-order `ImageScoreTrainer` and following its pattern (keyed
// streams, Adam, EMA, checkpoints, bit-identical resume).
//
// Network: NeuralNet.UNet with 1 + k output channels of H×W maps: channel 0 is s̃₁, channels
// 1…k the head in `SecondOrderDSM`'s layout (a row of the head is channels 1…k flattened):
//   low-rank r + diagonal: k = r + 1 (r maps U_{·,c}, then d); diagonal: k = 1; full: k = D
//   (channel 1 + i holds row i of M, s̃₂ = ½(M + Mᵀ)).
// Per step t (B = batch, D = H·W):
//   x     ~ the clean source                from Xoshiro256(seed, key: [batches, t])
//   z     ~ N(0, I) [B, D]                  from Xoshiro256(seed, key: [noise, t])
//   one forward of [x̃ = x + σz ; x] (2B rows, every row at σ);
//   loss  = scale·(w·DSM-VR(s̃₁(x̃), s̃₁(x))/σ² + D2SM-A(ψ(x̃)))   (D2SM gradients reach s̃₁: the
//           released code's joint mode; w = 10 for the MNIST low-rank runner)
//   Adam step, then the EMA update (evaluation uses the EMA weights).
import DataIO
import Foundation
import NeuralNet
import ScoreKit
import TensorCore

/// Where clean training images come from.
public enum ImageCleanSource {
    /// Uniform draws (with replacement) from a fixed set [N, H·W].
    case images(Tensor<Float>)
    /// Fresh draws from a Gaussian mixture in D = H·W (e.g. the class-conditional digits mixture,
    /// whose exact Cov[x | x̃] is the ground truth of HO-C5).
    case mixture(GaussianMixture)

    var dimension: Int {
        switch self {
        case .images(let t): return t.columns
        case .mixture(let m): return m.dimension
        }
    }

    func fill(_ x: inout Tensor<Float>, rows b: Int, using rng: inout Xoshiro256) {
        switch self {
        case .images(let data):
            let rows = (0..<b).map { _ in rng.nextIndex(data.rows) }
            data.gatherRows(rows, into: &x)
        case .mixture(let m):
            let s = m.sample(count: b, using: &rng)
            if x.shape != [b, m.dimension] { x = Tensor(shape: [b, m.dimension]) }
            for i in 0..<s.count { x.scalars[i] = Float(s.scalars[i]) }
        }
    }
}

/// Every setting of a second-order image training run (part of its identity).
public struct ImageSecondOrderTrainingConfig: Codable, Sendable, Equatable, ModelTrainingConfiguration {
    /// U-Net base channels C (a positive multiple of 8).
    public var baseChannels: Int
    /// Image height and width (multiples of 4).
    public var height: Int
    public var width: Int
    /// The one noise level σ.
    public var sigma: Double
    /// The s̃₂ head's structure.
    public var structure: SecondOrderStructure
    /// w in scale·(w·DSM-VR/σ² + D2SM-A).
    public var firstOrderWeight: Double
    /// The overall loss scale (σ⁴ keeps the values O(D); Adam does not depend on it).
    public var lossScale: Double
    /// What the clean images are (e.g. "digits8x8 train split"), part of the identity.
    public var data: String
    public var steps: Int
    public var batchSize: Int
    /// Adam's learning rate (constant).
    public var learningRate: Double
    public var emaDecay: Double
    /// Whether the EMA is bias-corrected (see `ImageScoreTrainingConfig.emaBiasCorrected`).
    public var emaBiasCorrected: Bool?
    public var checkpointEvery: Int
    public var seed: UInt64
    /// The D2SM loss form on the head (issue 29): nil is form A, the released code's moment form
    /// (whose gradients reach s̃₁); `.b` is the covariance form ‖s̃₂ − (eeᵀ − I/σ²)‖² with s̃₁
    /// detached, so s̃₁ learns from DSM-VR alone. nil keeps the identity (and checkpoints) of
    /// every form-A configuration written before the option existed.
    public var form: SecondOrderForm?

    /// A configuration; see the properties.
    public init(baseChannels: Int, height: Int, width: Int, sigma: Double, structure: SecondOrderStructure, firstOrderWeight: Double = 10,
                lossScale: Double, data: String, steps: Int, batchSize: Int, learningRate: Double, emaDecay: Double,
                emaBiasCorrected: Bool? = nil, checkpointEvery: Int, seed: UInt64, form: SecondOrderForm? = nil) {
        self.baseChannels = baseChannels
        self.height = height
        self.width = width
        self.sigma = sigma
        self.structure = structure
        self.firstOrderWeight = firstOrderWeight
        self.lossScale = lossScale
        self.data = data
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.emaDecay = emaDecay
        self.emaBiasCorrected = emaBiasCorrected
        self.checkpointEvery = checkpointEvery
        self.seed = seed
        self.form = form
    }

    public var dimension: Int { height * width }
    /// Output channels of the U-Net: 1 (s̃₁) + the head's maps.
    public var outputChannels: Int { 1 + structure.width(dimension: dimension) / dimension }
    /// The D2SM objective on the head.
    public var loss: SecondOrderDSM { SecondOrderDSM(dimension: dimension, sigma: sigma, structure: structure, form: form ?? .a, scale: lossScale) }

    /// Why this configuration cannot run, or nil.
    public var problem: String? {
        if baseChannels < 8 || baseChannels % 8 != 0 { return "base channels must be a positive multiple of 8, got \(baseChannels)" }
        if height < 4 || width < 4 || height % 4 != 0 || width % 4 != 0 { return "image sides must be positive multiples of 4, got \(height)×\(width)" }
        if !(sigma > 0 && sigma.isFinite) { return "σ must be positive, got \(sigma)" }
        if case .lowRank(let r) = structure, r < 1 { return "a low-rank head needs rank ≥ 1, got \(r)" }
        if steps < 1 || batchSize < 1 || checkpointEvery < 1 { return "steps, batch size and checkpoint interval must be positive" }
        if !(learningRate > 0) || !(emaDecay >= 0 && emaDecay < 1) { return "need a positive learning rate and an EMA decay in [0, 1)" }
        if !(firstOrderWeight >= 0) || !(lossScale > 0) { return "need a non-negative first-order weight and a positive loss scale" }
        return nil
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}

/// The joint s̃₁ + s̃₂ training loop of the image network, with checkpoints and resume.
public final class ImageSecondOrderTrainer: UNetLoopTrainer {
    enum Stream: UInt64 { case initialisation = 0x696E_6974, batches = 0x6261_7463, noise = 0x6E6F_6973 }

    public let config: ImageSecondOrderTrainingConfig
    /// Network, Adam, EMA, step count, loss trace and checkpoints.
    public let loop: UNetTrainingLoop

    private let source: ImageCleanSource
    private let objective: SecondOrderDSM
    private var clean = Tensor<Float>(shape: [0]), z = Tensor<Float>(shape: [0]), inputs = Tensor<Float>(shape: [0])
    private var sigmas = Tensor<Float>(shape: [0]), output = Tensor<Float>(shape: [0]), dOutput = Tensor<Float>(shape: [0])
    private var dInput = Tensor<Float>(shape: [0])
    private var head = Tensor<Float>(shape: [0]), s1Noisy = Tensor<Float>(shape: [0]), s1Clean = Tensor<Float>(shape: [0])
    private var dHead = Tensor<Float>(shape: [0]), dScore: Tensor<Float>? = Tensor<Float>(shape: [0])
    private var g = Tensor<Float>(shape: [0]), gc = Tensor<Float>(shape: [0])

    /// A fresh run on `source`, initialised from the seed.
    public init(config: ImageSecondOrderTrainingConfig, source: ImageCleanSource) throws {
        if let p = config.problem { throw ValidationFailure("second-order image training: \(p)") }
        guard source.dimension == config.dimension else {
            throw ValidationFailure("second-order image training: data of dimension \(source.dimension) for \(config.height)×\(config.width) images")
        }
        self.config = config
        self.source = source
        objective = config.loss
        var rng = Xoshiro256(seed: config.seed, key: [Stream.initialisation.rawValue])
        loop = UNetTrainingLoop(
            network: UNet<Float>(baseChannels: config.baseChannels, outputChannels: config.outputChannels, using: &rng),
            baseChannels: config.baseChannels, outputChannels: config.outputChannels, learningRate: config.learningRate,
            emaDecay: config.emaDecay, emaBiasCorrected: config.emaBiasCorrected ?? false, totalSteps: config.steps, checkpointEvery: config.checkpointEvery,
            configJSON: try config.json(), kind: "image second-order network (DSM-VR + D2SM-\((config.form ?? .a).rawValue.uppercased()), \(config.structure))")
    }

    func generator(_ role: Stream, step t: Int) -> Xoshiro256 { Xoshiro256(seed: config.seed, key: [role.rawValue, UInt64(t)]) }

    /// One optimisation step; returns its loss.
    @discardableResult
    public func trainStep() -> Double {
        let (b, d, c) = (config.batchSize, config.dimension, config.outputChannels)
        let w = (c - 1) * d
        var batches = generator(.batches, step: step), noise = generator(.noise, step: step)
        if clean.shape != [b, d] { clean = Tensor(shape: [b, d]) }
        source.fill(&clean, rows: b, using: &batches)
        if z.shape != [b, d] { z = Tensor(shape: [b, d]) }
        z.fillNormal(using: &noise)
        if inputs.count != 2 * b * d { inputs = Tensor(shape: [2 * b, 1, config.height, config.width]); sigmas = Tensor(shape: [2 * b], repeating: Float(config.sigma)) }
        let s = Float(config.sigma)
        for i in 0..<(b * d) {
            inputs.scalars[i] = clean.scalars[i] + s * z.scalars[i]
            inputs.scalars[b * d + i] = clean.scalars[i]
        }
        network.zeroGradients()
        network.forward(inputs, sigmas: sigmas, into: &output)
        // Split: rows < b are x̃ (s̃₁ and head), rows ≥ b the clean x (s̃₁ only).
        if head.shape != [b, w] { head = Tensor(shape: [b, w]); s1Noisy = Tensor(shape: [b, d]); s1Clean = Tensor(shape: [b, d]) }
        for r in 0..<b {
            let o = r * c * d, oc = (b + r) * c * d
            for k in 0..<d {
                s1Noisy.scalars[r * d + k] = output.scalars[o + k]
                s1Clean.scalars[r * d + k] = output.scalars[oc + k]
            }
            for k in 0..<w { head.scalars[r * w + k] = output.scalars[o + d + k] }
        }
        var loss = objective.loss(head: head, score: s1Noisy, noise: z, dHead: &dHead, dScore: &dScore)
        let dsm = SecondOrderDSM.firstOrderLossVR(score: s1Noisy, cleanScore: s1Clean, noise: z, sigma: config.sigma, dScore: &g, dCleanScore: &gc)
        let factor = config.lossScale * config.firstOrderWeight / (config.sigma * config.sigma)
        loss += factor * dsm
        if dOutput.shape != output.shape { dOutput = Tensor(shape: output.shape) }
        dOutput.fill(0)
        let f = Float(factor)
        for r in 0..<b {
            let o = r * c * d, oc = (b + r) * c * d
            for k in 0..<d {
                dOutput.scalars[o + k] = dScore!.scalars[r * d + k] + f * g.scalars[r * d + k]
                dOutput.scalars[oc + k] = f * gc.scalars[r * d + k]
            }
            for k in 0..<w { dOutput.scalars[o + d + k] = dHead.scalars[r * w + k] }
        }
        network.backward(input: inputs, dOutput: dOutput, into: &dInput, accumulateParameterGradients: true)
        loop.completeStep(loss: loss)
        return loss
    }

    /// Trains until `config.steps`, writing a checkpoint to `checkpoint` every `checkpointEvery`
    /// steps and at the end.
    public func train(checkpoint: URL?, progress: Progress? = nil) throws {
        try loop.train(until: nil, checkpoint: checkpoint, progress: progress) { trainStep() }
    }
}

/// A trained second-order image model: s̃₁ and the s̃₂ head at σ for images [n, H·W].
public struct ImageSecondOrderModel {
    public let network: UNet<Float>
    public let config: ImageSecondOrderTrainingConfig

    public init(network: UNet<Float>, config: ImageSecondOrderTrainingConfig) {
        self.network = network
        self.config = config
    }

    /// Loads the EMA weights of a checkpoint written by `ImageSecondOrderTrainer`.
    public static func load(checkpoint url: URL, config: ImageSecondOrderTrainingConfig) throws -> ImageSecondOrderModel {
        let dummy = ImageCleanSource.images(Tensor<Float>(shape: [1, config.dimension]))
        let trainer = try ImageSecondOrderTrainer(config: config, source: dummy)
        try trainer.resume(from: url)
        return ImageSecondOrderModel(network: trainer.emaNetwork(), config: config)
    }

    /// s̃₁(x) [n, D] and the head [n, width] at the model's σ, for x [n, D] (Float).
    public func evaluate(_ x: Tensor<Float>, score: inout Tensor<Float>, head: inout Tensor<Float>) {
        let (n, d, c) = (x.rows, config.dimension, config.outputChannels)
        let w = (c - 1) * d
        var out = Tensor<Float>(shape: [0])
        // The inference forward (blocked layout where the width allows; issue 32).
        network.forwardInference(x.reshaped([n, 1, config.height, config.width]), sigmas: Tensor(shape: [n], repeating: Float(config.sigma)), into: &out)
        if score.shape != [n, d] { score = Tensor(shape: [n, d]) }
        if head.shape != [n, w] { head = Tensor(shape: [n, w]) }
        for r in 0..<n {
            for k in 0..<d { score.scalars[r * d + k] = out.scalars[r * c * d + k] }
            for k in 0..<w { head.scalars[r * w + k] = out.scalars[r * c * d + d + k] }
        }
    }
}

/// What a finished (or reloaded) second-order training run reports.
public struct ImageSecondOrderTrainingSummary: Codable, Sendable, Equatable {
    public var checkpoint: String
    public var steps: Int
    public var resumedFromStep: Int
    public var lossTrace: [Double]
}

extension RunDirectory {
    /// Trains second-order model `name` (or resumes it, or only loads it when trained) with
    /// `config` on `source`, checkpointing into the model store (keyed by the configuration's
    /// hash, as `trainImageScoreModel`); `--force` retrains.
    @discardableResult
    public func trainImageSecondOrderModel(_ name: String, config: ImageSecondOrderTrainingConfig, source: ImageCleanSource,
                                           quiet: Bool = false) throws -> ImageSecondOrderTrainingSummary {
        let url = try modelURL(name, config: config)
        if options.force { FolderCommit.removeIfPresent(url) }
        let trainer = try ImageSecondOrderTrainer(config: config, source: source)
        let resumed = try trainer.loop.runOrResume(checkpoint: url, name: name, quiet: quiet) { trainer.trainStep() }
        return ImageSecondOrderTrainingSummary(checkpoint: url.path, steps: trainer.step, resumedFromStep: resumed, lossTrace: trainer.lossTrace)
    }

    /// As `trainImageSecondOrderModel`, also keeping a copy of the checkpoint at each step of
    /// `snapshots` (issue 29: the learning curve of HO-E4), named `<name>-step<s>` in the model
    /// store with the configuration's hash. Step t of a run does not depend on its length (keyed
    /// streams, constant learning rate, an EMA schedule in t alone), so a snapshot at s is the
    /// model a run of s steps would give. Each step of `snapshots` must end a checkpoint interval
    /// (a multiple of `checkpointEvery`) and lie below `steps`. A checkpoint already past a
    /// missing snapshot is trained again from the start.
    @discardableResult
    public func trainImageSecondOrderModel(_ name: String, config: ImageSecondOrderTrainingConfig, source: ImageCleanSource, snapshots: [Int],
                                           quiet: Bool = false) throws -> ImageSecondOrderTrainingSummary {
        let steps = snapshots.sorted()
        precondition(steps.allSatisfy { $0 > 0 && $0 < config.steps && $0 % config.checkpointEvery == 0 },
                     "snapshots must be multiples of checkpointEvery below the step count")
        let url = try modelURL(name, config: config)
        if options.force {
            FolderCommit.removeIfPresent(url)
            for s in steps { FolderCommit.removeIfPresent(try snapshotURL(name, step: s, config: config)) }
        }
        var trainer = try ImageSecondOrderTrainer(config: config, source: source)
        if FileManager.default.fileExists(atPath: url.path) { try trainer.resume(from: url) }
        let resumed = trainer.step
        for s in steps {
            let snap = try snapshotURL(name, step: s, config: config)
            if FileManager.default.fileExists(atPath: snap.path) { continue }
            if trainer.step > s {
                log("\(name): checkpoint at step \(trainer.step) is past the missing snapshot at \(s); training again from the start")
                FolderCommit.removeIfPresent(url)
                trainer = try ImageSecondOrderTrainer(config: config, source: source)
            }
            if trainer.step < s {
                let progress = Progress("training \(name) to \(s)", total: s - trainer.step, quiet: quiet)
                try trainer.loop.train(until: s, checkpoint: url, progress: progress) { trainer.trainStep() }
            }
            try AtomicFile.replace(snap) { try FileManager.default.copyItem(at: url, to: $0) }
        }
        if trainer.step < config.steps {
            let progress = Progress("training \(name)", total: config.steps - trainer.step, quiet: quiet)
            try trainer.loop.train(until: nil, checkpoint: url, progress: progress) { trainer.trainStep() }
        }
        return ImageSecondOrderTrainingSummary(checkpoint: url.path, steps: trainer.step, resumedFromStep: resumed, lossTrace: trainer.lossTrace)
    }

    /// Where `trainImageSecondOrderModel(_:config:source:snapshots:)` keeps the snapshot at `step`.
    public func snapshotURL(_ name: String, step: Int, config: ImageSecondOrderTrainingConfig) throws -> URL {
        try modelURL("\(name)-step\(step)", config: config)
    }

    /// The EMA model of the snapshot of `name` at `step` (not published).
    public func loadImageSecondOrderSnapshot(_ name: String, step: Int, config: ImageSecondOrderTrainingConfig) throws -> ImageSecondOrderModel {
        let url = try snapshotURL(name, step: step, config: config)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.format(path: url.path, object: "snapshot \(name) at step \(step)", expected: "a checkpoint copy (its training unit has not run)", found: "no file")
        }
        return try ImageSecondOrderModel.load(checkpoint: url, config: config)
    }

    /// The EMA model of `name` trained with `config`; remembered for `publishModels`.
    public func loadImageSecondOrderModel(_ name: String, config: ImageSecondOrderTrainingConfig) throws -> ImageSecondOrderModel {
        let url = try modelURL(name, config: config)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.format(path: url.path, object: "model \(name)", expected: "a trained checkpoint (its training unit has not run)", found: "no file")
        }
        let model = try ImageSecondOrderModel.load(checkpoint: url, config: config)
        publishedModels[name] = url
        return model
    }
}
