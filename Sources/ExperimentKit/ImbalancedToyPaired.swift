// Common random numbers for the 10:1 toy (issue 17, HT-C8): comparisons across β within a seed
// are paired only if the arms share every random stream that does not depend on β. The
// notebook's training draws the network initialisation, the minibatch indices and the noise
// from one generator, so the arms drift apart at the first GND draw. `PairedStreams` gives each
// purpose its own generator, keyed by (seed, purpose) and not by β: the initial weights, the
// minibatch indices, the Langevin start points and the Langevin noise (for a noise law that does
// not depend on β) are then identical across β; only the training-noise stream (whose draws
// depend on β by construction) differs.
import NeuralNet
import ScoreKit
import TensorCore

extension ImbalancedToy {
    /// The generators of one (seed, arm family), shared by every β.
    public struct PairedStreams {
        public var initialisation: Xoshiro256
        public var minibatch: Xoshiro256
        public var trainingNoise: Xoshiro256

        /// Streams keyed by `key` (e.g. [seed, conditioned]); `beta` keys only the training noise.
        public init(seed: UInt64, key: [UInt64], beta: Double) {
            initialisation = Xoshiro256(seed: seed, key: [0x1A17] + key)
            minibatch = Xoshiro256(seed: seed, key: [0xBA7C] + key)
            trainingNoise = Xoshiro256(seed: seed, key: [0x7015E, UInt64(beta * 1e6)] + key)
        }
    }

    /// `train(beta:conditioned:data:using:)` with one generator per purpose (same recipe, same
    /// loss); the returned loss curve is the mean over each 50 iterations.
    public func train(beta: Double, conditioned: Bool = false, data: Tensor<Float>, streams: inout PairedStreams) -> (MLP<Float>, [Double]) {
        let model = MLP<Float>(sizes: [2] + hidden + [2], activation: .relu, conditioningSize: conditioned ? 1 : 0, using: &streams.initialisation)
        let curve = withUnsafeMutablePointer(to: &streams.minibatch) { minibatch in
            withUnsafeMutablePointer(to: &streams.trainingNoise) { noise in
                trainLoop(model, beta: beta, conditioned: conditioned, data: data, minibatch: minibatch, noise: noise)
            }
        }
        return (model, curve)
    }
}
