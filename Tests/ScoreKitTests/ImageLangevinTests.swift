// Batch (image) Langevin samplers: stationary moments on Gaussian targets with exact scores,
// exactness of diagonal Ozaki, determinism, batch-split invariance and divergence accounting.
//
// Target per pixel: data N(μ, v); at noise level σ the perturbed density is N(μ, w), w = v + σ²,
// with exact score s(x, σ) = (μ − x)/w. ULA with step ε is then the AR(1) chain
// x' = a x + (1 − a) μ + c ξ, a = 1 − ε/w, whose stationary law has mean μ and variance
// c² Var(ξ) / (1 − a²) (the discretisation bias of ULA is part of the closed form).
import Foundation
import Testing
import TensorCore
import TestSupport
@testable import ScoreKit

/// Sample mean and variance of all entries, with standard errors from the fourth moment.
private func moments<S: TensorScalar>(_ x: Tensor<S>) -> (mean: Double, meanSE: Double, variance: Double, varianceSE: Double) {
    let n = Double(x.count)
    let values = x.scalars.map { Double($0) }
    let mean = values.reduce(0, +) / n
    var m2 = 0.0, m4 = 0.0
    for v in values { let c = (v - mean) * (v - mean); m2 += c; m4 += c * c }
    m2 /= n; m4 /= n
    return (mean, (m2 / n).squareRoot(), m2, ((m4 - m2 * m2) / n).squareRoot())
}

@Suite struct ImageLangevinTests {
    static let mu = 0.3, v = 1.0
    /// Chains × pixels = 1500 × 4 independent draws: 4 standard errors of the variance are ≈ 0.1·V.
    static let chains = 1_500
    static let shape = [chains, 1, 2, 2]

    /// The exact batch score of N(μ, v + σ²) per pixel, written for the whole batch.
    static func score(sigmas: [Double]) -> (Tensor<Float>, Int, inout Tensor<Float>) -> Void {
        { x, i, s in
            let w = v + sigmas[i] * sigmas[i]
            for k in 0..<x.count { s.scalars[k] = Float((mu - Double(x.scalars[k])) / w) }
        }
    }

    /// Gaussian Langevin noise at one level: mean μ and the ULA variance w/(1 − ε/(2w)), which at
    /// ε = 0.5, w = 1.25 is 1.5625, far (≈ 9 SE) from the exact w.
    @Test func gaussianNoiseStationaryMoments() {
        let sigmas = [0.5], eps = 0.5
        let sampler = AnnealedLangevin(sigmas: sigmas, stepSize: eps, stepsPerLevel: 120)
        var x = Tensor<Float>(shape: Self.shape)
        var noise = ChainNoise(seed: 1, count: Self.chains)
        let divergence = sampler.runBatch(&x, noise: &noise, score: Self.score(sigmas: sigmas))
        #expect(divergence.count == 0)
        let w = Self.v + sigmas[0] * sigmas[0]
        let expected = w / (1 - eps / (2 * w))
        let m = moments(x)
        #expect(abs(m.mean - Self.mu) <= Tolerance.monteCarloSigmas * m.meanSE)
        #expect(abs(m.variance - expected) <= Tolerance.monteCarloSigmas * m.varianceSE)
    }

    /// GND(β = 1) noise σ·u, u ~ GND(0, √2, 1) (variance 4): stationary variance
    /// 2ε σ² Var(u)/(1 − a²), with two annealing levels (the first one is forgotten).
    @Test func laplaceNoiseStationaryMoments() {
        let sigmas = [2.0, 0.7], eps = 0.5
        let sampler = AnnealedLangevin(sigmas: sigmas, stepSize: eps, stepsPerLevel: 120, noise: .gnd(beta: 1))
        var x = Tensor<Float>(shape: Self.shape)
        var noise = ChainNoise(seed: 2, count: Self.chains)
        sampler.runBatch(&x, noise: &noise, score: Self.score(sigmas: sigmas))
        let w = Self.v + 0.49
        let a = 1 - eps / w
        let varU = GeneralizedNormal(alpha: 2.0.squareRoot(), beta: 1).variance
        #expect(abs(varU - 4) <= Tolerance.float64Ops)
        let expected = 2 * eps * 0.49 * varU / (1 - a * a)
        let m = moments(x)
        #expect(abs(m.mean - Self.mu) <= Tolerance.monteCarloSigmas * m.meanSE)
        #expect(abs(m.variance - expected) <= Tolerance.monteCarloSigmas * m.varianceSE)
    }

