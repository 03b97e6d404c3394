import ArgumentParser
import DataIO
import Foundation
import Testing
import TestSupport
@testable import ExperimentKit
import TensorCore

/// Counts the work units a toy run really computed (not loaded from the cache).
final class UnitCounter: @unchecked Sendable {
    static let shared = UnitCounter()
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    func reset() { lock.lock(); n = 0; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// A writer failure in the middle of a run (stands in for a full disk or an interrupt).
struct InjectedFailure: Error, CustomStringConvertible {
    var description: String { "injected failure (disk full)" }
}

/// The smallest experiment: `units` work units of one CSV row each, a render that reads them
/// back and writes a table and a claims file. Options inject failures.
struct ToyExperiment: Experiment {
    static let experimentID = "toy"
    @OptionGroup var options: ExperimentOptions
    @Option(name: .customLong("unit-count")) var units = 6
    @Option var failAtUnit: Int?
    @Flag var failRender = false
    @Option var dataFile: String?

    struct Config: Codable { var units: Int }
    var config: Config { Config(units: units) }
    struct Row: DocumentedRow {
        var unit: Int, value: Double
        static let columns: [ColumnDoc] = [.init("unit", "count", "unit index"), .init("value", "1", "index / 3 + seed")]
    }
    static let csvFiles = [CSVFileDoc("rows.csv", Row.self, "one row per work unit")]

    func compute(in run: RunDirectory) throws {
        let seed = Double(options.seed)
        if let p = dataFile { try DataFileLog.shared.record(path: p) }
        let rows = try run.units("cells", count: units, key: { "cell-\($0)" }) { i -> [CSVCell] in
            if let f = failAtUnit, i >= f { throw InjectedFailure() }
            UnitCounter.shared.add()
            return [.integer(i), .number(Double(i) / 3 + seed)]
        }
        try run.writeRows(try UnitRows.rows(rows, as: Row.self), to: "rows.csv")
        try run.writeConfig(config)
    }

    func render(in run: RunDirectory) throws {
        let values = try run.readRows(Row.self, from: "rows.csv").map(\.value)
        if failRender { throw InjectedFailure() }
        try run.writeText("sum = \(values.reduce(0, +))\n", to: "tables/sum.md")
        try run.writeClaims([])
    }
}

@Suite(.serialized) struct ResultStoreTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")

    func toy(_ args: [String]) throws -> ToyExperiment {
        setenv("REPRO_QUIET", "1", 1)
        return try ToyExperiment.parseAsRoot(args + ["--threads", "1"]) as! ToyExperiment
    }

    func folder(_ name: String = "toy") -> URL { root.appendingPathComponent(name) }
    func bytes(_ name: String, in dir: URL? = nil) throws -> Data { try Data(contentsOf: (dir ?? folder()).appendingPathComponent(name)) }
    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// A complete run commits everything with a record of every file; the default folder is
    /// results/<scale>/<id>, so a quick run never touches a full result.
    @Test func completeRunAndPerScaleFolders() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let record = try #require(try CompletionRecord.read(ResultLocation(final: folder())))
        #expect(record.units == (0..<6).map { "cells/cell-\($0)" })
        #expect(record.files.first { $0.name == "rows.csv" }?.rows == 6)
        #expect(exists(folder().appendingPathComponent("units/cells/cell-5.json")))
        #expect(!exists(ResultLocation(final: folder()).staging))
        let quick = try ExperimentOptions.parse([]), full = try ExperimentOptions.parse(["--scale", "full"])
        #expect(quick.outputURL(for: "x").path.hasSuffix("results/quick/x") && full.outputURL(for: "x").path.hasSuffix("results/full/x"))
    }

