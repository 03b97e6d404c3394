// Progress lines for long loops: an in-place line with percentage and ETA on a terminal, and
// plain lines (at most one every few seconds, plus the last) when stderr is a file or pipe, so
// CI logs stay readable.
import Foundation

/// Reports progress of a loop of known length on stderr.
public final class Progress {
    private let label: String
    private let total: Int
    private var done = 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive: Bool
    private let minimumInterval: TimeInterval
    private let quiet: Bool

    /// - Parameters:
    ///   - label: what is being done ("training β=1.5").
    ///   - total: the number of steps.
    ///   - quiet: print nothing (for tests).
    public init(_ label: String, total: Int, quiet: Bool = false) {
        self.label = label
        self.total = max(total, 1)
        self.quiet = quiet || ProcessInfo.processInfo.environment["REPRO_QUIET"] != nil
        self.interactive = isatty(2) == 1
        self.minimumInterval = interactive ? 0.2 : 10
    }

    /// Marks `steps` more steps done and prints if enough time has passed.
    public func advance(_ steps: Int = 1, note: @autoclosure () -> String = "") {
        done += steps
        let now = Date()
        if quiet { return }
        if done < total && now.timeIntervalSince(lastPrint) < minimumInterval { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = Double(min(done, total)) / Double(total)
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let extra = note()
        let line = String(format: "%@ %3.0f%% (%d/%d) elapsed %@ ETA %@", label, 100 * fraction, done, total,
                          Progress.clock(elapsed), Progress.clock(eta)) + (extra.isEmpty ? "" : "  " + extra)
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done >= total ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// "mm:ss" or "h:mm:ss".
    static func clock(_ t: TimeInterval) -> String {
        let s = Int(t.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

/// Prints a status line to stderr (experiments keep stdout for their summary).
public func log(_ message: String) {
    if ProcessInfo.processInfo.environment["REPRO_QUIET"] != nil { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
