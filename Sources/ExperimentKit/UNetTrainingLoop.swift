// The loss-independent half of an image network's training run, shared by the GND-DSM trainer
// (ImageScoreTraining) and the joint s̃₁ + s̃₂ trainer (ImageSecondOrderTraining): the network,
// Adam and the EMA, the step count, the per-interval loss trace, checkpoints, the resume check
// and the train-or-resume-or-load entry point. Each trainer supplies only its step: filling the
// network's parameter gradients and returning the loss. The order of operations after a step
// (Adam, EMA, step count, loss trace, checkpoint) is fixed here, which is what makes resumed runs
// bit-identical to uninterrupted ones for both trainers.
import DataIO
import Foundation
import NeuralNet
import TensorCore

/// A U-Net training run's bookkeeping and checkpoints; see the file comment.
public final class UNetTrainingLoop {
    /// The network being trained (training weights).
    public let network: UNet<Float>
    public let optimizer: Adam<Float>
    public let ema: ExponentialMovingAverage<Float>
    /// Steps completed.
    public private(set) var step = 0
    /// Mean loss of each checkpoint interval, in order (one entry per `checkpointEvery` steps,
    /// plus the last partial interval).
    public private(set) var lossTrace: [Double] = []
    /// The run's length and checkpoint interval.
    public let totalSteps: Int
    public let checkpointEvery: Int
    /// The configuration's canonical JSON (what checkpoints record and resume checks).
    let configJSON: String
    /// The checkpoint's `kind` attribute.
    let kind: String
    private let baseChannels: Int, outputChannels: Int
    private var intervalLoss = 0.0, intervalSteps = 0

    /// A fresh run of `network` with Adam at `learningRate` and an EMA of decay `emaDecay`
    /// (bias-corrected when `emaBiasCorrected`).
    init(network: UNet<Float>, baseChannels: Int, outputChannels: Int, learningRate: Double, emaDecay: Double, emaBiasCorrected: Bool = false,
         totalSteps: Int, checkpointEvery: Int, configJSON: String, kind: String) {
        self.network = network
        self.baseChannels = baseChannels
        self.outputChannels = outputChannels
        optimizer = Adam<Float>(learningRate: learningRate)
        ema = ExponentialMovingAverage(decay: emaDecay, of: network, biasCorrected: emaBiasCorrected)
        self.totalSteps = totalSteps
        self.checkpointEvery = checkpointEvery
        self.configJSON = configJSON
        self.kind = kind
    }

    /// Completes a step whose parameter gradients are in the network: Adam, EMA, step count and
    /// loss trace (an interval closes every `checkpointEvery` steps and at the last step).
    func completeStep(loss: Double) {
        optimizer.step(network)
        ema.update(from: network)
        step += 1
        intervalLoss += loss
        intervalSteps += 1
        if isCheckpointStep, intervalSteps > 0 {
            lossTrace.append(intervalLoss / Double(intervalSteps))
            intervalLoss = 0
            intervalSteps = 0
        }
    }

    /// Whether the step just completed ends an interval (and gets a checkpoint).
    var isCheckpointStep: Bool { step % checkpointEvery == 0 || step == totalSteps }

    /// Runs `trainStep` (which must end in `completeStep`) until step `stop` (at most
    /// `totalSteps`), writing a checkpoint to `checkpoint` at every interval's end.
    func train(until stop: Int?, checkpoint: URL?, progress: Progress?, _ trainStep: () -> Double) throws {
        let end = min(stop ?? totalSteps, totalSteps)
        while step < end {
            let loss = trainStep()
            progress?.advance(note: String(format: "loss %.4g", loss))
            if let checkpoint, isCheckpointStep { try save(to: checkpoint) }
        }
    }

