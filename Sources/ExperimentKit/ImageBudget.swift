// The training budget every image experiment exposes under the same names (issue 27): `--width`
// (U-Net base channels), `--ema` (the decay of the evaluated weight average),
// `--ema-bias-correction` / `--no-ema-bias-correction`, `--batch` (training minibatch), beside
// the `--train-steps` and `--langevin-steps` they already share. Each experiment declares them
// itself, so that `--help` shows its own quick and full values, and checks them here.
//
// The EMA's initial-weight share is recorded in config.json (`derived`): a plain average started
// at the random initial weights keeps d^t of them (13.5 % after 2000 steps at d = 0.999, which
// greyed the backgrounds of the C = 8 Fashion-MNIST samples); the bias-corrected one keeps none.
import ArgumentParser
import NeuralNet

extension Validate {
    /// U-Net width (base channels): a positive multiple of 8 (GroupNorm's 8 groups), at most 256.
    public static func width(_ width: Int?, option: String = "--width") throws {
        guard let w = width else { return }
        guard w >= 8, w <= 256, w % 8 == 0 else {
            throw ValidationError("\(option) must be a multiple of 8 between 8 and 256 (GroupNorm uses 8 groups), got \(w)")
        }
    }

    /// EMA decay d of the evaluated weights: in [0, 1).
    public static func ema(_ decay: Double?, option: String = "--ema") throws {
        guard let d = decay else { return }
        guard d.isFinite, d >= 0, d < 1 else { throw ValidationError("\(option) must lie in [0, 1) (the decay of the weight average), got \(d)") }
    }

    /// Training minibatch: 1 to 4096.
    public static func batch(_ batch: Int?, option: String = "--batch") throws {
        guard let b = batch else { return }
        guard b >= 1, b <= 4096 else { throw ValidationError("\(option) must be between 1 and 4096 images, got \(b)") }
    }
}

/// Settings computed from a configuration and recorded beside it in config.json (`derived`),
/// e.g. the share of the initial weights left in the evaluated EMA.
public protocol DerivedSettings {
    /// Name → value; recorded as given.
    var derivedSettings: [String: Double] { get }
}

/// The share of the initial weights in the EMA a training run ends with (0 for a bias-corrected
/// average; d^steps for the plain one).
public func emaInitialWeightShare(decay: Double, steps: Int, biasCorrected: Bool?) -> Double {
    ExponentialMovingAverage<Float>.initialWeightShare(decay: decay, updates: steps, biasCorrected: biasCorrected ?? false)
}

extension ScaleHelp {
    /// Help of `--ema-bias-correction` with both scales' settings.
    public static func emaBiasCorrection(quick: Bool?, full: Bool?) -> ArgumentHelp {
        override("Bias-correct the EMA (normalise by 1 − d^t, so the initial weights carry no weight); --no-ema-bias-correction for the plain average.",
                 quick: quick ?? false ? "on" : "off", full: full ?? false ? "on" : "off")
    }
}
