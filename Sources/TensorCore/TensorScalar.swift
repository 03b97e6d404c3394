// The element types a Tensor can hold (Float and Double) and the per-type BLAS/LAPACK routines
// they dispatch to. Library code is written once, generically over `TensorScalar`; BLAS and
// LAPACK are reached through the static requirements below, so that generic code still calls
// sgemm (or oneDNN, see OneDNN.swift) for Float and dgemm for Double. Training kernels
// (activations, Adam, EMA) live in NeuralNet.
import CBLAS
import CLAPACKE
import RealModule

/// A floating-point element type with BLAS- and LAPACK-backed operations.
public protocol TensorScalar: BinaryFloatingPoint, Real, Codable, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// Short name used in output records ("float32", "float64").
    static var typeName: String { get }

    /// General matrix multiply, row-major: `C = alpha * op(A) * op(B) + beta * C`.
    /// - Parameters: `m`, `n`, `k`: op(A) is m×k, op(B) is k×n; `lda`, `ldb`, `ldc`: row strides.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
        c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Matrix-vector multiply, row-major: `y = alpha * op(A) x + beta * y`, A is m×n.
    static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)

    /// `y += alpha * x` over n contiguous elements.
    static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)

    /// Dot product of n contiguous elements.
    static func dot(n: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self

    /// Symmetric eigendecomposition (LAPACK ?syevd) of an n×n row-major matrix, in place: on exit
    /// `a` holds the eigenvectors as columns and `w` the eigenvalues in ascending order.
    /// Returns LAPACK's `info` (0 on success).
    static func symmetricEigen(n: Int, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>) -> Int

    /// Cholesky factorisation (LAPACK ?potrf) of an n×n row-major SPD matrix, in place, lower
    /// triangle. Returns LAPACK's `info` (0 on success, > 0 if not positive definite).
    static func cholesky(n: Int, a: UnsafeMutablePointer<Self>) -> Int
}

@inline(__always) private func blasTrans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
@inline(__always) private let lapackRowMajor: Int32 = 101  // LAPACK_ROW_MAJOR
@inline(__always) private func ascii(_ c: Character) -> CChar { CChar(bitPattern: c.asciiValue!) }

extension Float: TensorScalar {
    public static var typeName: String { "float32" }
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // oneDNN or OpenBLAS by shape (OneDNN.swift).
        OneDNN.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                     b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    public static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, blasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }
    public static func dot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
    public static func symmetricEigen(n: Int, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_ssyevd(lapackRowMajor, ascii("V"), ascii("U"), Int32(n), a, Int32(n), w))
    }
    public static func cholesky(n: Int, a: UnsafeMutablePointer<Float>) -> Int {
        Int(LAPACKE_spotrf(lapackRowMajor, ascii("L"), Int32(n), a, Int32(n)))
    }
}

extension Double: TensorScalar {
    public static var typeName: String { "float64" }
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
        c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, blasTrans(transA), blasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func gemv(
        trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasRowMajor, blasTrans(trans), Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
    public static func axpy(n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
    }
    public static func dot(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        cblas_ddot(Int32(n), x, 1, y, 1)
    }
    public static func symmetricEigen(n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dsyevd(lapackRowMajor, ascii("V"), ascii("U"), Int32(n), a, Int32(n), w))
    }
    public static func cholesky(n: Int, a: UnsafeMutablePointer<Double>) -> Int {
        Int(LAPACKE_dpotrf(lapackRowMajor, ascii("L"), Int32(n), a, Int32(n)))
    }
}

/// BLAS threading. OpenBLAS keeps its own pool; `Parallel.configure` sets its size to
/// `Parallel.libraryThreads` (1 unless a benchmark asks for more), so that a GEMM's or a LAPACK
/// call's sums never depend on `--threads` (issue 26). Do not call `setThreads` elsewhere.
public enum BLAS {
    /// Sets the number of OpenBLAS threads (overrides OPENBLAS_NUM_THREADS, upward too).
    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        openblas_set_num_threads(Int32(n))
    }
    /// The number of threads OpenBLAS will use.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Zen".
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// The kernel family OpenBLAS's DYNAMIC_ARCH picked (e.g. "Haswell"; OPENBLAS_CORETYPE
    /// overrides the CPU's own).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
