// HO-E6's verdict (HO-C8) on hand-made rows (issue 30): one test per way it can go.
import ExperimentKit
import Foundation
import Testing
import TestSupport
@testable import ho_e6_ozaki_images

@Suite struct HOE6ClaimsTests {
    typealias E = HOE6OzakiImages

    /// Three step sizes, so the Bonferroni family has 3 members.
    static var config: E.Config {
        var c = E.Config()
        c.stepRatios = [0.2, 2, 4]
        return c
    }

    /// Two seeds × two start kinds × 10 chains per (c, sampler). ULA chain j makes j mod 3
    /// persistent switches per 1000 steps, Ozaki's the same plus `extra(c, j)` (raw switches one
    /// more each). Per (seed, c, sampler, start) the mixing row has `diverged(sampler, c)`
    /// diverged chains, final pixel precision `precision(sampler, c)` and final distance
    /// `distance(sampler, c)` to the true class mix.
    static func results(extra: @escaping (Double, Int) -> Int = { _, _ in 2 }, diverged: (String, Double) -> Int = { _, _ in 0 },
                        precision: (String, Double) -> Double = { _, _ in 0.9 },
                        distance: (String, Double) -> Double = { _, _ in 0.2 }) -> E.Results {
        var chains: [E.ChainRow] = [], mixing: [E.MixingRow] = []
        for seed in 0..<2 {
            for q in config.stepRatios {
                for rule in ["ULA", "Ozaki-diagonal"] {
                    for kind in E.startKinds {
                        for j in 0..<10 {
                            let p = (j % 3) + (rule == "ULA" ? 0 : extra(q, j))
                            chains.append(E.ChainRow(seed: seed, stepRatio: q, sampler: rule, start: kind, chain: j, switches: p + 1,
                                                     switchesPer1000Steps: Double(p + 1), startClass: 0, finalClass: 0, persistentSwitches: p,
                                                     persistentSwitchesPer1000Steps: Double(p)))
                        }
                        mixing.append(E.MixingRow(seed: seed, stepRatio: q, stepSize: q * 0.0625, sampler: rule, start: kind, switchesPerChain: 0,
                                                  switchesPer1000Steps: 0, pooledClassEntropyNats: 0, divergedChainsAllStarts: diverged(rule, q),
                                                  persistentSwitchesPer1000Steps: 0, finalHistogramDistance: distance(rule, q),
                                                  pixelPrecisionFinal: precision(rule, q)))
                    }
                }
            }
        }
        return E.Results(mixing: mixing, left: [], chains: chains, distances: [], classifierAccuracy: 0.9)
    }

    static func claim(_ r: E.Results) -> ClaimResult {
        let c = E.claims(r, config: config, seeds: E.seedCount(of: r), scale: .full)
        #expect(c.count == 1 && c[0].claim == "HO-C8" && c[0].seeds == 2 && c[0].command == "make ho-e6-ozaki-images SCALE=full")
        return c[0]
    }

    /// Ozaki makes 2 more persistent switches per 1000 steps in every chain: supported at the
    /// one c where both samplers are stable. ULA diverged at c = 2 and made speckle (pixel
    /// precision 0.1 < the gate's 0.5) at c = 4, so those are left out and listed; the own-best
    /// comparison picks each sampler's smallest final distance among its stable steps.
    @Test func supportedAtTheStableStepsOnly() {
        let r = Self.results(diverged: { rule, q in rule == "ULA" && q == 2 ? 3 : 0 }, precision: { rule, q in rule == "ULA" && q == 4 ? 0.1 : 0.9 },
                             distance: { rule, q in rule == "ULA" ? (q == 0.2 ? 0.3 : 0.05) : (q == 4 ? 0.1 : 0.2) })
        let claim = Self.claim(r)
        #expect(claim.checks.count == 1 && claim.checks[0].statistic.hasPrefix("ε = 0.2·σ²") && claim.verdict == .supported)
        #expect(abs(claim.checks[0].estimate.mean - 2) <= Tolerance.float64Ops && claim.checks[0].estimate.n == 40)
        #expect(E.stableRatios(r.mixing, config: Self.config) == ["ULA": [0.2], "Ozaki-diagonal": [0.2, 2, 4]])
        #expect(claim.notes.contains("c = 2.0 (ULA 6 diverged, pixel precision 0.90; Ozaki-diagonal 0 diverged, pixel precision 0.90)"), "\(claim.notes)")
        #expect(claim.notes.contains("c = 4.0 (ULA 0 diverged, pixel precision 0.10; Ozaki-diagonal 0 diverged"), "\(claim.notes)")
        // ULA's only stable step is 0.2 (distance 0.3); Ozaki's best is c = 4 (0.1).
        #expect(claim.notes.contains("ULA's best stable step c = 0.20 ends at distance 0.300"), "\(claim.notes)")
        #expect(claim.notes.contains("Ozaki's c = 4.0 at 0.100"), "\(claim.notes)")
    }

