// HT-E4's verdict, HT-C7, from the typed results (issue 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HTE4Convergence {
    /// Allowed distance of the fitted exponent from the exact minimiser's (fixed before any run).
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

    static func claims(_ r: Results, config c: Config, seeds: Int, scale: Scale) -> [ClaimResult] {
        let fits = Self.exponentFits(r, config: c)
        let fitRanges = fits.fitRanges, exponents = fits.exponents, targetExponents = fits.targetExponents, differences = fits.differences
        let div = r.divergence
        let noiseArms = c.langevinNoises ?? ["unscaled-gaussian"]
        func shares(_ b: Double, _ e: Double, _ noise: String) -> [Double] { r.shares(b, e, noise) }

        // Verdict HT-C7. Issue 17: (1) per β the learned exponent minus the exact minimiser's
        // exponent on the same points, paired by seed, lies within ±0.25, fitted over [1, r₉₉(β)]
        // (the former test against β − 1 over [1, 10] was unreachable: 79 % of those points lie
        // outside the training inputs, and even the exact minimiser stays well below 1 at β = 2);
        // (2) per Langevin-noise arm, at the largest step, the diverged share at β = 2 exceeds that
        // at every β < 2 (paired by seed) — "not tested" when no β = 2 chain diverged in that arm.
        var checks: [ClaimCheck] = []
        for b in c.betas {
            let e = Stats.meanCI(differences[b] ?? [])
            checks.append(ClaimCheck(statistic: "learned − exact-minimiser exponent of ‖s‖ against distance ∈ [1, \(Format.significant(fitRanges[b]!.upperBound, 3))], β = \(Format.significant(b, 3)), paired by seed",
                                     estimate: e, direction: .within, threshold: 0, tolerance: Self.exponentTolerance,
                                     provenance: .ours("the claim's \"grows like distance^(β−1)\" read as: the network reproduces the growth of the exact minimiser of its own loss where it was trained; ±\(Self.exponentTolerance) fixed before any run (the earlier test's tolerance)"),
                                     power: CheckPower.ofInterval(e, claimedEffect: Self.exponentTolerance, counts: "seeds")))
        }
        var untested: [String] = []
        if let eMax = c.stepSizes.max(), c.betas.contains(2) {
            for noise in noiseArms {
                let betaTwoDiverged = div.filter { $0.beta == 2 && $0.stepSize == eMax && $0.langevinNoise == noise }.map(\.diverged).reduce(0, +)
                for b in c.betas where b < 2 {
                    let statistic = "diverged share(β = 2) − diverged share(β = \(Format.significant(b, 3))) at ε = \(Format.significant(eMax, 3)), \(noise) Langevin noise"
                    let provenance = ThresholdProvenance.specRecon("spec §5 C7: \"with the same ε, β < 2 chains do not diverge where β = 2 chains sometimes do (notebook)\"")
                    if betaTwoDiverged == 0 {
                        checks.append(.notTested(statistic: statistic, direction: .greaterThan, threshold: 0, provenance: provenance,
                                                 reason: "no β = 2 chain diverged at ε = \(Format.significant(eMax, 3)) with \(noise) noise, so there is nothing for β < 2 to avoid (β = \(Format.significant(b, 3)) diverged share there: \(Format.significant(100 * Stats.mean(shares(b, eMax, noise)), 3)) %)"))
                        if !untested.contains(noise) { untested.append(noise) }
                        continue
                    }
                    let e = Stats.meanCI(zip(shares(2, eMax, noise), shares(b, eMax, noise)).map { $0 - $1 })
                    checks.append(ClaimCheck(statistic: statistic, estimate: e, direction: .greaterThan, threshold: 0, provenance: provenance,
                                             power: CheckPower.ofInterval(e, counts: "seeds")))
                }
            }
        }
        let exponentSummary = c.betas.map { b in
            "β = \(Format.significant(b, 3)): learned \(Format.significant(Stats.mean(exponents[b] ?? [.nan]), 3)), exact minimiser \(Format.significant(Stats.mean(targetExponents[b] ?? [.nan]), 3)), β − 1 = \(Format.significant(b - 1, 3))"
        }.joined(separator: "; ")
        return [ClaimResult(
            claim: "HT-C7", scope: "Far from the data the learned score grows like distance^(β−1); with the same step, β < 2 chains do not diverge where β = 2 chains sometimes do.",
            experiment: experimentID, command: makeCommand(scale: scale), checks: checks, seeds: seeds,
            notes: "2-D toy of HT-E0 only (unconditioned ReLU MLP 2→16→16→2, notebook training); a ReLU network is piecewise linear, so far from the data its growth is at most linear whatever β. Exponent tolerance \(Self.exponentTolerance); 95% t-intervals over \(seeds) seeds. Exponents over [1, r₉₉(β)]: \(exponentSummary). What changed and why (issue 17): the learned exponent is compared with the exact minimiser's on the same points and fitted only where the training inputs reach (the [1, 10] fit against β − 1 was unreachable even for the exact minimiser); the divergence check reads \"not tested\" when no β = 2 chain diverges\(untested.isEmpty ? "" : " (so in: " + untested.joined(separator: ", ") + ")"); the notebook's σ-scaled Laplace Langevin noise was added as an arm, and the Gaussian arm is labelled unscaled-gaussian (it is neither the released code's rule nor the notebook's).")]
    }
}
