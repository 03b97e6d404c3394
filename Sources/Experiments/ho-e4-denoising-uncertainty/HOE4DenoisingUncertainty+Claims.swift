// HO-E4's verdicts, HO-C5 and HO-C6 (issue 29's protocol), from the typed results (issue 30):
// pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HOE4DenoisingUncertainty {
    /// HO-C5: form A's and the mixture model's clamped variance ratio within 20 % (spec), the
    /// per-image Spearman ρ above 0 and above the image-ignoring map's (ours), and on the mixture
    /// the ratio against the exact variance; form B, the learning-curve rule and the pre-audit
    /// statistics in the notes. HO-C6: form A's non-noise top eigenvectors' stroke share against
    /// the variance-weighted null; the other models and the pre-audit null in the notes.
    static func claims(_ results: Results, config: Config, seeds: Int, scale: Scale) -> [ClaimResult] {
        let c = config
        func f3(_ v: Double) -> String { Format.significant(v, 3) }
        func ci(_ e: Estimate) -> String { "\(f3(e.mean)) [\(f3(e.low)), \(f3(e.high))]" }
        let seedList = results.seeds
        let pooled = pooledC5(results, config: c), stability = Self.stability(results.curve, config: c), c6 = Self.c6(results, config: c)
        let command = makeCommand(scale: scale)
        let counts = "seeds (two-level bootstrap over seeds and images)"
        let ratioProv = ThresholdProvenance.specRecon("spec §5 C5: E[(x − m)²] ≈ E[predicted variance] within 20%")
        let rhoProv = ThresholdProvenance.ours("issue 29: replaces the spec's Pearson r > 0.5 of per-pixel means (spec §5 C5 [RECON]), which a map that ignores the image passes (0.93 in the audit); a constant map has per-image Spearman ρ = 0, so ρ > 0 is the least a variance map must show")
        let gainProv = ThresholdProvenance.ours("issue 29: the variance map must rank an image's pixels better than a map that ignores the image (the leave-one-out per-pixel mean of (x − m)² over the other held-out images), i.e. a positive paired gain")
        var checks5: [ClaimCheck] = []
        var c5Notes: [String] = []
        for m in ["lowrank-A", "full-mixture"] {
            guard let r = pooled[m] else { continue }
            checks5.append(ClaimCheck(statistic: "\(m): ratio E[predicted variance, clamped at 0]/E[(x − m)²]", estimate: r.clamped, direction: .within, threshold: 1, tolerance: 0.2,
                                      provenance: ratioProv, power: CheckPower.ofInterval(r.clamped, counts: counts)))
            checks5.append(ClaimCheck(statistic: "\(m): mean per-image Spearman ρ of predicted variance against (x − m)² across pixels", estimate: r.spearman, direction: .greaterThan, threshold: 0,
                                      provenance: rhoProv, power: CheckPower.ofInterval(r.spearman, counts: counts)))
            checks5.append(ClaimCheck(statistic: "\(m): mean per-image ρ(predicted variance) − ρ(image-ignoring map), paired by image", estimate: r.spearmanGain, direction: .greaterThan, threshold: 0,
                                      provenance: gainProv, power: CheckPower.ofInterval(r.spearmanGain, counts: counts)))
            if let ex = r.exact {
                checks5.append(ClaimCheck(statistic: "\(m): ratio E[predicted variance, clamped]/E[exact posterior variance]", estimate: ex, direction: .within, threshold: 1, tolerance: 0.2,
                                          provenance: ratioProv, power: CheckPower.ofInterval(ex, counts: counts)))
            }
            let gsAll = results.groups(m, seedList)
            if gsAll.allSatisfy({ $0.allSatisfy { $0.spearmanExact != nil } }) {
                let rx = bootstrapMean(gsAll, { $0.spearmanExact! }, config: c, seed: results.seed &+ 801)
                let gx = bootstrapMean(gsAll, { $0.spearmanExact! - $0.spearmanExactImageIgnoring! }, config: c, seed: results.seed &+ 802)
                c5Notes.append("\(m) reference, the exact posterior (what a perfect model would score): Spearman ρ \(ci(rx)), gain over the image-ignoring map \(ci(gx)).")
            }
            let unstable = (stability[m] ?? [:]).filter { !$0.value.stable }.keys.sorted()
            c5Notes.append("\(m): unclamped ratio \(ci(r.unclamped)), ratio on the complement of the top eigenvector \(ci(r.complement)); mean λ₁ \(f3(r.lambda1)) against λ₂ \(f3(r.lambda2)); |cos(u₁, x̃ − m)| \(f3(r.cosine)) on average, above \(c.noiseCosineThreshold) (threshold ours, issue 29) in \(f3(100 * r.aligned)) % of images. " +
                           (unstable.isEmpty ? "The learning-curve rule (relative change < \(c.stabilityTolerance) between the last two curve points, \(c.curveSteps + [c.steps]) steps; threshold ours, fixed before the claim was read, issue 29) found the ratio stable for every seed." : "The ratio had NOT stabilised by the learning-curve rule (relative change < \(c.stabilityTolerance) between the last two curve points, threshold ours, fixed before the claim was read, issue 29) for seed(s) \(unstable.map(String.init).joined(separator: ", ")) (last relative change \(unstable.map { f3(stability[m]![$0]!.change) }.joined(separator: ", ")) ≥ \(c.stabilityTolerance)), so the verdict may change with more training."))
        }
        if let a = pooled["lowrank-A"], let b = pooled["lowrank-B"] {
            // Paired by seed: the ratio A − B per seed, two-level interval over seeds and images.
            let ga = results.groups("lowrank-A", seedList), gb = results.groups("lowrank-B", seedList)
            let paired = zip(ga, gb).map { pa, pb in zip(pa, pb).map { $0.predictedClampedSum / max($0.squaredError, 1e-300) - $1.predictedClampedSum / max($1.squaredError, 1e-300) } }
            let diff = Stats.twoLevelMeanBootstrapCI(paired, resamples: c.bootstrapResamples, seed: results.seed &+ 555)
            c5Notes.append("Form-B arm (information, not a check: the claim is about the released code's form A): lowrank-B ratio \(ci(b.clamped)) (clamped), \(ci(b.unclamped)) (unclamped), complement \(ci(b.complement)), λ₁ \(f3(b.lambda1)), |cos| \(f3(b.cosine)), Spearman gain \(ci(b.spearmanGain)); per-image ratio A − B, paired by seed and image, \(ci(diff)) (form A's clamped ratio \(f3(a.clamped.mean))).")
        }
        let setup = "σ = \(c.sigma), U-Net C = \(c.baseChannels), \(c.steps) steps of batch \(c.batchSize), Adam \(c.learningRate), EMA \(c.emaDecay)\(c.emaBiasCorrected == true ? " bias-corrected" : ""), loss σ⁴·(\(Format.significant(c.firstOrderWeight, 3))·DSM-VR/σ² + D2SM), \(seeds) training seed(s); intervals by two-level bootstrap over seeds and held-out images (\(c.evalImages) per seed)."
        let auditC5 = "What changed after the audit (issue 29): before, HO-C5 read Pearson r > 0.5 between per-pixel means (a map that ignores the image scored 0.93) and the ratio within 20 %, one seed, form A only; the full-scale verdict was 'not supported' (Fashion-MNIST, C = 32, 6000 steps: r = 0.639 [0.575, 0.650], ratio 1.62 [1.54, 1.71]). Now: the Pearson check is information (tables/calibration); the rank checks replace it; the unclamped and complement ratios, λ₁ and its alignment with x̃ − m are reported; a form-B arm is paired by seed; a learning curve with a stability rule fixed in advance; seeds with intervals over seeds and images; bias-corrected EMA; the exact-covariance (digits mixture) model runs at both scales."
        let auditC6 = "What changed after the audit (issue 29): before, HO-C6 compared the top-\(c.eigenImages) stroke share with isotropic random directions and read 'supported' (full scale +0.0931 [0.0859, 0.100]); background pixels are confidently zero, so almost any direction that follows the variance passes. Now the null draws random directions with per-pixel SD ∝ √(predicted variance), and eigenvectors aligned with the noise direction x̃ − m (|cos| > \(c.noiseCosineThreshold), threshold ours) are left out and reported apart; the old statistic is kept as information."
        var checks6: [ClaimCheck] = []
        var c6Notes = ""
        if let r = c6["lowrank-A"] {
            checks6.append(ClaimCheck(statistic: "lowrank-A: stroke share of the top-\(c.eigenImages) eigenvectors that are not the noise direction − share of variance-weighted random directions (mean over held-out images)",
                                      estimate: r.test, direction: .greaterThan, threshold: 0,
                                      provenance: .ours("issue 29: structure beyond 'where the variance is' means more stroke energy than random directions drawn with the predicted variance map (per-pixel SD ∝ √variance), a positive paired difference; spec §5 C6 names the share (energy on pixels where clean or mean > \(c.strokeThreshold), the spec's mask) but no threshold"),
                                      power: CheckPower.ofInterval(r.test, counts: counts)))
            c6Notes = "lowrank-A: the pre-audit statistic (top-\(c.eigenImages) share − isotropic null) is \(ci(r.old)); noise-direction eigenvectors among the top \(c.eigenImages): \(f3(r.noise)) per image, with mean stroke share \(f3(r.noiseShare)); \(r.images) image-seed pairs in the test."
            for m in ["lowrank-B", "full-mixture"] { if let o = c6[m] { c6Notes += " \(m) (information): share − weighted null \(ci(o.test)), old statistic \(ci(o.old))." } }
        }
        return [
            ClaimResult(claim: "HO-C5", scope: "The learned posterior variance diag(σ⁴s̃₂ + σ²I) of the released code's loss (form A) is calibrated on held-out pairs: means within 20 % (spec [RECON]), a per-image rank correlation with (x − m)² above that of a constant map (ρ > 0, ours) and above that of a map that ignores the image (ours); on the digits mixture also against the exact Cov[x | x̃].",
                        experiment: Self.experimentID, command: command, checks: checks5, seeds: seeds,
                        notes: setup + " Dataset \(c.dataset.rawValue)" + (c.fullHeadOnMixture ? "; full head on the class-conditional \(c.mixtureDataset.rawValue) mixture. " : "; no mixture model. ") + c5Notes.joined(separator: " ") + " " + auditC5),
            ClaimResult(claim: "HO-C6", scope: "Top eigenvectors of the low-rank (form A) posterior covariance, the noise direction x̃ − m left out, carry structure beyond the variance map: more energy on stroke pixels (clean or mean > 0.1) than random directions weighted by the predicted per-pixel variance.",
                        experiment: Self.experimentID, command: command, checks: checks6, seeds: seeds,
                        notes: setup + " Dataset \(c.dataset.rawValue) instead of MNIST (spec §6.4, data-sources note). " + c6Notes + " " + auditC6),
        ]
    }
}
