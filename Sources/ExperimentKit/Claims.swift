// Claim verdicts computed from measured numbers. Each experiment states, for each claim it
// tests, a statistic with its interval and a threshold; the verdict follows mechanically:
// supported when the whole interval is on the claimed side, not supported when the whole
// interval is on the other side, inconclusive when it straddles the threshold. Two guards keep a
// measurement defect from reading as a refutation (issue 17): an interval that has collapsed onto
// the threshold (no width, at the boundary), and a check whose stated power is too low to detect
// the claimed effect, read "inconclusive" with a reason instead of "not supported". A check that
// was never exercised (e.g. no event to count) reads "not tested" with its reason. Each check may
// carry its threshold's provenance (paper quote, spec [RECON], or ours with the derivation) and
// its power. Nothing here is typed by hand; the ledger (issue 7) gathers these records from
// results/*/claims.json.

import Foundation

/// The outcome of testing one claim.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case supported
    case notSupported = "not supported"
    case inconclusive
    case notReproducibleHere = "not reproducible here"
    /// No result file holds this claim yet.
    case notRun = "not run"
    /// Some of the experiments the claim needs have no complete result (or one of them has no
    /// check for it): no verdict is drawn from a subset.
    case incomplete
    /// The check ran but the event it needs never happened (or its input was absent); the
    /// check's `reason` says why.
    case notTested = "not tested"
    /// A claim with no stated direction or size (e.g. "competitive"), measured by a proxy: the
    /// numbers are recorded and described, not judged against a threshold.
    case proxyRecorded = "proxy recorded"
    /// An image claim whose baseline sampler (β = 2, Gaussian Langevin noise) fails the quality
    /// gate (`ImageQualityGate`, issue 27): its samples are not images good enough to read the
    /// claim from, so no verdict is drawn; the notes give the failing numbers.
    case notTestableAtThisScale = "not testable at this scale"
}

extension Verdict {
    /// The verdict of a claim decided by several checks together: not testable at this scale if
    /// every check is (the image quality gate failed; checks that are not testable are left out
    /// otherwise), else not supported if any check is,
    /// supported if every check is, not tested if no check was tested, inconclusive otherwise (a
    /// mix of supported and untested checks included, and with no checks at all).
    /// Informational checks (`ClaimCheck.informational`) are left out.
    public static func combining(_ checks: [ClaimCheck]) -> Verdict {
        let deciding = checks.filter { $0.informational != true }
        if deciding.count < checks.count { return combining(deciding) }
        if checks.isEmpty { return .inconclusive }
        // Checks whose baseline failed the image quality gate are not read: the claim is "not
        // testable at this scale" when all are, and the others decide otherwise (e.g. one data
        // set of two fails the gate).
        let readable = checks.filter { $0.verdict != .notTestableAtThisScale }
        if readable.isEmpty { return .notTestableAtThisScale }
        if readable.count < checks.count { return combining(readable) }
        if checks.contains(where: { $0.verdict == .notSupported }) { return .notSupported }
        if checks.allSatisfy({ $0.verdict == .supported }) { return .supported }
        if checks.allSatisfy({ $0.verdict == .notTested }) { return .notTested }
        if checks.allSatisfy({ $0.verdict == .proxyRecorded || $0.verdict == .notTested }),
           checks.contains(where: { $0.verdict == .proxyRecorded }) { return .proxyRecorded }
        return .inconclusive
    }
}

/// Which side of the threshold the claim asserts.
public enum ClaimDirection: String, Codable, Sendable {
    case greaterThan = ">"
    case lessThan = "<"
    /// |statistic − threshold| ≤ tolerance.
    case within = "within"
}

/// Where a check's threshold comes from, so that a reader can tell a failed reconstruction from
/// a refuted claim.
public struct ThresholdProvenance: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable {
        /// The paper's own words (`detail` quotes them).
        case paper
        /// The implementation spec's reconstruction, tagged [RECON] there (`detail` says where).
        case specRecon = "spec [RECON]"
        /// Chosen here (`detail` gives the derivation).
        case ours
    }
    public var source: Source
    public var detail: String

    public init(_ source: Source, _ detail: String) {
        self.source = source
        self.detail = detail
    }
    public static func paper(_ quote: String) -> ThresholdProvenance { .init(.paper, quote) }
    public static func specRecon(_ note: String) -> ThresholdProvenance { .init(.specRecon, note) }
    public static func ours(_ derivation: String) -> ThresholdProvenance { .init(.ours, derivation) }

    /// One line for tables: `paper: "…"`, `spec [RECON]: …`, `ours (derived: …)`.
    public var summary: String {
        switch source {
        case .paper: return "paper: \"\(detail)\""
        case .specRecon: return "spec [RECON]: \(detail)"
        case .ours: return "ours (derived: \(detail))"
        }
    }
}

