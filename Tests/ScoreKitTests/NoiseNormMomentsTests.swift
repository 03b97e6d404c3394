// Tests of NoiseNormMoments (heavy-tailed spec §2): the exact moments of R² against Monte Carlo
// at small D, and the delta-method values against the spec's reference table.
import Testing
import TensorCore
import TestSupport
import ScoreKit

@Suite struct NoiseNormMomentsTests {
    @Test(arguments: [1, 2, 10], [1.0, 1.5, 2.0, 3.0])
    func squaredNormMomentsMatchMonteCarlo(dimension: Int, beta: Double) {
        let gnd = GeneralizedNormal(sigma: 1, beta: beta)
        let moments = NoiseNormMoments(dimension: dimension, gnd: gnd)
        let n = MonteCarloSize.noiseVectors
        var rng = Xoshiro256(seed: 77, stream: dimension * 10 + Int(beta * 2))
        var noise = Tensor<Double>(shape: [n, dimension])
        gnd.fill(&noise, using: &rng)
        let r2 = noise.rowSquaredNorms()
        let nd = Double(n)
        let mean = sampleMean(r2)
        let variance = r2.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (nd - 1)

        // Exact cumulants of Y = |X|² from the absolute moments, then of R² = Σ_d Y_d.
        let m = (0...8).map { gnd.absoluteMoment(Double($0)) }
        let varY = m[4] - m[2] * m[2]
        let m2Squared = m[2] * m[2]
        let central4Y: Double = m[8] - 4 * m[6] * m[2] + 6 * m[4] * m2Squared - 3 * m2Squared * m2Squared
        let d = Double(dimension)
        let kappa2 = d * varY
        let central4 = d * (central4Y - 3 * varY * varY) + 3 * kappa2 * kappa2
        #expect(standardErrors(mean, moments.meanSquaredNorm, se: (kappa2 / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        // Sample variance: SE ≈ sqrt((μ4 − σ⁴)/n).
        #expect(standardErrors(variance, moments.varianceSquaredNorm,
                               se: ((central4 - kappa2 * kappa2) / nd).squareRoot()) <= Tolerance.monteCarloSigmas)
        #expect(abs(moments.meanSquaredNorm - d * gnd.variance) <= Tolerance.float64Ops * moments.meanSquaredNorm)
    }

    /// Reference values from the spec's §2 table (σ = 1, α = √2): D, β, E[R] approx, sd[R] approx.
    static let specTable: [(dimension: Int, beta: Double, mean: Double, std: Double)] = [
        (10, 1, 6.32, 2.24), (10, 2, 3.16, 0.71), (100, 1, 20.00, 2.24), (100, 2, 10.00, 0.71),
        (784, 1, 56.00, 2.24), (784, 1.5, 34.03, 1.01), (784, 2, 28.00, 0.71), (784, 4, 23.02, 0.45),
        (3072, 1, 110.85, 2.24), (3072, 2, 55.43, 0.71),
    ]

    @Test(arguments: specTable)
    func deltaMethodMatchesSpecTable(row: (dimension: Int, beta: Double, mean: Double, std: Double)) {
        let moments = NoiseNormMoments(dimension: row.dimension, gnd: GeneralizedNormal(sigma: 1, beta: row.beta))
        #expect(abs(moments.meanApprox - row.mean) <= LocalTolerance.specTwoDecimals)
        #expect(abs(moments.stdApprox - row.std) <= LocalTolerance.specTwoDecimals)
        #expect(abs(moments.cvApprox - moments.stdApprox / moments.meanApprox) <= Tolerance.float64Ops * moments.cvApprox)
        #expect(moments.dimension == row.dimension && moments.beta == row.beta)
    }

    @Test func gaussianShellHasNCSNv2Width() {
        // β = 2, α = √2σ: sd[R] ≈ σ/√2 for every D (heavy-tailed spec §2).
        let sigma = 0.3
        for dimension in [1, 64, 3072] {
            let moments = NoiseNormMoments(dimension: dimension, gnd: GeneralizedNormal(sigma: sigma, beta: 2))
            #expect(abs(moments.stdApprox - sigma / 2.0.squareRoot()) <= Tolerance.float64Ops)
        }
    }

    @Test func shellThicknessRatiosMatchSpec() {
        // CV(β)/CV(2) = sqrt((κ(β) − 1)/(κ(2) − 1)): 1.58 (β = 1), 1.18 (β = 1.5), 0.77 (β = 4).
        let d = 784
        let gaussian = NoiseNormMoments(dimension: d, gnd: GeneralizedNormal(sigma: 1, beta: 2)).cvApprox
        for (beta, ratio) in [(1.0, 1.58), (1.5, 1.18), (4.0, 0.77)] {
            let cv = NoiseNormMoments(dimension: d, gnd: GeneralizedNormal(sigma: 1, beta: beta)).cvApprox
            #expect(abs(cv / gaussian - ratio) <= LocalTolerance.specTwoDecimals)
        }
    }

    @Test func skewnessOfSquaredNormMatchesSpec() {
        // skew(R²) = c(β)/√D with c = 6.62, 3.85, 2.83 (= √8, the χ²₁ skewness), 1.54.
        for (beta, c) in [(1.0, 6.62), (1.5, 3.85), (2.0, 2.83), (4.0, 1.54)] {
            for dimension in [1, 100] {
                let moments = NoiseNormMoments(dimension: dimension, gnd: GeneralizedNormal(sigma: 0.5, beta: beta))
                #expect(abs(moments.skewnessSquaredNorm * Double(dimension).squareRoot() - c) <= LocalTolerance.specTwoDecimals)
            }
        }
        let chiSquared = NoiseNormMoments(dimension: 1, gnd: GeneralizedNormal(sigma: 1, beta: 2))
        #expect(abs(chiSquared.skewnessSquaredNorm - 8.0.squareRoot()) <= Tolerance.float64Ops)
    }
}
