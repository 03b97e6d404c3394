import Foundation
import NeuralNet
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite struct CheckpointTests {
    /// Save, load into a differently initialised model: parameters and outputs become identical.
    @Test func roundTrip() throws {
        var rng = Xoshiro256(seed: 1)
        let a = MLP<Float>(sizes: [3, 5, 2], activation: .softplus, conditioningSize: 1, using: &rng)
        let b = MLP<Float>(sizes: [3, 5, 2], activation: .softplus, conditioningSize: 1, using: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(a, to: url, attributes: ["experiment": "test"])
        #expect(a.namedParameters().map(\.value) != b.namedParameters().map(\.value))
        try Checkpoint.load(b, from: url)
        #expect(a.namedParameters().map(\.value) == b.namedParameters().map(\.value))
    }

    /// A checkpoint of another architecture is rejected with the parameter named.
    @Test func shapeMismatchIsReported() throws {
        var rng = Xoshiro256(seed: 2)
        let a = MLP<Float>(sizes: [3, 5, 2], activation: .softplus, using: &rng)
        let b = MLP<Float>(sizes: [3, 6, 2], activation: .softplus, using: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint.save(a, to: url)
        do {
            try Checkpoint.load(b, from: url)
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)".contains("layers.0.weight") && "\(error)".contains(url.lastPathComponent))
        }
    }
}
