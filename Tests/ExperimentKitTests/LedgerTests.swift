import Foundation
import Testing
import TestSupport
@testable import ExperimentKit

/// The ledger builder on small hand-made result folders.
@Suite struct LedgerTests {
    func estimate(_ lo: Double, _ hi: Double) -> Estimate { Estimate(mean: (lo + hi) / 2, low: lo, high: hi, n: 3) }

    func write(_ claims: [ClaimResult], experiment: String, in dir: URL, scale: String = "quick") throws {
        let folder = dir.appendingPathComponent(experiment)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONEncoder().encode(claims).write(to: folder.appendingPathComponent("claims.json"))
        try Data("{\"scale\": \"\(scale)\"}".utf8).write(to: folder.appendingPathComponent("config.json"))
        try commit(folder, experiment: experiment, scale: scale)
    }

    /// Writes the completion record that makes `folder` a complete result.
    func commit(_ folder: URL, experiment: String, scale: String = "quick") throws {
        struct NoConfig: Codable {}
        let options = try ExperimentOptions.parse(["--scale", scale])
        let record = CompletionRecord(identity: try RunIdentity(experiment: experiment, options: options, config: NoConfig()), units: [],
                                      files: try CompletionRecord.inventory(of: folder), dataFiles: [], gitRevision: "test", committedAt: "now")
        try JSONEncoder().encode(record).write(to: folder.appendingPathComponent(CompletionRecord.fileName))
    }

    let registry = [
        ClaimSpec(id: "A", paper: "p", statement: "a", experiments: ["e1"]),
        ClaimSpec(id: "B", paper: "p", statement: "b", experiments: ["e1", "e2"]),
        ClaimSpec(id: "C", paper: "p", statement: "c", experiments: ["e2"]),
        ClaimSpec(id: "D", paper: "p", statement: "d", experiments: ["e3"]),
        ClaimSpec(id: "E", paper: "p", statement: "e", experiments: [], notReproducibleReason: "no GPU"),
    ]

