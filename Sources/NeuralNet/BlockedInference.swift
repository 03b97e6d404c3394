// The U-Net's inference forward in oneDNN's channel-blocked layout (issue 32, part 2).
//
// Why: the profile of the sampling forward (bench --networks unet-forward) put 21–25 % of a
// width-16 forward in oneDNN's reorders between our NCHW tensors and its blocked layouts (two per
// convolution), more than GroupNorm, SiLU and upsampling together. Here every activation between
// the first and the last convolution stays in nChw{B}c (B = 16 where oneDNN runs AVX-512 kernels,
// 8 otherwise; element [n, c, h, w] at ((n·C/B + c/B)·H·W + h·W + w)·B + c mod B), and GroupNorm
// followed by SiLU, upsampling and the residual adds work in that layout (BlockedLayout.swift);
// channel concatenation needs nothing new (per example, a's data then b's is the same operation in
// either layout). Only the first convolution's output and the last one's input are converted
// (`ChannelBlockedLayout.toBlocked` / `fromBlocked`).
//
// Used by the samplers: no backward, so nothing is cached and no SiLU derivative is computed. The
// training forward has run in the same layout since (UNet+BlockedTraining.swift) and now takes the
// same time (measured within 1 %, AVX-512 host, 1 thread), so this path saves memory, not time.
// Its sums run in another order than the NCHW forward's, so the two agree to Float32 rounding,
// not bit for bit; each is the same at any thread count (the loops split examples and planes,
// never a sum).
//
// Threads (issue 32, part 4): the batch is cut into pieces of `inferencePieceImages` images, a
// number that never depends on the thread count, and each piece runs whole on one thread
// (oneDNN's team size 1, the elementwise loops inline), on the network itself or on a replica
// that shares its parameters. Workers take the next piece as they finish one, so a worker whose
// core is shared with another process takes fewer pieces instead of holding the other at a
// barrier, as oneDNN's static split of every convolution did. The pieces are the same at any
// thread count, so the result is too; and since every layer computes each image on its own
// (GroupNorm's statistics are per image), a piece's images come out as in a whole-batch call
// (measured bit for bit on an AVX-512 host, pieces of 1 to 32 images; the tests check agreement
// to Float32 rounding, which holds on any host).
import TensorCore

extension ResidualBlock where Scalar == Float {
    /// The block's forward on blocked tensors (inference: nothing kept for a backward).
    func forwardBlocked(_ x: Tensor<Float>, block: Int, into out: inout Tensor<Float>, scratch: BlockedScratch) {
        norm1.forwardBlockedSiLU(x, block: block, normalized: &scratch.c, into: &scratch.a)
        conv1.forwardBlocked(scratch.a, block: block, into: &scratch.b)
        norm2.forwardBlockedSiLU(scratch.b, block: block, normalized: &scratch.c, into: &scratch.a)
        conv2.forwardBlocked(scratch.a, block: block, into: &out)
        if let skip {
            skip.forwardBlocked(x, block: block, into: &scratch.b)
            out.add(scratch.b)
        } else {
            out.add(x)
        }
    }

    /// Whether every convolution of the block runs blocked for this input shape.
    func canRunBlocked(_ inputShape: [Int], block: Int) -> Bool {
        guard conv1.blockedForwardPlan(for: inputShape, block: block) != nil else { return false }
        let mid = conv1.outputShape(forInputShape: inputShape)
        guard conv2.blockedForwardPlan(for: mid, block: block) != nil else { return false }
        return skip.map { $0.blockedForwardPlan(for: inputShape, block: block) != nil } ?? true
    }
}

/// Working tensors of the blocked forward, shared by the residual blocks (used one at a time).
final class BlockedScratch {
    var a = Tensor<Float>(shape: [0]), b = Tensor<Float>(shape: [0]), c = Tensor<Float>(shape: [0])
}

