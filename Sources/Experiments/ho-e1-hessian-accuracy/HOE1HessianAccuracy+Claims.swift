// HO-E1's verdicts, HO-C2 and HO-C1, from the typed results (issue 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HOE1HessianAccuracy {
    /// HO-C2 per arm: the decisive arm's checks, every arm's verdict tallied, and the rows of
    /// tables/arm_verdicts and arm_verdicts.csv.
    struct ArmVerdicts {
        var decisive: [ClaimCheck] = []
        var tally: [String: [Verdict: Int]] = [:]
        var tableRows: [[String]] = []
        var rows: [ArmVerdictRow] = []
    }

    static func armVerdicts(_ results: Results, config c: Config) -> ArmVerdicts {
        let ratios = results.ratios
        func armRows(_ n: String, _ s: Double, _ arm: String) -> [ArmRow] { results.armRows(n, s, arm) }
        // HO-C2: for D ≥ 10 and σ ∈ [0.05, 0.5], err(arm)/err(its autodiff baseline) < 1. The
        // decisive arm (config.primaryArm) gives the claim's checks; every arm, small-data arms
        // included, gets its own verdict in tables/arm_verdicts with the s̃₁ errors beside it.
        let c2Provenance = ThresholdProvenance.specRecon("high-order spec §5 C2: \"the D2SM estimate of s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁\": ratio < 1")
        func firstOrderError(_ n: String, _ s: Double, _ arm: String) -> Double {
            Stats.mean(armRows(n, s, arm).map(\.firstOrderError))
        }
        var p = ArmVerdicts()
        for r in ratios where r.dimension >= 10 && r.sigma >= 0.05 && r.sigma <= 0.5 {
            let e = Estimate(mean: r.ratio, low: r.low, high: r.high, n: r.seeds)
            let check = ClaimCheck(statistic: "\(r.dataset), σ = \(Format.significant(r.sigma, 2)): err(\(r.arm)) / err(\(r.baseline))",
                                   estimate: e, direction: .lessThan, threshold: 1, provenance: c2Provenance,
                                   power: CheckPower.ofInterval(e, counts: "seeds (two-level bootstrap over seeds and test points)"))
            if r.arm == c.primaryArm { p.decisive.append(check) }
            p.tally[r.arm, default: [:]][check.verdict, default: 0] += 1
            let e1Arm = firstOrderError(r.dataset, r.sigma, r.arm), e1Base = firstOrderError(r.dataset, r.sigma, r.baseline)
            p.tableRows.append([r.dataset, "\(r.dimension)", Format.significant(r.sigma, 2), r.arm + (r.arm == c.primaryArm ? " (decisive)" : ""), r.baseline,
                                   "\(Format.significant(r.ratio, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]", check.verdict.rawValue,
                                   Format.significant(e1Arm, 3), Format.significant(e1Base, 3)])
            p.rows.append(ArmVerdictRow(dataset: r.dataset, dimension: r.dimension, sigma: r.sigma, arm: r.arm, baseline: r.baseline, ratio: r.ratio,
                                               low: r.low, high: r.high, verdict: check.verdict.rawValue, firstOrderErrorArm: e1Arm,
                                               firstOrderErrorBaseline: e1Base))
        }
        return p
    }

    static func claims(_ r: Results, config c: Config, seeds seedCount: Int, scale: Scale) -> [ClaimResult] {
        let arms = r.arms, ratios = r.ratios, tw = r.tweedieRatios
        func armRows(_ n: String, _ s: Double, _ arm: String) -> [ArmRow] { r.armRows(n, s, arm) }
        let perArm = armVerdicts(r, config: c)
        let c2 = perArm.decisive, tally = perArm.tally
        // Issue 17, "done means": a "not supported" says why it is a finding about the claim and
        // not about the set-up — from the numbers: head representability (full heads up to
        // fullHeadMaxDimension; the computed floor of the low-rank head above it), the plateau
        // rule, and which arms, if any, do beat autodiff.
        let floors = r.headFloors
        var floorParts: [String] = []
        var floorKeys: [String] = []
        // Whether every low-rank cell's floor is below its autodiff error (the head is then not
        // what decides those checks).
        var floorsBelowAutodiff = true
        for f in floors where !floorKeys.contains("\(f.dataset)|\(f.sigma)") { floorKeys.append("\(f.dataset)|\(f.sigma)") }
        for key in floorKeys {
            let here = floors.filter { "\($0.dataset)|\($0.sigma)" == key }
            let (n, s) = (here[0].dataset, here[0].sigma)
            let floor = Stats.mean(here.map(\.relativeFrobenius))
            let autodiff = Stats.mean(armRows(n, s, "autodiff").map(\.relativeFrobenius))
            let decisive = Stats.mean(armRows(n, s, c.primaryArm).map(\.relativeFrobenius))
            if !(floor < autodiff) { floorsBelowAutodiff = false }
            floorParts.append("\(n), σ = \(Format.significant(s, 2)): floor \(Format.significant(floor, 3)) (seeds \(Format.significant(here.map(\.relativeFrobenius).min()!, 3))–\(Format.significant(here.map(\.relativeFrobenius).max()!, 3))) against autodiff \(Format.significant(autodiff, 3)) and \(c.primaryArm) \(Format.significant(decisive, 3))")
        }
        let floorNote = floorParts.isEmpty ? "" : " Head representability (head_floor.csv): for D > \(c.fullHeadMaxDimension) the head is rank-\(c.rank) + diagonal (UUᵀ + diag(d)), which can fit the exact s₂ at the cells' own test points to within (mean relative Frobenius error of an alternating exact fit, an upper bound on its best fit) " + floorParts.joined(separator: "; ") + "."
        var findingNote = ""
        if c2.contains(where: { $0.verdict == .notSupported }) {
            let fullHead = ratios.filter { $0.arm == c.primaryArm && $0.dimension >= 10 && $0.dimension <= c.fullHeadMaxDimension && $0.sigma >= 0.05 && $0.sigma <= 0.5 }
            let ahead = tally.keys.sorted().filter { (tally[$0]?[.supported] ?? 0) > 0 }.map { arm in
                "\(arm) (\(tally[arm]![.supported]!) of \(tally[arm]!.values.reduce(0, +)) cells\(arm.contains("-N") ? ", s̃₁ fitted to few samples" : ""))"
            }
            // The networks of the decisive comparison (its arm and autodiff, in the claim's cells)
            // that stopped at the step cap instead of at the plateau.
            let decisive = arms.filter { $0.dimension >= 10 && $0.sigma >= 0.05 && $0.sigma <= 0.5 && ($0.arm == c.primaryArm || $0.arm == "autodiff") }
            let capped = decisive.filter { $0.stepsTrained >= c.steps }.count
            let cappedSmall = arms.filter { $0.arm.contains("-N") && $0.stepsTrained >= c.steps }.count
            findingNote = " Why this reads as a finding about the claim at this scale and not about the set-up: "
                + (fullHead.isEmpty ? "" : "in the \(fullHead.count) cells with 10 ≤ D ≤ \(c.fullHeadMaxDimension) the head is a full D² matrix, which can represent any symmetric s₂, and there the decisive ratio is \(Format.significant(fullHead.map(\.ratio).min()!, 3))–\(Format.significant(fullHead.map(\.ratio).max()!, 3)) with \(fullHead.filter { $0.low > 1 }.count) of \(fullHead.count) intervals wholly above 1; ")
                + (floorKeys.isEmpty ? "" : floorsBelowAutodiff ? "above D = \(c.fullHeadMaxDimension) the low-rank head can fit s₂ more closely than autodiff's error in every cell (above); " : "above D = \(c.fullHeadMaxDimension) the low-rank head's floor is not below autodiff's error in every cell (above), so those cells may be lost by construction; ")
                + (c.plateau == nil ? "" : capped == 0 ? "all \(decisive.count) networks of the decisive comparison stopped at the plateau rule before the \(c.steps)-step cap; " : "\(capped) of the \(decisive.count) networks of the decisive comparison stopped at the \(c.steps)-step cap, the rest at the plateau rule; ")
                + "both sides' s̃₁ errors are in tables/arm_verdicts. D2SM beats autodiff "
                + (ahead.isEmpty ? "in no arm." : "only in " + ahead.joined(separator: ", ") + ".")
                + (cappedSmall == 0 ? "" : " (\(cappedSmall) small-data networks stopped at the step cap with their held-out loss still improving by the plateau rule's measure.)")
        }
        let tallyNote = tally.keys.sorted().map { arm in
            let t = tally[arm]!
            return "\(arm): \(t[.supported] ?? 0) supported, \(t[.notSupported] ?? 0) not supported, \(t[.inconclusive] ?? 0) inconclusive"
        }.joined(separator: "; ")
        // HO-C1 (issue 17): the identity itself — σ⁴·DSM loss = regression loss of h = x̃ + σ²s̃₁
        // and equal parameter gradients — on the trained network, per (data set, σ), over seeds.
        // The former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± 0.02, equals
        // 1 + σ⁴E‖s̃₁ − s₁‖²/MSE_Bayes ≥ 1 for any imperfect s̃₁: it measured training quality, and
        // is now reported as the oracle gap (information).
        let ident = r.identity
        let idTol = c.identityTolerance ?? 1e-3
        let idProvenance = ThresholdProvenance.ours("the identity is exact; ±\(idTol) covers \(c.precision.label) round-off through the network (≈ 1e-6) with three orders of margin, while a scale, sign or target error in the DSM loss moves these ratios by ≥ 1e-2")
        var c1: [ClaimCheck] = []
        var gaps: [String] = []
        for t in tw {
            let here = ident.filter { $0.dataset == t.dataset && $0.sigma == t.sigma }
            let value = Stats.meanCI(here.map(\.valueRatio)), coef = Stats.meanCI(here.map(\.gradientCoefficient))
            let cosine = here.map(\.gradientCosine).min() ?? .nan
            let cell = "\(t.dataset), σ = \(Format.significant(t.sigma, 2))"
            c1.append(ClaimCheck(statistic: "\(cell): σ⁴·DSM loss / regression loss of x̃ + σ²s̃₁", estimate: value, direction: .within, threshold: 1,
                                 tolerance: idTol, provenance: idProvenance))
            c1.append(ClaimCheck(statistic: "\(cell): parameter-gradient coefficient, σ⁴·∇DSM on ∇regression (min cosine \(Format.significant(cosine, 8)))",
                                 estimate: coef, direction: .within, threshold: 1, tolerance: idTol, provenance: idProvenance))
            gaps.append("\(cell): \(Format.significant(t.ratioBayes, 4)) [\(Format.significant(t.lowBayes, 4)), \(Format.significant(t.highBayes, 4))]"
                        + (t.ratioRegression.isNaN ? "" : ", vs direct regression network \(Format.significant(t.ratioRegression, 3)) [\(Format.significant(t.lowRegression, 3)), \(Format.significant(t.highRegression, 3))]"))
        }
        let command = makeCommand(scale: scale)
        let note = "Protocol [RECON]: Gaussian-mixture ground truth, Softplus MLPs (\(c.precision.label)), \(c.plateau == nil ? "\(c.steps) Adam steps per network" : "Adam to a held-out-loss plateau (at most \(c.steps) steps) per network"), batch \(c.batchSize), lr \(c.learningRate); two-level bootstrap over \(seedCount) seeds and \(c.testPoints) test points."
        return [
            ClaimResult(claim: "HO-C2", scope: "At equal training budget, for D ≥ 10 and σ ∈ [0.05, 0.5], D2SM's s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁.",
                        experiment: experimentID, command: command, checks: c2, seeds: seedCount,
                        notes: note + " Decisive arm \(c.primaryArm) (the authors' set-up: form A trained jointly with s̃₁, no detaching). Per-arm verdicts (tables/arm_verdicts, with s̃₁ errors): \(tallyNote). What changed and why (issue 17): a full D² head at D = 50 (the rank-8 + diagonal head cannot represent that target: best fit 0.45 relative error, so those checks were lost by construction); the decisive arm is the authors' joint set-up, stated before the rerun, and every arm, small-data arms included, gets its own verdict. Training: \(c.plateau.map { "every network " + $0.description + ", capped at \(c.steps) steps (steps per arm in arms.csv)" } ?? "a fixed \(c.steps) steps")." + floorNote + findingNote),
            ClaimResult(claim: "HO-C1", scope: "DSM is Tweedie's formula: the denoiser x̃ + σ²s̃₁ matches least-squares regression of x on x̃ (within 2%); the Tweedie identities hold numerically (unit tests).",
                        experiment: experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: note + " The second-order Tweedie identities are checked by Monte Carlo in ScoreKitTests (SecondOrderDSMMonteCarloTests). What changed and why (issue 17): the checks now test the identity itself (σ⁴·DSM = regression loss of x̃ + σ²s̃₁, equal gradients) on the trained network; the former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± \(c.c1Tolerance), is ≥ 1 for any imperfect s̃₁ and measured training quality. Oracle gap MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) (information): " + gaps.joined(separator: "; ") + "."),
        ]
    }
}
