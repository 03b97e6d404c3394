// HT-E0's verdict (HT-C8) on hand-made rows (issue 30): one test per way it can go.
import ExperimentKit
import Foundation
import Testing
@testable import ht_e0_toy_balance

@Suite struct HTE0ClaimsTests {
    typealias E = HTE0ToyBalance

    static let betas = [1.0, 1.25, 1.5, 2.0]

    /// arms.csv rows, seed-major as compute writes them. In the primary arm (unconditioned,
    /// Laplace Langevin noise) β = 2's minority fraction is 0.35 + 0.01·(k mod 3) in seed k and
    /// every β < 2 is that plus effect ± spread (+ in even seeds, − in odd), so the paired
    /// differences have mean `effect` (even seed count) and SD spread·√(n/(n − 1)). The other
    /// arms get the opposite effect, so they would flip the verdict if they decided it.
    static func rows(effect: Double, spread: Double, seeds: Int = 20, reference: Bool = true) -> [E.ArmRow] {
        (0..<seeds).flatMap { k in
            betas.filter { reference || $0 < 2 }.flatMap { beta in
                [0, 1].flatMap { conditioned in
                    E.noiseArms.map { noise -> E.ArmRow in
                        let primary = conditioned == 0 && noise == "laplace"
                        let base = 0.35 + 0.01 * Double(k % 3)
                        let shift = beta < 2 ? (primary ? effect : -effect) + spread * (k % 2 == 0 ? 1 : -1) : 0
                        return E.ArmRow(seed: k, beta: beta, conditioned: conditioned, langevinNoise: noise, chains: 1000, diverged: 0,
                                        minorityFraction: base + shift, farFraction: 0.01)
                    }
                }
            }
        }
    }

    static func claims(_ arms: [E.ArmRow]) -> [ClaimResult] {
        E.claims(E.Results(arms: arms, paths: [], dataPoints: []), config: E.Config.full, seeds: 20, scale: .full)
    }

    /// The Bonferroni factor for the three β < 2 checks.
    static let widen = Stats.familyZ(3) / 1.96

    /// Every β < 2 ten points above β = 2 in every seed (SD 0.02): the widened interval
    /// [0.088, 0.112] is above 0, supported; the half-width is the t-interval's times z(3)/1.96.
    @Test func supported() {
        let c = Self.claims(Self.rows(effect: 0.10, spread: 0.02))
        #expect(c.count == 1 && c[0].claim == "HT-C8" && c[0].seeds == 20)
        #expect(c[0].checks.count == 3 && c[0].checks.allSatisfy { $0.statistic.contains("Laplace Langevin noise") })
        let t = Stats.meanCI((0..<20).map { 0.10 + 0.02 * ($0 % 2 == 0 ? 1 : -1) })
        for check in c[0].checks {
            #expect(abs(check.estimate.mean - 0.10) < 1e-12 && check.estimate.n == 20 && check.verdict == .supported)
            #expect(abs(check.estimate.halfWidth - t.halfWidth * Self.widen) < 1e-12)
        }
        #expect(c[0].verdict == .supported)
        // Seeds for 80 % power at 5 pp: ⌈((z(3) + 0.84)·0.0205/0.05)²⌉ = ⌈1.76⌉ = 2.
        #expect(c[0].notes.contains("needs ≈ 2, 2, 2 seeds"))
    }

    /// Pairs are matched by seed value, not by row position: with the rows in reverse order and
    /// seed 7 missing from the β = 1 arm, β = 1's check holds the 19 seeds both arms share, and
    /// every difference is still exactly `effect` ± spread (a positional pairing would mix
    /// seeds and give other means).
    @Test func pairsBySeedNotByRowPosition() {
        let rows = Self.rows(effect: 0.10, spread: 0.0).reversed().filter { !($0.seed == 7 && $0.beta == 1) }
        let c = Self.claims(Array(rows))[0]
        let beta1 = c.checks.first { $0.statistic.hasPrefix("minority fraction(β = 1.00) ") }
        #expect(beta1?.estimate.n == 19 && abs((beta1?.estimate.mean ?? 0) - 0.10) < 1e-12)
        #expect(c.checks.filter { $0.statistic != beta1?.statistic }.allSatisfy { $0.estimate.n == 20 && abs($0.estimate.mean - 0.10) < 1e-12 })
    }

    /// Ten points below β = 2 with the same small SD (smallest detectable effect 0.016 ≤ 0.05):
    /// not supported.
    @Test func notSupported() {
        let c = Self.claims(Self.rows(effect: -0.10, spread: 0.02))[0]
        #expect(c.checks.allSatisfy { abs($0.estimate.mean + 0.10) < 1e-12 && $0.verdict == .notSupported && $0.reason == nil })
        #expect(c.verdict == .notSupported)
    }

    /// A half-point difference: the interval [−0.007, 0.017] straddles 0 while the check could
    /// see 5 pp: inconclusive on the interval itself (no guard reason).
    @Test func inconclusive() {
        let c = Self.claims(Self.rows(effect: 0.005, spread: 0.02))[0]
        #expect(c.checks.allSatisfy { $0.estimate.low < 0 && $0.estimate.high > 0 && $0.verdict == .inconclusive && $0.reason == nil })
        #expect(c.verdict == .inconclusive)
    }

    /// 25 points below with SD 0.1: the interval [−0.31, −0.19] is below 0, but its smallest
    /// detectable effect (≈ 0.079) exceeds the 5 pp of interest, so the guard reads
    /// inconclusive (underpowered), not "not supported".
    @Test func underpowered() {
        let c = Self.claims(Self.rows(effect: -0.25, spread: 0.1))[0]
        for check in c.checks {
            #expect(check.estimate.high < 0 && check.verdict == .inconclusive)
            #expect(check.power!.smallestDetectableEffect > E.smallestEffectOfInterest && check.reason?.hasPrefix("underpowered") == true)
        }
        #expect(c.verdict == .inconclusive)
    }

    /// No β = 2 arm (unconditioned, Laplace noise) to pair with: no claim is written at all.
    @Test func noReferenceArm() {
        #expect(Self.claims(Self.rows(effect: 0.10, spread: 0.02, reference: false)).isEmpty)
    }
}
