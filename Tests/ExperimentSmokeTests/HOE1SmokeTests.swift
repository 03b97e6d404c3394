import DataIO
import Foundation
import ExperimentKit
import NeuralNet
import TensorCore
import Testing
import TestSupport
@testable import ho_e1_hessian_accuracy

extension ExperimentSmoke {
    @Suite(.serialized) struct HOE1SmokeTests {
        /// A tiny run writes every file, twice identically for the same seed.
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e1-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HOE1HessianAccuracy.parseAsRoot(["--datasets", "anisotropic-2d", "--train-steps", "20", "--test-points", "30", "--seeds", "2",
                                                               "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HOE1HessianAccuracy
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["arms.csv", "ratios.csv", "curves.csv", "denoising.csv", "tweedie_ratios.csv", "tweedie_identity.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HO-C1") && claims.contains("HO-C2"))
            // HO-C1 tests the DSM ↔ regression identity on the trained network (issue 17).
            let results = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("a/claims.json")))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/tables/arm_verdicts.md").path))
            let c1 = results.first { $0.claim == "HO-C1" }!
            #expect(!c1.checks.isEmpty && c1.checks.allSatisfy { $0.verdict == .supported && $0.provenance?.source == .ours })
        }

        /// Issue 17: a cell above the full-head limit gets the rank-r + diagonal head and a
        /// head-floor unit on the same test points; the floor is a relative error in [0, 1] (the
        /// diagonal alone gives at most 1) and HO-C2's notes quote it.
        @Test func lowRankCellsReportTheirHeadFloor() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e1-floor-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let cmd = try HOE1HessianAccuracy.parseAsRoot(["--datasets", "random-10", "--full-head-max-dimension", "5", "--train-steps", "20", "--test-points", "30",
                                                           "--seeds", "1", "--out", base.path, "--threads", "2"]) as! HOE1HessianAccuracy
            try cmd.run()
            let (header, rows) = try CSVFile.read(from: base.appendingPathComponent("head_floor.csv"))
            #expect(rows.count == 3, "one row per (σ, seed) cell of random-10 at quick scale (σ = 0.05, 0.1, 0.5): \(rows.count)")
            func column(_ name: String) -> [String] { let i = header.firstIndex(of: name)!; return rows.map { $0[i] } }
            #expect(column("dimension").allSatisfy { $0 == "10" } && column("rank").allSatisfy { $0 == "8" } && column("test_points").allSatisfy { $0 == "30" })
            #expect(column("relative_frobenius_floor").compactMap(Double.init).allSatisfy { $0 >= 0 && $0 <= 1 + 1e-12 })
            #expect(column("relative_frobenius_floor").compactMap(Double.init).count == 3)
            let results = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("claims.json")))
            #expect(results.first { $0.claim == "HO-C2" }!.notes.contains("Head representability (head_floor.csv)"))
            try ExperimentSmoke.expectColumnDictionary(in: base)
            // A result committed before the head-floor group existed (no head_floor.csv in the
            // folder or its record) still re-renders, without the floor sentence.
            let location = ResultLocation(final: base)
            var record = try #require(try CompletionRecord.read(location))
            record.files.removeAll { $0.name == "head_floor.csv" }
            try FileManager.default.removeItem(at: base.appendingPathComponent("head_floor.csv"))
            try JSONFile.write(record, to: location.record)
            let rerender = try HOE1HessianAccuracy.parseAsRoot(["--datasets", "random-10", "--full-head-max-dimension", "5", "--train-steps", "20", "--test-points", "30",
                                                                "--seeds", "1", "--out", base.path, "--threads", "2", "--render-only"]) as! HOE1HessianAccuracy
            try rerender.run()
            let again = try JSONDecoder().decode([ClaimResult].self, from: Data(contentsOf: base.appendingPathComponent("claims.json")))
            #expect(!again.first { $0.claim == "HO-C2" }!.notes.contains("Head representability"))
        }

        /// The per-point error metrics on a hand-made 2×2 case.
        @Test func errorMetrics() {
            let tolerance = 1e-12
            let truth = Tensor<Double>(shape: [1, 2, 2], scalars: [2, 0, 0, 1])
            let estimate = Tensor<Double>(shape: [1, 2, 2], scalars: [1, 1, 1, 1])
            let e = SecondOrderMetrics.errors(estimate, truth)
            #expect(abs(e.relativeFrobenius[0] - (3.0 / 5.0).squareRoot()) < tolerance)  // ‖Δ‖² = 1 + 1 + 1 + 0
            #expect(abs(e.mse[0] - 0.75) < tolerance)
            #expect(abs(e.diagonalMSE[0] - 0.5) < tolerance)
        }

        /// The autodiff arm is the symmetrised Jacobian: exact for a network that is linear in x.
        @Test func autodiffOfLinearNetwork() {
            var rng = Xoshiro256(seed: 1)
            let net = MLP<Double>(sizes: [3, 3], activation: .identity, using: &rng)
            let x = Tensor<Double>.randomNormal([4, 3], using: &rng)
            let h = SecondOrderMetrics.autodiffHessians(net, x, block: 3)
            let w = net.layers[0].weight  // [in, out]: output_o = Σ_i x_i W[i, o] + b_o, so J[o][i] = W[i, o]
            for b in 0..<4 {
                for o in 0..<3 {
                    for i in 0..<3 {
                        let expected = 0.5 * (w[i, o] + w[o, i])
                        #expect(abs(h.scalars[b * 9 + o * 3 + i] - expected) < 1e-12)
                    }
                }
            }
        }
    }
}
