// HT-E5's verdict, HT-C9, from the typed results (issue 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HTE5ClassBalance {
    // MARK: - Claims

    /// The smallest difference of minority fractions the check should detect (as HT-C8: 5 pp).
    static let smallestEffectOfInterest = 0.05

    /// Pixel-space precision below this (ours) means hardly any sample lies near the reference
    /// images: the classifier's two-class decision is then made on images of neither class.
    static let unrecognisablePrecision = 0.1

    /// Sample quality beside the balance (Gaussian Langevin noise, the primary arm), from the
    /// numbers: pixel precision and nearest-image distance per β, and, where the precision is
    /// near zero, what that does to the reading of the minority fraction.
    static func qualityNote(_ quality: [QualityRow]) -> String {
        let rows = quality.filter { $0.langevinNoise == "gaussian" }
        let betas = Array(Set(rows.map(\.beta))).sorted()
        guard !betas.isEmpty else { return "" }
        func mean(_ b: Double, _ f: (QualityRow) -> Double) -> Double { Stats.mean(rows.filter { $0.beta == b }.map(f)) }
        let precision = betas.map { b in "β = \(Format.significant(b, 3)): \(Format.significant(mean(b, \.precisionPixels), 2))" }
        let distance = betas.map { b in Format.significant(mean(b, \.nnDistanceSamplesMean), 3) }
        let reference = Format.significant(Stats.mean(rows.map(\.nnDistanceReferenceMean)), 3)
        let poor = betas.filter { mean($0, \.precisionPixels) < unrecognisablePrecision }
        var note = " Sample quality beside the balance (quality.csv, Gaussian Langevin noise, mean over seeds): pixel precision (k = 5) \(precision.joined(separator: ", ")); mean distance to the nearest training image \(distance.joined(separator: ", ")) (real held-out images: \(reference))."
        if !poor.isEmpty {
            note += " At \(poor.map { "β = \(Format.significant($0, 3))" }.joined(separator: " and ")) the pixel precision is below \(unrecognisablePrecision) (threshold: ours): hardly any sample lies near a real image, so the minority fraction there is the classifier's reading of images of neither class, not evidence of more balanced generation (images/samples-gaussian.png)."
        }
        return note
    }

    /// The image quality gate (issue 27) on the baseline (β = 2, Gaussian Langevin noise; mean
    /// over seeds): pixel precision and the minority fraction's calibration against the training
    /// fraction (a two-class pair: no ten-class entropy condition). Also the β < 2 whose samples
    /// fail the pixel-precision condition.
    static func qualityGate(_ quality: [QualityRow], baselineMinorityFraction: Double, trainingFraction: Double,
                            dataset: String) -> (ImageQualityGate.Outcome, [Double]) {
        let rows = quality.filter { $0.langevinNoise == "gaussian" }
        func precision(_ b: Double) -> Double {
            let p = rows.filter { $0.beta == b }.map(\.precisionPixels)
            return p.isEmpty ? .nan : Stats.mean(p)
        }
        let outcome = ImageQualityGate.evaluate(.init(
            label: "β = 2, Gaussian Langevin noise, \(dataset), mean over seeds", pixelPrecision: precision(2),
            minorityFraction: baselineMinorityFraction, trainingMinorityFraction: trainingFraction))
        let betas = Array(Set(rows.map(\.beta))).sorted()
        return (outcome, ImageQualityGate.failedSamplers(pixelPrecision: betas.map { ($0, precision($0)) }))
    }

    /// The β a HT-C9 check compares with β = 2 (its statistic names it first), or nil.
    static func betaOfCheck(_ check: ClaimCheck) -> Double? {
        guard let r = check.statistic.range(of: "(β = ") else { return nil }
        let rest = check.statistic[r.upperBound...]
        return rest.firstIndex(of: ")").flatMap { Double(rest[..<$0]) }
    }

    /// HT-C9 from the primary arm's paired differences, then the image quality gate (issue 27) on
    /// the baseline, β = 2 with Gaussian Langevin noise.
    static func claims(_ results: Results, config: Config, seeds: Int, scale: Scale) -> [ClaimResult] {
        let (summaries, paired) = summarise(results, config: config)
        let trainingFraction = results.trainingFraction
        let qualityNote = Self.qualityNote(results.quality)
        // Primary test, fixed before any result: Gaussian Langevin noise (the released code), for
        // each β < 2 the paired-by-seed difference of minority fractions (> 0) and of the distance
        // of the two-class entropy from log 2 (< 0); a Bonferroni family over these checks.
        let primary = paired.filter { $0.arm == "gaussian" }
        let family = 2 * primary.count
        let widen = Stats.familyZ(family) / 1.959963984540054
        func widened(_ e: Estimate) -> Estimate {
            let h = (e.high - e.low) / 2 * widen
            return Estimate(mean: e.mean, low: e.mean - h, high: e.mean + h, n: e.n)
        }
        var checks: [ClaimCheck] = []
        for row in primary {
            let b = row.beta, n = row.seeds
            let df = widened(row.minority), dh = widened(row.entropyGap)
            if n < 2 {
                checks.append(.notTested(statistic: "minority fraction(β = \(Format.significant(b, 3))) − minority fraction(β = 2), paired by seed", estimate: df,
                                         direction: .greaterThan, threshold: 0, reason: "one seed: no interval over training randomness (run --seeds ≥ 2; full scale runs 5)"))
                continue
            }
            checks.append(ClaimCheck(
                statistic: "minority fraction(β = \(Format.significant(b, 3))) − minority fraction(β = 2), paired by seed (shared initialisation, minibatches, levels, chain starts and noise), Gaussian Langevin noise",
                estimate: df, direction: .greaterThan, threshold: 0,
                provenance: .specRecon("spec §5 C9: \"the generated minority-class fraction is higher … for β < 2 than for β = 2\"; the sign of the paired difference"),
                power: CheckPower.ofInterval(df, z: Stats.familyZ(family), claimedEffect: Self.smallestEffectOfInterest, counts: "seeds")))
            checks.append(ClaimCheck(
                statistic: "|H(β = \(Format.significant(b, 3))) − log 2| − |H(β = 2) − log 2| (two-class entropy), paired by seed, Gaussian Langevin noise",
                estimate: dh, direction: .lessThan, threshold: 0,
                provenance: .specRecon("spec §5 C9: \"the class histogram's entropy closer to log 2\"; the sign of the paired difference")))
        }
        let claim = ClaimResult(
            claim: "HT-C9",
            scope: "On a 1:10 imbalanced image pair (\(config.dataset == .digits8x8 ? "8×8 digits 1 vs 8, the paper's own pair at 8×8" : "Fashion-MNIST trouser vs bag, standing in for MNIST 1 vs 8"); training minority fraction \(Format.percent(trainingFraction))), the minority fraction of samples is higher and the two-class entropy closer to log 2 for β < 2 than for β = 2.",
            experiment: Self.experimentID, command: makeCommand(scale: scale), checks: checks, seeds: seeds,
            notes: "Primary test fixed before any result: Gaussian Langevin noise (the released code), Bonferroni-widened Student-t 95% intervals over \(seeds) seed(s) of paired differences (each seed's models share every stream but the training-noise shape). The GND(β) Langevin-noise arm (the Oct–Dec 2021 code; decisive on the HT-E0 toy) is reported in tables/balance, not in the verdict. The classifier's decision is restricted to the two classes; the share of samples of neither class is in the table. The paper's own classifier and measure are unknown (spec E5)." + qualityNote)
        // Issue 27: the claim is read only if the baseline (β = 2, Gaussian Langevin noise) makes
        // images; a β < 2 whose samples fail the pixel-precision condition counts neither way.
        let baselineFraction = summaries.first { $0.arm == "gaussian" && $0.beta == 2 }?.fraction.mean ?? .nan
        let (gate, failedBetas) = qualityGate(results.quality, baselineMinorityFraction: baselineFraction, trainingFraction: trainingFraction,
                                              dataset: config.dataset.rawValue)
        return [ImageQualityGate.apply(gate, to: claim, failedBetas: failedBetas, betaOfCheck: Self.betaOfCheck)]
    }
}
