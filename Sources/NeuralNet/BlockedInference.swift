// The U-Net's inference forward in oneDNN's channel-blocked layout (issue 32, part 2).
//
// Why: the profile of the sampling forward (bench --networks unet-forward) put 21–25 % of a
// width-16 forward in oneDNN's reorders between our NCHW tensors and its blocked layouts (two per
// convolution), more than GroupNorm, SiLU and upsampling together. Here every activation between
// the first and the last convolution stays in nChw{B}c (B = 16 where oneDNN runs AVX-512 kernels,
// 8 otherwise; element [n, c, h, w] at ((n·C/B + c/B)·H·W + h·W + w)·B + c mod B), and GroupNorm
// (fused with SiLU), upsampling and the residual adds work in that layout; channel concatenation
// needs nothing new (per example, a's data then b's is the same operation in either layout). Only the
// first convolution's output and the last one's input are converted, by the loops below.
//
// Used by the samplers (no backward; the training forward keeps the plain layout and its
// caches). Its sums run in another order than the plain forward's, so the two agree to Float32
// rounding, not bit for bit; each is the same at any thread count (the loops split examples and
// planes, never a sum).
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

/// The channel block of oneDNN's activation layout on this CPU.
public enum ChannelBlockedLayout {
    /// 16 where oneDNN dispatches AVX-512 kernels, else 8 (its AVX2 layout).
    public static let block: Int = OneDNN.effectiveISA.hasPrefix("avx512") ? 16 : 8

    /// The block a network of base width `c` uses: `block` when it divides c, else 8 when 8
    /// does (oneDNN's AVX2 layout, whose kernels also run on AVX-512 hosts), else nil (plain).
    public static func block(forWidth c: Int) -> Int? {
        if c % block == 0 { return block }
        return c % 8 == 0 ? 8 : nil
    }

