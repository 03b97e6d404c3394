// HT-E3's verdicts (HT-C1, HT-C6) on hand-made results (issue 30): one test per way each can go.
import ExperimentKit
import Foundation
import Testing
@testable import ht_e3_score_error

@Suite struct HTE3ClaimsTests {
    typealias E = HTE3ScoreError

    /// Per-seed jitter with a non-zero spread, so every interval has a width.
    static let jitter = [0.01, -0.01, 0.02, -0.02, 0.0]

    static func config(betas: [Double] = [1, 2], steps: Int = 100) -> E.Config {
        var c = E.Config.full
        c.betas = betas
        c.steps = steps
        return c
    }

    /// Summary rows of one data set: `offShell[β]` gives each seed's relative error (c).
    static func summary(_ name: String, _ d: Int, offShell: [Double: [Double]], absolute: [Double: Double] = [:]) -> [E.SummaryRow] {
        offShell.keys.sorted().flatMap { b in
            offShell[b]!.enumerated().map { k, v in
                E.SummaryRow(dataset: name, dimension: d, beta: b, seed: k, levels: 10, ratio: 1.1, relativeErrorSame: v, relativeErrorCommon: v,
                             finalTrainLoss: 1, relativeErrorOff: v, absoluteErrorSame: absolute[b] ?? 1, absoluteErrorCommon: absolute[b] ?? 1,
                             absoluteErrorOff: (absolute[b] ?? 1) + jitter[k])
            }
        }
    }

    /// HT-C1's DSM-identity rows of one data set: per β, two scales (σ = 1, 0.5) of 10⁴ draws
    /// each with E[s·∇log q] = 10/σ² and mean difference `relative`·10/σ², sd `sd`/σ².
    static func identity(_ name: String, betas: [Double], relative: Double = 0.001, sd: Double = 5) -> [E.IdentityRow] {
        betas.flatMap { b in
            [1.0, 0.5].enumerated().map { k, sigma in
                E.IdentityRow(dataset: name, dimension: 8, beta: b, scaleIndex: k, sigma: sigma, draws: 10_000, meanTargetProduct: 10 * (1 + relative) / (sigma * sigma),
                              meanScoreProduct: 10 / (sigma * sigma), meanDifference: relative * 10 / (sigma * sigma), sdDifference: sd / (sigma * sigma))
            }
        }
    }

    /// HT-C1 rows of one data set: per β, each seed's DSM error and floor (one level, σ = 1),
    /// and traced errors `start` at step 0 and `end` at `steps`; identity rows per β.
    static func c1Results(_ name: String, dsm: [Double: [Double]], floor: Double, start: Double, end: [Double], steps: Int,
                          identityRelative: Double = 0.001) -> E.Results {
        var levels: [E.LevelRow] = [], curves: [E.CurveRow] = []
        for b in dsm.keys.sorted() {
            for (k, e) in dsm[b]!.enumerated() {
                levels.append(E.LevelRow(dataset: name, dimension: 8, beta: b, seed: k, scaleIndex: 0, tau: 1, level: 0, sigma: 1, errorSame: e, normSame: 10,
                                         relativeErrorSame: e / 10, errorCommon: e, normCommon: 10, relativeErrorCommon: e / 10, heldoutDSMLoss: 1,
                                         errorOff: e, normOff: 10, relativeErrorOff: e / 10, errorFloorSame: floor))
                curves.append(E.CurveRow(dataset: name, dimension: 8, beta: b, seed: k, step: 0, relativeErrorSame: start, relativeErrorCommon: start))
                curves.append(E.CurveRow(dataset: name, dimension: 8, beta: b, seed: k, step: steps, relativeErrorSame: end[k], relativeErrorCommon: end[k]))
            }
        }
        return E.Results(summary: summary(name, 8, offShell: [1: [0.5, 0.5, 0.5, 0.5, 0.5], 2: [0.5, 0.5, 0.5, 0.5, 0.5]]), levels: levels, curves: curves,
                         identity: identity(name, betas: dsm.keys.sorted(), relative: identityRelative))
    }

