/// HT-E4: convergence diagnostics of annealed Langevin dynamics per β (heavy-tailed spec E4;
/// claim HT-C7), on the authors' 2-D 10:1 toy of HT-E0 (the same data, the notebook's MLP
/// 2→16→16→2 trained with GND(β)-DSM at levels {1, 0.25}). This slice uses the 2-D toy only;
/// the spec's image-scale version is not run here.
///
/// Measured, per β, Langevin step ε (a grid fixed in advance, ε the same at both levels as the
/// notebook), Langevin noise arm and snapshot (every 50 steps). Two noise arms (issue 17):
/// "unscaled-gaussian" — z ~ N(0, I) unscaled with a fixed ε, which matches neither the released
/// code (which rescales ε_i = ε(σ_i/σ_L)²) nor the notebook — and "laplace-sigma-scaled", the
/// notebook's x += ε·s + √(2ε)·σ_i·u, u ~ GND(0, √2, 1). Per arm:
/// the mean learned-score norm ‖s_θ‖ over live chains; the SNR sqrt(ε/2)·‖s_θ‖/sqrt(D) (the
/// noise norm replaced by its root-mean-square sqrt(D), D = 2); the mean distance to the
/// nearest training point; the share of chains that became non-finite or left |x_d| ≤ 1000.
/// Separately, the learned score magnitude at points placed at distance r ∈ [1, 10] from a
/// mode along evenly spaced directions (the same points for every seed), beside the magnitude of
/// the exact population minimiser s* of the notebook loss at the same points
/// (`MultiLevelDSMMinimiser`). Issue 17: the exponent (slope of log‖·‖ against log distance to
/// the nearest training point) is fitted only where the claim applies — distances in
/// [1, r₉₉(β)], r₉₉ the 99 % quantile of the largest level's noise norm, inside the region the
/// training inputs cover — and the learned exponent is tested against s*'s exponent on the same
/// points; β − 1 is reported beside them.
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