    /// Ozaki makes no persistent switch where ULA makes j mod 3: the paired differences
    /// −(j mod 3) have mean −0.9 over 40 chains, and even Bonferroni-widened over 3 step sizes
    /// the interval is below 0 at every c: not supported.
    @Test func notSupported() {
        let claim = Self.claim(Self.results(extra: { _, j in -(j % 3) }))
        let t = Stats.meanCI((0..<40).map { -Double($0 % 10 % 3) })
        #expect(claim.checks.count == 3 && claim.verdict == .notSupported)
        for check in claim.checks {
            #expect(abs(check.estimate.mean + 0.9) <= Tolerance.float64Ops && check.estimate.n == 40 && check.estimate.high < 0)
            #expect(abs(check.estimate.halfWidth - t.halfWidth * Stats.familyZ(3) / 1.959963984540054) <= Tolerance.float64Ops)
            #expect(check.verdict == .notSupported && check.reason == nil)
        }
        #expect(claim.notes.contains("Every c was stable for both samplers."))
    }

    /// Ozaki one switch more in even chains and one fewer in odd ones: the differences ±1 have
    /// mean 0 and the interval straddles 0 — inconclusive on the interval itself.
    @Test func inconclusive() {
        let claim = Self.claim(Self.results(extra: { _, j in j % 2 == 0 ? 1 : -1 }))
        #expect(claim.checks.count == 3 && claim.verdict == .inconclusive)
        #expect(claim.checks.allSatisfy { $0.estimate.mean == 0 && $0.estimate.low < 0 && $0.estimate.high > 0 })
        #expect(claim.checks.allSatisfy { $0.verdict == .inconclusive && $0.reason == nil })
    }

    /// Both samplers make the same switches in every chain: every difference is 0, the interval
    /// has collapsed onto the threshold, which reads inconclusive (with that reason), not "not
    /// supported".
    @Test func inconclusiveWhenTheIntervalCollapses() {
        let claim = Self.claim(Self.results(extra: { _, _ in 0 }))
        #expect(claim.checks.count == 3 && claim.verdict == .inconclusive)
        #expect(claim.checks.allSatisfy { $0.estimate.mean == 0 && $0.estimate.n == 40 && $0.reason == "interval collapsed onto the threshold" })
    }

    /// ULA diverged at every c: no c is compared at equal ε, so there is no check and the claim
    /// is inconclusive; the notes list every c and say no own-best comparison could be made.
    @Test func inconclusiveWithNoStableStep() {
        let claim = Self.claim(Self.results(diverged: { rule, _ in rule == "ULA" ? 1 : 0 }))
        #expect(claim.checks.isEmpty && claim.verdict == .inconclusive)
        #expect(claim.notes.contains("Not compared at equal ε") && claim.notes.contains("c = 0.20 (ULA 2 diverged"))
        #expect(claim.notes.contains("c = 4.0 (ULA 2 diverged"))
        #expect(claim.notes.contains("no stable step for one of the samplers"), "\(claim.notes)")
    }
}
