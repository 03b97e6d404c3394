import DataIO
import Foundation
import NeuralNet
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

/// 8×8 images of three classes (a bright top half, a bright left half, a bright bottom-right
/// quarter) plus uniform noise: learnable in a few dozen steps.
func syntheticImages(count: Int, seed: UInt64) throws -> LabeledImages {
    var rng = Xoshiro256(seed: seed)
    var pixels = [Float](repeating: 0, count: count * 64)
    var labels: [UInt8] = []
    for i in 0..<count {
        let c = i % 3
        labels.append(UInt8(c))
        for y in 0..<8 {
            for x in 0..<8 {
                let on = c == 0 ? y < 4 : (c == 1 ? x < 4 : (x >= 4 && y >= 4))
                pixels[i * 64 + y * 8 + x] = Float(min(1, max(0, (on ? 0.7 : 0.2) + 0.3 * (rng.nextUniform() - 0.5))))
            }
        }
    }
    return try LabeledImages(images: Tensor(shape: [count, 64], scalars: pixels), labels: labels, height: 8, width: 8)
}

@Suite struct ImageClassifierTests {
    static let config = ClassifierTrainingConfig(
        architecture: ConvClassifierArchitecture(height: 8, width: 8, convolutionChannels: [8, 8], convolutionStrides: [1, 2],
                                                 hidden: 16, classes: 3),
        epochs: 3, batchSize: 16, learningRate: 3e-3)

    func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("classifier-\(UUID().uuidString).h5")
    }

    func trainTiny(seed: UInt64) throws -> ImageClassifier {
        try ImageClassifier.train(train: try syntheticImages(count: 96, seed: 1), test: try syntheticImages(count: 48, seed: 2),
                                  classes: 3, config: Self.config, seed: seed, dataset: "synthetic", quiet: true)
    }

    /// Same seed, same data, same threads: bit-identical weights; another seed differs. The
    /// classifier also learns the easy task (accuracy well above the 1/3 of guessing).
    @Test func seededTrainingIsDeterministic() throws {
        let a = try trainTiny(seed: 4), b = try trainTiny(seed: 4), c = try trainTiny(seed: 5)
        #expect(a.network.namedParameters().map(\.value) == b.network.namedParameters().map(\.value))
        #expect(a.network.namedParameters().map(\.value) != c.network.namedParameters().map(\.value))
        #expect(a.record.testAccuracy == b.record.testAccuracy)
        #expect(a.record.testAccuracy > 0.9, "accuracy \(a.record.testAccuracy) on a separable 3-class task")
    }

    /// Save then load: same parameters, same record, same labels and features.
    @Test func saveLoadRoundTrip() throws {
        let a = try trainTiny(seed: 4)
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try a.save(to: url)
        let b = try ImageClassifier.load(from: url, dataset: "synthetic")
        #expect(b.record == a.record)
        #expect(b.network.namedParameters().map(\.value) == a.network.namedParameters().map(\.value))
        let images = try syntheticImages(count: 20, seed: 9).images
        let (la, fa) = a.evaluate(images), (lb, fb) = b.evaluate(images)
        #expect(la == lb && fa == fb && fa.shape == [20, 16])
    }

    /// Errors name the file and the field.
    @Test func loadErrorsNameFileAndField() throws {
        let a = try trainTiny(seed: 4)
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        try a.save(to: url)
        #expect(throws: (any Error).self) { try ImageClassifier.load(from: url, dataset: "digits8x8") }
        do { _ = try ImageClassifier.load(from: url, dataset: "digits8x8") } catch {
            #expect("\(error)".contains(url.lastPathComponent) && "\(error)".contains("dataset"))
        }
        let missing = temporaryURL()
        do { _ = try ImageClassifier.load(from: missing) } catch {
            #expect("\(error)".contains(missing.lastPathComponent) && "\(error)".contains("make classifiers"))
        }
        // A plain parameter checkpoint is not a classifier checkpoint.
        let plain = temporaryURL()
        defer { try? FileManager.default.removeItem(at: plain) }
        try Checkpoint.save(a.network, to: plain)
        do {
            _ = try ImageClassifier.load(from: plain)
            Issue.record("expected a format error")
        } catch {
            #expect("\(error)".contains(plain.lastPathComponent) && "\(error)".contains("format"), "\(error)")
        }
    }
}