    static func claim(_ id: String, _ results: E.Results, _ c: E.Config) -> ClaimResult {
        E.claims(results, config: c, seeds: 5, scale: .full).first { $0.claim == id }!
    }

    // MARK: - HT-C6

    static func c6(delta: Double, spread: Double = 1) -> ClaimResult {
        let two = [0.8, 0.81, 0.79, 0.8, 0.82]
        let one = two.enumerated().map { $0.element + delta + spread * jitter[$0.offset] }
        let r = E.Results(summary: summary("mixture-128", 128, offShell: [1: one, 2: two], absolute: [1: 0.3, 2: 0.8]), levels: [], curves: [])
        return claim("HT-C6", r, config())
    }

    /// β = 1's relative off-shell error below β = 2's in every seed: supported, and the check is
    /// the relative error, with the absolute error only in the notes.
    @Test func htC6Supported() {
        let c = Self.c6(delta: -0.2)
        #expect(c.verdict == .supported)
        #expect(c.checks.count == 1 && c.checks[0].statistic.contains("relative error (c) off-shell"))
        #expect(abs(c.checks[0].estimate.mean - (-0.2)) < 1e-12)
        #expect(c.notes.contains("absolute error") && c.notes.contains("\"supported\""))
    }

    /// β = 1 worse on the relative error, better on the absolute one (the audit's case): the
    /// relative error decides, not supported.
    @Test func htC6NotSupportedThoughAbsoluteFavoursBetaOne() {
        let c = Self.c6(delta: 0.3)
        #expect(c.verdict == .notSupported)
        #expect(c.notes.contains("mixture-128, β = 1.00: -0.5"))  // the absolute difference, reported
    }

    /// A difference whose interval straddles 0: inconclusive.
    @Test func htC6Inconclusive() {
        let c = Self.c6(delta: 0.001, spread: 3)
        #expect(c.checks[0].estimate.low < 0 && c.checks[0].estimate.high > 0)
        #expect(c.verdict == .inconclusive)
    }

    /// No synthetic data set at large D: no check, and the claim is inconclusive, not supported.
    @Test func htC6NoLargeDimension() {
        let r = E.Results(summary: Self.summary("mixture-8", 8, offShell: [1: [0.1, 0.1, 0.1, 0.1, 0.1], 2: [0.9, 0.9, 0.9, 0.9, 0.9]]), levels: [], curves: [])
        let c = Self.claim("HT-C6", r, Self.config())
        #expect(c.checks.isEmpty && c.verdict == .inconclusive)
    }

    /// The smallest relative error at the largest D is computed from the rows, rounded down.
    @Test func htC6SmallestRelativeError() {
        let r = E.Results(summary: Self.summary("mixture-512", 512, offShell: [1: [0.9, 0.91, 0.92, 0.93, 0.9], 2: [0.8, 0.797, 0.85, 0.86, 0.84]]), levels: [], curves: [])
        let c = Self.claim("HT-C6", r, Self.config())
        #expect(c.notes.contains("At D = 512 every model (every β and seed) has relative error ≥ 0.79"), "\(c.notes)")
    }

    // MARK: - HT-C1

