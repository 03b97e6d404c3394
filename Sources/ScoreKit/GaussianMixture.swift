// A Gaussian mixture p = Σ_k π_k N(μ_k, Σ_k) in Double, used as exact ground truth for score
// estimation (high-order spec §2.3). Perturbing it with N(0, σ²I) noise gives again a mixture,
// q_σ = Σ_k π_k N(μ_k, C_k) with C_k = Σ_k + σ²I (`perturbed(sigma:)`), whose first- and
// second-order scores have closed forms:
//
//     g_k(x) = −C_k⁻¹ (x − μ_k),   r_k(x) = softmax_k(log π_k + log N(x; μ_k, C_k)),
//     s₁(x) = Σ_k r_k g_k,          s₂(x) = Σ_k r_k (g_k − s₁)(g_k − s₁)ᵀ − Σ_k r_k C_k⁻¹.
//
// The s₂ form above is algebraically the spec's Σ_k r_k (g_k g_kᵀ − C_k⁻¹) − s₁s₁ᵀ but sums
// non-negative terms instead of cancelling large ones. Every covariance is factorised once at
// construction (Cholesky, inverse, log-determinant).
import TensorCore

/// Gaussian mixture p = Σ π_k N(μ_k, Σ_k) with exact log-density, score (s₁) and Hessian of the
/// log-density (s₂) (high-order spec §2.3). Call `perturbed(sigma:)` first to get the scores of
/// the σ-perturbed marginal q_σ = Σ π_k N(μ_k, Σ_k + σ²I).
///
/// Invalid input is a programming error and stops with a precondition failure: weights must be
/// positive and sum to 1 within `weightSumTolerance`; every mean must have length D ≥ 1; every
/// covariance must be [D, D], symmetric within `symmetryTolerance` (relative to its largest
/// entry) and positive definite (LAPACK Cholesky succeeds).
public struct GaussianMixture: Sendable {
    /// Allowed |Σ π_k − 1|.
    public static let weightSumTolerance = 1e-9
    /// Allowed |Σ_ij − Σ_ji| relative to max |Σ_ij|.
    public static let symmetryTolerance = 1e-12

    /// Mixture weights π_k (positive, summing to 1).
    public let weights: [Double]
    /// Component means μ_k, each of length D.
    public let means: [[Double]]
    /// Component covariances Σ_k, each [D, D].
    public let covariances: [Tensor<Double>]

    private let factors: [SPDFactorisation]
    /// log π_k − ½ (D log 2π + log det Σ_k): the x-independent part of each component's log density.
    private let logConstants: [Double]

    /// The dimension D.
    public var dimension: Int { means[0].count }
    /// The number of components K.
    public var componentCount: Int { weights.count }

    /// A mixture with the given weights, means and covariances (validated; see the type's docs).
    public init(weights: [Double], means: [[Double]], covariances: [Tensor<Double>]) {
        let k = weights.count
        precondition(k >= 1, "a mixture needs at least one component")
        precondition(means.count == k && covariances.count == k,
                     "mixture has \(k) weights but \(means.count) means and \(covariances.count) covariances")
        precondition(weights.allSatisfy { $0 > 0 && $0.isFinite }, "mixture weights must be finite and positive: \(weights)")
        let total = weights.reduce(0, +)
        precondition(abs(total - 1) <= GaussianMixture.weightSumTolerance, "mixture weights sum to \(total), not 1")
        let d = means[0].count
        precondition(d >= 1, "component means must have at least one coordinate")
        var factors: [SPDFactorisation] = []
        var logConstants: [Double] = []
        let logTwoPi = ScalarMath.log(2 * Double.pi)
        for c in 0..<k {
            precondition(means[c].count == d, "mean \(c) has length \(means[c].count), expected \(d)")
            precondition(means[c].allSatisfy { $0.isFinite }, "mean \(c) has non-finite entries")
            let cov = covariances[c]
            precondition(cov.shape == [d, d], "covariance \(c) has shape \(cov.shape), expected [\(d), \(d)]")
            let scale = cov.scalars.map { abs($0) }.max() ?? 0
            for i in 0..<d {
                for j in 0..<i {
                    precondition(abs(cov.scalars[i * d + j] - cov.scalars[j * d + i]) <= GaussianMixture.symmetryTolerance * scale,
                                 "covariance \(c) is not symmetric at (\(i), \(j))")
                }
            }
            guard let f = SPDFactorisation(cov) else {
                preconditionFailure("covariance \(c) is not positive definite (Cholesky failed)")
            }
            factors.append(f)
            logConstants.append(ScalarMath.log(weights[c]) - 0.5 * (Double(d) * logTwoPi + f.logDeterminant))
        }
        self.weights = weights
        self.means = means
        self.covariances = covariances
        self.factors = factors
        self.logConstants = logConstants
    }

