import ArgumentParser
import DataIO
import Foundation
import Testing
import TestSupport
@testable import ExperimentKit

/// Counts unit bodies the two-stage toy ran (this suite's own counter: suites run in parallel).
final class StageCounter: @unchecked Sendable {
    static let shared = StageCounter()
    private let lock = NSLock()
    private var names: [String] = []
    func add(_ n: String) { lock.lock(); names.append(n); lock.unlock() }
    func reset() { lock.lock(); names = []; lock.unlock() }
    var value: [String] { lock.lock(); defer { lock.unlock() }; return names.sorted() }
}

/// Two unit groups, the second planned from the first's results (its keys depend on them), as
/// a later group may: "draws" (4 units) then "pairs" (one unit per even draw).
struct TwoStageToy: Experiment {
    static let experimentID = "two-stage"
    @OptionGroup var options: ExperimentOptions
    struct Config: Codable { var draws = 4 }
    var config: Config { Config() }
    struct PairRow: DocumentedRow {
        var k: Int, value: Double
        static let columns: [ColumnDoc] = [.init("k", "count", "index among the even draws"), .init("value", "1", "the draw / 3")]
    }
    static let csvFiles = [CSVFileDoc("pairs.csv", PairRow.self, "one row per even draw")]

    func compute(in run: RunDirectory) throws {
        let seed = options.seed
        let draws = try run.units("draws", count: config.draws, key: { "d-\($0)" }) { i -> Int in
            StageCounter.shared.add("draws/d-\(i)")
            return Int((seed &+ UInt64(i) &* 7) % 10)
        }
        let even = draws.filter { $0 % 2 == 0 }
        let pairs = try run.units("pairs", count: even.count, key: { "p-\(even[$0])-\($0)" }) { k -> [CSVCell] in
            StageCounter.shared.add("pairs/p-\(even[k])-\(k)")
            return [.integer(k), .number(Double(even[k]) / 3)]
        }
        try run.writeRows(try UnitRows.rows(pairs, as: PairRow.self), to: "pairs.csv")
        try run.writeConfig(config)
    }

    func render(in run: RunDirectory) throws {
        let v = try run.readRows(PairRow.self, from: "pairs.csv").map(\.value)
        try run.writeClaims([ClaimResult]())
        try run.writeText("n = \(v.count)\n", to: "tables/n.md")
    }
}

/// An experiment whose compute has no units: its whole run is the one unit "run/all".
struct WholeRunToy: Experiment {
    static let experimentID = "whole-run"
    static let computesInUnits = false
    @OptionGroup var options: ExperimentOptions
    struct Config: Codable { var n = 3 }
    var config: Config { Config() }
    struct Row: DocumentedRow {
        var i: Int
        static let columns: [ColumnDoc] = [.init("i", "count", "row index")]
    }
    static let csvFiles = [CSVFileDoc("rows.csv", Row.self, "n rows")]
    func compute(in run: RunDirectory) throws {
        StageCounter.shared.add("run/all")
        try run.writeRows((0..<config.n).map { Row(i: $0) }, to: "rows.csv")
        try run.writeConfig(config)
    }
    func render(in run: RunDirectory) throws { try run.writeClaims([ClaimResult]()) }
}

