// Splitting elementwise work across cores. The machine has 2 cores; OpenBLAS uses them inside
// GEMM, and the elementwise kernels between GEMMs (activations, Adam, losses) use the same count
// so they do not become the serial bottleneck. Below `minimumChunk` elements per thread the
// dispatch overhead (a few µs) outweighs the gain, so work runs inline.
import CSystemShims
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thread-specific marker of code that runs inside an outer parallel loop (see `Parallel.inline`).
private let inlineKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Process-wide parallelism settings.
///
/// Results must not depend on the thread count (issue 26). Two kinds of parallel work are
/// therefore kept apart:
///  * `threads` spreads *independent* pieces of work over cores: work units and tasks
///    (ExperimentKit's `parallelMap`), elementwise kernels (`forEachChunk`, whose bodies touch
///    only their own range) and reductions cut into a fixed number of pieces that does not depend
///    on `threads` (`fixedChunkCount`). Who computes a piece changes with `threads`; the piece,
///    and so every bit of the result, does not.
///  * `libraryThreads` is the team size of OpenBLAS and oneDNN calls made outside `inline`. Both
///    libraries cut a GEMM, a convolution or a LAPACK call into pieces by their team size, so
///    their sums change in the last bits with it (measured on an AVX-512 host: a Float64 GEMM
///    under the exact HT-E4 minimiser differed at 2 and at 1 OpenBLAS thread). It is 1 unless a
///    caller asks for more; only the benchmarks do, to measure a library's own threading.
public enum Parallel {
    nonisolated(unsafe) private static var _threads = 1
    nonisolated(unsafe) private static var _libraryThreads = 1

    /// Threads used by `forEachChunk`, fixed-chunk reductions and task-parallel loops; set by
    /// `Parallel.configure(threads:)`.
    public static var threads: Int { _threads }

    /// The team size of OpenBLAS and oneDNN calls made outside `inline` (1 unless `configure`
    /// was given more; calls inside `inline` always use 1).
    public static var libraryThreads: Int { _libraryThreads }

    /// Sets the thread count of the elementwise kernels and task-parallel loops, and the team size
    /// of OpenBLAS and oneDNN (this thread's OpenMP team; other threads are pinned at each oneDNN
    /// call).
    /// - Parameter libraryThreads: OpenBLAS's and oneDNN's team size (default 1, which keeps
    ///   every result independent of `threads`). A larger team is faster for one big GEMM but
    ///   changes results in the last bits between team sizes: benchmarks only.
    public static func configure(threads: Int, libraryThreads: Int = 1) {
        precondition(threads >= 1, "thread count must be at least 1, got \(threads)")
        precondition(libraryThreads >= 1, "library thread count must be at least 1, got \(libraryThreads)")
        _threads = threads
        _libraryThreads = libraryThreads
        BLAS.setThreads(libraryThreads)
        OneDNN.pinThreads()
    }

    /// The number of pieces a reduction over `count` elements is cut into: one per
    /// `minimumChunk` elements, at most `maximumChunks`, never depending on `threads`. The pieces'
    /// partial sums, added in index order, then give the same bits at any thread count.
    public static func fixedChunkCount(_ count: Int, minimumChunk: Int = Parallel.minimumChunk, maximumChunks: Int = 8) -> Int {
        Swift.max(1, Swift.min(maximumChunks, count / Swift.max(minimumChunk, 1)))
    }

    /// Calls `body(i)` for every piece i in 0..<pieces, on up to `threads` threads (on the
    /// calling thread inside `inline` or when `threads` is 1). The pieces are the caller's, so
    /// what each computes does not depend on the thread count.
    public static func forEachPiece(_ pieces: Int, _ body: (Int) -> Void) {
        forEachPiece(pieces, workers: workerCount(pieces: pieces)) { _, i in body(i) }
    }

    /// How many workers `forEachPiece` uses for `pieces` pieces: min(threads, pieces), or 1 inside
    /// `inline`.
    public static func workerCount(pieces: Int) -> Int {
        isInline ? 1 : Swift.max(1, Swift.min(_threads, pieces))
    }

    /// Calls `body(worker, i)` for every piece i in 0..<pieces on `workers` threads (worker 0 is
    /// the calling thread when `workers` is 1), so a caller can give each worker state of its
    /// own (e.g. a network replica). Workers take the next piece as they finish one (issue 32):
    /// under a competing process a worker whose core is shared takes fewer pieces instead of
    /// holding the others at a barrier. Which worker computes a piece therefore varies from run
    /// to run; the piece, and so its result, does not.
    /// - Parameter workers: at most `workerCount(pieces:)`'s answer.
    public static func forEachPiece(_ pieces: Int, workers: Int, _ body: (_ worker: Int, _ piece: Int) -> Void) {
        precondition(workers >= 1, "forEachPiece: \(workers) workers")
        if pieces <= 1 || workers <= 1 {
            for i in 0..<pieces { body(0, i) }
            return
        }
        let nice = niceness
        var next = 0
        withUnsafeMutablePointer(to: &next) { counter in
            DispatchQueue.concurrentPerform(iterations: Swift.min(workers, pieces)) { w in
                adoptNiceness(nice)
                while true {
                    let i = shim_atomic_next(counter)
                    if i >= pieces { break }
                    body(w, i)
                }
            }
        }
    }

    /// True on a thread inside `inline`: `forEachChunk` then runs its body on that thread.
    public static var isInline: Bool { pthread_getspecific(inlineKey) != nil }

    /// Runs `body` with this thread's elementwise kernels kept on the thread: used by outer
    /// task-parallel loops (ExperimentKit's `parallelMap`) so that tasks do not nest a second level
    /// of threads, and so that their results do not depend on the process-wide thread count.
    public static func inline<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(inlineKey)
        pthread_setspecific(inlineKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(inlineKey, previous) }
        return try body()
    }

    /// The scheduling niceness of the calling thread (Linux keeps one per thread).
    public static var niceness: Int32 { shim_thread_niceness() }

    /// Gives the calling (worker) thread `value` as its niceness. libdispatch's pool threads start
    /// at niceness 0 whatever the process's, so without this a run started with `nice -n 10`
    /// would still compete at full priority on every thread but its first; the threads that
    /// oneDNN's and OpenBLAS's OpenMP runtimes create from a worker inherit the worker's value.
    public static func adoptNiceness(_ value: Int32) {
        if shim_thread_niceness() != value { _ = shim_set_thread_niceness(value) }
    }

    /// Default work per thread below which a loop runs on the calling thread.
    public static let minimumChunk = 32_768

    /// Calls `body` on contiguous sub-ranges that together cover `0..<count`, concurrently when
    /// `threads > 1` and the work is large enough. Ranges are aligned to multiples of 64
    /// elements. `body` must only touch its own range.
    public static func forEachChunk(
        count: Int, minimumChunk: Int = Parallel.minimumChunk, _ body: (Range<Int>) -> Void
    ) {
        let t = Swift.min(_threads, Swift.max(1, count / Swift.max(minimumChunk, 1)))
        if t <= 1 || isInline {
            body(0..<count)
            return
        }
        let per = ((count + t - 1) / t + 63) / 64 * 64
        let nice = niceness
        DispatchQueue.concurrentPerform(iterations: t) { i in
            adoptNiceness(nice)
            let lo = Swift.min(i * per, count)
            let hi = Swift.min(lo + per, count)
            if lo < hi { body(lo..<hi) }
        }
    }
}
