import Foundation
import TensorCore
import Testing
import TestSupport
@testable import ht_e3_score_error

extension ExperimentSmoke {
    @Suite(.serialized) struct HTE3SmokeTests {
        /// A tiny run writes every file, twice identically for the same seed.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e3-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HTE3ScoreError.parseAsRoot(["--no-digits", "--dimensions", "2", "8", "--train-steps", "40", "--eval-points", "20", "--seeds", "2",
                                                          "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HTE3ScoreError
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["schedules.csv", "levels.csv", "curves.csv", "summary.csv", "identity.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C1") && claims.contains("HT-C6"))
            let summary = try String(contentsOf: base.appendingPathComponent("a/summary.csv"), encoding: .utf8)
            #expect(summary.hasPrefix("dataset,dimension,beta,seed,levels,ratio,relative_error_same,relative_error_common,final_train_loss,relative_error_off,absolute_error_same,absolute_error_common,absolute_error_off"))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/figures/error_vs_dimension.pdf").path))
        }

        /// The relative-error sums are exact on a hand-made case.
        @Test func errorSums() {
            let tolerance = 1e-12
            let model = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
            let exact = Tensor<Double>(shape: [2, 2], scalars: [1, 0, 0, 4])
            let all = HTE3ScoreError.errorSums(model: model, exact: exact, rows: 2)
            #expect(abs(all.error - 13) < tolerance)  // 0 + 4 + 9 + 0
            #expect(abs(all.norm - 17) < tolerance)   // 1 + 16
            let first = HTE3ScoreError.errorSums(model: model, exact: exact, rows: 1)
            #expect(abs(first.error - 4) < tolerance && abs(first.norm - 1) < tolerance)
        }

        /// The synthetic mixture has the configured sizes and 10:1 split around ±offset·u.
        @Test func mixtureShape() {
            var c = HTE3ScoreError.Config.quick
            c.trainPoints = 110
            c.heldOutPoints = 22
            var rng = Xoshiro256(seed: 3)
            let set = HTE3ScoreError.mixture(c, dimension: 4, using: &rng)
            #expect(set.train.shape == [110, 4] && set.heldOut.shape == [22, 4])
            // Projections of the cluster means: the first 100 points sit near +offset along u, the last 10 near −offset.
            let majority = (0..<100).map { i in (0..<4).map { Double(set.train[i, $0]) } }
            let minority = (100..<110).map { i in (0..<4).map { Double(set.train[i, $0]) } }
            let mean = { (rows: [[Double]]) in (0..<4).map { j in rows.map { $0[j] }.reduce(0, +) / Double(rows.count) } }
            let (a, b) = (mean(majority), mean(minority))
            let distance = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            #expect(abs(distance - 2 * c.clusterOffset) < 0.5, "cluster means are \(distance) apart, expected ≈ \(2 * c.clusterOffset)")
        }
    }
}
