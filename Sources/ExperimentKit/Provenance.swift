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
    /// The compiler that built the binary (from `#if compiler(...)` checks).
    public var swift: String
    /// `swift --version` of the toolchain on PATH when the run started (nil when none).
    public var swiftToolchainOnPath: String?
    /// Swift packages linked into the binary, at the exact versions Package.swift pins.
    public var swiftPackages: [String: String]?
    /// oneDNN's version (Float32 GEMM and convolutions).
    public var oneDNN: String?
    /// The library of Float32 GEMMs (`--gemm-backend`: automatic, openBLAS or oneDNN).
    public var float32GEMM: String?
    public var openBLAS: String
    /// The OpenBLAS kernel family in use (e.g. "Haswell"; OPENBLAS_CORETYPE sets it).
    public var openBLASCore: String?
    /// The instruction set oneDNN's JIT dispatched to (e.g. "avx2", "avx512_core_bf16"): results
    /// are byte-identical at any thread count for one ISA class, and only numerically close
    /// across classes (README, "What is safe to interrupt").
    public var oneDNNISA: String?
    /// The CPU's AVX-512 feature flags from /proc/cpuinfo, sorted ("" on an AVX2-only host).
    public var cpuAVX512: String?
    /// ONEDNN_MAX_CPU_ISA in the environment (caps oneDNN's ISA), or "default".
    public var oneDNNMaxISA: String?
    /// OpenBLAS's and oneDNN's team size outside work units (`Parallel.libraryThreads`; 1 keeps
    /// results independent of --threads).
    public var libraryThreads: Int?
    /// OPENBLAS_THREAD_TIMEOUT in the environment (how long idle BLAS threads spin), or "default".
    public var openBLASThreadTimeout: String
    /// OMP_WAIT_POLICY in the environment (whether oneDNN's idle OpenMP threads spin), or
    /// "default" (libgomp: spin a while, then sleep).
    public var ompWaitPolicy: String?
    public var hdf5: String
    public var libpng: String
    public var gnuplot: String
    public var cores: Int
    public var os: String

    /// Reads the versions now (runs `git` and `gnuplot --version`; "unknown" when unavailable).
    public static func current() -> Provenance {
        let rev = shell("git", ["rev-parse", "HEAD"]) ?? (ProcessInfo.processInfo.environment["GIT_REVISION"] ?? "unknown")
        let dirty = shell("git", ["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty }
        let toolchain = shell("swift", ["--version"]).flatMap { $0.split(separator: "\n").first.map(String.init) }
        return Provenance(
            gitRevision: rev, gitDirty: dirty, swift: PackageVersions.compiler, swiftToolchainOnPath: toolchain,
            swiftPackages: PackageVersions.pinned, oneDNN: OneDNN.version, float32GEMM: OneDNN.float32GEMMBackend.rawValue, openBLAS: BLAS.configuration,
            openBLASCore: BLAS.coreName, oneDNNISA: OneDNN.effectiveISA, cpuAVX512: cpuAVX512Flags(),
            oneDNNMaxISA: ProcessInfo.processInfo.environment["ONEDNN_MAX_CPU_ISA"] ?? "default",
            libraryThreads: Parallel.libraryThreads,
            openBLASThreadTimeout: ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "default",
            ompWaitPolicy: ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "default",
            hdf5: HDF5Library.version, libpng: PNGLibrary.version, gnuplot: Gnuplot.version() ?? "not installed",
            cores: ProcessInfo.processInfo.activeProcessorCount, os: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    /// The avx512* flags of the first processor in /proc/cpuinfo, sorted and comma-separated
    /// ("" when there are none; nil where /proc/cpuinfo cannot be read).
    static func cpuAVX512Flags() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        return Set(line.split(separator: " ").filter { $0.hasPrefix("avx512") }.map(String.init)).sorted().joined(separator: ",")
    }

    /// Runs a command found on PATH and returns its trimmed stdout, or nil on failure.
    static func shell(_ command: String, _ args: [String]) -> String? { ExternalProgram.output(of: command, args) }
}
