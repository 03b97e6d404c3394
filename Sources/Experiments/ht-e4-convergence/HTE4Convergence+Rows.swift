// HTE4Convergence: row types, the typed results and their reading (issue 30).
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

extension HTE4Convergence {
    // MARK: - Rows

    /// A row of trace.csv: one snapshot of the chains of one (seed, β, noise arm, step size).
    struct TraceRow: DocumentedRow {
        var seed: Int, beta: Double, langevinNoise: String, stepSize: Double, level: Int, step: Int
        var meanScoreNorm: Double, snr: Double, meanNearestDistance: Double, divergedShare: Double
        enum CodingKeys: String, CodingKey {
            case seed, beta, langevinNoise = "langevin_noise", stepSize = "step_size", level, step, meanScoreNorm = "mean_score_norm", snr
            case meanNearestDistance = "mean_nearest_distance", divergedShare = "diverged_share"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k = 0…seeds−1 (training and sampling draw from the run's base seed and the task index)"),
            .init("beta", "1", "GND shape β of the DSM training noise"),
            .init("langevin_noise", "text", "Langevin noise arm: unscaled-gaussian (z ~ N(0, I), unscaled) or laplace-sigma-scaled (the notebook's σ_i-scaled Laplace noise)"),
            .init("step_size", "1", "fixed Langevin step ε (not rescaled per level)"),
            .init("level", "index", "noise-level index i of the annealing (0 = the first, largest σ)"),
            .init("step", "count", "Langevin step within the level, 1-based; a snapshot every snapshotEvery steps"),
            .init("mean_score_norm", "1/data units", "mean ‖s_θ(x)‖ over the chains not yet diverged"),
            .init("snr", "1", "√(ε/2)·mean_score_norm/√2, the drift-to-noise ratio of a step"),
            .init("mean_nearest_distance", "data units", "mean distance from a live chain to the nearest training point (every distanceSubsample-th point)"),
            .init("diverged_share", "fraction", "share of chains that have left the box |x_j| ≤ bound or become non-finite so far"),
        ]
    }

    /// A row of divergence.csv: the end of the chains of one (seed, β, noise arm, step size).
    struct DivergenceRow: DocumentedRow {
        var seed: Int, beta: Double, langevinNoise: String, stepSize: Double, chains: Int, diverged: Int, divergedShare: Double
        enum CodingKeys: String, CodingKey {
            case seed, beta, langevinNoise = "langevin_noise", stepSize = "step_size", chains, diverged, divergedShare = "diverged_share"
        }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k = 0…seeds−1"),
            .init("beta", "1", "GND shape β of the DSM training noise"),
            .init("langevin_noise", "text", "Langevin noise arm (unscaled-gaussian or laplace-sigma-scaled)"),
            .init("step_size", "1", "fixed Langevin step ε"),
            .init("chains", "count", "chains run"),
            .init("diverged", "count", "chains the sampler reports diverged (non-finite or beyond the bound) by the end"),
            .init("diverged_share", "fraction", "diverged / chains"),
        ]
    }

