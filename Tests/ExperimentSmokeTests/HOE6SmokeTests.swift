import DataIO
import ExperimentKit
import Foundation
import ScoreKit
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
            for f in ["mixing.csv", "left.csv", "chains.csv", "histogram_distance.csv", "reference_mix.csv", "loss.csv", "claims.json"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            for f in ["images/chains-c-0.01.png", "images/chains-c-0.2.json", "images/chains-c-4.0.png", "figures/histogram_distance.png", "models/score-diagonal.h5", "tables/mixing.md", "config.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/\(f)").path), "\(f) missing")
            }
            let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/claims.json")))
            // One check per step size at which neither sampler diverged (issue 29).
            let mixingRows = try CSVFile.read(from: base.appendingPathComponent("a/mixing.csv"))
            let ratioColumn = mixingRows.header.firstIndex(of: "step_ratio")!, divergedColumn = mixingRows.header.firstIndex(of: "diverged_chains_all_starts")!
            let samplerColumn = mixingRows.header.firstIndex(of: "sampler")!, precisionColumn = mixingRows.header.firstIndex(of: "pixel_precision_final")!
            let stableRatios = Set(mixingRows.rows.map { $0[ratioColumn] }).filter { q in
                Set(mixingRows.rows.map { $0[samplerColumn] }).allSatisfy { rule in
                    let rows = mixingRows.rows.filter { $0[ratioColumn] == q && $0[samplerColumn] == rule }
                    let precision = rows.map { Double($0[precisionColumn])! }.reduce(0, +) / Double(rows.count)
                    return rows.allSatisfy { $0[divergedColumn] == "0" } && precision >= ImageQualityGate.minimumPixelPrecision
                }
            }
            #expect(claims.map(\.claim) == ["HO-C8"] && claims[0].checks.count == stableRatios.count)
            #expect(claims[0].checks.count == 7 || claims[0].notes.contains("Not compared at equal ε"))
            #expect(claims[0].notes.contains("Verdict before: not supported"))
            // HO-C8 pairs chains: 2 seeds × 2 start kinds × 4 chains per step size.
            for check in claims[0].checks { #expect(check.estimate.n == 16 && check.power?.counts == "chains") }
            // chains.csv agrees with mixing.csv: per (seed, c, sampler, start) the mean of the
            // chains' switches is the row's switches_per_chain.
            let run = base.appendingPathComponent("a")
            let chains = try CSVFile.read(from: run.appendingPathComponent("chains.csv"))
            let mixing = try CSVFile.read(from: run.appendingPathComponent("mixing.csv"))
            #expect(chains.rows.count == 7 * 2 * 2 * 2 * 4)
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
    

        /// Persistent switches on hand-made records: flips shorter than `persist` records count
        /// nothing; a class held long enough counts once; a return to the start class counts too.
        @Test func persistentSwitchesKnownAnswers() {
            typealias T = HOE6OzakiImages
            #expect(T.persistentSwitches([0, 1, 0, 1, 0, 1, 0], persist: 3) == 0)
            #expect(T.persistentSwitches([0, 1, 0, 2, 2, 2, 2], persist: 3) == 1)
            #expect(T.persistentSwitches([0, 2, 2, 2, 0, 0, 0], persist: 3) == 2)
            // A run that starts too close to the end is not counted.
            #expect(T.persistentSwitches([0, 0, 0, 0, 0, 5, 5], persist: 3) == 0)
            // persist = 1 counts every change, as the raw switches.
            let chain = [1, 1, 2, 1, 3, 3]
            #expect(T.persistentSwitches(chain, persist: 1) == T.mixing([chain], recordSteps: Array(0..<6), reportSteps: [5], classCount: 4).switches[0])
            #expect(T.mixing([chain], recordSteps: Array(0..<6), reportSteps: [5], classCount: 4, persist: 2).persistentSwitches == [1])
        }

        /// Total variation against a closed form.
        @Test func histogramDistanceKnownAnswers() {
            typealias T = HOE6OzakiImages
            #expect(abs(T.histogramDistance([0, 0, 1, 1], reference: [0.5, 0.5]) - 0) <= Tolerance.float64Ops)
            #expect(abs(T.histogramDistance([0, 0, 0, 0], reference: [0.5, 0.5]) - 0.5) <= Tolerance.float64Ops)
            #expect(abs(T.histogramDistance([2, 2], reference: [0.25, 0.25, 0.5]) - 0.5) <= Tolerance.float64Ops)
        }
    }
}
