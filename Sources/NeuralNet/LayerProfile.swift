// Wall time per kind of layer work, for the benchmarks' per-phase profile (issue 32, part 1):
// where a U-Net forward or training step spends its time besides the convolution kernels.
// Off unless a benchmark turns it on; when off, each timed call costs one branch.
//
// The totals are added atomically: a piece-parallel forward (UNet.forwardInference) books from
// every worker thread, so there they sum the workers' times and can exceed the wall time. The
// caller reads and resets them between runs. A convolution's time is
// split into oneDNN's reorders between the plain NCHW tensors and its blocked layouts (timed in
// the C shim) and the rest (the convolution primitive itself).
import CKernels
import Dispatch

/// Accumulated wall time per kind of layer work (see the file header).
public enum LayerProfile {
    /// The kinds of work timed.
    public enum Kind: Int, CaseIterable, Sendable {
        case convolution, reorder, groupNorm, activation, upsample, concatenate

        /// A short label for tables.
        public var label: String {
            switch self {
            case .convolution: return "convolution kernels"
            case .reorder: return "layout reorders"
            case .groupNorm: return "GroupNorm"
            case .activation: return "SiLU"
            case .upsample: return "upsample"
            case .concatenate: return "concat/split"
            }
        }
    }

    nonisolated(unsafe) private static var enabled = false
    nonisolated(unsafe) private static let totals: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: Kind.allCases.count)
        p.initialize(repeating: 0, count: Kind.allCases.count)
        return p
    }()

    /// Whether layers time their work.
    public static var isEnabled: Bool {
        get { enabled }
        set { enabled = newValue }
    }

    /// Zeroes the totals.
    public static func reset() {
        for i in 0..<Kind.allCases.count { totals[i] = 0 }
    }

    /// Nanoseconds spent in `kind` since the last `reset`.
    public static func nanoseconds(_ kind: Kind) -> UInt64 { totals[kind.rawValue] }

    @inline(__always) static func start() -> UInt64 { enabled ? DispatchTime.now().uptimeNanoseconds : 0 }

    /// Books a convolution call that began at `started`: the shim's reorder time under
    /// `.reorder`, the rest under `.convolution` (nothing when profiling is off).
    @inline(__always) static func bookConvolution(started: UInt64, reorderNanoseconds: UInt64) {
        guard enabled else { return }
        let total = DispatchTime.now().uptimeNanoseconds &- started
        let reorders = Swift.min(reorderNanoseconds, total)
        add(.reorder, reorders)
        add(.convolution, total - reorders)
    }

    @inline(__always) static func stop(_ kind: Kind, _ started: UInt64) {
        if enabled { add(kind, DispatchTime.now().uptimeNanoseconds &- started) }
    }

    @inline(__always) private static func add(_ kind: Kind, _ nanoseconds: UInt64) {
        ck_atomic_add_u64(UnsafeMutableRawPointer(totals + kind.rawValue).assumingMemoryBound(to: CUnsignedLongLong.self),
                          CUnsignedLongLong(nanoseconds))
    }
}
