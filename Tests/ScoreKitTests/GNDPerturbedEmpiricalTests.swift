// Tests of GNDPerturbedEmpirical (heavy-tailed spec E3): the exact score against finite
// differences of the exact log-density, the β = 2 case against the equivalent Gaussian mixture,
// and the optimised batched path (square-root power kernels, distance-bound pruning, GEMM blocks)
// against the direct single-point reference.
import Foundation
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct GNDPerturbedEmpiricalTests {
    /// Query points: data rows plus GND noise of the same law, and a few fixed points.
    static func queries(_ model: GNDPerturbedEmpirical, count: Int, seed: UInt64) -> [[Double]] {
        var rng = Xoshiro256(seed: seed)
        return (0..<count).map { i in
            let base = model.data.row(i % model.count)
            return base.map { $0 + model.gnd.sample(using: &rng) }
        }
    }

    /// Absolute scale for comparing scores: the largest component, but at least 1/α (a kernel
    /// score's size at |ε| = α), since batched evaluation drops relative weights below e^−50 and
    /// a score that is almost exactly zero (a query on a data point) is compared absolutely.
    static func scoreScale(_ score: [Double], _ model: GNDPerturbedEmpirical) -> Double {
        max(score.map { abs($0) }.max()!, 1 / model.gnd.alpha)
    }

    /// The smallest |x̃_d − x_{j,d}| over data rows and coordinates (distance to a kink of β = 1).
    static func distanceToKinks(_ x: [Double], _ model: GNDPerturbedEmpirical) -> Double {
        var m = Double.infinity
        for j in 0..<model.count { for d in 0..<model.dimension { m = min(m, abs(x[d] - model.data[j, d])) } }
        return m
    }

    @Test(arguments: [1.25, 1.5, 1.75, 2.0, 2.5, 3.0])
    func scoreMatchesFiniteDifferencesOfLogDensity(beta: Double) {
        let model = GNDPerturbedEmpirical(data: normalMatrix(rows: 6, columns: 3, seed: 5), gnd: GeneralizedNormal(sigma: 0.6, beta: beta))
        var checked = 0
        for x in Self.queries(model, count: 16, seed: 11) where Self.distanceToKinks(x, model) > LocalTolerance.kinkClearance {
            checked += 1
            let fd = numericalGradient({ model.logDensity($0) }, at: x)
            let mismatch = worstMismatch(model.score(x), fd)
            #expect(mismatch == nil, "β = \(beta) at \(x): \(mismatch.map { "\($0)" } ?? "")")
        }
        #expect(checked >= 8)
    }

    /// β = 1 (Laplace) has kinks where x̃_d = x_{j,d}; away from them the density is smooth and
    /// the default finite-difference tolerance applies.
    @Test func laplaceScoreMatchesFiniteDifferencesAwayFromKinks() throws {
        let model = GNDPerturbedEmpirical(data: normalMatrix(rows: 6, columns: 3, seed: 5), gnd: GeneralizedNormal(sigma: 0.6, beta: 1))
        var checked = 0
        for x in Self.queries(model, count: 16, seed: 12) where Self.distanceToKinks(x, model) > LocalTolerance.kinkClearance {
            checked += 1
            let fd = numericalGradient({ model.logDensity($0) }, at: x)
            let mismatch = worstMismatch(model.score(x), fd)
            #expect(mismatch == nil, "at \(x): \(mismatch.map { "\($0)" } ?? "")")
            // Laplace scores are convex combinations of ±1/α per coordinate (heavy-tailed spec §1.4).
            #expect(model.score(x).allSatisfy { abs($0) <= (1 + Tolerance.float64Ops) / model.gnd.alpha })
        }
        #expect(checked >= 8)
    }

    @Test func gaussianCaseEqualsIsotropicMixture() {
        let sigma = 0.45
        let data = normalMatrix(rows: 9, columns: 4, seed: 6)
        let model = GNDPerturbedEmpirical(data: data, gnd: GeneralizedNormal(sigma: sigma, beta: 2))
        let mixture = GaussianMixture.isotropic(means: (0..<9).map { data.row($0) }, variance: sigma * sigma)
        let xs = Self.queries(model, count: 9, seed: 13)
        for x in xs {
            #expect(worstMismatch(model.score(x), mixture.score(x), rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
            #expect(abs(model.logDensity(x) - mixture.logDensity(x)) <= Tolerance.float64Ops * abs(mixture.logDensity(x)))
            #expect(worstMismatch(model.posteriorWeights(x), mixture.posteriorResponsibilities(x),
                                  rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        }
        let batched = model.scores(Tensor(rows: xs))
        #expect(worstMismatch(batched.scalars, mixture.scores(Tensor(rows: xs)).scalars,
                              rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
    }

    /// Batched versus single point over every kernel (0.8 and 2.5 use the generic `pow` path),
    /// D = 13 (two SIMD blocks of 4 plus a scalar tail), M = 300 (two GEMM blocks), a query on a
    /// data point (ε = 0 in every coordinate) and one sharing a single coordinate with the data.
    @Test(arguments: [0.8, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4], [0.05, 2.0])
    func batchedEqualsSinglePoint(beta: Double, sigma: Double) {
        let data = normalMatrix(rows: 23, columns: 13, seed: 7)
        let model = GNDPerturbedEmpirical(data: data, gnd: GeneralizedNormal(sigma: sigma, beta: beta))
        var xs = Self.queries(model, count: 300, seed: 14)
        xs[0] = data.row(3)
        xs[1][5] = data[8, 5]
        let batch = Tensor<Double>(rows: xs)
        let (scores, logDensities) = model.scoresAndLogDensities(batch)
        #expect(scores.shape == [300, 13] && logDensities.count == 300)
        #expect(scores == model.scores(batch))
        #expect(logDensities == model.logDensities(batch))
        for (i, x) in xs.enumerated() {
            let single = model.score(x)
            let scale = Self.scoreScale(single, model)
            let mismatch = worstMismatch(rowOf(scores, i), single, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops * scale)
            #expect(mismatch == nil, "β = \(beta), σ = \(sigma), query \(i): \(mismatch.map { "\($0)" } ?? "")")
            let logQ = model.logDensity(x)
            #expect(abs(logDensities[i] - logQ) <= Tolerance.float64Ops * max(1, abs(logQ)))
        }
    }

    /// Higher dimension, many data points and a small σ: most data points are pruned by the
    /// ℓ2 bound, which must not change the result.
    @Test(arguments: [1.0, 1.5, 2.0, 3.0])
    func pruningKeepsResultsExact(beta: Double) {
        let data = normalMatrix(rows: 200, columns: 40, seed: 8)
        for sigma in [0.02, 0.3, 1.5] {
            let model = GNDPerturbedEmpirical(data: data, gnd: GeneralizedNormal(sigma: sigma, beta: beta))
            let xs = Self.queries(model, count: 12, seed: 15)
            let scores = model.scores(Tensor(rows: xs))
            for (i, x) in xs.enumerated() {
                let single = model.score(x)
                let scale = Self.scoreScale(single, model)
                #expect(worstMismatch(rowOf(scores, i), single, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops * scale) == nil)
            }
        }
    }

    @Test func emptyBatchAndShapes() {
        let model = GNDPerturbedEmpirical(data: normalMatrix(rows: 4, columns: 2, seed: 9), gnd: GeneralizedNormal(alpha: 1, beta: 1.5))
        #expect(model.count == 4 && model.dimension == 2)
        let empty = model.scores(Tensor<Double>(shape: [0, 2]))
        #expect(empty.shape == [0, 2])
        #expect(model.logDensities(Tensor<Double>(shape: [0, 2])).isEmpty)
    }
}
