// Shared constants and helpers for the ScoreKit tests: tolerances specific to this target (each
// with its justification), independent reference formulas, and Monte Carlo summaries.
import Foundation
import TensorCore
import TestSupport

/// Tolerances used only by the ScoreKit tests.
enum LocalTolerance {
    /// The spec's tables print 3 decimals, so a correct closed form is within half a unit of the
    /// last printed digit.
    static let specThreeDecimals = 5e-4
    /// The spec's tables print 2 decimals (half a unit of the last printed digit).
    static let specTwoDecimals = 5e-3
    /// Composite Simpson with 2·10⁵ panels on a GND density: the |x|^β cusp at 0 limits the order
    /// to h^{β+1} (h ≈ 2e-4 for β = 1.25, error ≈ 1e-8), plus an e^−60 truncated tail.
    static let quadratureRelative = 1e-7
    /// Minimum |x̃_d − x_{j,d}| for finite-difference checks of GND log-densities: |t|^β has third
    /// derivative ∝ |t|^{β−3}, at most 0.05^{−1.75} ≈ 190 for β ≥ 1.25, so the O(h²) truncation
    /// error stays near 1e-8 relative; closer points test the cusp, not the code.
    static let kinkClearance = 0.05
    /// Purely relative comparison: the compared quantities are bounded away from zero.
    static let noAbsoluteSlack = 0.0
    /// Purely absolute comparison: the compared quantities are O(1) differences near zero.
    static let noRelativeSlack = 0.0
}

/// Monte Carlo sizes, large enough that 4 standard errors are a sharp check and small enough
/// for a debug build.
enum MonteCarloSize {
    /// Scalar GND draws per shape β.
    static let scalarDraws = 200_000
    /// Noise vectors per (D, β) for the norm moments.
    static let noiseVectors = 50_000
    /// Gaussian-mixture draws.
    static let mixtureDraws = 100_000
}

/// Reference absolute moment via tgamma (independent of ScoreKit's lgamma route).
func referenceAbsoluteMoment(alpha: Double, beta: Double, k: Double) -> Double {
    pow(alpha, k) * tgamma((k + 1) / beta) / tgamma(1 / beta)
}

/// Composite Simpson's rule on [a, b] with an even number of panels.
func simpson(_ f: (Double) -> Double, from a: Double, to b: Double, panels: Int) -> Double {
    precondition(panels % 2 == 0, "Simpson needs an even panel count")
    let h = (b - a) / Double(panels)
    var s = f(a) + f(b)
    for i in 1..<panels { s += (i % 2 == 1 ? 4 : 2) * f(a + Double(i) * h) }
    return s * h / 3
}

/// |estimate − truth| in units of the standard error (∞ if the SE is zero and they differ).
func standardErrors(_ estimate: Double, _ truth: Double, se: Double) -> Double {
    let diff = abs(estimate - truth)
    if diff == 0 { return 0 }
    return se > 0 ? diff / se : .infinity
}

/// Sample mean of a sequence.
func sampleMean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

/// Row `i` of a [N, D] tensor.
func rowOf(_ t: Tensor<Double>, _ i: Int) -> [Double] { t.row(i) }

/// A [rows, columns] tensor of i.i.d. N(0, 1) draws from a fixed seed.
func normalMatrix(rows: Int, columns: Int, seed: UInt64) -> Tensor<Double> {
    var rng = Xoshiro256(seed: seed)
    return Tensor<Double>.randomNormal([rows, columns], using: &rng)
}

/// Flattens a [D, D] tensor or nested rows for `worstMismatch`.
func flat(_ rows: [[Double]]) -> [Double] { rows.flatMap { $0 } }
