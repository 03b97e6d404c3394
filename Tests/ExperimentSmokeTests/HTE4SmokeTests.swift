import Foundation
import Testing
import TestSupport
@testable import ht_e4_convergence

extension ExperimentSmoke {
    @Suite(.serialized) struct HTE4SmokeTests {
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e4-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HTE4Convergence.parseAsRoot(["--chains", "10", "--train-steps", "30", "--langevin-steps", "100", "--seeds", "2",
                                                           "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HTE4Convergence
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["trace.csv", "divergence.csv", "magnitude.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C7") && claims.contains("exact-minimiser exponent"))
            let divergence = try String(contentsOf: base.appendingPathComponent("a/divergence.csv"), encoding: .utf8)
            #expect(divergence.contains("laplace-sigma-scaled") && divergence.contains("unscaled-gaussian"))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/figures/magnitude_vs_distance.pdf").path))
        }

        /// The exponent fit recovers an exact power law inside the range and ignores points outside;
        /// the 2-D Gaussian noise norm's 99 % quantile is √(2 ln 100) (chi with 2 d.o.f.).
        @Test func exponentAndSupport() {
            let d: [Double] = [0.5, 1, 2, 3, 5, 20]
            let norms = d.map { $0 < 4 ? 3 * pow($0, 0.5) : 1e6 }
            #expect(abs(HTE4Convergence.exponent(distances: d, norms: norms, in: 1...4)! - 0.5) < Tolerance.float64Ops)
            let quantileError = 0.02  // 200 000 draws: the 99 % quantile's s.e. is ≈ 0.005
            #expect(abs(HTE4Convergence.supportRadius(beta: 2, sigma: 1, quantile: 0.99) - (2 * log(100.0)).squareRoot()) < quantileError)
        }

        /// The nearest-point distance is exact on a hand-made case.
        @Test func nearestDistance() {
            let tolerance = 1e-12
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4, 10, 10, -1, 0]) - 1) < tolerance)
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4]) - 5) < tolerance)
        }
    }
}