/// How small an effect a check can detect: the smallest true distance from the threshold that
/// its interval would put wholly on the claimed side with probability ≈ 0.8, with how many
/// independent units (`counts`: "seeds", "draws", "points", ...) stand behind it.
public struct CheckPower: Codable, Sendable, Equatable {
    /// The smallest detectable effect, in the statistic's units (distance from the threshold).
    public var smallestDetectableEffect: Double
    /// The effect the claim asserts (distance from the threshold), when the claim or its spec
    /// names one; nil when the claim only asserts a sign.
    public var claimedEffect: Double?
    public var n: Int
    public var counts: String

    public init(smallestDetectableEffect: Double, claimedEffect: Double? = nil, n: Int, counts: String) {
        self.smallestDetectableEffect = smallestDetectableEffect
        self.claimedEffect = claimedEffect
        self.n = n
        self.counts = counts
    }

    /// The power of an interval-based check with (roughly symmetric) half-width `halfWidth` built
    /// with normal multiplier `z` (1.96 for a single 95 % interval, `Stats.familyZ(k)` for a
    /// Bonferroni family): a true effect δ puts the interval wholly on the claimed side with
    /// probability Φ(δ/SE − z), which is 0.8 at δ = (z + 0.8416)·SE = halfWidth·(z + 0.8416)/z.
    public static func ofInterval(_ estimate: Estimate, z: Double = 1.959963984540054, claimedEffect: Double? = nil,
                                  counts: String) -> CheckPower {
        CheckPower(smallestDetectableEffect: estimate.halfWidth * (z + 0.8416212335729143) / z,
                   claimedEffect: claimedEffect, n: estimate.n, counts: counts)
    }

    /// True when the claim names an effect and the check cannot detect it.
    public var isTooLow: Bool {
        guard let claimed = claimedEffect else { return false }
        return !(smallestDetectableEffect <= abs(claimed))
    }
}

/// One tested statistic of a claim.
public struct ClaimCheck: Codable, Sendable {
    /// What was measured, e.g. "CV(β=1)/CV(β=2) at D = 4096".
    public var statistic: String
    public var estimate: Estimate
    public var direction: ClaimDirection
    public var threshold: Double
    /// For `.within`: the allowed distance from the threshold.
    public var tolerance: Double?
    public var verdict: Verdict
    /// Where the threshold comes from (absent in claims.json files written before issue 17).
    public var provenance: ThresholdProvenance?
    /// The smallest effect the check can detect (absent when not stated).
    public var power: CheckPower?
    /// Why the verdict is "inconclusive" or "not tested" when a guard (collapsed interval, low
    /// power, untested event) decided it rather than the interval's position.
    public var reason: String?
    /// True for a check reported beside the deciding ones (e.g. one added after an audit, issue
    /// 30): it keeps its own verdict but never enters the claim's (`Verdict.combining`). Absent
    /// (nil) for deciding checks, so claims.json files without it read as before.
    public var informational: Bool?

    /// Relative width below which an interval counts as collapsed to a point.
    static let collapsedWidth = 1e-9

    /// Decides the verdict from the interval, then applies the two guards: an interval collapsed
    /// onto the threshold (zero width, touching a boundary of the claimed region) and a check
    /// too weak to detect the claimed effect cannot read "not supported".
    public init(statistic: String, estimate: Estimate, direction: ClaimDirection, threshold: Double, tolerance: Double? = nil,
                provenance: ThresholdProvenance? = nil, power: CheckPower? = nil) {
        self.statistic = statistic
        self.estimate = estimate
        self.direction = direction
        self.threshold = threshold
        self.tolerance = tolerance
        self.provenance = provenance
        self.power = power
        let raw = ClaimCheck.intervalVerdict(estimate: estimate, direction: direction, threshold: threshold, tolerance: tolerance)
        verdict = raw
        guard raw != .supported, estimate.low.isFinite, estimate.high.isFinite else { return }
        let boundaries = direction == .within ? [threshold - (tolerance ?? 0), threshold + (tolerance ?? 0)] : [threshold]
        let scale = max(1, abs(threshold), abs(estimate.low), abs(estimate.high))
        let width = estimate.high - estimate.low
        if width <= ClaimCheck.collapsedWidth * scale,
           boundaries.contains(where: { abs($0 - estimate.mean) <= ClaimCheck.collapsedWidth * scale }) {
            verdict = .inconclusive
            reason = "interval collapsed onto the threshold"
        } else if let p = power, p.isTooLow {
            verdict = .inconclusive
            reason = "underpowered: smallest detectable effect \(String(format: "%.3g", p.smallestDetectableEffect)) > claimed effect \(String(format: "%.3g", abs(p.claimedEffect ?? .nan))) (n = \(p.n) \(p.counts))"
        }
    }

