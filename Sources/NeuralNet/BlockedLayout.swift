// oneDNN's channel-blocked activation layout (issue 32) and the layer work the U-Net does in it:
// the conversions to and from NCHW, nearest ×2 upsampling and its backward, and GroupNorm
// (forward, alone or followed by SiLU for inference, and backward).
//
// Layout nChw{B}c (B = 16 where oneDNN runs AVX-512 kernels, 8 otherwise): element [n, c, h, w]
// at ((n·C/B + c/B)·H·W + h·W + w)·B + c mod B. SiLU, the residual adds and channel
// concatenation (per example, a's data then b's) are the same operations in either layout, so
// they need nothing here.
//
// GroupNorm in this layout computes what GroupNorm.swift does, with the sums in another order:
// per channel over the pixels (the B lanes of a block side by side, one Double chain each), then
// over the channels of a group. Both are in Double, so the two agree to Float32 rounding. Every
// loop splits examples or planes over threads, never a sum: the same bits at any thread count.
import CKernels
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

    /// Nearest ×2 upsampling's backward on blocked tensors: dx [n, c, h, w] = the sum of each
    /// 2×2 block of dy [n, c, 2h, 2w], taken in the order of the plain `Upsample2D.backward`
    /// (row 2y left to right, then row 2y + 1), so each sum has the same bits as there.
    static func upsample2Backward(_ dy: Tensor<Float>, block: Int, into dx: inout Tensor<Float>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.upsample, started) }
        let (n, c, h2, w2) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
        precondition(h2 % 2 == 0 && w2 % 2 == 0 && c % block == 0, "upsample2Backward: \(dy.shape) with block \(block)")
        let (h, w) = (h2 / 2, w2 / 2)
        ensureShape(&dx, [n, c, h, w])
        let planes = n * c / block
        dy.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pdx in
                let (sg, sdx) = (pg.baseAddress!, pdx.baseAddress!)
                forEachExampleChunk(planes, elementsPerItem: 4 * h * w * block) { range in
                    for plane in range {
                        let src = sg + plane * 4 * h * w * block
                        let dst = sdx + plane * h * w * block
                        for iy in 0..<h {
                            let (a, b) = (src + 2 * iy * w2 * block, src + (2 * iy + 1) * w2 * block)
                            for ix in 0..<w {
                                let (a0, a1) = (a + 2 * ix * block, a + (2 * ix + 1) * block)
                                let (b0, b1) = (b + 2 * ix * block, b + (2 * ix + 1) * block)
                                let d = dst + (iy * w + ix) * block
                                for l in 0..<block {
                                    var v: Float = 0
                                    v += a0[l]
                                    v += a1[l]
                                    v += b0[l]
                                    v += b1[l]
                                    d[l] = v
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension GroupNorm where Scalar == Float {
    /// y = GroupNorm(x) on blocked tensors, keeping μ and 1/σ per (example, group) for
    /// `backwardBlocked` as `forward` does. Statistics in Double: per-channel sums over the
    /// pixels (the `block` lanes side by side), added per group, then the centred squares the
    /// same way; the affine map in Float32 (the C kernel `ck_groupnorm_blocked_forward_f32`).
    func forwardBlocked(_ x: Tensor<Float>, block: Int, into y: inout Tensor<Float>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.groupNorm, started) }
        let shape = outputShape(forInputShape: x.shape)
        ensureShape(&y, shape)
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        precondition(c % block == 0, "GroupNorm.forwardBlocked: \(c) channels are not a multiple of the block \(block)")
        if mean.count != n * groups {
            mean = [Double](repeating: 0, count: n * groups)
            rstd = mean
        }
        let (groups, eps) = (self.groups, epsilon)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                weight.withUnsafeBufferPointer { pg in
                    bias.withUnsafeBufferPointer { pb in
                        mean.withUnsafeMutableBufferPointer { pmu in
                            rstd.withUnsafeMutableBufferPointer { pr in
                                let (sx, sy, gamma, beta) = (px.baseAddress!, py.baseAddress!, pg.baseAddress!, pb.baseAddress!)
                                let (groupMean, groupRstd) = (pmu.baseAddress!, pr.baseAddress!)
                                forEachExampleChunk(n, elementsPerItem: c * hw) { range in
                                    for i in range {
                                        let status = ck_groupnorm_blocked_forward_f32(
                                            sx + i * c * hw, sy + i * c * hw, gamma, beta, c, hw, groups, block, eps,
                                            groupMean + i * groups, groupRstd + i * groups)
                                        precondition(status == 0, "GroupNorm.forwardBlocked: block \(block) does not fit \(c) channels")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// y = SiLU(GroupNorm(x)) on blocked tensors, for inference (the statistics are kept, but
    /// no SiLU derivative). `normalized` receives GroupNorm's output: SiLU reads it into `y` (the
    /// SiLU kernel runs its vector path only when input and output do not overlap; in place it
    /// was 5× slower).
    func forwardBlockedSiLU(_ x: Tensor<Float>, block: Int, normalized: inout Tensor<Float>, into y: inout Tensor<Float>) {
        forwardBlocked(x, block: block, into: &normalized)
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.activation, started) }
        ensureShape(&y, normalized.shape)
        let total = y.count
        normalized.withUnsafeBufferPointer { pn in
            y.withUnsafeMutableBufferPointer { py in
                let (src, dst) = (pn.baseAddress!, py.baseAddress!)
                Parallel.forEachChunk(count: total) { r in
                    TrainingKernels<Float>.silu(src + r.lowerBound, dst + r.lowerBound, nil, r.count)
                }
            }
        }
    }

    /// The backward of the last `forwardBlocked` (input x, dOutput dy, dInput dx, all blocked),
    /// by the formula in GroupNorm.swift's header: dx = r·(γ dy − Σdx̂/n − x̂·Σ(dx̂·x̂)/n) with
    /// x̂ = (x − μ)·r; dγ and dβ accumulated when asked, from per-example sums added over the
    /// examples in order (`addParameterGradients`). The C kernel
    /// `ck_groupnorm_blocked_backward_f32` does one example.
    func backwardBlocked(input x: Tensor<Float>, dOutput dy: Tensor<Float>, block: Int, into dx: inout Tensor<Float>,
                         accumulateParameterGradients: Bool = true) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.groupNorm, started) }
        let shape = outputShape(forInputShape: x.shape)
        precondition(dy.shape == shape, "GroupNorm.backwardBlocked: dOutput \(dy.shape) does not match \(shape)")
        precondition(mean.count == shape[0] * groups, "GroupNorm.backwardBlocked: input \(shape) is not the one of the last forward")
        ensureShape(&dx, shape)
        let (n, c, hw) = (shape[0], shape[1], shape[2] * shape[3])
        if sumDy.count != n * c {
            sumDy = [Double](repeating: 0, count: n * c)
            sumDyXhat = sumDy
        }
        let groups = self.groups
        x.withUnsafeBufferPointer { px in
            dy.withUnsafeBufferPointer { pdy in
                dx.withUnsafeMutableBufferPointer { pdx in
                    weight.withUnsafeBufferPointer { pg in
                        mean.withUnsafeBufferPointer { pmu in
                            rstd.withUnsafeBufferPointer { pr in
                                sumDy.withUnsafeMutableBufferPointer { ps1 in
                                    sumDyXhat.withUnsafeMutableBufferPointer { ps2 in
                                        let (sx, sdy, sdx, gamma) = (px.baseAddress!, pdy.baseAddress!, pdx.baseAddress!, pg.baseAddress!)
                                        let (groupMean, groupRstd) = (pmu.baseAddress!, pr.baseAddress!)
                                        let (allS1, allS2) = (ps1.baseAddress!, ps2.baseAddress!)
                                        forEachExampleChunk(n, elementsPerItem: c * hw) { range in
                                            for i in range {
                                                let o = i * c * hw
                                                let status = ck_groupnorm_blocked_backward_f32(
                                                    sx + o, sdy + o, sdx + o, gamma, c, hw, groups, block,
                                                    groupMean + i * groups, groupRstd + i * groups, allS1 + i * c, allS2 + i * c)
                                                precondition(status == 0, "GroupNorm.backwardBlocked: block \(block) does not fit \(c) channels")
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if accumulateParameterGradients { addParameterGradients(batch: n) }
    }
}
