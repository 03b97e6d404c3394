// HT-E4's verdict (HT-C7) on hand-made results (issue 30): one test per way each check can go.
import ExperimentKit
import Foundation
import Testing
@testable import ht_e4_convergence

@Suite struct HTE4ClaimsTests {
    typealias E = HTE4Convergence

    static var config: E.Config {
        var c = E.Config.full
        c.betas = [1, 2]
        c.langevinNoises = ["unscaled-gaussian"]
        c.stepSizes = [0.1, 0.4, 0.8]
        return c
    }
    static let jitter = [0.01, -0.01, 0.02, -0.02, 0.0]
    /// Distances inside every β's fit range [1, r₉₉(β)], so also inside the common range.
    static let distances = [1.1, 1.5, 2.0, 2.5, 2.9]

    /// Magnitude rows: per seed k and β, the learned norm grows like d^(learned[β] + spread·jitter_k),
    /// the exact minimiser's like d^(minimiser[β]).
    static func magnitude(learned: [Double: Double], minimiser: [Double: Double] = [1: 0.1, 2: 0.6], spread: Double = 1, seeds: Int = 5) -> [E.MagnitudeRow] {
        learned.keys.sorted().flatMap { b in
            (0..<seeds).flatMap { k in
                distances.map { d in
                    E.MagnitudeRow(seed: k, beta: b, distance: d, scoreNorm: pow(d, learned[b]! + spread * (b == 2 ? jitter[k] : -jitter[k])),
                                   minimiserNorm: pow(d, minimiser[b]!))
                }
            }
        }
    }

    /// Divergence rows: each seed's diverged chains (of 100) per β at each step size; β = 2
    /// diverges only from `betaTwoFrom` on (nil: never), β = 1's counts at every step.
    static func divergence(betaTwo: [Int], betaOne: [Int], betaTwoFrom: Double? = 0.4) -> [E.DivergenceRow] {
        config.stepSizes.flatMap { e in
            jitter.indices.flatMap { k -> [E.DivergenceRow] in
                let two = (betaTwoFrom.map { e >= $0 } ?? false) ? betaTwo[k] : 0
                return [E.DivergenceRow(seed: k, beta: 2, langevinNoise: "unscaled-gaussian", stepSize: e, chains: 100, diverged: two, divergedShare: Double(two) / 100),
                        E.DivergenceRow(seed: k, beta: 1, langevinNoise: "unscaled-gaussian", stepSize: e, chains: 100, diverged: betaOne[k], divergedShare: Double(betaOne[k]) / 100)]
            }
        }
    }

