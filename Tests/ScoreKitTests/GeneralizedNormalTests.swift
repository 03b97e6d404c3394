// Tests of GeneralizedNormal (heavy-tailed spec §1.1–1.4): Γ-function moments, the spec's
// variance and kurtosis table, normalisation by quadrature, the kernel score against finite
// differences, the two σ ↔ α conventions, and the exact sampler by Monte Carlo.
import Foundation
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct GeneralizedNormalTests {
    static let shapes: [Double] = [1, 1.25, 1.5, 2, 3]

    /// The spec's table (heavy-tailed spec §1.2): β, Var/σ² with α = √2σ, kurtosis.
    static let specTable: [(beta: Double, varianceRatio: Double, kurtosis: Double)] = [
        (1, 4.000, 6.000), (1.25, 2.134, 4.527), (1.5, 1.477, 3.762), (1.75, 1.170, 3.303),
        (2, 1.000, 3.000), (3, 0.747, 2.418), (4, 0.676, 2.188),
    ]

    @Test(arguments: specTable)
    func varianceAndKurtosisMatchSpecTable(row: (beta: Double, varianceRatio: Double, kurtosis: Double)) {
        let gnd = GeneralizedNormal(sigma: 1, beta: row.beta, convention: .codeConvention)
        #expect(abs(gnd.variance - row.varianceRatio) <= LocalTolerance.specThreeDecimals)
        #expect(abs(gnd.kurtosis - row.kurtosis) <= LocalTolerance.specThreeDecimals)
    }

    @Test(arguments: shapes)
    func momentsMatchGammaFormulas(beta: Double) {
        let alpha = 0.8
        let gnd = GeneralizedNormal(alpha: alpha, beta: beta)
        let orders: [Double] = [-0.5, 0.5, 1, 2, 3, 4, 6]
        let actual = orders.map { gnd.absoluteMoment($0) }
        let expected = orders.map { referenceAbsoluteMoment(alpha: alpha, beta: beta, k: $0) }
        #expect(worstMismatch(actual, expected, rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
        let m2 = referenceAbsoluteMoment(alpha: alpha, beta: beta, k: 2)
        let m4 = referenceAbsoluteMoment(alpha: alpha, beta: beta, k: 4)
        #expect(worstMismatch([gnd.variance, gnd.kurtosis], [m2, m4 / (m2 * m2)], rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
    }

    @Test func specialCasesAreLaplaceAndGaussian() {
        let alpha = 1.7
        let laplace = GeneralizedNormal(alpha: alpha, beta: 1)
        // Laplace: E|X|^k = k! α^k, kurtosis 6.
        let laplaceMoments = [1.0, 2, 3, 4].map { laplace.absoluteMoment($0) }
        let factorials = [1.0, 2, 6, 24].enumerated().map { $0.element * pow(alpha, Double($0.offset + 1)) }
        #expect(worstMismatch(laplaceMoments, factorials, rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
        // Gaussian: variance α²/2, kurtosis 3, log density of N(0, α²/2).
        let gauss = GeneralizedNormal(alpha: alpha, beta: 2)
        let variance = alpha * alpha / 2
        let x = 0.37
        let normalLogDensity = -0.5 * log(2 * Double.pi * variance) - x * x / (2 * variance)
        #expect(worstMismatch([gauss.variance, gauss.kurtosis, gauss.logDensity(x)], [variance, 3, normalLogDensity],
                              rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
    }

    @Test(arguments: shapes)
    func densityIntegratesToOneAndHasItsVariance(beta: Double) {
        let gnd = GeneralizedNormal(alpha: 1.3, beta: beta)
        // |x/α|^β = 60 at the end of the range: the tail beyond holds less than e^−60.
        let end = gnd.alpha * pow(60, 1 / beta)
        let panels = 200_000
        let half = simpson({ exp(gnd.logDensity($0)) }, from: 0, to: end, panels: panels)
        let halfSecondMoment = simpson({ $0 * $0 * exp(gnd.logDensity($0)) }, from: 0, to: end, panels: panels)
        #expect(worstMismatch([2 * half, 2 * halfSecondMoment], [1, gnd.variance],
                              rtol: LocalTolerance.quadratureRelative, atol: LocalTolerance.noAbsoluteSlack) == nil)
        // Symmetry.
        #expect(gnd.logDensity(0.9) == gnd.logDensity(-0.9))
    }

    @Test(arguments: [1, 1.25, 1.5, 2, 3, 0.8])
    func kernelScoreIsDerivativeOfLogDensity(beta: Double) {
        let gnd = GeneralizedNormal(alpha: 0.9, beta: beta)
        let epsilons: [Double] = [-2.3, -0.7, -0.05, 0.04, 0.4, 1.9]
        let actual = epsilons.map { gnd.kernelScore($0) }
        let expected = epsilons.map { e in numericalGradient({ gnd.logDensity($0[0]) }, at: [e])[0] }
        #expect(worstMismatch(actual, expected) == nil)
        #expect(gnd.kernelScore(0) == 0)
    }

    @Test func gaussianKernelScoreIsStandardDSMTarget() {
        let sigma = 0.35
        let gnd = GeneralizedNormal(sigma: sigma, beta: 2)
        let eps: [Double] = [-1.1, 0.2, 0.7]
        #expect(worstMismatch(eps.map { gnd.kernelScore($0) }, eps.map { -$0 / (sigma * sigma) },
                              rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
        let laplace = GeneralizedNormal(alpha: 0.6, beta: 1)
        #expect(laplace.kernelScore(2.0) == -1 / 0.6)
        #expect(laplace.kernelScore(-0.1) == 1 / 0.6)
    }

    @Test(arguments: [1, 1.5, 2.5])
    func tensorKernelScoreMatchesScalar(beta: Double) {
        let gnd = GeneralizedNormal(alpha: 1.1, beta: beta)
        let eps = Tensor<Double>(shape: [2, 3], scalars: [-1.5, 0, 0.3, 2.2, -0.01, 0.9])
        let t = gnd.kernelScore(eps)
        #expect(t.shape == eps.shape)
        #expect(worstMismatch(t.scalars, eps.scalars.map { gnd.kernelScore($0) }, rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
        let f = gnd.kernelScore(eps.converted(to: Float.self))
        #expect(worstMismatch(f.scalars.map { Double($0) }, t.scalars, rtol: Tolerance.float32Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
    }

    @Test(arguments: [1, 1.25, 1.5, 1.75, 2, 3, 4])
    func conventionsGiveTheirVariance(beta: Double) {
        let sigma = 0.42
        let matched = GeneralizedNormal(sigma: sigma, beta: beta, convention: .varianceMatched)
        #expect(abs(matched.variance - sigma * sigma) <= Tolerance.float64Ops * sigma * sigma)
        let code = GeneralizedNormal(sigma: sigma, beta: beta, convention: .codeConvention)
        #expect(code.alpha == 2.0.squareRoot() * sigma)
        #expect(code.beta == beta)
        if beta == 2 {
            #expect(abs(code.variance - sigma * sigma) <= Tolerance.float64Ops * sigma * sigma)
            #expect(abs(matched.alpha - code.alpha) <= Tolerance.float64Ops * code.alpha)
        }
    }

    /// Monte Carlo of sample(using:) and fill(_:using:) against the closed forms, with standard
    /// errors from the higher absolute moments.
    @Test(arguments: shapes, [false, true])
    func samplerMatchesMoments(beta: Double, useFill: Bool) {
        let gnd = GeneralizedNormal(sigma: 0.7, beta: beta)
        var rng = Xoshiro256(seed: 2024, stream: Int(beta * 4) + (useFill ? 100 : 0))
        let n = MonteCarloSize.scalarDraws
        let xs: [Double]
        if useFill {
            var t = Tensor<Double>(shape: [n])
            gnd.fill(&t, using: &rng)
            xs = t.scalars
        } else {
            xs = (0..<n).map { _ in gnd.sample(using: &rng) }
        }
        let nd = Double(n)
        let m = (0...8).map { gnd.absoluteMoment(Double($0)) }
        var sum1 = 0.0, sumAbs = 0.0, sum2 = 0.0, sum4 = 0.0
        for x in xs {
            let x2 = x * x
            sum1 += x; sumAbs += abs(x); sum2 += x2; sum4 += x2 * x2
        }
        let (mean, meanAbs, meanSq, meanFourth) = (sum1 / nd, sumAbs / nd, sum2 / nd, sum4 / nd)
        // E X = 0 with SE sqrt(m2/n); E|X|, E X², E X⁴ with SE sqrt((m_{2k} − m_k²)/n).
        #expect(standardErrors(mean, 0, se: (m[2] / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        #expect(standardErrors(meanAbs, m[1], se: ((m[2] - m[1] * m[1]) / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        #expect(standardErrors(meanSq, gnd.variance, se: ((m[4] - m[2] * m[2]) / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        #expect(standardErrors(meanFourth, m[4], se: ((m[8] - m[4] * m[4]) / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        // Kurtosis m4/m2² by the delta method: gradient (1/m2², −2 m4/m2³) against the covariance
        // of (X⁴, X²): Var X⁴ = m8 − m4², Var X² = m4 − m2², Cov = m6 − m4 m2.
        let g4 = 1 / (m[2] * m[2])
        let g2 = -2 * m[4] / (m[2] * m[2] * m[2])
        let kurtosisVariance = g4 * g4 * (m[8] - m[4] * m[4]) + g2 * g2 * (m[4] - m[2] * m[2])
            + 2 * g4 * g2 * (m[6] - m[4] * m[2])
        let kurtosisEstimate = meanFourth / (meanSq * meanSq)
        #expect(standardErrors(kurtosisEstimate, gnd.kurtosis, se: (kurtosisVariance / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
    }

    @Test func samplingIsReproducibleForASeed() {
        let gnd = GeneralizedNormal(alpha: 1, beta: 1.25)
        var a = Xoshiro256(seed: 9)
        var b = Xoshiro256(seed: 9)
        let xs = (0..<16).map { _ in gnd.sample(using: &a) }
        let ys = (0..<16).map { _ in gnd.sample(using: &b) }
        #expect(xs == ys)
    }

    @Test func codableRoundTripAndValidation() throws {
        let gnd = GeneralizedNormal(alpha: 1.25, beta: 1.5)
        let data = try JSONEncoder().encode(gnd)
        #expect(try JSONDecoder().decode(GeneralizedNormal.self, from: data) == gnd)
        let bad = Data(#"{"alpha": -1, "beta": 2}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(GeneralizedNormal.self, from: bad) }
        let convention = try JSONDecoder().decode(GNDScaleConvention.self, from: Data(#""varianceMatched""#.utf8))
        #expect(convention == .varianceMatched)
    }
}
