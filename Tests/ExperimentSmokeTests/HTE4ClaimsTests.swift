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
        return c
    }
    static let jitter = [0.01, -0.01, 0.02, -0.02, 0.0]
    /// Distances inside every β's fit range [1, r₉₉(β)].
    static let distances = [1.1, 1.5, 2.0, 2.5, 2.9]

    /// Magnitude rows: per seed k, the learned norm grows like d^(target + gap + spread·jitter_k),
    /// the exact minimiser's like d^target.
    static func magnitude(gap: Double, spread: Double = 1, target: Double = 0.5) -> [E.MagnitudeRow] {
        [1.0, 2.0].flatMap { b in
            jitter.indices.flatMap { k in
                distances.map { d in
                    E.MagnitudeRow(seed: k, beta: b, distance: d, scoreNorm: pow(d, target + gap + spread * jitter[k]), minimiserNorm: pow(d, target))
                }
            }
        }
    }

    /// Divergence rows at both step sizes: each seed's diverged chains (of 100) per β.
    static func divergence(betaTwo: [Int], betaOne: [Int]) -> [E.DivergenceRow] {
        [0.1, 0.4].flatMap { e in
            jitter.indices.flatMap { k in
                [E.DivergenceRow(seed: k, beta: 2, langevinNoise: "unscaled-gaussian", stepSize: e, chains: 100, diverged: betaTwo[k], divergedShare: Double(betaTwo[k]) / 100),
                 E.DivergenceRow(seed: k, beta: 1, langevinNoise: "unscaled-gaussian", stepSize: e, chains: 100, diverged: betaOne[k], divergedShare: Double(betaOne[k]) / 100)]
            }
        }
    }

    static func claim(_ mag: [E.MagnitudeRow], _ div: [E.DivergenceRow]) -> ClaimResult {
        E.claims(E.Results(magnitude: mag, divergence: div, trace: []), config: config, seeds: 5, scale: .full)[0]
    }
    static func exponentChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.hasPrefix("learned − exact-minimiser exponent") } }
    static func divergenceChecks(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.hasPrefix("diverged share") } }

    /// Exponents matching the minimiser's, and β = 2 chains diverging where β = 1 chains do
    /// not: every check supported.
    @Test func supported() {
        let c = Self.claim(Self.magnitude(gap: 0.05), Self.divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0]))
        #expect(Self.exponentChecks(c).count == 2 && Self.divergenceChecks(c).count == 1)
        #expect(c.checks.allSatisfy { $0.verdict == .supported }, "\(c.checks.map { ($0.statistic, $0.verdict, $0.estimate.mean) })")
        #expect(c.verdict == .supported)
    }

    /// The learned exponent a whole unit above the minimiser's: not supported.
    @Test func notSupported() {
        let c = Self.claim(Self.magnitude(gap: 1.0), Self.divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0]))
        #expect(Self.exponentChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// A gap whose interval straddles the tolerance's edge 0.25: inconclusive.
    @Test func inconclusive() {
        let c = Self.claim(Self.magnitude(gap: 0.25, spread: 0.5), Self.divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0]))
        #expect(Self.exponentChecks(c).allSatisfy { $0.verdict == .inconclusive && $0.reason == nil })
        #expect(c.verdict == .inconclusive)
    }

    /// Seeds scattered far more widely than the ±0.25 tolerance, the interval wholly outside
    /// it: underpowered, so inconclusive with that reason, not "not supported".
    @Test func underpowered() {
        let c = Self.claim(Self.magnitude(gap: 2, spread: 40), Self.divergence(betaTwo: [10, 12, 8, 11, 9], betaOne: [0, 0, 1, 0, 0]))
        let checks = Self.exponentChecks(c)
        #expect(checks.allSatisfy { $0.verdict == .inconclusive && $0.reason?.hasPrefix("underpowered") == true }, "\(checks.map { ($0.estimate.low, $0.estimate.high, $0.reason) })")
    }

    /// No β = 2 chain diverged: the divergence check reads "not tested" and the notes say so.
    @Test func divergenceNotTested() {
        let c = Self.claim(Self.magnitude(gap: 0.05), Self.divergence(betaTwo: [0, 0, 0, 0, 0], betaOne: [1, 0, 2, 0, 0]))
        #expect(Self.divergenceChecks(c).allSatisfy { $0.verdict == .notTested })
        #expect(c.verdict == .inconclusive)
        #expect(c.notes.contains("(so in: unscaled-gaussian)"))
    }

    /// β = 1 chains diverging more than β = 2's: the divergence check is not supported.
    @Test func divergenceNotSupported() {
        let c = Self.claim(Self.magnitude(gap: 0.05), Self.divergence(betaTwo: [1, 0, 1, 0, 1], betaOne: [20, 25, 22, 21, 24]))
        #expect(Self.divergenceChecks(c).allSatisfy { $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }
}
