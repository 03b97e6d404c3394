// The folder one experiment run writes into. During a run (see `Experiment.execute`) this is the
// staging folder of results/<scale>/<id>/, swapped in whole when merge and render have finished
// (ResultStore.swift); its content is:
//
//   config.json      every setting, seed(s), scale, git revision, tool versions, data files, wall time
//   *.csv            every number that appears in a figure or a table
//   COLUMNS.md       the column dictionary: each CSV's purpose, columns, units and meanings
//   claims.json      verdicts for the claims this experiment tests (computed, never typed)
//   figures/*.{gp,png,pdf}   gnuplot scripts and their renderings
//   tables/*.{md,tex}        tables rendered from the CSVs
//   images/*.png     image grids (libpng)
//   units/           the work units the CSVs were merged from
//   complete.json    the completion record (written last)
//
// Every file is written atomically (temporary file in the same folder, then rename).
import DataIO
import Foundation
import Reporting
import TensorCore

/// Errors about the output folder.
public enum RunDirectoryError: Error, CustomStringConvertible {
    case notWritable(path: String, reason: String)
    case missingResult(path: String, hint: String)
    public var description: String {
        switch self {
        case .notWritable(let p, let r): return "output folder \(p) is not writable: \(r)"
        case .missingResult(let p, let h): return "\(p) not found: \(h)"
        }
    }
}

/// A value in a CSV row.
public enum CSVCell: Sendable, Codable, Equatable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case number(Double)
    case integer(Int)
    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    /// The cell as CSV text; doubles use Swift's shortest round-trip form.
    public var text: String {
        switch self {
        case .text(let s): return s
        case .number(let d): return d.isFinite ? "\(d)" : (d.isNaN ? "nan" : (d > 0 ? "inf" : "-inf"))
        case .integer(let i): return "\(i)"
        }
    }
}

/// The results folder of one experiment run.
public final class RunDirectory {
    public let experimentID: String
    public let url: URL
    public let options: ExperimentOptions
    private let started = Date()
    /// Read when the run starts, not when config.json is written: a long run must record the
    /// revision and tree state its binary was built from, even if the tree changes meanwhile.
    let provenance = Provenance.current()
    /// Where finished work units are kept until the run commits (nil: units are not cached).
    let unitsCache: URL?
    /// The units computed or loaded so far ("group/key"), in order.
    public private(set) var unitNames: [String] = []
    /// How many units were loaded from the cache instead of computed.
    public private(set) var resumedUnits = 0
    /// Trained models this run used (name → checkpoint in the model store), published under
    /// models/ (ImageSampling.swift).
    var publishedModels: [String: URL] = [:]
    let publishedModelsLock = NSLock()

    /// A folder written directly, with no staging, lock or completion record (tests and tools);
    /// experiment runs get theirs from `Experiment.execute`.
    public convenience init(experimentID: String, options: ExperimentOptions) throws {
        try self.init(experimentID: experimentID, options: options, folder: options.outputURL(for: experimentID), unitsCache: nil)
    }

