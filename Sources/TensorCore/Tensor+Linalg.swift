// Matrix products and linear-algebra routines on the matrix view of a tensor. This file,
// TensorScalar.swift and OneDNN.swift are the only places in TensorCore that reach BLAS/LAPACK
// and oneDNN (Float32 GEMMs go to oneDNN or OpenBLAS by shape, see OneDNN.swift).

/// `c = alpha * op(a) * op(b) + beta * c`, where op is an optional transpose and every tensor is
/// taken as a matrix [rows, columns]. Writes into `c`, which must already have the result size.
///
/// - Parameters:
///   - a: [m, k] (or [k, m] if `transposeA`).
///   - b: [k, n] (or [n, k] if `transposeB`).
///   - c: [m, n]; its previous contents are scaled by `beta` (ignored when beta is 0).
public func matmul<T: TensorScalar>(
    _ a: Tensor<T>, transposeA: Bool = false, _ b: Tensor<T>, transposeB: Bool = false,
    into c: inout Tensor<T>, alpha: T = 1, beta: T = 0
) {
    let (ar, ac) = (a.rows, a.columns)
    let (br, bc) = (b.rows, b.columns)
    let m = transposeA ? ac : ar
    let k = transposeA ? ar : ac
    let kb = transposeB ? bc : br
    let n = transposeB ? br : bc
    precondition(k == kb, "matmul: inner dimensions differ (\(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : ""))")
    precondition(c.count == m * n, "matmul: output has \(c.count) elements, need \(m)×\(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        c.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = beta == 0 ? 0 : beta * p[i] } }
        return
    }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                T.gemm(
                    transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: pa.baseAddress!, lda: ac, b: pb.baseAddress!, ldb: bc, beta: beta,
                    c: pc.baseAddress!, ldc: n)
            }
        }
    }
}

/// Allocating form of `matmul(_:transposeA:_:transposeB:into:)`; returns [m, n].
public func matmul<T: TensorScalar>(
    _ a: Tensor<T>, transposeA: Bool = false, _ b: Tensor<T>, transposeB: Bool = false
) -> Tensor<T> {
    let m = transposeA ? a.columns : a.rows
    let n = transposeB ? b.rows : b.columns
    var c = Tensor<T>(shape: [m, n])
    matmul(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
}

/// The eigendecomposition of a symmetric matrix.
public struct SymmetricEigen<T: TensorScalar> {
    /// Eigenvalues in ascending order, [n].
    public var values: [T]
    /// Eigenvectors as columns of an [n, n] matrix: column j belongs to `values[j]`.
    public var vectors: Tensor<T>
}

/// Errors from LAPACK routines.
public enum LinearAlgebraError: Error, CustomStringConvertible {
    case notSquare([Int])
    case lapack(routine: String, info: Int)
    public var description: String {
        switch self {
        case .notSquare(let s): return "expected a square matrix, got shape \(s)"
        case .lapack(let r, let info):
            return "LAPACK \(r) failed with info = \(info)" + (r.hasSuffix("potrf") && info > 0 ? " (matrix not positive definite)" : "")
        }
    }
}

extension Tensor {
    /// The transpose of the matrix view, [columns, rows].
    public func transposed() -> Tensor {
        let (r, c) = (rows, columns)
        var out = Tensor(shape: [c, r])
        for i in 0..<r { for j in 0..<c { out.scalars[j * r + i] = scalars[i * c + j] } }
        return out
    }

    /// Symmetric eigendecomposition via LAPACK ?syevd. Only the upper triangle is read.
    public func symmetricEigen() throws -> SymmetricEigen<Scalar> {
        guard rank == 2, shape[0] == shape[1] else { throw LinearAlgebraError.notSquare(shape) }
        let n = shape[0]
        var a = self
        var w = [Scalar](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in Scalar.symmetricEigen(n: n, a: pa.baseAddress!, w: pw.baseAddress!) }
        }
        guard info == 0 else { throw LinearAlgebraError.lapack(routine: Scalar.self == Float.self ? "ssyevd" : "dsyevd", info: info) }
        return SymmetricEigen(values: w, vectors: a)
    }

    /// The lower Cholesky factor L (L Lᵀ = self) via LAPACK ?potrf; the upper triangle is zeroed.
    public func choleskyLower() throws -> Tensor {
        guard rank == 2, shape[0] == shape[1] else { throw LinearAlgebraError.notSquare(shape) }
        let n = shape[0]
        var a = self
        let info = a.withUnsafeMutableBufferPointer { Scalar.cholesky(n: n, a: $0.baseAddress!) }
        guard info == 0 else { throw LinearAlgebraError.lapack(routine: Scalar.self == Float.self ? "spotrf" : "dpotrf", info: info) }
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { a.scalars[i * n + j] = 0 } }
        return a
    }

    /// The n×n identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var t = Tensor(shape: [n, n])
        for i in 0..<n { t.scalars[i * n + i] = 1 }
        return t
    }
}
