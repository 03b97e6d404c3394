// Where a run's results live and how they are committed, so that results are never lost and
// never wrong:
//
//   results/<scale>/<id>/            the last complete run (what figures, the ledger and the paper read)
//       complete.json                completion record: run identity, units, every file's SHA-256
//                                    and row count, the data files read (SHA-256)
//       config.json  *.csv  claims.json  figures/  tables/  images/  units/
//   results/<scale>/.<id>.lock       held (flock) while a run works on <id>
//   results/<scale>/.<id>.staging/   the next version being merged and rendered
//   results/<scale>/.<id>.units/<identity>/   finished work units of an unfinished run
//   results/<scale>/.superseded/<id>-<time>/  complete runs replaced with FORCE=1
//
// A run computes its work units into the units cache (each unit written atomically), then merges
// and renders into the staging folder, writes the completion record last, and swaps the staging
// folder in with one rename. An interrupted run leaves the previous complete folder untouched and
// resumes from its finished units. `--out DIR` uses the same layout around DIR.
import DataIO
import Foundation
import TensorCore

/// The paths of one experiment's results at one scale.
public struct ResultLocation: Sendable {
    /// The folder of the complete run.
    public let final: URL

    public init(final: URL) { self.final = final.standardizedFileURL }

    var parent: URL { final.deletingLastPathComponent() }
    var name: String { final.lastPathComponent }
    /// Where the next version is merged and rendered.
    public var staging: URL { parent.appendingPathComponent(".\(name).staging") }
    /// Finished units of unfinished runs, one folder per run identity.
    public var unitsRoot: URL { parent.appendingPathComponent(".\(name).units") }
    /// The lock file.
    public var lockFile: URL { parent.appendingPathComponent(".\(name).lock") }
    /// Where replaced complete runs are kept.
    public var supersededRoot: URL { parent.appendingPathComponent(".superseded") }
    /// The completion record of the complete run.
    public var record: URL { final.appendingPathComponent(CompletionRecord.fileName) }

    /// The units cache of one run identity.
    public func unitsCache(_ identity: RunIdentity) -> URL { unitsRoot.appendingPathComponent(String(identity.hash.prefix(16))) }
}

/// What makes two runs the same computation: experiment, scale, seed, seed count and every
/// setting of the experiment's config. (Threads are not part of it: results do not depend on them.)
public struct RunIdentity: Codable, Sendable, Equatable {
    public var experiment: String
    public var scale: String
    public var seed: UInt64
    public var seeds: Int?
    /// SHA-256 of the experiment config as canonical (key-sorted) JSON.
    public var configSHA256: String
    /// The Float32 GEMM library when not the default (`--gemm-backend`); nil for `automatic`, so
    /// the identities of default runs are what they were before the option existed.
    public var float32GEMM: String?
    /// SHA-256 of all of the above.
    public var hash: String

    public init<C: Encodable>(experiment: String, options: ExperimentOptions, config: C) throws {
        self.experiment = experiment
        scale = options.scale.rawValue
        seed = options.seed
        seeds = options.seeds
        configSHA256 = Digest.sha256(try JSONFile.encoder().encode(config))
        let backend = options.float32GEMMBackend
        float32GEMM = backend == .automatic ? nil : backend.rawValue
        hash = Digest.sha256("\(experiment)|\(scale)|\(seed)|\(seeds.map(String.init) ?? "default")|\(configSHA256)" + (float32GEMM.map { "|gemm=" + $0 } ?? ""))
    }
}

/// One file of a committed results folder.
public struct CommittedFile: Codable, Sendable, Equatable {
    /// Path relative to the results folder.
    public var name: String
    public var sha256: String
    public var bytes: Int
    /// Data rows (lines after the header) of a CSV file.
    public var rows: Int?
}

/// The completion record, written last into a results folder before it is swapped in. A folder
/// without one, or whose files do not match it, is not a result.
public struct CompletionRecord: Codable, Sendable {
    public static let fileName = "complete.json"
    public var format = 1
    public var identity: RunIdentity
    /// The work units the results were merged from.
    public var units: [String]
    /// Every file of the folder but this record and units/, sorted by name.
    public var files: [CommittedFile]
    /// The data files the computation read.
    public var dataFiles: [DataFileLog.Entry]
    public var gitRevision: String
    public var committedAt: String

    /// Reads the record of `location`, nil when the folder has none.
    public static func read(_ location: ResultLocation) throws -> CompletionRecord? {
        guard FileManager.default.fileExists(atPath: location.record.path) else { return nil }
        do {
            return try JSONFile.read(CompletionRecord.self, from: location.record)
        } catch {
            // Issue 26: a damaged record names the way forward instead of blocking every run.
            throw ResultStoreError.damagedRecord(path: location.record.path, reason: "\(error)")
        }
    }

