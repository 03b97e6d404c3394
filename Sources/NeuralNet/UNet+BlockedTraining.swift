// The U-Net's training forward and backward in oneDNN's channel-blocked layout (issue 32).
//
// Why: the profile of the training step (bench --networks unet) put 8 % of a C = 32 step at one
// thread (AVX-512 host) in oneDNN's reorders between our NCHW tensors and its blocked layouts,
// around every convolution's forward, backward-data and backward-weights. Here every activation
// and every activation gradient between the first and the last convolution stays in nChw{B}c
// (BlockedLayout.swift), as in the sampling forward (BlockedInference.swift): the convolutions
// are told the caller's layout (`ActivationLayout`), so their ports reorder nothing where oneDNN
// chooses that layout too; the first convolution reads the NCHW input and writes blocked, the
// last reads blocked and writes NCHW. GroupNorm and upsampling have blocked versions (forward
// and backward); SiLU, the residual adds, concatenation and splitting are the same in either
// layout. Each layer keeps what its backward needs, as in the plain path.
//
// Its sums run in another order than the plain step's (GroupNorm's statistics, oneDNN's kernels
// for other layouts), so the two agree to Float32 rounding, not bit for bit; each is the same at
// any thread count (pieces of a fixed size, every loop split over examples or planes).
import TensorCore

extension ResidualBlock where Scalar == Float {
    /// `forward` on blocked tensors, keeping what `backwardBlocked` needs.
    func forwardBlocked(training x: Tensor<Float>, block: Int, into out: inout Tensor<Float>) {
        let layout = ActivationLayout.blocked(block)
        norm1.forwardBlocked(x, block: block, into: &n1)
        act1.forward(n1, into: &a1)
        conv1.forward(a1, into: &c1, layout: layout)
        norm2.forwardBlocked(c1, block: block, into: &n2)
        act2.forward(n2, into: &a2)
        conv2.forward(a2, into: &out, layout: layout)
        if let skip {
            skip.forward(x, into: &gSkip, layout: layout)
            out.add(gSkip)
        } else {
            out.add(x)
        }
    }

    /// `backward` of the last `forwardBlocked(training:block:into:)`, on blocked tensors.
    func backwardBlocked(input x: Tensor<Float>, dOutput: Tensor<Float>, block: Int, into dx: inout Tensor<Float>,
                         accumulateParameterGradients acc: Bool) {
        conv2.backward(input: a2, dOutput: dOutput, into: &g1, accumulateParameterGradients: acc)
        act2.backward(input: n2, dOutput: g1, into: &g2, accumulateParameterGradients: acc)
        norm2.backwardBlocked(input: c1, dOutput: g2, block: block, into: &g1, accumulateParameterGradients: acc)
        conv1.backward(input: a1, dOutput: g1, into: &g2, accumulateParameterGradients: acc)
        act1.backward(input: n1, dOutput: g2, into: &g1, accumulateParameterGradients: acc)
        norm1.backwardBlocked(input: x, dOutput: g1, block: block, into: &dx, accumulateParameterGradients: acc)
        if let skip {
            skip.backward(input: x, dOutput: dOutput, into: &gSkip, accumulateParameterGradients: acc)
            dx.add(gSkip)
        } else {
            dx.add(dOutput)
        }
    }
}

extension UNet {
    /// The channel block the training forward and backward use (`ChannelBlockedLayout.block(forWidth:)`),
    /// or nil for NCHW: Float32 with every convolution on the `.oneDNN` backend and
    /// `blockedTraining` on.
    public var trainingBlock: Int? {
        guard blockedTraining, Scalar.self == Float.self, convolutions.allSatisfy({ $0.backend == .oneDNN }) else { return nil }
        return ChannelBlockedLayout.block(forWidth: baseChannels)
    }

    /// Calls `body` with this network, x, s and y seen as their Float32 types (Scalar is Float).
    func withFloat(_ x: Tensor<Scalar>, _ s: Tensor<Scalar>, _ y: inout Tensor<Scalar>,
                   _ body: (UNet<Float>, Tensor<Float>, Tensor<Float>, inout Tensor<Float>) -> Void) {
        precondition(Scalar.self == Float.self, "UNet: the blocked layout is Float32 only")
        let net = unsafeDowncast(self, to: UNet<Float>.self)
        withUnsafeMutablePointer(to: &y) { py in
            py.withMemoryRebound(to: Tensor<Float>.self, capacity: 1) { yf in
                body(net, unsafeBitCast(x, to: Tensor<Float>.self), unsafeBitCast(s, to: Tensor<Float>.self), &yf.pointee)
            }
        }
    }
}