    /// A check that could not be exercised: the event it needs never happened, or its input
    /// is missing. It reads "not tested" with `reason`, never "not supported".
    public static func notTested(statistic: String, estimate: Estimate = Estimate(mean: .nan, low: .nan, high: .nan, n: 0),
                                 direction: ClaimDirection, threshold: Double, tolerance: Double? = nil,
                                 provenance: ThresholdProvenance? = nil, reason: String) -> ClaimCheck {
        var check = ClaimCheck(statistic: statistic, estimate: estimate, direction: direction, threshold: threshold,
                               tolerance: tolerance, provenance: provenance)
        check.verdict = .notTested
        check.reason = reason
        return check
    }

    /// A recorded measurement of a claim that asserts no direction or size: the verdict is
    /// "proxy recorded" and `reason` says in words what the numbers show. `reference` is the
    /// value that means "no difference" (e.g. 1 for a ratio), kept as the threshold for readers;
    /// no verdict is drawn from it.
    public static func recorded(statistic: String, estimate: Estimate, reference: Double, reason: String) -> ClaimCheck {
        var check = ClaimCheck(statistic: statistic, estimate: estimate, direction: .within, threshold: reference)
        check.verdict = .proxyRecorded
        check.reason = reason
        return check
    }

    /// This check marked as information only: its verdict is shown but does not decide the
    /// claim's (issue 30).
    public func asInformation() -> ClaimCheck {
        var check = self
        check.informational = true
        return check
    }

    /// What `estimate.n` counts, in words (issue 19): "n = 5 seeds" where the check states its
    /// power (whose `counts` names the replicates), else "n = 5".
    public var sampleSizeDescription: String {
        "n = \(estimate.n)" + (power.map { " \($0.counts)" } ?? "")
    }

    /// The verdict from the interval's position alone.
    static func intervalVerdict(estimate: Estimate, direction: ClaimDirection, threshold: Double, tolerance: Double?) -> Verdict {
        let (lo, hi) = (estimate.low, estimate.high)
        if !(lo.isFinite && hi.isFinite) { return .inconclusive }
        let verdict: Verdict
        switch direction {
        case .greaterThan:
            verdict = lo > threshold ? .supported : (hi <= threshold ? .notSupported : .inconclusive)
        case .lessThan:
            verdict = hi < threshold ? .supported : (lo >= threshold ? .notSupported : .inconclusive)
        case .within:
            let t = tolerance ?? 0
            if lo >= threshold - t && hi <= threshold + t {
                verdict = .supported
            } else if hi < threshold - t || lo > threshold + t {
                verdict = .notSupported
            } else {
                verdict = .inconclusive
            }
        }
        return verdict
    }
}

/// A claim's record as an experiment writes it to `claims.json`.
public struct ClaimResult: Codable, Sendable {
    /// "HT-C2", "HO-C7", ...
    public var claim: String
    /// The claim in words (from the specs' §5, via `ClaimRegistry`).
    public var statement: String
    /// The part of the claim this experiment tests, as operationalised here (nil in claims.json
    /// files written before the registry became the single source).
    public var scope: String?
    /// The experiment id that produced it.
    public var experiment: String
    /// The command that re-runs it.
    public var command: String
    public var checks: [ClaimCheck]
    /// The overall verdict (`Verdict.combining`): supported iff every check is; not supported if
    /// any check is; not tested if no check was; otherwise inconclusive.
    public var verdict: Verdict
    /// How many seeds (or independent replicates) stand behind the numbers.
    public var seeds: Int
    /// Caveats, e.g. scale limits or [RECON] status of the protocol.
    public var notes: String

    /// A claim's record as an experiment writes it: the statement comes from `ClaimRegistry`
    /// (the one place where claims are worded); `scope` says which part of the claim, and how
    /// operationalised, this experiment tests.
    public init(claim: String, scope: String, experiment: String, command: String, checks: [ClaimCheck], seeds: Int, notes: String = "") {
        guard let spec = ClaimRegistry.spec(claim) else { preconditionFailure("claim \(claim) is not in ClaimRegistry") }
        self.init(claim: claim, statement: spec.statement, experiment: experiment, command: command, checks: checks, seeds: seeds, notes: notes)
        self.scope = scope
    }

    public init(claim: String, statement: String, experiment: String, command: String, checks: [ClaimCheck], seeds: Int, notes: String = "") {
        self.claim = claim
        self.statement = statement
        self.experiment = experiment
        self.command = command
        self.checks = checks
        self.seeds = seeds
        self.notes = notes
        verdict = Verdict.combining(checks)
    }
}
