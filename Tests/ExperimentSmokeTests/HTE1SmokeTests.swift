import Foundation
import Testing
import TestSupport
@testable import ht_e1_concentration

/// Runs ht-e1-concentration end to end at a tiny size: files exist, the same seed gives
/// byte-identical CSVs, and the verdict file names both claims.
extension ExperimentSmoke {
    @Suite(.serialized) struct HTE1SmokeTests {
        func runOnce(_ dir: URL, seed: Int) throws {
            let cmd = try HTE1Concentration.parseAsRoot(
                ["--samples", "200", "--seed", "\(seed)", "--out", dir.path, "--threads", "2"]) as! HTE1Concentration
            try cmd.run()
            // Issue 19: the committed folder has a column dictionary naming every CSV and column.
            try ExperimentSmoke.expectColumnDictionary(in: dir)
        }

        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e1-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let a = base.appendingPathComponent("a"), b = base.appendingPathComponent("b")
            try runOnce(a, seed: 5)
            try runOnce(b, seed: 5)
            for name in ["moments.csv", "histograms.csv"] {
                let da = try Data(contentsOf: a.appendingPathComponent(name))
                let db = try Data(contentsOf: b.appendingPathComponent(name))
                #expect(da == db, "\(name) differs between two runs with the same seed")
            }
            for name in ["config.json", "claims.json", "tables/moments.md", "tables/moments.tex"] {
                #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent(name).path), "missing \(name)")
            }
            let claims = try String(contentsOf: a.appendingPathComponent("claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C2") && claims.contains("HT-C3"))
            // HT-C3 decides on exact skews, with the threshold's provenance (issue 17).
            #expect(claims.contains("exact skew") && claims.contains("spec [RECON]"))
            let moments = try String(contentsOf: a.appendingPathComponent("moments.csv"), encoding: .utf8)
            #expect(moments.hasPrefix(HTE1Concentration.Row.header.joined(separator: ",")) && moments.contains("skew_exact_error"))
            let config = try String(contentsOf: a.appendingPathComponent("config.json"), encoding: .utf8)
            #expect(config.contains("\"gitRevision\"") && config.contains("\"samplesPerCell\" : 200"))
        }

        @Test func rejectsTooFewSamples() {
            #expect(throws: (any Error).self) { try HTE1Concentration.parseAsRoot(["--samples", "10"]) }
        }
    }
}
