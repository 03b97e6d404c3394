import ExperimentKit
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
                let cmd = try HOE3VarianceReduction.parseAsRoot(["--train-steps", "10", "--samples", "300", "--seeds", "2",
                                                                 "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE3VarianceReduction
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["spread.csv", "training.csv", "error_ratios.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HO-C4") && claims.contains("σ/s_min") && claims.contains("log-log slope of std(plain)/std(VR)"))
        }

        /// s_min of the 2-D mixture by hand: covariance Σ π_k(Σ_k + (μ_k − m)(μ_k − m)ᵀ) =
        /// [[2.48, 0.42], [0.42, 0.54]], λ_min = 1.51 − √(1.51² − 1.1628); and the σ⁻² law gives
        /// slope −2 exactly on exact data, with an interval that widens with the input intervals.
        @Test func scaleAndSlope() {
            let sMin = HOE3VarianceReduction.smallestStandardDeviation(SyntheticMixtures.anisotropic2D())
            let lambda = 1.51 - (1.51 * 1.51 - 1.1628).squareRoot()
            #expect(abs(sMin - lambda.squareRoot()) < Tolerance.float64Ops)
            let r0 = 7.0 / (0.01 * 0.01), r1 = 7.0 / (0.05 * 0.05)
            let exact = HOE3VarianceReduction.inverseSquareSlope(sigmas: (0.01, 0.05), ratios: (r0, r1), intervals: ((r0, r0), (r1, r1)))
            #expect(abs(exact.mean + 2) < Tolerance.float64Ops && exact.halfWidth < Tolerance.float64Ops)
            let wide = HOE3VarianceReduction.inverseSquareSlope(sigmas: (0.01, 0.05), ratios: (r0, r1), intervals: ((0.9 * r0, 1.1 * r0), (0.9 * r1, 1.1 * r1)))
            #expect(abs(wide.mean + 2) < Tolerance.float64Ops && wide.halfWidth > 0.05)
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
