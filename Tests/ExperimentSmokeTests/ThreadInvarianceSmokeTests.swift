import ExperimentKit
import Foundation
import Testing
import TestSupport
@testable import ho_e4_denoising_uncertainty
@testable import ho_e6_ozaki_images
@testable import ht_e4_convergence

extension ExperimentSmoke {
    /// Issue 26, part 0: a run's numbers do not depend on `--threads`. An MLP experiment (HT-E4:
    /// MLP units, and the exact Float64 minimiser computed outside the units, which differed
    /// between 1 and 2 threads on an AVX-512 host) and an image experiment (HO-E4: a U-Net unit on
    /// oneDNN) each run at 1 and at 2 threads; every CSV and claims.json must be byte-identical,
    /// and config.json must name the ISA oneDNN dispatched to. HO-E6 too: second-order U-Net
    /// training, chain units and the classifier's PRDC features of the chains' last states.
    @Suite(.serialized) struct ThreadInvarianceSmokeTests {
        static func compare(_ base: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let one = base.appendingPathComponent("threads-1"), two = base.appendingPathComponent("threads-2")
            let files = ((FileManager.default.enumerator(atPath: one.path)?.allObjects as? [String]) ?? [])
                .filter { ($0.hasSuffix(".csv") || $0 == "claims.json") && !$0.hasPrefix("units/") }.sorted()
            #expect(files.count >= 3, "too few result files in \(one.path): \(files)", sourceLocation: sourceLocation)
            for f in files {
                let a = try Data(contentsOf: one.appendingPathComponent(f)), b = try Data(contentsOf: two.appendingPathComponent(f))
                #expect(a == b, "\(f) differs between --threads 1 and --threads 2", sourceLocation: sourceLocation)
            }
            let config = try String(contentsOf: one.appendingPathComponent("config.json"), encoding: .utf8)
            #expect(config.contains("\"oneDNNISA\" : \"") && config.contains("\"libraryThreads\" : 1"),
                    "config.json does not record oneDNN's ISA and the library team size", sourceLocation: sourceLocation)
        }

        @Test func mlpExperimentIsTheSameAtOneAndTwoThreads() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("threads-ht-e4-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for t in [1, 2] {
                let cmd = try HTE4Convergence.parseAsRoot(["--chains", "10", "--train-steps", "20", "--langevin-steps", "50", "--seeds", "2",
                                                           "--out", base.appendingPathComponent("threads-\(t)").path, "--threads", "\(t)"]) as! HTE4Convergence
                try cmd.run()
            }
            try Self.compare(base)
        }

        @Test func imageExperimentIsTheSameAtOneAndTwoThreads() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("threads-ho-e4-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for t in [1, 2] {
                let cmd = try HOE4DenoisingUncertainty.parseAsRoot(["--train-steps", "4", "--eval-images", "6", "--base-channels", "8",
                                                                    "--out", base.appendingPathComponent("threads-\(t)").path, "--threads", "\(t)"]) as! HOE4DenoisingUncertainty
                try cmd.run()
            }
            try Self.compare(base)
        }

        @Test func ozakiImageExperimentIsTheSameAtOneAndTwoThreads() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("threads-ho-e6-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            let classifierURL = try ExperimentSmoke.tinyDigitsClassifier(in: base)
            for t in [1, 2] {
                let cmd = try HOE6OzakiImages.parseAsRoot(["--train-steps", "4", "--chains", "4", "--langevin-steps", "12", "--seeds", "2", "--base-channels", "8",
                                                           "--classifier", classifierURL.path,
                                                           "--out", base.appendingPathComponent("threads-\(t)").path, "--threads", "\(t)"]) as! HOE6OzakiImages
                try cmd.run()
            }
            try Self.compare(base)
        }
    }
}