    static func identityChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.contains("DSM identity") } }
    static func learnedChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { !$0.statistic.contains("DSM identity") } }

    /// The identity holds, the error falls to a fifth and β = 1's excess over its (learnable,
    /// relative error 0.1) floor is 1.2× β = 2's: supported.
    @Test func htC1Supported() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.2, 0.21, 0.19, 0.2, 0.22], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(Self.identityChecks(c).count == 2 && Self.learnedChecks(c).count == 2)
        #expect(c.checks.allSatisfy { $0.verdict == .supported && $0.informational != true })
        #expect(c.verdict == .supported)
        #expect(c.notes.contains("\"supported\"") && c.notes.contains("issue 30"))
    }

    /// Known answer of the identity statistic: (Σσ² mean d)/(Σσ² E[s·∇log q]) = `relative`, with
    /// half-width 1.96·√(Σσ⁴ sd²/M)/Σσ² E[s·∇log q] = 1.96·√(2·25/10⁴)/20.
    @Test func htC1IdentityStatisticKnownAnswer() {
        let r = E.Results(summary: [], levels: [], curves: [], identity: Self.identity("mixture-8", betas: [1], relative: 0.003))
        let e = E.identityEstimate(r, "mixture-8", 1)!
        #expect(abs(e.mean - 0.003) < 1e-12)
        #expect(abs(e.halfWidth - 1.959963984540054 * (2 * 25 / 1e4).squareRoot() / 20) < 1e-12)
        #expect(e.n == 20_000)
    }

    /// The learned checks fail but the identity holds on a data set whose floor is not learnable
    /// (relative error 0.5 ≥ 0.3): the learned checks are information only and the identity
    /// decides, supported.
    @Test func htC1FloorNotLearnable() {
        let r = Self.c1Results("mixture-512", dsm: [1: [5, 5.1, 4.9, 5, 5.05], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 5, start: 1,
                               end: [0.9, 0.91, 0.89, 0.9, 0.92], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        let learned = Self.learnedChecks(c)
        #expect(learned.count == 2 && learned.allSatisfy { $0.informational == true && $0.statistic.contains("floor not learnable, relative error 0.500") })
        #expect(c.verdict == .supported)
        #expect(c.notes.contains("not learnable, information only"))
    }

    /// The error does not fall and β = 1's excess is 5× β = 2's (learnable floor): not supported.
    @Test func htC1NotSupported() {
        let r = Self.c1Results("mixture-8", dsm: [1: [5, 5.1, 4.9, 5, 5.05], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.9, 0.91, 0.89, 0.9, 0.92], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(Self.learnedChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// A discrepancy of 20 % between E[s·t] and E[s·∇log q] (e.g. a target off by a scale): the
    /// identity check is not supported, and so is the claim.
    @Test func htC1IdentityNotSupported() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.2, 0.21, 0.19, 0.2, 0.22], steps: 100, identityRelative: 0.2)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(Self.identityChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// A discrepancy whose interval straddles the tolerance's edge 0.01: inconclusive.
    @Test func htC1IdentityInconclusive() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.2, 0.21, 0.19, 0.2, 0.22], steps: 100, identityRelative: 0.01)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(Self.identityChecks(c).allSatisfy { $0.verdict == .inconclusive })
        #expect(c.verdict == .inconclusive)
    }

    /// The fall straddles ½ (learnable floor): inconclusive.
    @Test func htC1Inconclusive() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.3, 0.7, 0.45, 0.6, 0.5], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(Self.learnedChecks(c)[0].verdict == .inconclusive)
        #expect(c.verdict == .inconclusive)
    }

    /// Without β = 1 and β = 2 there is nothing to compare: only the identity checks, which decide.
    @Test func htC1NoBetaPair() {
        let r = Self.c1Results("mixture-8", dsm: [1.5: [1, 1, 1, 1, 1], 2: [1, 1, 1, 1, 1]], floor: 1, start: 1, end: [0.2, 0.2, 0.2, 0.2, 0.2], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(betas: [1.5, 2], steps: 100))
        #expect(c.checks.count == 2 && Self.identityChecks(c).count == 2 && c.verdict == .supported)
    }
}

extension HTE3ClaimsTests {
    /// A run configured before issue 30 (no identity.csv) and a data set with no levels rows: the
    /// identity checks and the floor check read "not tested" (no crash), never supported.
    @Test func htC1NotTestedWithoutLevelsOrIdentity() {
        let r = E.Results(summary: Self.summary("mixture-8", 8, offShell: [1: [0.5, 0.5, 0.5, 0.5, 0.5], 2: [0.5, 0.5, 0.5, 0.5, 0.5]]), levels: [], curves: [])
        let c = Self.claim("HT-C1", r, Self.config())
        #expect(Self.identityChecks(c).count == 2 && Self.identityChecks(c).allSatisfy { $0.verdict == .notTested && $0.reason?.contains("before issue 30") == true })
        let floor = Self.learnedChecks(c).first { $0.statistic.contains("own floor") }
        #expect(floor?.verdict == .notTested && floor?.reason == "levels.csv has no rows for mixture-8")
        #expect(c.verdict != .supported && c.verdict != .notSupported)
    }
}