    /// A row of magnitude.csv: the learned score's norm at one fixed point.
    struct MagnitudeRow: DocumentedRow {
        var seed: Int, beta: Double, distance: Double, scoreNorm: Double, minimiserNorm: Double
        enum CodingKeys: String, CodingKey { case seed, beta, distance, scoreNorm = "score_norm", minimiserNorm = "minimiser_norm" }
        static let columns: [ColumnDoc] = [
            .init("seed", "index", "seed index k = 0…seeds−1"),
            .init("beta", "1", "GND shape β of the DSM training noise"),
            .init("distance", "data units", "distance from the point to the nearest training point (points at radii `radii` from each mode, `directions` angles; the same for every seed and β)"),
            .init("score_norm", "1/data units", "‖s_θ(x)‖ of the trained (unconditioned) network at the point"),
            .init("minimiser_norm", "1/data units", "‖s*(x)‖ of the exact minimiser of the notebook's multi-level DSM loss at the same point (depends on β, not on the seed)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("trace.csv", TraceRow.self, "Chain diagnostics along annealed Langevin sampling, one row per snapshot (figures/chain_diagnostics, the final-step columns of tables/convergence)."),
        CSVFileDoc("divergence.csv", DivergenceRow.self, "Diverged chains per seed, β, Langevin-noise arm and step size (tables/convergence, the divergence checks of HT-C7)."),
        CSVFileDoc("magnitude.csv", MagnitudeRow.self, "Learned and exact-minimiser score norms at fixed points around the modes (figures/magnitude_vs_distance, the exponent checks of HT-C7)."),
    ]

    // MARK: - Results

    /// The typed results of a run: the rows of magnitude.csv, divergence.csv and trace.csv.
    struct Results {
        var magnitude: [MagnitudeRow]
        var divergence: [DivergenceRow]
        var trace: [TraceRow]

        /// Each seed's diverged share of one (β, step size, noise arm), in seed order.
        func shares(_ b: Double, _ e: Double, _ noise: String) -> [Double] {
            divergence.filter { $0.beta == b && $0.stepSize == e && $0.langevinNoise == noise }.sorted { $0.seed < $1.seed }.map(\.divergedShare)
        }
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        let mag = try run.readRows(MagnitudeRow.self, from: "magnitude.csv")
        let div = try run.readRows(DivergenceRow.self, from: "divergence.csv")
        return Results(magnitude: mag, divergence: div, trace: try run.readRows(TraceRow.self, from: "trace.csv"))
    }

    static func seedCount(of results: Results) -> Int { Set(results.magnitude.map(\.seed)).count }

    /// The fitted exponents of ‖s‖ against distance, per β: the fit range [1, r₉₉(β)] and, per
    /// seed, the learned exponent, the exact minimiser's on the same points, and their difference.
    struct ExponentFits {
        var fitRanges: [Double: ClosedRange<Double>] = [:]
        var exponents: [Double: [Double]] = [:], targetExponents: [Double: [Double]] = [:], differences: [Double: [Double]] = [:]
        /// Issue 30: the range every β's training inputs reach, [1, min_β r₉₉(β)], and per β and
        /// seed (keyed by seed, for pairing across β) the learned and the exact minimiser's
        /// exponents over it.
        var commonRange: ClosedRange<Double> = 1...1
        var commonExponents: [Double: [Int: Double]] = [:], commonTargetExponents: [Double: [Int: Double]] = [:]

        /// Per seed present for both β, exponent(a) − exponent(b) over the common range, in seed
        /// order (learned, or the exact minimiser's with `minimiser`).
        func orderingDifferences(_ a: Double, _ b: Double, minimiser: Bool = false) -> [Double] {
            let e = minimiser ? commonTargetExponents : commonExponents
            guard let ea = e[a], let eb = e[b] else { return [] }
            return ea.keys.sorted().compactMap { s in eb[s].map { ea[s]! - $0 } }
        }
    }

    static func exponentFits(_ results: Results, config c: Config) -> ExponentFits {
        let mag = results.magnitude
        var f = ExponentFits()
        // Fit ranges per β: [1, r₉₉(β)], where the training inputs reach.
        let q = c.supportQuantile ?? 0.99
        f.fitRanges = Dictionary(uniqueKeysWithValues: c.betas.map { b in
            (b, Self.fitLower...max(Self.fitLower, Self.supportRadius(beta: b, sigma: c.toy.sigmas.max()!, quantile: q)))
        })
        // Fitted exponents per (β, seed): learned, the exact minimiser's (same points), and their
        // paired difference.
        for b in c.betas {
            for s in Set(mag.map(\.seed)).sorted() {
                let points = mag.filter { $0.beta == b && $0.seed == s }
                guard let learned = Self.exponent(distances: points.map(\.distance), norms: points.map(\.scoreNorm), in: f.fitRanges[b]!),
                      let target = Self.exponent(distances: points.map(\.distance), norms: points.map(\.minimiserNorm), in: f.fitRanges[b]!) else { continue }
                f.exponents[b, default: []].append(learned)
                f.targetExponents[b, default: []].append(target)
                f.differences[b, default: []].append(learned - target)
            }
        }
        // Issue 30: the ordering across β is read on one range for all β.
        f.commonRange = Self.fitLower...max(Self.fitLower, c.betas.compactMap { f.fitRanges[$0]?.upperBound }.min() ?? Self.fitLower)
        for b in c.betas {
            for s in Set(mag.map(\.seed)).sorted() {
                let points = mag.filter { $0.beta == b && $0.seed == s }
                if let learned = Self.exponent(distances: points.map(\.distance), norms: points.map(\.scoreNorm), in: f.commonRange) {
                    f.commonExponents[b, default: [:]][s] = learned
                }
                if let target = Self.exponent(distances: points.map(\.distance), norms: points.map(\.minimiserNorm), in: f.commonRange) {
                    f.commonTargetExponents[b, default: [:]][s] = target
                }
            }
        }
        return f
    }
}
