// Tests of NoiseNormExact (issue 17, HT-C3): the quadrature moments of R = ‖ε‖₂ against known
// answers — the chi distribution (β = 2, every D), the law of |X| (D = 1, every β, from the GND
// absolute moments), the delta method at large D — and against Monte Carlo draws of the sampler.
import Foundation
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct NoiseNormExactTests {
    enum LocalTolerance {
        /// The chi reference loses digits to cancellation: Var R = D − μ² with μ from lgamma
        /// (≈ 1e-12 relative at D = 784) and 1 − 2 Var R ≈ 1/(4D) in the skew: ≈ 1e-7 absolute at
        /// D = 784, so 1e-6 absolute on skew and std.
        static let chiReference = 1e-6
        /// The quadrature itself (trapezoid sums of analytic integrands) is good to ≈ 1e-12 on
        /// the mean; the D = 1 references are closed forms in lgamma.
        static let quadratureRelative = 1e-9
    }

    /// β = 2, α = √2 (σ = 1): coordinates are N(0, 1) and R is chi with D degrees of freedom:
    /// μ = √2 Γ((D+1)/2)/Γ(D/2), Var = D − μ², skew = μ(1 − 2 Var)/Var^{3/2}.
    @Test(arguments: [1, 2, 3, 10, 100, 784])
    func gaussianNormIsChi(dimension: Int) {
        let exact = NoiseNormExact(gnd: GeneralizedNormal(sigma: 1, beta: 2)).moments(dimension: dimension)
        let d = Double(dimension)
        let mu = 2.0.squareRoot() * exp(lgamma((d + 1) / 2) - lgamma(d / 2))
        let variance = d - mu * mu
        let skew = mu * (1 - 2 * variance) / pow(variance, 1.5)
        #expect(abs(exact.mean - mu) <= LocalTolerance.quadratureRelative * mu)
        #expect(abs(exact.std - variance.squareRoot()) <= LocalTolerance.chiReference)
        #expect(abs(exact.skew - skew) <= LocalTolerance.chiReference)
        #expect(exact.skewError <= LocalTolerance.chiReference)
    }

    /// D = 1: R = |X| and E R^k = α^k Γ((k+1)/β)/Γ(1/β) exactly; β = 1 gives the exponential law
    /// (skew 2).
    @Test(arguments: [1.0, 1.25, 1.5, 1.75, 2.0, 3.0, 4.0])
    func oneDimensionalNormIsAbsoluteValue(beta: Double) {
        let gnd = GeneralizedNormal(sigma: 0.7, beta: beta)
        let exact = NoiseNormExact(gnd: gnd).moments(dimension: 1)
        let m1 = gnd.absoluteMoment(1), m2 = gnd.absoluteMoment(2), m3 = gnd.absoluteMoment(3)
        let variance = m2 - m1 * m1
        let skew = (m3 - 3 * m1 * m2 + 2 * m1 * m1 * m1) / pow(variance, 1.5)
        #expect(abs(exact.mean - m1) <= LocalTolerance.quadratureRelative * m1)
        #expect(abs(exact.std - variance.squareRoot()) <= LocalTolerance.quadratureRelative * m1)
        #expect(abs(exact.skew - skew) <= LocalTolerance.quadratureRelative * 10)
        if beta == 1 { #expect(abs(exact.skew - 2) <= LocalTolerance.quadratureRelative * 10) }
    }

    /// At large D the exact moments approach the delta method: E R → √(D m₂), sd R → the
    /// D-independent delta value, with O(1/D) relative corrections, and skew > 0 for β < 2.
    @Test func largeDimensionApproachesDeltaMethod() {
        for beta in [1.0, 1.5, 1.75] {
            let gnd = GeneralizedNormal(sigma: 1, beta: beta)
            let exact = NoiseNormExact(gnd: gnd).moments(dimension: 3072)
            let delta = NoiseNormMoments(dimension: 3072, gnd: gnd)
            let firstOrder = 10.0 / 3072  // a few units of 1/D
            #expect(abs(exact.mean / delta.meanApprox - 1) <= firstOrder)
            #expect(abs(exact.std / delta.stdApprox - 1) <= firstOrder)
            #expect(exact.skew > 0)
        }
    }

    /// The sampler agrees with the exact values within Monte Carlo error (batch-means s.e.).
    @Test(arguments: [(1.0, 10), (1.5, 64), (3.0, 4)])
    func monteCarloAgrees(beta: Double, dimension: Int) {
        let gnd = GeneralizedNormal(sigma: 1, beta: beta)
        let exact = NoiseNormExact(gnd: gnd).moments(dimension: dimension)
        var rng = Xoshiro256(seed: 2026, stream: dimension)
        let batches = 20, perBatch = 5_000
        var means = [Double](), skews = [Double](), stds = [Double]()
        for _ in 0..<batches {
            let r = (0..<perBatch).map { _ in
                var s = 0.0
                for _ in 0..<dimension { let x = gnd.sample(using: &rng); s += x * x }
                return s.squareRoot()
            }
            let m = r.reduce(0, +) / Double(perBatch)
            var c2 = 0.0, c3 = 0.0
            for v in r { c2 += (v - m) * (v - m); c3 += (v - m) * (v - m) * (v - m) }
            c2 /= Double(perBatch); c3 /= Double(perBatch)
            means.append(m); stds.append(c2.squareRoot()); skews.append(c3 / pow(c2, 1.5))
        }
        func check(_ xs: [Double], _ truth: Double) {
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
            #expect(abs(m - truth) <= Tolerance.monteCarloSigmas * sd / Double(xs.count).squareRoot())
        }
        check(means, exact.mean)
        check(stds, exact.std)
        check(skews, exact.skew)
    }
}
