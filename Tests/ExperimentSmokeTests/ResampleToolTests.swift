// The resample tool (issue 27) on shipped models of two image sizes, as HT-E6 ships them (8×8
// digits and 28×28 Fashion-MNIST): before, it refused the mix ("different image sizes") and
// `make resample ID=ht-e6-sample-quality` failed; now it writes one grid per size.
@testable import ExperimentKit
import Foundation
import ScoreKit
import TensorCore
import Testing
@testable import resample

@Suite(.serialized) struct ResampleToolTests {
    @Test func oneGridPerImageSize() throws {
        setenv("REPRO_QUIET", "1", 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resample-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let levels = ImageNoiseLevels(sigmas: NoiseSchedule.geometric(sigmaMax: 3, sigmaMin: 0.05, levels: 3), rule: .ncsnv2,
                                      ratio: 2.78, imagesForSigmaMax: 0, description: "test levels")
        try Parallel.inline {
            for (side, name) in [(8, "small"), (12, "large")] {
                let config = ImageScoreTrainingConfig(baseChannels: 8, height: side, width: side, beta: 2, levels: levels, steps: 2, batchSize: 4,
                                                      learningRate: 1e-3, emaDecay: 0.9, checkpointEvery: 2, seed: 1)
                var rng = Xoshiro256(seed: 1)
                let data = Tensor<Float>.randomUniform([10, side * side], lower: 0, upper: 1, using: &rng)
                let (_, summary) = try ImageScoreTraining.run(config: config, data: data, folder: dir.appendingPathComponent("train"), name: name, quiet: true)
                try ShippedModel.export(checkpoint: URL(fileURLWithPath: summary.checkpoint), to: dir.appendingPathComponent("models/\(name).h5"))
            }
        }
        let out = dir.appendingPathComponent("out")
        let cmd = try Resample.parseAsRoot(["--models", dir.appendingPathComponent("models").path, "--out", out.path,
                                            "--samples", "2", "--langevin-steps", "2", "--threads", "1"]) as! Resample
        try cmd.run()
        let written = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        #expect(written.isSuperset(of: ["samples-8x8.png", "samples-8x8.json", "samples-12x12.png", "samples-12x12.json"]))
        #expect(!written.contains("samples.png"))
    }
}