extension UNet where Scalar == Float {
    /// `forwardWhole` with the activations in the channel-blocked layout of `block` (file header).
    func forwardWholeBlocked(_ x: Tensor<Float>, sigmas: Tensor<Float>, block: Int, into y: inout Tensor<Float>) {
        let outShape = outputShape(forInputShape: x.shape)
        let (first, mid, last) = (ActivationLayout(source: 0, destination: block), ActivationLayout.blocked(block),
                                  ActivationLayout(source: block, destination: 0))
        Self.invertSigmas(sigmas, batch: x.shape[0], into: &inverseSigma)
        convIn.forward(x, into: &t0, layout: first)
        rb1.forwardBlocked(training: t0, block: block, into: &h1)
        down1.forward(h1, into: &t1, layout: mid)
        rb2.forwardBlocked(training: t1, block: block, into: &h2)
        down2.forward(h2, into: &t2, layout: mid)
        rb3.forwardBlocked(training: t2, block: block, into: &t3)
        rb4.forwardBlocked(training: t3, block: block, into: &t4)
        ChannelBlockedLayout.upsample2(t4, block: block, into: &u1)
        upConv1.forward(u1, into: &t5, layout: mid)
        concatenateChannels(t5, h2, into: &k1)  // per example a's data then b's: the same in the blocked layout
        rb5.forwardBlocked(training: k1, block: block, into: &t6)
        ChannelBlockedLayout.upsample2(t6, block: block, into: &u2)
        upConv2.forward(u2, into: &t7, layout: mid)
        concatenateChannels(t7, h1, into: &k2)
        rb6.forwardBlocked(training: k2, block: block, into: &t8)
        normOut.forwardBlocked(t8, block: block, into: &nOut)
        actOut.forward(nOut, into: &aOut)
        convOut.forward(aOut, into: &y, layout: last)
        precondition(y.shape == outShape, "UNet: internal shape error \(y.shape) vs \(outShape)")
        Self.divideExamples(&y, by: inverseSigma)
    }

    /// `backwardWhole` of the last `forwardWholeBlocked` (x and dOutput NCHW, as is dx).
    func backwardWholeBlocked(input x: Tensor<Float>, dOutput: Tensor<Float>, block: Int, into dx: inout Tensor<Float>,
                              accumulateParameterGradients acc: Bool) {
        scaleOutputGradient(dOutput, input: x)
        convOut.backward(input: aOut, dOutput: gOut, into: &gA, accumulateParameterGradients: acc)
        actOut.backward(input: nOut, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        normOut.backwardBlocked(input: t8, dOutput: gB, block: block, into: &gA, accumulateParameterGradients: acc)
        rb6.backwardBlocked(input: k2, dOutput: gA, block: block, into: &gB, accumulateParameterGradients: acc)
        splitChannels(gB, firstChannels: t7.shape[1], into: &gA, &gSkip1)  // dt7, dh1 (skip part)
        upConv2.backward(input: u2, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        ChannelBlockedLayout.upsample2Backward(gB, block: block, into: &gA)
        rb5.backwardBlocked(input: k1, dOutput: gA, block: block, into: &gB, accumulateParameterGradients: acc)
        splitChannels(gB, firstChannels: t5.shape[1], into: &gA, &gSkip2)  // dt5, dh2 (skip part)
        upConv1.backward(input: u1, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        ChannelBlockedLayout.upsample2Backward(gB, block: block, into: &gA)
        rb4.backwardBlocked(input: t3, dOutput: gA, block: block, into: &gB, accumulateParameterGradients: acc)
        rb3.backwardBlocked(input: t2, dOutput: gB, block: block, into: &gA, accumulateParameterGradients: acc)
        down2.backward(input: h2, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        gB.add(gSkip2)  // dh2
        rb2.backwardBlocked(input: t1, dOutput: gB, block: block, into: &gA, accumulateParameterGradients: acc)
        down1.backward(input: h1, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        gB.add(gSkip1)  // dh1
        rb1.backwardBlocked(input: t0, dOutput: gB, block: block, into: &gA, accumulateParameterGradients: acc)
        convIn.backward(input: x, dOutput: gA, into: &dx, accumulateParameterGradients: acc)
    }
}