    static let ordered: [Double: Double] = [1: 0.2, 2: 0.35]
    static let divergent = divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0])

    static func claim(_ mag: [E.MagnitudeRow], _ div: [E.DivergenceRow]) -> ClaimResult {
        E.claims(E.Results(magnitude: mag, divergence: div, trace: []), config: config, seeds: 5, scale: .full)[0]
    }
    static func orderingChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.hasPrefix("learned exponent") } }
    static func divergenceChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.hasPrefix("diverged share") } }
    static func informationChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.informational == true } }

    /// Faster growth at β = 2 than at β = 1 in every seed, and β = 2 chains diverging where β = 1
    /// chains do not: supported. The ordering is the paired difference of the learned exponents.
    @Test func supported() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered), Self.divergent)
        #expect(Self.orderingChecks(c).count == 1 && Self.divergenceChecks(c).count == 1)
        #expect(abs(Self.orderingChecks(c)[0].estimate.mean - 0.15) < 1e-9)
        #expect(c.checks.filter { $0.informational != true }.allSatisfy { $0.verdict == .supported })
        #expect(c.verdict == .supported)
    }

    /// The pre-audit ±0.25 band is information only: learned exponents a whole unit off the
    /// exact minimiser's, yet the ordering holds, so the claim stays supported.
    @Test func exponentBandIsInformation() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered, minimiser: [1: 1.2, 2: 1.35]), Self.divergent)
        let band = Self.informationChecks(c).filter { $0.statistic.contains("pre-audit test") }
        #expect(band.count == 2 && band.allSatisfy { $0.verdict == .notSupported })
        #expect(Self.informationChecks(c).contains { $0.statistic.hasPrefix("exact-minimiser exponent") })
        #expect(c.verdict == .supported)
    }

    /// β = 2 growing more slowly than β = 1: the ordering is not supported.
    @Test func orderingNotSupported() {
        let c = Self.claim(Self.magnitude(learned: [1: 0.4, 2: 0.2]), Self.divergent)
        #expect(Self.orderingChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// A difference whose interval straddles 0: inconclusive.
    @Test func orderingInconclusive() {
        let c = Self.claim(Self.magnitude(learned: [1: 0.3, 2: 0.301], spread: 3), Self.divergent)
        let o = Self.orderingChecks(c)[0]
        #expect(o.estimate.low < 0 && o.estimate.high > 0 && o.verdict == .inconclusive)
        #expect(c.verdict == .inconclusive)
    }

    /// One seed only: no interval, the ordering reads "not tested".
    @Test func orderingNotTested() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered, seeds: 1), Self.divergent)
        #expect(Self.orderingChecks(c).allSatisfy { $0.verdict == .notTested })
    }

    /// The divergence half is read at ε* = the smallest step at which a β = 2 chain diverged.
    @Test func divergenceAtFirstBetaTwoDivergence() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered), Self.divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0], betaTwoFrom: 0.8))
        #expect(E.firstBetaTwoDivergence(E.Results(magnitude: [], divergence: Self.divergence(betaTwo: [1, 0, 0, 0, 0], betaOne: [0, 0, 0, 0, 0], betaTwoFrom: 0.4), trace: []),
                                         stepSizes: Self.config.stepSizes, noise: "unscaled-gaussian") == 0.4)
        #expect(Self.divergenceChecks(c).count == 1 && Self.divergenceChecks(c)[0].statistic.contains("ε* = 0.800"))
        #expect(c.verdict == .supported)
    }

    /// No β = 2 chain diverges at any step of the grid: the divergence half is "not reproduced",
    /// i.e. not supported (not inconclusive), with the numbers in its reason and the notes.
    @Test func divergenceNotReproduced() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered), Self.divergence(betaTwo: [0, 0, 0, 0, 0], betaOne: [1, 0, 2, 0, 0], betaTwoFrom: nil))
        let d = Self.divergenceChecks(c)
        #expect(d.count == 1 && d[0].verdict == .notSupported)
        #expect(d[0].reason?.hasPrefix("not reproduced: none of 1500 β = 2 chains diverged") == true, "\(d[0].reason ?? "")")
        #expect(d[0].reason?.contains("β = 1.00: 0.600 %") == true)
        #expect(c.verdict == .notSupported)
        #expect(c.notes.contains("(so in: unscaled-gaussian)"))
    }

    /// β = 1 chains diverging more than β = 2's at ε*: the divergence check is not supported.
    @Test func divergenceNotSupported() {
        let c = Self.claim(Self.magnitude(learned: Self.ordered), Self.divergence(betaTwo: [1, 0, 1, 0, 1], betaOne: [20, 25, 22, 21, 24]))
        #expect(Self.divergenceChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// The common range is [1, min_β r₉₉(β)], the smallest fit range (β = 2's).
    @Test func commonRangeIsTheSmallestFitRange() {
        let fits = E.exponentFits(E.Results(magnitude: Self.magnitude(learned: Self.ordered), divergence: [], trace: []), config: Self.config)
        #expect(fits.commonRange == fits.fitRanges[2]!)
        #expect(fits.fitRanges[1]!.upperBound > fits.fitRanges[2]!.upperBound)
        // Known answer: exact power laws give back their exponents.
        #expect(abs(fits.commonTargetExponents[2]![0]! - 0.6) < 1e-12 && abs(fits.commonExponents[1]![0]! - (0.2 - 0.01)) < 1e-12)
    }
}
