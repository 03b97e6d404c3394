// Where a result came from: git revision (and whether the tree had uncommitted changes), tool
// and library versions, and the machine. Recorded in every config.json.
import DataIO
import Foundation
import Reporting
import TensorCore

/// Versions and revision recorded with every run.
public struct Provenance: Codable, Sendable {
    public var gitRevision: String
    public var gitDirty: Bool?
    public var swift: String
    public var openBLAS: String
    /// OPENBLAS_THREAD_TIMEOUT in the environment (how long idle BLAS threads spin), or "default".
    public var openBLASThreadTimeout: String
    public var hdf5: String
    public var libpng: String
    public var gnuplot: String
    public var cores: Int
    public var os: String

    /// Reads the versions now (runs `git` and `gnuplot --version`; "unknown" when unavailable).
    public static func current() -> Provenance {
        let rev = shell("git", ["rev-parse", "HEAD"]) ?? (ProcessInfo.processInfo.environment["GIT_REVISION"] ?? "unknown")
        let dirty = shell("git", ["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty }
        #if compiler(>=6.3)
        let swift = "6.3 or later (compiler used to build this binary)"
        #else
        let swift = "earlier than 6.3"
        #endif
        return Provenance(
            gitRevision: rev, gitDirty: dirty, swift: swift, openBLAS: BLAS.configuration,
            openBLASThreadTimeout: ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "default",
            hdf5: HDF5Library.version, libpng: PNGLibrary.version, gnuplot: Gnuplot.version() ?? "not installed",
            cores: ProcessInfo.processInfo.activeProcessorCount, os: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    /// Runs a command and returns its trimmed stdout, or nil on failure.
    static func shell(_ command: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [command] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
