import DataIO
import ExperimentKit
import Foundation
import Testing
import TestSupport
@testable import image_budget

extension ExperimentSmoke {
    @Suite(.serialized) struct ImageBudgetSmokeTests {
        /// A tiny budget grid (width 8, checkpoints at 4 and 8 steps, T = 1 and 2, 12 samples)
        /// writes one budget row per cell, twice identically for the same seed (timings aside),
        /// a grid per width and a knee row per data set.
        @Test func producesTheGridDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("image-budget-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for name in ["a", "b"] {
                let cmd = try ImageBudget.parseAsRoot(["--train-steps", "8", "4", "--langevin-steps", "1", "2", "--width", "8", "--samples", "12",
                                                       "--classifier", classifierURL.path,
                                                       "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! ImageBudget
                try cmd.run()
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["budget.csv", "real.csv", "knee.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let (header, rows) = try CSVFile.read(from: base.appendingPathComponent("a/budget.csv"))
            #expect(rows.count == 4)
            let steps = header.firstIndex(of: "steps")!, t = header.firstIndex(of: "langevin_steps")!
            #expect(Set(rows.map { "\($0[steps])/\($0[t])" }) == ["4/1", "4/2", "8/1", "8/2"])
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/images/budget-digits8x8-w8.png").path))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/figures/budget_digits8x8.pdf").path))
            let config = try String(contentsOf: base.appendingPathComponent("a/config.json"), encoding: .utf8)
            #expect(config.contains("\"emaBiasCorrected\" : true"))
        }

        /// The knee on hand-made rows: the cheapest cell within 95 % of the best precision and
        /// entropy that passes the gate; none when no cell passes.
        @Test func kneeOnHandMadeRows() {
            func row(_ w: Int, _ s: Int, _ t: Int, _ p: Double, _ h: Double) -> ImageBudget.BudgetRow {
                ImageBudget.BudgetRow(dataset: "d", width: w, steps: s, langevinSteps: t, samples: 100, precisionPixels: p, recallPixels: 0.5,
                                      precisionFeatures: 0.5, recallFeatures: 0.5, fdFeatures: 1, kidFeatures: 0.1, classEntropy: h,
                                      largestClassShare: 0.2, farOutsideShare: 0, nnDistanceMean: 1, divergedChains: 0)
            }
            let rows = [row(16, 500, 20, 0.40, 2.0), row(16, 1000, 20, 0.90, 2.1), row(16, 1000, 100, 0.93, 2.2),
                        row(16, 2000, 100, 0.95, 2.2), row(32, 500, 100, 0.94, 2.2)]
            // 16·16·1000 = 256,000 < 32·32·500 = 512,000; T = 20 misses 95 % of the best entropy (2.09).
            let knee = ImageBudget.knee(rows, realEntropy: 2.3, fraction: 0.95)
            #expect(knee?.width == 16 && knee?.steps == 1000 && knee?.langevinSteps == 100)
            #expect(ImageBudget.knee(rows.map { var r = $0; r.precisionPixels = 0.3; return r }, realEntropy: 2.3, fraction: 0.95) == nil)
        }
    }
}
