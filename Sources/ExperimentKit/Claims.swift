// Claim verdicts computed from measured numbers. Each experiment states, for each claim it
// tests, a statistic with its interval and a threshold; the verdict follows mechanically:
// supported when the whole interval is on the claimed side, not supported when the whole
// interval is on the other side, inconclusive when it straddles the threshold. Nothing here is
// typed by hand; the ledger (issue 7) gathers these records from results/*/claims.json.

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
}

extension Verdict {
    /// The verdict of a claim decided by several checks together: not supported if any check is,
    /// supported if every check is, inconclusive otherwise (and with no checks at all).
    public static func combining(_ checks: [ClaimCheck]) -> Verdict {
        if checks.isEmpty { return .inconclusive }
        if checks.contains(where: { $0.verdict == .notSupported }) { return .notSupported }
        return checks.allSatisfy { $0.verdict == .supported } ? .supported : .inconclusive
    }
}

/// Which side of the threshold the claim asserts.
public enum ClaimDirection: String, Codable, Sendable {
    case greaterThan = ">"
    case lessThan = "<"
    /// |statistic − threshold| ≤ tolerance.
    case within = "within"
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

    /// Decides the verdict from the interval.
    public init(statistic: String, estimate: Estimate, direction: ClaimDirection, threshold: Double, tolerance: Double? = nil) {
        self.statistic = statistic
        self.estimate = estimate
        self.direction = direction
        self.threshold = threshold
        self.tolerance = tolerance
        let (lo, hi) = (estimate.low, estimate.high)
        if !(lo.isFinite && hi.isFinite) {
            verdict = .inconclusive
            return
        }
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
    }
}

/// A claim's record as an experiment writes it to `claims.json`.
public struct ClaimResult: Codable, Sendable {
    /// "HT-C2", "HO-C7", ...
    public var claim: String
    /// The claim in words (from the specs' §5).
    public var statement: String
    /// The experiment id that produced it.
    public var experiment: String
    /// The command that re-runs it.
    public var command: String
    public var checks: [ClaimCheck]
    /// The overall verdict: supported iff every check is; not supported if any check is;
    /// otherwise inconclusive.
    public var verdict: Verdict
    /// How many seeds (or independent replicates) stand behind the numbers.
    public var seeds: Int
    /// Caveats, e.g. scale limits or [RECON] status of the protocol.
    public var notes: String

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
