/// HT-E3: score-estimation error of σ-conditioned GND-DSM models against the EXACT score of the
/// GND-perturbed training set (heavy-tailed spec E3; claims HT-C1 and HT-C6).
///
/// Protocol (the spec's E3 row is [RECON]; the resolutions below are ours, fixed before any run):
/// * Data: a finite training set of N = 512 points, either a 10:1 two-cluster Gaussian mixture in
///   D ∈ {2, 8, 32, 128, 512} (means ±5·u for a random unit vector u, per-coordinate variance
///   0.2) or N images of the 8×8 digits (D = 64, pixels in [0, 1]). A held-out set of the same
///   size gives the raw DSM loss.
/// * Levels: σ_1 = the largest pairwise distance of the training set (NCSNv2's technique 1),
///   σ_min = ρ·σ_1 with ρ = 0.01, and the ratio γ_β from HT-E2's iterative algorithm (quantile
///   band, target overlap 0.5), so L_β = the number of levels σ_1/γ_β^i ≥ σ_min: heavier tails
///   get fewer levels over the same range (HT-C5). Every seed shares the schedule of its (D, β).
/// * Model: MLP D→256→256→D (ELU) fed [x̃, log σ], output divided by σ; Adam lr 1e-3, batch 128,
///   λ(σ) = σ² (the released code's weighting), α = √2σ.
/// * Evaluation at E common noise scales τ_1 = σ_1 > … > τ_E = σ_min (geometric); each model is
///   queried at its own trained level nearest to τ_k in log σ, against the exact score of the
///   β-perturbed training set at that level, on (a) same-β points x_j + GND_β(σ) noise and (b) the
///   common reference points x_j + τ_k·N(0, I), identical for every β (off the GND shell for
///   β < 2), and (issue 17) (c) off-shell points x_j + κ·ε, ε ~ GND_β(σ), κ = 1.5: every β's own
///   noise pushed to 1.5× its radius, so each β is evaluated off its typical shell in the same
///   relative sense. Relative Fisher divergence per level: E‖s_θ − s‖²/E‖s‖²; over levels the
///   spec's Σ_k σ_k² E‖s_θ − s‖² / Σ_k σ_k² E‖s‖². Issue 17: also the absolute error with one
///   normaliser common to every β, mean_k σ_k² E‖s_θ − s‖²/D (squared error per coordinate in
///   units of 1/σ², since σ·s is O(1) per coordinate for every β under α = √2σ); the relative
///   error's denominator E‖s‖² differs ≈ 2× between β = 1 and β = 2, so its sign across β can
///   flip with the normaliser. HT-C6 is tested on the absolute error at the off-shell points (c).
///   The same metric on subsets is traced during training.
/// * HT-C1's floor (issue 17): the same network, from the same initial weights, trained for the
///   same steps by direct regression on the EXACT score (λ = σ², a fixed pool of points x_j +
///   GND_β(σ_l) noise at uniformly drawn training levels); its error on the same-β points is β's
///   own approximation floor, and HT-C1 compares (DSM error / floor) across β.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

