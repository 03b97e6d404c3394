import DataIO
import ExperimentKit
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import ht_e6_sample_quality

extension ExperimentSmoke {
    @Suite(.serialized) struct HTE6SmokeTests {
        /// A tiny run (a classifier trained on 320 images for 1 epoch; 2 seeds × 3 β models of 6
        /// steps; 12 samples in one chunk, 2 Langevin steps per level) writes every file, twice
        /// identically for the same seed, and HT-C10 gets a "proxy recorded" verdict with one
        /// FD ratio per β ≠ 2.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e6-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for name in ["a", "b"] {
                let cmd = try HTE6SampleQuality.parseAsRoot(["--train-steps", "6", "--samples", "12", "--langevin-steps", "2", "--seeds", "2",
                                                             "--classifier", classifierURL.path,
                                                             "--out", base.appendingPathComponent("\(name)/run").path, "--threads", "2"]) as! HTE6SampleQuality
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent("\(name)/run"))
            }
            for f in ["metrics.csv", "floor.csv", "class_histogram.csv", "ratios.csv", "loss.csv", "claims.json", "images/samples-digits8x8.png"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/run/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/run/\(f)")), "\(f) differs")
            }
            for f in ["tables/quality.md", "models/digits8x8_seed-1_beta-2.00.h5", "complete.json", "config.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/run/\(f)").path), "\(f) missing")
            }
            let metrics = try CSVFile.read(from: base.appendingPathComponent("a/run/metrics.csv"))
            #expect(metrics.rows.count == 2 * 3)
            let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/run/claims.json")))
            #expect(claims.map(\.claim) == ["HT-C10"] && claims[0].verdict == .proxyRecorded && claims[0].checks.count == 2)
        }
    }
}
