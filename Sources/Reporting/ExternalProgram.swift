// Running an outside program (gnuplot, git, swift, dpkg-query): one helper for the three places
// that did it (issue 30). Both pipes are drained at once: reading stdout to its end before
// stderr deadlocks as soon as a program writes more than a pipe buffer (64 KiB) of warnings.
import Dispatch
import Foundation

public enum ExternalProgram {
    /// What a finished program left.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The full path of `name` on PATH, or nil.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` (a path) with `arguments` in `directory` and waits for it; stdout and
    /// stderr are read concurrently. Throws only when the program cannot be started.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let d = directory { p.currentDirectoryURL = d }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let box = ErrorBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            box.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: box.data, as: UTF8.self))
    }

    /// Runs `command` found on PATH and returns its trimmed stdout, or nil when it cannot be
    /// started or exits non-zero.
    public static func output(of command: String, _ arguments: [String]) -> String? {
        guard let path = find(command), let result = try? run(path, arguments), result.status == 0 else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private final class ErrorBox: @unchecked Sendable { var data = Data() }
}