    @Test func verdictsFromResultFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yes = ClaimCheck(statistic: "s", estimate: estimate(1, 2), direction: .greaterThan, threshold: 0)
        let straddle = ClaimCheck(statistic: "t", estimate: estimate(-1, 1), direction: .greaterThan, threshold: 0)
        let no = ClaimCheck(statistic: "u", estimate: estimate(-2, -1), direction: .greaterThan, threshold: 0)
        try write([ClaimResult(claim: "A", statement: "a", experiment: "e1", command: "make e1", checks: [yes], seeds: 3),
                   ClaimResult(claim: "B", statement: "b", experiment: "e1", command: "make e1", checks: [yes], seeds: 3)],
                  experiment: "e1", in: dir)
        try write([ClaimResult(claim: "B", statement: "b", experiment: "e2", command: "make e2", checks: [straddle], seeds: 5),
                   ClaimResult(claim: "C", statement: "c", experiment: "e2", command: "make e2", checks: [yes, no], seeds: 5)],
                  experiment: "e2", in: dir, scale: "full")
        let ledger = try Ledger.build(results: dir, registry: registry)
        let verdicts = Dictionary(uniqueKeysWithValues: ledger.map { ($0.claim, $0.verdict) })
        #expect(verdicts["A"] == .supported)
        #expect(verdicts["B"] == .inconclusive)  // supported in e1, straddles in e2
        #expect(verdicts["C"] == .notSupported)
        #expect(verdicts["D"] == .notRun)
        #expect(verdicts["E"] == .notReproducibleHere)
        let b = try #require(ledger.first { $0.claim == "B" })
        #expect(b.experiments == ["e1", "e2"] && b.seeds == 3 && b.scales == ["full", "quick"])
        let md = Ledger.table(ledger).markdown()
        #expect(md.contains("| C | not supported |"))
    }

    /// A claims file with a non-finite estimate, as RunDirectory writes it ("NaN" strings), is
    /// read; the check is inconclusive.
    @Test func nonFiniteEstimatesAreRead() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-nan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("e3")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let check = ClaimCheck(statistic: "n", estimate: Estimate(mean: .nan, low: .nan, high: .nan, n: 0), direction: .greaterThan, threshold: 0)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        try encoder.encode([ClaimResult(claim: "D", statement: "d", experiment: "e3", command: "make e3", checks: [check], seeds: 1)])
            .write(to: folder.appendingPathComponent("claims.json"))
        try Data("{\"scale\": \"quick\"}".utf8).write(to: folder.appendingPathComponent("config.json"))
        try commit(folder, experiment: "e3")
        let ledger = try Ledger.build(results: dir, registry: registry)
        #expect(ledger.first { $0.claim == "D" }?.verdict == .inconclusive)
    }

    @Test func malformedClaimsFileNamesTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("e1"), withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: dir.appendingPathComponent("e1/claims.json"))
        try commit(dir.appendingPathComponent("e1"), experiment: "e1")
        do {
            _ = try Ledger.build(results: dir, registry: registry)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("e1/claims.json"))
        }
    }

    /// A claim is never supported from a subset of its experiments: a missing result, an
    /// unfinished folder (no completion record), a claims.json emptied after the run, or a
    /// record without checks make it "incomplete", with the reason in the notes.
    @Test func incompleteWhenAnExperimentLacksResults() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-inc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let yes = ClaimCheck(statistic: "s", estimate: estimate(1, 2), direction: .greaterThan, threshold: 0)
        try write([ClaimResult(claim: "B", statement: "b", experiment: "e1", command: "make e1", checks: [yes], seeds: 3)],
                  experiment: "e1", in: dir)
        // e2 missing entirely.
        var b = try #require(try Ledger.build(results: dir, registry: registry).first { $0.claim == "B" })
        #expect(b.verdict == .incomplete && b.notes.contains("e2: no complete result"))
        // e2 present but unfinished (no completion record).
        let e2 = dir.appendingPathComponent("e2")
        try FileManager.default.createDirectory(at: e2, withIntermediateDirectories: true)
        try JSONEncoder().encode([ClaimResult(claim: "B", statement: "b", experiment: "e2", command: "make e2", checks: [yes], seeds: 3)])
            .write(to: e2.appendingPathComponent("claims.json"))
        b = try #require(try Ledger.build(results: dir, registry: registry).first { $0.claim == "B" })
        #expect(b.verdict == .incomplete && b.notes.contains("complete.json"))
        // Committed, then claims.json emptied afterwards: detected by the record.
        try commit(e2, experiment: "e2")
        #expect(try Ledger.build(results: dir, registry: registry).first { $0.claim == "B" }?.verdict == .supported)
        try Data("[]".utf8).write(to: e2.appendingPathComponent("claims.json"))
        b = try #require(try Ledger.build(results: dir, registry: registry).first { $0.claim == "B" })
        #expect(b.verdict == .incomplete && b.notes.contains("claims.json") && b.notes.contains("differs"))
        // Committed with a record that has no check of the claim.
        try JSONEncoder().encode([ClaimResult(claim: "B", statement: "b", experiment: "e2", command: "make e2", checks: [], seeds: 3)])
            .write(to: e2.appendingPathComponent("claims.json"))
        try commit(e2, experiment: "e2")
        b = try #require(try Ledger.build(results: dir, registry: registry).first { $0.claim == "B" })
        #expect(b.verdict == .incomplete && b.notes.contains("no check of B"))
    }

    /// Every claim id of both specs is registered exactly once.
    @Test func registryCoversBothSpecs() {
        let ids = ClaimRegistry.all.map(\.id)
        let expected = (1...10).map { "HT-C\($0)" } + (1...8).map { "HO-C\($0)" }
        #expect(ids == expected)
    }
}

/// Claims are worded in one place: a claim record built by an experiment carries the registry's
/// statement, and its own operationalisation as the scope.
@Suite struct ClaimRegistrySourceTests {
    @Test func statementComesFromTheRegistry() throws {
        let r = ClaimResult(claim: "HT-C2", scope: "CV slope at D ≤ 12288", experiment: "ht-e1-concentration", command: "make ht-e1-concentration",
                            checks: [], seeds: 1)
        #expect(r.statement == ClaimRegistry.spec("HT-C2")?.statement)
        #expect(r.scope == "CV slope at D ≤ 12288")
    }
}
