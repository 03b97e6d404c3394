// Wall time per kind of layer work, for the benchmarks' per-phase profile (issue 32, part 1):
// where a U-Net forward or training step spends its time besides the convolution kernels.
// Off unless a benchmark turns it on; when off, each timed call costs one branch.
//
// Layers are called from one thread (their internal parallel loops run inside a call), so the
// totals are plain counters, read and reset by the caller between runs. A convolution's time is
// split into oneDNN's reorders between the plain NCHW tensors and its blocked layouts (timed in
// the C shim) and the rest (the convolution primitive itself).
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
    nonisolated(unsafe) private static var totals = [UInt64](repeating: 0, count: Kind.allCases.count)

    /// Whether layers time their work.
    public static var isEnabled: Bool {
        get { enabled }
        set { enabled = newValue }
    }

    /// Zeroes the totals.
    public static func reset() {
        for i in totals.indices { totals[i] = 0 }
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
        totals[Kind.reorder.rawValue] &+= reorders
        totals[Kind.convolution.rawValue] &+= total - reorders
    }

    @inline(__always) static func stop(_ kind: Kind, _ started: UInt64) {
        if enabled { totals[kind.rawValue] &+= DispatchTime.now().uptimeNanoseconds &- started }
    }
}
