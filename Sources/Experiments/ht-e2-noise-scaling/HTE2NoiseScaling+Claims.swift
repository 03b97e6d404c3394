// HT-E2's verdicts, HT-C3 (overlap part), HT-C4 and HT-C5, from the typed results (issue 30):
// pure, no file access.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

extension HTE2NoiseScaling {
    // MARK: - Claims

    /// HT-C4's tolerance on the overlap (spec §5 C4: "within ±0.02 of the target C").
    static let overlapTolerance = 0.02
    /// Issue 30: HT-C4 holds per run if the share of runs within ±overlapTolerance, pooled over
    /// all (β, D, seed), is above this (ours, fixed before the rerun: the spec's "for all β and
    /// D" read per run, allowing 5 % of runs to miss).
    static let runShareThreshold = 0.95

    static func claims(_ r: Results, config: Config, seeds _: Int, scale: Scale) -> [ClaimResult] {
        let cells = r.cells
        let sources = r.sources.map { ($0.dimension, $0.sigmaMax) }
        let command = makeCommand(scale: scale)
        let seeds = cells.first?.seeds ?? 0
        let c = config.overlapTarget
        // HT-C4 (a), issue 30: per run, the overlap the solver's γ realises under the EXACT law of
        // the norm (exact band), for the solver on `solverSamples` norms (per-run SD ≤ 0.005);
        // deciding, per band: the share of runs within ±0.02, pooled over every (β, D, seed),
        // above runShareThreshold (Wilson 95 % interval). Information: the same share for the
        // spec's 20k-draw solver, and per (β, D) the mean signed deviation (the issue-17
        // statistic, now under the exact law).
        let shareProvenance = ThresholdProvenance.ours("spec §5 C4 \"within ±0.02 of the target C for all β and D\" read per run: a run of the algorithm meets ±0.02 with probability above \(Self.runShareThreshold); threshold fixed before the issue-30 rerun")
        func within(_ x: [Double]) -> Int { x.filter { abs($0 - c) <= Self.overlapTolerance }.count }
        var c4: [ClaimCheck] = []
        let large: [(String, [Double]?)] = [("quantile", cells.flatMap(\.exactQLarge)),
                                            ("moment", cells.allSatisfy { $0.exactMLarge != nil } ? cells.flatMap { $0.exactMLarge! } : nil)]
        let spec: [(String, [Double]?)] = [("quantile", cells.flatMap(\.exactQSpec)),
                                           ("moment", cells.allSatisfy { $0.exactMSpec != nil } ? cells.flatMap { $0.exactMSpec! } : nil)]
        let largeM = cells.first?.solverSamples ?? 0, specM = cells.first?.samples ?? 0
        for (band, x) in large {
            let statistic = "share of runs with |exact-law overlap − \(c)| ≤ \(Self.overlapTolerance), iterative (\(band) band), \(largeM) solver draws, all β and D"
            guard let x, !x.isEmpty else {
                c4.append(.notTested(statistic: statistic, direction: .greaterThan, threshold: Self.runShareThreshold, provenance: shareProvenance,
                                     reason: "the \(band) band is degenerate (lower edge below 0) in some run"))
                continue
            }
            c4.append(ClaimCheck(statistic: statistic, estimate: Stats.proportionCI(successes: within(x), trials: x.count), direction: .greaterThan,
                                 threshold: Self.runShareThreshold, provenance: shareProvenance))
        }
        for (band, x) in spec {
            guard let x, !x.isEmpty else { continue }
            c4.append(ClaimCheck(statistic: "share of runs with |exact-law overlap − \(c)| ≤ \(Self.overlapTolerance), iterative (\(band) band), the spec's \(specM) solver draws, all β and D (information)",
                                 estimate: Stats.proportionCI(successes: within(x), trials: x.count), direction: .greaterThan,
                                 threshold: Self.runShareThreshold, provenance: shareProvenance).asInformation())
        }
        let biasProvenance = ThresholdProvenance.specRecon("spec §5 C4: \"the iterative algorithm yields adjacent-level overlap within ±0.02 of the target C for all β and D\"; the mean signed deviation over seeds (the issue-17 statistic, under the exact law since issue 30)")
        for cell in cells {
            let e = Stats.meanCI(cell.exactQLarge.map { $0 - c })
            c4.append(ClaimCheck(statistic: "mean (exact-law overlap − \(c)), iterative (quantile band), \(largeM) solver draws, β = \(Format.significant(cell.beta, 3)), D = \(cell.dimension) (information)",
                                 estimate: e, direction: .within, threshold: 0, tolerance: Self.overlapTolerance, provenance: biasProvenance,
                                 power: CheckPower.ofInterval(e, claimedEffect: Self.overlapTolerance, counts: "seeds")).asInformation())
        }
        func sd(_ pick: (Cell) -> [Double]?) -> (Double, Cell?) {
            let worst = cells.filter { pick($0) != nil }.max { Stats.standardDeviation(pick($0)!) < Stats.standardDeviation(pick($1)!) }
            return (worst.map { Stats.standardDeviation(pick($0)!) } ?? .nan, worst)
        }
        let sdLarge = sd { $0.exactQLarge }, sdSpec = sd { $0.exactQSpec }, sdLargeM = sd { $0.exactMLarge }
        let biasLarge = cells.map { abs(Stats.mean($0.exactQLarge) - c) }.max() ?? .nan
        func at(_ cell: Cell?) -> String { cell.map { " (β = \(Format.significant($0.beta, 3)), D = \($0.dimension))" } ?? "" }
        let shares = large.compactMap { band, x in x.map { "\(band) band \(within($0))/\($0.count)" } }.joined(separator: ", ")
        let specShares = spec.compactMap { band, x in x.map { "\(band) band \(within($0))/\($0.count)" } }.joined(separator: ", ")
        // HT-C4 (b): at β = 2 and large D the moment-band γ equals NCSNv2's closed form (±0.005).
        for cell in cells where cell.beta == 2 && cell.dimension >= 784 {
            if let g = cell.gammaM {
                c4.append(ClaimCheck(statistic: "γ iterative (moment band) at β = 2, D = \(cell.dimension), vs NCSNv2 \(Format.significant(cell.gammaG, 6))",
                                     estimate: g, direction: .within, threshold: cell.gammaG, tolerance: 0.005,
                                     provenance: .ours("±0.005 on γ ≈ 1.02–1.05 is a few % of γ − 1; the spec's C4 says only \"reproduces the NCSNv2 γ at β = 2\"")))
            }
        }
        // HT-C5, issue 17: fewer levels for heavier tails over the same [σ_L, σ_1], as the
        // continuous level count L_c(γ) = 1 + ln(σ_1/σ_L)/ln γ, paired by seed: the mean over
        // seeds of L_c(γ_β,s) − L_c(γ_2,s) < 0. (Integer L with interval endpoints subtracted gave
        // artefacts such as [−2, 0].)
        var c5: [ClaimCheck] = []
        let largestSigma = Dictionary(sources, uniquingKeysWith: max)
        let c5Provenance = ThresholdProvenance.specRecon("spec §5 C5: \"heavier tails need fewer noise levels to span the same [σ_L, σ_1] at the same overlap\"; the sign of the paired difference")
        for d in Set(cells.map(\.dimension)).sorted() {
            guard let s1 = largestSigma[d], let ref = cells.first(where: { $0.beta == 2 && $0.dimension == d }) else { continue }
            let span = log(s1 / config.sigmaMin)
            for cell in cells where cell.dimension == d && cell.beta < 2 {
                let diffs = cell.gammaQBySeed.keys.sorted().compactMap { s -> Double? in
                    guard let g = cell.gammaQBySeed[s], let g2 = ref.gammaQBySeed[s] else { return nil }
                    return ContinuousLevels.count(span: span, ratio: g) - ContinuousLevels.count(span: span, ratio: g2)
                }
                let e = Stats.meanCI(diffs)
                c5.append(ClaimCheck(statistic: "continuous L(β = \(Format.significant(cell.beta, 3))) − L(β = 2), paired by seed, D = \(d), σ_1 = \(Format.significant(s1, 4)) → \(config.sigmaMin)",
                                     estimate: e, direction: .lessThan, threshold: 0, provenance: c5Provenance,
                                     power: CheckPower.ofInterval(e, counts: "seeds")))
            }
        }
        // HT-C3 (overlap part): under the unchanged NCSNv2 schedule the overlap differs from C for β < 2.
        let c3 = cells.filter { $0.beta < 2 && $0.dimension >= 784 }.map { cell -> ClaimCheck in
            let e = cell.overlapGM
            let dev = Estimate(mean: abs(e.mean - c), low: (e.low - c) * (e.high - c) <= 0 ? 0 : min(abs(e.low - c), abs(e.high - c)),
                               high: max(abs(e.low - c), abs(e.high - c)), n: e.n)
            return ClaimCheck(statistic: "|overlap of the NCSNv2 schedule under GND(β = \(Format.significant(cell.beta, 3))) − \(c)|, D = \(cell.dimension)",
                              estimate: dev, direction: .greaterThan, threshold: 0.02,
                              provenance: .ours("spec §5 C3 \"the realised overlap under the unchanged NCSNv2 schedule differs from 0.5\", read as by more than C4's own tolerance 0.02"))
        }
        let notes = "Iterative algorithm reconstructed from the abstract ([RECON], spec §3). \(seeds) seeds × \(cells.first?.samples ?? 0) Monte Carlo draws per law; intervals are 95% over seeds."
        let c4Notes = notes + " HT-C4 (issue 30): overlaps under the exact law of ‖ε‖ (Gil-Pelaez inversion of its characteristic function, `NoiseNormExactLaw`; exact quantile band, exact moment band from 1-D quadrature). The solver that decides draws \(largeM) norms per run from the exact law by inversion (the same law as norms of drawn GND vectors). Runs within ±\(Self.overlapTolerance): \(shares) (spec's \(specM)-draw solver, information: \(specShares)). Largest per-run SD of the exact-law overlap: \(Format.significant(sdLarge.0, 3))\(at(sdLarge.1)) with \(largeM) draws (quantile band; target ≤ 0.005), moment band \(Format.significant(sdLargeM.0, 3))\(at(sdLargeM.1)); with the spec's \(specM) draws \(Format.significant(sdSpec.0, 3))\(at(sdSpec.1)). Largest |mean overlap − \(c)| over (β, D) with \(largeM) draws: \(Format.significant(biasLarge, 3)). What changed after the audit (issue 30) and why: the verdict was inconclusive (26 of 42 checks supported: every moment-band check, 4 of 20 quantile-band checks, both γ checks), with the signed bias over seeds of the overlap under one shared 200k-draw reference law within ±0.02 per (β, D), e.g. β = 1.75, D = 3072: +0.018 [−0.002, 0.038], underpowered. That described the solver's Monte Carlo size, not the algorithm: against the exact law the quantile-band solver is unbiased (|bias| ≤ 0.015), single 20k-draw runs scatter with SD 0.015–0.029 (the old run: up to 0.0287 at β = 1.75, D = 64), and the reference law added a shared error of up to 0.015 that was in no interval. Now overlaps are measured under the exact law, the solver gets \(largeM) draws (SD ∝ 1/√M), and the claim is tested per run, as the share of runs within ±0.02 (threshold \(Self.runShareThreshold), ours, fixed before the rerun); the per-(β, D) mean deviation and the spec-size solver are information. The γ check at β = 2 (moment band, spec-size solver) is unchanged."
        let c5Notes = notes + " What changed and why (issue 17): the continuous level count 1 + ln(σ_1/σ_L)/ln γ, paired by seed, replaces integer L compared by subtracting interval endpoints (which gave artefacts such as [−2, 0])."
        return [
            ClaimResult(claim: "HT-C3", scope: "Under the unchanged NCSNv2 (Gaussian) schedule, the realised adjacent-level overlap for β < 2 differs from the target 0.5 (by more than 0.02) at D = 784 and 3072.",
                        experiment: Self.experimentID, command: command, checks: c3, seeds: seeds, notes: notes + " Overlap part of HT-C3 only; the skew part is in ht-e1-concentration."),
            ClaimResult(claim: "HT-C4", scope: "The iterative algorithm yields adjacent-level overlap within ±0.02 of the target for all β and D, and reproduces the NCSNv2 γ at β = 2.",
                        experiment: Self.experimentID, command: command, checks: c4, seeds: seeds, notes: c4Notes),
            ClaimResult(claim: "HT-C5", scope: "Heavier tails need fewer noise levels to span the same [σ_L, σ_1] at the same overlap.",
                        experiment: Self.experimentID, command: command, checks: c5, seeds: seeds, notes: c5Notes),
        ]
    }}