@Suite(.serialized) struct WorkUnitsTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("units-\(UUID().uuidString)")

    func stage(_ args: [String], out: String = "a") throws -> TwoStageToy {
        setenv("REPRO_QUIET", "1", 1)
        return try TwoStageToy.parseAsRoot(args + ["--threads", "2", "--out", root.appendingPathComponent(out).path]) as! TwoStageToy
    }
    func pass(_ e: TwoStageToy) throws -> UnitPass {
        let location = ResultLocation(final: e.options.outputURL(for: TwoStageToy.experimentID))
        return try e.unitPass(location: location, identity: RunIdentity(experiment: TwoStageToy.experimentID, options: e.options, config: e.config))
    }
    func bytes(_ name: String, _ out: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(out).appendingPathComponent(name)) }

    @Test func selectionParsing() throws {
        let s = try UnitSelection(parsing: "0-2, 5,draws/d-3")
        #expect(s.indices == [0...2, 5...5] && s.names == ["draws/d-3"])
        #expect(s.contains(index: 1, name: "x/y") && s.contains(index: 9, name: "draws/d-3") && !s.contains(index: 3, name: "x/y"))
        for bad in ["", "1,,2", "3-1", "abc", "-1"] {
            #expect(throws: UnitSelectionError.self, "'\(bad)'") { try UnitSelection(parsing: bad) }
        }
        // Option checks: one mode at a time, no --force with partial runs, a readable --units.
        for args in [["--list-units", "--merge-only"], ["--units", "0", "--render-only"], ["--units", "0", "--force"], ["--units", "3-1"]] {
            #expect(throws: (any Error).self, "\(args)") { try ExperimentOptions.parse(args) }
        }
        _ = try ExperimentOptions.parse(["--merge-only", "--force"])
    }

    /// Listing runs no unit body; a group planned from an earlier group's results is listed once
    /// that group is complete, with indices continuing where the earlier group's end.
    @Test func listingIsADryRunAndShowsLaterStagesWhenReady() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        StageCounter.shared.reset()
        let first = try pass(stage(["--list-units"]))
        #expect(first.names == (0..<4).map { "draws/d-\($0)" } && first.stoppedAt == "draws")
        #expect(StageCounter.shared.value.isEmpty, "listing must not compute")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("a").path), "no results folder before a merge")

        // Two "array tasks" of the first stage, by index and by name.
        let t1 = try pass(stage(["--units", "0-1"]))
        #expect(t1.computed == ["draws/d-0", "draws/d-1"])
        _ = try pass(stage(["--units", "draws/d-2,3"]))
        #expect(StageCounter.shared.value == (0..<4).map { "draws/d-\($0)" })
        let timing = try JSONFile.read(UnitTiming.self, from: root.appendingPathComponent(".a.units")
            .appendingPathComponent(String(RunIdentity(experiment: "two-stage", options: stage([]).options, config: TwoStageToy.Config()).hash.prefix(16)))
            .appendingPathComponent("draws/d-3.timing.json"))
        #expect(timing.seconds >= 0 && timing.threads == 2)

        // A rerun of a finished task computes nothing.
        StageCounter.shared.reset()
        let again = try pass(stage(["--units", "2"]))
        #expect(again.computed.isEmpty && again.alreadyDone == 1 && StageCounter.shared.value.isEmpty)

        // Now the second stage is listed after the first (draws of seed 0: 0 7 4 1 -> two pairs).
        let second = try pass(stage(["--list-units"]))
        #expect(second.names == (0..<4).map { "draws/d-\($0)" } + ["pairs/p-0-0", "pairs/p-4-1"] && second.stoppedAt == "pairs")
        #expect(second.done == Set((0..<4).map { "draws/d-\($0)" }))
        #expect(StageCounter.shared.value.isEmpty)
        #expect(throws: WorkUnitError.self) { try pass(stage(["--units", "6"])) }
    }

    /// --merge-only refuses while a unit is missing, naming it; once every unit is there it
    /// commits results byte-identical to a plain single-process run, computing nothing.
    @Test func mergeOnlyRefusesMissingUnitsThenMatchesAPlainRun() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try stage([], out: "plain").execute()
        for i in 0..<4 { _ = try pass(stage(["--units", "\(i)"])) }
        _ = try pass(stage(["--units", "4"]))
        do {
            try stage(["--merge-only"]).execute()
            Issue.record("merged with a missing unit")
        } catch {
            #expect("\(error)".contains("pairs/p-4-1") && "\(error)".contains("1 of 6"), "\(error)")
            // Experiment.run() prefixes "error: <id>: "; the message itself does not repeat the id.
            #expect("\(error)".hasPrefix("--merge-only: "), "\(error)")
        }
        #expect(CompletionRecord.readIfPresent(root.appendingPathComponent("a")) == nil)
        _ = try pass(stage(["--units", "pairs/p-4-1"]))
        StageCounter.shared.reset()
        try stage(["--merge-only"]).execute()
        #expect(StageCounter.shared.value.isEmpty, "--merge-only computes nothing")
        #expect(try bytes("pairs.csv", "a") == bytes("pairs.csv", "plain"))
        #expect(try bytes("claims.json", "a") == bytes("claims.json", "plain"))
        let record = try #require(CompletionRecord.readIfPresent(root.appendingPathComponent("a")))
        #expect(record.units.count == 6)
        // After the commit, tasks of the same run find their units in the complete folder.
        StageCounter.shared.reset()
        let late = try pass(stage(["--units", "0-5"]))
        #expect(late.computed.isEmpty && late.alreadyDone == 6 && StageCounter.shared.value.isEmpty)
    }

    /// An experiment without units is one unit "run/all": the task runs and commits it, the merge
    /// re-renders it, and a merge without it names it.
    @Test func wholeRunExperimentIsOneUnit() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        setenv("REPRO_QUIET", "1", 1)
        func whole(_ args: [String]) throws -> WholeRunToy {
            try WholeRunToy.parseAsRoot(args + ["--out", root.appendingPathComponent("w").path]) as! WholeRunToy
        }
        do {
            try whole(["--merge-only"]).execute()
            Issue.record("merged a whole-run experiment that never ran")
        } catch {
            #expect("\(error)".contains("run/all"))
        }
        StageCounter.shared.reset()
        try whole(["--units", "0"]).execute()
        try whole(["--units", "run/all"]).execute()
        #expect(StageCounter.shared.value == ["run/all"], "the second task finds the unit complete")
        try whole(["--merge-only"]).execute()
        #expect(StageCounter.shared.value == ["run/all"])
        #expect(throws: WorkUnitError.self) { try whole(["--units", "1"]).execute() }
    }
}

extension CompletionRecord {
    static func readIfPresent(_ folder: URL) -> CompletionRecord? { try? read(ResultLocation(final: folder)) }
}