    /// Writes a training checkpoint (atomically): parameters, Adam moments, EMA, step, the
    /// configuration JSON, `kind` and the loss trace.
    public func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Checkpoint.saveTraining(
            model: network, optimizer: optimizer, ema: ema,
            progress: TrainingProgress(step: step, generators: [:], config: configJSON), to: url,
            attributes: ["kind": kind, "loss_trace": String(decoding: try JSONEncoder().encode(lossTrace), as: UTF8.self)])
    }

    /// Continues from the checkpoint at `url`: parameters, Adam, EMA, step and loss trace.
    /// - Throws: `DataIOError` naming the file when it is not a checkpoint of this configuration
    ///   (the first differing setting is named).
    public func resume(from url: URL) throws {
        let saved = try Checkpoint.loadTraining(model: network, optimizer: optimizer, ema: ema, from: url)
        if saved.config != configJSON {
            throw DataIOError.format(path: url.path, object: "attribute config", expected: "the configuration of this run",
                                     found: Self.firstDifference(saved: saved.config, current: configJSON))
        }
        let file = try HDF5File.open(url)
        defer { try? file.close() }
        lossTrace = try JSONDecoder().decode([Double].self, from: Data(try file.stringAttribute("loss_trace").utf8))
        step = saved.step
        intervalLoss = 0
        intervalSteps = 0
    }

    /// Resumes from `url` if it exists, then trains to the end with checkpoints there (a finished
    /// checkpoint is only loaded). Returns the step it resumed from (0 for a fresh run).
    func runOrResume(checkpoint url: URL, name: String, quiet: Bool, _ trainStep: () -> Double) throws -> Int {
        if FileManager.default.fileExists(atPath: url.path) {
            try resume(from: url)
            log("\(name): resuming from step \(step) of \(totalSteps) (\(url.path))")
        }
        let resumed = step
        if step < totalSteps {
            let progress = Progress("training \(name)", total: totalSteps - step, quiet: quiet)
            try train(until: nil, checkpoint: url, progress: progress, trainStep)
        }
        return resumed
    }

    /// "field: saved vs current" for the first top-level JSON field that differs.
    static func firstDifference(saved: String, current: String) -> String {
        guard let a = try? JSONSerialization.jsonObject(with: Data(saved.utf8)) as? [String: Any],
              let b = try? JSONSerialization.jsonObject(with: Data(current.utf8)) as? [String: Any] else {
            return "a configuration that is not this run's JSON"
        }
        for key in Set(a.keys).union(b.keys).sorted() {
            let x = a[key].map { "\($0)" } ?? "absent", y = b[key].map { "\($0)" } ?? "absent"
            if x != y { return "\(key) = \(x.prefix(60)) (this run: \(y.prefix(60)))" }
        }
        return "a differently encoded configuration"
    }

    /// A copy of the network holding the EMA weights (what sampling uses).
    public func emaNetwork() -> UNet<Float> {
        var rng = Xoshiro256(seed: 0)
        let copy = UNet<Float>(baseChannels: baseChannels, outputChannels: outputChannels, using: &rng)
        ema.copy(to: copy)
        return copy
    }
}

/// A trainer built on a `UNetTrainingLoop`: its network, optimiser, EMA, progress and
/// checkpoints are the loop's.
public protocol UNetLoopTrainer: AnyObject {
    /// Network, Adam, EMA, step count, loss trace and checkpoints.
    var loop: UNetTrainingLoop { get }
}

extension UNetLoopTrainer {
    /// The network being trained (training weights).
    public var network: UNet<Float> { loop.network }
    public var optimizer: Adam<Float> { loop.optimizer }
    public var ema: ExponentialMovingAverage<Float> { loop.ema }
    /// Steps completed.
    public var step: Int { loop.step }
    /// Mean loss of each checkpoint interval, in order.
    public var lossTrace: [Double] { loop.lossTrace }
    /// Writes a training checkpoint (atomically).
    public func save(to url: URL) throws { try loop.save(to: url) }
    /// Continues from the checkpoint at `url` (parameters, Adam, EMA, step, loss trace).
    /// - Throws: `DataIOError` naming the file when it is not a checkpoint of this configuration
    ///   (the first differing setting is named).
    public func resume(from url: URL) throws { try loop.resume(from: url) }
    /// A copy of the network holding the EMA weights (what sampling uses).
    public func emaNetwork() -> UNet<Float> { loop.emaNetwork() }
}
