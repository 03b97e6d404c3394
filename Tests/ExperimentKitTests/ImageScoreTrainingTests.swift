import DataIO
import Foundation
import NeuralNet
import ScoreKit
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite(.serialized) struct ImageScoreTrainingTests {
    /// A tiny run: C = 8, 8×8 images, 12 steps, checkpoints every 4.
    static func config(beta: Double = 2, seed: UInt64 = 3) -> ImageScoreTrainingConfig {
        let levels = ImageNoiseLevels(sigmas: NoiseSchedule.geometric(sigmaMax: 3, sigmaMin: 0.05, levels: 5), rule: .ncsnv2,
                                      ratio: 2.78, imagesForSigmaMax: 0, description: "test levels")
        return ImageScoreTrainingConfig(baseChannels: 8, height: 8, width: 8, beta: beta, levels: levels, steps: 12, batchSize: 6,
                                        learningRate: 1e-3, emaDecay: 0.9, checkpointEvery: 4, seed: seed)
    }

    static func data() throws -> Tensor<Float> { try syntheticImages(count: 30, seed: 7).images }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("score-train-\(UUID().uuidString)")
    }

    /// Uninterrupted vs killed after step 6 (last checkpoint at 4) and resumed in fresh objects:
    /// parameters, EMA, Adam moments and the loss trace end bit-identical.
    @Test func resumedRunIsBitIdentical() throws {
        // Inline: oneDNN runs on this thread alone, whatever thread count tests running
        // beside this one set process-wide (a changed team size changes the float sums).
        try Parallel.inline {
            let dir = folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try Self.data()
            let straight = try ImageScoreTrainer(config: Self.config(), data: data)
            try straight.train(checkpoint: dir.appendingPathComponent("straight.h5"))

            let url = dir.appendingPathComponent("killed.h5")
            do {
                let killed = try ImageScoreTrainer(config: Self.config(), data: data)
                try killed.train(until: 6, checkpoint: url)
            }  // "kill -9": steps 5 and 6 are lost, the checkpoint holds step 4
            let (resumed, summary) = try ImageScoreTraining.run(config: Self.config(), data: data, folder: dir, name: "killed", quiet: true)
            #expect(summary.resumedFromStep == 4 && summary.steps == 12)
            #expect(resumed.network.namedParameters().map(\.value) == straight.network.namedParameters().map(\.value))
            #expect(resumed.ema.shadow == straight.ema.shadow)
            #expect(resumed.optimizer.firstMoments == straight.optimizer.firstMoments)
            #expect(resumed.optimizer.secondMoments == straight.optimizer.secondMoments)
            #expect(resumed.lossTrace == straight.lossTrace && resumed.lossTrace.count == 3)
            #expect(resumed.lossTrace.allSatisfy { $0.isFinite })

            // A finished checkpoint is only loaded; the EMA network sampled from is the same.
            let (again, s2) = try ImageScoreTraining.run(config: Self.config(), data: data, folder: dir, name: "killed", quiet: true)
            #expect(s2.resumedFromStep == 12)
            #expect(again.emaNetwork().namedParameters().map(\.value) == straight.emaNetwork().namedParameters().map(\.value))
            let loaded = try ImageScoreModel.load(checkpoint: url, config: Self.config())
            #expect(loaded.network.namedParameters().map(\.value) == straight.ema.shadow)
        }
    }

    /// Paired arms (same seed, another β) share the initialisation; a checkpoint of another
    /// configuration is refused naming the file and the setting.
    @Test func pairingAndConfigurationCheck() throws {
        let dir = folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.data()
        let a = try ImageScoreTrainer(config: Self.config(beta: 2), data: data)
        let b = try ImageScoreTrainer(config: Self.config(beta: 1.5), data: data)
        #expect(a.network.namedParameters().map(\.value) == b.network.namedParameters().map(\.value))
        try a.train(until: 4, checkpoint: dir.appendingPathComponent("m.h5"))
        do {
            _ = try ImageScoreTraining.run(config: Self.config(beta: 1.5), data: data, folder: dir, name: "m", quiet: true)
            Issue.record("expected a configuration error")
        } catch {
            #expect("\(error)".contains("m.h5") && "\(error)".contains("beta"))
        }
    }

    /// Both level rules: σ_1 is the largest pairwise distance, levels descend geometrically by the
    /// reported ratio, and the last is the smallest one ≥ σ_min.
    @Test func noiseLevelRules() throws {
        let data = try Self.data()
        let sigmaMax = NoiseScaling.maxPairwiseDistance(data)
        for (rule, beta) in [(NoiseLevelRule.ncsnv2, 2.0), (.noiseScaling, 1.5)] {
            let l = try ImageNoiseLevels.choose(rule: rule, images: data, beta: beta, sigmaMin: 0.05)
            #expect(l.rule == rule && l.ratio > 1 && l.sigmas[0] == sigmaMax)
            let last = l.sigmas[l.sigmas.count - 1]
            #expect(last >= 0.05 * (1 - NoiseSchedule.inclusionSlack) && last / l.ratio < 0.05)
            for i in 1..<l.sigmas.count {
                #expect(abs(l.sigmas[i - 1] / l.sigmas[i] - l.ratio) < Tolerance.float64Ops * l.ratio)
            }
        }
    }

    /// GND noise (β = 1.5) trains with finite losses, from the same initialisation as β = 2.
    @Test func gndTrainingRuns() throws {
        let trainer = try ImageScoreTrainer(config: Self.config(beta: 1.5), data: try Self.data())
        let losses = (0..<4).map { _ in trainer.trainStep() }
        #expect(losses.allSatisfy { $0.isFinite && $0 > 0 })
    }

    /// Sampling: chains do not depend on the batch they run in, and metrics run end to end.
    @Test func samplingIsBatchIndependent() throws {
        let data = try Self.data()
        let trainer = try ImageScoreTrainer(config: Self.config(), data: data)
        try trainer.train(until: 4, checkpoint: nil)
        let model = ImageScoreModel(trainer: trainer)
        var settings = ImageSamplingConfig(stepSize: 1e-3, stepsPerLevel: 2, batchSize: 6)
        let one = ImageSampler.sample(model: model, config: settings, count: 6, seed: 5)
        settings.batchSize = 4
        let two = ImageSampler.sample(model: model, config: settings, count: 6, seed: 5)
        #expect(one.images == two.images)
        let tail = ImageSampler.sample(model: model, config: settings, count: 2, seed: 5, firstChain: 4)
        #expect(Array(one.images.scalars[(4 * 64)...]) == tail.images.scalars)
        let clamped = one.clamped().images
        #expect(clamped.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Issue 27: a shipped model (EMA weights + training configuration, no Adam state) scores
    /// exactly as the trained model's EMA network, is a fraction of the checkpoint's size, and a
    /// training checkpoint is refused where a shipped model is expected.
    @Test func shippedModelScoresAsTheTrainedOne() throws {
        try Parallel.inline {
            let dir = folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try Self.data()
            let (trainer, summary) = try ImageScoreTraining.run(config: Self.config(), data: data, folder: dir, name: "m", quiet: true)
            let shipped = dir.appendingPathComponent("shipped/m.h5")
            try ShippedModel.export(checkpoint: URL(fileURLWithPath: summary.checkpoint), to: shipped)
            let (model, config) = try ShippedModel.load(shipped)
            #expect(config == Self.config())
            let reference = ImageScoreModel(trainer: trainer)
            let x = data.gatherRows([0, 1, 2])
            var a = Tensor<Float>(shape: [0]), b = Tensor<Float>(shape: [0])
            for level in [0, 4] {
                model.score(x, level: level, into: &a)
                reference.score(x, level: level, into: &b)
                #expect(a.scalars == b.scalars, "level \(level)")
            }
            let sizes = try [summary.checkpoint, shipped.path].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
            #expect(sizes[1] * 3 < sizes[0], "shipped \(sizes[1]) bytes against the checkpoint's \(sizes[0])")
            #expect(throws: (any Error).self) { _ = try ShippedModel.load(URL(fileURLWithPath: summary.checkpoint)) }
        }
    }
}
