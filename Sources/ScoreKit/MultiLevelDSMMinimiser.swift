// The population minimiser of an UNCONDITIONED multi-level GND-DSM loss on a finite data set
// (issue 17, HT-C7). The authors' 2-D notebook trains one network s(x̃) — no σ input — on
//
//     E_σ λ(σ) E_{x, ε} ‖s(x + ε) − t_σ(ε)‖²,   ε ~ GND(0, α(σ), β)^D,  σ uniform over the levels,
//
// with t_σ the kernel score. For each x̃ the minimiser is the λ·q_σ-weighted average of the exact
// scores of the perturbed data sets (the DSM identity E[t_σ | x̃] = ∇ log q_σ(x̃) per level):
//
//     s*(x̃) = Σ_σ λ(σ) q_σ(x̃) ∇log q_σ(x̃) / Σ_σ λ(σ) q_σ(x̃).
//
// Its far-field growth is what a perfectly trained network would show, so a learned exponent is
// compared with s*'s exponent on the same points rather than with β − 1 alone.
import TensorCore

/// s* for data [N, D], levels σ with loss weights λ(σ), GND(β) noise.
public struct MultiLevelDSMMinimiser: Sendable {
    public let levels: [GNDPerturbedEmpirical]
    /// log λ(σ) per level (uniform level choice folded in: constant shifts cancel).
    public let logWeights: [Double]

    /// - Parameters:
    ///   - levelWeights: λ(σ) per level (the notebook: λ = σ); positive.
    public init(data: Tensor<Double>, sigmas: [Double], beta: Double, levelWeights: [Double],
                convention: GNDScaleConvention = .codeConvention) {
        precondition(!sigmas.isEmpty && sigmas.count == levelWeights.count && levelWeights.allSatisfy { $0 > 0 },
                     "need one positive loss weight per noise level")
        levels = sigmas.map { GNDPerturbedEmpirical(data: data, gnd: GeneralizedNormal(sigma: $0, beta: beta, convention: convention)) }
        logWeights = levelWeights.map { ScalarMath.log($0) }
    }

    /// s*(x̃) for each row of X [M, D], [M, D].
    public func scores(_ x: Tensor<Double>) -> Tensor<Double> {
        let parts = levels.map { $0.scoresAndLogDensities(x) }
        let (m, d) = (x.rows, x.columns)
        var out = Tensor<Double>(shape: [m, d])
        for r in 0..<m {
            let logs = parts.indices.map { parts[$0].logDensities[r] + logWeights[$0] }
            let top = logs.max()!
            let w = logs.map { ScalarMath.exp($0 - top) }
            let total = w.reduce(0, +)
            for (k, part) in parts.enumerated() {
                let wk = w[k] / total
                for c in 0..<d { out.scalars[r * d + c] += wk * part.scores.scalars[r * d + c] }
            }
        }
        return out
    }
}
