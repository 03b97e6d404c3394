@testable import ExperimentKit
import Foundation
import Testing

/// Issue 27: the quality gate on image verdicts, on hand-made numbers and claims.
@Suite struct ImageQualityGateTests {
    /// A HT-C9-like claim: one check per β < 2, both supported on their own.
    func claim() -> ClaimResult {
        let checks = [1.0, 1.5].map { b in
            ClaimCheck(statistic: "minority fraction(β = \(b)) − minority fraction(β = 2), paired by seed",
                       estimate: Estimate(mean: 0.05, low: 0.02, high: 0.08, n: 10), direction: .greaterThan, threshold: 0)
        }
        return ClaimResult(claim: "HT-C9", scope: "s", experiment: "ht-e5-class-balance", command: "c", checks: checks, seeds: 10, notes: "old notes")
    }

    static func beta(_ c: ClaimCheck) -> Double? {
        guard let r = c.statistic.range(of: "(β = ") else { return nil }
        let rest = c.statistic[r.upperBound...]
        return rest.firstIndex(of: ")").flatMap { Double(rest[..<$0]) }
    }

    @Test func aPassingBaselineKeepsTheVerdict() {
        let outcome = ImageQualityGate.evaluate(.init(label: "β = 2", pixelPrecision: 0.9, classEntropy: 2.1, realClassEntropy: 2.3,
                                                      minorityFraction: 0.09, trainingMinorityFraction: 0.114))
        #expect(outcome.passed && outcome.failures.isEmpty && outcome.conditions.count == 3)
        let gated = ImageQualityGate.apply(outcome, to: claim(), betaOfCheck: Self.beta)
        #expect(gated.verdict == .supported)
        #expect(gated.checks.allSatisfy { $0.verdict == .supported })
        #expect(gated.notes.hasPrefix("Quality gate passed by the baseline (β = 2): pixel precision 0.9 ≥ 0.5"))
        #expect(gated.notes.hasSuffix("old notes") && gated.scope == "s")
    }

    /// Each condition fails on its own, names its numbers and threshold, and makes every check
    /// and the claim "not testable at this scale".
    @Test func aFailingBaselineMakesTheClaimNotTestable() {
        let cases: [(ImageQualityGate.Baseline, String)] = [
            (.init(label: "b", pixelPrecision: 0.1), "pixel precision 0.1 < 0.5"),
            (.init(label: "b", pixelPrecision: 0.9, classEntropy: 0.63, realClassEntropy: 2.30), "class entropy 0.63 nats < 0.8 × 2.3 = 1.84"),
            (.init(label: "b", pixelPrecision: 0.9, minorityFraction: 0.001, trainingMinorityFraction: 0.091), "minority fraction 0.10% outside a factor 2"),
            (.init(label: "b", pixelPrecision: 0.9, minorityFraction: 0.3, trainingMinorityFraction: 0.091), "minority fraction 30.00% outside a factor 2"),
            (.init(label: "b", pixelPrecision: .nan), "pixel precision nan"),
        ]
        for (baseline, phrase) in cases {
            let outcome = ImageQualityGate.evaluate(baseline)
            #expect(!outcome.passed && outcome.failures.count == 1, "\(baseline)")
            #expect(outcome.failures[0].hasPrefix(phrase), "\(outcome.failures[0]) does not start with \(phrase)")
            let gated = ImageQualityGate.apply(outcome, to: claim(), betaOfCheck: Self.beta)
            #expect(gated.verdict == .notTestableAtThisScale)
            #expect(gated.checks.allSatisfy { $0.verdict == .notTestableAtThisScale && ($0.reason ?? "").contains(phrase) })
            #expect(gated.notes.hasPrefix("Not testable at this scale: the baseline sampler (b) fails the quality gate: \(outcome.failures[0])"))
            #expect(gated.checks.map(\.estimate.mean) == [0.05, 0.05], "numbers are kept")
        }
    }

    /// A β < 2 whose samples fail the precision condition while the baseline passes: its checks
    /// are "not tested" (sampler failed), the others keep their verdicts.
    @Test func aFailedSamplerIsNotCounted() {
        let failed = ImageQualityGate.failedSamplers(pixelPrecision: [(1, 0.1), (1.5, 0.7), (2, 0.2)])
        #expect(failed == [1])
        let outcome = ImageQualityGate.evaluate(.init(label: "b", pixelPrecision: 0.9))
        let gated = ImageQualityGate.apply(outcome, to: claim(), failedBetas: failed, betaOfCheck: Self.beta)
        #expect(gated.checks.map(\.verdict) == [.notTested, .supported])
        #expect(gated.checks[0].reason?.hasPrefix("sampler failed at β = 1") == true)
        #expect(gated.verdict == .inconclusive)
        #expect(gated.notes.contains("Sampler failed at β = 1 (pixel precision < 0.5)"))
    }

    /// All checks untestable make the claim untestable; otherwise the untestable ones are left
    /// out (one data set of two failing its gate); the ledger line names the reason.
    @Test func combiningAndLedgerLine() {
        var untestable = claim().checks[0]
        untestable.verdict = .notTestableAtThisScale
        untestable.reason = "baseline failed the quality gate: pixel precision 0.1 < 0.5"
        var against = claim().checks[1]
        against.verdict = .notSupported
        #expect(Verdict.combining([untestable, untestable]) == .notTestableAtThisScale)
        #expect(Verdict.combining([against, untestable]) == .notSupported)
        #expect(Verdict.combining([claim().checks[1], untestable]) == .supported)
        #expect(Ledger.describe(untestable).hasSuffix("(not read: baseline failed the quality gate: pixel precision 0.1 < 0.5)"))
        #expect(Verdict(rawValue: "not testable at this scale") == .notTestableAtThisScale)
    }
}

/// Issue 31: the README's first screen has one line per claim with its verdict and deciding
/// number, taken from the ledger.
@Suite struct FindingsTests {
    @Test func oneLinePerClaimWithTheDecidingNumber() {
        let close = ClaimCheck(statistic: "ratio A", estimate: Estimate(mean: 1.1, low: 1.05, high: 1.15, n: 5), direction: .greaterThan, threshold: 1)
        let far = ClaimCheck(statistic: "ratio B", estimate: Estimate(mean: 3, low: 2.9, high: 3.1, n: 5), direction: .greaterThan, threshold: 1)
        let against = ClaimCheck(statistic: "gap C", estimate: Estimate(mean: -0.5, low: -0.7, high: -0.3, n: 10), direction: .greaterThan, threshold: 0)
        let entries = [
            LedgerEntry(claim: "HT-C1", paper: "p", statement: "First claim.", experiments: ["e"], commands: [], checks: [far, close],
                        seeds: 5, verdict: .supported, scales: ["full"], notes: ""),
            LedgerEntry(claim: "HT-C2", paper: "p", statement: "Second claim", experiments: ["e"], commands: [], checks: [far, against],
                        seeds: 10, verdict: .notSupported, scales: ["full"], notes: ""),
        ]
        let lines = Ledger.findings(entries).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // Supported: the check nearest its threshold decides (ratio A, not ratio B).
        #expect(lines[0] == "- **HT-C1** *supported* — First claim. Deciding: ratio A = 1.10 [1.05, 1.15] > 1.00 (n = 5).")
        #expect(lines[1].hasPrefix("- **HT-C2** *not supported* — Second claim. Deciding: gap C = -0.500 [-0.700, -0.300] > 0"))
    }
}