@main
struct HTE4Convergence: Experiment {
    static let experimentID = "ht-e4-convergence"
    static let seedDefaults = SeedDefaults(quick: 5, full: 20)
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E4: score norm, SNR, distance to data and divergence along annealed Langevin chains per β (heavy-tailed spec E4; claim HT-C7).",
        discussion: seedDefaults.help)

    @OptionGroup var options: ExperimentOptions

    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the number of Langevin chains per arm.", quick: Config.quick.chains, full: Config.full.chains)) var chains: Int?
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: ScaleHelp.override("Override training iterations.", quick: Config.quick.toy.iterations, full: Config.full.toy.iterations)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("iterations"), parsing: .unconditional, help: .hidden) var iterationsAlias: Int?
    var iterations: Int? { trainStepsOption ?? iterationsAlias }
    @Option(name: .customLong("langevin-steps"), parsing: .unconditional, help: ScaleHelp.override("Override Langevin steps per level.", quick: Config.quick.stepsPerLevel, full: Config.full.stepsPerLevel)) var langevinStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), parsing: .unconditional, help: .hidden) var stepsAlias: Int?
    var steps: Int? { langevinStepsOption ?? stepsAlias }

    struct Config: Codable {
        var betas: [Double] = [1, 1.25, 1.5, 2]
        /// The data set and the notebook's training recipe (shared with the other toy experiment).
        var toy = ImbalancedToy.notebook
        /// Langevin steps, fixed before any run (0.1 is the notebook's).
        var stepSizes: [Double] = [0.1, 0.4]
        var stepsPerLevel = 1_000
        var chains = 1_000
        var snapshotEvery = 50
        var bound = 1_000.0
        /// Every k-th training point is used for nearest-point distances.
        var distanceSubsample = 10
        /// Radii r from a mode for the magnitude-versus-distance fit, and directions per radius.
        var radii: [Double] = [1, 1.5, 2, 3, 4, 6, 8, 10]
        var directions = 64
        /// Langevin-noise arms (issue 17): the unscaled Gaussian arm and the notebook's.
        var langevinNoises: [String]? = ["unscaled-gaussian", "laplace-sigma-scaled"]
        /// The fit's upper distance: this quantile of the largest level's noise norm (issue 17).
        var supportQuantile: Double? = 0.99

        static let quick: Config = { var c = Config(); c.chains = 200; return c }()
        static let full = Config()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let v = chains { c.chains = v }
        if let v = iterations { c.toy.iterations = v }
        if let v = steps { c.stepsPerLevel = v }
        return c
    }

    func validate() throws {
        if let v = chains, v < 2 { throw ValidationError("--chains must be at least 2, got \(v)") }
        if let v = iterations, v < 1 { throw ValidationError("--train-steps must be at least 1, got \(v)") }
        // The trace figure needs at least one snapshot per level (one every snapshotEvery steps).
        if let v = steps, v < config.snapshotEvery {
            throw ValidationError("--langevin-steps must be at least \(config.snapshotEvery) (one trace snapshot every \(config.snapshotEvery) steps), got \(v)")
        }
        if let v = steps { try Limits.count("--langevin-steps", v, maximum: Limits.maximumSteps, reason: "Langevin steps per level") }
        if let v = iterations { try Limits.count("--train-steps", v, maximum: Limits.maximumSteps, reason: "training iterations") }
        if let v = chains {
            try Limits.memory("--chains", v, bytesPerUnit: 2 * 8 * 32 * Double(max(options.threads, 1)),
                              estimate: "a 2-D chain state in about 32 buffers (network activations of width 128, noise), one task per thread")
        }
    }

    static func data(_ c: Config, using rng: inout Xoshiro256) -> Tensor<Float> { c.toy.data(using: &rng) }

    /// The Langevin noise of an arm name.
    static func noise(_ name: String) throws -> LangevinNoise {
        switch name {
        case "unscaled-gaussian": return .gaussian
        case "laplace-sigma-scaled": return .gnd(beta: 1)
        default: throw ValidationError("langevinNoises: unknown arm \(name), expected unscaled-gaussian or laplace-sigma-scaled")
        }
    }

    /// Points at radius r from each mode ((5, 5), then (−5, −5)) along `directions` evenly spaced
    /// angles, [2·radii·directions, 2]: the same for every seed and β.
    static func magnitudePoints(_ c: Config) -> Tensor<Float> {
        var pts = Tensor<Float>(shape: [c.radii.count * c.directions * 2, 2])
        var row = 0
        for centre in [5.0, -5.0] {
            for r in c.radii {
                for j in 0..<c.directions {
                    let angle = 2 * Double.pi * (Double(j) + 0.5) / Double(c.directions)
                    pts.scalars[2 * row] = Float(centre + r * cos(angle)); pts.scalars[2 * row + 1] = Float(centre + r * sin(angle))
                    row += 1
                }
            }
        }
        return pts
    }

    /// r₉₉(β): the `quantile` of the norm of the largest level's 2-D noise (α = √2σ_1), from a
    /// fixed-seed draw of 200 000 norms (quantile error ≈ 0.01).
    static func supportRadius(beta: Double, sigma: Double, quantile: Double) -> Double {
        var rng = Xoshiro256(seed: 0xD15_7A9CE)
        let law = NoiseNormLaw(beta: beta, dimension: 2, samples: 200_000, using: &rng)
        return sigma * law.quantile(quantile)
    }

    /// The notebook's training (unconditioned MLP, loss mean(σ·(s − t)²)); returns the model.
    static func train(_ c: Config, beta: Double, data: Tensor<Float>, using rng: inout Xoshiro256) -> MLP<Float> {
        c.toy.train(beta: beta, data: data, using: &rng).0
    }

    /// Distance from (a, b) to the nearest of the points `near` (flat x, y pairs).
    static func nearest(_ a: Double, _ b: Double, _ near: [Double]) -> Double {
        var best = Double.infinity
        var k = 0
        while k < near.count {
            let dx = a - near[k], dy = b - near[k + 1]
            best = min(best, dx * dx + dy * dy)
            k += 2
        }
        return best.squareRoot()
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let c = config
        let seeds = options.seedCount(Self.seedDefaults)
        var dataRNG = Xoshiro256(seed: options.seed, stream: 0)
        let data = Self.data(c, using: &dataRNG)
        var near: [Double] = []
        for i in stride(from: 0, to: data.rows, by: c.distanceSubsample) { near.append(Double(data[i, 0])); near.append(Double(data[i, 1])) }
        let tasks = (0..<seeds).flatMap { s in c.betas.map { (seed: s, beta: $0) } }
        let noises = try (c.langevinNoises ?? ["unscaled-gaussian"]).map { ($0, try Self.noise($0)) }
        let pts = Self.magnitudePoints(c)
        // Nearest-point distances of the magnitude points, and the exact minimiser's norms there
        // (one per β; the points and data are shared by all seeds).
        let pointDistances = (0..<pts.rows).map { Self.nearest(Double(pts[$0, 0]), Double(pts[$0, 1]), near) }
        let dataDouble = Tensor<Double>(shape: data.shape, scalars: data.scalars.map(Double.init))
        let ptsDouble = Tensor<Double>(shape: pts.shape, scalars: pts.scalars.map(Double.init))
        let targetNorms = try parallelMap(c.betas.count, threads: options.threads) { k -> [Double] in
            let sStar = MultiLevelDSMMinimiser(data: dataDouble, sigmas: c.toy.sigmas, beta: c.betas[k], levelWeights: c.toy.sigmas).scores(ptsDouble)
            return (0..<pts.rows).map { (sStar[$0, 0] * sStar[$0, 0] + sStar[$0, 1] * sStar[$0, 1]).squareRoot() }
        }
        let progress = Progress(Self.experimentID, total: tasks.count)
        let base = options.seed
        let results = try run.units("train-sample", count: tasks.count, key: { "seed-\(tasks[$0].seed)_beta-\(tasks[$0].beta)" },
                                    progress: { progress.advance() }) { k -> UnitRows in
            let task = tasks[k]
            var rng = Xoshiro256(seed: base &+ UInt64(k + 1) &* 0x9E37_79B9)
            let model = Self.train(c, beta: task.beta, data: data, using: &rng)
            var trace: [TraceRow] = [], summary: [DivergenceRow] = []
            // Arms in order noise-major, so the unscaled-Gaussian arm draws exactly as before.
            for (noiseName, noise) in noises { for eps in c.stepSizes {
                var x = Tensor<Float>.randomUniform([c.chains, 2], lower: -6, upper: 6, using: &rng)
                let ld = AnnealedLangevin(sigmas: c.toy.sigmas, stepSize: eps, stepsPerLevel: c.stepsPerLevel, rescaleSteps: false,
                                          noise: noise, bound: c.bound)
                var dead = [Bool](repeating: false, count: c.chains)
                let diverged = ld.run(&x, using: &rng, score: { states, _, out in
                    let p = model.forward(states, retainForBackward: false)
                    _ = out.scalars.withUnsafeMutableBufferPointer { o in p.withUnsafeBufferPointer { o.update(from: $0) } }
                }, observe: { level, t, states, s in
                    for r in 0..<states.rows where !dead[r] {
                        let v = (Double(states[r, 0]), Double(states[r, 1]))
                        if !(v.0.isFinite && v.1.isFinite) || max(abs(v.0), abs(v.1)) > c.bound { dead[r] = true }
                    }
                    guard (t + 1) % c.snapshotEvery == 0 else { return }
                    var norm = 0.0, dist = 0.0, live = 0
                    for r in 0..<states.rows where !dead[r] {
                        let (a, b) = (Double(s[r, 0]), Double(s[r, 1]))
                        norm += (a * a + b * b).squareRoot()
                        dist += Self.nearest(Double(states[r, 0]), Double(states[r, 1]), near)
                        live += 1
                    }
                    let n = Double(max(live, 1))
                    trace.append(TraceRow(seed: task.seed, beta: task.beta, langevinNoise: noiseName, stepSize: eps, level: level, step: t + 1,
                                          meanScoreNorm: norm / n, snr: (eps / 2).squareRoot() * norm / n / 2.0.squareRoot(), meanNearestDistance: dist / n,
                                          divergedShare: Double(states.rows - live) / Double(states.rows)))
                })
                let bad = diverged.filter { $0 }.count
                summary.append(DivergenceRow(seed: task.seed, beta: task.beta, langevinNoise: noiseName, stepSize: eps, chains: c.chains, diverged: bad,
                                             divergedShare: Double(bad) / Double(c.chains)))
            } }
            // Magnitude against distance at the shared points, beside the exact minimiser's.
            let s = model.forward(pts, retainForBackward: false)
            let betaIndex = c.betas.firstIndex(of: task.beta)!
            var mags: [MagnitudeRow] = []
            for i in 0..<pts.rows {
                let m = (Double(s[i, 0]) * Double(s[i, 0]) + Double(s[i, 1]) * Double(s[i, 1])).squareRoot()
                mags.append(MagnitudeRow(seed: task.seed, beta: task.beta, distance: pointDistances[i], scoreNorm: m, minimiserNorm: targetNorms[betaIndex][i]))
            }
            return UnitRows(try UnitRows.cells(trace), try UnitRows.cells(summary), try UnitRows.cells(mags))
        }
        try run.writeRows(results.flatMap { try $0.rows(0, as: TraceRow.self) }, to: "trace.csv")
        try run.writeRows(results.flatMap { try $0.rows(1, as: DivergenceRow.self) }, to: "divergence.csv")
        try run.writeRows(results.flatMap { try $0.rows(2, as: MagnitudeRow.self) }, to: "magnitude.csv")
        try run.writeConfig(c)
    }

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

    // MARK: - Render

    /// Lower end of the exponent's fit range (distance to the nearest training point); the upper
    /// end is r₉₉(β) (issue 17).
    static let fitLower = 1.0

    /// Log-log slope of `norms` against `distances` over the points with distance in `range`.
    static func exponent(distances: [Double], norms: [Double], in range: ClosedRange<Double>) -> Double? {
        let idx = distances.indices.filter { range.contains(distances[$0]) && norms[$0] > 0 }
        guard idx.count >= 3 else { return nil }
        return Stats.linearFit(x: idx.map { log(distances[$0]) }, y: idx.map { log(norms[$0]) }).slope
    }

    func render(in run: RunDirectory) throws {
        let c = config
        let mag = try run.readRows(MagnitudeRow.self, from: "magnitude.csv")
        // Fit ranges per β: [1, r₉₉(β)], where the training inputs reach.
        let q = c.supportQuantile ?? 0.99
        let fitRanges = Dictionary(uniqueKeysWithValues: c.betas.map { b in
            (b, Self.fitLower...max(Self.fitLower, Self.supportRadius(beta: b, sigma: c.toy.sigmas.max()!, quantile: q)))
        })
        // Fitted exponents per (β, seed): learned, the exact minimiser's (same points), and their
        // paired difference.
        var exponents: [Double: [Double]] = [:], targetExponents: [Double: [Double]] = [:], differences: [Double: [Double]] = [:]
        for b in c.betas {
            for s in Set(mag.map(\.seed)).sorted() {
                let points = mag.filter { $0.beta == b && $0.seed == s }
                guard let learned = Self.exponent(distances: points.map(\.distance), norms: points.map(\.scoreNorm), in: fitRanges[b]!),
                      let target = Self.exponent(distances: points.map(\.distance), norms: points.map(\.minimiserNorm), in: fitRanges[b]!) else { continue }
                exponents[b, default: []].append(learned)
                targetExponents[b, default: []].append(target)
                differences[b, default: []].append(learned - target)
            }
        }
        let div = try run.readRows(DivergenceRow.self, from: "divergence.csv")
        let noiseArms = c.langevinNoises ?? ["unscaled-gaussian"]
        func shares(_ b: Double, _ e: Double, _ noise: String) -> [Double] {
            div.filter { $0.beta == b && $0.stepSize == e && $0.langevinNoise == noise }.sorted { $0.seed < $1.seed }.map(\.divergedShare)
        }
        let tr = try run.readRows(TraceRow.self, from: "trace.csv")
        func finalMean(_ b: Double, _ e: Double, _ noise: String, _ v: (TraceRow) -> Double) -> Estimate {
            let last = c.stepsPerLevel, lastLevel = c.toy.sigmas.count - 1
            return Stats.meanCI(tr.filter { $0.beta == b && $0.stepSize == e && $0.langevinNoise == noise && $0.level == lastLevel && $0.step == last }.map(v))
        }

        var rows: [[String]] = []
        for b in c.betas {
            let ex = Stats.meanCI(exponents[b] ?? []), tx = Stats.meanCI(targetExponents[b] ?? [])
            for noise in noiseArms {
                for e in c.stepSizes {
                    let sh = Stats.meanCI(shares(b, e, noise))
                    let n = finalMean(b, e, noise, \.meanScoreNorm), snr = finalMean(b, e, noise, \.snr), d = finalMean(b, e, noise, \.meanNearestDistance)
                    rows.append([Format.significant(b, 3), Format.significant(b - 1, 3), Format.withError(ex.mean, ex.halfWidth), Format.significant(tx.mean, 3),
                                 "[1, \(Format.significant(fitRanges[b]!.upperBound, 3))]", noise, Format.significant(e, 3),
                                 Format.withError(n.mean, n.halfWidth), Format.withError(snr.mean, snr.halfWidth), Format.withError(d.mean, d.halfWidth),
                                 Format.withError(100 * sh.mean, 100 * sh.halfWidth)])
                }
            }
        }
        try run.writeTable(Table(header: ["β", "β − 1", "fitted exponent", "exact minimiser's exponent", "fit range", "Langevin noise", "ε", "final ‖s_θ‖", "final SNR", "final distance to data", "diverged %"], rows: rows,
                                 caption: "Annealed Langevin diagnostics on the 10:1 toy (\(c.stepsPerLevel) steps per level, fixed ε; unscaled-gaussian: z ~ N(0, I) unscaled, neither the released code's rule nor the notebook's; laplace-sigma-scaled: the notebook's σ_i·Laplace noise; final = last step of the last level; mean ± 95% t-interval over seeds). Exponents: slope of log‖·‖ against log distance to the nearest training point over the fit range [1, r₉₉(β)] (the \(Format.significant(100 * q, 3)) % quantile of the largest level's noise norm), for the network and for the exact minimiser of the notebook loss at the same points.",
                                 label: "tab:ht-e4"), name: "convergence")

        // Figures: score norm and distance along the chain, per β, for each step size.
        var panels: [Panel] = []
        for (name, v, ylabel) in [("mean ‖s_θ‖", \TraceRow.meanScoreNorm, "mean score norm"), ("mean distance to nearest training point", \TraceRow.meanNearestDistance, "distance")] {
            for noise in noiseArms { for e in c.stepSizes {
                panels.append(Panel(title: "\(name), ε = \(Format.significant(e, 3)), \(noise)", xLabel: "Langevin step (both levels)", yLabel: ylabel, key: "top right",
                                    series: c.betas.enumerated().map { (k, b) in
                                        var byStep: [Double: [Double]] = [:]
                                        for r in tr where r.beta == b && r.stepSize == e && r.langevinNoise == noise { byStep[Double(r.level) * Double(c.stepsPerLevel) + Double(r.step), default: []].append(r[keyPath: v]) }
                                        let xs = byStep.keys.sorted()
                                        return Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: "β = \(Format.significant(b, 3))", style: .lines, color: k)
                                    }))
            } }
        }
        try run.writeFigure(Figure(name: "chain_diagnostics", panels: panels, rows: 2, title: "HT-E4: score norm and distance to data along Langevin chains", panelWidth: 460, panelHeight: 360))
        // One panel per β on common axes, so that no β's points hide another's; the exact
        // minimiser's magnitudes (seed 0) in black beside the learned ones.
        let first = mag.map(\.seed).min() ?? 0
        let positive = mag.filter { $0.scoreNorm > 0 }
        let xs = positive.map(\.distance), ys = positive.map(\.scoreNorm) + positive.map(\.minimiserNorm).filter { $0 > 0 }
        let xRange = (xs.min() ?? 1e-3, xs.max() ?? 10), yRange = (ys.min() ?? 1e-3, ys.max() ?? 10)
        try run.writeFigure(Figure(name: "magnitude_vs_distance", panels: c.betas.enumerated().map { (k, b) -> Panel in
            let points = positive.filter { $0.beta == b }
            let target = points.filter { $0.seed == first && $0.minimiserNorm > 0 }.sorted { $0.distance < $1.distance }
            return Panel(title: "β = \(Format.significant(b, 3)): learned slope \(Format.significant(Stats.mean(exponents[b] ?? [.nan]), 3))",
                         xLabel: "distance to nearest training point", yLabel: "‖s_θ‖", logX: true, logY: true,
                         xRange: (xRange.0 / 1.5)...(xRange.1 * 1.5), yRange: (yRange.0 / 1.5)...(yRange.1 * 1.5), key: "top left",
                         series: [Series(x: points.map(\.distance), y: points.map(\.scoreNorm), title: "learned s_θ (all seeds)", style: .points, color: k, weight: 0.5),
                                  Series(x: target.map(\.distance), y: target.map(\.minimiserNorm), title: "exact minimiser (seed \(first))", style: .points, color: 6, weight: 0.2)])
        }, rows: 2, title: "HT-E4: learned score magnitude against distance from the data, per β"))

        // Verdict HT-C7. Issue 17: (1) per β the learned exponent minus the exact minimiser's
        // exponent on the same points, paired by seed, lies within ±0.25, fitted over [1, r₉₉(β)]
        // (the former test against β − 1 over [1, 10] was unreachable: 79 % of those points lie
        // outside the training inputs, and even the exact minimiser stays well below 1 at β = 2);
        // (2) per Langevin-noise arm, at the largest step, the diverged share at β = 2 exceeds that
        // at every β < 2 (paired by seed) — "not tested" when no β = 2 chain diverged in that arm.
        var checks: [ClaimCheck] = []
        for b in c.betas {
            let e = Stats.meanCI(differences[b] ?? [])
            checks.append(ClaimCheck(statistic: "learned − exact-minimiser exponent of ‖s‖ against distance ∈ [1, \(Format.significant(fitRanges[b]!.upperBound, 3))], β = \(Format.significant(b, 3)), paired by seed",
                                     estimate: e, direction: .within, threshold: 0, tolerance: Self.exponentTolerance,
                                     provenance: .ours("the claim's \"grows like distance^(β−1)\" read as: the network reproduces the growth of the exact minimiser of its own loss where it was trained; ±\(Self.exponentTolerance) fixed before any run (the earlier test's tolerance)"),
                                     power: CheckPower.ofInterval(e, claimedEffect: Self.exponentTolerance, counts: "seeds")))
        }
        var untested: [String] = []
        if let eMax = c.stepSizes.max(), c.betas.contains(2) {
            for noise in noiseArms {
                let betaTwoDiverged = div.filter { $0.beta == 2 && $0.stepSize == eMax && $0.langevinNoise == noise }.map(\.diverged).reduce(0, +)
                for b in c.betas where b < 2 {
                    let statistic = "diverged share(β = 2) − diverged share(β = \(Format.significant(b, 3))) at ε = \(Format.significant(eMax, 3)), \(noise) Langevin noise"
                    let provenance = ThresholdProvenance.specRecon("spec §5 C7: \"with the same ε, β < 2 chains do not diverge where β = 2 chains sometimes do (notebook)\"")
                    if betaTwoDiverged == 0 {
                        checks.append(.notTested(statistic: statistic, direction: .greaterThan, threshold: 0, provenance: provenance,
                                                 reason: "no β = 2 chain diverged at ε = \(Format.significant(eMax, 3)) with \(noise) noise, so there is nothing for β < 2 to avoid (β = \(Format.significant(b, 3)) diverged share there: \(Format.significant(100 * Stats.mean(shares(b, eMax, noise)), 3)) %)"))
                        if !untested.contains(noise) { untested.append(noise) }
                        continue
                    }
                    let e = Stats.meanCI(zip(shares(2, eMax, noise), shares(b, eMax, noise)).map { $0 - $1 })
                    checks.append(ClaimCheck(statistic: statistic, estimate: e, direction: .greaterThan, threshold: 0, provenance: provenance,
                                             power: CheckPower.ofInterval(e, counts: "seeds")))
                }
            }
        }
        let seeds = Set(mag.map(\.seed)).count
        let exponentSummary = c.betas.map { b in
            "β = \(Format.significant(b, 3)): learned \(Format.significant(Stats.mean(exponents[b] ?? [.nan]), 3)), exact minimiser \(Format.significant(Stats.mean(targetExponents[b] ?? [.nan]), 3)), β − 1 = \(Format.significant(b - 1, 3))"
        }.joined(separator: "; ")
        try run.writeClaims([ClaimResult(
            claim: "HT-C7", scope: "Far from the data the learned score grows like distance^(β−1); with the same step, β < 2 chains do not diverge where β = 2 chains sometimes do.",
            experiment: Self.experimentID, command: "make ht-e4-convergence SCALE=\(options.scale.rawValue)", checks: checks, seeds: seeds,
            notes: "2-D toy of HT-E0 only (unconditioned ReLU MLP 2→16→16→2, notebook training); a ReLU network is piecewise linear, so far from the data its growth is at most linear whatever β. Exponent tolerance \(Self.exponentTolerance); 95% t-intervals over \(seeds) seeds. Exponents over [1, r₉₉(β)]: \(exponentSummary). What changed and why (issue 17): the learned exponent is compared with the exact minimiser's on the same points and fitted only where the training inputs reach (the [1, 10] fit against β − 1 was unreachable even for the exact minimiser); the divergence check reads \"not tested\" when no β = 2 chain diverges\(untested.isEmpty ? "" : " (so in: " + untested.joined(separator: ", ") + ")"); the notebook's σ-scaled Laplace Langevin noise was added as an arm, and the Gaussian arm is labelled unscaled-gaussian (it is neither the released code's rule nor the notebook's).")])
        print(Table(header: ["β", "β − 1", "exponent", "minimiser", "fit range", "noise", "ε", "‖s‖", "SNR", "dist", "diverged %"], rows: rows).markdown())
    }

    /// Allowed distance of the fitted exponent from β − 1 (fixed before any run).
    static let exponentTolerance = 0.25
}