    /// plain [N, C, H, W] → blocked (C divisible by `block`).
    static func toBlocked(_ x: Tensor<Float>, block: Int, into y: inout Tensor<Float>) {
        let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        precondition(c % block == 0, "toBlocked: \(c) channels are not a multiple of \(block)")
        ensureShape(&y, x.shape)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                let (sx, sy) = (px.baseAddress!, py.baseAddress!)
                forEachExampleChunk(n, elementsPerItem: c * hw) { range in
                    for i in range {
                        for cb in 0..<(c / block) {
                            let dst = sy + (i * c + cb * block) * hw
                            for l in 0..<block {
                                let src = sx + (i * c + cb * block + l) * hw
                                for p in 0..<hw { dst[p * block + l] = src[p] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// blocked → plain [N, C, H, W].
    static func fromBlocked(_ x: Tensor<Float>, block: Int, into y: inout Tensor<Float>) {
        let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        ensureShape(&y, x.shape)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                let (sx, sy) = (px.baseAddress!, py.baseAddress!)
                forEachExampleChunk(n, elementsPerItem: c * hw) { range in
                    for i in range {
                        for cb in 0..<(c / block) {
                            let src = sx + (i * c + cb * block) * hw
                            for l in 0..<block {
                                let dst = sy + (i * c + cb * block + l) * hw
                                for p in 0..<hw { dst[p] = src[p * block + l] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Nearest ×2 upsampling of a blocked tensor: each pixel's `block` channels are copied into
    /// its 2×2 output block.
    static func upsample2(_ x: Tensor<Float>, block: Int, into y: inout Tensor<Float>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.upsample, started) }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        ensureShape(&y, [n, c, 2 * h, 2 * w])
        let planes = n * c / block
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                let (sx, sy) = (px.baseAddress!, py.baseAddress!)
                forEachExampleChunk(planes, elementsPerItem: 4 * h * w * block) { range in
                    for plane in range {
                        let src = sx + plane * h * w * block
                        let dst = sy + plane * 4 * h * w * block
                        for iy in 0..<h {
                            let row0 = dst + (2 * iy) * 2 * w * block
                            for ix in 0..<w {
                                let v = src + (iy * w + ix) * block
                                (row0 + 2 * ix * block).update(from: v, count: block)
                                (row0 + (2 * ix + 1) * block).update(from: v, count: block)
                            }
                            (row0 + 2 * w * block).update(from: row0, count: 2 * w * block)
                        }
                    }
                }
            }
        }
    }
}

extension GroupNorm where Scalar == Float {
    /// y = SiLU(GroupNorm(x)) on a blocked tensor (no state kept for a backward). Statistics in
    /// Double: per-channel sums over the pixels (the `block` lanes side by side), added per group,
    /// then the centred squares the same way; the affine map and SiLU in Float32. `normalized`
    /// receives GroupNorm's output: SiLU reads it into `y` (the SiLU kernel runs its vector path
    /// only when input and output do not overlap; in place it was 5× slower).
    func forwardBlockedSiLU(_ x: Tensor<Float>, block: Int, normalized: inout Tensor<Float>, into y: inout Tensor<Float>) {
        let shape = outputShape(forInputShape: x.shape)
        ensureShape(&normalized, shape)
        ensureShape(&y, shape)
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        let cpg = c / groups, blocks = c / block
        let count = Double(cpg * hw), eps = epsilon
        let normStarted = LayerProfile.start()
        x.withUnsafeBufferPointer { px in
            normalized.withUnsafeMutableBufferPointer { py in
                weight.withUnsafeBufferPointer { pg in
                    bias.withUnsafeBufferPointer { pb in
                        let (sx, sy, gamma, beta) = (px.baseAddress!, py.baseAddress!, pg.baseAddress!, pb.baseAddress!)
                        forEachExampleChunk(n, elementsPerItem: c * hw) { range in
                            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * c) { acc in
                                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * c) { affine in
                                    let (sums, mean) = (acc.baseAddress!, acc.baseAddress! + c)
                                    let (scale, shift) = (affine.baseAddress!, affine.baseAddress! + c)
                                    for i in range {
                                        let base = sx + i * c * hw
                                        // Per-channel sums, then the group means (as Double per channel).
                                        for k in 0..<c { sums[k] = 0 }
                                        for cb in 0..<blocks {
                                            let src = base + cb * hw * block, s = sums + cb * block
                                            for p in 0..<hw { for l in 0..<block { s[l] += Double(src[p * block + l]) } }
                                        }
                                        for g in 0..<groups {
                                            var t = 0.0
                                            for k in (g * cpg)..<((g + 1) * cpg) { t += sums[k] }
                                            for k in (g * cpg)..<((g + 1) * cpg) { mean[k] = t / count }
                                        }
                                        for k in 0..<c { sums[k] = 0 }
                                        for cb in 0..<blocks {
                                            let src = base + cb * hw * block, s = sums + cb * block, m = mean + cb * block
                                            for p in 0..<hw {
                                                for l in 0..<block {
                                                    let e = Double(src[p * block + l]) - m[l]
                                                    s[l] += e * e
                                                }
                                            }
                                        }
                                        for g in 0..<groups {
                                            var q = 0.0
                                            for k in (g * cpg)..<((g + 1) * cpg) { q += sums[k] }
                                            let r = 1 / (q / count + eps).squareRoot()
                                            for k in (g * cpg)..<((g + 1) * cpg) {
                                                scale[k] = gamma[k] * Float(r)
                                                shift[k] = beta[k] - Float(mean[k]) * scale[k]
                                            }
                                        }
                                        let dstBase = sy + i * c * hw
                                        for cb in 0..<blocks {
                                            let src = base + cb * hw * block, dst = dstBase + cb * hw * block
                                            let (a, b) = (scale + cb * block, shift + cb * block)
                                            for p in 0..<hw { for l in 0..<block { dst[p * block + l] = src[p * block + l] * a[l] + b[l] } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        LayerProfile.stop(.groupNorm, normStarted)
        let siluStarted = LayerProfile.start()
        let total = y.count
        normalized.withUnsafeBufferPointer { pn in
            y.withUnsafeMutableBufferPointer { py in
                let (src, dst) = (pn.baseAddress!, py.baseAddress!)
                Parallel.forEachChunk(count: total) { r in
                    TrainingKernels<Float>.silu(src + r.lowerBound, dst + r.lowerBound, nil, r.count)
                }
            }
        }
        LayerProfile.stop(.activation, siluStarted)
    }
}

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
