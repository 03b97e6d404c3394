// The option group every experiment executable shares (--scale, --seed, --seeds, --out,
// --threads, --render-only), and the checks on it. Experiment-specific options live in the
// experiment's own command; the shared ones are spelled identically everywhere.
import ArgumentParser
import Foundation
import TensorCore

/// The two protocol sizes: `quick` (default; minutes on 2 cores, what CI runs) and `full` (the
/// scaled-down protocol of the specs, ≤ an hour per experiment on 2 cores).
public enum Scale: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
    case quick, full
}

/// Options shared by every experiment executable.
///
/// The single-valued options are stored as lists, so that `validate()` can refuse a repeat
/// (`--seed 1 --seed 2` would otherwise run seed 2 without a word); the public properties
/// (`seed`, `threads`, …) read the one value. The numeric ones parse their value
/// unconditionally, so that `--seeds -3` reaches `validate()` and is refused as "must be at
/// least 1" instead of ArgumentParser's "Missing value" (it reads "-3" as an option).
public struct ExperimentOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("scale"), help: ArgumentHelp("Protocol size: quick (default, minutes) or full (the spec's scaled-down protocol).", valueName: "scale"))
    var scaleValues: [Scale] = []

    @Option(name: .customLong("seed"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Base random seed; seed k of a multi-seed run uses seed + k. (default: 0)", valueName: "seed"),
            transform: { try ExperimentOptions.seedValue($0) })
    var seedValues: [UInt64] = []

    @Option(name: .customLong("seeds"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Number of independent seeds, at most \(Limits.maximumSeeds) (default: the experiment's own choice for the scale).", valueName: "seeds"))
    var seedsValues: [Int] = []

    @Option(name: .customLong("out"), help: ArgumentHelp("Output folder (default: results/<scale>/<experiment-id>).", valueName: "out"))
    var outValues: [String] = []

    @Option(name: .customLong("threads"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Threads for work units, tasks and elementwise kernels; OpenBLAS and oneDNN run single-threaded, so results do not depend on it. (default: 2)", valueName: "threads"))
    var threadsValues: [Int] = []

    @Option(name: .customLong("gemm-backend"), help: ArgumentHelp("The library of every Float32 GEMM: automatic (oneDNN for products of at least 2^15 multiply-adds, OpenBLAS below), openBLAS (the path before oneDNN came in) or oneDNN. For timing comparisons (scripts/gemm-before-after.sh); a value other than automatic is part of the run's identity, so its results never mix with the default's. (default: automatic)", valueName: "library"))
    var gemmBackendValues: [String] = []

    @Flag(help: "Re-draw figures and tables from the CSV files of the complete result in the output folder; compute nothing.")
    public var renderOnly = false

    @Flag(help: "Recompute every work unit and replace a complete result of another configuration (the old one is kept under .superseded/).")
    public var force = false

    @Flag(help: "Print the work units (group/key, one per line, followed by a tab and 'done' when finished) of the run the other options describe, and compute nothing. A group that needs an earlier one is listed once that one is complete (a '# ' line says so).")
    public var listUnits = false

    @Option(name: .customLong("units"), help: ArgumentHelp("Compute only these work units into the shared units cache and exit without merging: indices in --list-units order (3, 0-7) or names (group/key), comma-separated.", valueName: "spec"))
    var unitSpecValues: [String] = []

    @Flag(help: "Merge, render and commit from the units cache; refuse, naming them, if units are missing. Computes nothing. With --force it replaces a complete result of another configuration (kept under .superseded/) and keeps the cached units.")
    public var mergeOnly = false

    public init() {}

    /// Protocol size (`--scale`; default quick).
    public var scale: Scale { scaleValues.last ?? .quick }
    /// Base random seed (`--seed`; default 0).
    public var seed: UInt64 { seedValues.last ?? 0 }
    /// Number of independent seeds (`--seeds`); nil: the experiment's default for the scale.
    public var seeds: Int? { seedsValues.last }
    /// Output folder (`--out`); nil: results/<scale>/<experiment-id>.
    public var out: String? { outValues.last }
    /// Threads for work units, tasks and elementwise kernels (`--threads`; default 2).
    public var threads: Int { threadsValues.last ?? 2 }
    /// The `--gemm-backend` text (default automatic).
    public var gemmBackend: String { gemmBackendValues.last ?? Float32GEMMBackend.automatic.rawValue }
    /// The `--units` text (nil without the option).
    public var unitSpec: String? { unitSpecValues.last }

    /// `--seed`'s value: a plain `UInt64` option would answer "-3" with only "invalid".
    static func seedValue(_ text: String) throws -> UInt64 {
        guard let v = UInt64(text) else { throw ValidationError("expected a whole number from 0 to \(UInt64.max)") }
        return v
    }

    /// The parsed `--gemm-backend` value.
    public var float32GEMMBackend: Float32GEMMBackend { Float32GEMMBackend(rawValue: gemmBackend) ?? .automatic }

    /// The parsed `--units` value (nil without the option).
    public var unitSelection: UnitSelection? { get throws { try unitSpec.map { try UnitSelection(parsing: $0) } } }

    public mutating func validate() throws {
        let single: [(option: String, values: [String])] = [
            ("--scale", scaleValues.map(\.rawValue)), ("--seed", seedValues.map(String.init)), ("--seeds", seedsValues.map(String.init)),
            ("--out", outValues), ("--threads", threadsValues.map(String.init)), ("--gemm-backend", gemmBackendValues), ("--units", unitSpecValues),
        ]
        if let repeated = single.first(where: { $0.values.count > 1 }) {
            throw ValidationError("\(repeated.option) is given \(repeated.values.count) times (\(repeated.values.joined(separator: ", "))); give it once")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard threads <= 64 else { throw ValidationError("--threads must be at most 64, got \(threads)") }
        if let s = seeds, s < 1 { throw ValidationError("--seeds must be at least 1, got \(s)") }
        if let s = seeds { try Limits.count("--seeds", s, maximum: Limits.maximumSeeds, reason: "independent seeds; the largest protocol uses 20") }
        if let o = out, o.isEmpty { throw ValidationError("--out must not be empty") }
        guard Float32GEMMBackend(rawValue: gemmBackend) != nil else {
            throw ValidationError("--gemm-backend must be \(Float32GEMMBackend.allCases.map(\.rawValue).joined(separator: ", ")), got \(gemmBackend)")
        }
        if force && renderOnly { throw ValidationError("--force and --render-only exclude each other: --render-only computes nothing") }
        let modes = [("--render-only", renderOnly), ("--list-units", listUnits), ("--units", unitSpec != nil), ("--merge-only", mergeOnly)].filter(\.1).map(\.0)
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: " and ")) exclude each other: give one of them") }
        if force && (listUnits || unitSpec != nil) {
            throw ValidationError("--force cannot be combined with \(listUnits ? "--list-units" : "--units"): it would discard units other tasks are writing; delete the run's units cache (results/<scale>/.<id>.units/) to recompute them")
        }
        do { _ = try unitSelection } catch { throw ValidationError("\(error)") }
    }

    /// The number of seeds: `--seeds` if given, else the experiment's default for the scale.
    public func seedCount(quick: Int, full: Int) -> Int { seeds ?? (scale == .quick ? quick : full) }

    /// The number of seeds: `--seeds` if given, else `defaults` for the scale.
    public func seedCount(_ defaults: SeedDefaults) -> Int { seedCount(quick: defaults.quick, full: defaults.full) }

    /// The output folder for `experimentID`: results/<scale>/<id> unless `--out` names one.
    /// The result folder, with symbolic links resolved (issue 26): two spellings of one folder
    /// (a symlinked --out) then share one lock, one staging folder and one units cache.
    public func outputURL(for experimentID: String) -> URL {
        let url = URL(fileURLWithPath: out ?? "results/\(scale.rawValue)/\(experimentID)").standardizedFileURL
        // Resolve links in the existing part of the path (the folder itself may not exist yet).
        let resolvedParent = url.deletingLastPathComponent().resolvingSymlinksInPath()
        let leaf = resolvedParent.appendingPathComponent(url.lastPathComponent)
        return leaf.resolvingSymlinksInPath()
    }
}

/// Shared argument checks with messages that name the option and the accepted range.
public enum Validate {
    /// GND shape β must exceed 1/2 (the DSM target has infinite variance otherwise; heavy-tailed
    /// spec §1.4). β < 1 is allowed with a warning.
    public static func beta(_ beta: Double, option: String = "--beta") throws {
        guard beta.isFinite, beta > 0.5 else {
            throw ValidationError("\(option) must be > 0.5 (the GND-DSM target has infinite variance for β ≤ 0.5), got \(beta)")
        }
        if beta < 1 {
            FileHandle.standardError.write(Data("warning: \(option) = \(beta) < 1: the DSM target |ε|^(β−1) is singular at ε = 0\n".utf8))
        }
    }

    /// Noise levels must be positive and finite.
    public static func sigma(_ sigma: Double, option: String = "--sigma") throws {
        guard sigma.isFinite, sigma > 0 else { throw ValidationError("\(option) must be a positive number, got \(sigma)") }
    }

    /// A training length: at least 1, at most `Limits.maximumSteps`.
    public static func trainSteps(_ steps: Int?, option: String = "--train-steps") throws {
        guard let s = steps else { return }
        guard s >= 1 else { throw ValidationError("\(option) must be at least 1, got \(s)") }
        try Limits.count(option, s, maximum: Limits.maximumSteps, reason: "training steps")
    }

    /// Langevin steps per noise level: at least `minimum`, at most 100,000.
    public static func langevinSteps(_ steps: Int?, minimum: Int = 1, option: String = "--langevin-steps") throws {
        guard let v = steps else { return }
        guard v >= minimum else { throw ValidationError("\(option) must be at least \(minimum), got \(v)") }
        try Limits.count(option, v, maximum: 100_000, reason: "Langevin steps per level")
    }

    /// Image samples scored with PRDC (k = 5 neighbours, so at least 6), within memory given
    /// `bytesPerSample` (samples in Float and Double, and distances to `trainingImages` images).
    public static func prdcSamples(_ samples: Int?, imagePixels: Int, trainingImages: Int, option: String = "--samples") throws {
        guard let s = samples else { return }
        guard s >= 6 else { throw ValidationError("\(option) must be at least 6 (PRDC uses k = 5 neighbours), got \(s)") }
        try Limits.memory(option, s, bytesPerUnit: Double(imagePixels * 4 * 4 + 8 * trainingImages),
                          estimate: "samples in Float and Double, and distances to the training set")
    }

    /// The U-Net's base channels C: a multiple of 8 (GroupNorm's 8 groups) in 8…256.
    public static func baseChannels(_ channels: Int?, option: String = "--base-channels") throws {
        if let v = channels, !(v >= 8 && v % 8 == 0 && v <= 256) { throw ValidationError("\(option) must be a multiple of 8 in 8...256, got \(v)") }
    }

    /// A list option names each value once: a repeated value would be a second work unit (or
    /// table row) of the same key. `--dimensions 64 64` gives "--dimensions has 64 twice; give
    /// each value once".
    public static func distinct<T: Hashable>(_ values: [T], option: String) throws {
        var seen = Set<T>()
        guard let repeated = values.first(where: { !seen.insert($0).inserted }) else { return }
        let count = values.filter { $0 == repeated }.count
        throw ValidationError("\(option) has \(ScaleHelp.describe(repeated)) \(count == 2 ? "twice" : "\(count) times"); give each value once")
    }

    /// A path option, when given, must not be empty.
    public static func nonEmpty(_ path: String?, option: String) throws {
        if let p = path, p.isEmpty { throw ValidationError("\(option) must not be empty") }
    }

    /// Names one of the data sets `make data` builds.
    public static func dataset(_ name: String, option: String = "--dataset") throws {
        guard DatasetName(rawValue: name) != nil else {
            throw ValidationError("\(option): unknown data set '\(name)'; expected one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }
}

/// The data sets the artifact ships converters for (see `make data`).
public enum DatasetName: String, CaseIterable, Sendable, Codable, ExpressibleByArgument {
    case fashionMNIST = "fashion-mnist"
    case digits8x8 = "digits8x8"

    /// The HDF5 file `make data` writes for this data set.
    public var path: String { "data/\(rawValue).h5" }
}

/// Element type of an experiment's networks; data, ground truth and metrics stay Float64.
public enum NetworkPrecision: String, CaseIterable, Sendable, Codable, ExpressibleByArgument {
    case float32, float64
    /// "Float32" or "Float64", for captions and notes.
    public var label: String { self == .float32 ? "Float32" : "Float64" }
}

/// Upper bounds of the size options, so that a typo (`--samples 100000000000`) gets a one-line
/// message with the estimate instead of a 40 GB allocation and a crash dump.
public enum Limits {
    /// The share of physical memory one run may plan to use.
    public static let memoryShare = 0.5

    /// Throws unless `value` of `option` fits in `memoryShare` of this machine's memory, given
    /// that it needs about `bytesPerUnit` bytes per unit of `value` (the estimate is named in the
    /// message, with the largest value that fits).
    public static func memory(_ option: String, _ value: Int, bytesPerUnit: Double, estimate: String) throws {
        let physical = Double(ProcessInfo.processInfo.physicalMemory)
        let budget = physical * memoryShare
        let needed = Double(value) * bytesPerUnit
        guard needed <= budget else {
            let largest = Int(budget / bytesPerUnit)
            throw ValidationError("\(option) \(value) needs about \(bytes(needed)) of memory (\(estimate)); this machine has \(bytes(physical)) and a run may plan on \(Int(memoryShare * 100)) % of it: use at most \(largest)")
        }
    }

    /// Throws unless `value` of `option` is at most `maximum` (`reason` says why).
    public static func count(_ option: String, _ value: Int, maximum: Int, reason: String) throws {
        guard value <= maximum else { throw ValidationError("\(option) must be at most \(maximum) (\(reason)), got \(value)") }
    }

    /// An upper bound on training and sampling step counts: far beyond every protocol here
    /// (the largest uses 10⁴), and small enough that counters and step-size schedules stay exact.
    public static let maximumSteps = 10_000_000

    /// An upper bound on `--seeds`: far beyond every protocol here (the largest uses 20), and
    /// small enough that the per-seed work units and their listing stay small.
    public static let maximumSeeds = 1_000

    static func bytes(_ b: Double) -> String {
        b >= 1e9 ? String(format: "%.1f GB", b / 1e9) : String(format: "%.0f MB", b / 1e6)
    }
}

/// An experiment's default seed counts per scale, stated once for the run and for `--help`.
public struct SeedDefaults: Sendable {
    public let quick: Int
    public let full: Int
    public init(quick: Int, full: Int) { self.quick = quick; self.full = full }
    /// The sentence `--help` shows under the command's overview.
    public var help: String { "Seeds (--seeds): quick \(quick), full \(full). Seed k of a run uses --seed + k." }
}

/// Help text for an option that overrides a scale default: the sentence, then both scales'
/// values, so `--help` says what an omitted option means at each scale (issue 19), e.g.
/// "Override the training steps per model. (quick: 800, full: 2000)".
public enum ScaleHelp {
    /// `text` followed by "(quick: …, full: …)".
    public static func override(_ text: String, quick: String, full: String) -> ArgumentHelp {
        ArgumentHelp("\(text) (quick: \(quick), full: \(full))")
    }

    /// `text` followed by both scales' values of one setting.
    public static func override<T>(_ text: String, quick: T, full: T) -> ArgumentHelp {
        override(text, quick: describe(quick), full: describe(full))
    }

    /// A setting as `--help` prints it: numbers in their shortest form, lists space-separated,
    /// nil as "none".
    public static func describe<T>(_ value: T) -> String {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return "none" }
            return describe(wrapped)
        }
        switch value {
        case let v as Double: return CSVCell.number(v).text
        case let v as [Int]: return v.map(String.init).joined(separator: " ")
        case let v as [Double]: return v.map { CSVCell.number($0).text }.joined(separator: " ")
        case let v as [String]: return v.joined(separator: " ")
        default: return String(describing: value)
        }
    }
}
