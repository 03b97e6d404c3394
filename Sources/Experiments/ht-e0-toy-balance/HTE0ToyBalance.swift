/// HT-E0: the authors' 2-D imbalanced toy (heavy-tailed spec E0, from their notebook; claim
/// HT-C8). 10,000 points at (5, 5) and 1,000 at (−5, −5), variance 0.2 per coordinate. An MLP
/// 2→16→16→2 (ReLU) is trained with GND(β) denoising score matching at two levels {1, 0.25}
/// (Adam with AMSGrad, lr 1e-3, batch 256, 1000 iterations, the notebook's loss
/// mean(σ·(s − t)²)); annealed Langevin dynamics then runs 1000 steps per level at a fixed
/// ε = 0.1 from Uniform[−6, 6]². Arms: β ∈ {1, 1.25, 1.5, 2} × Langevin noise {unscaled
/// Gaussian z ~ N(0, I) with the fixed ε (ours: neither the released code, which rescales
/// ε_i = ε(σ_i/σ_L)², nor the notebook), Laplace σ_i-scaled (notebook, final), GND(β) σ_i-scaled
/// (notebook, October)} × {unconditioned (as the notebook), σ-conditioned (log σ input,
/// output / σ)}; every arm over many seeds. Issue 17: within a seed every β shares the network
/// initialisation, minibatch, Langevin start and Langevin noise streams (common random numbers,
/// `ImbalancedToy.PairedStreams`), so differences across β are paired.
///
/// Measured: the fraction of chains ending nearer the minority mode (−5, −5), and the fraction
/// ending far (> 2) from both modes. HT-C8's primary test is the notebook's own configuration
/// (unconditioned MLP, Laplace Langevin noise), fixed before any result was seen; the other
/// arms are reported beside it. "More balanced" means closer to 50 % (spec §7 item 9).
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

@main
struct HTE0ToyBalance: TypedVerdicts {
    static let experimentID = "ht-e0-toy-balance"
    static let seedDefaults = SeedDefaults(quick: 6, full: 20)
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E0: minority-mode fraction on the authors' 10:1 two-mode toy (heavy-tailed spec E0; claim HT-C8).",
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
        var stepSize = 0.1
        var stepsPerLevel = 1_000
        var chains = 1_000
        var farThreshold = 2.0
        var alphaConvention = GNDScaleConvention.codeConvention.rawValue
        var authorsReference = "notebook (authors' saved outputs, one run each): β = 1.25 with GND(1.25) Langevin noise 55.6 % / 44.4 %; β = 2 with Laplace Langevin noise 93.8 % / 6.2 % (majority / minority)"

