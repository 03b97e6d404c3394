// Known answers of the Monte-Carlo DSM identity check (issue 30, HT-C1).
import Testing
import TensorCore
import TestSupport
@testable import ScoreKit

@Suite struct DSMIdentityTests {
    /// A small data set: 6 points in D = 4.
    static func data() -> Tensor<Double> {
        var rng = Xoshiro256(seed: 30)
        return Tensor<Double>.randomNormal([6, 4], using: &rng)
    }

    /// The identity E[s·t] = E[s·∇log q] (s = ∇log q) for the Laplace kernel and for β = 1.5 and
    /// 2: the mean difference is 0 within 4 standard errors (a false alarm has probability
    /// 6·10⁻⁵ per case), and its standard error is small against E‖∇log q‖² (the check has power).
    @Test(arguments: [1.0, 1.5, 2.0])
    func identityHoldsWithinFourStandardErrors(beta: Double) {
        var rng = Xoshiro256(seed: 31)
        let e = DSMIdentity.estimate(data: Self.data(), dsm: GNDScoreMatching(sigmas: [0.8], beta: beta), draws: 50_000, using: &rng)
        #expect(abs(e.meanDifference) < 4 * e.standardError, "mean \(e.meanDifference), SE \(e.standardError)")
        #expect(e.standardError < 0.01 * e.meanScoreProduct, "SE \(e.standardError) against E‖∇log q‖² \(e.meanScoreProduct)")
        #expect(abs(e.meanTargetProduct - e.meanScoreProduct - e.meanDifference) < 1e-9 * e.meanScoreProduct)
    }

    /// Stein's identity, the closed form: with s(x̃) = x̃, E[x̃·t] = −D for every β (Laplace
    /// included), within 4 standard errors.
    @Test(arguments: [1.0, 1.5, 2.0])
    func steinKnownAnswer(beta: Double) {
        var rng = Xoshiro256(seed: 32)
        let e = DSMIdentity.estimate(data: Self.data(), dsm: GNDScoreMatching(sigmas: [0.8], beta: beta), draws: 50_000,
                                     testFunction: .identity, using: &rng)
        let se = e.sdTargetProduct / Double(e.draws).squareRoot()
        #expect(abs(e.meanTargetProduct - (-4)) < 4 * se, "E[x̃·t] = \(e.meanTargetProduct), SE \(se), expected −4")
        #expect(se < 0.1)
    }

    /// The check has power: a target off by a factor 1.2 (a wrong scale) gives a difference of
    /// 0.2·E‖∇log q‖² in expectation, far beyond its standard error. Computed here by hand with
    /// the same draws as the estimator would make.
    @Test func wrongTargetIsDetected() {
        let data = Self.data()
        let dsm = GNDScoreMatching(sigmas: [0.8], beta: 1)
        let truth = GNDPerturbedEmpirical(data: data, gnd: dsm.noise(level: 0))
        var rng = Xoshiro256(seed: 33)
        var batch = GNDDenoisingBatch<Double>()
        var clean = Tensor<Double>(shape: [20_000, 4])
        for r in 0..<20_000 { let j = rng.nextIndex(6); for c in 0..<4 { clean.scalars[r * 4 + c] = data.scalars[j * 4 + c] } }
        dsm.makeBatch(clean: clean, into: &batch, level: 0, using: &rng)
        let s = truth.scores(batch.noisy)
        var d: [Double] = [], q = 0.0
        for r in 0..<20_000 {
            var pt = 0.0, pq = 0.0
            for c in 0..<4 { pt += s[r, c] * 1.2 * batch.target[r, c]; pq += s[r, c] * s[r, c] }
            d.append(pt - pq); q += pq
        }
        let mean = d.reduce(0, +) / 20_000, sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 19_999).squareRoot()
        #expect(abs(mean / (q / 20_000) - 0.2) < 0.05)
        #expect(abs(mean) > 10 * sd / 20_000.0.squareRoot())
    }
}
