// HT-E1's verdicts (HT-C2, HT-C3 skew part) on hand-made rows (issue 30): one test per way each can go.
import ExperimentKit
import Foundation
import Testing
@testable import ht_e1_concentration

@Suite struct HTE1ClaimsTests {
    typealias E = HTE1Concentration

    /// One moments.csv row; only cv, cvSE, skewExact and skewExactError feed the verdicts (the
    /// other values only the notes' sampler check).
    static func row(beta: Double, dimension: Int, cv: Double = 0.01, cvSE: Double = 1e-6, skewExact: Double = 0.05,
                    skewExactError: Double = 1e-7) -> E.Row {
        E.Row(beta: beta, dimension: dimension, samples: 100_000, mean: 10, meanSE: 0.01, std: 10 * cv, stdSE: 0.01, cv: cv, cvSE: cvSE,
              skew: skewExact, skewSE: 0.01, meanClosed: 10, stdClosed: 10 * cv, cvClosed: cv, skewClosed: skewExact,
              meanExact: 10, stdExact: 10 * cv, cvExact: cv, skewExact: skewExact, skewExactError: skewExactError)
    }

    /// D = 16 … 4096 (log D equally spaced) and a jitter in log CV that is symmetric about the
    /// middle D, so the fitted slope is exactly `slope` and its standard error 0.2634·jitter
    /// (95 % half-width with t(3) = 3.182: 0.838·jitter).
    static let dimensions = [16, 64, 256, 1024, 4096]
    static let pattern = [1.0, -1, 0, -1, 1]

    /// CV rows for β = 1 and 2: CV = scale(β)·D^slope·exp(jitter·pattern); at D = 4096 both have
    /// the same jitter, so CV(1)/CV(2) there is `ratio`. A D = 4 row far off the line checks that
    /// the slope uses D ≥ 16 only.
    static func cvRows(slope: Double, jitter: Double, ratio: Double = 1.58, relativeSE: Double = 1e-5) -> [E.Row] {
        [(1.0, ratio), (2.0, 1.0)].flatMap { beta, scale in
            [row(beta: beta, dimension: 4, cv: 5)] + zip(dimensions, pattern).map { d, p in
                let cv = 0.1 * scale * pow(Double(d), slope) * exp(jitter * p)
                return row(beta: beta, dimension: d, cv: cv, cvSE: relativeSE * cv)
            }
        }
    }

    static func claims(_ rows: [E.Row]) -> [String: ClaimResult] {
        let c = E.claims(E.Results(moments: rows, histograms: []), config: E.Config.full, seeds: 1, scale: .full)
        return Dictionary(uniqueKeysWithValues: c.map { ($0.claim, $0) })
    }
    static func slopes(_ c: ClaimResult) -> [ClaimCheck] { c.checks.filter { $0.statistic.hasPrefix("log-log slope") } }
    static func ratio(_ c: ClaimResult) -> ClaimCheck? { c.checks.first { $0.statistic.hasPrefix("CV(β=1)/CV(β=2)") } }

    // MARK: - HT-C2

    /// Slope −0.5 with a half-width 0.0084 (jitter 0.01) inside −0.5 ± 0.05, and the ratio 1.58
    /// with a tiny s.e. inside 1.58 ± 0.05: supported; the D = 4 outlier is not in the fit (n = 5).
    @Test func htC2Supported() {
        let c = Self.claims(Self.cvRows(slope: -0.5, jitter: 0.01))["HT-C2"]!
        let s = Self.slopes(c)
        #expect(s.count == 2 && s.allSatisfy { abs($0.estimate.mean + 0.5) < 1e-9 && $0.estimate.n == 5 && $0.verdict == .supported })
        #expect(abs(s[0].estimate.halfWidth - 0.838 * 0.01) < 2e-4)
        let r = Self.ratio(c)!
        #expect(abs(r.estimate.mean - 1.58) < 1e-9 && r.statistic.contains("D = 4096") && r.estimate.n == 100_000 && r.verdict == .supported)
        #expect(c.verdict == .supported)
    }

