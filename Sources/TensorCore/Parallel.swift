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

/// Process-wide parallelism settings for elementwise kernels.
public enum Parallel {
    nonisolated(unsafe) private static var _threads = 1

    /// Threads used by `forEachChunk`; set together with BLAS by `Parallel.configure(threads:)`.
    public static var threads: Int { _threads }

    /// Sets the thread count for OpenBLAS, oneDNN (this thread's OpenMP team; other threads are
    /// pinned at each oneDNN call) and the elementwise kernels.
    public static func configure(threads: Int) {
        precondition(threads >= 1, "thread count must be at least 1, got \(threads)")
        _threads = threads
        BLAS.setThreads(threads)
        OneDNN.pinThreads()
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
