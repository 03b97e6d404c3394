// HTE0ToyBalance: row types, the typed results and their reading (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HTE0ToyBalance {
    // MARK: - Rows

    /// A row of arms.csv: the final states of one (seed, β, conditioning, Langevin-noise arm).
    struct ArmRow: DocumentedRow {
        var seed: Int, beta: Double, conditioned: Int, langevinNoise: String, chains: Int, diverged: Int, minorityFraction: Double, farFraction: Double
        enum CodingKeys: String, CodingKey {
            case seed, beta, conditioned, langevinNoise = "langevin_noise", chains, diverged, minorityFraction = "minority_fraction", farFraction = "far_fraction"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k; within a seed every β shares the initialisation, minibatch, Langevin start and noise streams (common random numbers)"),
            .init("beta", "1", "GND shape β of the DSM training noise (and of the gnd-beta Langevin noise)"),
            .init("conditioned", "1 (0 or 1)", "1: σ-conditioned MLP (log σ input, output / σ); 0: unconditioned (as the notebook)"),
            .init("langevin_noise", "text", "Langevin noise: unscaled-gaussian (z ~ N(0, I) with the fixed ε), laplace (the notebook's σ_i-scaled Laplace), gnd-beta (σ_i-scaled GND(β))"),
            .init("chains", "count", "Langevin chains run"),
            .init("diverged", "count", "chains the sampler reports diverged (non-finite or beyond |x| ≤ 10⁴)"),
            .init("minority_fraction", "fraction", "share of the non-diverged chains ending nearer the minority mode (−5, −5) than the majority mode (5, 5)"),
            .init("far_fraction", "fraction", "share of the non-diverged chains ending farther than farThreshold (2) from both modes"),
        ]
    }

    /// A row of paths.csv: one snapshot of one of the first ten chains of seed 0.
    struct PathRow: DocumentedRow {
        var beta: Double, conditioned: Int, langevinNoise: String, chain: Int, snapshot: Int, x: Double, y: Double
        enum CodingKeys: String, CodingKey { case beta, conditioned, langevinNoise = "langevin_noise", chain, snapshot, x, y }
        static let columns: [ColumnDoc] = [
            .init("beta", "1", "GND shape β of the training noise"),
            .init("conditioned", "1 (0 or 1)", "1: σ-conditioned MLP; 0: unconditioned"),
            .init("langevin_noise", "text", "Langevin-noise arm (unscaled-gaussian, laplace, gnd-beta)"),
            .init("chain", "index", "chain index 0…9"),
            .init("snapshot", "index", "snapshot index along the chain: every 20th step of each level, levels in order"),
            .init("x", "data units", "first coordinate of the chain's state"),
            .init("y", "data units", "second coordinate of the chain's state"),
        ]
    }

    /// A row of loss.csv: the mean training loss over 50 iterations.
    struct LossRow: DocumentedRow {
        var seed: Int, beta: Double, conditioned: Int, iteration: Int, loss: Double
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("conditioned", "1 (0 or 1)", "1: σ-conditioned MLP; 0: unconditioned"),
            .init("iteration", "count", "last training iteration of the 50-iteration window"),
            .init("loss", "1", "mean of the notebook's loss mean(σ·(s − t)²) over the window's minibatches"),
        ]
    }

    /// A row of data_points.csv: one point of the data figure.
    struct DataPointRow: DocumentedRow {
        var set: String, x: Double, y: Double
        static let columns: [ColumnDoc] = [
            .init("set", "text", "\"data\" (every 11th training point) or \"noised, β = b, σ = 1\" (that point plus one GND(0, √2, b) draw per coordinate)"),
            .init("x", "data units", "first coordinate"),
            .init("y", "data units", "second coordinate"),
        ]
    }

    /// A row of summary.csv: one arm over seeds.
    struct SummaryRow: DocumentedRow {
        var conditioned: Int, langevinNoise: String, beta: Double, seeds: Int
        var minorityMean: Double, minorityLow: Double, minorityHigh: Double, farMean: Double, farLow: Double, farHigh: Double
        enum CodingKeys: String, CodingKey {
            case conditioned, langevinNoise = "langevin_noise", beta, seeds, minorityMean = "minority_mean", minorityLow = "minority_low"
            case minorityHigh = "minority_high", farMean = "far_mean", farLow = "far_low", farHigh = "far_high"
        }
        static let columns: [ColumnDoc] = [
            .init("conditioned", "1 (0 or 1)", "1: σ-conditioned MLP; 0: unconditioned"),
            .init("langevin_noise", "text", "Langevin-noise arm (unscaled-gaussian, laplace, gnd-beta)"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("seeds", "count", "seeds averaged (n)"),
            .init("minority_mean", "fraction", "mean over seeds of minority_fraction"),
            .init("minority_low", "fraction", "lower end of the Student-t 95 % interval over seeds (not widened; claims.json widens it)"),
            .init("minority_high", "fraction", "upper end of that interval"),
            .init("far_mean", "fraction", "mean over seeds of far_fraction"),
            .init("far_low", "fraction", "lower end of its Student-t 95 % interval"),
            .init("far_high", "fraction", "upper end of that interval"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("arms.csv", ArmRow.self, "Where the Langevin chains end, one row per seed, β, conditioning and Langevin-noise arm (HT-C8)."),
        CSVFileDoc("summary.csv", SummaryRow.self, "Per arm, means over seeds with Student-t intervals (tables/balance, figures/minority_fraction)."),
        CSVFileDoc("paths.csv", PathRow.self, "Langevin paths of the first ten chains of seed 0 (figures/langevin_paths)."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of every model, averaged per 50 iterations."),
        CSVFileDoc("data_points.csv", DataPointRow.self, "A sample of the toy data and of its GND-noised versions (figures/data)."),
    ]

    // MARK: - Results

    /// One arm: a β, a conditioning and a Langevin-noise arm (its rows are its seeds).
    struct Arm: Hashable { var beta: Double; var conditioned: Bool; var noise: String }

    /// The typed results of a run: the rows of arms.csv, paths.csv and data_points.csv.
    struct Results {
        var arms: [ArmRow]
        var paths: [PathRow]
        var dataPoints: [DataPointRow]

        /// The rows of each arm, in arms.csv order (seed-major, so the i-th row of every arm is the
        /// same seed: the pairing the claims use).
        var groups: [Arm: [ArmRow]] { Dictionary(grouping: arms) { Arm(beta: $0.beta, conditioned: $0.conditioned == 1, noise: $0.langevinNoise) } }

        /// The arms in table order: unconditioned first, then by Langevin-noise arm, then by β.
        var armOrder: [Arm] {
            groups.keys.sorted {
                ($0.conditioned ? 1 : 0, HTE0ToyBalance.noiseArms.firstIndex(of: $0.noise)!, $0.beta)
                    < ($1.conditioned ? 1 : 0, HTE0ToyBalance.noiseArms.firstIndex(of: $1.noise)!, $1.beta)
            }
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(arms: try run.readRows(ArmRow.self, from: "arms.csv"), paths: try run.readRows(PathRow.self, from: "paths.csv"),
                dataPoints: try run.readRows(DataPointRow.self, from: "data_points.csv"))
    }

    static func seedCount(of results: Results) -> Int { Set(results.arms.map(\.seed)).count }
}
