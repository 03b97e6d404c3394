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
            ClaimResult(claim: "HT-C1", scope: "Minimising GND-DSM recovers the marginal score of the GND-perturbed data: the error against the exact score falls towards the model's floor for β = 1 as for β = 2.",
                        experiment: experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: protocolNote + " Thresholds: final/initial < \(Self.fallRatio); (DSM/floor) ratio β = 1 ÷ β = 2 < \(Self.comparableRatio). \(floorNotes.joined(separator: "; ")). What changed and why (issue 17): the raw error ratio β = 1 / β = 2 compared errors with different normalisers and different approximation floors; each β is now referred to its own floor (the same network, same initial weights and steps, regressed directly on the exact score), with a seed-level bootstrap of the ratio of σ²-weighted sums."),
            ClaimResult(claim: "HT-C6", scope: "At large D the relative score error for β < 2 is lower than for β = 2, at least off the typical-set shell (off-shell evaluation set (c)).",
                        experiment: experimentID, command: command, checks: c6.checks, seeds: seedCount,
                        notes: protocolNote + " Large D means synthetic D ≥ \(c.largeDimension); the β-specific schedules differ (fewer levels for heavier tails), so the models are compared at equal steps, not equal levels. " + c6.notes),
        ]
    }

    // MARK: - HT-C1

    /// HT-C1 (checks fixed before any run), per data set: (1) the β = 1 error falls during
    /// training to below `fallRatio` of its initial value; (2) β = 1's excess over its own floor
    /// is within `comparableRatio` times β = 2's (issue 17: each β referred to its own floor, the
    /// same network regressed on the exact score; σ²-weighted sums over scales and seeds,
    /// seed-level bootstrap of (DSM/floor)(β = 1) / (DSM/floor)(β = 2)).
    static func htC1Checks(_ r: Results, config c: Config, names: [String]) -> (checks: [ClaimCheck], floorNotes: [String]) {
        var c1: [ClaimCheck] = []
        var floorNotes: [String] = []
        guard c.betas.contains(1) && c.betas.contains(2) else { return (c1, floorNotes) }
        for n in names {
            let fall = zip(r.curveAt(n, 1, step: c.steps), r.curveAt(n, 1, step: 0)).map { $0 / $1 }
            c1.append(ClaimCheck(statistic: "\(n): final / initial relative error (a), β = 1", estimate: Stats.meanCI(fall),
                                 direction: .lessThan, threshold: Self.fallRatio,
                                 provenance: .ours("\"falls\" read as below half its value at initialisation (fixed before any run)")))
            let seedsHere = Set(r.levels.filter { $0.dataset == n }.map(\.seed)).sorted()
            func sums(_ b: Double, _ s: Int) -> (dsm: Double, floor: Double) {
                let rows = r.levels.filter { $0.dataset == n && $0.beta == b && $0.seed == s }
                return (rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorSame }, rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorFloorSame })
            }
            let perSeed = seedsHere.map { s in (sums(1, s), sums(2, s)) }
            let floorStatistic = "\(n): (DSM error / own floor) β = 1 ÷ (DSM error / own floor) β = 2, points (a)"
            let floorProvenance = ThresholdProvenance.ours("\"falls towards the model's approximation floor for β = 1 as for β = 2\" (spec §5 C1) read as: β = 1's excess over its own floor within a factor \(Self.comparableRatio) of β = 2's (factor fixed before any run)")
            guard !perSeed.isEmpty else {
                c1.append(.notTested(statistic: floorStatistic, direction: .lessThan, threshold: Self.comparableRatio, provenance: floorProvenance,
                                     reason: "levels.csv has no rows for \(n)"))
                continue
            }
            let e = Stats.groupBootstrapCI(groupCount: perSeed.count, seed: UInt64(c.steps)) { picks in
                let one = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].0.dsm, $0.1 + perSeed[$1].0.floor) }
                let two = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].1.dsm, $0.1 + perSeed[$1].1.floor) }
                return (one.0 / one.1) / (two.0 / two.1)
            }
            let excess = perSeed.reduce((0.0, 0.0, 0.0, 0.0)) { ($0.0 + $1.0.dsm, $0.1 + $1.0.floor, $0.2 + $1.1.dsm, $0.3 + $1.1.floor) }
            floorNotes.append("\(n): DSM/floor \(Format.significant(excess.0 / excess.1, 3)) (β = 1), \(Format.significant(excess.2 / excess.3, 3)) (β = 2)")
            c1.append(ClaimCheck(statistic: floorStatistic, estimate: e, direction: .lessThan, threshold: Self.comparableRatio, provenance: floorProvenance,
                                 power: CheckPower.ofInterval(e, counts: "seeds (bootstrap over seeds)")))
        }
        return (c1, floorNotes)
    }

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
