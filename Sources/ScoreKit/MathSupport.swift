// Small numerical helpers shared by the ScoreKit types: the log-gamma function (from the C
// library, so ScoreKit does not depend on swift-numerics directly), a stable log-sum-exp, and
// dense Cholesky-based inversion for the small covariance matrices of a Gaussian mixture.
// Nothing here is public: the public surface is the distributions built on top.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

// File-scope wrappers: inside `ScalarMath` the names `log`, `exp`, `pow` would refer to the
// members themselves.
@inline(__always) private func cLogGamma(_ x: Double) -> Double { lgamma(x) }
@inline(__always) private func cLog(_ x: Double) -> Double { log(x) }
@inline(__always) private func cExp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func cPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) private func cExpm1(_ x: Double) -> Double { expm1(x) }

/// Elementary functions used across ScoreKit (thin wrappers over the C library).
enum ScalarMath {
    /// log Γ(x) for x > 0 (C `lgamma`; the sign output is irrelevant for positive arguments).
    @inline(__always) static func logGamma(_ x: Double) -> Double { cLogGamma(x) }
    @inline(__always) static func log(_ x: Double) -> Double { cLog(x) }
    @inline(__always) static func exp(_ x: Double) -> Double { cExp(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { cPow(x, y) }
    /// eˣ − 1, accurate for small |x|.
    @inline(__always) static func expm1(_ x: Double) -> Double { cExpm1(x) }

    /// log Σ_i exp(v_i), computed as m + log Σ exp(v_i − m) with m = max v_i. Returns −∞ for an
    /// empty input or when every entry is −∞.
    static func logSumExp(_ v: [Double]) -> Double {
        guard let m = v.max(), m > -Double.infinity else { return -Double.infinity }
        if m == Double.infinity { return Double.infinity }
        var s = 0.0
        for x in v { s += exp(x - m) }
        return m + log(s)
    }

    /// softmax(v) computed with the max subtracted (entries of −∞ get weight 0).
    static func softmax(_ v: [Double]) -> [Double] {
        guard let m = v.max(), m > -Double.infinity else {
            preconditionFailure("softmax: every entry is -infinity (no mass anywhere)")
        }
        var w = v.map { exp($0 - m) }
        let s = w.reduce(0, +)
        for i in w.indices { w[i] /= s }
        return w
    }
}

/// A symmetric positive-definite matrix factorised once: its inverse and log-determinant.
struct SPDFactorisation: Sendable {
    /// Lower Cholesky factor L with L Lᵀ = A, [n, n].
    let lower: Tensor<Double>
    /// A⁻¹ = L⁻ᵀ L⁻¹, exactly symmetric (upper triangle mirrored from the lower), [n, n].
    let inverse: Tensor<Double>
    /// log det A = 2 Σ_i log L_ii.
    let logDeterminant: Double

    /// Factorises `a`; returns nil if `a` is not square or LAPACK finds it not positive definite.
    init?(_ a: Tensor<Double>) {
        guard a.rank == 2, a.shape[0] == a.shape[1], let l = try? a.choleskyLower() else { return nil }
        let n = a.shape[0]
        // L⁻¹ by forward substitution, column by column (lower triangular).
        var linv = [Double](repeating: 0, count: n * n)
        for col in 0..<n {
            for i in col..<n {
                var s = i == col ? 1.0 : 0.0
                for k in col..<i { s -= l.scalars[i * n + k] * linv[k * n + col] }
                linv[i * n + col] = s / l.scalars[i * n + i]
            }
        }
        // A⁻¹ = (L⁻¹)ᵀ L⁻¹: entry (i, j) = Σ_k Linv[k, i] Linv[k, j], k ≥ max(i, j).
        var inv = Tensor<Double>(shape: [n, n])
        for i in 0..<n {
            for j in 0...i {
                var s = 0.0
                for k in i..<n { s += linv[k * n + i] * linv[k * n + j] }
                inv.scalars[i * n + j] = s
                inv.scalars[j * n + i] = s
            }
        }
        var logDet = 0.0
        for i in 0..<n { logDet += 2 * ScalarMath.log(l.scalars[i * n + i]) }
        guard logDet.isFinite else { return nil }
        lower = l
        inverse = inv
        self.logDeterminant = logDet
    }
}
