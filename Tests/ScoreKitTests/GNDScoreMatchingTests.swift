import Testing
import TensorCore
import TestSupport
@testable import ScoreKit

@Suite struct GNDScoreMatchingTests {
    /// The batch target is the kernel score of the drawn noise, x̃ − x is that noise, and the
    /// per-row quantities match the drawn level.
    @Test(arguments: [1.0, 1.5, 2.0])
    func batchTargetIsKernelScore(beta: Double) {
        var rng = Xoshiro256(seed: 21)
        let dsm = GNDScoreMatching(sigmas: [1, 0.3], beta: beta)
        let clean = Tensor<Double>.randomNormal([50, 3], using: &rng)
        var batch = GNDDenoisingBatch<Double>()
        dsm.makeBatch(clean: clean, into: &batch, using: &rng)
        var expected: [Double] = [], actual: [Double] = []
        for r in 0..<50 {
            let level = batch.levels[r]
            let law = dsm.noise(level: level)
            #expect(batch.sigma.scalars[r] == dsm.sigmas[level])
            #expect(abs(batch.weights.scalars[r] - dsm.sigmas[level] * dsm.sigmas[level]) < Tolerance.float64Ops)
            for c in 0..<3 {
                let e = batch.noisy[r, c] - clean[r, c]
                expected.append(numericalGradient({ law.logDensity($0[0]) }, at: [e])[0])
                actual.append(batch.target[r, c])
            }
        }
        #expect(worstMismatch(actual, expected) == nil)
    }

    /// β = 2, Gaussian data N(0, τ²I): at the exact marginal score s*(x̃) = −x̃/(τ² + σ²) the
    /// unweighted DSM objective ½E‖s* − t‖² equals ½·D·(1/σ² − 1/(τ² + σ²)). Monte Carlo within
    /// `Tolerance.monteCarloSigmas` standard errors.
    @Test func lossAtExactScoreEqualsAnalyticConstant() {
        let (tau, sigma, d, n) = (0.7, 0.5, 2, 200_000)
        var rng = Xoshiro256(seed: 22)
        let dsm = GNDScoreMatching(sigmas: [sigma], beta: 2, weighting: .sigmaPower(0))
        let clean = Tensor<Double>.randomNormal([n, d], std: tau, using: &rng)
        var batch = GNDDenoisingBatch<Double>()
        dsm.makeBatch(clean: clean, into: &batch, using: &rng)
        var perRow = [Double](repeating: 0, count: n)
        for r in 0..<n {
            var s = 0.0
            for c in 0..<d {
                let exact = -batch.noisy[r, c] / (tau * tau + sigma * sigma)
                s += (exact - batch.target[r, c]) * (exact - batch.target[r, c])
            }
            perRow[r] = 0.5 * s
        }
        let mean = perRow.reduce(0, +) / Double(n)
        let sd = (perRow.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        let truth = 0.5 * Double(d) * (1 / (sigma * sigma) - 1 / (tau * tau + sigma * sigma))
        #expect(abs(mean - truth) <= Tolerance.monteCarloSigmas * sd / Double(n).squareRoot(), "MC \(mean) vs analytic \(truth)")
    }

    /// One data point: the marginal is the kernel itself, so the exact score equals the target
    /// and the loss at the exact score is 0 for every β.
    @Test func singlePointLossIsZero() {
        var rng = Xoshiro256(seed: 23)
        let dsm = GNDScoreMatching(sigmas: [0.5], beta: 1.5)
        let point = Tensor<Double>(shape: [1, 2], scalars: [0.3, -0.2])
        let clean = Tensor<Double>(shape: [100, 2], scalars: Array(repeating: [0.3, -0.2], count: 100).flatMap { $0 })
        var batch = GNDDenoisingBatch<Double>()
        dsm.makeBatch(clean: clean, into: &batch, using: &rng)
        let exact = GNDPerturbedEmpirical(data: point, gnd: dsm.noise(level: 0)).scores(batch.noisy)
        #expect(maxAbsDifference(exact, batch.target) < Tolerance.float64Ops * 100)
    }

    /// ULA with the exact score of N(μ, s²) has the stationary variance s²/(1 − ε/(2s²)) (the
    /// discretised chain's exact value) and mean μ; 20 000 chains after 300 steps agree within
    /// `Tolerance.monteCarloSigmas` standard errors.
    @Test func langevinWithExactGaussianScore() {
        let (mu, s, eps, n) = (1.5, 0.8, 0.05, 20_000)
        var rng = Xoshiro256(seed: 24)
        var x = Tensor<Double>.randomUniform([n, 1], lower: -3, upper: 3, using: &rng)
        let ld = AnnealedLangevin(sigmas: [1], stepSize: eps, stepsPerLevel: 300, rescaleSteps: false, noise: .gaussian)
        let diverged = ld.run(&x, using: &rng, score: { states, _, out in
            for i in 0..<states.count { out.scalars[i] = -(states.scalars[i] - mu) / (s * s) }
        })
        #expect(!diverged.contains(true))
        let v = x.scalars
        let mean = v.reduce(0, +) / Double(n)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let stationary = s * s / (1 - eps / (2 * s * s))
        #expect(abs(mean - mu) <= Tolerance.monteCarloSigmas * (stationary / Double(n)).squareRoot())
        #expect(abs(variance - stationary) <= Tolerance.monteCarloSigmas * stationary * (2 / Double(n)).squareRoot())
    }

    /// A chain pushed out of bounds is frozen and reported, not a crash.
    @Test func divergingChainsAreCounted() {
        var rng = Xoshiro256(seed: 25)
        var x = Tensor<Double>(shape: [4, 1], scalars: [0, 0, 0, 0])
        let ld = AnnealedLangevin(sigmas: [1], stepSize: 1, stepsPerLevel: 50, rescaleSteps: false, bound: 100)
        let diverged = ld.run(&x, using: &rng, score: { states, _, out in
            for i in 0..<states.count { out.scalars[i] = i < 2 ? 2 * states.scalars[i] + 1 : -states.scalars[i] }
        })
        #expect(diverged == [true, true, false, false])
        #expect(x.isFinite)
    }
}
