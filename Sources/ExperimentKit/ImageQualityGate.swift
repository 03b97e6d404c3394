// The quality gate on every image verdict (issue 27). A claim about how β changes generated
// images (class balance, sample quality, mixing) can only be read when the baseline sampler —
// β = 2, Gaussian Langevin noise — makes images: a classifier's reading of blobs or speckle is not
// a class. Before an image claim gets "supported", "not supported" or "inconclusive", the
// baseline's samples must pass, on held-out classifier features and pixels:
//   - class entropy ≥ 0.8 × the real images' class entropy (skipped where the claim's data set is
//     a two-class pair, whose entropy the claim itself is about);
//   - pixel precision (k = 5) ≥ 0.5;
//   - for class-balance claims, a baseline minority fraction within a factor of 2 of the
//     training fraction.
// All three thresholds are ours (stated in every outcome). If the baseline fails, every check of
// the claim reads "not testable at this scale", with the failing numbers. A β < 2 whose samples
// fail the pixel-precision condition while the baseline passes is "sampler failed at β = …": its
// checks read "not tested", neither for nor against the claim.
import Foundation
import Reporting

/// A number in at most three significant digits without padding ("0.5", "1.84", "0.63").
private func g(_ x: Double) -> String { String(format: "%.3g", x) }

/// A fraction as a percentage with two decimals ("4.47%"), so that a value just outside a bound
/// does not print as the bound itself.
private func pct(_ x: Double) -> String { x.isFinite ? String(format: "%.2f%%", 100 * x) : "\(x)" }

/// The image-verdict quality gate; see the file comment.
public enum ImageQualityGate {
    /// Minimum class entropy of the baseline's samples, as a fraction of the real images' (ours).
    public static let entropyFraction = 0.8
    /// Minimum pixel-space precision (k = 5) of a sampler's samples (ours).
    public static let minimumPixelPrecision = 0.5
    /// Largest factor between the baseline's minority fraction and the training fraction (ours).
    public static let calibrationFactor = 2.0
    /// Where the thresholds come from.
    public static let provenance = "thresholds ours (issue 27): class entropy ≥ \(g(entropyFraction)) × the real images', pixel precision ≥ \(g(minimumPixelPrecision)), baseline minority fraction within a factor \(g(calibrationFactor)) of the training fraction"

    /// What the baseline sampler's samples measured.
    public struct Baseline: Sendable, Equatable {
        /// e.g. "β = 2, Gaussian Langevin noise, digits8x8".
        public var label: String
        /// Pixel precision (k = 5) of the samples against real held-out images.
        public var pixelPrecision: Double
        /// Class entropy (nats) of the classifier's labels of the samples, and of real images;
        /// nil to skip the entropy condition.
        public var classEntropy: Double?
        public var realClassEntropy: Double?
        /// Minority fraction of the samples and of the training set (class-balance claims);
        /// nil to skip the calibration condition.
        public var minorityFraction: Double?
        public var trainingMinorityFraction: Double?

        public init(label: String, pixelPrecision: Double, classEntropy: Double? = nil, realClassEntropy: Double? = nil,
                    minorityFraction: Double? = nil, trainingMinorityFraction: Double? = nil) {
            self.label = label
            self.pixelPrecision = pixelPrecision
            self.classEntropy = classEntropy
            self.realClassEntropy = realClassEntropy
            self.minorityFraction = minorityFraction
            self.trainingMinorityFraction = trainingMinorityFraction
        }
    }

    /// The gate's decision with each condition's numbers.
    public struct Outcome: Sendable, Equatable {
        public var passed: Bool
        /// One phrase per condition, e.g. "pixel precision 0.92 ≥ 0.5".
        public var conditions: [String]
        /// The conditions that failed.
        public var failures: [String]
        /// One sentence for the claim's notes.
        public var sentence: String
    }