    /// Lists and hashes the files of `folder` (everything but this record and units/).
    static func inventory(of folder: URL) throws -> [CommittedFile] {
        let fm = FileManager.default
        let names = ((fm.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? []).sorted()
        var files: [CommittedFile] = []
        for name in names where name != fileName && !name.hasPrefix("units/") && name != "units" {
            let url = folder.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let data = try Data(contentsOf: url)
            var rows: Int?
            if name.hasSuffix(".csv") { rows = max(0, data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } - 1) }
            files.append(CommittedFile(name: name, sha256: Digest.sha256(data), bytes: data.count, rows: rows))
        }
        return files
    }

    /// Throws unless `folder` still holds the recorded content of every data-bearing file (CSVs,
    /// config.json, claims.json): a file cut short, emptied, duplicated, edited or removed after
    /// the run is named, with what the record says.
    public func validate(folder: URL, only filter: (String) -> Bool = CompletionRecord.isDataBearing) throws {
        // Issue 26: a data file the record does not list is named before anything is drawn
        // (it used to fail only after rendering, naming the staging folder).
        let listed = Set(files.map(\.name))
        let present = ((FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? [])
            .filter { !$0.hasPrefix("units/") && filter($0) }.sorted()
        if let extra = present.first(where: { !listed.contains($0) }) {
            throw ResultStoreError.tampered(path: folder.appendingPathComponent(extra).path, reason: "not in the completion record (added after the run)")
        }
        for file in files where filter(file.name) {
            let url = folder.appendingPathComponent(file.name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ResultStoreError.tampered(path: url.path, reason: "missing (the completion record lists it)")
            }
            let data = try Data(contentsOf: url)
            guard Digest.sha256(data) != file.sha256 else { continue }
            var reason = "content differs from the completion record (SHA-256)"
            if let rows = file.rows {
                let now = max(0, data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } - 1)
                reason += now == rows ? ", same row count \(rows)" : "; it has \(now) data rows, the record says \(rows)"
            }
            throw ResultStoreError.tampered(path: url.path, reason: reason)
        }
    }

    /// CSVs, config.json and claims.json: what figures, tables and verdicts are drawn from.
    public static func isDataBearing(_ name: String) -> Bool {
        name.hasSuffix(".csv") || name == "config.json" || name == "claims.json"
    }
}

/// Why a results folder cannot be used.
public enum ResultStoreError: Error, CustomStringConvertible {
    case noCompleteResult(path: String, scale: String)
    case differentRun(path: String, found: String, requested: String)
    case tampered(path: String, reason: String)
    /// The completion record exists but cannot be read.
    case damagedRecord(path: String, reason: String)
    /// `--out` names a regular file: a run never replaces it.
    case notAFolder(path: String)
    /// `--out` names a non-empty folder that is not a complete result (no completion record).
    case notAResult(path: String, entries: Int)

    public var description: String {
        switch self {
        case .noCompleteResult(let p, let s):
            return "\(p): no complete result at scale \(s) (no \(CompletionRecord.fileName)); run the experiment without --render-only first"
        case .differentRun(let p, let found, let requested):
            return "\(p) holds a complete run of \(found), not \(requested); recompute with FORCE=1 (make) or --force (the old result is kept under .superseded/)"
        case .tampered(let p, let r):
            return "\(p): \(r); the folder was changed after its run: recompute it with FORCE=1 (make) or --force"
        case .damagedRecord(let p, let r):
            return "\(p): the completion record is damaged (\(r)); rerun with --force (FORCE=1) to recompute: the damaged folder is kept under .superseded/"
        case .notAFolder(let p):
            return "\(p) is a file, not a result folder; a run never replaces it: choose another --out or remove the file"
        case .notAResult(let p, let n):
            return "\(p) holds \(n) entr\(n == 1 ? "y" : "ies") but no \(CompletionRecord.fileName), so it is not a complete result and a run would replace it: choose another --out, or pass --force (FORCE=1) to keep its content under .superseded/ and run there"
        }
    }
}

extension RunIdentity {
    /// "seed 3, 5 seeds, config 1a2b3c4d5e6f" for messages.
    public var summary: String {
        "scale \(scale), seed \(seed), \(seeds.map { "\($0) seeds" } ?? "default seed count"), config \(configSHA256.prefix(12))" + (float32GEMM.map { ", Float32 GEMM \($0)" } ?? "")
    }
}
