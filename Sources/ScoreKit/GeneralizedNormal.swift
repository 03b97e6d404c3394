// The generalised normal distribution (GND) used as the noise kernel of heavy-tailed denoising
// score matching (heavy-tailed spec §1.1–1.4): its density, absolute moments, kernel score, the
// two conventions that map a noise level σ to the GND scale α, and an exact sampler. Shape
// β < 2 gives heavier tails than a Gaussian (β = 1 is Laplace), β = 2 is Gaussian, β > 2 lighter.
// Multivariate noise is always i.i.d. per coordinate (a product density), never elliptical.
import TensorCore

/// How a noise level σ is turned into the GND scale α (heavy-tailed spec §1.2 and §7 item 1).
public enum GNDScaleConvention: String, Codable, Sendable, CaseIterable {
    /// α = √2·σ for every β, as in the authors' released code. β = 2 is then exactly N(0, σ²); for
    /// other β the per-coordinate variance is 2σ²Γ(3/β)/Γ(1/β) (4σ² for Laplace).
    case codeConvention
    /// α = σ·sqrt(Γ(1/β)/Γ(3/β)), so that every β has per-coordinate variance σ² (ablation).
    case varianceMatched
}

/// GND(0, α, β) on the real line, with density
///
///     p(x) = β / (2 α Γ(1/β)) · exp(−|x/α|^β),   α > 0, β > 0
///
/// (heavy-tailed spec §1.1). Decoding from JSON re-checks α > 0 and β > 0.
public struct GeneralizedNormal: Sendable, Codable, Equatable {
    /// Scale α > 0.
    public let alpha: Double
    /// Shape β > 0 (2: Gaussian with σ = α/√2; 1: Laplace with scale α).
    public let beta: Double

    /// GND(0, alpha, beta). Preconditions: both finite and positive.
    public init(alpha: Double, beta: Double) {
        precondition(alpha > 0 && alpha.isFinite, "GND scale alpha must be finite and positive, got \(alpha)")
        precondition(beta > 0 && beta.isFinite, "GND shape beta must be finite and positive, got \(beta)")
        self.alpha = alpha
        self.beta = beta
    }

    /// The GND of shape `beta` at noise level `sigma` under `convention`
    /// (α = `GeneralizedNormal.alpha(sigma:beta:convention:)`).
    public init(sigma: Double, beta: Double, convention: GNDScaleConvention = .codeConvention) {
        self.init(alpha: GeneralizedNormal.alpha(sigma: sigma, beta: beta, convention: convention), beta: beta)
    }

    /// The scale α for noise level σ (heavy-tailed spec §1.2):
    /// `.codeConvention`: α = √2·σ; `.varianceMatched`: α = σ·sqrt(Γ(1/β)/Γ(3/β)).
    public static func alpha(sigma: Double, beta: Double, convention: GNDScaleConvention) -> Double {
        precondition(sigma > 0 && sigma.isFinite, "noise level sigma must be finite and positive, got \(sigma)")
        precondition(beta > 0 && beta.isFinite, "GND shape beta must be finite and positive, got \(beta)")
        switch convention {
        case .codeConvention:
            return 2.0.squareRoot() * sigma
        case .varianceMatched:
            let logRatio = ScalarMath.logGamma(1 / beta) - ScalarMath.logGamma(3 / beta)
            return sigma * ScalarMath.exp(0.5 * logRatio)
        }
    }

    private enum CodingKeys: String, CodingKey { case alpha, beta }