    /// NCSNv2 step rule over levels plus the Tweedie denoise y = x + σ_L² (μ − x)/w: mean μ and
    /// variance V (v/w)², V the ULA variance at the last level (ε_L = ε).
    @Test func tweedieDenoiseMoments() {
        let sigmas = [1.0, 0.5], eps = 0.5
        let sampler = AnnealedLangevin(sigmas: sigmas, stepSize: eps, stepsPerLevel: 120, finalDenoise: true)
        #expect(abs(sampler.step(level: 0) - eps * 4) <= Tolerance.float64Ops)
        var x = Tensor<Float>(shape: Self.shape)
        var noise = ChainNoise(seed: 3, count: Self.chains)
        sampler.runBatch(&x, noise: &noise, score: Self.score(sigmas: sigmas))
        let w = Self.v + 0.25
        let expected = w / (1 - eps / (2 * w)) * (Self.v / w) * (Self.v / w)
        let m = moments(x)
        #expect(abs(m.mean - Self.mu) <= Tolerance.monteCarloSigmas * m.meanSE)
        #expect(abs(m.variance - expected) <= Tolerance.monteCarloSigmas * m.varianceSE)
    }

    /// Same seed: identical chains. Two half batches with the right first-chain offsets: the same
    /// chains as one batch (per-chain streams). Also for GND noise, whose draws use rejection.
    @Test(arguments: [LangevinNoise.gaussian, .gnd(beta: 1.5)])
    func deterministicAndBatchInvariant(noiseKind: LangevinNoise) {
        let sigmas = [1.0, 0.5]
        let sampler = AnnealedLangevin(sigmas: sigmas, stepSize: 0.1, stepsPerLevel: 5, noise: noiseKind, finalDenoise: true)
        func run(_ count: Int, first: Int) -> Tensor<Float> {
            var x = Tensor<Float>(shape: [count, 1, 3, 3])
            var noise = ChainNoise(seed: 42, count: count, firstChain: first)
            sampler.runBatch(&x, noise: &noise, score: Self.score(sigmas: sigmas))
            return x
        }
        let whole = run(6, first: 0)
        #expect(whole == run(6, first: 0))
        let halves = run(3, first: 0).scalars + run(3, first: 3).scalars
        #expect(whole.scalars == halves)
        #expect(whole != run(6, first: 1))
    }

    /// Chain 0's score is NaN and chain 1's explodes from the third step: both are frozen at their
    /// last finite state and counted with the step; the other chains run on.
    @Test func divergenceIsCountedAndFrozen() {
        let sampler = AnnealedLangevin(sigmas: [1.0], stepSize: 0.1, stepsPerLevel: 6, bound: 100)
        var x = Tensor<Double>(shape: [4, 2])
        var noise = ChainNoise(seed: 5, count: 4)
        var calls = 0
        var snapshots: [Tensor<Double>] = []
        let divergence = sampler.runBatch(&x, noise: &noise, score: { x, _, s in
            for k in 0..<x.count { s.scalars[k] = -x.scalars[k] }
            s.scalars[0] = .nan
            if calls >= 2 { s.scalars[2] = 1e6 }
            calls += 1
        }, observe: { _, _, x in snapshots.append(x) })
        #expect(divergence.count == 2)
        #expect(divergence.frozenAtStep == [0, 2, nil, nil])
        #expect(x.row(0) == [0, 0])  // frozen before its first update
        #expect(x.row(1) == snapshots[1].row(1))  // frozen at its state after step 1
        #expect(x.scalars.allSatisfy { $0.isFinite })
        #expect(x.row(2) != snapshots[4].row(2))  // live chains kept moving
    }

