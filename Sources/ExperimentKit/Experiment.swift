// The shape every experiment executable takes: `compute` writes CSVs (the expensive part),
// `render` reads them back and draws figures, tables and claim verdicts (cheap). `--render-only`
// skips `compute`, so `make figures`/`make tables` can re-draw after a plotting change without
// re-running anything.
import ArgumentParser
import Foundation
import TensorCore

/// An experiment executable.
public protocol Experiment: ParsableCommand {
    /// The experiment id: executable name, make target and results folder name.
    static var experimentID: String { get }
    /// The shared options (declare with `@OptionGroup`).
    var options: ExperimentOptions { get }
    /// Runs the computation and writes CSVs (and config.json via `run.writeConfig`).
    func compute(in run: RunDirectory) throws
    /// Reads the CSVs and writes figures, tables and claims.json.
    func render(in run: RunDirectory) throws
}

extension Experiment {
    /// Sets threads, opens the run folder, computes (unless --render-only) and renders.
    /// Errors are reported as one clear line and a non-zero exit, never a crash dump.
    public func execute() throws {
        Parallel.configure(threads: options.threads)
        let run = try RunDirectory(experimentID: Self.experimentID, options: options)
        let start = Date()
        if !options.renderOnly {
            log("\(Self.experimentID): computing at scale \(options.scale.rawValue), seed \(options.seed), \(options.threads) thread(s) -> \(run.url.path)")
            try compute(in: run)
        }
        try render(in: run)
        log(String(format: "%@: done in %.1f s", Self.experimentID, Date().timeIntervalSince(start)))
    }

    public func run() throws {
        do {
            try execute()
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: \(Self.experimentID): \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