    /// Creates (if needed) and checks `folder`.
    init(experimentID: String, options: ExperimentOptions, folder: URL, unitsCache: URL?) throws {
        self.experimentID = experimentID
        self.options = options
        self.url = folder
        self.unitsCache = unitsCache
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError.notWritable(path: url.path, reason: "cannot create it (\(error.localizedDescription))")
        }
        let probe = url.appendingPathComponent(".write-probe-\(ProcessInfo.processInfo.processIdentifier)")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
            throw RunDirectoryError.notWritable(path: url.path, reason: "cannot create files in it")
        }
        try? FileManager.default.removeItem(at: probe)
    }

    /// The URL of `name` inside the run folder.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    // MARK: - Work units

    /// Runs `count` independent work units on `options.threads` threads and returns their results
    /// in index order. Unit `i` is named "`group`/`key(i)`"; its result is written atomically to
    /// the units cache as JSON when it finishes (with its wall time in `<key>.timing.json`), and a
    /// unit already there (an interrupted run of the same identity, or an array task) is loaded
    /// instead of computed. Each unit must draw its randomness from its own stream, so that
    /// results do not depend on which units were resumed or which process computed them.
    /// `unitMode` (WorkUnits.swift) restricts this to planning, a selection, or loading only.
    public func units<T: Codable>(_ group: String, count: Int, key: (Int) -> String, progress: (() -> Void)? = nil,
                                  _ body: (Int) throws -> T) throws -> [T] {
        let keys = (0..<count).map(key)
        precondition(Set(keys).count == keys.count, "\(group): unit keys must be unique")
        let names = keys.map { "\(group)/\($0)" }
        let offset = unitNames.count
        unitNames += names
        let folder = unitsCache?.appendingPathComponent(group)
        let fallback = unitsFallback?.appendingPathComponent(group)
        func cached(_ i: Int) throws -> T? {
            for dir in [folder, fallback].compactMap({ $0 }) {
                let file = dir.appendingPathComponent("\(keys[i]).json")
                guard FileManager.default.fileExists(atPath: file.path), let value = try? JSONFile.read(T.self, from: file) else { continue }
                try UnitStamp.verify(unit: names[i], file: file, stamp: dir.appendingPathComponent(UnitStamp.fileName(forKey: keys[i])))
                return value
            }
            return nil
        }
        func compute(_ i: Int, into folder: URL) throws -> T {
            let start = Date()
            let value = try body(i)
            let file = folder.appendingPathComponent("\(keys[i]).json")
            try JSONFile.write(value, to: file)
            // The stamp after the unit: a kill between the two leaves an unstamped unit, which is
            // accepted as computed (as units written before stamps existed are).
            try UnitStamp.write(unit: names[i], file: file, to: folder.appendingPathComponent(UnitStamp.fileName(forKey: keys[i])))
            let timing = UnitTiming(seconds: Date().timeIntervalSince(start), threads: options.threads, host: ProcessInfo.processInfo.hostName,
                                    finishedAt: ISO8601DateFormatter().string(from: Date()))
            try? JSONFile.write(timing, to: folder.appendingPathComponent(UnitTiming.fileName(forKey: keys[i])))
            return value
        }
        /// Every unit from the cache, or nil when one is missing.
        func loadAll() throws -> [T]? {
            var out: [T] = []
            out.reserveCapacity(count)
            for i in 0..<count { guard let v = try cached(i) else { return nil }; out.append(v) }
            return out
        }

        switch unitMode {
        case .all:
            if let folder { try AtomicFile.createFolder(folder) }
            let resumed = NSLock()
            var loaded = 0
            let results = try parallelMap(count, threads: options.threads, progress: progress) { i -> T in
                guard let folder else { return try body(i) }
                if let value = try cached(i) {
                    resumed.lock(); loaded += 1; resumed.unlock()
                    return value
                }
                return try compute(i, into: folder)
            }
            resumedUnits += loaded
            if loaded > 0 { log("\(experimentID): \(group): \(loaded) of \(count) units resumed from an interrupted run") }
            return results
        case .plan:
            // "done" means readable, as the merge will need it.
            let values = try (0..<count).map(cached)
            for i in 0..<count where values[i] != nil { doneUnits.insert(names[i]) }
            if values.allSatisfy({ $0 != nil }) { return values.map { $0! } }
            throw UnitStop(incompleteGroup: group)
        case .cachedOnly:
            if let all = try loadAll() { return all }
            let missing = try (0..<count).filter { try cached($0) == nil }.map { names[$0] }
            throw WorkUnitError.missingUnits(experiment: experimentID, missing: missing, total: offset + count)
        case .only(let selection):
            guard let folder else { preconditionFailure("--units needs a units cache") }
            try AtomicFile.createFolder(folder)
            let chosen = (0..<count).filter { selection.contains(index: offset + $0, name: names[$0]) }
            let todo = try chosen.filter { try cached($0) == nil }
            _ = try parallelMap(todo.count, threads: options.threads, progress: progress) { j -> Bool in
                _ = try compute(todo[j], into: folder)
                return true
            }
            computedUnits += todo.map { names[$0] }
            alreadyDoneUnits += chosen.count - todo.count
            // Go on to later groups only while the selection names units beyond this one.
            if !selection.extends(beyond: unitNames) { throw UnitStop(incompleteGroup: nil) }
            if let all = try loadAll() { return all }
            throw UnitStop(incompleteGroup: group)
        }
    }

    /// How `units` treats units (a plain run: `.all`); set by `Experiment.execute`.
    var unitMode: UnitMode = .all
    /// A read-only second place to find finished units (the units/ of the complete run of the
    /// same identity), used by `--list-units` and `--units`.
    var unitsFallback: URL?
    /// The units a `--units` run computed, and how many selected ones were there already.
    public internal(set) var computedUnits: [String] = []
    public internal(set) var alreadyDoneUnits = 0
    /// The units a `--list-units` pass found finished.
    public internal(set) var doneUnits: Set<String> = []

    // MARK: - Writing

    /// Writes text atomically to `name` (sub-folders are created).
    public func writeText(_ text: String, to name: String) throws {
        let target = file(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data(text.utf8), to: target)
    }

    /// Writes a CSV file with a header row.
    public func writeCSV(_ name: String, header: [String], rows: [[CSVCell]]) throws {
        precondition(rows.allSatisfy { $0.count == header.count }, "\(name): every row needs \(header.count) cells")
        try CSVFile.write(header: header, rows: rows.map { $0.map(\.text) }, to: file(name))
    }

    /// Reads a CSV file written by `writeCSV`, as named numeric/text columns.
    public func readCSV(_ name: String) throws -> CSVTable {
        let target = file(name)
        guard FileManager.default.fileExists(atPath: target.path) else {
            throw RunDirectoryError.missingResult(path: target.path, hint: "run the experiment without --render-only first")
        }
        let (header, rows) = try CSVFile.read(from: target)
        return CSVTable(path: target.path, header: header, rows: rows)
    }

    /// Writes any Encodable as pretty, key-sorted JSON.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try JSONFile.write(value, to: file(name))
    }

    /// Renders `table` to tables/<name>.md and tables/<name>.tex.
    public func writeTable(_ table: Table, name: String) throws {
        try writeText(table.markdown(), to: "tables/\(name).md")
        try writeText(table.latex(), to: "tables/\(name).tex")
    }

    /// Renders `figure` to figures/<name>.{gp,png,pdf}.
    public func writeFigure(_ figure: Figure) throws {
        try Gnuplot.render(figure, in: url.appendingPathComponent("figures"))
    }

    /// Tiles `images` ([N, channels·height·width] in [0, 1]) into a grid and writes
    /// images/<name>.png with libpng: small images upscaled (nearest neighbour) to at least 56
    /// pixels on the shorter side, 4 white pixels between them (no labels; see `writeLabelledGrid`).
    public func writeImageGrid<S: TensorScalar>(_ images: Tensor<S>, height: Int, width: Int, channels: Int = 1,
                                                columns: Int? = nil, name: String) throws {
        let k = LabelledImageGrid.automaticScale(side: min(height, width))
        let grid = columns.map { ImageGrid(rows: (images.rows + $0 - 1) / $0, columns: $0, padding: 4, pixelScale: k) }
            ?? ImageGrid(fitting: images.rows, padding: 4, pixelScale: k)
        let target = file("images/\(name).png")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try grid.render(images, height: height, width: width, channels: channels).write(to: target)
    }

    /// Writes images/<name>.png and its JSON sidecar (what each row and column is, the value
    /// mapping) from `panels` ([rows·columns, channels·height·width]) laid out by `grid`.
    public func writeLabelledGrid<S: TensorScalar>(_ panels: Tensor<S>, grid: LabelledImageGrid, name: String) throws {
        try AtomicFile.createFolder(file("images"))
        try grid.write(panels, name: name, in: file("images"))
    }

    /// Writes the claim verdicts of this run to claims.json.
    public func writeClaims(_ claims: [ClaimResult]) throws {
        try writeJSON(claims, to: "claims.json")
    }

    /// Writes config.json: the experiment's own settings plus the run's provenance.
    public func writeConfig<C: Encodable>(_ config: C) throws {
        let record = RunRecord(
            experiment: experimentID, scale: options.scale.rawValue, seed: options.seed, seeds: options.seeds,
            threads: options.threads, config: config, derived: (config as? DerivedSettings)?.derivedSettings,
            provenance: provenance, dataFiles: DataFileLog.shared.entries,
            wallTimeSeconds: Date().timeIntervalSince(started), finishedAt: ISO8601DateFormatter().string(from: Date()),
            commandLine: CommandLine.arguments.joined(separator: " "))
        try writeJSON(record, to: "config.json")
    }
}

