// Shared helpers for the test targets: named tolerances and finite-difference checks in Double.
// Not part of the public API of the libraries.
import TensorCore

/// Named tolerances. Each says why it is what it is; never write a bare literal in a test body.
public enum Tolerance {
    /// Central differences in Double with h ≈ 1e-5 have truncation error O(h²) ≈ 1e-10 times the
    /// third derivative and round-off ≈ 1e-16/h ≈ 1e-11: about 6 significant digits survive.
    public static let finiteDifferenceRelative = 1e-6
    /// Absolute floor for finite-difference comparisons of quantities near zero.
    public static let finiteDifferenceAbsolute = 1e-8
    /// Float32 arithmetic through a few BLAS calls: a few ulps of ~1e-7, accumulated over sums.
    public static let float32Ops = 1e-4
    /// Double arithmetic through BLAS and closed forms: well above 1e-16 accumulated round-off.
    public static let float64Ops = 1e-10
    /// Monte Carlo checks accept |estimate − truth| ≤ this many standard errors.
    public static let monteCarloSigmas = 4.0
}

/// The central-difference step for coordinate value `x`: h = 1e-5 · max(1, |x|).
public func finiteDifferenceStep(_ x: Double) -> Double { 1e-5 * max(1, abs(x)) }

/// Central-difference gradient of a scalar function at `x`.
public func numericalGradient(_ f: ([Double]) -> Double, at x: [Double]) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var xp = x
    for i in 0..<x.count {
        let h = finiteDifferenceStep(x[i])
        xp[i] = x[i] + h
        let fp = f(xp)
        xp[i] = x[i] - h
        let fm = f(xp)
        xp[i] = x[i]
        g[i] = (fp - fm) / (2 * h)
    }
    return g
}

/// Central-difference Jacobian of a vector function at `x`: result[i][j] = ∂f_i/∂x_j.
public func numericalJacobian(_ f: ([Double]) -> [Double], at x: [Double]) -> [[Double]] {
    var xp = x
    var columns: [[Double]] = []
    for j in 0..<x.count {
        let h = finiteDifferenceStep(x[j])
        xp[j] = x[j] + h
        let fp = f(xp)
        xp[j] = x[j] - h
        let fm = f(xp)
        xp[j] = x[j]
        columns.append(zip(fp, fm).map { ($0 - $1) / (2 * h) })
    }
    let m = columns.first?.count ?? 0
    return (0..<m).map { i in columns.map { $0[i] } }
}

/// The worst mismatch between two arrays under `|a − b| ≤ atol + rtol · max(|a|, |b|)`.
public struct Mismatch: CustomStringConvertible {
    public var index: Int
    public var expected: Double
    public var actual: Double
    public var description: String { "index \(index): expected \(expected), got \(actual) (|Δ| = \(abs(expected - actual)))" }
}

/// Returns the first index (worst by excess) where `actual` and `expected` disagree, or nil.
public func worstMismatch(
    _ actual: [Double], _ expected: [Double],
    rtol: Double = Tolerance.finiteDifferenceRelative, atol: Double = Tolerance.finiteDifferenceAbsolute
) -> Mismatch? {
    precondition(actual.count == expected.count, "compared arrays differ in length: \(actual.count) vs \(expected.count)")
    var worst: Mismatch?
    var worstExcess = 0.0
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let allowed = atol + rtol * max(abs(a), abs(e))
        let excess = abs(a - e) - allowed
        if !(excess <= 0) && (worst == nil || excess > worstExcess || excess.isNaN) {
            worst = Mismatch(index: i, expected: e, actual: a)
            worstExcess = excess
        }
    }
    return worst
}

/// Runs `body`, then restores `Parallel.threads` and `Parallel.libraryThreads` to what they were
/// (tests that call `Parallel.configure` leave the process as they found it).
public func restoringParallelSettings<T>(_ body: () throws -> T) rethrows -> T {
    let saved = (Parallel.threads, Parallel.libraryThreads)
    defer { Parallel.configure(threads: saved.0, libraryThreads: saved.1) }
    return try body()
}
