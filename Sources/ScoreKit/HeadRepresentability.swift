// How closely a low-rank + diagonal s̃₂ head can represent a target Hessian at all: the
// representability floor of HO-E1's D > 50 cells (issue 17: a head that cannot represent its
// target loses the D2SM-vs-autodiff comparison by construction, whatever the training).
//
// The head's matrices are UUᵀ + diag(d) with U ∈ R^{D×r} (SecondOrderStructure.lowRank): a
// positive semidefinite part of rank ≤ r plus any diagonal. For a symmetric target S the fit
// min ‖S − UUᵀ − diag(d)‖_F is found by alternating the two exact block minimisations:
//   * given d: UUᵀ is the best PSD rank-≤r approximation of S − diag(d), its r largest positive
//     eigenpairs (Eckart–Young restricted to the PSD cone);
//   * given UUᵀ: d = diag(S − UUᵀ).
// Each step cannot increase the residual, so the result is an upper bound on the best fit (the
// problem is not convex); it is exact when S is representable.
import TensorCore

public enum HeadRepresentability {
    /// ‖S − UUᵀ − diag(d)‖_F / ‖S‖_F after alternating fits of rank `rank`, for a symmetric
    /// row-major D×D `matrix`. Stops after `iterations` rounds or when the residual improves by
    /// less than `relativeTolerance` of itself. 0 for a zero matrix.
    public static func lowRankPlusDiagonalError(_ matrix: [Double], dimension d: Int, rank: Int,
                                                iterations: Int = 200, relativeTolerance: Double = 1e-10) throws -> Double {
        precondition(matrix.count == d * d, "expected \(d)×\(d) entries, got \(matrix.count)")
        precondition(rank >= 0 && rank <= d, "rank must be in 0...\(d), got \(rank)")
        let norm = matrix.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return 0 }
        var diagonal = (0..<d).map { matrix[$0 * d + $0] }
        var lowRank = [Double](repeating: 0, count: d * d)
        var previous = Double.infinity
        for _ in 0..<max(iterations, 1) {
            // UUᵀ: the r largest positive eigenpairs of S − diag(d).
            for i in lowRank.indices { lowRank[i] = 0 }
            if rank > 0 {
                var m = Tensor<Double>(shape: [d, d], scalars: matrix)
                for i in 0..<d { m.scalars[i * d + i] -= diagonal[i] }
                let eig = try m.symmetricEigen()
                for j in stride(from: d - 1, through: max(d - rank, 0), by: -1) where eig.values[j] > 0 {
                    let lambda = eig.values[j]
                    for a in 0..<d {
                        let va = lambda * eig.vectors.scalars[a * d + j]
                        for b in 0..<d { lowRank[a * d + b] += va * eig.vectors.scalars[b * d + j] }
                    }
                }
            }
            // d: the diagonal of what is left.
            for i in 0..<d { diagonal[i] = matrix[i * d + i] - lowRank[i * d + i] }
            var residual = 0.0
            for a in 0..<d {
                for b in 0..<d where a != b {
                    let r = matrix[a * d + b] - lowRank[a * d + b]
                    residual += r * r
                }
            }
            residual = residual.squareRoot()
            if previous - residual <= relativeTolerance * residual { previous = residual; break }
            previous = residual
        }
        return previous / norm
    }
}