    /// A single Gaussian N(mean, covariance) as a one-component mixture.
    public static func gaussian(mean: [Double], covariance: Tensor<Double>) -> GaussianMixture {
        GaussianMixture(weights: [1], means: [mean], covariances: [covariance])
    }

    /// Components N(μ_k, variance·I) with the given weights (default: equal weights 1/K). With
    /// equal weights and means at data points this is the Gaussian-perturbed empirical
    /// distribution of the data.
    public static func isotropic(means: [[Double]], variance: Double, weights: [Double]? = nil) -> GaussianMixture {
        precondition(!means.isEmpty, "a mixture needs at least one component")
        precondition(variance > 0 && variance.isFinite, "isotropic variance must be finite and positive, got \(variance)")
        let d = means[0].count
        let cov = variance * Tensor<Double>.identity(d)
        let w = weights ?? [Double](repeating: 1 / Double(means.count), count: means.count)
        return GaussianMixture(weights: w, means: means, covariances: [Tensor<Double>](repeating: cov, count: means.count))
    }

    /// The σ-perturbed marginal q_σ = Σ π_k N(μ_k, Σ_k + σ²I) (high-order spec §1.1, §2.3); σ ≥ 0.
    public func perturbed(sigma: Double) -> GaussianMixture {
        precondition(sigma >= 0 && sigma.isFinite, "noise level sigma must be finite and non-negative, got \(sigma)")
        let d = dimension
        let s2 = sigma * sigma
        let covs = covariances.map { c -> Tensor<Double> in
            var c = c
            for i in 0..<d { c.scalars[i * d + i] += s2 }
            return c
        }
        return GaussianMixture(weights: weights, means: means, covariances: covs)
    }

    /// The mixture mean Σ π_k μ_k.
    public var mean: [Double] {
        var m = [Double](repeating: 0, count: dimension)
        for (w, mu) in zip(weights, means) { for i in m.indices { m[i] += w * mu[i] } }
        return m
    }

    /// The mixture covariance Σ π_k (Σ_k + μ_k μ_kᵀ) − m mᵀ, [D, D].
    public var covariance: Tensor<Double> {
        let d = dimension
        let m = mean
        var c = Tensor<Double>(shape: [d, d])
        for k in 0..<componentCount {
            let mu = means[k]
            for i in 0..<d {
                for j in 0..<d {
                    c.scalars[i * d + j] += weights[k] * (covariances[k].scalars[i * d + j] + (mu[i] - m[i]) * (mu[j] - m[j]))
                }
            }
        }
        return c
    }

    // MARK: - Single point

    /// Per-component g_k = −C_k⁻¹(x − μ_k) and log π_k + log N(x; μ_k, C_k).
    private func componentTerms(_ x: [Double]) -> (g: [[Double]], logJoint: [Double]) {
        let d = dimension
        precondition(x.count == d, "point has \(x.count) coordinates, mixture has dimension \(d)")
        var gs: [[Double]] = []
        var logJoint: [Double] = []
        gs.reserveCapacity(componentCount)
        logJoint.reserveCapacity(componentCount)
        for k in 0..<componentCount {
            let mu = means[k]
            let inv = factors[k].inverse.scalars
            let delta = (0..<d).map { x[$0] - mu[$0] }
            var g = [Double](repeating: 0, count: d)
            var quad = 0.0
            for i in 0..<d {
                var s = 0.0
                for j in 0..<d { s += inv[i * d + j] * delta[j] }
                g[i] = -s
                quad += delta[i] * s
            }
            gs.append(g)
            logJoint.append(logConstants[k] - 0.5 * quad)
        }
        return (gs, logJoint)
    }

