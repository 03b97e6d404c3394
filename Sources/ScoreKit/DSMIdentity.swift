// The denoising score-matching identity, checked by Monte Carlo (heavy-tailed spec §5 C1; issue
// 30). For data x_1..x_N, x̃ = x_j + ε with j uniform and ε ~ GND(0, α, β)^D, and the DSM target
// t = ∇_x̃ log p(x̃ | x_j) (the kernel score at ε, as `GNDScoreMatching.makeBatch` draws it),
//
//     E[t | x̃] = Σ_j w_j(x̃) · kernelScore(x̃ − x_j) = ∇ log q(x̃),
//
// so for every test function s, E[s(x̃)·t] = E[s(x̃)·∇log q(x̃)]: the DSM loss is the explicit
// score-matching loss plus a constant, and its minimiser is the marginal score. The estimator
// averages d = s(x̃)·(t − ∇log q(x̃)) over M draws; its mean is 0 with standard error sd(d)/√M.
// With s(x̃) = x̃ the first term has a closed form, E[x̃·t] = −D (Stein's identity for the GND
// kernel: E[ε·kernelScore(ε)] = −(β/α^β)·E|ε|^β = −1 per coordinate, and E[x·t] = 0), which is
// the estimator's known answer.
import TensorCore

public enum DSMIdentity {
    /// Which test function s the identity is checked with.
    public enum TestFunction: String, Codable, Sendable {
        /// s(x̃) = ∇log q(x̃), the exact score (then E[s·∇log q] = E‖∇log q‖²).
        case exactScore = "exact-score"
        /// s(x̃) = x̃ (then E[s·t] = −D in closed form).
        case identity
    }

    /// Monte-Carlo sums of one check.
    public struct Estimate: Codable, Sendable, Equatable {
        /// Draws M.
        public var draws: Int
        /// Mean of s(x̃)·t.
        public var meanTargetProduct: Double
        /// Sample standard deviation of s(x̃)·t.
        public var sdTargetProduct: Double
        /// Mean of s(x̃)·∇log q(x̃).
        public var meanScoreProduct: Double
        /// Mean of d = s(x̃)·(t − ∇log q(x̃)).
        public var meanDifference: Double
        /// Sample standard deviation of d.
        public var sdDifference: Double
        /// Standard error of meanDifference, sd(d)/√M.
        public var standardError: Double { sdDifference / Double(max(draws, 1)).squareRoot() }
    }

    /// Draws `draws` pairs (x̃, t) at noise level σ of `dsm` (level `level`) from rows of `data`
    /// chosen uniformly, and averages s(x̃)·t, s(x̃)·∇log q(x̃) and their difference, in blocks of
    /// `block` draws (the exact score's memory).
    public static func estimate<G: RandomNumberGenerator>(data: Tensor<Double>, dsm: GNDScoreMatching, level: Int = 0, draws: Int,
                                                          testFunction: TestFunction = .exactScore, block: Int = 2_048,
                                                          using rng: inout G) -> Estimate {
        precondition(draws >= 2, "the identity needs at least two draws, got \(draws)")
        let d = data.columns
        let truth = GNDPerturbedEmpirical(data: data, gnd: dsm.noise(level: level))
        var batch = GNDDenoisingBatch<Double>()
        var sumT = 0.0, sumTT = 0.0, sumQ = 0.0, sumD = 0.0, sumDD = 0.0
        var done = 0
        while done < draws {
            let b = min(block, draws - done)
            var clean = Tensor<Double>(shape: [b, d])
            for r in 0..<b {
                let j = rng.nextIndex(data.rows)
                for c in 0..<d { clean.scalars[r * d + c] = data.scalars[j * d + c] }
            }
            dsm.makeBatch(clean: clean, into: &batch, level: level, using: &rng)
            let score = truth.scores(batch.noisy)
            let s = testFunction == .exactScore ? score : batch.noisy
            for r in 0..<b {
                var pt = 0.0, pq = 0.0
                for c in 0..<d {
                    pt += s.scalars[r * d + c] * batch.target.scalars[r * d + c]
                    pq += s.scalars[r * d + c] * score.scalars[r * d + c]
                }
                sumT += pt; sumTT += pt * pt; sumQ += pq; sumD += pt - pq; sumDD += (pt - pq) * (pt - pq)
            }
            done += b
        }
        let m = Double(draws)
        let mean = sumD / m
        let variance = max(0, (sumDD - m * mean * mean) / (m - 1))
        let varianceT = max(0, (sumTT - m * (sumT / m) * (sumT / m)) / (m - 1))
        return Estimate(draws: draws, meanTargetProduct: sumT / m, sdTargetProduct: varianceT.squareRoot(), meanScoreProduct: sumQ / m, meanDifference: mean, sdDifference: variance.squareRoot())
    }
}
