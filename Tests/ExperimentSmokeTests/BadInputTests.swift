// Issue 26's bad-input cases, replayed against every experiment's command line: each is refused at
// parse time with one line that names the option, the bad value and what was expected (never a
// crash with a backtrace, a "Missing value", or a silent run).
import ArgumentParser
import Foundation
import Testing
@testable import ho_e1_hessian_accuracy
@testable import ho_e2_cost
@testable import ho_e3_variance_reduction
@testable import ho_e4_denoising_uncertainty
@testable import ho_e5_ozaki_synthetic
@testable import ho_e6_ozaki_images
@testable import ht_e0_toy_balance
@testable import ht_e1_concentration
@testable import ht_e2_noise_scaling
@testable import ht_e3_score_error
@testable import ht_e4_convergence
@testable import ht_e5_class_balance
@testable import ht_e6_sample_quality
@testable import image_kit_demo

@Suite struct BadInputTests {
    /// The error message `command` prints for `args`, or nil when they parse.
    static func refusal(_ command: any ParsableCommand.Type, _ args: [String]) -> String? {
        do {
            _ = try command.parseAsRoot(args)
            return nil
        } catch {
            return command.message(for: error)
        }
    }

    /// A built experiment executable next to the test bundle.
    static func executable(_ name: String) throws -> URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return try #require([dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "\(name) executable not found near \(dir.path)")
    }

    /// A repeated list value crashed with "unit keys must be unique" (exit 132), or, in ho-e2,
    /// wrote every row twice.
    @Test func repeatedListValues() {
        let cases: [(any ParsableCommand.Type, [String], String)] = [
            (HTE2NoiseScaling.self, ["--dimensions", "64", "64"], "--dimensions has 64 twice; give each value once"),
            (HTE3ScoreError.self, ["--dimensions", "8", "8"], "--dimensions has 8 twice; give each value once"),
            (HOE1HessianAccuracy.self, ["--datasets", "random-5", "random-5"], "--datasets has random-5 twice; give each value once"),
            (HOE2Cost.self, ["--dimensions", "10", "10"], "--dimensions has 10 twice; give each value once"),
            (HOE2Cost.self, ["--dimensions", "4", "8", "4", "4"], "--dimensions has 4 3 times; give each value once"),
        ]
        for (command, args, message) in cases {
            #expect(Self.refusal(command, args) == message, "\(command) \(args)")
        }
        #expect(Self.refusal(HTE3ScoreError.self, ["--dimensions", "2", "8"]) == nil)
    }

    /// The crash case through the real executable: exit status 64 (a usage error) and the
    /// message, no crash report.
    @Test func repeatedListValueExitsCleanly() throws {
        let process = Process(), err = Pipe()
        process.executableURL = try Self.executable("ht-e2-noise-scaling")
        process.arguments = ["--dimensions", "64", "64", "--out", FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString)").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 64, "\(process.terminationStatus): \(text)")
        #expect(text.hasPrefix("Error: --dimensions has 64 twice; give each value once\n") && !text.contains("Fatal error"), "\(text)")
    }

    /// A negative count was answered "Missing value for '--X'" (ArgumentParser read "-5" as an
    /// option); now each experiment's own check says what the value must be.
    @Test func negativeCountsSayWhatIsExpected() {
        let cases: [(any ParsableCommand.Type, [String], String)] = [
            (HTE0ToyBalance.self, ["--chains", "-5"], "--chains must be at least 10, got -5"),
            (HTE1Concentration.self, ["--samples", "-200"], "--samples must be at least 200 (20 batches of 10), got -200"),
            (HTE2NoiseScaling.self, ["--samples", "-1"], "--samples must be at least 500, got -1"),
            (HTE3ScoreError.self, ["--eval-points", "-1"], "--eval-points must be at least 2, got -1"),
            (HTE4Convergence.self, ["--train-steps", "-30"], "--train-steps must be at least 1, got -30"),
            (HTE5ClassBalance.self, ["--samples", "-12"], "--samples must be at least 6 (PRDC uses k = 5 neighbours), got -12"),
            (HTE6SampleQuality.self, ["--langevin-steps", "-2"], "--langevin-steps must be at least 1, got -2"),
            (HOE1HessianAccuracy.self, ["--test-points", "-1"], "--test-points must be at least 2, got -1"),
            (HOE2Cost.self, ["--repeats", "-2"], "--repeats must be at least 1, got -2"),
            (HOE3VarianceReduction.self, ["--steps", "-10"], "--train-steps must be at least 1, got -10"),
            (HOE4DenoisingUncertainty.self, ["--eval-images", "-2"], "--eval-images must be at least 2, got -2"),
            (HOE5OzakiSynthetic.self, ["--chains", "-4"], "--chains must be at least 2, got -4"),
            (HOE6OzakiImages.self, ["--chains", "-1"], "--chains must be at least 1, got -1"),
            (ImageKitDemo.self, ["--sigma-min", "-0.3"], "--sigma-min must be a positive number, got -0.3"),
            // The shared options, through an experiment.
            (HTE4Convergence.self, ["--seeds", "-3"], "--seeds must be at least 1, got -3"),
            (HTE4Convergence.self, ["--threads", "-1"], "--threads must be at least 1, got -1"),
        ]
        for (command, args, message) in cases {
            #expect(Self.refusal(command, args) == message, "\(command) \(args)")
        }
    }

    /// `--data-dir ''` reported "/digits8x8.h5: file not found".
    @Test func emptyDataDirectory() {
        for command in [HTE2NoiseScaling.self, HTE3ScoreError.self, HOE1HessianAccuracy.self] as [any ParsableCommand.Type] {
            #expect(Self.refusal(command, ["--data-dir", ""]) == "--data-dir must not be empty", "\(command)")
        }
    }

    /// A repeated `--seed` silently took the last value; `--seeds 1000000000000` was accepted.
    @Test func sharedOptionsThroughAnExperiment() {
        #expect(Self.refusal(HOE5OzakiSynthetic.self, ["--seed", "1", "--seed", "2"]) == "--seed is given 2 times (1, 2); give it once")
        #expect(Self.refusal(HTE2NoiseScaling.self, ["--seeds", "1000000000000"])
                == "--seeds must be at most 1000 (independent seeds; the largest protocol uses 20), got 1000000000000")
    }
}
