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

    /// HT-C1 rows of one data set: per β, each seed's DSM error and floor (one level, σ = 1),
    /// and traced errors `start` at step 0 and `end` at `steps`.
    static func c1Results(_ name: String, dsm: [Double: [Double]], floor: Double, start: Double, end: [Double], steps: Int) -> E.Results {
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
        return E.Results(summary: summary(name, 8, offShell: [1: [0.5, 0.5, 0.5, 0.5, 0.5], 2: [0.5, 0.5, 0.5, 0.5, 0.5]]), levels: levels, curves: curves)
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

    /// The error falls to a fifth and β = 1's excess over its floor is 1.2× β = 2's: supported.
    @Test func htC1Supported() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.2, 0.21, 0.19, 0.2, 0.22], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(c.checks.count == 2 && c.checks.allSatisfy { $0.verdict == .supported })
        #expect(c.verdict == .supported)
    }

    /// The error does not fall and β = 1's excess is 5× β = 2's: not supported.
    @Test func htC1NotSupported() {
        let r = Self.c1Results("mixture-8", dsm: [1: [5, 5.1, 4.9, 5, 5.05], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.9, 0.91, 0.89, 0.9, 0.92], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(c.checks.allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// The fall straddles ½: inconclusive.
    @Test func htC1Inconclusive() {
        let r = Self.c1Results("mixture-8", dsm: [1: [1.2, 1.25, 1.15, 1.2, 1.22], 2: [1.0, 1.02, 0.98, 1.0, 1.01]], floor: 1, start: 1,
                               end: [0.3, 0.7, 0.45, 0.6, 0.5], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(steps: 100))
        #expect(c.checks[0].verdict == .inconclusive)
        #expect(c.verdict == .inconclusive)
    }

    /// Without β = 1 and β = 2 there is nothing to compare: no checks, inconclusive.
    @Test func htC1NoBetaPair() {
        let r = Self.c1Results("mixture-8", dsm: [1.5: [1, 1, 1, 1, 1]], floor: 1, start: 1, end: [0.2, 0.2, 0.2, 0.2, 0.2], steps: 100)
        let c = Self.claim("HT-C1", r, Self.config(betas: [1.5, 2], steps: 100))
        #expect(c.checks.isEmpty && c.verdict == .inconclusive)
    }
}

extension HTE3ClaimsTests {
    /// A data set with no levels rows: HT-C1's floor check reads "not tested" (no crash).
    @Test func htC1NotTestedWithoutLevels() {
        let r = E.Results(summary: Self.summary("mixture-8", 8, offShell: [1: [0.5, 0.5, 0.5, 0.5, 0.5], 2: [0.5, 0.5, 0.5, 0.5, 0.5]]), levels: [], curves: [])
        let c = Self.claim("HT-C1", r, Self.config())
        #expect(c.checks.count == 2 && c.checks[1].verdict == .notTested && c.checks[1].reason == "levels.csv has no rows for mixture-8")
        #expect(c.verdict != .supported && c.verdict != .notSupported)
    }
}
