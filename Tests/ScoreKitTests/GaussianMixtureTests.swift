// Tests of GaussianMixture (high-order spec §2.3, §6.7 item 1): s₁ and s₂ of the σ-perturbed
// marginal against central finite differences, the single-Gaussian case s₂ = −(Σ + σ²I)⁻¹,
// symmetry, batched versus single-point forms, and the sampler's mean and covariance.
import Foundation
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct GaussianMixtureTests {
    /// A 3-D two-component anisotropic mixture with correlated covariances.
    static let mixture = GaussianMixture(
        weights: [0.35, 0.65],
        means: [[-1.0, 0.5, 0.2], [1.2, -0.4, 0.8]],
        covariances: [
            Tensor(rows: [[0.50, 0.20, 0.05], [0.20, 0.30, -0.10], [0.05, -0.10, 0.80]]),
            Tensor(rows: [[0.20, -0.05, 0.00], [-0.05, 1.10, 0.30], [0.00, 0.30, 0.40]]),
        ])
    static let sigma = 0.3
    /// Points between, near and away from the two modes.
    static let points: [[Double]] = [[0.1, 0.0, 0.5], [-1.1, 0.6, 0.1], [1.0, -0.2, 1.1], [2.5, 1.5, -1.0], [-0.3, -0.8, 0.4]]

    @Test func scoreMatchesFiniteDifferencesOfLogDensity() {
        let q = Self.mixture.perturbed(sigma: Self.sigma)
        for x in Self.points {
            let fd = numericalGradient({ q.logDensity($0) }, at: x)
            let mismatch = worstMismatch(q.score(x), fd)
            #expect(mismatch == nil, "at \(x): \(mismatch.map { "\($0)" } ?? "")")
        }
    }

    @Test func hessianMatchesFiniteDifferencesOfScoreAndIsSymmetric() {
        let q = Self.mixture.perturbed(sigma: Self.sigma)
        let d = q.dimension
        for x in Self.points {
            let h = q.hessian(x)
            #expect(h.shape == [d, d])
            let fd = flat(numericalJacobian({ q.score($0) }, at: x))
            let mismatch = worstMismatch(h.scalars, fd)
            #expect(mismatch == nil, "at \(x): \(mismatch.map { "\($0)" } ?? "")")
            for i in 0..<d { for j in 0..<d { #expect(h[i, j] == h[j, i]) } }
        }
    }

    @Test func singleGaussianHessianIsMinusInverseCovariance() throws {
        let cov = Tensor<Double>(rows: [[1.3, 0.4, -0.2], [0.4, 0.7, 0.1], [-0.2, 0.1, 0.9]])
        let sigma = 0.3
        let q = GaussianMixture.gaussian(mean: [0.5, -1, 2], covariance: cov).perturbed(sigma: sigma)
        // Independent inverse of C = Σ + σ²I through its eigendecomposition.
        var c = cov
        for i in 0..<3 { c[i, i] += sigma * sigma }
        let eig = try c.symmetricEigen()
        var inverse = Tensor<Double>(shape: [3, 3])
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 {
            inverse[i, j] += eig.vectors[i, k] * eig.vectors[j, k] / eig.values[k]
        } } }
        let expected = inverse.scalars.map { -$0 }
        for x in [[0.0, 0.0, 0.0], [3.0, -2.0, 1.0]] {
            #expect(worstMismatch(q.hessian(x).scalars, expected, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        }
        // Score −C⁻¹(x − μ) and log density of N(μ, C) (log det from the eigenvalues).
        let x = [1.0, 0.5, -0.5]
        let delta = zip(x, [0.5, -1, 2]).map { $0 - $1 }
        let s = (0..<3).map { i in -(0..<3).reduce(0.0) { $0 + inverse[i, $1] * delta[$1] } }
        let quad = -zip(delta, s).reduce(0.0) { $0 + $1.0 * $1.1 }
        let logDet = eig.values.reduce(0.0) { $0 + log($1) }
        let logDensity = -0.5 * (3 * log(2 * Double.pi) + logDet + quad)
        #expect(worstMismatch(q.score(x), s, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        #expect(abs(q.logDensity(x) - logDensity) <= Tolerance.float64Ops * abs(logDensity))
    }

    @Test func responsibilitiesAreBayesPosterior() {
        let q = Self.mixture.perturbed(sigma: Self.sigma)
        for x in Self.points {
            let r = q.posteriorResponsibilities(x)
            #expect(abs(r.reduce(0, +) - 1) <= Tolerance.float64Ops)
            // r_k = π_k N_k(x) / p(x): compare with single-component mixtures.
            for k in 0..<q.componentCount {
                let component = GaussianMixture.gaussian(mean: q.means[k], covariance: q.covariances[k])
                let expected = exp(log(q.weights[k]) + component.logDensity(x) - q.logDensity(x))
                #expect(abs(r[k] - expected) <= Tolerance.float64Ops)
            }
        }
    }

    @Test func batchedFormsEqualSinglePointForms() {
        let q = Self.mixture.perturbed(sigma: Self.sigma)
        let x = Tensor<Double>(rows: Self.points)
        let n = Self.points.count
        let d = q.dimension
        let scores = q.scores(x)
        let hessians = q.hessians(x)
        let logDensities = q.logDensities(x)
        let responsibilities = q.posteriorResponsibilities(x)
        #expect(scores.shape == [n, d] && hessians.shape == [n, d, d] && responsibilities.shape == [n, 2])
        for (i, p) in Self.points.enumerated() {
            let rtol = Tolerance.float64Ops, atol = Tolerance.float64Ops
            #expect(worstMismatch(rowOf(scores, i), q.score(p), rtol: rtol, atol: atol) == nil)
            #expect(worstMismatch(rowOf(hessians, i), q.hessian(p).scalars, rtol: rtol, atol: atol) == nil)
            #expect(worstMismatch(rowOf(responsibilities, i), q.posteriorResponsibilities(p), rtol: rtol, atol: atol) == nil)
            #expect(abs(logDensities[i] - q.logDensity(p)) <= Tolerance.float64Ops * abs(logDensities[i]))
            let h = rowOf(hessians, i)
            for a in 0..<d { for b in 0..<d { #expect(h[a * d + b] == h[b * d + a]) } }
        }
    }

    @Test func sampleMeanAndCovarianceMatch() {
        let p = Self.mixture
        var rng = Xoshiro256(seed: 31)
        let n = MonteCarloSize.mixtureDraws
        let xs = p.sample(count: n, using: &rng)
        #expect(xs.shape == [n, 3])
        let d = p.dimension
        let mean = p.mean
        let cov = p.covariance
        let nd = Double(n)
        // Mean per coordinate: SE sqrt(Var_i / n).
        let sampleMeans = (0..<d).map { i in (0..<n).reduce(0.0) { $0 + xs[$1, i] } / nd }
        for i in 0..<d {
            #expect(standardErrors(sampleMeans[i], mean[i], se: (cov[i, i] / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        }
        // Covariance entries about the true mean: plug-in SE of the mean of the products.
        for i in 0..<d {
            for j in i..<d {
                let products = (0..<n).map { (xs[$0, i] - mean[i]) * (xs[$0, j] - mean[j]) }
                let estimate = sampleMean(products)
                let spread = products.reduce(0.0) { $0 + ($1 - estimate) * ($1 - estimate) } / (nd - 1)
                #expect(standardErrors(estimate, cov[i, j], se: (spread / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
            }
        }
    }

    @Test func perturbedAddsSigmaSquaredToTheDiagonal() {
        let q = Self.mixture.perturbed(sigma: 0.5)
        for k in 0..<2 {
            let diff = q.covariances[k] - Self.mixture.covariances[k]
            #expect(worstMismatch(diff.scalars, Tensor<Double>.identity(3).scalars.map { 0.25 * $0 },
                                  rtol: LocalTolerance.noRelativeSlack, atol: Tolerance.float64Ops) == nil)
        }
        #expect(q.weights == Self.mixture.weights && q.means == Self.mixture.means)
    }

    /// The sampler's component choice: on a mixture whose components are 40 standard deviations
    /// apart (so each draw's component is read off its nearest mean without error), the component
    /// counts of 300 000 draws pass a χ² goodness-of-fit test against the weights at the 1e-4
    /// level (χ²₃ critical value 21.1).
    @Test func componentFrequenciesMatchWeights() {
        let weights = [0.1, 0.2, 0.3, 0.4]
        let means: [[Double]] = [[-60, 0], [-20, 0], [20, 0], [60, 0]]
        let cov = Tensor<Double>(rows: [[1.0, 0.3], [0.3, 0.5]])
        let p = GaussianMixture(weights: weights, means: means, covariances: Array(repeating: cov, count: 4))
        var rng = Xoshiro256(seed: 77)
        let n = 300_000
        let xs = p.sample(count: n, using: &rng)
        var counts = [Double](repeating: 0, count: 4)
        for r in 0..<n { counts[min(3, max(0, Int(((xs[r, 0] + 80) / 40).rounded(.down))))] += 1 }
        let chiSquared = zip(counts, weights).reduce(0.0) { $0 + pow($1.0 - Double(n) * $1.1, 2) / (Double(n) * $1.1) }
        let critical = 21.1  // χ²₃ upper 1e-4 quantile
        #expect(chiSquared < critical, "χ² = \(chiSquared), counts \(counts)")
    }

    /// HO-E5's heavy-mode fraction: under q_σ of the stiff 0.2/0.8 mixture, P(x₁ > 0) =
    /// Σ_k π_k Φ(μ_k1/√(Σ_k,11 + σ²)) = 0.79620 (closed form). Five independent streams of 200 000
    /// draws each must agree with it within 4 standard errors, and so must their pool.
    @Test func heavyFractionMatchesClosedForm() {
        let cov = Tensor<Double>(rows: [[1.0, 0.0], [0.0, 0.01]])
        let sigma = 0.05
        let q = GaussianMixture(weights: [0.2, 0.8], means: [[-2.5, 0], [2.5, 0]], covariances: [cov, cov]).perturbed(sigma: sigma)
        let sd = (1.0 + sigma * sigma).squareRoot()
        let exact = 0.2 * 0.5 * erfc(2.5 / (sd * 2.0.squareRoot())) + 0.8 * 0.5 * erfc(-2.5 / (sd * 2.0.squareRoot()))
        let n = 200_000
        var pooled = 0.0
        for stream in 0..<5 {
            var rng = Xoshiro256(seed: 2026, key: [UInt64(stream)])
            let xs = q.sample(count: n, using: &rng)
            let f = Double((0..<n).filter { xs[$0, 0] > 0 }.count) / Double(n)
            pooled += f / 5
            #expect(standardErrors(f, exact, se: (exact * (1 - exact) / Double(n)).squareRoot()) <= Tolerance.monteCarloSigmas, "stream \(stream): \(f) vs \(exact)")
        }
        #expect(standardErrors(pooled, exact, se: (exact * (1 - exact) / Double(5 * n)).squareRoot()) <= Tolerance.monteCarloSigmas, "pooled \(pooled) vs \(exact)")
    }
}
