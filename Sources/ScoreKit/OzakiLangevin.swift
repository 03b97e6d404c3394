// Langevin samplers that use the second-order score (high-order spec §3): the unadjusted Langevin
// algorithm (ULA) and its Ozaki discretisation, which linearises the drift at the current point,
// s₁(y) ≈ s₁(x) + H(y − x) with H = s₂(x), and integrates the linear SDE dX = s₁ dt + √2 dW
// exactly over time ε:
//
//     ULA:    x ← x + ε s₁(x) + √(2ε) ξ
//     Ozaki:  x ← x + M s₁(x) + Σ^{1/2} ξ,   M = (e^{εH} − I) H⁻¹,   Σ = (e^{2εH} − I) H⁻¹,
//
// evaluated through the eigendecomposition H = VΛVᵀ of the symmetrised H with the scalar maps
// f₁(λ) = expm1(ελ)/λ and f₂(λ) = expm1(2ελ)/λ (limits ε and 2ε as λ → 0; f₂ > 0 always), or
// elementwise on a diagonal h for the diagonal variant. Ozaki is exact for Gaussian targets at any
// ε; as εH → 0 it becomes ULA.
//
// Conventions: the √2 convention above throughout. The authors' code writes Langevin steps as
// x + (ε/2)s + √ε ξ, i.e. the same sampler with ε_here = ε_code/2; convert before comparing step
// sizes. The optional safety clamp h ← min(h, h_max) (h_max = 1/ε by default) is not known to be
// in the paper; it is off by default and its triggers are counted. Chains whose update is
// non-finite or leaves |x_d| ≤ bound are frozen at their last state and reported.
import TensorCore

/// The step rule of a Langevin chain.
public enum LangevinStepRule: String, Codable, Sendable, CaseIterable {
    case ula = "ULA"
    /// Ozaki with the full (symmetrised) s₂.
    case ozaki = "Ozaki"
    /// Ozaki with only the diagonal of s₂.
    case ozakiDiagonal = "Ozaki-diagonal"
}

/// One sampler configuration.
public struct OzakiLangevin: Sendable {
    public let rule: LangevinStepRule
    public let stepSize: Double
    /// Curvatures above this are clamped (nil: no clamp, the default).
    public let clamp: Double?
    /// Chains leaving |x_d| ≤ bound are frozen and counted as diverged.
    public let bound: Double

    public init(rule: LangevinStepRule, stepSize: Double, clamp: Double? = nil, bound: Double = 1e6) {
        precondition(stepSize > 0 && stepSize.isFinite, "the Langevin step must be positive, got \(stepSize)")
        self.rule = rule
        self.stepSize = stepSize
        self.clamp = clamp
        self.bound = bound
    }

    /// The default clamp level 1/ε.
    public static func defaultClamp(stepSize: Double) -> Double { 1 / stepSize }

    /// f₁(λ) = expm1(ελ)/λ, with the limit ε for |λ| < 1e-8.
    public static func drift(_ lambda: Double, _ eps: Double) -> Double {
        abs(lambda) < 1e-8 ? eps * (1 + 0.5 * eps * lambda) : ScalarMath.expm1(eps * lambda) / lambda
    }

    /// f₂(λ) = expm1(2ελ)/λ, with the limit 2ε for |λ| < 1e-8.
    public static func diffusion(_ lambda: Double, _ eps: Double) -> Double {
        abs(lambda) < 1e-8 ? 2 * eps * (1 + eps * lambda) : ScalarMath.expm1(2 * eps * lambda) / lambda
    }

