// Tests of MultiLevelDSMMinimiser (issue 17, HT-C7): one level is the exact perturbed score; two
// levels are the λ·q-weighted average by hand; for one data point and one level the far-field
// exponent of ‖s*‖ against distance is exactly β − 1, and with two levels it tends to β − 1.
import Foundation
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct MultiLevelDSMMinimiserTests {
    static let data = Tensor<Double>(shape: [3, 2], scalars: [5, 5, 4.5, 5.2, -5, -5])
    static let queries = Tensor<Double>(shape: [3, 2], scalars: [0, 0, 6, 7.5, -3, -9])

    @Test func oneLevelIsThePerturbedScore() {
        let m = MultiLevelDSMMinimiser(data: Self.data, sigmas: [0.5], beta: 1.5, levelWeights: [0.5])
        let exact = GNDPerturbedEmpirical(data: Self.data, gnd: GeneralizedNormal(sigma: 0.5, beta: 1.5)).scores(Self.queries)
        let s = m.scores(Self.queries)
        for i in 0..<s.scalars.count { #expect(abs(s.scalars[i] - exact.scalars[i]) <= Tolerance.float64Ops * max(1, abs(exact.scalars[i]))) }
    }

    /// s* = Σ λ q_σ s_σ / Σ λ q_σ, by hand from single-point log-densities and scores.
    @Test func twoLevelsAreTheWeightedAverage() {
        let sigmas = [1.0, 0.25], beta = 1.25
        let m = MultiLevelDSMMinimiser(data: Self.data, sigmas: sigmas, beta: beta, levelWeights: sigmas)
        let s = m.scores(Self.queries)
        for r in 0..<Self.queries.rows {
            let x = Self.queries.row(r)
            var num = [0.0, 0.0], den = 0.0
            for sigma in sigmas {
                let q = GNDPerturbedEmpirical(data: Self.data, gnd: GeneralizedNormal(sigma: sigma, beta: beta))
                let w = sigma * exp(q.logDensity(x))
                let sc = q.score(x)
                num[0] += w * sc[0]; num[1] += w * sc[1]; den += w
            }
            for c in 0..<2 {
                let expected = num[c] / den
                #expect(abs(s[r, c] - expected) <= 1e-8 * max(1, abs(expected)))  // exp(log q) of tiny densities: relative
            }
        }
    }

    /// One data point, one level: each coordinate's kernel score is ∝ |ε_d|^{β−1}, so along a
    /// ray ‖s*‖ ∝ r^{β−1} exactly; the log-log slope over r ∈ [2, 8] is β − 1.
    @Test(arguments: [1.0, 1.5, 2.0])
    func singlePointExponentIsBetaMinusOne(beta: Double) {
        let point = Tensor<Double>(shape: [1, 2], scalars: [0, 0])
        let radii: [Double] = [2, 3, 4, 6, 8]
        let ray = Tensor<Double>(shape: [radii.count, 2], scalars: radii.flatMap { [0.6 * $0, 0.8 * $0] })
        let one = MultiLevelDSMMinimiser(data: point, sigmas: [1], beta: beta, levelWeights: [1]).scores(ray)
        let norms = (0..<radii.count).map { (one[$0, 0] * one[$0, 0] + one[$0, 1] * one[$0, 1]).squareRoot() }
        let slope = slopeOf(radii, norms)
        #expect(abs(slope - (beta - 1)) < Tolerance.float64Ops)
        // Two levels (notebook weights): far away the largest level dominates, slope → β − 1.
        let far = [20.0, 40, 80]
        let farRay = Tensor<Double>(shape: [far.count, 2], scalars: far.flatMap { [0.6 * $0, 0.8 * $0] })
        let two = MultiLevelDSMMinimiser(data: point, sigmas: [1, 0.25], beta: beta, levelWeights: [1, 0.25]).scores(farRay)
        let farNorms = (0..<far.count).map { (two[$0, 0] * two[$0, 0] + two[$0, 1] * two[$0, 1]).squareRoot() }
        let asymptotic = 1e-3  // the small level's weight vanishes like exp(−c r^β) at r ≥ 20
        #expect(abs(slopeOf(far, farNorms) - (beta - 1)) < asymptotic)
    }

    func slopeOf(_ r: [Double], _ v: [Double]) -> Double {
        let x = r.map { log($0) }, y = v.map { log($0) }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0
        for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx) }
        return sxy / sxx
    }
}
