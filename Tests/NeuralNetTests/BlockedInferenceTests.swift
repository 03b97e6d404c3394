// Issue 32, part 2: the U-Net's inference forward in oneDNN's channel-blocked layout against the
// plain training forward, and its thread invariance.
@testable import NeuralNet
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
        net.blockedTraining = false  // the reference: the training forward in NCHW
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

    /// The same bits at 1, 2 and 3 threads. 40 images in pieces of 16 make three pieces (16, 16
    /// and 8), so the workers, the replicas and the smaller last piece (a second plan per layer)
    /// all run.
    @Test func isTheSameAtEveryThreadCount() {
        restoringParallelSettings {
            var results: [[Float]] = []
            for t in [1, 2, 3] {
                Parallel.configure(threads: t)
                var rng = Xoshiro256(seed: 72)
                let net = UNet<Float>(baseChannels: 16, outputChannels: 1, using: &rng)
                #expect(net.inferencePieceImages == 16)
                let x = Tensor<Float>.randomUniform([40, 1, 28, 28], lower: 0, upper: 1, using: &rng)
                let sigmas = Tensor<Float>(shape: [40], scalars: (0..<40).map { Float(0.01 + 0.02 * Double($0)) })
                var y = Tensor<Float>(shape: [0])
                net.forwardInference(x, sigmas: sigmas, into: &y)
                results.append(y.scalars)
                // Twice more: plans and replicas are reused, and the answer stays the same.
                net.forwardInference(x, sigmas: sigmas, into: &y)
                net.forwardInference(x, sigmas: sigmas, into: &y)
                #expect(y.scalars == results.last!, "a repeated call at \(t) threads changed the output")
            }
            #expect(results[1] == results[0])
            #expect(results[2] == results[0])
        }
    }

    /// Pieces against one whole-batch call: every layer computes each image on its own, so the
    /// two agree to Float32 rounding (`Tolerance.float32Ops` of the largest output), and where
    /// oneDNN's kernels do not depend on the batch size (measured on an AVX-512 host) bit for bit.
    /// Every image is written once, in its place: the σ of image b scales row b only.
    @Test func piecesAgreeWithOneWholeBatch() {
        restoringParallelSettings {
            Parallel.configure(threads: 2)
            var rng = Xoshiro256(seed: 73)
            let net = UNet<Float>(baseChannels: 8, outputChannels: 1, using: &rng)
            let n = 21
            let x = Tensor<Float>.randomUniform([n, 1, 8, 8], lower: 0, upper: 1, using: &rng)
            let sigmas = Tensor<Float>(shape: [n], scalars: (0..<n).map { Float(0.05 + 0.05 * Double($0)) })
            var whole = Tensor<Float>(shape: [0]), pieces = Tensor<Float>(shape: [0])
            net.inferencePieceImages = n
            net.forwardInference(x, sigmas: sigmas, into: &whole)
            net.inferencePieceImages = 4  // six pieces: 4, 4, 4, 4, 4 and 1
            net.forwardInference(x, sigmas: sigmas, into: &pieces)
            #expect(pieces.shape == whole.shape)
            let scale = Double(whole.scalars.map { abs($0) }.max()!)
            let worst = zip(whole.scalars, pieces.scalars).map { Double(abs($0 - $1)) }.max()!
            #expect(worst <= Tolerance.float32Ops * scale, "max |pieces − whole| \(worst) against max |whole| \(scale)")
            // Each image alone, at its own σ, gives its row of the batch's output.
            for b in [0, 7, 20] {
                let xb = Tensor<Float>(shape: [1, 1, 8, 8], scalars: Array(x.scalars[(b * 64)..<((b + 1) * 64)]))
                var yb = Tensor<Float>(shape: [0])
                net.forwardInference(xb, sigmas: Tensor(shape: [1], scalars: [sigmas.scalars[b]]), into: &yb)
                let row = Array(pieces.scalars[(b * 64)..<((b + 1) * 64)])
                let rowWorst = zip(row, yb.scalars).map { Double(abs($0 - $1)) }.max()!
                #expect(rowWorst <= Tolerance.float32Ops * scale, "image \(b): max |piece row − alone| \(rowWorst)")
            }
        }
    }

    /// The replicas that run pieces on other threads are given the network's parameters at every
    /// call. Checked directly (which worker takes which piece is up to the scheduler, and tiny
    /// pieces may all go to the calling thread): after the parameters change, every replica's
    /// forward gives the network's own output, bit for bit.
    @Test func replicasAreSyncedAtEveryCall() {
        var rng = Xoshiro256(seed: 75)
        let net = UNet<Float>(baseChannels: 8, outputChannels: 1, using: &rng)
        let x = Tensor<Float>.randomUniform([2, 1, 8, 8], lower: 0, upper: 1, using: &rng)
        let sigmas = Tensor<Float>(shape: [2], repeating: 0.3)
        _ = net.inferenceNetworks(3)
        net.forEachParameter { name, p, _ in
            if name.hasSuffix("weight") { p.scale(by: 1.5) }
        }
        let networks = net.inferenceNetworks(3)
        #expect(networks.count == 3 && networks[0] === net)
        var expected = Tensor<Float>(shape: [0])
        net.forwardInferenceWhole(x, sigmas: sigmas, into: &expected)
        for r in networks.dropFirst() {
            #expect(r !== net)
            var y = Tensor<Float>(shape: [0])
            r.forwardInferenceWhole(x, sigmas: sigmas, into: &y)
            #expect(y.scalars == expected.scalars)
        }
    }

    /// The replicas that run pieces on other threads share the network's parameters at every
    /// call: after the parameters change (as an optimiser step or a load would change them), a
    /// multi-threaded call gives what a one-thread call gives with the new parameters, not the
    /// old output. A backend switch reaches the replicas too (they fall back with the network).
    @Test func replicasFollowTheNetworksParameters() {
        restoringParallelSettings {
            var rng = Xoshiro256(seed: 74)
            let net = UNet<Float>(baseChannels: 8, outputChannels: 1, using: &rng)
            net.inferencePieceImages = 2
            let x = Tensor<Float>.randomUniform([6, 1, 8, 8], lower: 0, upper: 1, using: &rng)
            let sigmas = Tensor<Float>(shape: [6], repeating: 0.3)
            var before = Tensor<Float>(shape: [0]), after = Tensor<Float>(shape: [0]), oneThread = Tensor<Float>(shape: [0])
            Parallel.configure(threads: 3)
            net.forwardInference(x, sigmas: sigmas, into: &before)
            net.forEachParameter { name, p, _ in
                if name.hasSuffix("weight") { p.scale(by: 1.5) }
            }
            net.forwardInference(x, sigmas: sigmas, into: &after)
            Parallel.configure(threads: 1)
            net.forwardInference(x, sigmas: sigmas, into: &oneThread)
            #expect(after.scalars == oneThread.scalars)
            #expect(after.scalars != before.scalars)
            // Backend switched after multi-threaded calls: every piece, on every worker, falls back to
            // the plain forward (whose outputs differ from the blocked path's in the last bits, and
            // are again the same at 1 and 3 threads).
            for conv in net.convolutions { conv.backend = .oneDNNPlain }
            #expect(net.inferenceBlock(forInputShape: x.shape) == nil)
            var plainOneThread = Tensor<Float>(shape: [0])
            net.forwardInference(x, sigmas: sigmas, into: &plainOneThread)
            Parallel.configure(threads: 3)
            net.forwardInference(x, sigmas: sigmas, into: &after)
            #expect(after.scalars == plainOneThread.scalars)
            var plainWhole = Tensor<Float>(shape: [0])
            net.forward(x, sigmas: sigmas, into: &plainWhole)
            let scale = Double(plainWhole.scalars.map { abs($0) }.max()!)
            let worst = zip(plainWhole.scalars, after.scalars).map { Double(abs($0 - $1)) }.max()!
            #expect(worst <= Tolerance.float32Ops * scale)
            #expect(after.scalars != oneThread.scalars, "the blocked and plain paths should differ in the last bits")
        }
    }
}
