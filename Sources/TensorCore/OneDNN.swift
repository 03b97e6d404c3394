// Float32 GEMM through oneDNN (Debian libdnnl-dev 2.6) where it measures faster than OpenBLAS.
//
// Why: OpenBLAS 0.3.21 runs its Haswell/Zen AVX2 kernel; oneDNN's JIT picks its kernel from the
// CPU at run time (AVX-512 where present, AVX2 otherwise). Double GEMM and LAPACK stay on OpenBLAS.
//
// Which library runs a Float32 GEMM is a fixed rule on the shape (`OneDNN.prefersOneDNN`), taken
// from `bench --gemm-shapes` measurements, never a run-time calibration: a timing-based choice
// could differ between two runs and break byte-identical outputs.
//
// Threads: Debian builds oneDNN with the OpenMP runtime (libgomp; dnnl_config.h says
// DNNL_RUNTIME_OMP). An OpenMP team size is a per-thread setting (the nthreads-var ICV of the
// calling thread), so every call first makes the calling thread's setting equal to
// `Parallel.libraryThreads` (1 unless a benchmark asked for more; always 1 inside
// `Parallel.inline`). oneDNN partitions work by the team size, so its sums change in the last bits
// with it; a team size that never follows `--threads` keeps results independent of it (issue 26).
import CBLAS
import CDNNL

/// The library that runs Float32 GEMMs.
public enum Float32GEMMBackend: String, Sendable, CaseIterable, Codable {
    /// oneDNN for the shapes where `OneDNN.prefersOneDNN` says so, OpenBLAS otherwise.
    case automatic
    /// Always OpenBLAS `cblas_sgemm`.
    case openBLAS
    /// Always oneDNN `dnnl_sgemm`.
    case oneDNN
}

/// oneDNN settings and the Float32 GEMM entry point.
public enum OneDNN {
    nonisolated(unsafe) private static var _backend = Float32GEMMBackend.automatic

    /// The process-wide Float32 GEMM backend (default `.automatic`); benches and tests switch it.
    public static var float32GEMMBackend: Float32GEMMBackend {
        get { _backend }
        set { _backend = newValue }
    }

    /// The OpenMP team size oneDNN would use for a call made from this thread.
    public static var threads: Int { Int(omp_get_max_threads()) }

    /// Makes the calling thread's OpenMP team size equal to the team size its work should use:
    /// `Parallel.libraryThreads`, or 1 inside `Parallel.inline`. Cheap when already equal.
    /// - Parameter count: a team size to use instead (tests pin 2 threads without touching the
    ///   process-wide `Parallel.threads`).
    @inline(__always)
    public static func pinThreads(_ count: Int? = nil) {
        let wanted = count ?? (Parallel.isInline ? 1 : Parallel.libraryThreads)
        if omp_get_max_threads() != Int32(wanted) { omp_set_num_threads(Int32(wanted)) }
    }

    /// The instruction set oneDNN's JIT dispatches to on this CPU (e.g. "avx2", "avx512_core").
    public static var effectiveISA: String {
        let isa = dnnl_get_effective_cpu_isa()
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        default: return "isa#\(isa.rawValue)"
        }
    }

    /// oneDNN's version, e.g. "2.6.3".
    public static var version: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// Whether `.automatic` sends a Float32 GEMM of this shape to oneDNN.
    ///
    /// The rule comes from `bench --gemm-shapes` on the project's AVX2-only Zen 3 machine (2 cores,
    /// shared with other jobs, load 5-9 during the runs): at 1 thread oneDNN's median GFLOP/s was
    /// 1.09-1.31× OpenBLAS's on 12 of the 16 MLP, D2SM-head and conv-GEMM shape classes and
    /// 0.64-0.98× on 4 (both within the run-to-run noise of that load); at 2 threads with libgomp's
    /// default spinning oneDNN lost under load, and with OMP_WAIT_POLICY=passive it won 0.99-6.7×.
    /// A tiny product (8×16·16×16) ran at half OpenBLAS's speed (call overhead), so products with
    /// m·n·k < 2^15 stay on OpenBLAS. Re-measure on a quiet machine before refining this rule.
    @inline(__always)
    public static func prefersOneDNN(transA: Bool, transB: Bool, m: Int, n: Int, k: Int) -> Bool {
        m * n * k >= 32_768
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, through the backend chosen by
    /// `float32GEMMBackend` (and `prefersOneDNN` when automatic).
    @inline(__always)
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let useOneDNN: Bool
        switch _backend {
        case .automatic: useOneDNN = prefersOneDNN(transA: transA, transB: transB, m: m, n: n, k: k)
        case .openBLAS: useOneDNN = false
        case .oneDNN: useOneDNN = true
        }
        if useOneDNN {
            dnnlSGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    /// oneDNN's row-major `dnnl_sgemm`, with the calling thread's team size pinned first (to
    /// `threads` when given, else as `pinThreads()` does).
    public static func dnnlSGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int? = nil
    ) {
        pinThreads(threads)
        let status = dnnl_sgemm(
            CChar(UInt8(ascii: transA ? "T" : "N")), CChar(UInt8(ascii: transB ? "T" : "N")),
            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue) for m=\(m) n=\(n) k=\(k)")
    }
}
