import DataIO
import ExperimentKit
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import ht_e5_class_balance

extension ExperimentSmoke {
    @Suite(.serialized) struct HTE5SmokeTests {
        /// The imbalanced subset keeps every majority image and the first n minority images, in
        /// split order.
        @Test func imbalancedSubsetTakesTheFirstMinorityImages() throws {
            let train = try ImageDataset.load(path: DatasetName.digits8x8.path, split: .train)
            let subset = try HTE5ClassBalance.imbalanced(train, minority: 1, majority: 8, minorityCount: 5)
            let ones = train.labels.indices.filter { train.labels[$0] == 1 }
            let eights = train.labels.indices.filter { train.labels[$0] == 8 }
            #expect(subset.minorityCount == 5 && subset.majorityCount == eights.count)
            #expect(subset.labels.count == eights.count + 5)
            let kept = (eights + ones.prefix(5)).sorted()
            #expect(subset.images == train.images.gatherRows(kept))
            #expect(throws: ValidationFailure.self) { try HTE5ClassBalance.imbalanced(train, minority: 1, majority: 8, minorityCount: ones.count + 1) }
        }

        /// A tiny run (a classifier trained on 320 images for 1 epoch; 2 seeds × 3 β models of 6
        /// steps; 12 samples per arm, 2 Langevin steps per level) writes every file, twice
        /// identically for the same seed, and HT-C9 gets its four paired checks from the code.
        /// Issue 26: a result merged from units computed elsewhere (`--units` then `--merge-only`,
        /// as Slurm does), whose sampling units were all cached, still publishes its models.
        @Test func mergeOnlyPublishesTheModels() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e5-merge-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            let common = ["--train-steps", "4", "--samples", "12", "--langevin-steps", "1", "--seeds", "1", "--classifier", classifierURL.path,
                          "--out", base.appendingPathComponent("run").path, "--threads", "2"]
            try (HTE5ClassBalance.parseAsRoot(common + ["--units", "0-99"]) as! HTE5ClassBalance).run()
            try (HTE5ClassBalance.parseAsRoot(common + ["--merge-only"]) as! HTE5ClassBalance).run()
            for beta in ["1.00", "1.50", "2.00"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("run/models/seed-0_beta-\(beta).h5").path), "model β = \(beta) missing")
            }
        }

        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e5-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for name in ["a", "b"] {
                let cmd = try HTE5ClassBalance.parseAsRoot(["--train-steps", "6", "--samples", "12", "--langevin-steps", "2", "--seeds", "2",
                                                            "--classifier", classifierURL.path,
                                                            "--out", base.appendingPathComponent("\(name)/run").path, "--threads", "2"]) as! HTE5ClassBalance
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent("\(name)/run"))
            }
            for f in ["balance.csv", "quality.csv", "summary.csv", "paired.csv", "loss.csv", "classifier.csv", "claims.json",
                      "images/samples-gaussian.png", "images/samples-gnd-unscaled.png"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/run/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/run/\(f)")), "\(f) differs")
            }
            for f in ["images/training-examples.png", "models/seed-1_beta-1.50.h5", "tables/balance.md", "complete.json", "config.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/run/\(f)").path), "\(f) missing")
            }
            let balance = try CSVFile.read(from: base.appendingPathComponent("a/run/balance.csv"))
            #expect(balance.rows.count == 2 * 3 * 2)
            let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/run/claims.json")))
            #expect(claims.map(\.claim) == ["HT-C9"] && claims[0].checks.count == 4 && claims[0].seeds == 2)
            let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: base.appendingPathComponent("a/run/images/samples-gaussian.json")))
            #expect(sidecar.rows.labels.count == 3 && sidecar.columns.labels.count == 12 && sidecar.pixelScale == 7)
        }

        /// HT-C9's quality note: per-β pixel precision and nearest-image distance (Gaussian arm,
        /// mean over seeds), and the caveat only where the precision is below the threshold.
        @Test func qualityNoteFlagsOnlyUnrecognisableSamples() {
            func row(_ seed: Int, _ beta: Double, _ arm: String, precision: Double, distance: Double) -> HTE5ClassBalance.QualityRow {
                HTE5ClassBalance.QualityRow(seed: seed, beta: beta, langevinNoise: arm, fdFeatures: 1, kidFeatures: 1, precisionFeatures: 1, recallFeatures: 1,
                                            densityFeatures: 1, coverageFeatures: 1, precisionPixels: precision, recallPixels: 1, densityPixels: 1,
                                            coveragePixels: 1, nnDistanceSamplesMean: distance, nnDistanceReferenceMean: 4, valuesMoreThan01Outside: 0)
            }
            let rows = [row(0, 1, "gaussian", precision: 0.02, distance: 10), row(1, 1, "gaussian", precision: 0.04, distance: 12),
                        row(0, 2, "gaussian", precision: 0.8, distance: 6), row(1, 2, "gaussian", precision: 0.7, distance: 6),
                        row(0, 1.5, "gnd-unscaled", precision: 0.0, distance: 20)]
            let note = HTE5ClassBalance.qualityNote(rows)
            #expect(note.contains("β = 1.00: 0.030, β = 2.00: 0.75") && note.contains("11.0, 6.00 (real held-out images: 4.00)"), "\(note)")
            #expect(note.contains("At β = 1.00 the pixel precision is below 0.1") && !note.contains("β = 1.50"), "\(note)")
            let good = HTE5ClassBalance.qualityNote(rows.filter { $0.beta == 2 })
            #expect(!good.isEmpty && !good.contains("below"))
            #expect(HTE5ClassBalance.qualityNote([]).isEmpty)
        }
    }
}
