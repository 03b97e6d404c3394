// Running a subset of a run's work units in one process, so that a cluster can spread them over
// many (scripts/slurm-submit.sh): `--list-units` prints the units, `--units SPEC` computes some of
// them into the shared units cache and exits, `--merge-only` merges, renders and commits once
// every unit is there.
//
// The unit list comes from the experiment's own `compute`, run as a dry run: `RunDirectory.units`
// records the keys of each group and, instead of running bodies, loads the group from the cache
// when all of it is there (so that the next group, which may depend on it, can be planned) or
// stops the dry run there. A group that follows an unfinished group is therefore listed only once
// the earlier group is complete: it is a later *stage*. Indices count units in listing order
// across groups, so an index keeps its meaning when a later stage becomes visible.
import DataIO
import Foundation

/// How `RunDirectory.units` treats the units of a run.
public enum UnitMode: Sendable {
    /// Compute what the cache lacks, load the rest (a plain run).
    case all
    /// Record the unit names; load complete groups, stop at the first incomplete one. Runs no body.
    case plan
    /// Compute the selected units that the cache lacks; stop at the first incomplete group.
    case only(UnitSelection)
    /// Every unit must be in the cache (`--merge-only`); a missing one is an error naming it.
    case cachedOnly
}

/// Which units `--units` selects: 0-based indices in `--list-units` order (single or ranges
/// "0-3") and names ("group/key"), separated by commas.
public struct UnitSelection: Sendable, Equatable {
    public var indices: [ClosedRange<Int>] = []
    public var names: [String] = []

    /// Parses `spec`; the error names the option and what was expected.
    public init(parsing spec: String, option: String = "--units") throws {
        let tokens = spec.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for token in tokens {
            guard !token.isEmpty else {
                throw UnitSelectionError("\(option) '\(spec)': empty item; expected comma-separated indices (3, 0-7) or unit names (group/key)")
            }
            if token.allSatisfy(\.isNumber) {
                guard let i = Int(token) else { throw UnitSelectionError("\(option): index '\(token)' is too large") }
                indices.append(i...i)
            } else if let dash = token.firstIndex(of: "-"), token[..<dash].allSatisfy(\.isNumber), token[token.index(after: dash)...].allSatisfy(\.isNumber),
                      let lo = Int(token[..<dash]), let hi = Int(token[token.index(after: dash)...]) {
                guard lo <= hi else { throw UnitSelectionError("\(option): range '\(token)' is empty; expected LOW-HIGH with LOW ≤ HIGH") }
                indices.append(lo...hi)
            } else if token.contains("/") {
                names.append(token)
            } else {
                throw UnitSelectionError("\(option): '\(token)' is neither an index (3), a range (0-7) nor a unit name (group/key, as --list-units prints)")
            }
        }
    }

    /// Whether unit `index` (listing order) named `name` is selected.
    public func contains(index: Int, name: String) -> Bool {
        indices.contains { $0.contains(index) } || names.contains(name)
    }

    /// Whether some item may select a unit after `units` (an index beyond them, or a name that
    /// is not among them).
    func extends(beyond units: [String]) -> Bool {
        indices.contains { $0.upperBound >= units.count } || names.contains { !units.contains($0) }
    }

    /// The items that select none of `units` (names in listing order), described for a message.
    func unmatched(by units: [String]) -> [String] {
        var out: [String] = []
        for r in indices where !units.indices.contains(where: { r.contains($0) }) {
            out.append(r.lowerBound == r.upperBound ? "index \(r.lowerBound)" : "range \(r.lowerBound)-\(r.upperBound)")
        }
        for n in names where !units.contains(n) { out.append("'\(n)'") }
        return out
    }
}

/// A malformed `--units` value.
public struct UnitSelectionError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// Why a partial run stopped, or what a merge lacks.
public enum WorkUnitError: Error, CustomStringConvertible {
    case missingUnits(experiment: String, missing: [String], total: Int)
    case unmatched(items: [String], listed: Int, stoppedAt: String?)
    /// A cached unit file differs from what its stamp recorded (edited, or swapped with another).
    case unitChanged(path: String, reason: String)
    /// A data file changed between the computation of a cached unit and now.
    case dataChanged(unit: String, path: String, then: String, now: String)

