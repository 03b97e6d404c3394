// HT-E3's verdicts, HT-C1 and HT-C6, from the typed results (issue 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HTE3ScoreError {
    /// Allowed final/initial ratio of the β = 1 error ("falls") and allowed β = 1 / β = 2 error
    /// ratio ("as for β = 2") in the HT-C1 checks (fixed before any run).
    static let fallRatio = 0.5
    static let comparableRatio = 2.0

    static func claims(_ r: Results, config c: Config, seeds seedCount: Int, scale: Scale) -> [ClaimResult] {
        let names = r.dataSets
        let command = makeCommand(scale: scale)
        let protocolNote = "Protocol [RECON]: N = \(c.trainPoints) training points, MLP D→\(c.hidden.map(String.init).joined(separator: "→"))→D (\(c.activation)), \(c.steps) Adam steps, levels from HT-E2's iterative algorithm (\(c.band.rawValue) band) between σ_1 = max pairwise distance and \(Format.significant(c.sigmaMinFraction, 2))σ_1; 95% t-intervals over \(seedCount) seeds."
        let (c1, floorNotes) = htC1Checks(r, config: c, names: names)
        let c6 = htC6(r, config: c, names: names)
        return [
            ClaimResult(claim: "HT-C1", scope: "Minimising GND-DSM recovers the marginal score of the GND-perturbed data: the DSM identity E[s·t] = E[s·∇log q] holds for every β, and where the model's floor is learnable the error against the exact score falls towards it for β = 1 as for β = 2.",
                        experiment: experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: protocolNote + " Thresholds: DSM identity within 0 ± \(Self.identityTolerance) (relative); floor learnable if its relative error < \(Self.learnableFloor) at β = 1 and β = 2; final/initial < \(Self.fallRatio); (DSM/floor) ratio β = 1 ÷ β = 2 < \(Self.comparableRatio). DSM identity: \(Self.identitySummary(r, config: c, names: names)). \(floorNotes.joined(separator: "; ")). " + Self.htC1ChangeNote + " Earlier (issue 17): the raw error ratio β = 1 / β = 2 compared errors with different normalisers and different approximation floors; each β is now referred to its own floor (the same network, same initial weights and steps, regressed directly on the exact score), with a seed-level bootstrap of the ratio of σ²-weighted sums."),
            ClaimResult(claim: "HT-C6", scope: "At large D the relative score error for β < 2 is lower than for β = 2, at least off the typical-set shell (off-shell evaluation set (c)).",
                        experiment: experimentID, command: command, checks: c6.checks, seeds: seedCount,
                        notes: protocolNote + " Large D means synthetic D ≥ \(c.largeDimension); the β-specific schedules differ (fewer levels for heavier tails), so the models are compared at equal steps, not equal levels. " + c6.notes),
        ]
    }

    // MARK: - HT-C1

    /// Issue 30: a data set's learned checks decide HT-C1 only where the floor network is
    /// learnable — its σ²-weighted relative error on the same-β points below this at both β = 1
    /// and β = 2 (threshold ours, from the audit's suggestion, fixed before the rerun).
    static let learnableFloor = 0.3
    /// Issue 30: allowed |E[s·t] − E[s·∇log q]| / E[s·∇log q] of the DSM-identity check (ours,
    /// fixed before the rerun: the identity is exact, so any real deviation — a target or kernel
    /// score off by a scale, a boundary term — is of order one; 1 % leaves room only for that).
    static let identityTolerance = 0.01

    /// The floor network's relative error on the same-β points (a) of one (data set, β):
    /// Σ σ_k² E‖s_floor − s‖² / Σ σ_k² E‖s‖² over the evaluation scales, pooled over seeds.
    static func floorRelativeError(_ r: Results, _ name: String, _ beta: Double) -> Double {
        let rows = r.levels.filter { $0.dataset == name && $0.beta == beta }
        return rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorFloorSame } / rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.normSame }
    }

    /// The DSM-identity statistic of one (data set, β): (Σ_k σ_k² mean d_k) / (Σ_k σ_k² E[s·∇log q]_k)
    /// with a normal 95 % interval from the per-scale standard errors; nil without rows.
    static func identityEstimate(_ r: Results, _ name: String, _ beta: Double) -> Estimate? {
        let rows = r.identity.filter { $0.dataset == name && $0.beta == beta }
        guard !rows.isEmpty else { return nil }
        let den = rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.meanScoreProduct }
        let num = rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.meanDifference }
        let se = rows.reduce(0) { $0 + pow($1.sigma, 4) * $1.sdDifference * $1.sdDifference / Double($1.draws) }.squareRoot() / abs(den)
        let z = 1.959963984540054
        return Estimate(mean: num / den, low: num / den - z * se, high: num / den + z * se, n: rows.reduce(0) { $0 + $1.draws })
    }

    /// HT-C1. Issue 30, deciding: (1) per data set and β, the DSM identity E[s·t] = E[s·∇log q]
    /// by Monte Carlo (no training), relative discrepancy within ±identityTolerance; (2) where
    /// the floor is learnable (floor relative error < learnableFloor at β = 1 and β = 2), the
    /// checks fixed before any run: the β = 1 error falls during training below `fallRatio` of
    /// its initial value, and β = 1's excess over its own floor is within `comparableRatio`
    /// times β = 2's (issue 17; σ²-weighted sums over scales and seeds, seed-level bootstrap of
    /// (DSM/floor)(β = 1) / (DSM/floor)(β = 2)). Elsewhere (2) is reported as information.
    static func htC1Checks(_ r: Results, config c: Config, names: [String]) -> (checks: [ClaimCheck], floorNotes: [String]) {
        var c1: [ClaimCheck] = []
        var floorNotes: [String] = []
        let identityProvenance = ThresholdProvenance.ours("the identity E[t | x̃] = ∇log q(x̃) is exact for the GND kernel with β > 1/2, so the DSM loss is the explicit score-matching loss plus a constant; ±\(Self.identityTolerance) relative, fixed before the issue-30 rerun")
        for n in names {
            for b in c.betas {
                let statistic = "\(n): DSM identity (E[s·t] − E[s·∇log q]) / E[s·∇log q], s = ∇log q, σ²-weighted over the evaluation scales, β = \(Format.significant(b, 3))"
                guard let e = Self.identityEstimate(r, n, b) else {
                    c1.append(.notTested(statistic: statistic, direction: .within, threshold: 0, tolerance: Self.identityTolerance, provenance: identityProvenance,
                                         reason: "no identity.csv rows (a run configured before issue 30)"))
                    continue
                }
                c1.append(ClaimCheck(statistic: statistic, estimate: e, direction: .within, threshold: 0, tolerance: Self.identityTolerance,
                                     provenance: identityProvenance, power: CheckPower.ofInterval(e, claimedEffect: Self.identityTolerance, counts: "Monte-Carlo draws")))
            }
        }
        guard c.betas.contains(1) && c.betas.contains(2) else { return (c1, floorNotes) }
        for n in names {
            let floors = (one: Self.floorRelativeError(r, n, 1), two: Self.floorRelativeError(r, n, 2))
            let learnable = floors.one < Self.learnableFloor && floors.two < Self.learnableFloor
            let tag = learnable ? "" : " (information: floor not learnable, relative error \(Format.significant(floors.one, 3)) at β = 1, \(Format.significant(floors.two, 3)) at β = 2)"
            func decide(_ check: ClaimCheck) -> ClaimCheck { learnable ? check : check.asInformation() }
            let fall = zip(r.curveAt(n, 1, step: c.steps), r.curveAt(n, 1, step: 0)).map { $0 / $1 }
            c1.append(decide(ClaimCheck(statistic: "\(n): final / initial relative error (a), β = 1" + tag, estimate: Stats.meanCI(fall),
                                        direction: .lessThan, threshold: Self.fallRatio,
                                        provenance: .ours("\"falls\" read as below half its value at initialisation (fixed before any run)"))))
            let seedsHere = Set(r.levels.filter { $0.dataset == n }.map(\.seed)).sorted()
            func sums(_ b: Double, _ s: Int) -> (dsm: Double, floor: Double) {
                let rows = r.levels.filter { $0.dataset == n && $0.beta == b && $0.seed == s }
                return (rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorSame }, rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorFloorSame })
            }
            let perSeed = seedsHere.map { s in (sums(1, s), sums(2, s)) }
            let floorStatistic = "\(n): (DSM error / own floor) β = 1 ÷ (DSM error / own floor) β = 2, points (a)" + tag
            let floorProvenance = ThresholdProvenance.ours("\"falls towards the model's approximation floor for β = 1 as for β = 2\" (spec §5 C1) read as: β = 1's excess over its own floor within a factor \(Self.comparableRatio) of β = 2's (factor fixed before any run)")
            guard !perSeed.isEmpty else {
                c1.append(decide(.notTested(statistic: floorStatistic, direction: .lessThan, threshold: Self.comparableRatio, provenance: floorProvenance,
                                            reason: "levels.csv has no rows for \(n)")))
                continue
            }
            let e = Stats.groupBootstrapCI(groupCount: perSeed.count, seed: UInt64(c.steps)) { picks in
                let one = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].0.dsm, $0.1 + perSeed[$1].0.floor) }
                let two = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].1.dsm, $0.1 + perSeed[$1].1.floor) }
                return (one.0 / one.1) / (two.0 / two.1)
            }
            let excess = perSeed.reduce((0.0, 0.0, 0.0, 0.0)) { ($0.0 + $1.0.dsm, $0.1 + $1.0.floor, $0.2 + $1.1.dsm, $0.3 + $1.1.floor) }
            floorNotes.append("\(n): floor relative error \(Format.significant(floors.one, 3)) (β = 1), \(Format.significant(floors.two, 3)) (β = 2) — \(learnable ? "learnable, decides" : "not learnable, information only"); DSM/floor \(Format.significant(excess.0 / excess.1, 3)) (β = 1), \(Format.significant(excess.2 / excess.3, 3)) (β = 2)")
            c1.append(decide(ClaimCheck(statistic: floorStatistic, estimate: e, direction: .lessThan, threshold: Self.comparableRatio, provenance: floorProvenance,
                                        power: CheckPower.ofInterval(e, counts: "seeds (bootstrap over seeds)"))))
        }
        return (c1, floorNotes)
    }

    /// The DSM-identity numbers in words: the largest |statistic| and |z| over data sets and β.
    static func identitySummary(_ r: Results, config c: Config, names: [String]) -> String {
        let all = names.flatMap { n in c.betas.compactMap { b in Self.identityEstimate(r, n, b).map { (n, b, $0) } } }
        guard let worst = all.max(by: { abs($0.2.mean) < abs($1.2.mean) }) else { return "not run (no identity.csv)" }
        let z = all.map { abs($0.2.mean) / max($0.2.halfWidth / 1.959963984540054, .leastNonzeroMagnitude) }.max() ?? .nan
        return "largest |relative discrepancy| \(Format.significant(abs(worst.2.mean), 3)) (\(worst.0), β = \(Format.significant(worst.1, 3)); 95 % interval [\(Format.significant(worst.2.low, 3)), \(Format.significant(worst.2.high, 3))]), largest |z| \(Format.significant(z, 3)) over \(all.count) (data set, β), \(all.first.map { "\($0.2.n)" } ?? "0") draws each"
    }

    /// What changed in HT-C1 after the audit (issue 30), with the verdict and numbers before.
    static let htC1ChangeNote = "What changed after the audit (issue 30) and why: the verdict was \"supported\", decided by the fall check and (DSM error / own floor) β = 1 ÷ β = 2 < 2 on all six data sets (e.g. mixture-8 1.17 [1.11, 1.23], mixture-512 1.03 [1.02, 1.03]). But for D ≥ 32 the \"floor\" network, regressed on the exact score for the same steps, was beaten by DSM itself (DSM/floor 0.64–0.97), so it was not a floor, and at D = 512 DSM and floor both failed (relative error 0.91 and 0.94, per the audit) while the check passed. Now the claim's theory is tested directly: the DSM identity E[s·t] = E[s·∇log q] by Monte Carlo at every data set and β (no training), and the learned checks decide only where the floor is learnable (floor relative error < \(learnableFloor) at β = 1 and β = 2; elsewhere they are information). The training protocol is unchanged."

    // MARK: - HT-C6

    /// HT-C6 (issue 30): at large D (synthetic D ≥ largeDimension), for each β < 2, the RELATIVE
    /// error Σσ²E‖s_θ − s‖²/Σσ²E‖s‖² at the off-shell points (c), β − β = 2 paired by seed, is
    /// below 0 — the claim's and the spec's own metric. The absolute error σ²E‖s_θ − s‖²/D,
    /// which decided from issue 17 to issue 30, is reported beside it for information.
    static func htC6(_ r: Results, config c: Config, names: [String]) -> (checks: [ClaimCheck], notes: String) {
        var checks: [ClaimCheck] = []
        var absolute: [String] = []
        let large = names.filter { !$0.hasPrefix("digits") && r.dimension(of: $0) >= c.largeDimension }
        guard c.betas.contains(2) else { return (checks, "") }
        func interval(_ e: Estimate) -> String { "\(Format.significant(e.mean, 3)) [\(Format.significant(e.low, 3)), \(Format.significant(e.high, 3))]" }
        for n in large {
            for b in c.betas where b < 2 {
                let e = Stats.meanCI(zip(r.bySeed(n, b, \.relativeErrorOff), r.bySeed(n, 2, \.relativeErrorOff)).map { $0 - $1 })
                checks.append(ClaimCheck(statistic: "\(n): relative error (c) off-shell, β = \(Format.significant(b, 3)) − β = 2, paired by seed", estimate: e,
                                         direction: .lessThan, threshold: 0,
                                         provenance: .specRecon("spec §5 C6: \"at large D, the relative score error for β < 2 is lower than for β = 2, at least off the typical-set shell\"; the spec's metric (relative Fisher divergence), tested off each β's own shell"),
                                         power: CheckPower.ofInterval(e, z: Stats.tQuantile975(df: max(e.n - 1, 1)), counts: "seeds")))
                let a = Stats.meanCI(zip(r.bySeed(n, b, \.absoluteErrorOff), r.bySeed(n, 2, \.absoluteErrorOff)).map { $0 - $1 })
                absolute.append("\(n), β = \(Format.significant(b, 3)): \(interval(a))")
            }
        }
        // The size of each β's target at the off-shell points in the absolute error's units,
        // mean over scales and seeds of σ²E‖s‖²/D: a zero predictor's absolute error.
        var targets: [String] = []
        if let top = large.last, c.betas.contains(1) {
            func target(_ b: Double) -> Double {
                Stats.mean(r.levels.filter { $0.dataset == top && $0.beta == b }.map { $0.sigma * $0.sigma * $0.normOff / Double($0.dimension) })
            }
            let trainedTwo = Stats.mean(r.bySeed(top, 2, \.absoluteErrorOff))
            targets.append("at \(top) the β = 2 target is \(Format.significant(target(2) / target(1), 3))× the β = 1 target in these units, and a zero predictor at β = 1 (absolute error \(Format.significant(target(1), 3))) would \(target(1) < trainedTwo ? "beat" : "not beat") the trained β = 2 model (\(Format.significant(trainedTwo, 3)))")
        }
        // Every model's relative error, on all three point sets, at the largest synthetic D.
        var floorSentence = ""
        if let top = large.last {
            let rows = r.summary.filter { $0.dataset == top }
            let all = rows.flatMap { [$0.relativeErrorSame, $0.relativeErrorCommon, $0.relativeErrorOff] }
            if let least = all.min() {
                floorSentence = " At D = \(r.dimension(of: top)) every model (every β and seed) has relative error ≥ \(Format.significant((least * 100).rounded(.down) / 100, 2)) on all three point sets (smallest \(Format.significant(least, 3))): no β learns the score well there, so the comparison is between poor models."
            }
        }
        let notes = "What changed after the audit and why (issue 30; the verdict before was \"supported\", decided by the absolute error): the claim and the spec's metric are the RELATIVE error, and the check now tests it — the off-shell relative error (c), β − β = 2, paired by seed. The absolute error σ²E‖s_θ − s‖²/D, which decided from issue 17 until issue 30, is reported beside it for information, β − β = 2: \(absolute.joined(separator: "; ")). Why they differ: under the α = √2σ convention the Laplace kernel's score is bounded per coordinate while the Gaussian one grows off the shell, so the β = 1 target is much smaller in absolute units (\(targets.joined(separator: "; "))); so the absolute error can favour β = 1 while β = 1's model is relatively worse." + floorSentence
            + " Earlier change (issue 17): the common set x + τN(0, I) sat on β = 2's typical shell and ≈ 5σ inside β = 1's, so the checks moved to off-shell points for every β (each β's own noise × \(Format.significant(c.offShellFactor ?? 1.5, 2))); relative errors on (a), (b), (c) stay in the table."
        return (checks, notes)
    }
}