    /// log p(x) = log Σ_k π_k N(x; μ_k, Σ_k), by log-sum-exp.
    public func logDensity(_ x: [Double]) -> Double {
        ScalarMath.logSumExp(componentTerms(x).logJoint)
    }

    /// r_k(x) = π_k N(x; μ_k, Σ_k) / p(x), the posterior probability of each component.
    public func posteriorResponsibilities(_ x: [Double]) -> [Double] {
        ScalarMath.softmax(componentTerms(x).logJoint)
    }

    /// s₁(x) = ∇ log p(x) = Σ_k r_k(x) g_k(x) (high-order spec §2.3).
    public func score(_ x: [Double]) -> [Double] {
        let (gs, logJoint) = componentTerms(x)
        let r = ScalarMath.softmax(logJoint)
        var s = [Double](repeating: 0, count: dimension)
        for k in 0..<componentCount { for i in s.indices { s[i] += r[k] * gs[k][i] } }
        return s
    }

    /// s₂(x) = ∇² log p(x) = Σ_k r_k (g_k − s₁)(g_k − s₁)ᵀ − Σ_k r_k C_k⁻¹, [D, D], exactly
    /// symmetric (high-order spec §2.3). For one component this is −C⁻¹.
    public func hessian(_ x: [Double]) -> Tensor<Double> {
        let d = dimension
        let (gs, logJoint) = componentTerms(x)
        let r = ScalarMath.softmax(logJoint)
        var s1 = [Double](repeating: 0, count: d)
        for k in 0..<componentCount { for i in 0..<d { s1[i] += r[k] * gs[k][i] } }
        var h = Tensor<Double>(shape: [d, d])
        h.withUnsafeMutableBufferPointer { hp in
            for k in 0..<componentCount {
                let inv = factors[k].inverse.scalars
                let c = (0..<d).map { gs[k][$0] - s1[$0] }
                for i in 0..<d {
                    for j in 0...i { hp[i * d + j] += r[k] * (c[i] * c[j] - inv[i * d + j]) }
                }
            }
            for i in 0..<d { for j in 0..<i { hp[j * d + i] = hp[i * d + j] } }
        }
        return h
    }

    /// `count` i.i.d. draws, [count, D]: a component k ~ Categorical(π), then μ_k + L_k z with
    /// L_k the Cholesky factor of Σ_k and z ~ N(0, I).
    public func sample<G: RandomNumberGenerator>(count: Int, using rng: inout G) -> Tensor<Double> {
        precondition(count >= 0, "sample count must be non-negative, got \(count)")
        let d = dimension
        var cumulative = [Double](repeating: 0, count: componentCount)
        var acc = 0.0
        for k in 0..<componentCount { acc += weights[k]; cumulative[k] = acc }
        var out = Tensor<Double>(shape: [count, d])
        var z = [Double](repeating: 0, count: d)
        for n in 0..<count {
            let u = rng.nextUniform() * acc
            var k = 0
            while k < componentCount - 1 && u >= cumulative[k] { k += 1 }
            var i = 0
            while i + 1 < d {
                let (a, b) = rng.nextNormalPair()
                z[i] = a
                z[i + 1] = b
                i += 2
            }
            if i < d { z[i] = rng.nextNormal() }
            let l = factors[k].lower.scalars
            for i in 0..<d {
                var s = means[k][i]
                for j in 0...i { s += l[i * d + j] * z[j] }
                out.scalars[n * d + i] = s
            }
        }
        return out
    }

    // MARK: - Batched

