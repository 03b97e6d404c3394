// Common random numbers for the toy (issue 17, HT-C8): arms of one seed with different β start
// from the same weights and see the same minibatches; the training-noise stream differs by β.
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite struct ImbalancedToyPairedTests {
    static let toy = ImbalancedToy(majorityPoints: 100, minorityPoints: 10, modeVariance: 0.2, hidden: [8], learningRate: 1e-3,
                                   batchSize: 16, iterations: 5, sigmas: [1, 0.25])

    @Test func armsShareInitialisationAndMinibatches() {
        var rng = Xoshiro256(seed: 1)
        let data = Self.toy.data(using: &rng)
        var untrained = Self.toy
        untrained.iterations = 0
        var s1 = ImbalancedToy.PairedStreams(seed: 9, key: [3, 0], beta: 1)
        var s2 = ImbalancedToy.PairedStreams(seed: 9, key: [3, 0], beta: 2)
        let (m1, _) = untrained.train(beta: 1, data: data, streams: &s1)
        let (m2, _) = untrained.train(beta: 2, data: data, streams: &s2)
        var w1: [Float] = [], w2: [Float] = []
        m1.forEachParameter { _, p, _ in w1 += p.scalars }
        m2.forEachParameter { _, p, _ in w2 += p.scalars }
        #expect(w1 == w2)
        // After the same number of iterations the minibatch streams are in the same state, the
        // training-noise streams are not (they are keyed by β).
        _ = Self.toy.train(beta: 1, data: data, streams: &s1)
        _ = Self.toy.train(beta: 2, data: data, streams: &s2)
        #expect(s1.minibatch.next() == s2.minibatch.next())
        #expect(s1.trainingNoise.next() != s2.trainingNoise.next())
        // Another seed gives other weights.
        var s3 = ImbalancedToy.PairedStreams(seed: 9, key: [4, 0], beta: 1)
        let (m3, _) = untrained.train(beta: 1, data: data, streams: &s3)
        var w3: [Float] = []
        m3.forEachParameter { _, p, _ in w3 += p.scalars }
        #expect(w1 != w3)
    }
}