    /// The Ozaki operators for one symmetric H ([D·D] row-major): M = V f₁ Vᵀ and the symmetric
    /// square root L = V √f₂ Vᵀ of Σ. Returns the number of clamped eigenvalues.
    public func operators(hessian h: [Double], dimension d: Int) -> (drift: [Double], noise: [Double], clamped: Int) {
        var sym = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { sym[i * d + j] = 0.5 * (h[i * d + j] + h[j * d + i]) } }
        let (values, vectors) = SmallSymmetricEigen.decompose(sym, dimension: d)
        var clamped = 0
        var f1 = [Double](repeating: 0, count: d), f2 = f1
        for k in 0..<d {
            var lambda = values[k]
            if let c = clamp, lambda > c { lambda = c; clamped += 1 }
            f1[k] = Self.drift(lambda, stepSize)
            f2[k] = Self.diffusion(lambda, stepSize).squareRoot()
        }
        var m = [Double](repeating: 0, count: d * d), l = m
        for i in 0..<d {
            for j in 0..<d {
                var a = 0.0, b = 0.0
                for k in 0..<d {
                    let v = vectors[i * d + k] * vectors[j * d + k]
                    a += v * f1[k]
                    b += v * f2[k]
                }
                m[i * d + j] = a
                l[i * d + j] = b
            }
        }
        return (m, l, clamped)
    }

    /// Advances every live chain of `x` [N, D] by one step.
    /// - Parameters:
    ///   - score: s₁ at x, [N, D].
    ///   - hessian: s₂ at x, [N, D, D] for `.ozaki` (nil for ULA and the diagonal rule).
    ///   - diagonal: diag(s₂) at x, [N, D] for `.ozakiDiagonal`.
    ///   - noise: ξ ~ N(0, I), [N, D] (supplied so that samplers can share noise).
    ///   - diverged: per chain; frozen chains stay frozen.
    /// - Returns: how many curvatures were clamped in this step.
    @discardableResult
    public func step(_ x: inout Tensor<Double>, score: Tensor<Double>, hessian: Tensor<Double>? = nil, diagonal: Tensor<Double>? = nil,
                     noise: Tensor<Double>, diverged: inout [Bool]) -> Int {
        let (n, d) = (x.rows, x.columns)
        precondition(score.shape == x.shape && noise.shape == x.shape, "Langevin step: score \(score.shape) and noise \(noise.shape) must match x \(x.shape)")
        precondition(diverged.count == n, "Langevin step: \(diverged.count) divergence flags for \(n) chains")
        switch rule {
        case .ozaki: precondition(hessian?.shape == [n, d, d], "Ozaki needs s₂ of shape [\(n), \(d), \(d)]")
        case .ozakiDiagonal: precondition(diagonal?.shape == [n, d], "diagonal Ozaki needs diag(s₂) of shape [\(n), \(d)]")
        case .ula: break
        }
        let eps = stepSize
        var clamped = 0
        var next = [Double](repeating: 0, count: d)
        for r in 0..<n where !diverged[r] {
            let base = r * d
            switch rule {
            case .ula:
                let c = (2 * eps).squareRoot()
                for i in 0..<d { next[i] = x.scalars[base + i] + eps * score.scalars[base + i] + c * noise.scalars[base + i] }
            case .ozakiDiagonal:
                for i in 0..<d {
                    var h = diagonal!.scalars[base + i]
                    if let cl = clamp, h > cl { h = cl; clamped += 1 }
                    next[i] = x.scalars[base + i] + Self.drift(h, eps) * score.scalars[base + i] + Self.diffusion(h, eps).squareRoot() * noise.scalars[base + i]
                }
            case .ozaki:
                let h = Array(hessian!.scalars[(r * d * d)..<((r + 1) * d * d)])
                let ops = operators(hessian: h, dimension: d)
                clamped += ops.clamped
                for i in 0..<d {
                    var v = x.scalars[base + i]
                    for j in 0..<d { v += ops.drift[i * d + j] * score.scalars[base + j] + ops.noise[i * d + j] * noise.scalars[base + j] }
                    next[i] = v
                }
            }
            if next.allSatisfy({ $0.isFinite && abs($0) <= bound }) {
                for i in 0..<d { x.scalars[base + i] = next[i] }
            } else {
                diverged[r] = true
            }
        }
        return clamped
    }
}

