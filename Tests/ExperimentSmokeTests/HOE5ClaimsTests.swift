// HO-E5's verdict (HO-C7) on hand-made results (issue 30): one test per way it can go, and the
// fixed-horizon check added after the audit never deciding it.
import ExperimentKit
import Foundation
import Testing
@testable import ho_e5_ozaki_synthetic

@Suite struct HOE5ClaimsTests {
    typealias E = HOE5OzakiSynthetic
    static let config = E.Config.full

    /// Reached rows for both score arms: per seed, ULA's and Ozaki's steps to the band (nil: not
    /// reached), one step size each.
    static func reached(ula: [Int?], ozaki: [Int?]) -> [E.ReachedRow] {
        ["oracle", "learned"].flatMap { scores in
            ula.indices.flatMap { k in
                [E.ReachedRow(scores: scores, rule: "ULA", stepSize: 0.01, seed: k, stepsToBand: ula[k], reached: ula[k] == nil ? 0 : 1, diverged: 0, clampedCurvatures: 0),
                 E.ReachedRow(scores: scores, rule: "Ozaki", stepSize: 0.1, seed: k, stepsToBand: ozaki[k], reached: ozaki[k] == nil ? 0 : 1, diverged: 0, clampedCurvatures: 0)]
            }
        }
    }

    /// Fraction rows at t = 300: per seed, ULA's and Ozaki's heavy fractions.
    static func fractions(ula: [Double], ozaki: [Double], step: Int = 300) -> [E.FractionRow] {
        ["oracle", "learned"].flatMap { scores in
            ula.indices.flatMap { k in
                [E.FractionRow(scores: scores, rule: "ULA", stepSize: 0.01, seed: k, step: step, heavy: 0, live: 4000, heavyFraction: ula[k]),
                 E.FractionRow(scores: scores, rule: "Ozaki", stepSize: 0.1, seed: k, step: step, heavy: 0, live: 4000, heavyFraction: ozaki[k])]
            }
        }
    }

    static func claim(_ re: [E.ReachedRow], _ fr: [E.FractionRow]) -> ClaimResult {
        E.claims(E.Results(fractions: fr, reached: re, accuracy: []), config: config, seeds: 5, scale: .full)[0]
    }

    static let closer = fractions(ula: [0.6, 0.61, 0.59, 0.62, 0.6], ozaki: [0.79, 0.8, 0.81, 0.78, 0.8])
    static let farther = fractions(ula: [0.79, 0.8, 0.81, 0.78, 0.8], ozaki: [0.6, 0.61, 0.59, 0.62, 0.6])

    /// Ozaki reaches the band sooner in every seed: supported (the deciding checks are the
    /// two pre-registered ones; the horizon checks are marked information only).
    @Test func supported() {
        let c = Self.claim(Self.reached(ula: [2000, 2100, nil, 1900, 2500], ozaki: [300, 350, 280, 310, 400]), Self.closer)
        let deciding = c.checks.filter { $0.informational != true }
        #expect(deciding.count == 2 && deciding.allSatisfy { $0.verdict == .supported })
        #expect(c.checks.filter { $0.informational == true }.count == 2)
        #expect(c.verdict == .supported)
    }

    /// ULA reaches the band sooner in every seed: not supported.
    @Test func notSupported() {
        let c = Self.claim(Self.reached(ula: [300, 350, 280, 310, 400], ozaki: [2000, 2100, 2200, 1900, 2500]), Self.farther)
        #expect(c.verdict == .notSupported)
    }

    /// Mixed seeds (and the censored "not reached" counting as 3001): inconclusive.
    @Test func inconclusive() {
        let c = Self.claim(Self.reached(ula: [2000, 300, nil, 400, 2500], ozaki: [300, 2100, nil, 1900, 400]), Self.closer)
        #expect(c.checks.filter { $0.informational != true }.allSatisfy { $0.verdict == .inconclusive })
        #expect(c.verdict == .inconclusive)
    }

    /// The fixed-horizon check added after the audit disagrees (not supported) but does not
    /// decide: the claim stays supported, and the notes say which statistic decides.
    @Test func horizonCheckNeverDecides() {
        let c = Self.claim(Self.reached(ula: [2000, 2100, nil, 1900, 2500], ozaki: [300, 350, 280, 310, 400]), Self.farther)
        let horizon = c.checks.filter { $0.informational == true }
        #expect(horizon.count == 2 && horizon.allSatisfy { $0.verdict == .notSupported && $0.statistic.hasPrefix("added after the audit (issue 30)") })
        #expect(c.verdict == .supported)
        #expect(Verdict.combining(c.checks) == .supported)
        #expect(c.notes.contains("the pre-registered steps-to-band statistic decides (verdict supported)"))
    }

    /// No record at the horizon: the added check reads "not tested" (still information only).
    @Test func horizonNotTested() {
        let c = Self.claim(Self.reached(ula: [2000, 2100, nil, 1900, 2500], ozaki: [300, 350, 280, 310, 400]),
                           Self.fractions(ula: [0.6, 0.6, 0.6, 0.6, 0.6], ozaki: [0.8, 0.8, 0.8, 0.8, 0.8], step: 290))
        let horizon = c.checks.filter { $0.informational == true }
        #expect(horizon.count == 2 && horizon.allSatisfy { $0.verdict == .notTested })
        #expect(c.verdict == .supported)
    }
}
