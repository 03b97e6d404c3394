// Issue 32: the U-Net's training step in oneDNN's channel-blocked layout against the same step in
// NCHW, and its pieces (GroupNorm, upsampling and convolutions on blocked activations) against
// their NCHW versions.
@testable import NeuralNet
import TensorCore
import Testing
import TestSupport

@Suite(.serialized) struct BlockedTrainingTests {
    /// The blocked training step against the NCHW one (`blockedTraining` off), for widths whose
    /// block is this host's (16 on AVX-512) and 8, on 28×28 and 8×8 images, with one and with
    /// three output channels (the high-order heads), in one piece and in three (40 images at 2
    /// threads). The two run different kernels and GroupNorm sums in another order, so they
    /// agree to Float32 rounding: output, dInput and every parameter gradient.
    @Test(arguments: [(16, 28, 1, 5), (16, 8, 3, 5), (32, 8, 1, 5), (8, 28, 1, 5), (16, 8, 1, 40)])
    func matchesTheNCHWStep(width: Int, side: Int, outputs: Int, batch: Int) {
        restoringParallelSettings {
            Parallel.configure(threads: 2)
            var rng = Xoshiro256(seed: 80)
            let net = UNet<Float>(baseChannels: width, outputChannels: outputs, using: &rng)
            let x = Tensor<Float>.randomUniform([batch, 1, side, side], lower: 0, upper: 1, using: &rng)
            let sigmas = Tensor<Float>.randomUniform([batch], lower: 0.05, upper: 1, using: &rng)
            let v = Tensor<Float>.randomNormal([batch, outputs, side, side], using: &rng)
            let expectedBlock = width % ChannelBlockedLayout.block == 0 ? ChannelBlockedLayout.block : 8
            #expect(net.trainingBlock == expectedBlock)
            let blocked = unetPass(net, x, sigmas, v)
            net.blockedTraining = false
            #expect(net.trainingBlock == nil)
            let nchw = unetPass(net, x, sigmas, v)
            expectFloat32Agreement(nchw, blocked, "width \(width), \(side)×\(side), \(outputs) outputs, batch \(batch)")
            // Back to blocked: plans and buffers are reused and give the first call's bits.
            net.blockedTraining = true
            let again = unetPass(net, x, sigmas, v)
            #expect(zip(blocked, again).allSatisfy { $0.1 == $1.1 }, "a second blocked step differs from the first")
        }
    }

    /// The layout follows the network's settings: Float32 on oneDNN's `.oneDNN` backend only.
    @Test func runsBlockedOnlyWhereItCan() {
        var rng = Xoshiro256(seed: 81)
        let net = UNet<Float>(baseChannels: 16, using: &rng)
        #expect(net.trainingBlock != nil)
        net.convolutions[3].backend = .oneDNNPlain
        #expect(net.trainingBlock == nil)
        for conv in net.convolutions { conv.backend = .im2col }
        #expect(net.trainingBlock == nil)
        let reference = UNet<Double>(baseChannels: 16, using: &rng)
        #expect(reference.trainingBlock == nil)
    }

    /// GroupNorm on blocked tensors (forward keeping its statistics, backward with parameter
    /// gradients) against the NCHW layer on the same data, for blocks 8 and 16 and groups that
    /// span part of a block, one block or several: outputs, dInput, dγ and dβ to Float32
    /// rounding (the sums run in another order), the kept μ and 1/σ to Double rounding.
    @Test(arguments: [(8, 32), (16, 32), (16, 64), (8, 16)])
    func groupNormMatchesNCHW(block: Int, channels: Int) {
        var rng = Xoshiro256(seed: 82)
        let groups = 8
        let plain = GroupNorm<Float>(groups: groups, channels: channels), blockedNorm = GroupNorm<Float>(groups: groups, channels: channels)
        let gamma = Tensor<Float>.randomUniform([channels], lower: 0.5, upper: 1.5, using: &rng)
        let beta = Tensor<Float>.randomNormal([channels], using: &rng)
        for n in [plain, blockedNorm] {
            n.weight = gamma
            n.bias = beta
        }
        let x = Tensor<Float>.randomNormal([3, channels, 5, 7], using: &rng).map { 2 * $0 + 0.5 }
        let dy = Tensor<Float>.randomNormal([3, channels, 5, 7], using: &rng)
        var y = Tensor<Float>(shape: [0]), dx = Tensor<Float>(shape: [0])
        plain.forward(x, into: &y)
        plain.backward(input: x, dOutput: dy, into: &dx)
        var xb = Tensor<Float>(shape: [0]), dyb = Tensor<Float>(shape: [0])
        ChannelBlockedLayout.toBlocked(x, block: block, into: &xb)
        ChannelBlockedLayout.toBlocked(dy, block: block, into: &dyb)
        var yb = Tensor<Float>(shape: [0]), dxb = Tensor<Float>(shape: [0]), yBack = Tensor<Float>(shape: [0]), dxBack = Tensor<Float>(shape: [0])
        blockedNorm.forwardBlocked(xb, block: block, into: &yb)
        blockedNorm.backwardBlocked(input: xb, dOutput: dyb, block: block, into: &dxb)
        ChannelBlockedLayout.fromBlocked(yb, block: block, into: &yBack)
        ChannelBlockedLayout.fromBlocked(dxb, block: block, into: &dxBack)
        for (name, e, g) in [("y", y, yBack), ("dx", dx, dxBack), ("dγ", plain.dWeight, blockedNorm.dWeight), ("dβ", plain.dBias, blockedNorm.dBias)] {
            let scale = Double(e.scalars.map { abs($0) }.max()!)
            let worst = zip(e.scalars, g.scalars).map { Double(abs($0 - $1)) }.max()!
            #expect(worst <= Tolerance.float32Ops * scale, "block \(block), C = \(channels), \(name): max |Δ| \(worst) vs \(scale)")
        }
        for (e, g) in zip(plain.mean + plain.rstd, blockedNorm.mean + blockedNorm.rstd) {
            #expect(abs(e - g) <= 1e-12 * max(1, abs(e)))
        }
    }