extension OzakiLangevin {
    /// Annealed sampling (spec §3.2, [RECON], modelled on NCSN): for noise levels σ_1 > … > σ_L,
    /// `stepsPerLevel` steps at level i with ε_i = ε·(σ_i/σ_L)², then optionally the Tweedie
    /// denoise x ← x + σ_L² s₁(x, σ_L). The required experiments run at a single σ; this is the
    /// option.
    /// - Parameters:
    ///   - scores: s₁ and s₂ ([N, D], [N, D, D]; s₂ may be empty for ULA) at level index i.
    ///   - noise: a generator for ξ.
    /// - Returns: the divergence flags and the number of clamped curvatures.
    public static func annealed<G: RandomNumberGenerator>(
        _ x: inout Tensor<Double>, sigmas: [Double], rule: LangevinStepRule, stepSize: Double, stepsPerLevel: Int,
        clamp: Double? = nil, bound: Double = 1e6, finalDenoise: Bool = true, using rng: inout G,
        scores: (Tensor<Double>, Int) -> (Tensor<Double>, Tensor<Double>)
    ) -> (diverged: [Bool], clamped: Int) {
        precondition(!sigmas.isEmpty && stepsPerLevel >= 0, "annealed Langevin needs levels and a non-negative step count")
        let last = sigmas[sigmas.count - 1]
        var diverged = [Bool](repeating: false, count: x.rows)
        var clamped = 0
        for (i, sigma) in sigmas.enumerated() {
            let eps = stepSize * (sigma / last) * (sigma / last)
            let sampler = OzakiLangevin(rule: rule, stepSize: eps, clamp: clamp, bound: bound)
            for _ in 0..<stepsPerLevel {
                let (s1, s2) = scores(x, i)
                let noise = Tensor<Double>.randomNormal(x.shape, using: &rng)
                switch rule {
                case .ula: clamped += sampler.step(&x, score: s1, noise: noise, diverged: &diverged)
                case .ozaki: clamped += sampler.step(&x, score: s1, hessian: s2, noise: noise, diverged: &diverged)
                case .ozakiDiagonal:
                    let d = x.columns
                    var diag = Tensor<Double>(shape: x.shape)
                    for r in 0..<x.rows { for k in 0..<d { diag.scalars[r * d + k] = s2.scalars[r * d * d + k * d + k] } }
                    clamped += sampler.step(&x, score: s1, diagonal: diag, noise: noise, diverged: &diverged)
                }
            }
        }
        if finalDenoise {
            let (s1, _) = scores(x, sigmas.count - 1)
            for r in 0..<x.rows where !diverged[r] {
                for k in 0..<x.columns { x.scalars[r * x.columns + k] += last * last * s1.scalars[r * x.columns + k] }
            }
        }
        return (diverged, clamped)
    }
}

/// Eigendecomposition of small symmetric matrices: closed form for D = 1, cyclic Jacobi rotations
/// for 2 ≤ D ≤ 16 (exact to rounding after a few sweeps), LAPACK above. Values ascending, vectors
/// as columns of a row-major [D, D] array.
public enum SmallSymmetricEigen {
    public static let jacobiMaximumDimension = 16

    public static func decompose(_ a: [Double], dimension d: Int) -> (values: [Double], vectors: [Double]) {
        precondition(a.count == d * d, "eigendecomposition: \(a.count) entries for D = \(d)")
        if d == 1 { return ([a[0]], [1]) }
        if d > jacobiMaximumDimension {
            let e = try! Tensor<Double>(shape: [d, d], scalars: a).symmetricEigen()
            return (e.values, e.vectors.scalars)
        }
        var m = a
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<50 {
            var off = 0.0, scale = 0.0
            for i in 0..<d { for j in 0..<d { if i != j { off += m[i * d + j] * m[i * d + j] } else { scale += m[i * d + i] * m[i * d + i] } } }
            if off <= 1e-30 * max(scale, 1e-300) { break }
            for p in 0..<(d - 1) {
                for q in (p + 1)..<d {
                    let apq = m[p * d + q]
                    if apq == 0 { continue }
                    let theta = (m[q * d + q] - m[p * d + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {  // columns p, q of m
                        let mkp = m[k * d + p], mkq = m[k * d + q]
                        m[k * d + p] = c * mkp - s * mkq
                        m[k * d + q] = s * mkp + c * mkq
                    }
                    for k in 0..<d {  // rows p, q of m
                        let mpk = m[p * d + k], mqk = m[q * d + k]
                        m[p * d + k] = c * mpk - s * mqk
                        m[q * d + k] = s * mpk + c * mqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<d).sorted { m[$0 * d + $0] < m[$1 * d + $1] }
        var values = [Double](repeating: 0, count: d), vectors = v
        for (k, src) in order.enumerated() {
            values[k] = m[src * d + src]
            for i in 0..<d { vectors[i * d + k] = v[i * d + src] }
        }
        return (values, vectors)
    }
}
