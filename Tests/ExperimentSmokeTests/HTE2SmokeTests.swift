import DataIO
import Foundation
import ScoreKit
import TensorCore
import ExperimentKit
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
            // Issue 19: the committed folder has a column dictionary naming every CSV and column.
            try ExperimentSmoke.expectColumnDictionary(in: out)
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
            // Issue 30: HT-C4 per run under the exact law; issue 17: HT-C5 on paired continuous L.
            #expect(claims.contains("exact-law overlap") && claims.contains("paired by seed"))
            let ratios = try String(contentsOf: a.appendingPathComponent("ratios.csv"), encoding: .utf8)
            #expect(ratios.hasPrefix(HTE2NoiseScaling.RatioRow.header.joined(separator: ",")))
            #expect(FileManager.default.fileExists(atPath: a.appendingPathComponent("figures/overlap_by_level.pdf").path))
        }

        /// The built ht-e2-noise-scaling executable next to the test bundle.
        func executable() throws -> URL {
            let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent("ht-e2-noise-scaling") }
            return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                                "ht-e2-noise-scaling executable not found near \(dir.path)")
        }

        /// kill -9 and SIGINT in the middle of a run (after some work units have finished): the
        /// results folder is not created, the rerun resumes from the finished units, and its CSVs
        /// equal those of an uninterrupted run byte for byte.
        @Test(arguments: [SIGKILL, SIGINT]) func killedRunResumes(signal: Int32) throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e2-kill-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let data = base.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try writeData(data, name: "digits8x8", side: 8, count: 40, seed: 1)
            try writeData(data, name: "fashion-mnist", side: 28, count: 40, seed: 2)
            let killed = base.appendingPathComponent("killed"), reference = base.appendingPathComponent("reference")
            let process = Process()
            process.executableURL = try executable()
            process.arguments = ["--samples", "500", "--seeds", "2", "--seed", "3", "--dimensions", "64", "196", "--out", killed.path,
                                 "--data-dir", data.path, "--threads", "2"]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let units = ResultLocation(final: killed).unitsRoot
            let deadline = Date().addingTimeInterval(300)
            var finished = 0
            while Date() < deadline && process.isRunning {
                finished = (FileManager.default.enumerator(atPath: units.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".json") }.count
                if finished >= 2 { break }
                usleep(2_000)
            }
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            // SIGKILL ends the process by the signal; SIGINT by the run's handler (exit 130).
            let interrupted = signal == SIGKILL ? process.terminationReason == .uncaughtSignal : process.terminationStatus == 128 + SIGINT
            try #require(interrupted, "the run ended before it could be interrupted (\(process.terminationReason), status \(process.terminationStatus))")
            #expect(finished >= 2)
            #expect(!FileManager.default.fileExists(atPath: killed.path), "an interrupted first run must not leave a results folder")
            try run(killed, data: data)
            try run(reference, data: data)
            for name in ["ratios.csv", "data_sources.csv", "schedules.csv", "overlap_curves.csv", "claims.json"] {
                #expect(try Data(contentsOf: killed.appendingPathComponent(name)) == Data(contentsOf: reference.appendingPathComponent(name)), "\(name) differs")
            }
            let record = try #require(try CompletionRecord.read(ResultLocation(final: killed)))
            #expect(record.dataFiles.count == 2 && record.dataFiles.allSatisfy { $0.sha256.count == 64 })
        }

        /// An empty (valid-schema) data set is refused with the file named, before any work.
        @Test func emptyDataSetIsAClearError() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e2-empty-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let data = base.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try writeData(data, name: "digits8x8", side: 8, count: 0, seed: 1)
            try writeData(data, name: "fashion-mnist", side: 28, count: 40, seed: 2)
            let cmd = try HTE2NoiseScaling.parseAsRoot(["--samples", "500", "--out", base.appendingPathComponent("out").path, "--data-dir", data.path]) as! HTE2NoiseScaling
            do {
                try cmd.execute()
                Issue.record("an empty data set was accepted")
            } catch {
                #expect("\(error)".contains("digits8x8.h5") && "\(error)".contains("empty"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: base.appendingPathComponent("out").path))
        }

        /// Size options far beyond the machine are refused with the memory estimate in the message.
        @Test func hugeSizesAreRefused() {
            do {
                _ = try HTE2NoiseScaling.parseAsRoot(["--samples", "100000000000"])
                Issue.record("accepted 10^11 samples")
            } catch {
                let message = HTE2NoiseScaling.message(for: error)
                #expect(message.contains("--samples") && message.contains("GB") && message.contains("use at most"), "\(message)")
            }
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
