// Issue 32, part 2: the U-Net's inference forward in oneDNN's channel-blocked layout against the
// plain training forward, and its thread invariance.
import NeuralNet
import TensorCore
import Testing
import TestSupport

@Suite(.serialized) struct BlockedInferenceTests {
    /// A width-16 U-Net (and width 8 where the block is 8) on 28×28 and 8×8 inputs with noise
    /// levels from 1 to 0.01: the blocked forward and the plain forward run the same convolution
    /// kernels and differ only in the order of GroupNorm's sums and in rounding, so they agree to
    /// `Tolerance.float32Ops` relative to the output's largest entry (outputs are divided by σ,
    /// hence scaled per example).
    @Test(arguments: [(16, 28), (16, 8), (32, 8), (8, 28)])
    func matchesThePlainForward(width: Int, side: Int) throws {
        var rng = Xoshiro256(seed: 70)
        let net = UNet<Float>(baseChannels: width, outputChannels: 1, using: &rng)
        let x = Tensor<Float>.randomUniform([5, 1, side, side], lower: 0, upper: 1, using: &rng)
        let sigmas = Tensor<Float>(shape: [5], scalars: [1, 0.3, 0.1, 0.03, 0.01])
        var plain = Tensor<Float>(shape: [0]), blocked = Tensor<Float>(shape: [0])
        net.forward(x, sigmas: sigmas, into: &plain)
        net.forwardInference(x, sigmas: sigmas, into: &blocked)
        let expectedBlock = width % ChannelBlockedLayout.block == 0 ? ChannelBlockedLayout.block : 8
        #expect(net.inferenceBlock(forInputShape: x.shape) == expectedBlock, "width \(width) should run blocked with block \(expectedBlock)")
        #expect(blocked.shape == plain.shape)
        let perExample = plain.count / 5
        for b in 0..<5 {
            let p = plain.scalars[(b * perExample)..<((b + 1) * perExample)]
            let q = blocked.scalars[(b * perExample)..<((b + 1) * perExample)]
            let scale = Double(p.map { abs($0) }.max()!)
            let worst = zip(p, q).map { Double(abs($0 - $1)) }.max()!
            #expect(worst <= Tolerance.float32Ops * scale, "example \(b): max |blocked − plain| \(worst) against max |plain| \(scale)")
        }
        // A second call reuses the plans and buffers and gives the same bits.
        var again = Tensor<Float>(shape: [0])
        net.forwardInference(x, sigmas: sigmas, into: &again)
        #expect(again.scalars == blocked.scalars)
    }

    /// Convolutions on oneDNN's plain-layout backend cannot run blocked: the inference forward
    /// falls back to the plain forward, bit for bit, also when the backend is switched after a
    /// blocked call on the same input shape (no stale answer kept per shape).
    @Test func fallsBackToThePlainForward() {
        var rng = Xoshiro256(seed: 71)
        let net = UNet<Float>(baseChannels: 16, outputChannels: 1, using: &rng)
        let x = Tensor<Float>.randomUniform([2, 1, 8, 8], lower: 0, upper: 1, using: &rng)
        let sigmas = Tensor<Float>(shape: [2], scalars: [0.5, 0.05])
        var plain = Tensor<Float>(shape: [0]), inference = Tensor<Float>(shape: [0])
        net.forwardInference(x, sigmas: sigmas, into: &inference)
        #expect(net.inferenceBlock(forInputShape: x.shape) != nil)
        for conv in net.convolutions { conv.backend = .oneDNNPlain }
        net.forward(x, sigmas: sigmas, into: &plain)
        net.forwardInference(x, sigmas: sigmas, into: &inference)
        #expect(net.inferenceBlock(forInputShape: x.shape) == nil)
        #expect(inference.scalars == plain.scalars)
    }

    /// The same bits at 1, 2 and 3 threads (examples and planes are split, never a sum).
    @Test func isTheSameAtEveryThreadCount() {
        let saved = (Parallel.threads, Parallel.libraryThreads)
        defer { Parallel.configure(threads: saved.0, libraryThreads: saved.1) }
        var results: [[Float]] = []
        for t in [1, 2, 3] {
            Parallel.configure(threads: t)
            var rng = Xoshiro256(seed: 72)
            let net = UNet<Float>(baseChannels: 16, outputChannels: 1, using: &rng)
            let x = Tensor<Float>.randomUniform([8, 1, 28, 28], lower: 0, upper: 1, using: &rng)
            var y = Tensor<Float>(shape: [0])
            net.forwardInference(x, sigmas: Tensor(shape: [8], repeating: 0.2), into: &y)
            results.append(y.scalars)
        }
        #expect(results[1] == results[0])
        #expect(results[2] == results[0])
    }
}
