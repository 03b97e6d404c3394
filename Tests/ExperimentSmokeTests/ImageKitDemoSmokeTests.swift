import DataIO
import ExperimentKit
import Foundation
import TensorCore
import Testing
import TestSupport
@testable import image_kit_demo

extension ExperimentSmoke {
    @Suite(.serialized) struct ImageKitDemoSmokeTests {
        /// A tiny run (a classifier trained on 320 images for 1 epoch, 8 training steps, σ_min = 0.3, 12 samples) writes every file, twice
        /// identically for the same seed (in separate parent folders, so that the second run
        /// trains its own model instead of loading the first run's from the model store).
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("image-kit-demo-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for name in ["a", "b"] {
                let cmd = try ImageKitDemo.parseAsRoot(["--steps", "8", "--samples", "12", "--sigma-min", "0.3", "--classifier", classifierURL.path,
                                                        "--out", base.appendingPathComponent("\(name)/run").path, "--threads", "2"]) as! ImageKitDemo
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent("\(name)/run"))
            }
            for f in ["metrics.csv", "samples.csv", "loss.csv", "denoising.csv", "class_histogram.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/run/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/run/\(f)")), "\(f) differs")
            }
            for f in ["images/samples.png", "images/samples.json", "images/training-examples.png", "models/score-network.h5",
                      "tables/metrics.md", "complete.json", "config.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/run/\(f)").path), "\(f) missing")
            }
            let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: base.appendingPathComponent("a/run/images/samples.json")))
            #expect(sidecar.panelHeight == 8 && sidecar.rows.labels.count == 1 && sidecar.columns.labels.count == 10)
        }
    }
}
