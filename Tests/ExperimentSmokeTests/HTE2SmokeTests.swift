import DataIO
import Foundation
import ScoreKit
import TensorCore
import Testing
import TestSupport
@testable import ht_e2_noise_scaling

/// Runs ht-e2-noise-scaling end to end on tiny stand-in data files written by the test (the
/// real ones come from `make data`): files exist, the same seed gives identical CSVs.
extension ExperimentSmoke {
    @Suite(.serialized) struct HTE2SmokeTests {
        func writeData(_ dir: URL, name: String, side: Int, count: Int, seed: UInt64) throws {
            var rng = Xoshiro256(seed: seed)
            func split(_ n: Int) throws -> LabeledImages {
                try LabeledImages(images: Tensor<Float>.randomUniform([n, side * side], using: &rng),
                                  labels: (0..<n).map { UInt8($0 % 10) }, height: side, width: side)
            }
            try ImageDataset.write(train: try split(count), test: try split(10), classes: 10,
                                   metadata: ImageDatasetMetadata(sourcePackage: "test", sourceVersion: "0", sourceSHA256: ["none": String(repeating: "0", count: 64)], description: "random"),
                                   to: dir.appendingPathComponent("\(name).h5"))
        }

        func run(_ out: URL, data: URL) throws {
            let cmd = try HTE2NoiseScaling.parseAsRoot(
                ["--samples", "500", "--seeds", "2", "--seed", "3", "--dimensions", "64", "196", "--out", out.path, "--data-dir", data.path, "--threads", "2"]) as! HTE2NoiseScaling
            try cmd.run()
        }

        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e2-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let data = base.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try writeData(data, name: "digits8x8", side: 8, count: 40, seed: 1)
            try writeData(data, name: "fashion-mnist", side: 28, count: 40, seed: 2)
            let a = base.appendingPathComponent("a"), b = base.appendingPathComponent("b")
            try run(a, data: data)
            try run(b, data: data)
            for name in ["ratios.csv", "data_sources.csv", "schedules.csv", "overlap_curves.csv"] {
                #expect(try Data(contentsOf: a.appendingPathComponent(name)) == Data(contentsOf: b.appendingPathComponent(name)), "\(name) differs")
            }
            let claims = try String(contentsOf: a.appendingPathComponent("claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C4") && claims.contains("HT-C5"))
            // Issue 17: HT-C4 on the fixed reference law, HT-C5 on paired continuous L.
            #expect(claims.contains("reference-law overlap") && claims.contains("paired by seed"))
            let ratios = try String(contentsOf: a.appendingPathComponent("ratios.csv"), encoding: .utf8)
            #expect(ratios.hasPrefix(HTE2NoiseScaling.RatioColumns.all.joined(separator: ",")))
            #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent("figures/overlap_by_level.pdf").path))
        }

        /// The continuous level count: exact at a ratio that hits σ_L on a level, its floor is the
        /// integer schedule's length, and paired differences have the sign of the γ difference.
        @Test func continuousLevelsMatchIntegerSchedule() {
            let (s1, sL) = (40.0, 0.01)
            let span = log(s1 / sL)
            let exactRatio = pow(s1 / sL, 1.0 / 9)  // 10 levels exactly
            #expect(abs(ContinuousLevels.count(span: span, ratio: exactRatio) - 10) < Tolerance.float64Ops)
            for gamma in [1.013, 1.05, 1.2, 1.7] {
                let lc = ContinuousLevels.count(span: span, ratio: gamma)
                #expect(Int(lc.rounded(.down)) == NoiseSchedule.geometric(sigmaMax: s1, ratio: gamma, sigmaMin: sL).count)
            }
            // A larger γ (heavier tails) gives fewer levels: the paired difference is negative.
            #expect(ContinuousLevels.count(span: span, ratio: 1.03) - ContinuousLevels.count(span: span, ratio: 1.02) < 0)
        }

        /// A missing data file gives an error that names the file and the command that makes it.
        @Test func missingDataIsAClearError() throws {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e2-nodata-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: out) }
            let cmd = try HTE2NoiseScaling.parseAsRoot(["--samples", "500", "--out", out.path, "--data-dir", "/nonexistent"]) as! HTE2NoiseScaling
            #expect(throws: (any Error).self) { try cmd.run() }
        }
    }
}