        static let quick: Config = { var c = Config(); c.chains = 400; return c }()
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
        if let v = chains, v < 10 { throw ValidationError("--chains must be at least 10, got \(v)") }
        if let v = iterations, v < 1 { throw ValidationError("--train-steps must be at least 1, got \(v)") }
        if let v = steps, v < 1 { throw ValidationError("--langevin-steps must be at least 1, got \(v)") }
        if let v = steps { try Limits.count("--langevin-steps", v, maximum: Limits.maximumSteps, reason: "Langevin steps per level") }
        if let v = iterations { try Limits.count("--train-steps", v, maximum: Limits.maximumSteps, reason: "training iterations") }
        if let v = chains {
            try Limits.memory("--chains", v, bytesPerUnit: 2 * 8 * 32 * Double(max(options.threads, 1)),
                              estimate: "a 2-D chain state in about 32 buffers (network activations of width 128, noise), one task per thread")
        }
    }

    static let noiseArms = ["unscaled-gaussian", "laplace", "gnd-beta"]
    static let majorityMode = (5.0, 5.0), minorityMode = (-5.0, -5.0)

    /// The toy data set [11000, 2].
    static func data(_ c: Config, using rng: inout Xoshiro256) -> Tensor<Float> { c.toy.data(using: &rng) }

    /// Trains one score model; returns the model and its loss curve (mean per 50 iterations).
    static func train(_ c: Config, beta: Double, conditioned: Bool, data: Tensor<Float>, using rng: inout Xoshiro256) -> (MLP<Float>, [Double]) {
        c.toy.train(beta: beta, conditioned: conditioned, data: data, using: &rng)
    }

    /// Langevin sampling for one arm; returns final states [chains, 2] and the first 10 paths.
    /// `start` draws the initial states, `rng` the Langevin noise (separate, for common random
    /// numbers across β).
    static func sample(_ c: Config, model: MLP<Float>, conditioned: Bool, noise: LangevinNoise,
                       start: inout Xoshiro256, using rng: inout Xoshiro256) -> (Tensor<Float>, [[(Double, Double)]], [Bool]) {
        var x = Tensor<Float>.randomUniform([c.chains, 2], lower: -6, upper: 6, using: &start)
        let ld = AnnealedLangevin(sigmas: c.toy.sigmas, stepSize: c.stepSize, stepsPerLevel: c.stepsPerLevel,
                                  rescaleSteps: false, noise: noise, bound: 1e4)
        var logSigma = Tensor<Float>(shape: [c.chains, 1]), inverse = Tensor<Float>(shape: [c.chains, 1])
        let pathChains = min(10, c.chains)
        var paths = [[(Double, Double)]](repeating: [], count: pathChains)
        let diverged = ld.run(&x, using: &rng, score: { states, level, out in
            let prediction: Tensor<Float>
            if conditioned {
                logSigma.fill(Float(log(c.toy.sigmas[level])))
                inverse.fill(Float(1 / c.toy.sigmas[level]))
                prediction = model.forward(states, condition: logSigma, outputScale: inverse, retainForBackward: false)
            } else {
                prediction = model.forward(states, retainForBackward: false)
            }
            _ = out.scalars.withUnsafeMutableBufferPointer { o in prediction.withUnsafeBufferPointer { p in o.update(from: p) } }
        }, observe: { _, t, states, _ in
            if t % 20 == 0 { for k in 0..<pathChains { paths[k].append((Double(states[k, 0]), Double(states[k, 1]))) } }
        })
        return (x, paths, diverged)
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let c = config
        let seeds = options.seedCount(Self.seedDefaults)
        var dataRNG = Xoshiro256(seed: options.seed, stream: 0)
        let data = Self.data(c, using: &dataRNG)
        // One task per (seed, β, conditioning): train once, then sample with each noise arm.
        let tasks = (0..<seeds).flatMap { s in c.betas.flatMap { b in [false, true].map { (seed: s, beta: b, conditioned: $0) } } }
        let progress = Progress("\(Self.experimentID)", total: tasks.count)
        let base = options.seed
        let results = try run.units("train-sample", count: tasks.count,
                                    key: { "seed-\(tasks[$0].seed)_beta-\(tasks[$0].beta)_conditioned-\(tasks[$0].conditioned ? 1 : 0)" },
                                    progress: { progress.advance() }) { k -> UnitRows in
            let task = tasks[k]
            // Common random numbers: every stream but the training noise is keyed by (seed,
            // conditioning, purpose), not by β.
            let key: [UInt64] = [UInt64(task.seed), task.conditioned ? 1 : 0]
            var streams = ImbalancedToy.PairedStreams(seed: base, key: key, beta: task.beta)
            let (model, curve) = c.toy.train(beta: task.beta, conditioned: task.conditioned, data: data, streams: &streams)
            var arms: [ArmRow] = [], paths: [PathRow] = []
            for (armIndex, name) in Self.noiseArms.enumerated() {
                let noise: LangevinNoise = name == "unscaled-gaussian" ? .gaussian : .gnd(beta: name == "laplace" ? 1 : task.beta)
                var start = Xoshiro256(seed: base, key: [0x57A27, UInt64(armIndex)] + key)
                var rng = Xoshiro256(seed: base, key: [0x1A6E, UInt64(armIndex)] + key)
                let (x, p, diverged) = Self.sample(c, model: model, conditioned: task.conditioned, noise: noise, start: &start, using: &rng)
                var minority = 0, far = 0
                for r in 0..<x.rows where !diverged[r] {
                    let (a, b) = (Double(x[r, 0]), Double(x[r, 1]))
                    let dMaj = ((a - 5) * (a - 5) + (b - 5) * (b - 5)).squareRoot()
                    let dMin = ((a + 5) * (a + 5) + (b + 5) * (b + 5)).squareRoot()
                    if dMin < dMaj { minority += 1 }
                    if min(dMaj, dMin) > c.farThreshold { far += 1 }
                }
                let ok = diverged.filter { !$0 }.count
                arms.append(ArmRow(seed: task.seed, beta: task.beta, conditioned: task.conditioned ? 1 : 0, langevinNoise: name,
                                   chains: x.rows, diverged: x.rows - ok, minorityFraction: Double(minority) / Double(max(ok, 1)),
                                   farFraction: Double(far) / Double(max(ok, 1))))
                if task.seed == 0 {
                    for (chain, path) in p.enumerated() {
                        for (j, pt) in path.enumerated() {
                            paths.append(PathRow(beta: task.beta, conditioned: task.conditioned ? 1 : 0, langevinNoise: name, chain: chain,
                                                 snapshot: j, x: pt.0, y: pt.1))
                        }
                    }
                }
            }
            let loss = curve.enumerated().map { (j, v) in
                LossRow(seed: task.seed, beta: task.beta, conditioned: task.conditioned ? 1 : 0, iteration: (j + 1) * 50, loss: v)
            }
            return UnitRows(try UnitRows.cells(arms), try UnitRows.cells(paths), try UnitRows.cells(loss))
        }
        try run.writeRows(results.flatMap { try $0.rows(0, as: ArmRow.self) }, to: "arms.csv")
        try run.writeRows(results.flatMap { try $0.rows(1, as: PathRow.self) }, to: "paths.csv")
        try run.writeRows(results.flatMap { try $0.rows(2, as: LossRow.self) }, to: "loss.csv")
        // A sample of the data and of its noised versions, for the data figure.
        var rng = Xoshiro256(seed: options.seed, stream: 1)
        var rows: [DataPointRow] = []
        for i in stride(from: 0, to: data.rows, by: 11) {
            rows.append(DataPointRow(set: "data", x: Double(data[i, 0]), y: Double(data[i, 1])))
            for beta in [1.0, 2.0] {
                let g = GeneralizedNormal(sigma: 1, beta: beta)
                let x = Double(data[i, 0]) + g.sample(using: &rng)
                rows.append(DataPointRow(set: "noised, β = \(Int(beta)), σ = 1", x: x, y: Double(data[i, 1]) + g.sample(using: &rng)))
            }
        }
        try run.writeRows(rows, to: "data_points.csv")
        try run.writeConfig(c)
    }
}