/// Activations of the U-Net's blocked inference forward (names as in `UNet.forward`).
final class BlockedUNetBuffers {
    var t0Plain = Tensor<Float>(shape: [0]), t0 = Tensor<Float>(shape: [0]), h1 = Tensor<Float>(shape: [0])
    var t1 = Tensor<Float>(shape: [0]), h2 = Tensor<Float>(shape: [0]), t2 = Tensor<Float>(shape: [0])
    var t3 = Tensor<Float>(shape: [0]), t4 = Tensor<Float>(shape: [0]), u1 = Tensor<Float>(shape: [0])
    var t5 = Tensor<Float>(shape: [0]), k1 = Tensor<Float>(shape: [0]), t6 = Tensor<Float>(shape: [0])
    var u2 = Tensor<Float>(shape: [0]), t7 = Tensor<Float>(shape: [0]), k2 = Tensor<Float>(shape: [0])
    var t8 = Tensor<Float>(shape: [0]), aOut = Tensor<Float>(shape: [0]), aOutPlain = Tensor<Float>(shape: [0])
    var inverseSigma = Tensor<Float>(shape: [0])
    let scratch = BlockedScratch()
    /// Networks that share the parameters of the one that owns these buffers, one per extra
    /// worker of the piece-parallel forward (made on first use).
    var replicas: [UNet<Float>] = []
}

extension UNet where Scalar == Float {
    /// y = s(x) / σ_b, as `forward(_:sigmas:into:)`, for sampling: no state is kept for a
    /// backward, and the activations stay in oneDNN's channel-blocked layout between the first
    /// and the last convolution (see the file header), with the block
    /// `ChannelBlockedLayout.block(forWidth:)` gives. The batch is cut into pieces of
    /// `inferencePieceImages` images that run on up to `Parallel.threads` threads, each whole on
    /// one (file header). Falls back to `forward`, piece by piece, when a layer cannot run blocked
    /// (a non-oneDNN convolution backend, or no JIT kernel for the layout). Agrees with `forward`
    /// to Float32 rounding, and gives the same bits at any thread count.
    public func forwardInference(_ x: Tensor<Float>, sigmas: Tensor<Float>, into y: inout Tensor<Float>) {
        let n = x.shape[0]
        precondition(sigmas.count == n, "UNet: \(sigmas.count) noise levels for a batch of \(n)")
        let per = inferencePieceImages
        let pieces = (n + per - 1) / per
        if pieces <= 1 {
            Parallel.inline { forwardInferenceWhole(x, sigmas: sigmas, into: &y) }
            return
        }
        let workers = Parallel.workerCount(pieces: pieces)
        let nets = inferenceNetworks(workers)
        runPieces(of: x, sigmas: sigmas, into: &y, per: per, workers: workers, network: { w, _ in nets[w] }) { net in
            net.forwardInferenceWhole(net.pieceInput, sigmas: net.pieceSigmas, into: &net.pieceOutput)
        }
    }

    /// This network and `count` − 1 replicas with its parameters and convolution backends (the
    /// replicas share the parameter tensors' storage; nothing is copied).
    func inferenceNetworks(_ count: Int) -> [UNet<Float>] {
        let b = blockedBuffers
        while b.replicas.count < count - 1 {
            var rng = Xoshiro256(seed: 0)  // overwritten below
            b.replicas.append(UNet<Float>(baseChannels: baseChannels, inputChannels: inputChannels, outputChannels: outputChannels, using: &rng))
        }
        let replicas = Array(b.replicas.prefix(count - 1))
        shareParameters(with: replicas)
        for r in replicas { r.inferencePieceImages = inferencePieceImages }
        return [self] + b.replicas.prefix(count - 1)
    }

