// The multi-level denoising score-matching objective with generalised normal noise
// (heavy-tailed spec §1.4, §1.6).
//
// For a clean batch x [B, D], each example draws a level i uniformly from {1..L}, noise
// ε_d ~ GND(0, α_i, β) i.i.d. with α_i = α(σ_i) (√2σ_i by default), and x̃ = x + ε. The
// regression target is the score of the noise kernel,
//
//     t = −(β/α_i^β) · sign(ε) ⊙ |ε|^(β−1),
//
// and the loss is (1/B) Σ_b w_b · ½‖s(x̃_b, σ_b) − t_b‖² with w_b = λ(σ_b). Two weightings:
// `.sigmaPower(p)` (the released image code: λ = σ^p with p = 2) and `.notebook` (the authors'
// 2-D notebook: mean over all elements of σ·(s − t)², i.e. w_b = 2σ_b/D). The target has finite
// variance only for β > 1/2; β < 1 makes it singular at ε = 0 (reached with probability 0).
//
// `makeBatch` fills caller-owned buffers, so a training loop allocates nothing per step; the
// loss itself is NeuralNet's `weightedSquaredError` with `rowWeights`.
import TensorCore

/// How examples at different noise levels are weighted.
public enum DSMWeighting: Codable, Sendable, Equatable {
    /// λ(σ) = σ^p, loss ½·λ·Σ_d (s − t)², mean over the batch (released code, p = 2).
    case sigmaPower(Double)
    /// mean over all elements of σ·(s − t)² (the authors' 2-D notebook).
    case notebook
}

/// A noisy batch and its targets; reuse one across steps.
public struct GNDDenoisingBatch<Scalar: TensorScalar> {
    /// x̃ = x + ε, [B, D].
    public var noisy = Tensor<Scalar>(shape: [0, 0])
    /// The DSM target t (kernel score at ε), [B, D].
    public var target = Tensor<Scalar>(shape: [0, 0])
    /// The level index i_b of each example (0-based into `sigmas`).
    public var levels: [Int] = []
    /// σ_b, [B, 1].
    public var sigma = Tensor<Scalar>(shape: [0, 1])
    /// log σ_b, [B, 1] (the conditioning input of σ-conditioned networks).
    public var logSigma = Tensor<Scalar>(shape: [0, 1])
    /// 1/σ_b, [B, 1] (an output scale for s(x, σ) = f(x, log σ)/σ).
    public var inverseSigma = Tensor<Scalar>(shape: [0, 1])
    /// Row weights w_b for `weightedSquaredError`, [B].
    public var weights = Tensor<Scalar>(shape: [0])

    public init() {}
}

/// GND denoising score matching over a set of noise levels.
public struct GNDScoreMatching: Sendable, Codable {
    /// σ_1 > … > σ_L (or any order; levels are drawn uniformly).
    public let sigmas: [Double]
    public let beta: Double
    public let convention: GNDScaleConvention
    public let weighting: DSMWeighting

    /// - Precondition: β > 1/2 (the target's variance is infinite otherwise), every σ > 0.
    public init(sigmas: [Double], beta: Double, convention: GNDScaleConvention = .codeConvention,
                weighting: DSMWeighting = .sigmaPower(2)) {
        precondition(beta > 0.5, "GND-DSM needs β > 1/2 (the target has infinite variance otherwise), got \(beta)")
        precondition(!sigmas.isEmpty && sigmas.allSatisfy { $0 > 0 && $0.isFinite }, "noise levels must be positive: \(sigmas)")
        self.sigmas = sigmas
        self.beta = beta
        self.convention = convention
        self.weighting = weighting
    }

    /// The noise law at level i.
    public func noise(level i: Int) -> GeneralizedNormal {
        GeneralizedNormal(sigma: sigmas[i], beta: beta, convention: convention)
    }

    /// Draws levels and noise for the clean batch `clean` [B, D] into `batch`.
    /// - Parameter level: a fixed level for every example (nil: uniform per example).
    public func makeBatch<Scalar: TensorScalar, G: RandomNumberGenerator>(
        clean: Tensor<Scalar>, into batch: inout GNDDenoisingBatch<Scalar>, level: Int? = nil, using rng: inout G
    ) {
        let (b, d) = (clean.rows, clean.columns)
        if batch.noisy.shape != [b, d] { batch.noisy = Tensor(shape: [b, d]); batch.target = Tensor(shape: [b, d]) }
        if batch.sigma.count != b {
            batch.sigma = Tensor(shape: [b, 1]); batch.logSigma = Tensor(shape: [b, 1])
            batch.inverseSigma = Tensor(shape: [b, 1]); batch.weights = Tensor(shape: [b])
            batch.levels = [Int](repeating: 0, count: b)
        }
        let laws = sigmas.indices.map(noise(level:))
        clean.withUnsafeBufferPointer { x in
            batch.noisy.withUnsafeMutableBufferPointer { xt in
                batch.target.withUnsafeMutableBufferPointer { t in
                    for r in 0..<b {
                        let i = level ?? rng.nextIndex(sigmas.count)
                        let law = laws[i]
                        let s = sigmas[i]
                        batch.levels[r] = i
                        batch.sigma.scalars[r] = Scalar(s)
                        batch.logSigma.scalars[r] = Scalar(s.logarithm)
                        batch.inverseSigma.scalars[r] = Scalar(1 / s)
                        switch weighting {
                        case .sigmaPower(let p): batch.weights.scalars[r] = Scalar(s.power(p))
                        case .notebook: batch.weights.scalars[r] = Scalar(2 * s / Double(d))
                        }
                        for c in 0..<d {
                            let e = law.sample(using: &rng)
                            xt[r * d + c] = x[r * d + c] + Scalar(e)
                            t[r * d + c] = Scalar(law.kernelScore(e))
                        }
                    }
                }
            }
        }
    }
}

extension Double {
    fileprivate var logarithm: Double { ScalarMath.log(self) }
    fileprivate func power(_ p: Double) -> Double { ScalarMath.pow(self, p) }
}
