// Closed-form moments of the noise-vector norm R = ‖ε‖₂ when ε has D i.i.d. GND(0, α, β)
// coordinates (heavy-tailed spec §2). R² is a sum of D i.i.d. copies of Y = |X|², so its mean,
// variance and skewness follow exactly from the absolute moments m_k = E|X|^k; the moments of
// R itself come from the delta method (first order in 1/D), which the spec's Monte Carlo table
// confirms to two decimals for D ≥ 100.

/// Moments of R = ‖ε‖₂ for ε with D i.i.d. GND(0, α, β) coordinates (heavy-tailed spec §2).
/// With m_k = E|X|^k and κ = m_4/m_2² the GND kurtosis:
///
///     E[R²]   = D m_2                      (exact)
///     Var[R²] = D (m_4 − m_2²)              (exact)
///     skew[R²] = κ₃(Y) / (√D · Var(Y)^{3/2}),  κ₃(Y) = m_6 − 3 m_4 m_2 + 2 m_2³   (exact)
///     E[R]  ≈ sqrt(D m_2),  sd[R] ≈ sqrt((m_4 − m_2²)/(4 m_2)),  CV[R] ≈ sqrt(κ − 1)/(2√D)   (delta method)
public struct NoiseNormMoments: Sendable, Codable {
    /// Number of i.i.d. coordinates D.
    public var dimension: Int
    /// GND shape β.
    public var beta: Double
    /// GND scale α.
    public var alpha: Double
    /// E[R²] = D m_2.
    public var meanSquaredNorm: Double
    /// Var[R²] = D (m_4 − m_2²).
    public var varianceSquaredNorm: Double
    /// Exact skewness of R²: D κ₃(|X|²) / (D Var(|X|²))^{3/2}, which is c(β)/√D.
    public var skewnessSquaredNorm: Double
    /// Delta-method mean of R: sqrt(D m_2).
    public var meanApprox: Double
    /// Delta-method standard deviation of R: sqrt((m_4 − m_2²) / (4 m_2)), independent of D.
    public var stdApprox: Double
    /// Delta-method coefficient of variation of R: sqrt(κ − 1) / (2√D).
    public var cvApprox: Double

    /// The moments for dimension D ≥ 1 and the coordinate law `gnd`.
    public init(dimension: Int, gnd: GeneralizedNormal) {
        precondition(dimension >= 1, "noise dimension must be at least 1, got \(dimension)")
        let d = Double(dimension)
        let m2 = gnd.absoluteMoment(2)
        let m4 = gnd.absoluteMoment(4)
        let m6 = gnd.absoluteMoment(6)
        let varianceY = m4 - m2 * m2
        let thirdCumulantY = m6 - 3 * m4 * m2 + 2 * m2 * m2 * m2
        self.dimension = dimension
        self.beta = gnd.beta
        self.alpha = gnd.alpha
        meanSquaredNorm = d * m2
        varianceSquaredNorm = d * varianceY
        skewnessSquaredNorm = d * thirdCumulantY / (d * varianceY * (d * varianceY).squareRoot())
        meanApprox = (d * m2).squareRoot()
        stdApprox = (varianceY / (4 * m2)).squareRoot()
        cvApprox = (gnd.kurtosis - 1).squareRoot() / (2 * d.squareRoot())
    }
}