    public var description: String {
        switch self {
        case .missingUnits(_, let missing, let total):
            // No experiment prefix: Experiment.run() puts "error: <id>: " before every message.
            let shown = missing.prefix(8).joined(separator: ", ") + (missing.count > 8 ? ", …" : "")
            return "--merge-only: \(missing.count) of \(total) work units are missing: \(shown); compute them with --units (scripts/slurm-submit.sh resubmits only these)"
        case .unitChanged(let path, let reason):
            return "\(path): \(reason); the units cache was changed after the unit was computed: delete the file to recompute it, or rerun with --force"
        case .dataChanged(let unit, let path, let then, let now):
            return "\(path) changed since the cached unit \(unit) was computed (SHA-256 \(then.prefix(12))… then, \(now.prefix(12))… now): resuming would mix data sets; restore the file or rerun with --force to recompute every unit"
        case .unmatched(let items, let listed, let stoppedAt):
            let later = stoppedAt.map { "; units after group '\($0)' are listed once it is complete" } ?? ""
            return "--units: \(items.joined(separator: ", ")) selects no unit: the run lists \(listed) units (0…\(max(0, listed - 1)), see --list-units)\(later)"
        }
    }
}

/// Thrown by `RunDirectory.units` to end a dry run or a partial run at a group boundary.
struct UnitStop: Error {
    /// The group that is not complete yet (nil: the selected units are done).
    var incompleteGroup: String?
}

/// What a `--list-units` or `--units` pass found and did.
struct UnitPass {
    /// The units of every group the pass reached, in listing order.
    var names: [String]
    /// The first group with missing units, where the pass stopped (nil: it went to the end
    /// or the selection was done).
    var stoppedAt: String?
    var computed: [String] = []
    var alreadyDone = 0
    /// Units of `names` that are finished (in the units cache or the complete folder).
    var done: Set<String> = []
}

/// Written beside each computed unit as <key>.timing.json: how long the unit took, where.
public struct UnitTiming: Codable, Sendable, Equatable {
    public var seconds: Double
    public var threads: Int
    public var host: String
    public var finishedAt: String

    public static func fileName(forKey key: String) -> String { "\(key).timing.json" }
}

/// What a work unit's result was computed from (issue 26, defects 5 and 7), written beside it as
/// `<key>.stamp.json`: its name, the SHA-256 of its JSON file, and the data files the process had
/// read when it was computed. A cached unit is used only when its file still has that digest and
/// no data file it saw has changed since; a unit without a stamp (written before stamps existed,
/// or killed between the two writes) is used as it is.
public struct UnitStamp: Codable, Sendable, Equatable {
    public var unit: String
    public var sha256: String
    /// Data file path → SHA-256 at the unit's computation.
    public var dataFiles: [String: String]

    public static func fileName(forKey key: String) -> String { "\(key).stamp.json" }

    /// Stamps the unit file `file` (named `unit`) with the data files read so far.
    static func write(unit: String, file: URL, to stamp: URL) throws {
        let files = Dictionary(DataFileLog.shared.entries.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        try JSONFile.write(UnitStamp(unit: unit, sha256: try Digest.sha256(file: file), dataFiles: files), to: stamp)
    }

    /// Checks the unit file `file` against its stamp (when there is one) and the data files
    /// read so far against the stamp's.
    static func verify(unit: String, file: URL, stamp url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        guard let stamp = try? JSONFile.read(UnitStamp.self, from: url) else {
            throw WorkUnitError.unitChanged(path: url.path, reason: "its stamp cannot be read")
        }
        guard stamp.unit == unit else {
            throw WorkUnitError.unitChanged(path: file.path, reason: "it is stamped as unit \(stamp.unit), not \(unit) (files swapped?)")
        }
        let digest = try Digest.sha256(file: file)
        guard digest == stamp.sha256 else {
            throw WorkUnitError.unitChanged(path: file.path, reason: "its SHA-256 is \(digest.prefix(12))…, the stamp says \(stamp.sha256.prefix(12))…")
        }
        for entry in DataFileLog.shared.entries {
            if let then = stamp.dataFiles[entry.path], then != entry.sha256 {
                throw WorkUnitError.dataChanged(unit: unit, path: entry.path, then: then, now: entry.sha256)
            }
        }
    }
}
