// HT-E4's verdict, HT-C7, from the typed results (issue 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HTE4Convergence {
    /// Allowed distance of the fitted exponent from the exact minimiser's (fixed before any run;
    /// since issue 30 information only).
    static let exponentTolerance = 0.25

    /// Lower end of the exponent's fit range (distance to the nearest training point); the upper
    /// end is r₉₉(β) (issue 17).
    static let fitLower = 1.0

    /// Log-log slope of `norms` against `distances` over the points with distance in `range`.
    static func exponent(distances: [Double], norms: [Double], in range: ClosedRange<Double>) -> Double? {
        let idx = distances.indices.filter { range.contains(distances[$0]) && norms[$0] > 0 }
        guard idx.count >= 3 else { return nil }
        return Stats.linearFit(x: idx.map { log(distances[$0]) }, y: idx.map { log(norms[$0]) }).slope
    }

    /// The smallest step of the grid at which any β = 2 chain of `noise` arm diverged (pooled over
    /// seeds), or nil if none did at any step (issue 30: where the divergence half is read).
    static func firstBetaTwoDivergence(_ r: Results, stepSizes: [Double], noise: String) -> Double? {
        stepSizes.sorted().first { e in r.divergence.contains { $0.beta == 2 && $0.stepSize == e && $0.langevinNoise == noise && $0.diverged > 0 } }
    }

    static func claims(_ r: Results, config c: Config, seeds: Int, scale: Scale) -> [ClaimResult] {
        let fits = Self.exponentFits(r, config: c)
        let noiseArms = c.langevinNoises ?? ["unscaled-gaussian"]
        let range = "[1, \(Format.significant(fits.commonRange.upperBound, 3))]"
        func shares(_ b: Double, _ e: Double, _ noise: String) -> [Double] { r.shares(b, e, noise) }
        func percent(_ x: [Double]) -> String { "\(Format.significant(100 * Stats.mean(x), 3)) %" }
        var checks: [ClaimCheck] = []

        // (1) Issue 30, deciding: the ordering of the learned exponents across β. Per β < 2, the
        // learned exponent at β = 2 minus that at β, paired by seed (one data draw per seed,
        // shared by its β), on the range every β's training inputs reach, [1, min_β r₉₉(β)].
        let ordering = ThresholdProvenance.specRecon("spec E4: \"the score magnitude far from the data scales like distance^{β−1}\", read as its ordering: slower growth for heavier tails, so exponent(β = 2) − exponent(β < 2) > 0 (issue 30; threshold 0, fixed before the rerun)")
        for b in c.betas where b < 2 {
            let statistic = "learned exponent of ‖s‖ against distance ∈ \(range), β = 2 − β = \(Format.significant(b, 3)), paired by seed"
            let d = fits.orderingDifferences(2, b)
            guard d.count >= 2 else {
                checks.append(.notTested(statistic: statistic, direction: .greaterThan, threshold: 0, provenance: ordering,
                                         reason: "fewer than two seeds with fitted exponents at both β on \(range)"))
                continue
            }
            let e = Stats.meanCI(d)
            checks.append(ClaimCheck(statistic: statistic, estimate: e, direction: .greaterThan, threshold: 0, provenance: ordering,
                                     power: CheckPower.ofInterval(e, counts: "seeds")))
        }

        // (2) Deciding, per Langevin-noise arm: at ε* — the smallest step of the grid at which any
        // β = 2 chain diverged — the diverged share at β = 2 exceeds that at every β < 2, paired by
        // seed. Issue 30: the grid was extended until β = 2 chains diverge; if none does at any
        // step, the divergence half is "not reproduced" (not supported), with the numbers.
        let divergence = ThresholdProvenance.specRecon("spec §5 C7: \"with the same ε, β < 2 chains do not diverge where β = 2 chains sometimes do (notebook)\"")
        var notReproduced: [String] = []
        if c.betas.contains(2), let eMax = c.stepSizes.max() {
            for noise in noiseArms {
                guard let eStar = Self.firstBetaTwoDivergence(r, stepSizes: c.stepSizes, noise: noise) else {
                    let others = c.betas.filter { $0 < 2 }.map { "β = \(Format.significant($0, 3)): \(percent(shares($0, eMax, noise)))" }.joined(separator: ", ")
                    let chains = r.divergence.filter { $0.beta == 2 && $0.langevinNoise == noise }.map(\.chains).reduce(0, +)
                    var check = ClaimCheck(statistic: "diverged share(β = 2) at the largest ε = \(Format.significant(eMax, 3)), \(noise) Langevin noise (no β = 2 chain diverged at any ε of the grid)",
                                           estimate: Stats.meanCI(shares(2, eMax, noise)), direction: .greaterThan, threshold: 0, provenance: divergence)
                    check.verdict = .notSupported
                    check.reason = "not reproduced: none of \(chains) β = 2 chains diverged at any ε ∈ {\(c.stepSizes.map { Format.significant($0, 3) }.joined(separator: ", "))}; diverged shares at ε = \(Format.significant(eMax, 3)): \(others)"
                    checks.append(check)
                    notReproduced.append(noise)
                    continue
                }
                for b in c.betas where b < 2 {
                    let e = Stats.meanCI(zip(shares(2, eStar, noise), shares(b, eStar, noise)).map { $0 - $1 })
                    checks.append(ClaimCheck(statistic: "diverged share(β = 2) − diverged share(β = \(Format.significant(b, 3))) at ε* = \(Format.significant(eStar, 3)) (the smallest ε at which a β = 2 chain diverged), \(noise) Langevin noise, paired by seed",
                                             estimate: e, direction: .greaterThan, threshold: 0, provenance: divergence, power: CheckPower.ofInterval(e, counts: "seeds")))
                }
            }
        }

        // (3) Information only (issue 30): the exact minimiser's ordering on the same range, and
        // the pre-audit test, learned − exact-minimiser exponent within ±0.25 on [1, r₉₉(β)].
        for b in c.betas where b < 2 {
            let d = fits.orderingDifferences(2, b, minimiser: true)
            if d.count >= 2 {
                checks.append(ClaimCheck(statistic: "exact-minimiser exponent of ‖s*‖ against distance ∈ \(range), β = 2 − β = \(Format.significant(b, 3)), paired by seed (information)",
                                         estimate: Stats.meanCI(d), direction: .greaterThan, threshold: 0, provenance: ordering).asInformation())
            }
        }
        for b in c.betas {
            let e = Stats.meanCI(fits.differences[b] ?? [])
            checks.append(ClaimCheck(statistic: "learned − exact-minimiser exponent of ‖s‖ against distance ∈ [1, \(Format.significant(fits.fitRanges[b]!.upperBound, 3))], β = \(Format.significant(b, 3)), paired by seed (information; the pre-audit test)",
                                     estimate: e, direction: .within, threshold: 0, tolerance: Self.exponentTolerance,
                                     provenance: .ours("the network reproduces the growth of the exact minimiser of its own loss where it was trained; ±\(Self.exponentTolerance) fixed before the issue-17 run"),
                                     power: CheckPower.ofInterval(e, claimedEffect: Self.exponentTolerance, counts: "seeds")).asInformation())
        }

        let commonSummary = c.betas.map { b in
            "β = \(Format.significant(b, 3)): learned \(Format.significant(Stats.mean(Array((fits.commonExponents[b] ?? [:]).values)), 3)), exact minimiser \(Format.significant(Stats.mean(Array((fits.commonTargetExponents[b] ?? [:]).values)), 3))"
        }.joined(separator: "; ")
        let divergenceSummary = noiseArms.map { noise in
            "\(noise): " + c.stepSizes.sorted().map { e in
                "ε = \(Format.significant(e, 3)): " + c.betas.map { "β = \(Format.significant($0, 3)) \(percent(shares($0, e, noise)))" }.joined(separator: ", ")
            }.joined(separator: "; ")
        }.joined(separator: ". ")
        let perSeedData = c.dataPerSeed == true ? "one toy data draw per seed, shared by its β" : "one toy data draw shared by all seeds (a run configured before issue 30)"
        return [ClaimResult(
            claim: "HT-C7", scope: "Far from the data the learned score grows like distance^(β−1) — tested as its ordering, slower growth for heavier tails; with the same step, β < 2 chains do not diverge where β = 2 chains sometimes do.",
            experiment: experimentID, command: makeCommand(scale: scale), checks: checks, seeds: seeds,
            notes: "2-D toy of HT-E0 only (unconditioned ReLU MLP 2→16→16→2, notebook training), \(perSeedData); a ReLU network is piecewise linear, so far from the data its growth is at most linear whatever β. 95% t-intervals over \(seeds) seeds. Exponents over the common range \(range): \(commonSummary). Diverged shares (mean over seeds) per arm and ε: \(divergenceSummary). What changed after the audit (issue 30) and why: the verdict was inconclusive (2 of 10 checks supported). It tested each β's learned exponent against the exact minimiser's within ±0.25 on [1, r₉₉(β)] — β = 1: +0.271 [0.238, 0.305] and β = 2: −0.265 [−0.290, −0.240], both inconclusive, β = 1.25 and 1.5 supported — but the minimiser's exponent moves by up to 0.04 with the toy data draw, which was shared by all seeds and so not in the interval, and ±0.25 is arbitrary; the claim's substance is the ordering. Now the data are drawn per seed, the ordering of the learned exponents across β on a common range decides (the ±0.25 test and the exact minimiser's ordering are kept as information), and the step grid was extended from {0.1, 0.4} — where β = 2 chains almost never diverged (0.010 % unscaled-gaussian, 0.6 % laplace-sigma-scaled at ε = 0.4, while β = 1.25 reached 7 %; all six divergence checks inconclusive) — to {\(c.stepSizes.map { Format.significant($0, 3) }.joined(separator: ", "))}, fixed before the full rerun; the divergence half is read at the smallest ε at which a β = 2 chain diverged, and reads \"not reproduced\" (not supported) if none does\(notReproduced.isEmpty ? "" : " (so in: " + notReproduced.joined(separator: ", ") + ")"). Earlier (issue 17): the exponent was compared with the exact minimiser's instead of β − 1 (unreachable even for the minimiser), the notebook's σ-scaled Laplace Langevin noise was added as an arm, and the Gaussian arm is labelled unscaled-gaussian.")]
    }
}