    /// Batched per-component terms for X [N, D]: G_k = −(X − μ_k) C_k⁻¹ ([N, D] each, by GEMM;
    /// C_k⁻¹ is symmetric) and the responsibilities R [N, K] (row-wise softmax), plus log p per row.
    private func batchedTerms(_ x: Tensor<Double>) -> (g: [Tensor<Double>], r: [Double], logDensity: [Double]) {
        let d = dimension
        precondition(x.rank == 2 && x.shape[1] == d, "points must have shape [N, \(d)], got \(x.shape)")
        let n = x.shape[0]
        let kCount = componentCount
        var gs: [Tensor<Double>] = []
        var logJoint = [Double](repeating: 0, count: n * kCount)
        for k in 0..<kCount {
            var delta = x
            let mu = means[k]
            delta.withUnsafeMutableBufferPointer { p in
                for row in 0..<n { for i in 0..<d { p[row * d + i] -= mu[i] } }
            }
            var g = Tensor<Double>(shape: [n, d])
            matmul(delta, factors[k].inverse, into: &g, alpha: -1)
            delta.withUnsafeBufferPointer { dp in
                g.withUnsafeBufferPointer { gp in
                    for row in 0..<n {
                        var quad = 0.0
                        for i in 0..<d { quad -= dp[row * d + i] * gp[row * d + i] }
                        logJoint[row * kCount + k] = logConstants[k] - 0.5 * quad
                    }
                }
            }
            gs.append(g)
        }
        var logDens = [Double](repeating: 0, count: n)
        for row in 0..<n {
            let base = row * kCount
            var m = -Double.infinity
            for k in 0..<kCount { m = Swift.max(m, logJoint[base + k]) }
            var s = 0.0
            for k in 0..<kCount {
                let e = ScalarMath.exp(logJoint[base + k] - m)
                logJoint[base + k] = e
                s += e
            }
            for k in 0..<kCount { logJoint[base + k] /= s }
            logDens[row] = m + ScalarMath.log(s)
        }
        return (gs, logJoint, logDens)
    }

    /// log p for each row of X [N, D], [N].
    public func logDensities(_ x: Tensor<Double>) -> [Double] {
        batchedTerms(x).logDensity
    }

    /// Responsibilities for each row of X [N, D], [N, K].
    public func posteriorResponsibilities(_ x: Tensor<Double>) -> Tensor<Double> {
        let r = batchedTerms(x).r
        return Tensor(shape: [x.shape[0], componentCount], scalars: r)
    }

    /// s₁ for each row of X [N, D], [N, D].
    public func scores(_ x: Tensor<Double>) -> Tensor<Double> {
        let (gs, r, _) = batchedTerms(x)
        let n = x.shape[0]
        let d = dimension
        let kCount = componentCount
        var out = Tensor<Double>(shape: [n, d])
        out.withUnsafeMutableBufferPointer { o in
            for k in 0..<kCount {
                gs[k].withUnsafeBufferPointer { gp in
                    for row in 0..<n {
                        let w = r[row * kCount + k]
                        for i in 0..<d { o[row * d + i] += w * gp[row * d + i] }
                    }
                }
            }
        }
        return out
    }

    /// s₂ for each row of X [N, D], [N, D, D], each slice exactly symmetric.
    public func hessians(_ x: Tensor<Double>) -> Tensor<Double> {
        let (gs, r, _) = batchedTerms(x)
        let n = x.shape[0]
        let d = dimension
        let kCount = componentCount
        var out = Tensor<Double>(shape: [n, d, d])
        var s1 = [Double](repeating: 0, count: d)
        var c = [Double](repeating: 0, count: d)
        out.withUnsafeMutableBufferPointer { o in
            for row in 0..<n {
                for i in 0..<d { s1[i] = 0 }
                for k in 0..<kCount {
                    let w = r[row * kCount + k]
                    for i in 0..<d { s1[i] += w * gs[k].scalars[row * d + i] }
                }
                let h = o.baseAddress! + row * d * d
                for k in 0..<kCount {
                    let w = r[row * kCount + k]
                    let inv = factors[k].inverse.scalars
                    for i in 0..<d { c[i] = gs[k].scalars[row * d + i] - s1[i] }
                    for i in 0..<d {
                        for j in 0...i { h[i * d + j] += w * (c[i] * c[j] - inv[i * d + j]) }
                    }
                }
                for i in 0..<d { for j in 0..<i { h[j * d + i] = h[i * d + j] } }
            }
        }
        return out
    }
}
