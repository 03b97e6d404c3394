// Group normalisation (Wu & He 2018) with per-channel affine parameters, on [B, C, H, W].
//
// For each example b and group g of C/G consecutive channels, with n = (C/G)·H·W values:
//   μ = mean(x),  σ² = mean((x − μ)²) (biased, as PyTorch),  r = 1/√(σ² + ε),
//   x̂ = (x − μ)·r,  y = γ_c x̂ + β_c.
// Backward, with dx̂ = γ_c dy and sums over the group:
//   dx = r·(dx̂ − Σdx̂/n − x̂·Σ(dx̂·x̂)/n),  dγ_c += Σ_{b,hw} dy·x̂,  dβ_c += Σ_{b,hw} dy.
// Moments are accumulated in Double (two passes: mean, then centred squares). Forward keeps μ and
// r per (b, g); x̂ is recomputed from the input in backward. Work is split over examples; the
// parameter-gradient sums are formed per example and then added over b in order, so results do
// not depend on the thread count. γ = 1, β = 0 initially (PyTorch's default).
import Dispatch
import TensorCore

/// GroupNorm over [B, C, H, W] with `groups` groups and affine parameters γ, β of shape [C].
public final class GroupNorm<Scalar: TensorScalar>: Layer {
    /// Number of groups G (divides C).
    public let groups: Int
    /// Channels C.
    public let channels: Int
    /// ε added to the variance.
    public let epsilon: Double
    /// Per-channel scale γ, [C].
    public var weight: Tensor<Scalar>
    /// Per-channel shift β, [C].
    public var bias: Tensor<Scalar>
    /// Accumulated gradient of γ, [C].
    public var dWeight: Tensor<Scalar>
    /// Accumulated gradient of β, [C].
    public var dBias: Tensor<Scalar>

    private let weightName: String
    private let biasName: String
    var mean: [Double] = []  // [B·G] from the last forward
    var rstd: [Double] = []  // [B·G]
    var sumDy: [Double] = []  // [B·C] backward partial sums
    var sumDyXhat: [Double] = []  // [B·C]

    /// A GroupNorm layer; `name` prefixes the parameter names ("weight", "bias").
    public init(groups: Int, channels: Int, epsilon: Double = 1e-5, name: String = "") {
        precondition(groups > 0 && channels > 0 && channels % groups == 0,
                     "GroupNorm: channels (\(channels)) must be a positive multiple of groups (\(groups))")
        precondition(epsilon > 0, "GroupNorm: epsilon must be positive, got \(epsilon)")
        self.groups = groups
        self.channels = channels
        self.epsilon = epsilon
        weight = Tensor(shape: [channels], repeating: 1)
        bias = Tensor(shape: [channels])
        dWeight = Tensor(shape: [channels])
        dBias = Tensor(shape: [channels])
        weightName = name.isEmpty ? "weight" : name + ".weight"
        biasName = name.isEmpty ? "bias" : name + ".bias"
    }

    /// Enumerates "weight" (γ) then "bias" (β).
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {
        try body(weightName, &weight, &dWeight)
        try body(biasName, &bias, &dBias)
    }

    /// Same as the input shape, which must be [B, C, H, W].
    public func outputShape(forInputShape s: [Int]) -> [Int] {
        precondition(s.count == 4 && s[1] == channels, "GroupNorm: input shape \(s) is not [B, \(channels), H, W]")
        return s
    }

