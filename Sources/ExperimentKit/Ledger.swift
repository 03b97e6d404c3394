// The claims ledger: one row per claim of both specs, gathered from results/*/claims.json and
// combined mechanically. A claim tested by several experiments is supported only if every check
// is, not supported if any check is not, and inconclusive otherwise; a claim no result speaks
// of is "not run"; a claim this machine cannot test is "not reproducible here" with the reason.
import DataIO
import Foundation
import Reporting

/// One row of the ledger.
public struct LedgerEntry: Codable, Sendable {
    public var claim: String
    public var paper: String
    public var statement: String
    public var experiments: [String]
    public var commands: [String]
    public var checks: [ClaimCheck]
    public var seeds: Int
    public var verdict: Verdict
    /// Scale (quick/full) of each contributing result.
    public var scales: [String]
    public var notes: String
}

/// A claims.json that cannot be read.
public struct LedgerError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Builds the claims ledger from a results folder.
public enum Ledger {
    /// Reads `<results>/<experiment>/claims.json` of every complete results folder (one whose
    /// completion record matches its files) in `results` (one scale's folder, e.g. results/full),
    /// and returns one entry per registered claim, in registry order. A claim is "incomplete"
    /// when one of its experiments has no complete result, or lacks a check for it.
    public static func build(results: URL, registry: [ClaimSpec] = ClaimRegistry.all) throws -> [LedgerEntry] {
        var records: [String: [ClaimResult]] = [:]
        var scales: [String: String] = [:]
        var unusable: [String: String] = [:]
        let fm = FileManager.default
        let folders = ((try? fm.contentsOfDirectory(atPath: results.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        for folder in folders {
            let location = ResultLocation(final: results.appendingPathComponent(folder))
            let file = location.final.appendingPathComponent("claims.json")
            guard fm.fileExists(atPath: file.path) else { continue }
            let record: CompletionRecord?
            do { record = try CompletionRecord.read(location) } catch { unusable[folder] = "\(error)"; continue }
            guard let record else {
                unusable[folder] = "\(location.final.path) has no \(CompletionRecord.fileName) (an unfinished or foreign run)"
                continue
            }
            do { try record.validate(folder: location.final) } catch { unusable[folder] = "\(error)"; continue }
            let data: Data
            do { data = try Data(contentsOf: file) } catch { throw LedgerError(path: file.path, reason: "cannot read (\(error.localizedDescription))") }
            // RunDirectory writes non-finite numbers (an estimate that could not be computed) as
            // the strings "NaN"/"Infinity"; read them back the same way.
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            do { records[folder] = try decoder.decode([ClaimResult].self, from: data) } catch {
                throw LedgerError(path: file.path, reason: "expected a JSON array of claim results (\(error))")
            }
            scales[folder] = record.identity.scale
        }
        return registry.map { spec in
            func entry(_ verdict: Verdict, _ notes: String, checks: [ClaimCheck] = [], mine: [(ClaimResult, String)] = []) -> LedgerEntry {
                LedgerEntry(claim: spec.id, paper: spec.paper, statement: spec.statement,
                            experiments: mine.isEmpty ? spec.experiments : Array(Set(mine.map { $0.0.experiment })).sorted(),
                            commands: Array(Set(mine.map { $0.0.command })).sorted(), checks: checks,
                            seeds: mine.map { $0.0.seeds }.min() ?? 0, verdict: verdict,
                            scales: Array(Set(mine.map { $0.1 })).sorted(), notes: notes)
            }
            if let reason = spec.notReproducibleReason { return entry(.notReproducibleHere, reason) }
            let needed = spec.experiments
            guard !needed.isEmpty else { return entry(.notRun, "No experiment of the artifact tests this claim yet.") }
            let mine = needed.flatMap { e in (records[e] ?? []).filter { $0.claim == spec.id }.map { ($0, scales[e] ?? "unknown") } }
            var missing: [String] = []
            for e in needed {
                if let why = unusable[e] { missing.append("\(e): \(why)") }
                else if records[e] == nil { missing.append("\(e): no complete result (run make \(e))") }
                else if !(records[e] ?? []).contains(where: { $0.claim == spec.id && !$0.checks.isEmpty }) {
                    missing.append("\(e): its claims.json has no check of \(spec.id)")
                }
            }
            if needed.allSatisfy({ records[$0] == nil && unusable[$0] == nil }) {
                return entry(.notRun, "No result yet: run \(needed.map { "make \($0)" }.joined(separator: ", ")).")
            }
            let checks = mine.flatMap { $0.0.checks }
            let notes = mine.map { $0.0.notes }.filter { !$0.isEmpty }.joined(separator: " ")
            if !missing.isEmpty {
                return entry(.incomplete, "Incomplete: " + missing.joined(separator: "; ") + (notes.isEmpty ? "" : " " + notes), checks: checks, mine: mine)
            }
            return entry(Verdict.combining(checks), notes, checks: checks, mine: mine)
        }
    }

    /// One check in a line: statistic, estimate [interval] against the threshold, the
    /// threshold's provenance, and the reason when a guard decided the verdict.
    public static func describe(_ c: ClaimCheck) -> String {
        if c.verdict == .notTestableAtThisScale {
            return "\(c.statistic): \(Format.significant(c.estimate.mean, 3)) [\(Format.significant(c.estimate.low, 3)), \(Format.significant(c.estimate.high, 3))] (not read: \(c.reason ?? "the baseline failed the quality gate"))"
        }
        if c.verdict == .proxyRecorded {
            return "\(c.statistic): \(Format.significant(c.estimate.mean, 3)) [\(Format.significant(c.estimate.low, 3)), \(Format.significant(c.estimate.high, 3))] (recorded against \(Format.significant(c.threshold, 3)), no verdict drawn)\(c.reason.map { "; \($0)" } ?? "")"
        }
        var s = "\(c.statistic): \(Format.significant(c.estimate.mean, 3)) [\(Format.significant(c.estimate.low, 3)), \(Format.significant(c.estimate.high, 3))] \(c.direction.rawValue) \(Format.significant(c.threshold, 4))\(c.tolerance.map { " ± \(Format.significant($0, 3))" } ?? "")"
        s += "; \(c.sampleSizeDescription)"
        if let p = c.provenance { s += " (threshold: \(p.source.rawValue))" }
        if let r = c.reason, c.verdict != .supported { s += "; \(r)" }
        if c.informational == true { s += " (information only: does not decide the claim)" }
        return s
    }

    /// The check that decides (or most nearly decides) an entry's verdict: the first not
    /// testable, not supported, inconclusive, not tested or recorded check, else (every check
    /// supported) the one whose interval lies closest to its threshold, relative to its width.
    public static func decidingCheck(_ e: LedgerEntry) -> ClaimCheck? {
        // Information-only checks (issue 30) never decide.
        var e = e
        e.checks = e.checks.filter { $0.informational != true }
        // A check with the claim's own verdict decides it (e.g. the recorded proxy of a claim
        // whose other data set was not testable).
        if e.verdict != .supported, let c = e.checks.first(where: { $0.verdict == e.verdict }) { return c }
        for v in [Verdict.notTestableAtThisScale, .notSupported, .inconclusive, .notTested, .proxyRecorded] {
            if let c = e.checks.first(where: { $0.verdict == v }) { return c }
        }
        return e.checks.min { a, b in margin(a) < margin(b) }
    }

    /// How far a supported check's interval lies from its threshold, in half-widths.
    static func margin(_ c: ClaimCheck) -> Double {
        let half = max((c.estimate.high - c.estimate.low) / 2, 1e-300)
        switch c.direction {
        case .greaterThan: return (c.estimate.low - c.threshold) / half
        case .lessThan: return (c.threshold - c.estimate.high) / half
        case .within:
            let t = c.tolerance ?? 0
            return min(c.estimate.low - (c.threshold - t), (c.threshold + t) - c.estimate.high) / half
        }
    }

    /// One line per claim for the README's first screen (issue 31): the claim in words, its
    /// verdict and its deciding number with its interval.
    public static func findings(_ entries: [LedgerEntry]) -> String {
        entries.map { e in
            var line = "- **\(e.claim)** *\(e.verdict.rawValue)* — \(e.statement.trimmingCharacters(in: CharacterSet(charactersIn: ". ")))."
            if let c = decidingCheck(e) {
                line += " Deciding: \(c.statistic) = \(Format.significant(c.estimate.mean, 3))"
                if c.estimate.low.isFinite && c.estimate.high.isFinite && c.estimate.low != c.estimate.high {
                    line += " [\(Format.significant(c.estimate.low, 3)), \(Format.significant(c.estimate.high, 3))]"
                }
                if c.verdict != .proxyRecorded && c.verdict != .notTestableAtThisScale {
                    line += " \(c.direction.rawValue) \(Format.significant(c.threshold, 3))\(c.tolerance.map { " ± \(Format.significant($0, 3))" } ?? "")"
                }
                line += " (\(c.sampleSizeDescription))."
            } else if !e.notes.isEmpty {
                line += " " + String(e.notes.prefix(160))
            }
            return line
        }.joined(separator: "\n")
    }

    /// The ledger as a table: claim, verdict, decisive numbers, experiment, scale.
    public static func table(_ entries: [LedgerEntry]) -> Table {
        Table(header: ["claim", "verdict", "checks (supported / total)", "weakest check", "experiment", "scale"],
              rows: entries.map { entry in
                  // Information-only checks (issue 30) are neither counted nor the weakest.
                  var e = entry
                  e.checks = entry.checks.filter { $0.informational != true }
                  let supported = e.checks.filter { $0.verdict == .supported }.count
                  let weakest = e.checks.first { $0.verdict == .notTestableAtThisScale } ?? e.checks.first { $0.verdict == .notSupported } ?? e.checks.first { $0.verdict == .inconclusive }
                      ?? e.checks.first { $0.verdict == .notTested } ?? e.checks.first { $0.verdict == .proxyRecorded }
                  let detail = weakest.map(Ledger.describe) ?? (e.checks.isEmpty ? e.notes : "all checks supported")
                  return [e.claim, e.verdict.rawValue, e.checks.isEmpty ? "–" : "\(supported) / \(e.checks.count)", detail,
                          e.experiments.isEmpty ? "–" : e.experiments.joined(separator: ", "), e.scales.isEmpty ? "–" : e.scales.joined(separator: ", ")]
              },
              caption: "Claims ledger: verdicts computed from the complete result folders of one scale (<id>/claims.json with a matching completion record; 95% intervals against each claim's threshold).",
              label: "tab:ledger", alignments: [.left, .left, .right, .left, .left, .left])
    }
}