@main
struct HTE3ScoreError: Experiment {
    static let experimentID = "ht-e3-score-error"
    static let seedDefaults = SeedDefaults(quick: 2, full: 5)
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E3: relative Fisher divergence of GND-DSM score models against the exact score of the GND-perturbed training set, per β, D and level (heavy-tailed spec E3; claims HT-C1, HT-C6).",
        discussion: seedDefaults.help)

    @OptionGroup var options: ExperimentOptions

    @Option(help: "Folder holding digits8x8.h5 (from make data).") var dataDir = "data"
    @Flag(help: "Leave out the 8×8 digits data set (synthetic mixtures only).") var noDigits = false
    @Option(parsing: .upToNextOption, help: ScaleHelp.override("Override the synthetic dimensions.", quick: Config.quick.dimensions, full: Config.full.dimensions)) var dimensions: [Int] = []
    @Option(name: .customLong("train-steps"), help: ScaleHelp.override("Override training steps.", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(help: ScaleHelp.override("Override evaluation points per level and set.", quick: Config.quick.evalPoints, full: Config.full.evalPoints)) var evalPoints: Int?

    struct Config: Codable {
        var betas: [Double] = [1, 1.5, 2]
        var dimensions = [2, 8, 32, 128, 512]
        var digits = true
        var trainPoints = 512
        var heldOutPoints = 512
        /// Majority : minority cluster sizes of the synthetic mixture.
        var clusterRatio = 10.0
        var clusterOffset = 5.0
        var clusterVariance = 0.2
        var hidden = [256, 256]
        var activation = "elu"
        var learningRate = 1e-3
        var batchSize = 128
        var steps = 4_000
        var sigmaMinFraction = 0.01
        var overlapTarget = 0.5
        var band = OverlapBand.quantile
        var normSamples = 20_000
        var evalScales = 8
        var evalPoints = 2_000
        /// Training-curve checkpoints (the first `curvePoints` evaluation points of each scale).
        var curveCheckpoints = 8
        var curvePoints = 250
        /// D ≥ this counts as "large D" in the HT-C6 verdict (fixed before any run).
        var largeDimension = 128
        /// Off-shell evaluation set (c): each β's own noise scaled by this factor (issue 17).
        var offShellFactor: Double? = 1.5
        /// Pool of exact-score training points for HT-C1's floor network (issue 17).
        var floorPoolPoints: Int? = 16_000

        static let full = Config()
        static let quick: Config = {
            var c = Config()
            c.dimensions = [2, 8, 32, 128]
            c.steps = 1_200
            c.evalScales = 6
            c.evalPoints = 400
            c.curvePoints = 100
            c.curveCheckpoints = 4
            c.normSamples = 10_000
            c.floorPoolPoints = 2_000
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if !dimensions.isEmpty { c.dimensions = dimensions }
        if noDigits { c.digits = false }
        if let v = steps { c.steps = v }
        if let v = evalPoints { c.evalPoints = v; c.curvePoints = min(c.curvePoints, v); c.floorPoolPoints = min(c.floorPoolPoints ?? 16_000, 8 * v) }
        return c
    }

    func validate() throws {
        if let d = dimensions.first(where: { $0 < 1 }) { throw ValidationError("--dimensions must be positive, got \(d)") }
        if let v = steps, v < 1 { throw ValidationError("--train-steps must be at least 1, got \(v)") }
        if let v = evalPoints, v < 2 { throw ValidationError("--eval-points must be at least 2, got \(v)") }
        if let v = steps { try Limits.count("--train-steps", v, maximum: Limits.maximumSteps, reason: "training steps") }
        if let v = evalPoints {
            let d = Double((dimensions.isEmpty ? Config.full.dimensions : dimensions).max() ?? 512)
            try Limits.memory("--eval-points", v, bytesPerUnit: d * 8 * 16 * Double(max(options.threads, 1)),
                              estimate: "D = \(Int(d)) doubles per point in about 16 buffers (points, scores, kernel weights), one task per thread")
        }
        if let d = dimensions.max() {
            try Limits.memory("--dimensions", d, bytesPerUnit: 512 * 8 * 64 * Double(max(options.threads, 1)),
                              estimate: "512 training points × D doubles in about 64 buffers, one task per thread")
        }
    }


    // MARK: - Data

    struct DataSet {
        var name: String
        var dimension: Int
        var train: Tensor<Float>
        var heldOut: Tensor<Float>
    }

    /// The 10:1 two-cluster mixture in D dimensions: training and held-out sets.
    static func mixture(_ c: Config, dimension d: Int, using rng: inout Xoshiro256) -> DataSet {
        var u = [Double](repeating: 0, count: d)
        var norm = 0.0
        for j in 0..<d { u[j] = rng.nextNormal(); norm += u[j] * u[j] }
        norm = norm.squareRoot()
        for j in 0..<d { u[j] /= norm }
        let sd = c.clusterVariance.squareRoot()
        func draw(_ n: Int) -> Tensor<Float> {
            let share: Double = c.clusterRatio / (c.clusterRatio + 1)
            let majority = Int((Double(n) * share).rounded())
            var x = Tensor<Float>(shape: [n, d])
            for i in 0..<n {
                let sign = i < majority ? 1.0 : -1.0
                for j in 0..<d {
                    let v: Double = sign * c.clusterOffset * u[j] + sd * rng.nextNormal()
                    x.scalars[i * d + j] = Float(v)
                }
            }
            return x
        }
        return DataSet(name: "mixture-\(d)", dimension: d, train: draw(c.trainPoints), heldOut: draw(c.heldOutPoints))
    }

    /// N random training images and N random test images of the 8×8 digits.
    static func digits(_ c: Config, dataDir: String, using rng: inout Xoshiro256) throws -> DataSet {
        let train = try ImageDataset.load(path: "\(dataDir)/digits8x8.h5", split: .train)
        let test = try ImageDataset.load(path: "\(dataDir)/digits8x8.h5", split: .test)
        func pick(_ images: Tensor<Float>, _ n: Int) -> Tensor<Float> {
            var idx = Array(0..<images.rows)
            for i in stride(from: idx.count - 1, to: 0, by: -1) { idx.swapAt(i, rng.nextIndex(i + 1)) }
            return images.gatherRows(Array(idx.prefix(min(n, idx.count))))
        }
        return DataSet(name: "digits8x8", dimension: 64, train: pick(train.images, c.trainPoints), heldOut: pick(test.images, c.heldOutPoints))
    }

    // MARK: - Schedule and evaluation scales

    struct Schedule: Codable {
        var sigmas: [Double]
        var ratio: Double
        /// Index of the trained level used at each common evaluation scale τ_k.
        var evalLevels: [Int]
    }

    static func evalScales(_ c: Config, sigmaMax: Double) -> [Double] {
        NoiseSchedule.geometric(sigmaMax: sigmaMax, sigmaMin: sigmaMax * c.sigmaMinFraction, levels: c.evalScales)
    }

    static func schedule(_ c: Config, beta: Double, dimension: Int, sigmaMax: Double, scales: [Double], seed: UInt64) throws -> Schedule {
        var rng = Xoshiro256(seed: seed, key: [1, UInt64(dimension), UInt64(beta * 1000)])
        let r = try NoiseScaling.iterativeSchedule(sigmaMax: sigmaMax, beta: beta, dimension: dimension, target: c.overlapTarget,
                                                   band: c.band, sigmaMin: sigmaMax * c.sigmaMinFraction, samples: c.normSamples, using: &rng)
        let logs = r.sigmas.map { log($0) }
        let eval = scales.map { t in logs.indices.min { abs(logs[$0] - log(t)) < abs(logs[$1] - log(t)) }! }
        return Schedule(sigmas: r.sigmas, ratio: r.ratio, evalLevels: eval)
    }

    // MARK: - One (data set, seed, β) task

    /// Evaluation points of one scale: inputs for the network and the exact score.
    struct EvalSet {
        var points: Tensor<Float>
        var scores: Tensor<Double>
        var sigma: Double
    }

    /// Sum over rows of ‖a − b‖² and of ‖b‖² for the first `rows` rows.
    static func errorSums(model: Tensor<Float>, exact: Tensor<Double>, rows: Int) -> (error: Double, norm: Double) {
        let d = exact.columns
        var e = 0.0, n = 0.0
        model.withUnsafeBufferPointer { m in
            exact.withUnsafeBufferPointer { s in
                for i in 0..<(rows * d) {
                    let diff = Double(m[i]) - s[i]
                    e += diff * diff
                    n += s[i] * s[i]
                }
            }
        }
        return (e, n)
    }

    /// The model's output at `points`, all at noise level σ.
    static func evaluate(_ model: MLP<Float>, _ points: Tensor<Float>, sigma: Double, rows: Int) -> Tensor<Float> {
        let x = rows == points.rows ? points : Tensor(shape: [rows, points.columns], scalars: Array(points.scalars.prefix(rows * points.columns)))
        let cond = Tensor<Float>(shape: [rows, 1], repeating: Float(log(sigma)))
        let scale = Tensor<Float>(shape: [rows, 1], repeating: Float(1 / sigma))
        let out = model.forward(x, condition: cond, outputScale: scale, retainForBackward: false)
        return Tensor(shape: out.shape, scalars: out.scalars)
    }

    /// Aggregate relative error Σ σ² err / Σ σ² norm over the evaluation scales, on the first `rows` points of each.
    static func aggregateError(_ model: MLP<Float>, sets: [EvalSet], rows: Int) -> Double {
        var num = 0.0, den = 0.0
        for s in sets {
            let r = min(rows, s.points.rows)
            let (e, n) = errorSums(model: evaluate(model, s.points, sigma: s.sigma, rows: r), exact: s.scores, rows: r)
            num += s.sigma * s.sigma * e / Double(r)
            den += s.sigma * s.sigma * n / Double(r)
        }
        return num / den
    }

    struct TaskResult: Codable {
        var levelRows: [[CSVCell]] = []
        var curveRows: [[CSVCell]] = []
        var summaryRow: [CSVCell] = []
    }

    static func runTask(_ c: Config, data: DataSet, beta: Double, schedule: Schedule, scales: [Double], seed: Int, baseSeed: UInt64) -> TaskResult {
        let d = data.dimension
        let trainDouble = data.train.converted(to: Double.self)
        // Streams: model init and training depend on (data set, seed) only, so the β arms share
        // initial weights and minibatch indices; evaluation points of the common set depend on
        // (data set, seed, scale) only, so every β sees the same reference points.
        let dataKey: UInt64 = UInt64(d) &* 2 &+ (data.name.hasPrefix("digits") ? 1 : 0)
        let seedKey = UInt64(seed), betaKey = UInt64(beta * 1000)
        var initRNG = Xoshiro256(seed: baseSeed, key: [2, dataKey, seedKey])
        let model = MLP<Float>(sizes: [d] + c.hidden + [d], activation: ActivationKind(rawValue: c.activation) ?? .elu,
                               conditioningSize: 1, using: &initRNG)
        var evalRNG = Xoshiro256(seed: baseSeed, key: [3, dataKey, seedKey, betaKey])

        // (a) same-β points, (b) common Gaussian reference points and (c) off-shell points (own
        // noise × κ), with exact scores. Set (c) draws from its own stream, so (a) and (b) are
        // unchanged by its addition.
        var same: [EvalSet] = [], common: [EvalSet] = [], off: [EvalSet] = []
        var offRNG = Xoshiro256(seed: baseSeed, key: [9, dataKey, seedKey, betaKey])
        let kappa = c.offShellFactor ?? 1.5
        for (k, tau) in scales.enumerated() {
            let sigma = schedule.sigmas[schedule.evalLevels[k]]
            let law = GeneralizedNormal(sigma: sigma, beta: beta)
            let truth = GNDPerturbedEmpirical(data: trainDouble, gnd: law)
            var pa = Tensor<Double>(shape: [c.evalPoints, d]), pb = Tensor<Double>(shape: [c.evalPoints, d])
            var commonRNG = Xoshiro256(seed: baseSeed, key: [4, dataKey, seedKey, UInt64(k)])
            for i in 0..<c.evalPoints {
                let ja = evalRNG.nextIndex(data.train.rows), jb = commonRNG.nextIndex(data.train.rows)
                for j in 0..<d {
                    pa.scalars[i * d + j] = trainDouble.scalars[ja * d + j] + law.sample(using: &evalRNG)
                    pb.scalars[i * d + j] = trainDouble.scalars[jb * d + j] + tau * commonRNG.nextNormal()
                }
            }
            var pc = Tensor<Double>(shape: [c.evalPoints, d])
            for i in 0..<c.evalPoints {
                let jc = offRNG.nextIndex(data.train.rows)
                for j in 0..<d { pc.scalars[i * d + j] = trainDouble.scalars[jc * d + j] + kappa * law.sample(using: &offRNG) }
            }
            same.append(EvalSet(points: pa.converted(to: Float.self), scores: truth.scores(pa), sigma: sigma))
            common.append(EvalSet(points: pb.converted(to: Float.self), scores: truth.scores(pb), sigma: sigma))
            off.append(EvalSet(points: pc.converted(to: Float.self), scores: truth.scores(pc), sigma: sigma))
        }

        // Training, with the aggregate error traced on the first `curvePoints` of every set.
        var result = TaskResult()
        let checkpoints = Set((0...c.curveCheckpoints).map { $0 * c.steps / max(c.curveCheckpoints, 1) })
        func trace(_ step: Int) {
            result.curveRows.append([.text(data.name), .integer(d), .number(beta), .integer(seed), .integer(step),
                                     .number(aggregateError(model, sets: same, rows: c.curvePoints)),
                                     .number(aggregateError(model, sets: common, rows: c.curvePoints))])
        }
        let adam = Adam<Float>(learningRate: c.learningRate)
        let dsm = GNDScoreMatching(sigmas: schedule.sigmas, beta: beta, weighting: .sigmaPower(2))
        var batch = GNDDenoisingBatch<Float>()
        var clean = Tensor<Float>(shape: [c.batchSize, d])
        var indices = [Int](repeating: 0, count: c.batchSize)
        var dPrediction = Tensor<Float>(shape: [c.batchSize, d])
        var trainRNG = Xoshiro256(seed: baseSeed, key: [5, dataKey, seedKey])
        var noiseRNG = Xoshiro256(seed: baseSeed, key: [6, dataKey, seedKey, betaKey])
        var lastLosses: [Double] = []
        for step in 0..<c.steps {
            if checkpoints.contains(step) { trace(step) }
            for k in 0..<c.batchSize { indices[k] = trainRNG.nextIndex(data.train.rows) }
            data.train.gatherRows(indices, into: &clean)
            dsm.makeBatch(clean: clean, into: &batch, using: &noiseRNG)
            model.zeroGradients()
            let prediction = model.forward(batch.noisy, condition: batch.logSigma, outputScale: batch.inverseSigma)
            let loss = weightedSquaredError(prediction: prediction, target: batch.target, rowWeights: batch.weights, dPrediction: &dPrediction)
            if step >= c.steps - 100 { lastLosses.append(loss) }
            model.backwardParameters(dPrediction)
            adam.step(model)
        }
        trace(c.steps)

        // HT-C1's floor: the same network (same initial weights) regressed on the exact score.
        let floorModel = Self.trainFloor(c, data: data, trainDouble: trainDouble, beta: beta, schedule: schedule,
                                         seed: seed, baseSeed: baseSeed, dataKey: dataKey)

        // Final per-scale errors and the raw held-out DSM loss at each evaluation level.
        var heldRNG = Xoshiro256(seed: baseSeed, key: [7, dataKey, seedKey, betaKey])
        var num = (0.0, 0.0), den = (0.0, 0.0)
        var numOff = 0.0, denOff = 0.0
        var absolute = (0.0, 0.0, 0.0)
        for k in scales.indices {
            let level = schedule.evalLevels[k]
            let sigma = schedule.sigmas[level]
            let (ea, na) = errorSums(model: evaluate(model, same[k].points, sigma: sigma, rows: c.evalPoints), exact: same[k].scores, rows: c.evalPoints)
            let (eb, nb) = errorSums(model: evaluate(model, common[k].points, sigma: sigma, rows: c.evalPoints), exact: common[k].scores, rows: c.evalPoints)
            let (ec, nc) = errorSums(model: evaluate(model, off[k].points, sigma: sigma, rows: c.evalPoints), exact: off[k].scores, rows: c.evalPoints)
            let (ef, _) = errorSums(model: evaluate(floorModel, same[k].points, sigma: sigma, rows: c.evalPoints), exact: same[k].scores, rows: c.evalPoints)
            let m = Double(c.evalPoints)
            num.0 += sigma * sigma * ea / m; den.0 += sigma * sigma * na / m
            num.1 += sigma * sigma * eb / m; den.1 += sigma * sigma * nb / m
            numOff += sigma * sigma * ec / m; denOff += sigma * sigma * nc / m
            // Absolute error with a β-independent normaliser: σ²E‖s_θ − s‖²/D, averaged over scales.
            let perScale = Double(scales.count) * Double(d)
            absolute.0 += sigma * sigma * ea / m / perScale
            absolute.1 += sigma * sigma * eb / m / perScale
            absolute.2 += sigma * sigma * ec / m / perScale
            dsm.makeBatch(clean: data.heldOut, into: &batch, level: level, using: &heldRNG)
            let out = model.forward(batch.noisy, condition: batch.logSigma, outputScale: batch.inverseSigma, retainForBackward: false)
            let held = weightedSquaredError(prediction: out, target: batch.target, rowWeights: batch.weights, dPrediction: &dPrediction)
            result.levelRows.append([.text(data.name), .integer(d), .number(beta), .integer(seed), .integer(k), .number(scales[k]), .integer(level),
                                     .number(sigma), .number(ea / m), .number(na / m), .number(ea / na), .number(eb / m), .number(nb / m), .number(eb / nb), .number(held),
                                     .number(ec / m), .number(nc / m), .number(ec / nc), .number(ef / m)])
        }
        result.summaryRow = [.text(data.name), .integer(d), .number(beta), .integer(seed), .integer(schedule.sigmas.count), .number(schedule.ratio),
                             .number(num.0 / den.0), .number(num.1 / den.1), .number(Stats.mean(lastLosses)),
                             .number(numOff / denOff), .number(absolute.0), .number(absolute.1), .number(absolute.2)]
        return result
    }

    /// The floor network: MLP of the DSM model's architecture and initial weights, trained for
    /// `steps` Adam steps on σ²‖s_θ(x̃, σ) − ∇log q_σ(x̃)‖² over a fixed pool of points
    /// x̃ = x_j + GND_β(σ_l) at uniformly drawn training levels l, with exact targets.
    static func trainFloor(_ c: Config, data: DataSet, trainDouble: Tensor<Double>, beta: Double, schedule: Schedule,
                           seed: Int, baseSeed: UInt64, dataKey: UInt64) -> MLP<Float> {
        let d = data.dimension
        let seedKey = UInt64(seed), betaKey = UInt64(beta * 1000)
        var initRNG = Xoshiro256(seed: baseSeed, key: [2, dataKey, seedKey])  // the DSM model's initial weights
        let model = MLP<Float>(sizes: [d] + c.hidden + [d], activation: ActivationKind(rawValue: c.activation) ?? .elu,
                               conditioningSize: 1, using: &initRNG)
        var poolRNG = Xoshiro256(seed: baseSeed, key: [10, dataKey, seedKey, betaKey])
        let p = c.floorPoolPoints ?? 16_000
        let levels = (0..<p).map { _ in poolRNG.nextIndex(schedule.sigmas.count) }
        var points = Tensor<Double>(shape: [p, d])
        for i in 0..<p {
            let law = GeneralizedNormal(sigma: schedule.sigmas[levels[i]], beta: beta)
            let j = poolRNG.nextIndex(data.train.rows)
            for k in 0..<d { points.scalars[i * d + k] = trainDouble.scalars[j * d + k] + law.sample(using: &poolRNG) }
        }
        var targets = Tensor<Double>(shape: [p, d])
        for l in Set(levels).sorted() {
            let rows = levels.indices.filter { levels[$0] == l }
            let truth = GNDPerturbedEmpirical(data: trainDouble, gnd: GeneralizedNormal(sigma: schedule.sigmas[l], beta: beta))
            let s = truth.scores(points.gatherRows(rows))
            for (r, i) in rows.enumerated() { for k in 0..<d { targets.scalars[i * d + k] = s.scalars[r * d + k] } }
        }
        let pointsF = points.converted(to: Float.self), targetsF = targets.converted(to: Float.self)
        let b = c.batchSize
        var x = Tensor<Float>(shape: [b, d]), t = Tensor<Float>(shape: [b, d]), dPrediction = Tensor<Float>(shape: [b, d])
        var logSigma = Tensor<Float>(shape: [b, 1]), inverse = Tensor<Float>(shape: [b, 1]), weights = Tensor<Float>(shape: [b])
        var indices = [Int](repeating: 0, count: b)
        var trainRNG = Xoshiro256(seed: baseSeed, key: [11, dataKey, seedKey, betaKey])
        let adam = Adam<Float>(learningRate: c.learningRate)
        for _ in 0..<c.steps {
            for k in 0..<b { indices[k] = trainRNG.nextIndex(p) }
            pointsF.gatherRows(indices, into: &x)
            targetsF.gatherRows(indices, into: &t)
            for k in 0..<b {
                let sigma = schedule.sigmas[levels[indices[k]]]
                logSigma.scalars[k] = Float(log(sigma)); inverse.scalars[k] = Float(1 / sigma); weights.scalars[k] = Float(sigma * sigma)
            }
            model.zeroGradients()
            let prediction = model.forward(x, condition: logSigma, outputScale: inverse)
            _ = weightedSquaredError(prediction: prediction, target: t, rowWeights: weights, dPrediction: &dPrediction)
            model.backwardParameters(dPrediction)
            adam.step(model)
        }
        return model
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let c = config
        let seeds = options.seedCount(Self.seedDefaults)
        var dataRNG = Xoshiro256(seed: options.seed, key: [8])
        var sets: [DataSet] = c.dimensions.map { Self.mixture(c, dimension: $0, using: &dataRNG) }
        if c.digits { sets.append(try Self.digits(c, dataDir: dataDir, using: &dataRNG)) }

        // Schedules per (data set, β), shared by all seeds.
        var schedules: [String: Schedule] = [:]
        var scaleSets: [String: [Double]] = [:]
        var scheduleRows: [[CSVCell]] = []
        for s in sets {
            let sigmaMax = NoiseScaling.maxPairwiseDistance(s.train)
            let scales = Self.evalScales(c, sigmaMax: sigmaMax)
            scaleSets[s.name] = scales
            for b in c.betas {
                let sch = try Self.schedule(c, beta: b, dimension: s.dimension, sigmaMax: sigmaMax, scales: scales, seed: options.seed)
                schedules["\(s.name)|\(b)"] = sch
                for (i, sigma) in sch.sigmas.enumerated() {
                    scheduleRows.append([.text(s.name), .integer(s.dimension), .number(b), .integer(i), .number(sigma), .number(sch.ratio),
                                         .integer(sch.evalLevels.firstIndex(of: i) ?? -1)])
                }
            }
        }
        try run.writeCSV("schedules.csv", header: ["dataset", "dimension", "beta", "level", "sigma", "ratio", "eval_scale_index"], rows: scheduleRows)

        // Largest tasks first for load balance; each task single-threaded (BLAS and kernels).
        let tasks = sets.indices.flatMap { i in (0..<seeds).flatMap { s in c.betas.map { (set: i, seed: s, beta: $0) } } }
            .sorted { sets[$0.set].dimension > sets[$1.set].dimension }
        let progress = Progress(Self.experimentID, total: tasks.count)
        let threads = options.threads
        // One BLAS thread per task (tasks run in parallel; elementwise kernels stay inline).
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        let base = options.seed
        let results = try run.units("train-evaluate", count: tasks.count,
                                    key: { "\(sets[tasks[$0].set].name)_seed-\(tasks[$0].seed)_beta-\(tasks[$0].beta)" },
                                    progress: { progress.advance() }) { k -> TaskResult in
            let t = tasks[k]
            let s = sets[t.set]
            return Self.runTask(c, data: s, beta: t.beta, schedule: schedules["\(s.name)|\(t.beta)"]!, scales: scaleSets[s.name]!,
                                seed: t.seed, baseSeed: base)
        }
        try run.writeCSV("levels.csv", header: ["dataset", "dimension", "beta", "seed", "scale_index", "tau", "level", "sigma",
                                                "error_same", "norm_same", "relative_error_same", "error_common", "norm_common",
                                                "relative_error_common", "heldout_dsm_loss", "error_off", "norm_off", "relative_error_off", "error_floor_same"],
                         rows: results.flatMap { $0.levelRows })
        try run.writeCSV("curves.csv", header: ["dataset", "dimension", "beta", "seed", "step", "relative_error_same", "relative_error_common"],
                         rows: results.flatMap { $0.curveRows })
        try run.writeCSV("summary.csv", header: ["dataset", "dimension", "beta", "seed", "levels", "ratio", "relative_error_same",
                                                 "relative_error_common", "final_train_loss", "relative_error_off",
                                                 "absolute_error_same", "absolute_error_common", "absolute_error_off"], rows: results.map { $0.summaryRow })
        try run.writeConfig(c)
    }

    // MARK: - Render

    /// Allowed final/initial ratio of the β = 1 error ("falls") and allowed β = 1 / β = 2 error
    /// ratio ("as for β = 2") in the HT-C1 checks (fixed before any run).
    static let fallRatio = 0.5
    static let comparableRatio = 2.0

    func render(in run: RunDirectory) throws {
        let c = config
        let sum = try run.readCSV("summary.csv")
        let sName = try sum.strings("dataset"), sDim = try sum.numbers("dimension"), sBeta = try sum.numbers("beta"), sSeed = try sum.numbers("seed")
        let sL = try sum.numbers("levels"), sRatio = try sum.numbers("ratio"), sSame = try sum.numbers("relative_error_same"), sCommon = try sum.numbers("relative_error_common")
        let sOff = try sum.numbers("relative_error_off"), sAbsSame = try sum.numbers("absolute_error_same")
        let sAbsCommon = try sum.numbers("absolute_error_common"), sAbsOff = try sum.numbers("absolute_error_off")
        let lv = try run.readCSV("levels.csv")
        let lName = try lv.strings("dataset"), lBeta = try lv.numbers("beta"), lTau = try lv.numbers("tau")
        let lSame = try lv.numbers("relative_error_same"), lCommon = try lv.numbers("relative_error_common"), lHeld = try lv.numbers("heldout_dsm_loss")
        let lSeed = try lv.numbers("seed"), lSigma = try lv.numbers("sigma"), lErr = try lv.numbers("error_same"), lFloor = try lv.numbers("error_floor_same")
        let cv = try run.readCSV("curves.csv")
        let cName = try cv.strings("dataset"), cBeta = try cv.numbers("beta"), cSeed = try cv.numbers("seed"), cStep = try cv.numbers("step")
        let cSame = try cv.numbers("relative_error_same")

        var names: [String] = []
        for n in sName where !names.contains(n) { names.append(n) }
        names.sort { (sDim[sName.firstIndex(of: $0)!], $0) < (sDim[sName.firstIndex(of: $1)!], $1) }
        let seedCount = Set(sSeed).count
        func bySeed(_ n: String, _ b: Double, _ v: [Double]) -> [Double] {
            sName.indices.filter { sName[$0] == n && sBeta[$0] == b }.sorted { sSeed[$0] < sSeed[$1] }.map { v[$0] }
        }
        func dim(_ n: String) -> Int { Int(sDim[sName.firstIndex(of: n)!]) }
        func curveAt(_ n: String, _ b: Double, step: Double) -> [Double] {
            cName.indices.filter { cName[$0] == n && cBeta[$0] == b && cStep[$0] == step }.sorted { cSeed[$0] < cSeed[$1] }.map { cSame[$0] }
        }

        // Table: per data set and β.
        var rows: [[String]] = []
        for n in names {
            for b in c.betas {
                let idx = sName.indices.filter { sName[$0] == n && sBeta[$0] == b }
                guard let first = idx.first else { continue }
                let a = Stats.meanCI(bySeed(n, b, sSame)), cm = Stats.meanCI(bySeed(n, b, sCommon))
                let held = Stats.mean(lName.indices.filter { lName[$0] == n && lBeta[$0] == b }.map { lHeld[$0] })
                let start = Stats.meanCI(curveAt(n, b, step: 0))
                let o = Stats.meanCI(bySeed(n, b, sOff)), ao = Stats.meanCI(bySeed(n, b, sAbsOff))
                let aa = Stats.mean(bySeed(n, b, sAbsSame)), ab = Stats.mean(bySeed(n, b, sAbsCommon))
                rows.append([n, "\(dim(n))", Format.significant(b, 3), "\(Int(sL[first]))", Format.significant(sRatio[first], 4),
                             Format.withError(start.mean, start.halfWidth), Format.withError(a.mean, a.halfWidth), Format.withError(cm.mean, cm.halfWidth),
                             Format.withError(o.mean, o.halfWidth), Format.significant(aa, 3), Format.significant(ab, 3), Format.withError(ao.mean, ao.halfWidth),
                             Format.significant(held, 4)])
            }
        }
        try run.writeTable(Table(header: ["data", "D", "β", "L", "γ", "rel. error at init (a)", "rel. error (a) same-β points", "rel. error (b) common points",
                                          "rel. error (c) off-shell", "abs. error (a)", "abs. error (b)", "abs. error (c)", "held-out DSM loss"],
                                 rows: rows,
                                 caption: "Relative Fisher divergence Σσ²E‖s_θ − s‖²/Σσ²E‖s‖² against the exact score of the GND-perturbed training set (N = \(c.trainPoints)), over \(c.evalScales) evaluation scales from σ_1 to \(Format.significant(c.sigmaMinFraction, 2))σ_1; (a) points perturbed with the model's own β, (b) the same Gaussian-perturbed points for every β, (c) off-shell points (each β's own noise × \(Format.significant(c.offShellFactor ?? 1.5, 2))). Absolute error: mean over scales of σ²E‖s_θ − s‖²/D, a normaliser common to every β. Mean ± 95% t-interval over \(seedCount) seeds; \(c.steps) Adam steps. Held-out DSM loss: σ²-weighted, mean over the evaluation levels (not comparable across β). Protocol [RECON].",
                                 label: "tab:ht-e3"), name: "score_error")

        // Figure 1: aggregate error against D per β (synthetic mixtures; digits as separate points).
        var panels: [Panel] = []
        for (title, v) in [("(a) same-β points", sSame), ("(b) common Gaussian-perturbed points", sCommon)] {
            var series: [Series] = []
            for (k, b) in c.betas.enumerated() {
                let syn = names.filter { !$0.hasPrefix("digits") }
                let est = syn.map { Stats.meanCI(bySeed($0, b, v)) }
                series.append(Series(x: syn.map { Double(dim($0)) }, y: est.map { $0.mean }, yError: est.map { $0.halfWidth },
                                     title: "β = \(Format.significant(b, 3)) mixture", style: .linespoints, color: k))
                if names.contains("digits8x8") {
                    let e = Stats.meanCI(bySeed("digits8x8", b, v))
                    series.append(Series(x: [64], y: [e.mean], yError: [e.halfWidth], title: "β = \(Format.significant(b, 3)) digits", style: .points, color: k))
                }
            }
            panels.append(Panel(title: title, xLabel: "dimension D", yLabel: "relative score error", logX: true, logY: true, key: "off", series: series))
        }
        // One legend beside the panels instead of one over each (issue 19).
        if let first = panels.first { panels.append(.legend(for: first.series)) }
        try run.writeFigure(Figure(name: "error_vs_dimension", panels: panels, title: "HT-E3: score error against dimension (mean ± 95% CI over seeds)",
                                   panelWidth: 520))

        // Figure 2: per data set, error against the evaluation scale, per β, both point sets.
        var levelPanels: [Panel] = []
        for n in names {
            var series: [Series] = []
            for (k, b) in c.betas.enumerated() {
                for (label, v, style) in [("(a)", lSame, Series.Style.linespoints), ("(b)", lCommon, Series.Style.lines)] {
                    var byTau: [Double: [Double]] = [:]
                    for i in lName.indices where lName[i] == n && lBeta[i] == b { byTau[lTau[i], default: []].append(v[i]) }
                    let taus = byTau.keys.sorted()
                    series.append(Series(x: taus, y: taus.map { Stats.mean(byTau[$0]!) }, title: "β = \(Format.significant(b, 3)) \(label)", style: style, color: k))
                }
            }
            levelPanels.append(Panel(title: "\(n) (D = \(dim(n)))", xLabel: "evaluation scale τ", yLabel: "relative error", logX: true, logY: true, key: "off", series: series))
        }
        if let first = levelPanels.first { levelPanels.append(.legend(for: first.series, title: "(a) same-β points, (b) common points")) }
        try run.writeFigure(Figure(name: "error_by_level", panels: levelPanels, rows: 2, title: "HT-E3: relative score error per noise level ((a) same-β points, (b) common points; mean over seeds)",
                                   panelWidth: 420, panelHeight: 340))

        // Figure 3: training curves.
        var curvePanels: [Panel] = []
        for n in names {
            curvePanels.append(Panel(title: "\(n) (D = \(dim(n)))", xLabel: "training step", yLabel: "relative error (a)", logY: true, key: "off",
                                     series: c.betas.enumerated().map { (k, b) in
                                         var byStep: [Double: [Double]] = [:]
                                         for i in cName.indices where cName[i] == n && cBeta[i] == b { byStep[cStep[i], default: []].append(cSame[i]) }
                                         let xs = byStep.keys.sorted()
                                         return Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: "β = \(Format.significant(b, 3))", style: .linespoints, color: k)
                                     }))
        }
        if let first = curvePanels.first { curvePanels.append(.legend(for: first.series)) }
        try run.writeFigure(Figure(name: "error_vs_steps", panels: curvePanels, rows: 2, title: "HT-E3: relative score error (a) during training (subset of the evaluation points; mean over seeds)",
                                   panelWidth: 420, panelHeight: 340))

        // HT-C1 (checks fixed before any run), per data set: (1) the β = 1 error falls during
        // training to below `fallRatio` of its initial value; (2) the final β = 1 error is within
        // `comparableRatio` times the β = 2 error (ratio per seed, t-interval).
        var c1: [ClaimCheck] = []
        var floorNotes: [String] = []
        let finalStep = Double(c.steps)
        if c.betas.contains(1) && c.betas.contains(2) {
            for n in names {
                let fall = zip(curveAt(n, 1, step: finalStep), curveAt(n, 1, step: 0)).map { $0 / $1 }
                c1.append(ClaimCheck(statistic: "\(n): final / initial relative error (a), β = 1", estimate: Stats.meanCI(fall),
                                     direction: .lessThan, threshold: Self.fallRatio,
                                     provenance: .ours("\"falls\" read as below half its value at initialisation (fixed before any run)")))
                // Issue 17: each β referred to its own floor (the same network regressed on the exact
                // score), σ²-weighted sums over scales and seeds, seed-level bootstrap of
                // (DSM/floor)(β = 1) / (DSM/floor)(β = 2).
                let seedsHere = Set(lSeed.indices.filter { lName[$0] == n }.map { lSeed[$0] }).sorted()
                func sums(_ b: Double, _ s: Double) -> (dsm: Double, floor: Double) {
                    let idx = lName.indices.filter { lName[$0] == n && lBeta[$0] == b && lSeed[$0] == s }
                    return (idx.reduce(0) { $0 + lSigma[$1] * lSigma[$1] * lErr[$1] }, idx.reduce(0) { $0 + lSigma[$1] * lSigma[$1] * lFloor[$1] })
                }
                let perSeed = seedsHere.map { s in (sums(1, s), sums(2, s)) }
                let e = Stats.groupBootstrapCI(groupCount: perSeed.count, seed: UInt64(c.steps)) { picks in
                    let one = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].0.dsm, $0.1 + perSeed[$1].0.floor) }
                    let two = picks.reduce((0.0, 0.0)) { ($0.0 + perSeed[$1].1.dsm, $0.1 + perSeed[$1].1.floor) }
                    return (one.0 / one.1) / (two.0 / two.1)
                }
                let excess = perSeed.reduce((0.0, 0.0, 0.0, 0.0)) { ($0.0 + $1.0.dsm, $0.1 + $1.0.floor, $0.2 + $1.1.dsm, $0.3 + $1.1.floor) }
                floorNotes.append("\(n): DSM/floor \(Format.significant(excess.0 / excess.1, 3)) (β = 1), \(Format.significant(excess.2 / excess.3, 3)) (β = 2)")
                c1.append(ClaimCheck(statistic: "\(n): (DSM error / own floor) β = 1 ÷ (DSM error / own floor) β = 2, points (a)", estimate: e,
                                     direction: .lessThan, threshold: Self.comparableRatio,
                                     provenance: .ours("\"falls towards the model's approximation floor for β = 1 as for β = 2\" (spec §5 C1) read as: β = 1's excess over its own floor within a factor \(Self.comparableRatio) of β = 2's (factor fixed before any run)"),
                                     power: CheckPower.ofInterval(e, counts: "seeds (bootstrap over seeds)")))
            }
        }
        // HT-C6 (issue 17): at large D (synthetic D ≥ largeDimension), the ABSOLUTE error at the
        // off-shell points (c) for each β < 2 is below β = 2's (paired by seed). The common set (b)
        // sat on β = 2's shell and ≈ 5σ inside β = 1's, and the relative error's normaliser is
        // ≈ 2× smaller for β = 1, so both are reported but no longer decide.
        var c6: [ClaimCheck] = []
        var ownNormaliser: [String] = []
        if c.betas.contains(2) {
            for n in names where !n.hasPrefix("digits") && dim(n) >= c.largeDimension {
                for b in c.betas where b < 2 {
                    let r = Stats.meanCI(zip(bySeed(n, b, sOff), bySeed(n, 2, sOff)).map { $0 - $1 })
                    ownNormaliser.append("\(n), β = \(Format.significant(b, 3)): \(Format.significant(r.mean, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]")
                    let e = Stats.meanCI(zip(bySeed(n, b, sAbsOff), bySeed(n, 2, sAbsOff)).map { $0 - $1 })
                    c6.append(ClaimCheck(statistic: "\(n): absolute error (c) off-shell, β = \(Format.significant(b, 3)) − β = 2, paired by seed", estimate: e,
                                         direction: .lessThan, threshold: 0,
                                         provenance: .specRecon("spec §5 C6: \"at large D, the relative score error for β < 2 is lower than for β = 2, at least off the typical-set shell\"; tested off each β's own shell with a β-independent normaliser"),
                                         power: CheckPower.ofInterval(e, z: Stats.tQuantile975(df: max(e.n - 1, 1)), counts: "seeds")))
                }
            }
        }
        let command = "make ht-e3-score-error SCALE=\(options.scale.rawValue)"
        let protocolNote = "Protocol [RECON]: N = \(c.trainPoints) training points, MLP D→\(c.hidden.map(String.init).joined(separator: "→"))→D (\(c.activation)), \(c.steps) Adam steps, levels from HT-E2's iterative algorithm (\(c.band.rawValue) band) between σ_1 = max pairwise distance and \(Format.significant(c.sigmaMinFraction, 2))σ_1; 95% t-intervals over \(seedCount) seeds."
        try run.writeClaims([
            ClaimResult(claim: "HT-C1", scope: "Minimising GND-DSM recovers the marginal score of the GND-perturbed data: the error against the exact score falls towards the model's floor for β = 1 as for β = 2.",
                        experiment: Self.experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: protocolNote + " Thresholds: final/initial < \(Self.fallRatio); (DSM/floor) ratio β = 1 ÷ β = 2 < \(Self.comparableRatio). \(floorNotes.joined(separator: "; ")). What changed and why (issue 17): the raw error ratio β = 1 / β = 2 compared errors with different normalisers and different approximation floors; each β is now referred to its own floor (the same network, same initial weights and steps, regressed directly on the exact score), with a seed-level bootstrap of the ratio of σ²-weighted sums."),
            ClaimResult(claim: "HT-C6", scope: "At large D the relative score error for β < 2 is lower than for β = 2, at least off the typical-set shell (common evaluation set).",
                        experiment: Self.experimentID, command: command, checks: c6, seeds: seedCount,
                        notes: protocolNote + " Large D means synthetic D ≥ \(c.largeDimension); the β-specific schedules differ (fewer levels for heavier tails), so the models are compared at equal steps, not equal levels. What changed and why (issue 17): the common set x + τN(0, I) sat on β = 2's typical shell and ≈ 5σ inside β = 1's, and the relative error's denominator is ≈ 2× smaller for β = 1 (its sign flips with the normaliser); HT-C6 is now tested at off-shell points for every β (each β's own noise × \(Format.significant(c.offShellFactor ?? 1.5, 2))) on the absolute error σ²E‖s_θ − s‖²/D, one normaliser for all β; relative errors on (a), (b), (c) stay in the table. For information, the off-shell RELATIVE error (each β's own normaliser E‖s‖²), β − β = 2: \(ownNormaliser.joined(separator: "; ")); where its sign differs from the checks', the verdict depends on the normaliser."),
        ])
        print(Table(header: ["data", "D", "β", "L", "γ", "init (a)", "(a)", "(b)", "(c)", "abs (a)", "abs (b)", "abs (c)", "held-out"], rows: rows).markdown())
    }
}