    /// Slope −0.7 (interval [−0.708, −0.692], wholly below −0.55): the slope checks are not supported.
    @Test func htC2SlopeNotSupported() {
        let c = Self.claims(Self.cvRows(slope: -0.7, jitter: 0.01))["HT-C2"]!
        #expect(Self.slopes(c).allSatisfy { abs($0.estimate.mean + 0.7) < 1e-9 && $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// Slope −0.5 but jitter 0.1: half-width ≈ 0.084 > 0.05, so the interval crosses both ends
    /// of −0.5 ± 0.05: inconclusive (the ratio, still supported, cannot make the claim supported).
    @Test func htC2SlopeInconclusive() {
        let c = Self.claims(Self.cvRows(slope: -0.5, jitter: 0.1))["HT-C2"]!
        let s = Self.slopes(c)
        #expect(s.allSatisfy { $0.estimate.low < -0.55 && $0.estimate.high > -0.45 && $0.verdict == .inconclusive })
        #expect(Self.ratio(c)!.verdict == .supported && c.verdict == .inconclusive)
    }

    /// Ratio 1.8 (far outside 1.58 ± 0.05 with a tiny s.e.): the ratio check is not supported.
    @Test func htC2RatioNotSupported() {
        let c = Self.claims(Self.cvRows(slope: -0.5, jitter: 0.01, ratio: 1.8))["HT-C2"]!
        let r = Self.ratio(c)!
        #expect(abs(r.estimate.mean - 1.8) < 1e-9 && r.verdict == .notSupported)
        #expect(c.verdict == .notSupported)
    }

    /// Ratio 1.62 with 2 % relative s.e. per CV: s.e. 1.62·√2·0.02 = 0.046, interval ≈ [1.53, 1.71]
    /// crosses 1.63: inconclusive.
    @Test func htC2RatioInconclusive() {
        let c = Self.claims(Self.cvRows(slope: -0.5, jitter: 0.01, ratio: 1.62, relativeSE: 0.02))["HT-C2"]!
        let r = Self.ratio(c)!
        #expect(abs(r.estimate.halfWidth - 1.96 * 1.62 * 2.0.squareRoot() * 0.02) < 1e-6 && r.verdict == .inconclusive)
        #expect(c.verdict == .inconclusive)
    }

    /// Fewer than three D ≥ 16 per β and no β = 1 at the largest D: no check at all, and a claim
    /// with no checks reads inconclusive.
    @Test func htC2NoChecks() {
        let c = Self.claims([Self.row(beta: 2, dimension: 784), Self.row(beta: 2, dimension: 3072), Self.row(beta: 1, dimension: 784)])["HT-C2"]!
        #expect(c.checks.isEmpty && c.verdict == .inconclusive)
    }

    // MARK: - HT-C3 (skew part)

    /// Exact skews at D = 784 and 3072 for β = 1 and 2 (error bounds `error`).
    static func skewRows(betaOne: Double, betaTwo: Double = 0.03, error: Double = 1e-6) -> [E.Row] {
        [784, 3072].flatMap { d in
            [Self.row(beta: 1, dimension: d, skewExact: betaOne, skewExactError: error),
             Self.row(beta: 2, dimension: d, skewExact: betaTwo, skewExactError: error)]
        }
    }

    /// skew(β = 1) − skew(β = 2) = 0.08 ± 2e-6 at both D: supported (the spec's 0.11 vs 0.03).
    @Test func htC3Supported() {
        let c = Self.claims(Self.skewRows(betaOne: 0.11))["HT-C3"]!
        #expect(c.checks.count == 2 && c.checks.allSatisfy { abs($0.estimate.mean - 0.08) < 1e-12 && $0.estimate.n == 1 && $0.verdict == .supported })
        #expect(c.checks[0].statistic.contains("D = 784") && c.checks[1].statistic.contains("D = 3072"))
        #expect(c.verdict == .supported)
    }

    /// β = 1 less skewed than β = 2 (difference −0.01, error 2e-6): not supported.
    @Test func htC3NotSupported() {
        let c = Self.claims(Self.skewRows(betaOne: 0.02))["HT-C3"]!
        #expect(c.checks.allSatisfy { abs($0.estimate.mean + 0.01) < 1e-12 && $0.verdict == .notSupported })
        #expect(c.verdict == .notSupported)
    }

    /// A difference of 1e-6 with a quadrature error bound of 2e-5 (1e-5 each): the interval
    /// straddles 0, inconclusive.
    @Test func htC3Inconclusive() {
        let c = Self.claims(Self.skewRows(betaOne: 0.030001, error: 1e-5))["HT-C3"]!
        #expect(c.checks.allSatisfy { $0.estimate.low < 0 && $0.estimate.high > 0 && $0.verdict == .inconclusive })
        #expect(c.verdict == .inconclusive)
    }

    /// Equal skews with a zero error bound: the interval has collapsed onto 0, which reads
    /// inconclusive with that reason, never "not supported".
    @Test func htC3CollapsedInterval() {
        let c = Self.claims(Self.skewRows(betaOne: 0.03, error: 0))["HT-C3"]!
        #expect(c.checks.allSatisfy { $0.verdict == .inconclusive && $0.reason == "interval collapsed onto the threshold" })
    }

    /// No β = 2 row at D = 784 or 3072: nothing to compare, HT-C3 has no checks (inconclusive).
    @Test func htC3NoReference() {
        let c = Self.claims(Self.cvRows(slope: -0.5, jitter: 0.01))["HT-C3"]!
        #expect(c.checks.isEmpty && c.verdict == .inconclusive)
    }
}
