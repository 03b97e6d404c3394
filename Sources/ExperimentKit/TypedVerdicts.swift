// Issue 30: an experiment whose verdicts are a small pure function of typed results. The commit
// step reads the CSVs once into `Results`, decides the claims from them (no file access, so the
// verdicts can be tested on hand-made rows) and renders tables and figures from the same values:
// read results → claims → render. Experiments not converted yet keep the plain `Experiment`
// shape, whose `render(in:)` does all three.
import Foundation

/// An experiment whose claim verdicts are computed by a pure function of its typed results.
public protocol TypedVerdicts: Experiment {
    /// The typed rows the experiment's CSVs hold (and whatever else of the run its verdicts and
    /// figures read).
    associatedtype Results
    /// Reads the run's CSVs into `Results`.
    static func readResults(from run: RunDirectory) throws -> Results
    /// The number of seeds the results hold (what claims.json reports as `seeds`).
    static func seedCount(of results: Results) -> Int
    /// The claim verdicts: pure, no file access. `scale` only names the make command.
    static func claims(_ results: Results, config: Config, seeds: Int, scale: Scale) -> [ClaimResult]
    /// Tables and figures (and any derived CSV) from the results; no verdicts are decided here.
    func render(_ results: Results, in run: RunDirectory) throws
}

extension TypedVerdicts {
    /// The commit step's render for a converted experiment: read results → claims.json → tables
    /// and figures.
    public func render(in run: RunDirectory) throws {
        let results = try Self.readResults(from: run)
        try run.writeClaims(Self.claims(results, config: config, seeds: Self.seedCount(of: results), scale: options.scale))
        try render(results, in: run)
    }

    /// The make command a claim of this experiment names.
    public static func makeCommand(scale: Scale) -> String { "make \(experimentID) SCALE=\(scale.rawValue)" }
}
