import DataIO
@testable import ExperimentKit
import Foundation
import Testing

@Suite struct ReferenceComparisonTests {
    struct Config: Codable { var steps = 10 }

    /// Writes a complete result folder: one CSV, claims.json with one check, complete.json.
    func folder(_ root: URL, _ name: String, value: Double = 0.5, estimate: Double = 1, low: Double = 0.8, high: Double = 1.2,
                seed: UInt64 = 0) throws -> URL {
        let dir = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try CSVFile.write(header: ["beta", "value"], rows: [["1", "\(value)"], ["2", "0.25"]], to: dir.appendingPathComponent("data.csv"))
        let check = ClaimCheck(statistic: "ratio", estimate: Estimate(mean: estimate, low: low, high: high, n: 5), direction: .greaterThan, threshold: 0.5)
        try JSONFile.write([ClaimResult(claim: "HT-C1", scope: "s", experiment: "e", command: "c", checks: [check], seeds: 5)],
                           to: dir.appendingPathComponent("claims.json"))
        let options = try ExperimentOptions.parse(["--seed", "\(seed)", "--scale", "full"])
        let record = CompletionRecord(identity: try RunIdentity(experiment: "e", options: options, config: Config()), units: [],
                                      files: try CompletionRecord.inventory(of: dir), dataFiles: [], gitRevision: "abc", committedAt: "now")
        try JSONFile.write(record, to: dir.appendingPathComponent(CompletionRecord.fileName))
        return dir
    }

    /// Identical folders pass; small numeric moves within a quarter half-width pass and are
    /// reported; a larger move, a changed verdict or another run identity fail.
    @Test func passesOnlyWhatAgrees() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let c = ReferenceComparison(tolerance: 0.25)
        let ref = try folder(root, "ref")
        let same = try c.compare("e", reference: ref, rerun: try folder(root, "same"))
        #expect(same.passed && same.lines.contains { $0.hasPrefix("files: 2 byte-identical, 0 numerically close") })
        #expect(!same.lines.contains { $0.hasPrefix("guarantee:") })
        let close = try c.compare("e", reference: ref, rerun: try folder(root, "close", value: 0.5000001, estimate: 1.04))
        #expect(close.passed && close.lines.contains { $0.hasPrefix("data.csv: numerically close") })
        // Issue 26/31: a CSV beyond the closeness tolerance is "different"; the checks still decide.
        let far = try c.compare("e", reference: ref, rerun: try folder(root, "far", value: 0.6))
        #expect(far.passed && far.lines.contains { $0.hasPrefix("data.csv: different, largest relative difference 0.167") })
        #expect(far.lines.contains { $0.hasPrefix("files: 1 byte-identical, 0 numerically close") && $0.hasSuffix(", 1 different") })
        #expect(far.lines.contains { $0.hasPrefix("guarantee: not covered: a run predates the ISA record") })
        let moved = try c.compare("e", reference: ref, rerun: try folder(root, "moved", estimate: 1.06))
        #expect(!moved.passed)
        let flipped = try c.compare("e", reference: ref, rerun: try folder(root, "flipped", estimate: 0.3, low: 0.1, high: 0.45))
        #expect(!flipped.passed && flipped.lines.contains { $0.contains("supported → not supported") })
        let other = try c.compare("e", reference: ref, rerun: try folder(root, "other", seed: 1))
        #expect(!other.passed && other.lines[0].hasPrefix("different runs"))
    }

    /// Issue 26: what the thread/ISA guarantee says about differing files, from each run's
    /// config.json (threads, oneDNN ISA), and the runs' machines printed first.
    @Test func saysWhetherTheGuaranteeCoversADifference() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("compare-isa-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func machine(_ dir: URL, threads: Int, isa: String) throws {
            let json = "{\"threads\": \(threads), \"provenance\": {\"oneDNNISA\": \"\(isa)\", \"libraryThreads\": 1}}"
            try json.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        }
        let c = ReferenceComparison(tolerance: 0.25)
        let ref = try folder(root, "ref")
        try machine(ref, threads: 2, isa: "avx2")
        let sameISA = try folder(root, "same-isa", value: 0.5000001)
        try machine(sameISA, threads: 1, isa: "avx2")
        let outcome = try c.compare("e", reference: ref, rerun: sameISA)
        #expect(outcome.lines.contains("reference: git abc, 2 thread(s), oneDNN ISA avx2"))
        #expect(outcome.lines.contains("rerun:     git abc, 1 thread(s), oneDNN ISA avx2"))
        #expect(outcome.lines.contains { $0.hasPrefix("guarantee: VIOLATED: same ISA class (avx2) and revision") })
        let otherISA = try folder(root, "other-isa", value: 0.5000001)
        try machine(otherISA, threads: 2, isa: "avx512_core_bf16")
        #expect(try c.compare("e", reference: ref, rerun: otherISA).lines
            .contains("guarantee: not covered: different ISA classes (avx2 against avx512_core_bf16); the checks below decide"))
        let a = RunMachine(threads: 2, isa: "avx2"), b = RunMachine(threads: 1, isa: "avx2")
        #expect(ReferenceComparison.coverage(a, b, sameRevision: false).hasPrefix("guarantee: same ISA class (avx2) but different revisions"))
    }
}
