// The generalised normal distribution GND(μ, α, β) (heavy-tailed spec §1.1–1.4), the noise of
// heavy-tailed DSM, and the closed-form moments of the norm of a GND noise vector (§2).
//
//     p(x) = β / (2 α Γ(1/β)) · exp(−(|x − μ|/α)^β)
//
// β = 2 is Gaussian (σ = α/√2), β = 1 is Laplace, β < 2 has heavier tails. Sampling uses the
// gamma–uniform mixture X = α·U·G^(1/β), U ~ Uniform(−1, 1), G ~ Gamma(1 + 1/β) (spec §1.3);
// β = 2 uses a normal draw directly (same law, cheaper). All computations are in Double.
import Foundation
import TensorCore

/// How the noise level σ maps to the GND scale α.
public enum GNDScaleConvention: String, Codable, Sendable, CaseIterable {
    /// α = √2·σ for every β: the authors' released code; β = 2 is exactly N(0, σ²).
    case codeConvention
    /// α = σ·sqrt(Γ(1/β)/Γ(3/β)): per-coordinate variance σ² for every β (ablation).
    case varianceMatched
}

/// GND(0, α, β) on the real line.
public struct GeneralizedNormal: Sendable, Codable, Equatable {
    /// Scale α > 0.
    public let alpha: Double
    /// Shape β > 0.
    public let beta: Double

    /// - Precondition: alpha > 0, beta > 0 (both finite).
    public init(alpha: Double, beta: Double) {
        precondition(alpha > 0 && alpha.isFinite, "GND scale α must be positive and finite, got \(alpha)")
        precondition(beta > 0 && beta.isFinite, "GND shape β must be positive and finite, got \(beta)")
        self.alpha = alpha
        self.beta = beta
    }

    /// The GND of noise level σ under `convention`.
    public init(sigma: Double, beta: Double, convention: GNDScaleConvention = .codeConvention) {
        self.init(alpha: GeneralizedNormal.alpha(sigma: sigma, beta: beta, convention: convention), beta: beta)
    }

    /// α for noise level σ: √2σ (code) or σ·sqrt(Γ(1/β)/Γ(3/β)) (variance-matched).
    public static func alpha(sigma: Double, beta: Double, convention: GNDScaleConvention) -> Double {
        switch convention {
        case .codeConvention: return 2.0.squareRoot() * sigma
        case .varianceMatched: return sigma * exp(0.5 * (lgamma(1 / beta) - lgamma(3 / beta)))
        }
    }

    /// log p(x) = log β − log(2α) − log Γ(1/β) − |x/α|^β.
    public func logDensity(_ x: Double) -> Double {
        log(beta) - log(2 * alpha) - lgamma(1 / beta) - pow(abs(x) / alpha, beta)
    }

    /// E|X|^k = α^k Γ((k+1)/β) / Γ(1/β), for k > −1.
    public func absoluteMoment(_ k: Double) -> Double {
        precondition(k > -1, "absolute moments exist only for k > −1, got \(k)")
        return exp(k * log(alpha) + lgamma((k + 1) / beta) - lgamma(1 / beta))
    }

    /// Var X = α² Γ(3/β)/Γ(1/β).
    public var variance: Double { absoluteMoment(2) }

    /// Kurtosis (not excess) κ = Γ(5/β)Γ(1/β)/Γ(3/β)².
    public var kurtosis: Double { exp(lgamma(5 / beta) + lgamma(1 / beta) - 2 * lgamma(3 / beta)) }

    /// Score of the noise kernel at ε = x̃ − x: −(β/α^β)·sign(ε)|ε|^(β−1); 0 at ε = 0
    /// (sign(0) = 0, as PyTorch; for β < 1 the target is singular there, reached with
    /// probability 0).
    public func kernelScore(_ epsilon: Double) -> Double {
        if epsilon == 0 { return 0 }
        let magnitude = beta / pow(alpha, beta) * pow(abs(epsilon), beta - 1)
        return epsilon > 0 ? -magnitude : magnitude
    }

