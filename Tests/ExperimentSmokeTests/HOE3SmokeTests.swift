import Foundation
import ScoreKit
import TensorCore
import Testing
import TestSupport
@testable import ho_e3_variance_reduction

extension ExperimentSmoke {
    @Suite(.serialized) struct HOE3SmokeTests {
        /// A tiny run writes every file, twice identically for the same seed.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e3-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HOE3VarianceReduction.parseAsRoot(["--steps", "10", "--samples", "300", "--seeds", "2",
                                                                 "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE3VarianceReduction
                try cmd.run()
            }
            for f in ["spread.csv", "training.csv", "error_ratios.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HO-C4"))
        }

        /// The bootstrap spread ratio: exact for a scaled copy, and its interval holds the estimate.
        @Test func stdRatio() {
            var rng = Xoshiro256(seed: 7)
            let b = (0..<500).map { _ in rng.nextNormal() }
            let scaled = HOE3VarianceReduction.stdRatioCI(b.map { 3 * $0 }, b, resamples: 200, seed: 1)
            #expect(abs(scaled.mean - 3) < 1e-12 && abs(scaled.low - 3) < 1e-9 && abs(scaled.high - 3) < 1e-9)
            let a = (0..<500).map { _ in 2 * rng.nextNormal() }
            let independent = HOE3VarianceReduction.stdRatioCI(a, b, resamples: 300, seed: 1)
            #expect(independent.low <= independent.mean && independent.mean <= independent.high)
            #expect(independent.low < 2.3 && independent.high > 1.7, "interval \(independent) should be near the true ratio 2")
        }
    }
}
