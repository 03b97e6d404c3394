// The shape every experiment executable takes: `compute` writes CSVs (the expensive part),
// `render` reads them back and draws figures, tables and claim verdicts (cheap). `--render-only`
// skips `compute`, so `make figures`/`make tables` can re-draw after a plotting change without
// re-running anything.
import ArgumentParser
import DataIO
import Foundation
import TensorCore

/// An experiment executable.
public protocol Experiment: ParsableCommand {
    /// Every setting of a run, with named quick and full values.
    associatedtype Config: Codable
    /// The experiment id: executable name, make target and results folder name.
    static var experimentID: String { get }
    /// The settings of this run (scale defaults plus overrides); part of the run's identity.
    var config: Config { get }
    /// The shared options (declare with `@OptionGroup`).
    var options: ExperimentOptions { get }
    /// Runs the computation and writes CSVs (and config.json via `run.writeConfig`).
    func compute(in run: RunDirectory) throws
    /// Reads the CSVs and writes figures, tables and claims.json.
    func render(in run: RunDirectory) throws
    /// Every CSV file the experiment writes (compute and render), with its row type and purpose,
    /// in the order COLUMNS.md lists them (ColumnDictionary.swift).
    static var csvFiles: [CSVFileDoc] { get }
    /// False for an experiment whose compute calls no `RunDirectory.units`: its whole run is one
    /// unit, "run/all", for `--list-units`, `--units` and `--merge-only` (default true).
    static var computesInUnits: Bool { get }
}

extension Experiment {
    public static var computesInUnits: Bool { true }
}

extension Experiment {
    /// Runs the experiment as one all-or-nothing commit (ResultStore.swift): takes the folder's
    /// lock, computes the work units (resuming finished ones), merges and renders into the staging
    /// folder, writes the completion record and swaps the folder in. `--render-only` re-renders a
    /// complete folder after checking it is the requested run and unchanged since.
    /// Errors are reported as one clear line and a non-zero exit, never a crash dump.
    public func execute() throws {
        Parallel.configure(threads: options.threads)
        OneDNN.float32GEMMBackend = options.float32GEMMBackend
        Interrupts.install()
        DataFileLog.shared.reset()
        let location = ResultLocation(final: options.outputURL(for: Self.experimentID))
        let identity = try RunIdentity(experiment: Self.experimentID, options: options, config: config)
        if options.listUnits || options.unitSpec != nil {
            try executeUnits(location: location, identity: identity)
        } else if options.mergeOnly && !Self.computesInUnits {
            // The one unit is the whole run, committed by the task that ran it: re-render it.
            guard let record = try CompletionRecord.read(location), record.identity == identity else {
                throw WorkUnitError.missingUnits(experiment: Self.experimentID, missing: [Self.wholeRunUnit], total: 1)
            }
            try executeCommit(location: location, identity: identity, mode: .all, renderOnly: true)
        } else {
            try executeCommit(location: location, identity: identity, mode: options.mergeOnly ? .cachedOnly : .all, renderOnly: options.renderOnly)
        }
    }

    /// The name of the single unit of an experiment that does not compute in units.
    static var wholeRunUnit: String { "run/all" }