    /// One draw: α·U·G^(1/β) with U ~ Uniform(−1, 1), G ~ Gamma(1 + 1/β); a normal draw when β = 2.
    @inline(__always)
    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> Double {
        if beta == 2 { return alpha / 2.0.squareRoot() * rng.nextNormal() }
        if beta == 1 {
            // Laplace: α·(−log U)·sign, one logarithm per draw.
            let u = rng.nextUniformOpen()
            let magnitude = -alpha * log(rng.nextUniformOpen())
            return u < 0.5 ? -magnitude : magnitude
        }
        let u = 2 * rng.nextUniform() - 1
        let g = rng.nextGamma(shape: 1 + 1 / beta)
        return alpha * u * pow(g, 1 / beta)
    }

    /// Overwrites every element of `t` with an independent draw.
    public func fill<T: TensorScalar, G: RandomNumberGenerator>(_ t: inout Tensor<T>, using rng: inout G) {
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = T(sample(using: &rng)) }
        }
    }
}

/// Closed-form and delta-method moments of R = ‖ε‖₂ for ε with D i.i.d. GND(0, α, β)
/// coordinates (heavy-tailed spec §2). With m_k = E|X|^k:
///
///     E[R²] = D m2,  Var[R²] = D (m4 − m2²),  skew(R²) = (m6 − 3 m4 m2 + 2 m2³) / (√D (m4 − m2²)^(3/2)),
///     E[R] ≈ sqrt(D m2),  std R ≈ sqrt((m4 − m2²)/(4 m2)),  CV(R) ≈ sqrt(κ − 1)/(2√D).
public struct NoiseNormMoments: Sendable, Codable {
    public var dimension: Int
    public var beta: Double
    public var alpha: Double
    /// E[R²] (exact).
    public var meanSquaredNorm: Double
    /// Var[R²] (exact).
    public var varianceSquaredNorm: Double
    /// Skewness of R² (exact: a sum of D i.i.d. terms |X|²).
    public var skewnessSquaredNorm: Double
    /// E[R] by the delta method.
    public var meanApprox: Double
    /// std R by the delta method (independent of D).
    public var stdApprox: Double
    /// CV(R) by the delta method.
    public var cvApprox: Double

    public init(dimension: Int, gnd: GeneralizedNormal) {
        precondition(dimension >= 1, "dimension must be at least 1")
        let d = Double(dimension)
        let m2 = gnd.absoluteMoment(2), m4 = gnd.absoluteMoment(4), m6 = gnd.absoluteMoment(6)
        let v = m4 - m2 * m2
        self.dimension = dimension
        beta = gnd.beta
        alpha = gnd.alpha
        meanSquaredNorm = d * m2
        varianceSquaredNorm = d * v
        skewnessSquaredNorm = (m6 - 3 * m4 * m2 + 2 * m2 * m2 * m2) / (d.squareRoot() * pow(v, 1.5))
        meanApprox = (d * m2).squareRoot()
        stdApprox = (v / (4 * m2)).squareRoot()
        cvApprox = (gnd.kurtosis - 1).squareRoot() / (2 * d.squareRoot())
    }
}

/// Geometric noise schedules.
public enum NoiseSchedule {
    /// σ_i = exp(linspace(log σ_max, log σ_min, L)), descending; L = 1 gives [σ_max].
    public static func geometric(sigmaMax: Double, sigmaMin: Double, levels: Int) -> [Double] {
        precondition(sigmaMax > 0 && sigmaMin > 0 && sigmaMin <= sigmaMax, "need 0 < σ_min ≤ σ_max, got \(sigmaMin), \(sigmaMax)")
        precondition(levels >= 1, "need at least one level")
        if levels == 1 { return [sigmaMax] }
        let a = log(sigmaMax), b = log(sigmaMin)
        return (0..<levels).map { i in i == levels - 1 ? sigmaMin : exp(a + (b - a) * Double(i) / Double(levels - 1)) }
    }

    /// σ_1 = σ_max, σ_{i+1} = σ_i/γ, stopping at the first level ≤ σ_min (which is included), so
    /// the schedule always reaches down to σ_min.
    public static func geometric(sigmaMax: Double, ratio gamma: Double, sigmaMin: Double) -> [Double] {
        precondition(gamma > 1, "ratio γ must exceed 1, got \(gamma)")
        precondition(sigmaMax > 0 && sigmaMin > 0, "noise levels must be positive")
        var out = [sigmaMax]
        while out.last! > sigmaMin && out.count < 1_000_000 { out.append(out.last! / gamma) }
        return out
    }
}
