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
                let cmd = try HTE4Convergence.parseAsRoot(["--chains", "10", "--iterations", "30", "--steps", "100", "--seeds", "2",
                                                           "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HTE4Convergence
                try cmd.run()
            }
            for f in ["trace.csv", "divergence.csv", "magnitude.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C7"))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/figures/magnitude_vs_distance.pdf").path))
        }

        /// The nearest-point distance is exact on a hand-made case.
        @Test func nearestDistance() {
            let tolerance = 1e-12
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4, 10, 10, -1, 0]) - 1) < tolerance)
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4]) - 5) < tolerance)
        }
    }
}
