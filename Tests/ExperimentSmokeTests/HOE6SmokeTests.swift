import DataIO
import ExperimentKit
import Foundation
import Testing
import TestSupport
@testable import ho_e6_ozaki_images

extension ExperimentSmoke {
    @Suite(.serialized) struct HOE6SmokeTests {
        /// A tiny run (a classifier trained on 320 images for 1 epoch, C = 8, 4 training steps, 4
        /// chains per start kind, 12 steps, 2 seeds) writes every file, twice identically for the
        /// same seed; HO-C8 gets one check per step ratio.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e6-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for name in ["a", "b"] {
                let cmd = try HOE6OzakiImages.parseAsRoot(["--train-steps", "4", "--chains", "4", "--langevin-steps", "12", "--seeds", "2", "--base-channels", "8",
                                                           "--classifier", classifierURL.path,
                                                           "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE6OzakiImages
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["mixing.csv", "left.csv", "chains.csv", "loss.csv", "claims.json"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            for f in ["images/chains-c-0.01.png", "images/chains-c-0.2.json", "models/score-diagonal.h5", "tables/mixing.md", "config.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/\(f)").path), "\(f) missing")
            }
            let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/claims.json")))
            #expect(claims.map(\.claim) == ["HO-C8"] && claims[0].checks.count == 3)
            // HO-C8 pairs chains: 2 seeds × 2 start kinds × 4 chains per step size.
            for check in claims[0].checks { #expect(check.estimate.n == 16 && check.power?.counts == "chains") }
            // chains.csv agrees with mixing.csv: per (seed, c, sampler, start) the mean of the
            // chains' switches is the row's switches_per_chain.
            let run = base.appendingPathComponent("a")
            let chains = try CSVFile.read(from: run.appendingPathComponent("chains.csv"))
            let mixing = try CSVFile.read(from: run.appendingPathComponent("mixing.csv"))
            #expect(chains.rows.count == 3 * 2 * 2 * 2 * 4)
            func col(_ f: (header: [String], rows: [[String]]), _ name: String) -> Int { f.header.firstIndex(of: name)! }
            for row in mixing.rows {
                let key = ["seed", "step_ratio", "sampler", "start"].map { row[col(mixing, $0)] }
                let mine = chains.rows.filter { r in ["seed", "step_ratio", "sampler", "start"].map { r[col(chains, $0)] } == key }
                let mean = mine.map { Double($0[col(chains, "switches")])! }.reduce(0, +) / Double(mine.count)
                #expect(mine.count == 4 && abs(mean - Double(row[col(mixing, "switches_per_chain")])!) <= Tolerance.float64Ops)
            }
        }

        /// Mixing statistics on hand-made class records (records at steps 0, 10, 20, 30).
        @Test func mixingStatistics() {
            let chains = [[1, 1, 2, 1], [3, 3, 3, 3]]
            let m = HOE6OzakiImages.mixing(chains, recordSteps: [0, 10, 20, 30], reportSteps: [10, 20, 30], classCount: 4)
            #expect(m.left == [0, 0.5, 0.5])
            #expect(abs(m.switchesPerChain - 1) <= Tolerance.float64Ops)  // 2 switches over 2 chains
            #expect(m.switches == [2, 0])
            // Pooled records after step 0: classes 1, 2, 1, 3, 3, 3 → p = (2, 1, 3)/6.
            let p = [2.0, 1, 3].map { $0 / 6 }
            #expect(abs(m.entropy + p.reduce(0) { $0 + $1 * log($1) }) <= Tolerance.float64Ops)
        }
    }
}
