import ExperimentKit
import Foundation
import Testing
import TestSupport
@testable import ho_e4_denoising_uncertainty

extension ExperimentSmoke {
    @Suite(.serialized) struct HOE4SmokeTests {
        /// A tiny run (C = 8, 4 training steps per model, 6 held-out images, 1 seed) writes every
        /// file, twice identically for the same seed, and both claims get verdicts from the code.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e4-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HOE4DenoisingUncertainty.parseAsRoot(["--train-steps", "4", "--eval-images", "6", "--base-channels", "8", "--seeds", "1",
                                                                    "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE4DenoisingUncertainty
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["calibration.csv", "diagnostics.csv", "calibration-deciles.csv", "learning-curve.csv", "structure.csv", "eigenvalues.csv", "loss.csv", "claims.json"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            for model in ["lowrank-A", "lowrank-B", "full-mixture"] {
                for g in ["denoising", "variance", "eigen"] {
                    #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/images/\(model)-\(g).png").path), "\(model)-\(g) missing")
                }
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/models/\(model)-seed0.h5").path))
            }
            let claims = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/claims.json")))
            #expect(claims.map(\.claim) == ["HO-C5", "HO-C6"])
            // HO-C5: lowrank-A and full-mixture each: ratio, ρ > 0, ρ gain; full-mixture also the
            // ratio against the exact variance (issue 29). HO-C6: one check.
            #expect(claims[0].checks.count == 7 && claims[1].checks.count == 1)
        }
    }
}