    /// Issue 19: a complete run commits COLUMNS.md (listed in the completion record), and
    /// --render-only writes it again from the row types, also for a folder that has none.
    @Test func columnDictionaryIsCommittedAndReRendered() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let dictionary = folder().appendingPathComponent(RunDirectory.columnDictionaryName)
        let first = try String(contentsOf: dictionary, encoding: .utf8)
        #expect(first.contains("## rows.csv\n\none row per work unit\n") && first.contains("| `unit` | count | unit index |"))
        let record = try #require(try CompletionRecord.read(ResultLocation(final: folder())))
        #expect(record.files.contains { $0.name == RunDirectory.columnDictionaryName })
        try FileManager.default.removeItem(at: dictionary)
        try toy(["--out", folder().path, "--render-only"]).execute()
        #expect(try String(contentsOf: dictionary, encoding: .utf8) == first)
        #expect(!exists(ResultLocation(final: folder()).staging))
    }

    /// A run that dies part-way (a unit fails, standing in for kill -9) leaves the previous
    /// complete folder untouched; the rerun computes only the missing units and produces
    /// byte-identical results to an uninterrupted run.
    @Test func interruptedRunResumesAndMatchesUninterrupted() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder("reference").path]).execute()
        UnitCounter.shared.reset()
        #expect(throws: InjectedFailure.self) { try toy(["--out", folder().path, "--fail-at-unit", "4"]).execute() }
        #expect(UnitCounter.shared.value == 4)
        #expect(!exists(folder()), "an interrupted first run must not leave a results folder")
        UnitCounter.shared.reset()
        try toy(["--out", folder().path]).execute()
        #expect(UnitCounter.shared.value == 2, "only the two missing units are computed")
        #expect(try bytes("rows.csv") == bytes("rows.csv", in: folder("reference")))
        #expect(try bytes("tables/sum.md") == bytes("tables/sum.md", in: folder("reference")))
        // A rerun of the complete run recomputes nothing.
        UnitCounter.shared.reset()
        try toy(["--out", folder().path]).execute()
        #expect(UnitCounter.shared.value == 0)
        #expect(try bytes("rows.csv") == bytes("rows.csv", in: folder("reference")))
    }

    /// A partial units cache of the same run left beside a complete result (an interrupted
    /// earlier attempt, or a copied-in complete folder) is completed from the committed units:
    /// the rerun computes nothing and matches the complete result byte for byte.
    @Test func staleCacheBesideACompleteResultIsCompletedNotRecomputed() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let complete = try toy(["--out", folder().path])
        try complete.execute()
        let before = try bytes("rows.csv")
        let location = ResultLocation(final: folder())
        let cache = location.unitsCache(try RunIdentity(experiment: ToyExperiment.experimentID, options: complete.options, config: complete.config))
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("cells"), withIntermediateDirectories: true)
        for k in 0..<2 {
            try FileManager.default.copyItem(at: folder().appendingPathComponent("units/cells/cell-\(k).json"),
                                             to: cache.appendingPathComponent("cells/cell-\(k).json"))
        }
        UnitCounter.shared.reset()
        try toy(["--out", folder().path]).execute()
        #expect(UnitCounter.shared.value == 0, "the four units missing from the stale cache come from the complete result")
        #expect(try bytes("rows.csv") == before)
        #expect(exists(folder().appendingPathComponent("units/cells/cell-5.json")) && !exists(cache))
    }

    /// A writer that throws during merge/render (disk full) leaves the old complete result as it
    /// was, byte for byte, and no completion record for the new one.
    @Test func failingWriterLeavesOldResultIntact() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path, "--seed", "1"]).execute()
        let before = try bytes("rows.csv"), record = try bytes(CompletionRecord.fileName)
        #expect(throws: InjectedFailure.self) { try toy(["--out", folder().path, "--seed", "1", "--force", "--fail-render"]).execute() }
        #expect(try bytes("rows.csv") == before && bytes(CompletionRecord.fileName) == record)
        // The next run cleans the staging leftovers and succeeds.
        try toy(["--out", folder().path, "--seed", "1"]).execute()
        #expect(!exists(ResultLocation(final: folder()).staging))
    }

    /// Another configuration needs --force; the old result is then kept aside, not deleted.
    @Test func differentConfigNeedsForceAndKeepsOld() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let old = try bytes("rows.csv")
        do {
            try toy(["--out", folder().path, "--seed", "3"]).execute()
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("seed 0") && "\(error)".contains("seed 3") && "\(error)".contains("FORCE=1"))
        }
        #expect(try bytes("rows.csv") == old)
        try toy(["--out", folder().path, "--seed", "3", "--force"]).execute()
        #expect(try bytes("rows.csv") != old)
        let superseded = ResultLocation(final: folder()).supersededRoot
        let kept = try FileManager.default.contentsOfDirectory(atPath: superseded.path)
        #expect(kept.count == 1)
        #expect(try bytes("rows.csv", in: superseded.appendingPathComponent(kept[0])) == old)
    }

    /// Issue 26, defect 1: a run never deletes what it did not create. `--out` naming a file is
    /// refused and the file kept; a non-empty folder without complete.json (someone's folder, or
    /// a result whose record was lost) is refused, and with --force kept under .superseded/.
    @Test func outNeverDeletesForeignContent() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = folder("notes.txt")
        try "mine\n".write(to: file, atomically: true, encoding: .utf8)
        do {
            try toy(["--out", file.path]).execute()
            Issue.record("a file was accepted as --out")
        } catch {
            #expect("\(error)".contains("notes.txt is a file, not a result folder"), "\(error)")
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "mine\n")

        let mine = folder("mine")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try "keep me\n".write(to: mine.appendingPathComponent("thesis.tex"), atomically: true, encoding: .utf8)
        do {
            try toy(["--out", mine.path]).execute()
            Issue.record("a foreign folder was replaced")
        } catch {
            #expect("\(error)".contains("holds 1 entry but no complete.json") && "\(error)".contains("--force"), "\(error)")
        }
        #expect(exists(mine.appendingPathComponent("thesis.tex")) && !exists(mine.appendingPathComponent("complete.json")))

        // A result whose complete.json was lost: refused, then superseded (not deleted) with --force.
        try toy(["--out", folder().path]).execute()
        try FileManager.default.removeItem(at: folder().appendingPathComponent("complete.json"))
        let old = try bytes("rows.csv")
        #expect(throws: (any Error).self) { try toy(["--out", folder().path]).execute() }
        try toy(["--out", folder().path, "--force"]).execute()
        let superseded = ResultLocation(final: folder()).supersededRoot
        let kept = try FileManager.default.contentsOfDirectory(atPath: superseded.path)
        #expect(kept.count == 1)
        #expect(try bytes("rows.csv", in: superseded.appendingPathComponent(kept[0])) == old)
        #expect(exists(folder().appendingPathComponent("complete.json")))
        // An empty folder is simply used.
        let empty = folder("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try toy(["--out", empty.path]).execute()
        #expect(exists(empty.appendingPathComponent("complete.json")))
    }

    /// Issue 26, defect 3: a kill during the final commit (after the units are in the staging
    /// folder, before the swap) loses no finished unit: the next run computes none of them.
    @Test func killBeforeTheSwapKeepsEveryUnit() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        UnitCounter.shared.reset()
        FaultInjection.arm(.beforeSwap, at: folder())
        #expect(throws: FaultInjection.Injected.self) { try toy(["--out", folder().path]).execute() }
        #expect(UnitCounter.shared.value == 6)
        UnitCounter.shared.reset()
        try toy(["--out", folder().path]).execute()
        #expect(UnitCounter.shared.value == 0, "finished units were recomputed")
        #expect(exists(folder().appendingPathComponent("units")) && !exists(ResultLocation(final: folder()).unitsRoot))
    }

    /// Issue 26, defect 4: --force never loses the old result. A file named .superseded stops
    /// the run before anything is swapped in; a kill between the swap and the move aside leaves
    /// the old result in the staging folder, and the next run keeps it under .superseded/.
    @Test func forceNeverLosesTheOldResult() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let old = try bytes("rows.csv")
        let location = ResultLocation(final: folder())
        try "x".write(to: location.supersededRoot, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try toy(["--out", folder().path, "--seed", "2", "--force"]).execute() }
        #expect(try bytes("rows.csv") == old, "the old result was replaced although it could not be kept")
        try FileManager.default.removeItem(at: location.supersededRoot)

        FaultInjection.arm(.afterSwap, at: folder())
        #expect(throws: FaultInjection.Injected.self) { try toy(["--out", folder().path, "--seed", "2", "--force"]).execute() }
        #expect(try bytes("rows.csv") != old)  // the new result is in place; the old one in staging
        try toy(["--out", folder().path, "--seed", "2"]).execute()  // a later run keeps it aside
        let kept = try FileManager.default.contentsOfDirectory(atPath: location.supersededRoot.path)
        #expect(kept.count == 1)
        #expect(try bytes("rows.csv", in: location.supersededRoot.appendingPathComponent(kept[0])) == old)
    }

    /// Issue 26, defect 5: a data file replaced between a kill and the resume is named, instead
    /// of a result that mixes units of both files.
    @Test func changedDataBetweenKillAndResumeIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = root.appendingPathComponent("data.h5")
        try Data("first data set".utf8).write(to: data)
        #expect(throws: InjectedFailure.self) { try toy(["--out", folder().path, "--data-file", data.path, "--fail-render"]).execute() }
        try Data("another data set".utf8).write(to: data)
        do {
            try toy(["--out", folder().path, "--data-file", data.path]).execute()
            Issue.record("units of another data file were resumed")
        } catch {
            #expect("\(error)".contains("data.h5 changed since the cached unit cells/cell-0 was computed"), "\(error)")
        }
        #expect(!exists(folder().appendingPathComponent("complete.json")))
        // With the original file back, the run resumes every unit.
        try Data("first data set".utf8).write(to: data)
        UnitCounter.shared.reset()
        try toy(["--out", folder().path, "--data-file", data.path]).execute()
        #expect(UnitCounter.shared.value == 0)
    }

    /// Issue 26, defect 7: an edited unit file, or two swapped ones, in the units cache are
    /// named instead of committed.
    @Test func editedOrSwappedUnitFilesAreRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: InjectedFailure.self) { try toy(["--out", folder().path, "--fail-render"]).execute() }
        let location = ResultLocation(final: folder())
        let cells = try #require(FileManager.default.enumerator(atPath: location.unitsRoot.path)?.allObjects as? [String])
            .first { $0.hasSuffix("cells/cell-1.json") }.map { location.unitsRoot.appendingPathComponent($0).deletingLastPathComponent() }
        let group = try #require(cells)
        let one = group.appendingPathComponent("cell-1.json"), two = group.appendingPathComponent("cell-2.json")
        let original = try Data(contentsOf: one)
        try Data(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "0.333", with: "0.999").utf8).write(to: one)
        do {
            try toy(["--out", folder().path]).execute()
            Issue.record("an edited unit was committed")
        } catch {
            #expect("\(error)".contains("cell-1.json: its SHA-256 is") && "\(error)".contains("--force"), "\(error)")
        }
        try original.write(to: one)
        let second = try Data(contentsOf: two)
        try second.write(to: one)
        try original.write(to: two)
        #expect(throws: WorkUnitError.self) { try toy(["--out", folder().path]).execute() }
        #expect(!exists(folder().appendingPathComponent("complete.json")))
    }

    /// Issue 26, unclear cases: a symlinked --out is the same folder (one lock, one result); a
    /// damaged complete.json names --force, which recomputes and keeps it aside; an extra CSV is
    /// named before anything is drawn; a file error is one line with its path.
    @Test func unclearCasesAreMadeClear() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let link = folder("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: folder())
        let options = try ExperimentOptions.parse(["--out", link.path])
        #expect(options.outputURL(for: "toy").path == folder().resolvingSymlinksInPath().path)
        UnitCounter.shared.reset()
        try toy(["--out", link.path]).execute()  // the same complete run: nothing recomputed, no second lock
        #expect(UnitCounter.shared.value == 0)

        // An extra CSV: named, before rendering.
        try "a\n1\n".write(to: folder().appendingPathComponent("extra.csv"), atomically: true, encoding: .utf8)
        do {
            try toy(["--out", folder().path, "--render-only"]).execute()
            Issue.record("an extra CSV was accepted")
        } catch {
            #expect("\(error)".contains("extra.csv: not in the completion record"), "\(error)")
        }
        #expect(!exists(ResultLocation(final: folder()).staging))
        try FileManager.default.removeItem(at: folder().appendingPathComponent("extra.csv"))

        // A damaged record: the error names --force; --force recomputes and keeps the folder aside.
        try "{ not json".write(to: folder().appendingPathComponent("complete.json"), atomically: true, encoding: .utf8)
        do {
            try toy(["--out", folder().path]).execute()
            Issue.record("a damaged record was accepted")
        } catch {
            #expect("\(error)".contains("the completion record is damaged") && "\(error)".contains("--force"), "\(error)")
        }
        try toy(["--out", folder().path, "--force"]).execute()
        #expect(try FileManager.default.contentsOfDirectory(atPath: ResultLocation(final: folder()).supersededRoot.path).count == 1)

        let full = NSError(domain: NSCocoaErrorDomain, code: NSFileWriteOutOfSpaceError, userInfo: [NSFilePathErrorKey: "/r/x.csv"])
        #expect(ToyExperiment.oneLine(full) == "/r/x.csv: no space left on the device")
    }

    /// `--gemm-backend`: the default keeps the identity formula that existing caches were written
    /// under; another library is another run, named in the summary that refusals print; an
    /// unknown name is rejected. (No execute here: the backend is process-wide and other suites
    /// run GEMMs concurrently; HTE4SmokeTests runs the option end to end in its own process.)
    @Test func gemmBackendIsPartOfTheIdentityOnlyWhenNotDefault() throws {
        let automatic = try toy([])
        let id = try RunIdentity(experiment: "toy", options: automatic.options, config: automatic.config)
        #expect(id.float32GEMM == nil && !id.summary.contains("GEMM"))
        #expect(id.hash == Digest.sha256("toy|quick|0|default|\(id.configSHA256)"))
        let blas = try toy(["--gemm-backend", "openBLAS"])
        #expect(blas.options.float32GEMMBackend == .openBLAS)
        let idBLAS = try RunIdentity(experiment: "toy", options: blas.options, config: blas.config)
        #expect(idBLAS.float32GEMM == "openBLAS" && idBLAS.configSHA256 == id.configSHA256)
        #expect(idBLAS.hash != id.hash && idBLAS != id && idBLAS.summary.hasSuffix(", Float32 GEMM openBLAS"))
        let decoded = try JSONDecoder().decode(RunIdentity.self, from: JSONFile.encoder().encode(id))
        #expect(decoded == id)
        #expect(!String(decoding: try JSONFile.encoder().encode(id), as: UTF8.self).contains("float32GEMM"))
        do {
            _ = try toy(["--gemm-backend", "mkl"])
            Issue.record("expected a refusal")
        } catch {
            #expect(ToyExperiment.message(for: error).contains("--gemm-backend must be automatic, openBLAS, oneDNN, got mkl"))
        }
    }

    /// --render-only refuses a folder whose data files changed after the run (cut at a line,
    /// header only, duplicated rows, removed), or that holds another run (other scale or seed),
    /// naming the file or the difference; it never draws.
    @Test func renderOnlyValidatesTheFolder() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try toy(["--out", folder().path]).execute()
        let csv = folder().appendingPathComponent("rows.csv")
        let good = try Data(contentsOf: csv)
        let text = String(decoding: good, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let variants: [(String, String)] = [
            ("cut at a line boundary", lines.prefix(4).joined(separator: "\n") + "\n"),
            ("header only", String(lines[0]) + "\n"),
            ("duplicated rows", text + lines.dropFirst().joined(separator: "\n")),
        ]
        for (what, content) in variants {
            try Data(content.utf8).write(to: csv)
            do {
                try toy(["--out", folder().path, "--render-only"]).execute()
                Issue.record("rendered from a CSV with \(what)")
            } catch {
                #expect("\(error)".contains("rows.csv") && "\(error)".contains("record"), "\(what): \(error)")
            }
        }
        try FileManager.default.removeItem(at: csv)
        #expect(throws: ResultStoreError.self) { try toy(["--out", folder().path, "--render-only"]).execute() }
        try good.write(to: csv)
        try toy(["--out", folder().path, "--render-only"]).execute()
        do {
            try toy(["--out", folder().path, "--render-only", "--scale", "full"]).execute()
            Issue.record("labelled quick results as full")
        } catch {
            #expect("\(error)".contains("scale quick") && "\(error)".contains("scale full"))
        }
        do {
            try toy(["--out", folder("never-run").path, "--render-only"]).execute()
            Issue.record("rendered a folder that was never run")
        } catch {
            #expect("\(error)".contains("no complete result"))
        }
    }

    /// A second run into a folder that is being written exits at once, naming the holder.
    @Test func secondRunIntoTheSameFolderIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let location = ResultLocation(final: folder())
        let holder = try FileLock(location.lockFile, holder: "pid 4242 (toy --seed 0)")
        do {
            try toy(["--out", folder().path]).execute()
            Issue.record("expected the lock to refuse")
        } catch {
            #expect("\(error)".contains("pid 4242") && "\(error)".contains(location.lockFile.lastPathComponent))
        }
        withExtendedLifetime(holder) {}
    }

    /// Unit results round-trip through JSON exactly (Double's shortest round-trip form, NaN and
    /// infinities as strings), so merged CSVs equal those of an uninterrupted run.
    @Test func unitResultsRoundTripExactly() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var rng = SystemRandomNumberGenerator()
        var values: [CSVCell] = (0..<2000).map { _ in .number(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) * (Bool.random() ? 1 : -1)) }
        values += [.number(.nan), .number(.infinity), .number(-.infinity), .number(5e-324), .number(-0.0), .integer(.max), .text("a,\"b\"")]
        try AtomicFile.createFolder(root)
        let file = root.appendingPathComponent("u.json")
        try JSONFile.write(UnitRows([values]), to: file)
        let back = try JSONFile.read(UnitRows.self, from: file)[0][0]
        #expect(back.map(\.text) == values.map(\.text))
        for (a, b) in zip(back, values) {
            if case .number(let x) = a, case .number(let y) = b, !x.isNaN { #expect(x.bitPattern == y.bitPattern) }
        }
    }
}