/// A CSV file read back by column name.
public struct CSVTable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]

    /// The index of column `name`, or an error naming the file and the columns it has.
    public func column(_ name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            throw CSVColumnError(path: path, column: name, available: header)
        }
        return i
    }

    /// Column `name` as numbers ("nan"/"inf" accepted).
    public func numbers(_ name: String) throws -> [Double] {
        let i = try column(name)
        return try rows.enumerated().map { (r, row) in
            guard let v = Double(row[i]) else {
                throw CSVColumnError(path: path, column: name, available: header, badValue: row[i], line: r + 2)
            }
            return v
        }
    }

    /// Column `name` as text.
    public func strings(_ name: String) throws -> [String] {
        let i = try column(name)
        return rows.map { $0[i] }
    }
}

/// A missing or malformed CSV column.
public struct CSVColumnError: Error, CustomStringConvertible {
    public var path: String
    public var column: String
    public var available: [String]
    public var badValue: String?
    public var line: Int?
    public var description: String {
        if let v = badValue, let l = line {
            return "\(path), line \(l): column '\(column)': expected a number, found '\(v)'"
        }
        return "\(path): no column '\(column)' (columns: \(available.joined(separator: ", ")))"
    }
}

/// What config.json holds.
struct RunRecord<C: Encodable>: Encodable {
    var experiment: String
    var scale: String
    var seed: UInt64
    var seeds: Int?
    var threads: Int
    var config: C
    /// Settings computed from the config (`DerivedSettings`), e.g. the EMA's initial-weight share.
    var derived: [String: Double]?
    var provenance: Provenance
    /// The data files read (path, SHA-256, bytes).
    var dataFiles: [DataFileLog.Entry]
    var wallTimeSeconds: Double
    var finishedAt: String
    var commandLine: String
}

/// The rows one work unit contributes to several CSV files (table `i` of every unit goes to the
/// same file), as a Codable unit result.
public struct UnitRows: Codable, Sendable {
    public var tables: [[[CSVCell]]]
    public init(_ tables: [[CSVCell]]...) { self.tables = tables }
    public subscript(_ i: Int) -> [[CSVCell]] { tables[i] }
}
