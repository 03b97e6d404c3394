// `report compare`: holds a rerun (results/<scale>/<id>/) against the committed reference
// (reference/<scale>/<id>/), so that a reviewer can check a claim without trusting our numbers.
//
// Per experiment present in both (complete folders only):
//   - the run identity (experiment, scale, seed, seed count, config hash) must match, else the
//     two runs are not comparable and the comparison fails;
//   - every data-bearing file (CSVs, claims.json) is compared by SHA-256: "identical" when equal;
//     a differing CSV is compared cell by cell (same header and row count required; numbers by
//     their largest relative difference, text exactly);
//   - every claim check: its verdict must be the same, and its estimate must lie within a quarter
//     of the reference interval's half-width of the reference estimate (or within 1e-9 relative
//     when the interval has no width). Differing CSVs are classed "numerically close" (largest
//     relative difference ≤ 1e-6) or "different"; both pass when the checks agree, and the
//     output says whether the thread/ISA guarantee covers them (README, "What is the same from
//     run to run"), after printing both runs' revisions, threads and oneDNN ISA.
// Exit status 1 when any experiment fails, so `make compare` can gate a rerun.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Hold rerun results against the committed reference results: identity, files, and every claim check's verdict and estimate.")
    @Option(help: "Results root of the rerun.") var results = "results"
    @Option(help: "Reference root.") var reference = "reference"
    @Option(help: "Scale to compare.") var scale: Scale = .full
    @Option(help: "Experiment ids to compare (default: every experiment in the reference that the rerun has).") var id: [String] = []
    @Option(help: "How far an estimate may move, as a fraction of the reference interval's half-width.") var tolerance = 0.25

    func run() throws {
        let refRoot = URL(fileURLWithPath: reference).appendingPathComponent(scale.rawValue)
        let runRoot = URL(fileURLWithPath: results).appendingPathComponent(scale.rawValue)
        let available = ((try? FileManager.default.contentsOfDirectory(atPath: refRoot.path)) ?? [])
            .filter { FileManager.default.fileExists(atPath: refRoot.appendingPathComponent("\($0)/\(CompletionRecord.fileName)").path) }.sorted()
        let ids = id.isEmpty ? available.filter { FileManager.default.fileExists(atPath: runRoot.appendingPathComponent("\($0)/\(CompletionRecord.fileName)").path) } : id
        guard !ids.isEmpty else {
            throw ValidationError("nothing to compare: no experiment of \(refRoot.path) (\(available.joined(separator: ", "))) has a complete rerun in \(runRoot.path); run make <id> SCALE=\(scale.rawValue) first")
        }
        var outcomes: [ReferenceComparison.Outcome] = []
        let comparison = ReferenceComparison(tolerance: tolerance, scale: scale.rawValue)
        for e in ids { outcomes.append(try comparison.compare(e, reference: refRoot.appendingPathComponent(e), rerun: runRoot.appendingPathComponent(e))) }
        for o in outcomes {
            print("\(o.id): \(o.passed ? "PASS" : "FAIL")")
            for l in o.lines { print("  \(l)") }
        }
        let failed = outcomes.filter { !$0.passed }.map(\.id)
        print(failed.isEmpty ? "compare: \(outcomes.count) experiment(s) agree with the reference" : "compare: \(failed.count) of \(outcomes.count) differ: \(failed.joined(separator: ", "))")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
