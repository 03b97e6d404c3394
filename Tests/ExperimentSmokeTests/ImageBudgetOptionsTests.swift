import ExperimentKit
import Foundation
import Testing
@testable import ho_e4_denoising_uncertainty
@testable import ho_e6_ozaki_images
@testable import ht_e5_class_balance
@testable import ht_e6_sample_quality
@testable import image_kit_demo

extension ExperimentSmoke {
    /// Issue 27: every image experiment takes the same budget options (`--width`, `--ema`,
    /// `--ema-bias-correction` / `--no-ema-bias-correction`, `--batch`; `--base-channels` still
    /// accepted), they reach the configuration, bad values are one-line errors, and config.json's
    /// derived EMA initial-weight share follows them.
    @Suite struct ImageBudgetOptionsTests {
        static let overrides = ["--width", "24", "--ema", "0.995", "--no-ema-bias-correction", "--batch", "48"]

        @Test func everyImageExperimentAppliesTheSharedOptions() throws {
            let e5 = try HTE5ClassBalance.parseAsRoot(Self.overrides) as! HTE5ClassBalance
            #expect(e5.config.baseChannels == 24 && e5.config.emaDecay == 0.995 && e5.config.emaBiasCorrected == false && e5.config.batchSize == 48)
            let e6 = try HTE6SampleQuality.parseAsRoot(Self.overrides) as! HTE6SampleQuality
            #expect(e6.config.cases.allSatisfy { $0.baseChannels == 24 && $0.emaDecay == 0.995 && $0.emaBiasCorrected == false && $0.batchSize == 48 })
            let o4 = try HOE4DenoisingUncertainty.parseAsRoot(Self.overrides) as! HOE4DenoisingUncertainty
            #expect(o4.config.baseChannels == 24 && o4.config.emaDecay == 0.995 && o4.config.emaBiasCorrected == false && o4.config.batchSize == 48)
            let o6 = try HOE6OzakiImages.parseAsRoot(Self.overrides) as! HOE6OzakiImages
            #expect(o6.config.baseChannels == 24 && o6.config.emaDecay == 0.995 && o6.config.emaBiasCorrected == false && o6.config.batchSize == 48)
            let demo = try ImageKitDemo.parseAsRoot(Self.overrides) as! ImageKitDemo
            #expect(demo.config.baseChannels == 24 && demo.config.emaDecay == 0.995 && demo.config.emaBiasCorrected == false && demo.config.batchSize == 48)
            // The earlier name still works; the quick scale's default is the bias-corrected average.
            let alias = try HOE4DenoisingUncertainty.parseAsRoot(["--base-channels", "16"]) as! HOE4DenoisingUncertainty
            #expect(alias.config.baseChannels == 16 && alias.config.emaBiasCorrected == true)
            #expect((try ImageKitDemo.parseAsRoot([]) as! ImageKitDemo).config.derivedSettings["ema_initial_weight_share"] == 0)
            let plain = (try ImageKitDemo.parseAsRoot(["--no-ema-bias-correction", "--ema", "0.999", "--train-steps", "2000"]) as! ImageKitDemo).config
            #expect(abs((plain.derivedSettings["ema_initial_weight_share"] ?? 0) - 0.1352) < 1e-3)
        }

        @Test func badValuesAreOneLineErrors() {
            for (args, message) in [(["--width", "12"], "--width must be a multiple of 8 between 8 and 256"),
                                    (["--ema", "1"], "--ema must lie in [0, 1)"),
                                    (["--batch", "0"], "--batch must be between 1 and 4096")] {
                for parse in [{ _ = try HTE5ClassBalance.parseAsRoot(args) }, { _ = try HTE6SampleQuality.parseAsRoot(args) },
                              { _ = try HOE4DenoisingUncertainty.parseAsRoot(args) }, { _ = try HOE6OzakiImages.parseAsRoot(args) },
                              { _ = try ImageKitDemo.parseAsRoot(args) }] as [() throws -> Void] {
                    do {
                        try parse()
                        Issue.record("\(args) was accepted")
                    } catch {
                        let text = HTE5ClassBalance.message(for: error)
                        #expect(text.contains(message) && !text.contains("\n"), "\(args): \(text)")
                    }
                }
            }
        }
    }
}
