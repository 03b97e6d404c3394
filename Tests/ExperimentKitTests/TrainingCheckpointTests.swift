import DataIO
import Foundation
import NeuralNet
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

/// A tiny regression task trained with Adam + EMA, minibatches and input noise drawn from two
/// generators, checkpointed every `checkpointEvery` steps: the pieces a real training loop has.
private struct TinyTraining {
    static let totalSteps = 20
    static let checkpointEvery = 4
    static let config = #"{"steps":20,"batch":8,"lr":0.01}"#
    let inputs: Tensor<Float>  // [32, 3]
    let targets: Tensor<Float>  // [32, 2]

    init() {
        var rng = Xoshiro256(seed: 99)
        inputs = Tensor<Float>.randomNormal([32, 3], using: &rng)
        var t = Tensor<Float>(shape: [32, 2])
        for i in 0..<32 {
            t.scalars[i * 2] = sin(inputs.scalars[i * 3]) + inputs.scalars[i * 3 + 1]
            t.scalars[i * 2 + 1] = inputs.scalars[i * 3 + 2] * inputs.scalars[i * 3]
        }
        targets = t
    }

    static func makeModel(seed: UInt64) -> MLP<Float> {
        var rng = Xoshiro256(seed: seed)
        return MLP<Float>(sizes: [3, 8, 2], activation: .softplus, using: &rng)
    }

    /// Trains from `progress` until step `stop`, writing a checkpoint to `url` every k steps.
    func run(model: MLP<Float>, adam: Adam<Float>, ema: ExponentialMovingAverage<Float>,
             progress: inout TrainingProgress, stop: Int, url: URL) throws {
        var batches = progress.generators["batches"]!, noise = progress.generators["noise"]!
        var dPrediction = Tensor<Float>(shape: [8, 2])
        while progress.step < stop {
            let rows = (0..<8).map { _ in batches.nextIndex(32) }
            var x = inputs.gatherRows(rows)
            for k in 0..<x.count { x.scalars[k] += 0.1 * Float(noise.nextNormal()) }
            let y = targets.gatherRows(rows)
            model.zeroGradients()
            let prediction = model.forward(x)
            weightedSquaredError(prediction: prediction, target: y, dPrediction: &dPrediction)
            model.backwardParameters(dPrediction)
            adam.step(model)
            ema.update(from: model)
            progress.step += 1
            progress.generators = ["batches": batches, "noise": noise]
            if progress.step % Self.checkpointEvery == 0 {
                try Checkpoint.saveTraining(model: model, optimizer: adam, ema: ema, progress: progress, to: url)
            }
        }
    }
}