    /// y = γ x̂ + β; keeps μ and 1/σ per (example, group).
    public func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.groupNorm, started) }
        let shape = outputShape(forInputShape: input.shape)
        ensureShape(&output, shape)
        let b = shape[0], hw = shape[2] * shape[3]
        if mean.count != b * groups {
            mean = [Double](repeating: 0, count: b * groups)
            rstd = mean
        }
        let dims = GroupNormDims(batch: b, channels: channels, groups: groups, spatial: hw, epsilon: epsilon)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                weight.withUnsafeBufferPointer { g in
                    bias.withUnsafeBufferPointer { be in
                        mean.withUnsafeMutableBufferPointer { mu in
                            rstd.withUnsafeMutableBufferPointer { r in
                                groupNormForward(dims, x.baseAddress!, g.baseAddress!, be.baseAddress!, y.baseAddress!,
                                                 mu.baseAddress!, r.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dInput by the formula in the file header; dγ, dβ accumulated when asked.
    public func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool = true
    ) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.groupNorm, started) }
        let shape = outputShape(forInputShape: input.shape)
        precondition(dOutput.shape == shape, "GroupNorm.backward: dOutput \(dOutput.shape) does not match \(shape)")
        precondition(mean.count == shape[0] * groups, "GroupNorm.backward: input \(shape) is not the one of the last forward")
        ensureShape(&dInput, shape)
        let b = shape[0], hw = shape[2] * shape[3]
        if sumDy.count != b * channels {
            sumDy = [Double](repeating: 0, count: b * channels)
            sumDyXhat = sumDy
        }
        let dims = GroupNormDims(batch: b, channels: channels, groups: groups, spatial: hw, epsilon: epsilon)
        input.withUnsafeBufferPointer { x in
            dOutput.withUnsafeBufferPointer { dy in
                dInput.withUnsafeMutableBufferPointer { dx in
                    weight.withUnsafeBufferPointer { g in
                        mean.withUnsafeBufferPointer { mu in
                            rstd.withUnsafeBufferPointer { r in
                                sumDy.withUnsafeMutableBufferPointer { s1 in
                                    sumDyXhat.withUnsafeMutableBufferPointer { s2 in
                                        groupNormBackward(dims, x.baseAddress!, dy.baseAddress!, g.baseAddress!,
                                                          mu.baseAddress!, r.baseAddress!, dx.baseAddress!,
                                                          s1.baseAddress!, s2.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if accumulateParameterGradients { addParameterGradients(batch: b) }
    }

    /// dγ_c += Σ_b sumDyXhat[b, c] and dβ_c += Σ_b sumDy[b, c], the per-example sums of the
    /// last backward, added over b in order: the same sums whatever the thread count.
    func addParameterGradients(batch b: Int) {
        for c in 0..<channels {
            var gw = 0.0, gb = 0.0
            for n in 0..<b {
                gw += sumDyXhat[n * channels + c]
                gb += sumDy[n * channels + c]
            }
            dWeight.scalars[c] += Scalar(gw)
            dBias.scalars[c] += Scalar(gb)
        }
    }
}

/// Sizes shared by the GroupNorm kernels.
struct GroupNormDims {
    var batch: Int, channels: Int, groups: Int, spatial: Int, epsilon: Double
    var channelsPerGroup: Int { channels / groups }
}

/// Runs `body` on contiguous ranges of 0..<count (examples), concurrently when there are enough
/// `elementsPerItem` to share; each index is processed by exactly one call.
func forEachExampleChunk(_ count: Int, elementsPerItem: Int, _ body: (Range<Int>) -> Void) {
    let byWork = max(1, count * elementsPerItem / Parallel.minimumChunk)
    let t = Parallel.isInline ? 1 : min(Parallel.threads, byWork, count)
    if t <= 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: t) { i in
        body((i * count / t)..<((i + 1) * count / t))
    }
}

/// Σ_{i < n} term(i) in Double with four interleaved partial sums (sum k takes the i ≡ k mod 4),
/// added as (s0 + s1) + (s2 + s3). One running sum makes every addition wait for the last (about
/// 4 cycles each); four independent chains overlap, which made the GroupNorm passes about 3× faster
/// (issue 32's profile). The order is fixed by n alone, so results do not depend on threads.
@inline(__always)
func interleavedSum(_ n: Int, _ term: (Int) -> Double) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
        s0 += term(i)
        s1 += term(i + 1)
        s2 += term(i + 2)
        s3 += term(i + 3)
        i += 4
    }
    if i < n { s0 += term(i) }
    if i + 1 < n { s1 += term(i + 1) }
    if i + 2 < n { s2 += term(i + 2) }
    return (s0 + s1) + (s2 + s3)
}

// Metatype dispatch to specialised bodies (see Kernels.swift for why).
func groupNormForward<S: TensorScalar>(
    _ d: GroupNormDims, _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>,
    _ y: UnsafeMutablePointer<S>, _ mean: UnsafeMutablePointer<Double>, _ rstd: UnsafeMutablePointer<Double>
) {
    if S.self == Float.self {
        groupNormForwardBody(d, rebound(x, Float.self), rebound(gamma, Float.self), rebound(beta, Float.self),
                             rebound(y, Float.self), mean, rstd)
    } else if S.self == Double.self {
        groupNormForwardBody(d, rebound(x, Double.self), rebound(gamma, Double.self), rebound(beta, Double.self),
                             rebound(y, Double.self), mean, rstd)
    } else {
        groupNormForwardBody(d, x, gamma, beta, y, mean, rstd)
    }
}

private func groupNormForwardBody<T: TensorScalar>(
    _ d: GroupNormDims, _ x: UnsafePointer<T>, _ gamma: UnsafePointer<T>, _ beta: UnsafePointer<T>,
    _ y: UnsafeMutablePointer<T>, _ mean: UnsafeMutablePointer<Double>, _ rstd: UnsafeMutablePointer<Double>
) {
    let cpg = d.channelsPerGroup, hw = d.spatial
    let n = cpg * hw
    forEachExampleChunk(d.batch, elementsPerItem: d.channels * hw) { range in
        for b in range {
            for g in 0..<d.groups {
                let base = (b * d.channels + g * cpg) * hw
                let mu = interleavedSum(n) { Double(x[base + $0]) } / Double(n)
                let q = interleavedSum(n) { i in
                    let e = Double(x[base + i]) - mu
                    return e * e
                }
                let r = 1 / (q / Double(n) + d.epsilon).squareRoot()
                mean[b * d.groups + g] = mu
                rstd[b * d.groups + g] = r
                let (muT, rT) = (T(mu), T(r))
                for c in 0..<cpg {
                    let ch = g * cpg + c
                    let scale = gamma[ch] * rT
                    let shift = beta[ch] - muT * scale
                    let o = base + c * hw
                    for i in 0..<hw { y[o + i] = x[o + i] * scale + shift }
                }
            }
        }
    }
}

func groupNormBackward<S: TensorScalar>(
    _ d: GroupNormDims, _ x: UnsafePointer<S>, _ dy: UnsafePointer<S>, _ gamma: UnsafePointer<S>,
    _ mean: UnsafePointer<Double>, _ rstd: UnsafePointer<Double>, _ dx: UnsafeMutablePointer<S>,
    _ sumDy: UnsafeMutablePointer<Double>, _ sumDyXhat: UnsafeMutablePointer<Double>
) {
    if S.self == Float.self {
        groupNormBackwardBody(d, rebound(x, Float.self), rebound(dy, Float.self), rebound(gamma, Float.self),
                              mean, rstd, rebound(dx, Float.self), sumDy, sumDyXhat)
    } else if S.self == Double.self {
        groupNormBackwardBody(d, rebound(x, Double.self), rebound(dy, Double.self), rebound(gamma, Double.self),
                              mean, rstd, rebound(dx, Double.self), sumDy, sumDyXhat)
    } else {
        groupNormBackwardBody(d, x, dy, gamma, mean, rstd, dx, sumDy, sumDyXhat)
    }
}

private func groupNormBackwardBody<T: TensorScalar>(
    _ d: GroupNormDims, _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ gamma: UnsafePointer<T>,
    _ mean: UnsafePointer<Double>, _ rstd: UnsafePointer<Double>, _ dx: UnsafeMutablePointer<T>,
    _ sumDy: UnsafeMutablePointer<Double>, _ sumDyXhat: UnsafeMutablePointer<Double>
) {
    let cpg = d.channelsPerGroup, hw = d.spatial
    let n = Double(cpg * hw)
    forEachExampleChunk(d.batch, elementsPerItem: d.channels * hw) { range in
        for b in range {
            for g in 0..<d.groups {
                let mu = mean[b * d.groups + g], r = rstd[b * d.groups + g]
                // Per-channel Σdy and Σdy·x̂, then the group sums of dx̂ = γ dy.
                var sumDxhat = 0.0, sumDxhatXhat = 0.0
                for c in 0..<cpg {
                    let ch = g * cpg + c
                    let o = (b * d.channels + ch) * hw
                    let s1 = interleavedSum(hw) { Double(dy[o + $0]) }
                    let s2 = interleavedSum(hw) { Double(dy[o + $0]) * (Double(x[o + $0]) - mu) } * r
                    sumDy[b * d.channels + ch] = s1
                    sumDyXhat[b * d.channels + ch] = s2
                    sumDxhat += Double(gamma[ch]) * s1
                    sumDxhatXhat += Double(gamma[ch]) * s2
                }
                // dx = r·(γ dy − Σdx̂/n − x̂ Σ(dx̂ x̂)/n), x̂ = (x − μ) r.
                let a = T(sumDxhat / n)
                let bx = T(sumDxhatXhat / n * r)
                let (muT, rT) = (T(mu), T(r))
                for c in 0..<cpg {
                    let ch = g * cpg + c
                    let o = (b * d.channels + ch) * hw
                    let gm = gamma[ch]
                    for i in 0..<hw {
                        dx[o + i] = rT * (gm * dy[o + i] - a - (x[o + i] - muT) * bx)
                    }
                }
            }
        }
    }
}

// MARK: - Channel concatenation

/// out [B, Ca + Cb, H, W] = a [B, Ca, H, W] followed by b [B, Cb, H, W] along the channels.
public func concatenateChannels<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, into out: inout Tensor<S>) {
    let started = LayerProfile.start()
    defer { LayerProfile.stop(.concatenate, started) }
    precondition(a.rank == 4 && b.rank == 4 && a.shape[0] == b.shape[0] && a.shape[2] == b.shape[2] && a.shape[3] == b.shape[3],
                 "concatenateChannels: shapes \(a.shape) and \(b.shape) differ outside the channel axis")
    let (n, hw) = (a.shape[0], a.shape[2] * a.shape[3])
    let (ca, cb) = (a.shape[1] * hw, b.shape[1] * hw)
    ensureShape(&out, [n, a.shape[1] + b.shape[1], a.shape[2], a.shape[3]])
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { po in
                let (sa, sb, so) = (pa.baseAddress!, pb.baseAddress!, po.baseAddress!)
                forEachExampleChunk(n, elementsPerItem: ca + cb) { range in
                    for i in range {
                        copyElements(from: sa + i * ca, to: so + i * (ca + cb), count: ca)
                        copyElements(from: sb + i * cb, to: so + i * (ca + cb) + ca, count: cb)
                    }
                }
            }
        }
    }
}

/// The backward of `concatenateChannels`: splits dOut [B, Ca + Cb, H, W] into da [B, Ca, H, W]
/// and db [B, Cb, H, W] (overwritten), where Ca = `firstChannels`.
public func splitChannels<S: TensorScalar>(
    _ dOut: Tensor<S>, firstChannels: Int, into da: inout Tensor<S>, _ db: inout Tensor<S>
) {
    let started = LayerProfile.start()
    defer { LayerProfile.stop(.concatenate, started) }
    precondition(dOut.rank == 4 && firstChannels > 0 && firstChannels < dOut.shape[1],
                 "splitChannels: cannot split \(dOut.shape) after \(firstChannels) channels")
    let (n, h, w) = (dOut.shape[0], dOut.shape[2], dOut.shape[3])
    let hw = h * w
    let (ca, cb) = (firstChannels * hw, (dOut.shape[1] - firstChannels) * hw)
    ensureShape(&da, [n, firstChannels, h, w])
    ensureShape(&db, [n, dOut.shape[1] - firstChannels, h, w])
    dOut.withUnsafeBufferPointer { po in
        da.withUnsafeMutableBufferPointer { pa in
            db.withUnsafeMutableBufferPointer { pb in
                let (so, sa, sb) = (po.baseAddress!, pa.baseAddress!, pb.baseAddress!)
                forEachExampleChunk(n, elementsPerItem: ca + cb) { range in
                    for i in range {
                        copyElements(from: so + i * (ca + cb), to: sa + i * ca, count: ca)
                        copyElements(from: so + i * (ca + cb) + ca, to: sb + i * cb, count: cb)
                    }
                }
            }
        }
    }
}