    /// Decodes α and β and rejects non-positive or non-finite values.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let a = try c.decode(Double.self, forKey: .alpha)
        let b = try c.decode(Double.self, forKey: .beta)
        guard a > 0, a.isFinite, b > 0, b.isFinite else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath, debugDescription: "GND needs finite alpha > 0 and beta > 0, got alpha=\(a), beta=\(b)"))
        }
        self.init(alpha: a, beta: b)
    }

    /// log of the normalising constant, log(β / (2 α Γ(1/β))).
    public var logNormalizer: Double {
        ScalarMath.log(beta / (2 * alpha)) - ScalarMath.logGamma(1 / beta)
    }

    /// log p(x) = log(β / (2αΓ(1/β))) − |x/α|^β.
    public func logDensity(_ x: Double) -> Double {
        logNormalizer - ScalarMath.pow(abs(x) / alpha, beta)
    }

    /// The absolute moment E|X|^k = α^k Γ((k+1)/β) / Γ(1/β), defined for k > −1
    /// (heavy-tailed spec §1.1, §2 "m_k").
    public func absoluteMoment(_ k: Double) -> Double {
        precondition(k > -1, "absolute moment E|X|^k exists only for k > -1, got \(k)")
        let logRatio = ScalarMath.logGamma((k + 1) / beta) - ScalarMath.logGamma(1 / beta)
        return ScalarMath.pow(alpha, k) * ScalarMath.exp(logRatio)
    }

    /// Var X = α² Γ(3/β) / Γ(1/β).
    public var variance: Double { absoluteMoment(2) }

    /// Kurtosis κ = E X⁴ / (E X²)² = Γ(5/β) Γ(1/β) / Γ(3/β)² (not excess: 3 for a Gaussian, 6 for Laplace).
    public var kurtosis: Double {
        ScalarMath.exp(
            ScalarMath.logGamma(5 / beta) + ScalarMath.logGamma(1 / beta) - 2 * ScalarMath.logGamma(3 / beta))
    }

    /// Score of the noise kernel (heavy-tailed spec §1.4): for x̃ = x + ε,
    ///
    ///     d/dx̃ log q(x̃ | x) = −(β / α^β) · sign(ε) · |ε|^(β−1),
    ///
    /// with sign(0) = 0, so the result at ε = 0 is 0 for every β (as in PyTorch; for β < 1 the
    /// true limit is infinite, but ε = 0 has probability zero). For β = 2 this is −2ε/α², i.e.
    /// −ε/σ² under the code convention.
    @inline(__always)
    public func kernelScore(_ epsilon: Double) -> Double {
        if epsilon == 0 { return 0 }
        if beta == 2 { return -2 * epsilon / (alpha * alpha) }
        let a = abs(epsilon)
        let magnitude = beta == 1 ? 1 / alpha : (beta / alpha) * ScalarMath.pow(a / alpha, beta - 1)
        return epsilon > 0 ? -magnitude : magnitude
    }

    /// The kernel score applied elementwise to a noise tensor ε, written into `out` (resized to
    /// ε's shape): the DSM regression target of heavy-tailed spec §1.4/§1.6.
    public func kernelScore<T: TensorScalar>(_ epsilon: Tensor<T>, into out: inout Tensor<T>) {
        out.resize(epsilon.shape)
        let n = epsilon.count
        let twoOverAlphaSquared = T(2 / (alpha * alpha))
        epsilon.withUnsafeBufferPointer { e in
            out.withUnsafeMutableBufferPointer { o in
                if beta == 2 {
                    for i in 0..<n { o[i] = -twoOverAlphaSquared * e[i] }
                } else {
                    for i in 0..<n { o[i] = T(kernelScore(Double(e[i]))) }
                }
            }
        }
    }

    /// Allocating form of `kernelScore(_:into:)`.
    public func kernelScore<T: TensorScalar>(_ epsilon: Tensor<T>) -> Tensor<T> {
        var out = Tensor<T>(shape: epsilon.shape)
        kernelScore(epsilon, into: &out)
        return out
    }

    /// One exact draw (heavy-tailed spec §1.3): X = α·U·G^(1/β) with U ~ Uniform(−1, 1) and
    /// G ~ Gamma(1 + 1/β, 1) independent. For β = 2 a normal draw (α/√2)·Z is used instead
    /// (same distribution, different random stream).
    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> Double {
        if beta == 2 { return alpha * 0.5.squareRoot() * rng.nextNormal() }
        if beta == 1 {
            // Laplace: a random sign times α·Exp(1), one logarithm per draw instead of a gamma draw.
            let u = rng.nextUniformOpen()
            let magnitude = -alpha * ScalarMath.log(rng.nextUniformOpen())
            return u < 0.5 ? -magnitude : magnitude
        }
        let u = rng.nextUniform(in: -1, 1)
        let g = rng.nextGamma(shape: 1 + 1 / beta)
        return alpha * u * ScalarMath.pow(g, 1 / beta)
    }

    /// Overwrites every element of `t` with an i.i.d. draw of this GND (β = 2 uses both halves
    /// of each Box–Muller pair through `Tensor.fillNormal`).
    public func fill<T: TensorScalar, G: RandomNumberGenerator>(_ t: inout Tensor<T>, using rng: inout G) {
        if beta == 2 {
            t.fillNormal(mean: 0, std: T(alpha * 0.5.squareRoot()), using: &rng)
            return
        }
        let shapeParameter = 1 + 1 / beta
        let inverseBeta = 1 / beta
        let a = alpha
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                let u = rng.nextUniform(in: -1, 1)
                let g = rng.nextGamma(shape: shapeParameter)
                p[i] = T(a * u * ScalarMath.pow(g, inverseBeta))
            }
        }
    }

    /// A tensor of the given shape filled with i.i.d. draws (see `fill(_:using:)`).
    public func sample<T: TensorScalar, G: RandomNumberGenerator>(
        shape: [Int], as type: T.Type = T.self, using rng: inout G
    ) -> Tensor<T> {
        var t = Tensor<T>(shape: shape)
        fill(&t, using: &rng)
        return t
    }
}
