import Foundation
import TensorCore
import Testing
import TestSupport
@testable import ho_e5_ozaki_synthetic

extension ExperimentSmoke {
    @Suite struct HOE5SmokeTests {
        /// A tiny run writes every file, twice identically for the same seed.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e5-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HOE5OzakiSynthetic.parseAsRoot(["--chains", "20", "--langevin-steps", "30", "--train-steps", "10", "--seeds", "2",
                                                              "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE5OzakiSynthetic
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["fractions.csv", "reached.csv", "learned_accuracy.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HO-C7"))
            // The clamped Ozaki arms are a pre-registered check of HO-C7 (issue 17).
            let reached = try String(contentsOf: base.appendingPathComponent("a/reached.csv"), encoding: .utf8)
            #expect(reached.hasPrefix("scores,rule,step_size,seed,steps_to_band,reached,diverged,clamped_curvatures"))
            #expect(reached.contains(",Ozaki-clamped,"))
            #expect(claims.contains("best ULA − best clamped Ozaki"))
        }

        /// Start states lie inside the support: x₁ in [−6, 6], x₂ with the stiff direction's
        /// standard deviation √(0.01 + σ²) (sample s.d. within 10 % for 4000 chains).
        @Test func startStatesInsideSupport() {
            let c = HOE5OzakiSynthetic.Config.full
            var rng = Xoshiro256(seed: 3)
            let x = HOE5OzakiSynthetic.startStates(c, using: &rng)
            let x1 = (0..<x.rows).map { x[$0, 0] }, x2 = (0..<x.rows).map { x[$0, 1] }
            #expect(x1.allSatisfy { abs($0) <= 6 })
            let sd = (x2.reduce(0) { $0 + $1 * $1 } / Double(x2.count)).squareRoot()
            let samplingTolerance = 0.1  // s.e. of a sample s.d. with n = 4000 is ≈ 1.1 %
            #expect(abs(sd / (0.01 + c.sigma * c.sigma).squareRoot() - 1) < samplingTolerance)
        }

        /// Steps to the band: the first record from which the fraction stays inside.
        @Test func stepsToBand() {
            let steps = [10, 20, 30, 40, 50]
            #expect(HOE5OzakiSynthetic.stepsToBand(steps: steps, fractions: [0.5, 0.79, 0.7, 0.81, 0.8], target: 0.8, band: 0.02, horizon: 50) == 40)
            #expect(HOE5OzakiSynthetic.stepsToBand(steps: steps, fractions: [0.8, 0.8, 0.8, 0.8, 0.7], target: 0.8, band: 0.02, horizon: 50) == 51)
            #expect(HOE5OzakiSynthetic.stepsToBand(steps: steps, fractions: [0.8, 0.8, 0.8, 0.8, 0.8], target: 0.8, band: 0.02, horizon: 50) == 10)
        }
    }
}