    /// Applies the conditions to `baseline`. A condition whose number is not finite fails.
    public static func evaluate(_ baseline: Baseline) -> Outcome {
        var conditions: [String] = [], failures: [String] = []
        func condition(_ ok: Bool, _ text: String) {
            conditions.append(text)
            if !ok { failures.append(text) }
        }
        let p = baseline.pixelPrecision
        condition(p >= minimumPixelPrecision, "pixel precision \(g(p)) \(p >= minimumPixelPrecision ? "≥" : "<") \(g(minimumPixelPrecision))")
        if let h = baseline.classEntropy, let real = baseline.realClassEntropy {
            let floor = entropyFraction * real
            condition(h >= floor, "class entropy \(g(h)) nats \(h >= floor ? "≥" : "<") \(g(entropyFraction)) × \(g(real)) = \(g(floor))")
        }
        if let f = baseline.minorityFraction, let t = baseline.trainingMinorityFraction {
            let ok = f.isFinite && t > 0 && f >= t / calibrationFactor && f <= t * calibrationFactor
            condition(ok, "minority fraction \(pct(f)) \(ok ? "within" : "outside") a factor \(g(calibrationFactor)) of the training fraction \(pct(t)) (\(pct(t / calibrationFactor))–\(pct(t * calibrationFactor)))")
        }
        let passed = failures.isEmpty
        let sentence = passed
            ? "Quality gate passed by the baseline (\(baseline.label)): \(conditions.joined(separator: "; ")) (\(provenance))."
            : "Not testable at this scale: the baseline sampler (\(baseline.label)) fails the quality gate: \(failures.joined(separator: "; ")) (\(provenance)). Its samples are not images good enough to read the claim from."
        return Outcome(passed: passed, conditions: conditions, failures: failures, sentence: sentence)
    }

    /// The β < 2 values whose samples fail the pixel-precision condition (sampler failures).
    public static func failedSamplers(pixelPrecision byBeta: [(beta: Double, precision: Double)]) -> [Double] {
        byBeta.filter { $0.beta < 2 && !($0.precision >= minimumPixelPrecision) }.map(\.beta).sorted()
    }

    /// Marks `check` as not testable because `outcome` (its baseline's gate) failed.
    public static func markNotTestable(_ check: inout ClaimCheck, by outcome: Outcome) {
        check.verdict = .notTestableAtThisScale
        check.reason = "baseline failed the quality gate: \(outcome.failures.joined(separator: "; "))"
    }

    /// `claim` with the gate applied: when the baseline fails, every check reads "not testable at
    /// this scale" (its number kept, the reason naming the failures) and so does the claim; when
    /// it passes, the checks whose β is in `failedBetas` (found by `betaOfCheck`) read "not
    /// tested" ("sampler failed at β = …"). The gate's sentence is added to the notes either way.
    public static func apply(_ outcome: Outcome, to claim: ClaimResult, failedBetas: [Double] = [],
                             betaOfCheck: (ClaimCheck) -> Double? = { _ in nil }) -> ClaimResult {
        var checks = claim.checks
        var notes = claim.notes
        if !outcome.passed {
            for i in checks.indices { markNotTestable(&checks[i], by: outcome) }
        } else if !failedBetas.isEmpty {
            for i in checks.indices {
                guard let b = betaOfCheck(checks[i]), failedBetas.contains(b) else { continue }
                checks[i].verdict = .notTested
                checks[i].reason = "sampler failed at β = \(g(b)): its samples fail the pixel-precision condition of the quality gate, so they count neither for nor against the claim"
            }
        }
        notes = outcome.sentence + (failedBetas.isEmpty || !outcome.passed ? "" : " Sampler failed at \(failedBetas.map { "β = \(g($0))" }.joined(separator: ", ")) (pixel precision < \(g(minimumPixelPrecision))): those checks are not tested.") + (notes.isEmpty ? "" : " " + notes)
        var gated = ClaimResult(claim: claim.claim, statement: claim.statement, experiment: claim.experiment, command: claim.command,
                                checks: checks, seeds: claim.seeds, notes: notes)
        gated.scope = claim.scope
        return gated
    }
}
