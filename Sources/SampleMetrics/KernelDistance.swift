// Kernel (Inception) distance, KID (Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying
// MMD GANs", §3 and their released `polynomial_mmd_averages`): the unbiased estimate of the
// squared MMD with the cubic polynomial kernel
//
//     k(x, y) = (xᵀy / d + 1)³,
//     MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (n(n−1)) − 2 Σ_{i,j} k(x_i, y_j) / (mn),
//
// averaged over `subsets` pairs of random subsets of `subsetSize` vectors from each set, drawn
// without replacement (independently per subset) from one seeded generator. The spread is the
// standard deviation of the per-subset values (as the authors report it), not a standard error:
// subsets overlap, so the values are not independent. The estimate is unbiased, so it can be
// negative when the two distributions agree. Kernel matrices come from one GEMM each (Float64).
import TensorCore

/// The result of a KID evaluation.
public struct KernelDistanceResult: Codable, Sendable, Equatable {
    /// Mean of the per-subset MMD² estimates.
    public var mean: Double
    /// Standard deviation of the per-subset estimates (divisor subsets − 1; 0 for one subset).
    public var standardDeviation: Double
    /// The per-subset estimates.
    public var subsetValues: [Double]
    /// Vectors per subset actually used (min of the request and both set sizes).
    public var subsetSize: Int
}

/// KID settings.
public struct KernelDistance: Codable, Sendable {
    /// Number of subset pairs (Bińkowski et al.: 100).
    public var subsets: Int
    /// Vectors per subset (Bińkowski et al.: 1000; clipped to the smaller set).
    public var subsetSize: Int
    /// Seed of the subset draws.
    public var seed: UInt64

    /// KID with `subsets` subset pairs of `subsetSize` vectors, drawn with `seed`.
    public init(subsets: Int = 100, subsetSize: Int = 1000, seed: UInt64 = 0) {
        precondition(subsets >= 1 && subsetSize >= 2, "KID needs at least 1 subset of at least 2 vectors, got \(subsets) of \(subsetSize)")
        self.subsets = subsets
        self.subsetSize = subsetSize
        self.seed = seed
    }

    /// The cubic polynomial kernel matrix (X Yᵀ / d + 1)³, [M, N].
    public static func kernel(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Tensor<Double> {
        let d = x.columns
        precondition(y.columns == d, "KID kernel: feature sizes differ (\(x.shape) vs \(y.shape))")
        var k = Tensor<Double>(shape: [x.rows, y.rows])
        matmul(x, y, transposeB: true, into: &k, alpha: 1 / Double(d), beta: 0)
        k.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { let v = p[i] + 1; p[i] = v * v * v }
        }
        return k
    }

    /// The unbiased MMD² between all of `x` [M, D] and all of `y` [N, D] (M, N ≥ 2).
    public static func unbiasedMMD2(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Double {
        let (m, n) = (x.rows, y.rows)
        precondition(m >= 2 && n >= 2, "unbiased MMD² needs at least 2 vectors per set, got \(m) and \(n)")
        var buffer = Tensor<Double>(shape: [max(m, n), max(m, n)])
        let xx = kernelSums(x, x, buffer: &buffer), yy = kernelSums(y, y, buffer: &buffer)
        let xy = kernelSums(x, y, buffer: &buffer)
        return (xx.total - xx.diagonal) / Double(m * (m - 1)) + (yy.total - yy.diagonal) / Double(n * (n - 1))
            - 2 * xy.total / Double(m * n)
    }

    /// Σ_ij k(x_i, y_j) and Σ_i k(x_i, y_i) (the latter meaningful when x = y), from one GEMM into
    /// `buffer` (resized as needed) and one pass that cubes and sums without storing.
    static func kernelSums(_ x: Tensor<Double>, _ y: Tensor<Double>, buffer: inout Tensor<Double>) -> (total: Double, diagonal: Double) {
        let (m, n, d) = (x.rows, y.rows, x.columns)
        precondition(y.columns == d, "KID kernel: feature sizes differ (\(x.shape) vs \(y.shape))")
        buffer.resize([m, n])
        matmul(x, y, transposeB: true, into: &buffer, alpha: 1 / Double(d), beta: 0)
        return buffer.withUnsafeMutableBufferPointer { p in
            var total = 0.0, diagonal = 0.0
            for i in 0..<m {
                var rowSum = 0.0
                for j in 0..<n { let v = p[i * n + j] + 1; rowSum += v * v * v }
                total += rowSum
                if i < n { let v = p[i * n + i] + 1; diagonal += v * v * v }
            }
            return (total, diagonal)
        }
    }

    /// KID between generated features `x` [M, D] and reference features `y` [N, D].
    public func evaluate(_ x: Tensor<Double>, _ y: Tensor<Double>) -> KernelDistanceResult {
        let size = min(subsetSize, x.rows, y.rows)
        precondition(size >= 2, "KID needs at least 2 vectors in each set, got \(x.rows) and \(y.rows)")
        var rng = Xoshiro256(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(subsets)
        for _ in 0..<subsets {
            let ix = Self.choose(size, from: x.rows, using: &rng)
            let iy = Self.choose(size, from: y.rows, using: &rng)
            values.append(Self.unbiasedMMD2(x.gatherRows(ix), y.gatherRows(iy)))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        var ss = 0.0
        for v in values { ss += (v - mean) * (v - mean) }
        let sd = values.count > 1 ? (ss / Double(values.count - 1)).squareRoot() : 0
        return KernelDistanceResult(mean: mean, standardDeviation: sd, subsetValues: values, subsetSize: size)
    }

    /// `count` distinct indices from 0..<n (partial Fisher–Yates; all of them, in order, if count == n).
    static func choose<G: RandomNumberGenerator>(_ count: Int, from n: Int, using rng: inout G) -> [Int] {
        if count == n { return Array(0..<n) }
        var pool = Array(0..<n)
        for i in 0..<count {
            let j = i + rng.nextIndex(n - i)
            pool.swapAt(i, j)
        }
        return Array(pool[0..<count])
    }
}