@Suite struct TrainingCheckpointTests {
    func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("train-ckpt-\(UUID().uuidString).h5")
    }

    /// Train 20 steps straight; separately train, stop ("kill") at step 10 with the last
    /// checkpoint at step 8, rebuild everything from scratch (another initialisation, another
    /// learning rate) and resume from the checkpoint. Weights, EMA and Adam state end bit-identical.
    @Test func resumedRunIsBitIdentical() throws {
        let task = TinyTraining()
        let start = TrainingProgress(
            step: 0, generators: ["batches": Xoshiro256(seed: 1), "noise": Xoshiro256(seed: 2)], config: TinyTraining.config)

        let straightURL = temporaryURL()
        defer { try? FileManager.default.removeItem(at: straightURL) }
        let straight = TinyTraining.makeModel(seed: 7)
        let straightAdam = Adam<Float>(learningRate: 0.01)
        let straightEMA = ExponentialMovingAverage(decay: 0.9, of: straight)
        var p1 = start
        try task.run(model: straight, adam: straightAdam, ema: straightEMA, progress: &p1, stop: TinyTraining.totalSteps, url: straightURL)

        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            let model = TinyTraining.makeModel(seed: 7)
            let adam = Adam<Float>(learningRate: 0.01)
            let ema = ExponentialMovingAverage(decay: 0.9, of: model)
            var p = start
            try task.run(model: model, adam: adam, ema: ema, progress: &p, stop: 10, url: url)
        }  // killed: everything in memory is gone

        let model = TinyTraining.makeModel(seed: 123)
        let adam = Adam<Float>(learningRate: 0.5)
        let ema = ExponentialMovingAverage(decay: 0.9, of: model)
        var resumed = try Checkpoint.loadTraining(model: model, optimizer: adam, ema: ema, from: url)
        #expect(resumed.step == 8 && resumed.config == TinyTraining.config)
        #expect(adam.stepCount == 8 && adam.learningRate == 0.01 && ema.updateCount == 8)
        try task.run(model: model, adam: adam, ema: ema, progress: &resumed, stop: TinyTraining.totalSteps, url: url)

        #expect(model.namedParameters().map(\.value) == straight.namedParameters().map(\.value))
        #expect(ema.shadow == straightEMA.shadow)
        #expect(adam.firstMoments == straightAdam.firstMoments && adam.secondMoments == straightAdam.secondMoments)
        #expect(resumed == p1)
        // And the training actually moved the weights away from the fresh initialisation.
        #expect(model.namedParameters().map(\.value) != TinyTraining.makeModel(seed: 7).namedParameters().map(\.value))
    }

    /// A plain parameter checkpoint is not a training checkpoint: the error names file and field.
    @Test func plainCheckpointIsRejected() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = TinyTraining.makeModel(seed: 1)
        try Checkpoint.save(model, to: url)
        do {
            try Checkpoint.loadTraining(model: model, optimizer: Adam<Float>(), ema: nil, from: url)
            Issue.record("expected a format error")
        } catch {
            #expect("\(error)".contains(url.lastPathComponent) && "\(error)".contains("format"))
        }
    }

    /// Issue 26, defect 6: a checkpoint whose EMA weights (or parameters) hold a NaN is refused,
    /// naming the file and the tensor, instead of feeding a sampler that can only diverge.
    @Test func nonFiniteWeightsAreRefused() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = TinyTraining.makeModel(seed: 3)
        let ema = ExponentialMovingAverage(decay: 0.99, of: model)
        ema.shadow[0].scalars[0] = .nan
        let progress = TrainingProgress(step: 0, generators: ["batches": Xoshiro256(seed: 1)], config: "{}")
        try Checkpoint.saveTraining(model: model, optimizer: Adam<Float>(), ema: ema, progress: progress, to: url)
        do {
            try Checkpoint.loadTraining(model: model, optimizer: Adam<Float>(), ema: ExponentialMovingAverage(decay: 0.99, of: model), from: url)
            Issue.record("a NaN EMA weight was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains(url.lastPathComponent) && text.contains("ema/\(model.parameterNames[0])") && text.contains("1 NaN or infinite value(s)"), "\(text)")
        }
        var broken = model.parameter(named: model.parameterNames[1])!
        broken.scalars[0] = .infinity
        try model.setParameter(named: model.parameterNames[1], to: broken)
        try Checkpoint.save(model, to: url)
        do {
            try Checkpoint.load(TinyTraining.makeModel(seed: 4), from: url)
            Issue.record("an infinite parameter was accepted")
        } catch {
            #expect("\(error)".contains("parameters/\(model.parameterNames[1])"), "\(error)")
        }
    }

    /// Resuming with an EMA when the checkpoint has none (or another decay) is reported.
    @Test func emaMismatchIsReported() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = TinyTraining.makeModel(seed: 1)
        let progress = TrainingProgress(step: 0, generators: ["batches": Xoshiro256(seed: 1)], config: "{}")
        try Checkpoint.saveTraining(model: model, optimizer: Adam<Float>(), ema: nil, progress: progress, to: url)
        let back = try Checkpoint.loadTraining(model: model, optimizer: Adam<Float>(), ema: nil, from: url)
        #expect(back == progress)
        do {
            try Checkpoint.loadTraining(model: model, optimizer: Adam<Float>(), ema: ExponentialMovingAverage(decay: 0.99, of: model), from: url)
            Issue.record("expected an EMA error")
        } catch {
            #expect("\(error)".contains("ema"))
        }
    }
}
