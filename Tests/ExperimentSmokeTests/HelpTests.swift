// Every experiment's `--help` says what an omitted override means at each scale (issue 19):
// each option whose help starts "Override"/"Restrict" carries "(quick: …, full: …)", and the
// values printed are the scale configurations' own.
import ArgumentParser
import ExperimentKit
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

@Suite struct HelpTests {
    static let commands: [(String, any ParsableCommand.Type)] = [
        (HTE0ToyBalance.experimentID, HTE0ToyBalance.self), (HTE1Concentration.experimentID, HTE1Concentration.self),
        (HTE2NoiseScaling.experimentID, HTE2NoiseScaling.self), (HTE3ScoreError.experimentID, HTE3ScoreError.self),
        (HTE4Convergence.experimentID, HTE4Convergence.self), (HTE5ClassBalance.experimentID, HTE5ClassBalance.self),
        (HTE6SampleQuality.experimentID, HTE6SampleQuality.self), (HOE1HessianAccuracy.experimentID, HOE1HessianAccuracy.self),
        (HOE2Cost.experimentID, HOE2Cost.self), (HOE3VarianceReduction.experimentID, HOE3VarianceReduction.self),
        (HOE4DenoisingUncertainty.experimentID, HOE4DenoisingUncertainty.self), (HOE5OzakiSynthetic.experimentID, HOE5OzakiSynthetic.self),
        (HOE6OzakiImages.experimentID, HOE6OzakiImages.self), (ImageKitDemo.experimentID, ImageKitDemo.self),
    ]

    /// The option blocks of a help text: each starts at a line "  --name …".
    static func optionBlocks(_ help: String) -> [String] {
        var blocks: [String] = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  -") { blocks.append(String(line)) } else if !blocks.isEmpty { blocks[blocks.count - 1] += " " + line.trimmingCharacters(in: .whitespaces) }
        }
        return blocks
    }

    /// Issue 30: every experiment of the registry decides its verdicts as a pure function of typed
    /// results (`TypedVerdicts`: readResults → claims → render), none at the tail of a render.
    @Test func everyExperimentHasTypedVerdicts() {
        for (id, command) in Self.commands where id != ImageKitDemo.experimentID {
            #expect(command is any TypedVerdicts.Type, "\(id) does not conform to TypedVerdicts")
        }
    }

    @Test func everyOverrideShowsBothScales() {
        // Every experiment of the one list (ExperimentRegistry, issue 30), and the image-kit demo.
        #expect(Self.commands.map(\.0).sorted() == (ExperimentRegistry.all.map(\.id) + [ImageKitDemo.experimentID]).sorted())
        for (id, command) in Self.commands {
            let blocks = Self.optionBlocks(command.helpMessage(columns: 400))
            let overrides = blocks.filter { $0.contains(" Override ") || $0.contains(" Restrict ") }
            #expect(!overrides.isEmpty, "\(id): no override options found in --help")
            for block in overrides {
                #expect(block.contains("(quick: ") && block.contains(", full: "), "\(id): \(block)")
            }
        }
    }

    /// Experiments that run several seeds by default say how many at each scale.
    @Test func seedDefaultsShown() {
        let multiSeed: [(any ParsableCommand.Type, SeedDefaults)] = [
            (HTE0ToyBalance.self, HTE0ToyBalance.seedDefaults), (HTE2NoiseScaling.self, HTE2NoiseScaling.seedDefaults),
            (HTE3ScoreError.self, HTE3ScoreError.seedDefaults), (HTE4Convergence.self, HTE4Convergence.seedDefaults),
            (HTE5ClassBalance.self, HTE5ClassBalance.seedDefaults), (HOE1HessianAccuracy.self, HOE1HessianAccuracy.seedDefaults),
            (HOE3VarianceReduction.self, HOE3VarianceReduction.seedDefaults), (HOE5OzakiSynthetic.self, HOE5OzakiSynthetic.seedDefaults),
            (HOE6OzakiImages.self, HOE6OzakiImages.seedDefaults), (HOE4DenoisingUncertainty.self, HOE4DenoisingUncertainty.seedDefaults),
        ]
        for (command, defaults) in multiSeed {
            #expect(command.helpMessage(columns: 400).contains("Seeds (--seeds): quick \(defaults.quick), full \(defaults.full)."), "\(command)")
        }
        #expect(HTE5ClassBalance.seedDefaults.full >= 5)  // issue 15: ≥ 5 seeds at full scale
    }

    /// The values come from the configurations, not from hand-typed text.
    @Test func valuesAreTheConfigurations() {
        let e5 = Self.optionBlocks(HTE5ClassBalance.helpMessage(columns: 400)).first { $0.contains("--train-steps") } ?? ""
        #expect(e5.contains("(quick: \(HTE5ClassBalance.Config.quick.steps), full: \(HTE5ClassBalance.Config.full.steps))"), "\(e5)")
        let e3 = Self.optionBlocks(HTE3ScoreError.helpMessage(columns: 400)).first { $0.contains("--dimensions") } ?? ""
        #expect(e3.contains("quick: \(HTE3ScoreError.Config.quick.dimensions.map(String.init).joined(separator: " "))"), "\(e3)")
        #expect(ScaleHelp.describe(Optional<Int>.none) == "none")
        #expect(ScaleHelp.describe(Optional(0.001)) == "0.001")
        #expect(ScaleHelp.describe([1.5, 2]) == "1.5 2.0" || ScaleHelp.describe([1.5, 2]) == "1.5 2")
    }
}
