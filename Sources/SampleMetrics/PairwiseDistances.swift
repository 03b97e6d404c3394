// Euclidean distances between two sets of feature vectors (rows of [N, D] tensors) through one
// BLAS product per block:
//
//     d(x, y)² = ‖x‖² + ‖y‖² − 2 x·y,   d = sqrt(max(0, ·))
//
// in Float64. The expansion loses about half the digits for points that nearly coincide (the
// subtraction cancels); the clamp at zero keeps the square root real. Every metric in this
// module that needs neighbours (PRDC radii, coverage, the memorisation check) goes through
// `forEachBlock`, which hands out [rows, M] slabs of the distance matrix so that 10⁴ × 6·10⁴
// problems never hold the whole matrix (block size is capped at about 32 MB).
import TensorCore

/// Euclidean distances between the rows of two feature matrices.
public enum PairwiseDistances {
    /// The number of Double entries one block may hold (about 32 MB).
    public static let blockEntries = 4_000_000

    /// ‖x_i‖² for every row of `x` [N, D].
    public static func squaredNorms(_ x: Tensor<Double>) -> [Double] {
        let (n, d) = (x.rows, x.columns)
        var out = [Double](repeating: 0, count: n)
        x.withUnsafeBufferPointer { p in
            for i in 0..<n {
                var s = 0.0
                for j in 0..<d { s += p[i * d + j] * p[i * d + j] }
                out[i] = s
            }
        }
        return out
    }

    /// Calls `body` with consecutive row ranges of `x` and the distances of those rows to every
    /// row of `y`, as a [range.count, M] tensor (row-major; reused between calls, so copy what you
    /// keep).
    /// - Parameters:
    ///   - x: [N, D] features.
    ///   - y: [M, D] features.
    ///   - squared: pass squared distances instead of distances.
    public static func forEachBlock(
        _ x: Tensor<Double>, _ y: Tensor<Double>, squared: Bool = false,
        _ body: (Range<Int>, Tensor<Double>) throws -> Void
    ) rethrows {
        let (n, m, d) = (x.rows, y.rows, x.columns)
        precondition(y.columns == d, "pairwise distances: feature sizes differ (\(x.shape) vs \(y.shape))")
        guard n > 0, m > 0 else { return }
        let normsX = squaredNorms(x), normsY = squaredNorms(y)
        let blockRows = max(1, min(n, blockEntries / m))
        var slab = Tensor<Double>(shape: [blockRows, d])
        var block = Tensor<Double>(shape: [blockRows, m])
        var start = 0
        while start < n {
            let rows = min(blockRows, n - start)
            if slab.rows != rows {
                slab = Tensor<Double>(shape: [rows, d])
                block = Tensor<Double>(shape: [rows, m])
            }
            x.withUnsafeBufferPointer { src in
                slab.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<(rows * d) { dst[k] = src[start * d + k] }
                }
            }
            // block = −2 · slab · yᵀ, then add the norms.
            matmul(slab, y, transposeB: true, into: &block, alpha: -2, beta: 0)
            block.withUnsafeMutableBufferPointer { p in
                for r in 0..<rows {
                    let nx = normsX[start + r]
                    for c in 0..<m {
                        let v = max(0, p[r * m + c] + nx + normsY[c])
                        p[r * m + c] = squared ? v : v.squareRoot()
                    }
                }
            }
            try body(start..<(start + rows), block)
            start += rows
        }
    }

    /// The full [N, M] distance matrix (small problems and tests; use `forEachBlock` otherwise).
    public static func matrix(_ x: Tensor<Double>, _ y: Tensor<Double>, squared: Bool = false) -> Tensor<Double> {
        var out = Tensor<Double>(shape: [x.rows, y.rows])
        let m = y.rows
        forEachBlock(x, y, squared: squared) { range, block in
            block.withUnsafeBufferPointer { b in
                for k in 0..<(range.count * m) { out.scalars[range.lowerBound * m + k] = b[k] }
            }
        }
        return out
    }

    /// For every row of `x`, the distance to its k-th nearest row of `x` itself, counting the
    /// point itself as its 0-th neighbour (distance 0), as in Naeem et al.'s reference code
    /// (`np.partition(d, k)[:, k]`). Duplicated points therefore count as neighbours.
    /// - Precondition: 1 ≤ k < N.
    public static func kthNeighbourRadii(_ x: Tensor<Double>, k: Int) -> [Double] {
        let n = x.rows
        precondition(k >= 1 && k < n, "k-th neighbour radius: need 1 ≤ k < N, got k = \(k), N = \(n)")
        var radii = [Double](repeating: 0, count: n)
        var smallest = [Double](repeating: 0, count: k + 1)
        forEachBlock(x, x) { range, block in
            block.withUnsafeBufferPointer { b in
                for r in 0..<range.count {
                    let i = range.lowerBound + r
                    // Keep the k+1 smallest values in ascending order (insertion; k is small).
                    var filled = 0
                    for c in 0..<n {
                        let v = c == i ? 0 : b[r * n + c]  // the diagonal is exactly 0
                        if filled == k + 1 && v >= smallest[k] { continue }
                        var pos = filled == k + 1 ? k : filled
                        while pos > 0 && smallest[pos - 1] > v {
                            smallest[pos] = smallest[pos - 1]
                            pos -= 1
                        }
                        smallest[pos] = v
                        if filled < k + 1 { filled += 1 }
                    }
                    radii[i] = smallest[k]
                }
            }
        }
        return radii
    }
}