    /// `forwardInference` on one piece, on the calling thread.
    func forwardInferenceWhole(_ x: Tensor<Float>, sigmas: Tensor<Float>, into y: inout Tensor<Float>) {
        guard let block = ChannelBlockedLayout.block(forWidth: baseChannels), runsBlocked(inputShape: x.shape, block: block) else {
            forwardWhole(x, sigmas: sigmas, into: &y)
            return
        }
        let s = blockedBuffers
        Self.invertSigmas(sigmas, batch: x.shape[0], into: &s.inverseSigma)
        let scratch = s.scratch
        convIn.forward(x, into: &s.t0Plain)
        ChannelBlockedLayout.toBlocked(s.t0Plain, block: block, into: &s.t0)
        rb1.forwardBlocked(s.t0, block: block, into: &s.h1, scratch: scratch)
        down1.forwardBlocked(s.h1, block: block, into: &s.t1)
        rb2.forwardBlocked(s.t1, block: block, into: &s.h2, scratch: scratch)
        down2.forwardBlocked(s.h2, block: block, into: &s.t2)
        rb3.forwardBlocked(s.t2, block: block, into: &s.t3, scratch: scratch)
        rb4.forwardBlocked(s.t3, block: block, into: &s.t4, scratch: scratch)
        ChannelBlockedLayout.upsample2(s.t4, block: block, into: &s.u1)
        upConv1.forwardBlocked(s.u1, block: block, into: &s.t5)
        concatenateChannels(s.t5, s.h2, into: &s.k1)  // per example a's data then b's: the same in the blocked layout
        rb5.forwardBlocked(s.k1, block: block, into: &s.t6, scratch: scratch)
        ChannelBlockedLayout.upsample2(s.t6, block: block, into: &s.u2)
        upConv2.forwardBlocked(s.u2, block: block, into: &s.t7)
        concatenateChannels(s.t7, s.h1, into: &s.k2)
        rb6.forwardBlocked(s.k2, block: block, into: &s.t8, scratch: scratch)
        normOut.forwardBlockedSiLU(s.t8, block: block, normalized: &scratch.c, into: &s.aOut)
        ChannelBlockedLayout.fromBlocked(s.aOut, block: block, into: &s.aOutPlain)
        convOut.forward(s.aOutPlain, into: &y)
        Self.divideExamples(&y, by: s.inverseSigma)
    }

    /// Whether `forwardInference` runs in the blocked layout for inputs of this shape (else it
    /// calls `forward`).
    public func usesBlockedInference(forInputShape shape: [Int]) -> Bool {
        inferenceBlock(forInputShape: shape) != nil
    }

    /// The channel block `forwardInference` uses for inputs of this shape, or nil when it calls
    /// `forward`.
    public func inferenceBlock(forInputShape shape: [Int]) -> Int? {
        guard let block = ChannelBlockedLayout.block(forWidth: baseChannels), runsBlocked(inputShape: shape, block: block) else { return nil }
        return block
    }

    /// Whether `forwardInference` runs blocked for this input shape. Checked on every call (a few
    /// shape computations and plan-key comparisons; the plans themselves are kept by the layers),
    /// so that a convolution backend or team size changed since the last call is seen.
    func runsBlocked(inputShape x: [Int], block: Int) -> Bool {
        var ok = baseChannels % block == 0 && x.count == 4 && x[2] % 4 == 0 && x[3] % 4 == 0
        if ok {
            let t0 = convIn.outputShape(forInputShape: x)
            let t1 = down1.outputShape(forInputShape: t0)
            let t2 = down2.outputShape(forInputShape: t1)
            let u1 = [t2[0], t2[1], 2 * t2[2], 2 * t2[3]]
            let t5 = upConv1.outputShape(forInputShape: u1)
            let k1 = [t5[0], t5[1] + t1[1], t5[2], t5[3]]
            let t6 = rb5.outputShape(forInputShape: k1)
            let u2 = [t6[0], t6[1], 2 * t6[2], 2 * t6[3]]
            let t7 = upConv2.outputShape(forInputShape: u2)
            let k2 = [t7[0], t7[1] + t0[1], t7[2], t7[3]]
            ok = rb1.canRunBlocked(t0, block: block) && down1.blockedForwardPlan(for: t0, block: block) != nil
                && rb2.canRunBlocked(t1, block: block) && down2.blockedForwardPlan(for: t1, block: block) != nil
                && rb3.canRunBlocked(t2, block: block) && rb4.canRunBlocked(t2, block: block)
                && upConv1.blockedForwardPlan(for: u1, block: block) != nil && rb5.canRunBlocked(k1, block: block)
                && upConv2.blockedForwardPlan(for: u2, block: block) != nil && rb6.canRunBlocked(k2, block: block)
        }
        return ok
    }
}
