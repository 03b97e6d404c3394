// The claims ledger: one row per claim of both specs, gathered from results/*/claims.json and
// combined mechanically. A claim tested by several experiments is supported only if every check
// is, not supported if any check is not, and inconclusive otherwise; a claim no result speaks
// of is "not run"; a claim this machine cannot test is "not reproducible here" with the reason.
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
    /// Reads `<results>/<experiment>/claims.json` (and config.json for the scale) for every
    /// experiment folder present, and returns one entry per registered claim, in registry order.
    public static func build(results: URL, registry: [ClaimSpec] = ClaimRegistry.all) throws -> [LedgerEntry] {
        var records: [(ClaimResult, String)] = []
        let fm = FileManager.default
        let folders = ((try? fm.contentsOfDirectory(atPath: results.path)) ?? []).sorted()
        for folder in folders {
            let file = results.appendingPathComponent(folder).appendingPathComponent("claims.json")
            guard fm.fileExists(atPath: file.path) else { continue }
            let data: Data
            do { data = try Data(contentsOf: file) } catch { throw LedgerError(path: file.path, reason: "cannot read (\(error.localizedDescription))") }
            let decoded: [ClaimResult]
            // RunDirectory writes non-finite numbers (an estimate that could not be computed) as
            // the strings "NaN"/"Infinity"; read them back the same way.
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            do { decoded = try decoder.decode([ClaimResult].self, from: data) } catch {
                throw LedgerError(path: file.path, reason: "expected a JSON array of claim results (\(error))")
            }
            let scale = readScale(results.appendingPathComponent(folder).appendingPathComponent("config.json")) ?? "unknown"
            records += decoded.map { ($0, scale) }
        }
        return registry.map { spec in
            let mine = records.filter { $0.0.claim == spec.id }
            if let reason = spec.notReproducibleReason {
                return LedgerEntry(claim: spec.id, paper: spec.paper, statement: spec.statement, experiments: spec.experiments, commands: [],
                                   checks: [], seeds: 0, verdict: .notReproducibleHere, scales: [], notes: reason)
            }
            guard !mine.isEmpty else {
                let why = spec.experiments.isEmpty ? "No experiment of the artifact tests this claim yet." : "No result yet: run \(spec.experiments.map { "make \($0)" }.joined(separator: ", "))."
                return LedgerEntry(claim: spec.id, paper: spec.paper, statement: spec.statement, experiments: spec.experiments, commands: [],
                                   checks: [], seeds: 0, verdict: .notRun, scales: [], notes: why)
            }
            let checks = mine.flatMap { $0.0.checks }
            // A record with no checks at all cannot support the claim.
            let verdict = mine.contains(where: { $0.0.checks.isEmpty }) ? .inconclusive : Verdict.combining(checks)
            return LedgerEntry(claim: spec.id, paper: spec.paper, statement: spec.statement,
                               experiments: Array(Set(mine.map { $0.0.experiment })).sorted(),
                               commands: Array(Set(mine.map { $0.0.command })).sorted(), checks: checks,
                               seeds: mine.map { $0.0.seeds }.min() ?? 0, verdict: verdict, scales: Array(Set(mine.map { $0.1 })).sorted(),
                               notes: mine.map { $0.0.notes }.filter { !$0.isEmpty }.joined(separator: " "))
        }
    }

    static func readScale(_ config: URL) -> String? {
        guard let data = try? Data(contentsOf: config),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return obj["scale"] as? String
    }

    /// The ledger as a table: claim, verdict, decisive numbers, experiment, scale.
    public static func table(_ entries: [LedgerEntry]) -> Table {
        Table(header: ["claim", "verdict", "checks (supported / total)", "weakest check", "experiment", "scale"],
              rows: entries.map { e in
                  let supported = e.checks.filter { $0.verdict == .supported }.count
                  let weakest = e.checks.first { $0.verdict == .notSupported } ?? e.checks.first { $0.verdict == .inconclusive }
                  let detail = weakest.map { c in
                      "\(c.statistic): \(Format.significant(c.estimate.mean, 3)) [\(Format.significant(c.estimate.low, 3)), \(Format.significant(c.estimate.high, 3))] \(c.direction.rawValue) \(Format.significant(c.threshold, 4))\(c.tolerance.map { " ± \(Format.significant($0, 3))" } ?? "")"
                  } ?? (e.checks.isEmpty ? e.notes : "all checks supported")
                  return [e.claim, e.verdict.rawValue, e.checks.isEmpty ? "–" : "\(supported) / \(e.checks.count)", detail,
                          e.experiments.isEmpty ? "–" : e.experiments.joined(separator: ", "), e.scales.isEmpty ? "–" : e.scales.joined(separator: ", ")]
              },
              caption: "Claims ledger: verdicts computed from results/*/claims.json (95% intervals against each claim's threshold).",
              label: "tab:ledger", alignments: [.left, .left, .right, .left, .left, .left])
    }
}
