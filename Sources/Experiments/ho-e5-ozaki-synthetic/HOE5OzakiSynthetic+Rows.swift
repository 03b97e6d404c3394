// HOE5OzakiSynthetic: row types, the typed results and their reading (issue 30).
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

extension HOE5OzakiSynthetic {
    // MARK: - Rows

    /// A row of fractions.csv: the chains of one (score arm, sampler, ε, seed) at one recorded step.
    struct FractionRow: DocumentedRow {
        var scores: String, rule: String, stepSize: Double, seed: Int, step: Int, heavy: Int, live: Int, heavyFraction: Double
        enum CodingKeys: String, CodingKey { case scores, rule, stepSize = "step_size", seed, step, heavy, live, heavyFraction = "heavy_fraction" }
        static let columns: [ColumnDoc] = [
            .init("scores", "text", "score arm: oracle (exact s₁, s₂ of q_σ) or learned (s̃₁ by DSM-VR, s̃₂ by D2SM-A-VR, full head)"),
            .init("rule", "text", "sampler: ULA, Ozaki, or Ozaki-clamped (curvatures clamped h ← min(h, 1/ε))"),
            .init("step_size", "1", "Langevin step ε (√2 convention)"),
            .init("seed", "index", "seed index k (chain starts and noise are shared by every arm of a seed)"),
            .init("step", "count", "Langevin step t, recorded every recordEvery steps and at the report steps"),
            .init("heavy", "count", "non-diverged chains with first coordinate x₁ > 0 (the heavy mode)"),
            .init("live", "count", "chains not diverged"),
            .init("heavy_fraction", "fraction", "heavy / all chains (a diverged chain counts as out of the heavy mode)"),
        ]
    }

    /// A row of reached.csv: one (score arm, sampler, ε, seed) run.
    struct ReachedRow: DocumentedRow {
        var scores: String, rule: String, stepSize: Double, seed: Int, stepsToBand: Int?, reached: Int, diverged: Int, clampedCurvatures: Int
        enum CodingKeys: String, CodingKey {
            case scores, rule, stepSize = "step_size", seed, stepsToBand = "steps_to_band", reached, diverged, clampedCurvatures = "clamped_curvatures"
        }
        static let columns: [ColumnDoc] = [
            .init("scores", "text", "score arm: oracle or learned"),
            .init("rule", "text", "sampler: ULA, Ozaki or Ozaki-clamped"),
            .init("step_size", "1", "Langevin step ε"),
            .init("seed", "index", "seed index k"),
            .init("steps_to_band", "count", "first recorded step from which every later record has |heavy_fraction − 0.8| < band; empty when the band is not reached for good within the horizon (the statistics then count horizon + 1, a lower bound)"),
            .init("reached", "1 (0 or 1)", "1 when steps_to_band is within the horizon, else 0"),
            .init("diverged", "count", "chains diverged by the end (non-finite or beyond the bound)"),
            .init("clamped_curvatures", "count", "curvature eigenvalues clamped to 1/ε over the whole run (0 without the clamp)"),
        ]
    }

    /// A row of learned_accuracy.csv: the learned scores of one seed.
    struct AccuracyRow: DocumentedRow {
        var seed: Int, firstOrderError: Double, secondOrderError: Double
        enum CodingKeys: String, CodingKey { case seed, firstOrderError = "first_order_error", secondOrderError = "second_order_error" }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k of the learned networks"),
            .init("first_order_error", "1", "mean over 2000 fresh noisy samples x̃ ~ q_σ of ‖s̃₁(x̃) − s₁(x̃)‖/‖s₁(x̃)‖, s₁ the exact score of q_σ"),
            .init("second_order_error", "1", "mean over the same samples of ‖s̃₂ − s₂‖_F/‖s₂‖_F, s₂ the exact Hessian of log q_σ"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("fractions.csv", FractionRow.self, "Heavy-mode fraction of the chains along the run, per score arm, sampler, step size and seed (tables/mixing, figures/heavy_fraction)."),
        CSVFileDoc("reached.csv", ReachedRow.self, "Steps to the band, divergence and clamping per score arm, sampler, step size and seed (the HO-C7 checks)."),
        CSVFileDoc("learned_accuracy.csv", AccuracyRow.self, "Accuracy of the learned s̃₁ and s̃₂ per seed (the table caption)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of fractions.csv, reached.csv and learned_accuracy.csv.
    struct Results {
        var fractions: [FractionRow]
        var reached: [ReachedRow]
        var accuracy: [AccuracyRow]

        /// The (score arm, sampler, ε) combinations in the order reached.csv lists them.
        var armKeys: [(String, String, Double)] {
            var keys: [(String, String, Double)] = []
            for r in reached where !keys.contains(where: { $0 == (r.scores, r.rule, r.stepSize) }) { keys.append((r.scores, r.rule, r.stepSize)) }
            return keys
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        let fr = try run.readRows(FractionRow.self, from: "fractions.csv")
        let re = try run.readRows(ReachedRow.self, from: "reached.csv")
        return Results(fractions: fr, reached: re, accuracy: try run.readRows(AccuracyRow.self, from: "learned_accuracy.csv"))
    }

    static func seedCount(of results: Results) -> Int { Set(results.reached.map(\.seed)).count }

    /// Steps to the band of one run; an empty steps_to_band (never reached within the horizon)
    /// counts as horizon + 1 steps, a lower bound, as the notes state.
    static func steps(_ r: ReachedRow, config c: Config) -> Double { r.stepsToBand.map(Double.init) ?? Double(c.steps + 1) }
}
