// Independent tasks spread over threads with dynamic scheduling (a shared counter), results
// returned in task order. Each task must draw its randomness from its own stream (e.g.
// `Xoshiro256(seed:stream:)` or a seed derived from the task index), so the results do not
// depend on the thread count or on which thread ran which task.
import Foundation
import TensorCore

/// Runs `body(0..<count)` on up to `threads` threads and returns the results in index order.
/// Each task runs inside `Parallel.inline`, so its elementwise kernels stay on its own thread.
/// The first error thrown by any task is rethrown after all tasks have stopped.
/// - Parameter progress: called once per finished task (serialised), e.g. `Progress.advance`.
public func parallelMap<T>(_ count: Int, threads: Int, progress: (() -> Void)? = nil,
                           _ body: (Int) throws -> T) throws -> [T] {
    var results = [T?](repeating: nil, count: count)
    var firstError: Error?
    let lock = NSLock()
    var next = 0
    results.withUnsafeMutableBufferPointer { out in
        let base = out.baseAddress!
        let nice = Parallel.niceness
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
            Parallel.adoptNiceness(nice)  // pool threads start at 0; keep a nice'd run nice'd
            while true {
                lock.lock()
                let i = next
                next += 1
                let stop = firstError != nil
                lock.unlock()
                if i >= count || stop { return }
                do {
                    let r = try Parallel.inline { try body(i) }
                    base[i] = r  // each index is written by exactly one task
                } catch {
                    lock.lock()
                    if firstError == nil { firstError = error }
                    lock.unlock()
                }
                lock.lock()
                progress?()
                lock.unlock()
            }
        }
    }
    if let e = firstError { throw e }
    return results.map { $0! }
}