    /// `--list-units` and `--units`: prints the listing, or computes the selected units.
    func executeUnits(location: ResultLocation, identity: RunIdentity) throws {
        let pass = try unitPass(location: location, identity: identity)
        if options.listUnits {
            var text = pass.names.map { $0 + (pass.done.contains($0) ? "\tdone\n" : "\n") }.joined()
            if let g = pass.stoppedAt { text += "# units of later groups, if any, are listed once group '\(g)' is complete\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
            if pass.names.isEmpty {
                log("warning: \(Self.experimentID) computed no work units; if its compute does not call RunDirectory.units, declare `static let computesInUnits = false`")
            }
            return
        }
        guard Self.computesInUnits else { return }
        log("\(Self.experimentID): computed \(pass.computed.count) unit(s)\(pass.computed.isEmpty ? "" : " (" + pass.computed.joined(separator: ", ") + ")"), \(pass.alreadyDone) selected unit(s) were done already -> \(location.unitsCache(identity).path)")
    }

    /// A dry (`--list-units`) or partial (`--units`) run of `compute` against the units cache of
    /// this run identity, in a private scratch folder (anything compute writes before or after
    /// its units is thrown away). Takes no lock: units are written atomically, each by one task.
    func unitPass(location: ResultLocation, identity: RunIdentity) throws -> UnitPass {
        let existing = try CompletionRecord.read(location)
        let complete = existing?.identity == identity
        let selection = try options.unitSelection
        guard Self.computesInUnits else {
            guard let selection else { return UnitPass(names: [Self.wholeRunUnit], done: complete ? [Self.wholeRunUnit] : []) }
            let unmatched = selection.unmatched(by: [Self.wholeRunUnit])
            guard unmatched.isEmpty else { throw WorkUnitError.unmatched(items: unmatched, listed: 1, stoppedAt: nil) }
            if complete {
                log("\(Self.experimentID): \(Self.wholeRunUnit) is complete already (\(location.final.path))")
                return UnitPass(names: [Self.wholeRunUnit], alreadyDone: 1)
            }
            try executeCommit(location: location, identity: identity, mode: .all, renderOnly: false)
            return UnitPass(names: [Self.wholeRunUnit], computed: [Self.wholeRunUnit])
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent(".\(Self.experimentID)-units-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        defer { FolderCommit.removeIfPresent(scratch) }
        let run = try RunDirectory(experimentID: Self.experimentID, options: options, folder: scratch, unitsCache: location.unitsCache(identity))
        if complete { run.unitsFallback = location.final.appendingPathComponent("units") }
        run.unitMode = selection.map { .only($0) } ?? .plan
        var stoppedAt: String?
        do {
            try compute(in: run)
        } catch let stop as UnitStop {
            stoppedAt = stop.incompleteGroup
        }
        if let selection {
            let unmatched = selection.unmatched(by: run.unitNames)
            guard unmatched.isEmpty else { throw WorkUnitError.unmatched(items: unmatched, listed: run.unitNames.count, stoppedAt: stoppedAt) }
        }
        return UnitPass(names: run.unitNames, stoppedAt: stoppedAt, computed: run.computedUnits, alreadyDone: run.alreadyDoneUnits, done: run.doneUnits)
    }

    /// A run that commits: takes the lock, computes (or, `.cachedOnly`, loads) the units, merges
    /// and renders into the staging folder and swaps it in; or re-renders (`renderOnly`).
    func executeCommit(location: ResultLocation, identity: RunIdentity, mode: UnitMode, renderOnly: Bool) throws {
        let start = Date()
        let holder = "pid \(ProcessInfo.processInfo.processIdentifier) (\(CommandLine.arguments.joined(separator: " ")), started \(ISO8601DateFormatter().string(from: start)))"
        let lock = try FileLock(location.lockFile, holder: holder)
        defer { withExtendedLifetime(lock) {} }
        // Under the lock nothing else writes here: whatever staging or temporary files exist are
        // leftovers of an interrupted run. A staging folder that holds a completion record is a
        // whole result (the old one, left there by a kill between a forced swap and its move
        // aside, or a new one killed just before its swap): it is kept under .superseded/, never
        // deleted (issue 26, defect 4).
        if FileManager.default.fileExists(atPath: location.staging.appendingPathComponent(CompletionRecord.fileName).path) {
            let aside = Self.supersededPath(location)
            try FolderCommit.move(location.staging, to: aside)
            log("\(Self.experimentID): a whole result left in \(location.staging.path) by an interrupted commit is kept in \(aside.path)")
        }
        FolderCommit.removeIfPresent(location.staging)
        AtomicFile.removeStaleTemporaries(in: location.unitsRoot, recursive: true)
        // Checkpoint writes killed half-way leave temporaries in the model store (issue 26).
        AtomicFile.removeStaleTemporaries(in: location.parent.appendingPathComponent(".models").appendingPathComponent(Self.experimentID))
        let existing: CompletionRecord?
        do {
            existing = try CompletionRecord.read(location)
        } catch ResultStoreError.damagedRecord where options.force && !renderOnly {
            existing = nil  // recomputed; the damaged folder is kept under .superseded/ below
        }

        if renderOnly {
            guard let record = existing else {
                throw ResultStoreError.noCompleteResult(path: location.final.path, scale: options.scale.rawValue)
            }
            guard record.identity == identity else {
                throw ResultStoreError.differentRun(path: location.final.path, found: record.identity.summary, requested: identity.summary)
            }
            try record.validate(folder: location.final)
            try FolderCommit.hardLinkTree(from: location.final, to: location.staging)
            let run = try RunDirectory(experimentID: Self.experimentID, options: options, folder: location.staging, unitsCache: nil)
            try render(in: run)
            try run.writeColumnDictionary(Self.csvFiles)
            try commit(run, location: location, units: record.units, dataFiles: record.dataFiles, replaced: existing, keepOld: false)
            log(String(format: "%@: re-rendered %@ in %.1f s", Self.experimentID, location.final.path, Date().timeIntervalSince(start)))
            return
        }

        if let record = existing, record.identity != identity, !options.force {
            throw ResultStoreError.differentRun(path: location.final.path, found: record.identity.summary, requested: identity.summary)
        }
        // Issue 26 (defect 1): a run never deletes what it did not create. A file at the output
        // path is refused; a non-empty folder without a completion record (someone's folder, or
        // a result whose complete.json was lost) is refused unless --force, which keeps it under
        // .superseded/ like any replaced result.
        let foreign = try Self.foreignContent(at: location.final)
        if existing == nil, let entries = foreign, !options.force {
            throw ResultStoreError.notAResult(path: location.final.path, entries: entries)
        }
        let cache = location.unitsCache(identity)
        if options.force && !options.mergeOnly {
            FolderCommit.removeIfPresent(cache)
        } else if let record = existing, record.identity == identity,
                  FileManager.default.fileExists(atPath: location.final.appendingPathComponent("units").path) {
            // The same run is complete already: its units are reused, only merge and render (and
            // any unit group added since) run. A partial cache of the same identity left beside it
            // (an interrupted earlier attempt) is completed from the committed units, not recomputed.
            try FolderCommit.hardLinkTree(from: location.final.appendingPathComponent("units"), to: cache, skipExisting: true)
        }
        try AtomicFile.createFolder(location.staging)
        let run = try RunDirectory(experimentID: Self.experimentID, options: options, folder: location.staging, unitsCache: cache)
        run.unitMode = mode
        log("\(Self.experimentID): \(options.mergeOnly ? "merging" : "computing") at scale \(options.scale.rawValue), seed \(options.seed), \(options.threads) thread(s) -> \(location.final.path)")
        try compute(in: run)
        try render(in: run)
        // COLUMNS.md (issue 19): after render, so it covers the renderer's CSVs too, and before
        // the completion record, which inventories it; it is committed with the folder.
        try run.writeColumnDictionary(Self.csvFiles)
        // The units are linked into the result, not moved, and the cache is removed only after
        // the commit: a kill in between leaves every finished unit where the next run finds it
        // (issue 26, defect 3).
        let hasCache = FileManager.default.fileExists(atPath: cache.path)
        if hasCache { try FolderCommit.hardLinkTree(from: cache, to: location.staging.appendingPathComponent("units")) }
        try commit(run, location: location, units: run.unitNames, dataFiles: DataFileLog.shared.entries, replaced: existing,
                   keepOld: options.force || (existing == nil && foreign != nil))
        if hasCache {
            FolderCommit.removeIfPresent(cache)
            _ = rmdir(location.unitsRoot.path)  // removes the folder only when no other run identity has units there
        }
        log(String(format: "%@: done in %.1f s -> %@", Self.experimentID, Date().timeIntervalSince(start), location.final.path))
    }

    /// A new path under .superseded/ for a replaced result of `location`.
    static func supersededPath(_ location: ResultLocation) -> URL {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        var aside = location.supersededRoot.appendingPathComponent("\(location.name)-\(stamp)")
        var k = 1
        while FileManager.default.fileExists(atPath: aside.path) {
            k += 1
            aside = location.supersededRoot.appendingPathComponent("\(location.name)-\(stamp)-\(k)")
        }
        return aside
    }

    /// The number of entries at `url` when it is a non-empty folder (nil when it does not exist
    /// or is empty); throws when it is a file (a run never replaces a file).
    static func foreignContent(at url: URL) throws -> Int? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { throw ResultStoreError.notAFolder(path: url.path) }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return entries.isEmpty ? nil : entries.count
    }

    /// Writes the completion record into the staging folder and swaps it in. The replaced folder
    /// is kept under .superseded/ when `keepOld` (a forced recomputation), removed otherwise.
    func commit(_ run: RunDirectory, location: ResultLocation, units: [String], dataFiles: [DataFileLog.Entry],
                replaced: CompletionRecord?, keepOld: Bool) throws {
        let record = CompletionRecord(
            identity: try RunIdentity(experiment: Self.experimentID, options: options, config: config), units: units,
            files: try CompletionRecord.inventory(of: run.url), dataFiles: dataFiles,
            gitRevision: run.provenance.gitRevision, committedAt: ISO8601DateFormatter().string(from: Date()))
        // Where a replaced result will be kept must exist before anything is swapped in: a file
        // named .superseded then stops the run with the old result still in place (defect 4).
        if keepOld && FileManager.default.fileExists(atPath: location.final.path) {
            try AtomicFile.createFolder(location.supersededRoot)
        }
        try JSONFile.write(record, to: run.url.appendingPathComponent(CompletionRecord.fileName))
        try FaultInjection.check(.beforeSwap, at: location.final)
        let exchanged = try FolderCommit.install(location.staging, at: location.final)
        guard exchanged else { return }
        // The previous folder is now at the staging path.
        try FaultInjection.check(.afterSwap, at: location.final)
        if keepOld {
            let aside = Self.supersededPath(location)
            try FolderCommit.move(location.staging, to: aside)
            log("\(Self.experimentID): the replaced result is kept in \(aside.path)")
        } else {
            FolderCommit.removeIfPresent(location.staging)
        }
    }

    public func run() throws {
        do {
            try execute()
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(Self.experimentID): \(Self.oneLine(error))\n".utf8))
            throw ExitCode.failure
        }
    }

    /// A Foundation file error as one line with its path and reason (issue 26: a full disk
    /// printed a raw NSCocoaErrorDomain dump); other errors as they describe themselves.
    static func oneLine(_ error: Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        var reason = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
        if reason == nil || reason!.isEmpty { reason = ns.localizedDescription }
        if ns.code == NSFileWriteOutOfSpaceError { reason = "no space left on the device" }
        return "\(path.map { "\($0): " } ?? "")\(reason ?? "file error \(ns.code)")"
    }
}

/// Ctrl-C (SIGINT) and SIGTERM (what Slurm sends on cancel or time-out) end a run at once with
/// one line on stderr and exit status 130 / 143. Nothing needs cleaning up: finished work units
/// are already on disk and the last complete result was never touched (ResultStore.swift).
/// The handler is installed even when the parent ignores SIGINT (background jobs of a
/// non-interactive shell), so an interrupt always behaves the same.
enum Interrupts {
    static func install() {
        signal(SIGINT, interruptHandler)
        signal(SIGTERM, interruptHandler)
        // A parent may hand down a blocked mask (test runners, some job launchers).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// Async-signal-safe: write(2) of a static message, then _exit.
private func interruptHandler(_ signal: Int32) {
    let message: StaticString = "\ninterrupted: the last complete result is untouched; rerun the same command to resume from the finished work units\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(128 + signal)
}

/// Failures injected at named moments of a commit, for the tests of what a kill there leaves
/// (issue 26, defects 3 and 4). Keyed by the result folder, so a test arms only its own folder;
/// empty outside tests.
public enum FaultInjection {
    public enum Moment: Sendable { case beforeSwap, afterSwap }
    public struct Injected: Error, CustomStringConvertible {
        public var description: String { "injected failure at a commit moment (test)" }
    }
    nonisolated(unsafe) private static var armed: [String: Moment] = [:]
    private static let lock = NSLock()

    /// Makes the next commit into `folder` fail at `moment` (once).
    public static func arm(_ moment: Moment, at folder: URL) {
        lock.lock(); defer { lock.unlock() }
        armed[folder.standardizedFileURL.path] = moment
    }

    static func check(_ moment: Moment, at folder: URL) throws {
        lock.lock(); defer { lock.unlock() }
        let key = folder.standardizedFileURL.path
        guard armed[key] == moment else { return }
        armed[key] = nil
        throw Injected()
    }
}