    /// Upsampling's backward on blocked tensors adds each 2×2 block in the NCHW layer's order:
    /// the same bits.
    @Test(arguments: [8, 16])
    func upsampleBackwardMatchesNCHWBitForBit(block: Int) {
        var rng = Xoshiro256(seed: 83)
        let dy = Tensor<Float>.randomNormal([2, 32, 6, 10], using: &rng)
        let layer = Upsample2D<Float>(factor: 2)
        var dx = Tensor<Float>(shape: [0]), dyb = Tensor<Float>(shape: [0]), dxb = Tensor<Float>(shape: [0]), back = Tensor<Float>(shape: [0])
        layer.backward(input: Tensor(shape: [2, 32, 3, 5]), dOutput: dy, into: &dx)
        ChannelBlockedLayout.toBlocked(dy, block: block, into: &dyb)
        ChannelBlockedLayout.upsample2Backward(dyb, block: block, into: &dxb)
        ChannelBlockedLayout.fromBlocked(dxb, block: block, into: &back)
        #expect(back.shape == dx.shape)
        #expect(back.scalars == dx.scalars)
    }

    /// A convolution told that its activations are blocked on one side or both (3×3, strided
    /// 3×3 and 1×1) computes what it computes on NCHW activations: output, dInput and the
    /// parameter gradients to Float32 rounding, whatever layouts oneDNN picks inside.
    @Test(arguments: [(0, 16), (16, 16), (16, 0), (8, 8)])
    func convolutionWithBlockedActivationsMatchesNCHW(source: Int, destination: Int) {
        for (k, stride, padding) in [(3, 1, 1), (3, 2, 1), (1, 1, 0)] {
            var rng = Xoshiro256(seed: 84)
            let plain = Conv2D<Float>(inputChannels: 32, outputChannels: 16, kernelSize: k, stride: stride, padding: padding, using: &rng)
            var rng2 = Xoshiro256(seed: 84)
            let blocked = Conv2D<Float>(inputChannels: 32, outputChannels: 16, kernelSize: k, stride: stride, padding: padding, using: &rng2)
            let x = Tensor<Float>.randomNormal([3, 32, 9, 8], using: &rng)
            var y = Tensor<Float>(shape: [0]), dx = Tensor<Float>(shape: [0])
            plain.forward(x, into: &y)
            let dy = Tensor<Float>.randomNormal(y.shape, using: &rng)
            plain.backward(input: x, dOutput: dy, into: &dx)
            func to(_ t: Tensor<Float>, _ b: Int) -> Tensor<Float> {
                guard b > 0 else { return t }
                var r = Tensor<Float>(shape: [0])
                ChannelBlockedLayout.toBlocked(t, block: b, into: &r)
                return r
            }
            func from(_ t: Tensor<Float>, _ b: Int) -> Tensor<Float> {
                guard b > 0 else { return t }
                var r = Tensor<Float>(shape: [0])
                ChannelBlockedLayout.fromBlocked(t, block: b, into: &r)
                return r
            }
            let xb = to(x, source)
            var yb = Tensor<Float>(shape: [0]), dxb = Tensor<Float>(shape: [0])
            blocked.forward(xb, into: &yb, layout: ActivationLayout(source: source, destination: destination))
            blocked.backward(input: xb, dOutput: to(dy, destination), into: &dxb)
            for (name, e, g) in [("y", y, from(yb, destination)), ("dx", dx, from(dxb, source)),
                                 ("dW", plain.dWeight, blocked.dWeight), ("db", plain.dBias, blocked.dBias)] {
                let scale = Double(e.scalars.map { abs($0) }.max()!)
                let worst = zip(e.scalars, g.scalars).map { Double(abs($0 - $1)) }.max()!
                #expect(worst <= Tolerance.float32Ops * scale, "k \(k) s \(stride), layouts \(source)/\(destination), \(name): max |Δ| \(worst) vs \(scale)")
            }
        }
    }
}
