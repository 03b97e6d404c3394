import Foundation
import Testing
import TestSupport
@testable import ho_e2_cost

extension ExperimentSmoke {
    @Suite struct HOE2SmokeTests {
        /// A tiny run writes the timings, table, figure and a verdict for HO-C3.
        @Test func producesFiles() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ho-e2-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let cmd = try HOE2Cost.parseAsRoot(["--dimensions", "4", "8", "16", "--repeats", "2", "--out", base.path, "--threads", "1"]) as! HOE2Cost
            try cmd.run()
            // Issue 19: the committed folder has a column dictionary naming every CSV and column.
            try ExperimentSmoke.expectColumnDictionary(in: base)
            let timings = try String(contentsOf: base.appendingPathComponent("timings.csv"), encoding: .utf8)
            // 7 methods × 3 dimensions × 2 repeats + header.
            #expect(timings.split(separator: "\n").count == 1 + 7 * 3 * 2)
            let claims = try String(contentsOf: base.appendingPathComponent("claims.json"), encoding: .utf8)
            #expect(claims.contains("HO-C3") && claims.contains("log-log slope of time("))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("figures/cost_vs_dimension.pdf").path))
        }

        /// The ratio slope recovers exact power laws: time_a ∝ D^1.2, time_b ∝ D^0.4 give 0.8,
        /// with a zero-width interval.
        @Test func ratioSlopeOfPowerLaws() {
            let ds: [Double] = [10, 50, 200, 784]
            let e = HOE2Cost.ratioSlope(dimensions: ds, numerator: ds.map { 3e-4 * pow($0, 1.2) }, denominator: ds.map { 2e-5 * pow($0, 0.4) })
            #expect(abs(e.mean - 0.8) < Tolerance.float64Ops && e.halfWidth < Tolerance.float64Ops)
        }

        /// The interpolated quantile on a hand-made sample.
        @Test func quantile() {
            #expect(HOE2Cost.quantile([1, 2, 3, 4], 0.5) == 2.5)
            #expect(HOE2Cost.quantile([1, 2, 3, 4], 0) == 1 && HOE2Cost.quantile([1, 2, 3, 4], 1) == 4)
        }
    }
}