    /// Diagonal Ozaki is exact for a diagonal Gaussian N(μ, diag(v)): from x₀, one step of any ε
    /// gives N(μ + (x₀ − μ)e^{−ε/v}, v(1 − e^{−2ε/v})) per pixel. ULA at the same ε is not.
    @Test func diagonalOzakiIsExactForDiagonalGaussian() {
        let (n, d) = (4_000, 2)
        let variances = [0.5, 2.0], mean = [1.0, -1.0], x0 = 3.0, eps = 0.6
        var x = Tensor<Float>(shape: [n, 1, 1, d], repeating: Float(x0))
        var s1 = Tensor<Float>(shape: x.shape), h = Tensor<Float>(shape: x.shape)
        for r in 0..<n {
            for k in 0..<d {
                s1.scalars[r * d + k] = Float((mean[k] - x0) / variances[k])
                h.scalars[r * d + k] = Float(-1 / variances[k])
            }
        }
        var xi = Tensor<Float>(shape: x.shape)
        var noise = ChainNoise(seed: 6, count: n)
        noise.fill(&xi)
        var ula = x
        var divergence = ChainDivergence(chains: n), ulaDivergence = ChainDivergence(chains: n)
        OzakiLangevin(rule: .ozakiDiagonal, stepSize: eps).stepImages(&x, score: s1, diagonal: h, noise: xi, divergence: &divergence)
        OzakiLangevin(rule: .ula, stepSize: eps).stepImages(&ula, score: s1, noise: xi, divergence: &ulaDivergence)
        for k in 0..<d {
            let column = Tensor<Float>(shape: [n], scalars: (0..<n).map { x.scalars[$0 * d + k] })
            let m = moments(column)
            let decay = exp(-eps / variances[k])
            #expect(abs(m.mean - (mean[k] + (x0 - mean[k]) * decay)) <= Tolerance.monteCarloSigmas * m.meanSE)
            let exactVariance = variances[k] * (1 - decay * decay)
            #expect(abs(m.variance - exactVariance) <= Tolerance.monteCarloSigmas * m.varianceSE)
            // ULA's one-step mean x₀ + ε(μ − x₀)/v differs from the exact one by several SE here.
            let ulaMean = x0 + eps * (mean[k] - x0) / variances[k]
            #expect(abs(ulaMean - (mean[k] + (x0 - mean[k]) * decay)) > Tolerance.monteCarloSigmas * m.meanSE)
        }
        // ULA step is x + ε s₁ + sqrt(2ε) ξ exactly (Float rounding of the Double result).
        let expectedULA = Float(x0 + eps * Double(s1.scalars[0]) + (2 * eps).squareRoot() * Double(xi.scalars[0]))
        #expect(ula.scalars[0] == expectedULA)
    }

    /// For Double chains the image step agrees with the existing [N, D] step of OzakiLangevin.
    @Test func agreesWithMatrixStep() {
        var rng = Xoshiro256(seed: 7)
        let x0 = Tensor<Double>.randomNormal([5, 3], using: &rng)
        let s1 = Tensor<Double>.randomNormal([5, 3], using: &rng)
        var h = Tensor<Double>.randomNormal([5, 3], using: &rng)
        for k in 0..<h.count { h.scalars[k] = -abs(h.scalars[k]) }
        let xi = Tensor<Double>.randomNormal([5, 3], using: &rng)
        for rule in [LangevinStepRule.ula, .ozakiDiagonal] {
            let sampler = OzakiLangevin(rule: rule, stepSize: 0.3)
            var a = x0, b = x0
            var flags = [Bool](repeating: false, count: 5)
            var divergence = ChainDivergence(chains: 5)
            sampler.step(&a, score: s1, diagonal: h, noise: xi, diverged: &flags)
            sampler.stepImages(&b, score: s1, diagonal: h, noise: xi, divergence: &divergence)
            #expect(worstMismatch(a.scalars, b.scalars, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        }
    }
}
