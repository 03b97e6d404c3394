// HO-E1's verdicts (HO-C2, HO-C1) on hand-made results (issue 30): one test per way each can go.
import ExperimentKit
import Foundation
import Testing
@testable import ho_e1_hessian_accuracy

@Suite struct HOE1ClaimsTests {
    typealias E = HOE1HessianAccuracy
    static let config = E.Config.full

    static func arm(_ arm: String, seed: Int, error: Double, steps: Int = 5_000) -> E.ArmRow {
        E.ArmRow(dataset: "mixture-20", dimension: 20, sigma: 0.1, seed: seed, arm: arm, relativeFrobenius: error, mse: 0, mseSigma4: 0, diagonalMSE: 0,
                 firstOrderError: 0.1, stepsTrained: steps)
    }

    /// One cell (D = 20, σ = 0.1): the decisive arm's and another arm's ratio to autodiff, and
    /// the identity's value ratio and gradient coefficient per seed.
    static func results(decisive: (Double, Double, Double), other: (Double, Double, Double) = (0.8, 0.7, 0.9),
                        identity: [Double] = [1.0001, 0.9999, 1.0]) -> E.Results {
        let arms = (0..<3).flatMap { k in [arm("autodiff", seed: k, error: 0.5), arm(config.primaryArm, seed: k, error: 0.5 * decisive.0), arm("D2SM-A", seed: k, error: 0.4)] }
        let ratios = [E.RatioRow(dataset: "mixture-20", dimension: 20, sigma: 0.1, arm: config.primaryArm, baseline: "autodiff", ratio: decisive.0, low: decisive.1, high: decisive.2, seeds: 3),
                      E.RatioRow(dataset: "mixture-20", dimension: 20, sigma: 0.1, arm: "D2SM-A", baseline: "autodiff", ratio: other.0, low: other.1, high: other.2, seeds: 3),
                      // Outside the claim's range (σ > 0.5): tallied nowhere, decides nothing.
                      E.RatioRow(dataset: "mixture-20", dimension: 20, sigma: 1, arm: config.primaryArm, baseline: "autodiff", ratio: 5, low: 4, high: 6, seeds: 3)]
        let tw = [E.TweedieRatioRow(dataset: "mixture-20", dimension: 20, sigma: 0.1, ratioRegression: .nan, lowRegression: .nan, highRegression: .nan,
                                    ratioBayes: 1.05, lowBayes: 1.04, highBayes: 1.06, seeds: 3)]
        let ident = identity.enumerated().map { k, v in
            E.IdentityRow(dataset: "mixture-20", dimension: 20, sigma: 0.1, seed: k, valueRatio: v, gradientCoefficient: v, gradientCosine: 1)
        }
        return E.Results(arms: arms, ratios: ratios, tweedieRatios: tw, curves: [], identity: ident, headFloors: [])
    }

    static func claim(_ id: String, _ r: E.Results) -> ClaimResult { E.claims(r, config: config, seeds: 3, scale: .full).first { $0.claim == id }! }

    /// The decisive arm below autodiff: supported; only its in-range cell is a check.
    @Test func c2Supported() {
        let c = Self.claim("HO-C2", Self.results(decisive: (0.8, 0.7, 0.9)))
        #expect(c.checks.count == 1 && c.checks[0].statistic.contains("err(\(Self.config.primaryArm))"))
        #expect(c.verdict == .supported)
        #expect(c.notes.contains("D2SM-A: 1 supported, 0 not supported, 0 inconclusive"))
    }

    /// The decisive arm above autodiff: not supported, although another arm is below it; the
    /// notes name that arm and say why this reads as a finding.
    @Test func c2NotSupported() {
        let c = Self.claim("HO-C2", Self.results(decisive: (1.1, 1.05, 1.15)))
        #expect(c.verdict == .notSupported)
        #expect(c.notes.contains("Why this reads as a finding about the claim") && c.notes.contains("only in D2SM-A (1 of 1 cells)"))
    }

    /// The decisive ratio's interval straddles 1: inconclusive.
    @Test func c2Inconclusive() {
        let c = Self.claim("HO-C2", Self.results(decisive: (1.0, 0.9, 1.1)))
        #expect(c.verdict == .inconclusive)
        #expect(!c.notes.contains("Why this reads as a finding"))
    }

    /// The per-arm rows of tables/arm_verdicts carry each arm's own verdict.
    @Test func armVerdictRows() {
        let p = E.armVerdicts(Self.results(decisive: (1.1, 1.05, 1.15), other: (0.8, 0.7, 0.9)), config: Self.config)
        #expect(p.rows.map(\.verdict) == ["not supported", "supported"])
        #expect(p.decisive.count == 1)
    }

    /// The identity holds to round-off: HO-C1 supported, with the oracle gap in the notes.
    @Test func c1Supported() {
        let c = Self.claim("HO-C1", Self.results(decisive: (0.8, 0.7, 0.9)))
        #expect(c.checks.count == 2 && c.verdict == .supported)
        #expect(c.notes.contains("mixture-20, σ = 0.10: 1.050 [1.040, 1.060]"))
    }

    /// A 2 % scale error in the DSM loss: HO-C1 not supported.
    @Test func c1NotSupported() {
        let c = Self.claim("HO-C1", Self.results(decisive: (0.8, 0.7, 0.9), identity: [1.02, 1.021, 1.019]))
        #expect(c.verdict == .notSupported)
    }

    /// One seed off by more than the tolerance, the interval over the edge: inconclusive.
    @Test func c1Inconclusive() {
        let c = Self.claim("HO-C1", Self.results(decisive: (0.8, 0.7, 0.9), identity: [1.0, 1.0, 1.004]))
        #expect(c.verdict == .inconclusive)
    }
}
