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
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: ScaleHelp.override("Override training steps.", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), parsing: .unconditional, help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override evaluation points per level and set.", quick: Config.quick.evalPoints, full: Config.full.evalPoints)) var evalPoints: Int?

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
        try Validate.distinct(dimensions, option: "--dimensions")
        try Validate.nonEmpty(dataDir, option: "--data-dir")
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

    /// One task's rows of levels.csv, curves.csv and summary.csv, as cells (`UnitRows.cells`).
    struct TaskResult: Codable {
        var levelRows: [[CSVCell]] = []
        var curveRows: [[CSVCell]] = []
        var summaryRow: [CSVCell] = []
    }

    static func runTask(_ c: Config, data: DataSet, beta: Double, schedule: Schedule, scales: [Double], seed: Int, baseSeed: UInt64) throws -> TaskResult {
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
        var curveRows: [CurveRow] = [], levelRows: [LevelRow] = []
        let checkpoints = Set((0...c.curveCheckpoints).map { $0 * c.steps / max(c.curveCheckpoints, 1) })
        func trace(_ step: Int) {
            curveRows.append(CurveRow(dataset: data.name, dimension: d, beta: beta, seed: seed, step: step,
                                      relativeErrorSame: aggregateError(model, sets: same, rows: c.curvePoints),
                                      relativeErrorCommon: aggregateError(model, sets: common, rows: c.curvePoints)))
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
            levelRows.append(LevelRow(dataset: data.name, dimension: d, beta: beta, seed: seed, scaleIndex: k, tau: scales[k], level: level,
                                      sigma: sigma, errorSame: ea / m, normSame: na / m, relativeErrorSame: ea / na, errorCommon: eb / m, normCommon: nb / m,
                                      relativeErrorCommon: eb / nb, heldoutDSMLoss: held, errorOff: ec / m, normOff: nc / m, relativeErrorOff: ec / nc,
                                      errorFloorSame: ef / m))
        }
        let summary = SummaryRow(dataset: data.name, dimension: d, beta: beta, seed: seed, levels: schedule.sigmas.count, ratio: schedule.ratio,
                                 relativeErrorSame: num.0 / den.0, relativeErrorCommon: num.1 / den.1, finalTrainLoss: Stats.mean(lastLosses),
                                 relativeErrorOff: numOff / denOff, absoluteErrorSame: absolute.0, absoluteErrorCommon: absolute.1, absoluteErrorOff: absolute.2)
        return TaskResult(levelRows: try UnitRows.cells(levelRows), curveRows: try UnitRows.cells(curveRows), summaryRow: try UnitRows.cells([summary])[0])
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
        var scheduleRows: [ScheduleRow] = []
        for s in sets {
            let sigmaMax = NoiseScaling.maxPairwiseDistance(s.train)
            let scales = Self.evalScales(c, sigmaMax: sigmaMax)
            scaleSets[s.name] = scales
            for b in c.betas {
                let sch = try Self.schedule(c, beta: b, dimension: s.dimension, sigmaMax: sigmaMax, scales: scales, seed: options.seed)
                schedules["\(s.name)|\(b)"] = sch
                for (i, sigma) in sch.sigmas.enumerated() {
                    scheduleRows.append(ScheduleRow(dataset: s.name, dimension: s.dimension, beta: b, level: i, sigma: sigma, ratio: sch.ratio,
                                                    evalScaleIndex: sch.evalLevels.firstIndex(of: i)))
                }
            }
        }
        try run.writeRows(scheduleRows, to: "schedules.csv")

        // Largest tasks first for load balance; each task single-threaded (BLAS and kernels).
        let tasks = sets.indices.flatMap { i in (0..<seeds).flatMap { s in c.betas.map { (set: i, seed: s, beta: $0) } } }
            .sorted { sets[$0.set].dimension > sets[$1.set].dimension }
        let progress = Progress(Self.experimentID, total: tasks.count)
        let base = options.seed
        let results = try run.units("train-evaluate", count: tasks.count,
                                    key: { "\(sets[tasks[$0].set].name)_seed-\(tasks[$0].seed)_beta-\(tasks[$0].beta)" },
                                    progress: { progress.advance() }) { k -> TaskResult in
            let t = tasks[k]
            let s = sets[t.set]
            return try Self.runTask(c, data: s, beta: t.beta, schedule: schedules["\(s.name)|\(t.beta)"]!, scales: scaleSets[s.name]!,
                                seed: t.seed, baseSeed: base)
        }
        try run.writeRows(results.flatMap { try UnitRows.rows($0.levelRows, as: LevelRow.self) }, to: "levels.csv")
        try run.writeRows(results.flatMap { try UnitRows.rows($0.curveRows, as: CurveRow.self) }, to: "curves.csv")
        try run.writeRows(try UnitRows.rows(results.map(\.summaryRow), as: SummaryRow.self), to: "summary.csv")
        try run.writeConfig(c)
    }

    // MARK: - Rows

    /// A row of schedules.csv: one noise level of the schedule of a (data set, β).
    struct ScheduleRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, level: Int, sigma: Double, ratio: Double, evalScaleIndex: Int?
        enum CodingKeys: String, CodingKey { case dataset, dimension, beta, level, sigma, ratio, evalScaleIndex = "eval_scale_index" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D (10:1 two-cluster Gaussian mixture in D dimensions) or digits8x8 (N training images)"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β"),
            .init("level", "index", "level index i (0 = σ_1, the largest)"),
            .init("sigma", "data units", "σ_i = σ_1/γ^i, σ_1 the largest pairwise distance of the training set"),
            .init("ratio", "1", "γ_β from HT-E2's iterative algorithm (the schedule's ratio; the same on every row of the schedule)"),
            .init("eval_scale_index", "count", "index k of the evaluation scale τ_k this level serves (the trained level nearest τ_k in log σ); empty when it serves none"),
        ]
    }

    /// A row of levels.csv: one model's errors at one evaluation scale.
    struct LevelRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, scaleIndex: Int, tau: Double, level: Int, sigma: Double
        var errorSame: Double, normSame: Double, relativeErrorSame: Double, errorCommon: Double, normCommon: Double, relativeErrorCommon: Double
        var heldoutDSMLoss: Double, errorOff: Double, normOff: Double, relativeErrorOff: Double, errorFloorSame: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, scaleIndex = "scale_index", tau, level, sigma, errorSame = "error_same", normSame = "norm_same"
            case relativeErrorSame = "relative_error_same", errorCommon = "error_common", normCommon = "norm_common"
            case relativeErrorCommon = "relative_error_common", heldoutDSMLoss = "heldout_dsm_loss", errorOff = "error_off", normOff = "norm_off"
            case relativeErrorOff = "relative_error_off", errorFloorSame = "error_floor_same"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β of the model's training noise"),
            .init("seed", "index", "seed index k (initial weights, minibatches and noise of the model)"),
            .init("scale_index", "index", "evaluation scale index k (0 = τ_1 = σ_1)"),
            .init("tau", "data units", "evaluation scale τ_k (geometric from σ_1 to sigmaMinFraction·σ_1, common to every β)"),
            .init("level", "index", "the model's trained level used at τ_k (nearest in log σ)"),
            .init("sigma", "data units", "σ of that level"),
            .init("error_same", "1/data units²", "E‖s_θ − s‖² on (a) same-β points x_j + GND_β(σ) noise, s the exact score of the β-perturbed training set"),
            .init("norm_same", "1/data units²", "E‖s‖² on the same points"),
            .init("relative_error_same", "1", "error_same / norm_same"),
            .init("error_common", "1/data units²", "E‖s_θ − s‖² on (b) the common points x_j + τ_k·N(0, I), identical for every β"),
            .init("norm_common", "1/data units²", "E‖s‖² on the common points"),
            .init("relative_error_common", "1", "error_common / norm_common"),
            .init("heldout_dsm_loss", "1", "σ²-weighted DSM loss on the held-out set at this level (one noise draw)"),
            .init("error_off", "1/data units²", "E‖s_θ − s‖² on (c) off-shell points x_j + κ·ε, ε ~ GND_β(σ), κ = offShellFactor"),
            .init("norm_off", "1/data units²", "E‖s‖² on the off-shell points"),
            .init("relative_error_off", "1", "error_off / norm_off"),
            .init("error_floor_same", "1/data units²", "E‖s_floor − s‖² on the same-β points, s_floor the same network regressed directly on the exact score (HT-C1's floor)"),
        ]
    }

    /// A row of curves.csv: one model's aggregate error at one training checkpoint.
    struct CurveRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, step: Int, relativeErrorSame: Double, relativeErrorCommon: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, step, relativeErrorSame = "relative_error_same", relativeErrorCommon = "relative_error_common"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β"),
            .init("seed", "index", "seed index k"),
            .init("step", "count", "training step (curveCheckpoints + 1 evenly spaced checkpoints, 0 and the last included)"),
            .init("relative_error_same", "1", "Σ_k σ_k²·err / Σ_k σ_k²·norm over the evaluation scales on the first curvePoints same-β points of each"),
            .init("relative_error_common", "1", "the same on the first curvePoints common points"),
        ]
    }

    /// A row of summary.csv: one model's errors aggregated over the evaluation scales.
    struct SummaryRow: DocumentedRow {
        var dataset: String, dimension: Int, beta: Double, seed: Int, levels: Int, ratio: Double, relativeErrorSame: Double, relativeErrorCommon: Double
        var finalTrainLoss: Double, relativeErrorOff: Double, absoluteErrorSame: Double, absoluteErrorCommon: Double, absoluteErrorOff: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, beta, seed, levels, ratio, relativeErrorSame = "relative_error_same", relativeErrorCommon = "relative_error_common"
            case finalTrainLoss = "final_train_loss", relativeErrorOff = "relative_error_off", absoluteErrorSame = "absolute_error_same"
            case absoluteErrorCommon = "absolute_error_common", absoluteErrorOff = "absolute_error_off"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "mixture-D or digits8x8"),
            .init("dimension", "count", "D"),
            .init("beta", "1", "GND shape β of the training noise"),
            .init("seed", "index", "seed index k"),
            .init("levels", "count", "L_β, the number of trained noise levels"),
            .init("ratio", "1", "γ_β of the schedule"),
            .init("relative_error_same", "1", "relative Fisher divergence Σ_k σ_k² E‖s_θ − s‖² / Σ_k σ_k² E‖s‖² on (a) same-β points, over the evaluation scales"),
            .init("relative_error_common", "1", "the same on (b) the common Gaussian-perturbed points"),
            .init("final_train_loss", "1", "mean σ²-weighted DSM training loss over the last 100 steps"),
            .init("relative_error_off", "1", "the same relative divergence on (c) the off-shell points"),
            .init("absolute_error_same", "1", "mean over scales of σ_k² E‖s_θ − s‖²/D on (a): squared error per coordinate in units of 1/σ², one normaliser for every β"),
            .init("absolute_error_common", "1", "the same on (b)"),
            .init("absolute_error_off", "1", "the same on (c) (HT-C6's statistic)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("summary.csv", SummaryRow.self, "Score errors of each (data set, β, seed) model aggregated over the evaluation scales (tables/score_error, figures/error_vs_dimension, HT-C6)."),
        CSVFileDoc("levels.csv", LevelRow.self, "Score errors per model and evaluation scale, with the held-out DSM loss and HT-C1's floor (figures/error_by_level, HT-C1)."),
        CSVFileDoc("curves.csv", CurveRow.self, "Aggregate relative error during training (figures/error_vs_steps, HT-C1's fall check)."),
        CSVFileDoc("schedules.csv", ScheduleRow.self, "The noise levels of each (data set, β), shared by all seeds."),
    ]

    // MARK: - Render

    /// Allowed final/initial ratio of the β = 1 error ("falls") and allowed β = 1 / β = 2 error
    /// ratio ("as for β = 2") in the HT-C1 checks (fixed before any run).
    static let fallRatio = 0.5
    static let comparableRatio = 2.0

    func render(in run: RunDirectory) throws {
        let c = config
        let sum = try run.readRows(SummaryRow.self, from: "summary.csv")
        let lv = try run.readRows(LevelRow.self, from: "levels.csv")
        let cv = try run.readRows(CurveRow.self, from: "curves.csv")

        var names: [String] = []
        for r in sum where !names.contains(r.dataset) { names.append(r.dataset) }
        func dim(_ n: String) -> Int { sum.first { $0.dataset == n }!.dimension }
        names.sort { (dim($0), $0) < (dim($1), $1) }
        let seedCount = Set(sum.map(\.seed)).count
        func bySeed(_ n: String, _ b: Double, _ v: KeyPath<SummaryRow, Double>) -> [Double] {
            sum.filter { $0.dataset == n && $0.beta == b }.sorted { $0.seed < $1.seed }.map { $0[keyPath: v] }
        }
        func curveAt(_ n: String, _ b: Double, step: Int) -> [Double] {
            cv.filter { $0.dataset == n && $0.beta == b && $0.step == step }.sorted { $0.seed < $1.seed }.map(\.relativeErrorSame)
        }

        // Table: per data set and β.
        var rows: [[String]] = []
        for n in names {
            for b in c.betas {
                guard let first = sum.first(where: { $0.dataset == n && $0.beta == b }) else { continue }
                let a = Stats.meanCI(bySeed(n, b, \.relativeErrorSame)), cm = Stats.meanCI(bySeed(n, b, \.relativeErrorCommon))
                let held = Stats.mean(lv.filter { $0.dataset == n && $0.beta == b }.map(\.heldoutDSMLoss))
                let start = Stats.meanCI(curveAt(n, b, step: 0))
                let o = Stats.meanCI(bySeed(n, b, \.relativeErrorOff)), ao = Stats.meanCI(bySeed(n, b, \.absoluteErrorOff))
                let aa = Stats.mean(bySeed(n, b, \.absoluteErrorSame)), ab = Stats.mean(bySeed(n, b, \.absoluteErrorCommon))
                rows.append([n, "\(dim(n))", Format.significant(b, 3), "\(first.levels)", Format.significant(first.ratio, 4),
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
        for (title, v) in [("(a) same-β points", \SummaryRow.relativeErrorSame), ("(b) common Gaussian-perturbed points", \SummaryRow.relativeErrorCommon)] {
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
                for (label, v, style) in [("(a)", \LevelRow.relativeErrorSame, Series.Style.linespoints), ("(b)", \LevelRow.relativeErrorCommon, Series.Style.lines)] {
                    var byTau: [Double: [Double]] = [:]
                    for r in lv where r.dataset == n && r.beta == b { byTau[r.tau, default: []].append(r[keyPath: v]) }
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
                                         for r in cv where r.dataset == n && r.beta == b { byStep[Double(r.step), default: []].append(r.relativeErrorSame) }
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
        let finalStep = c.steps
        if c.betas.contains(1) && c.betas.contains(2) {
            for n in names {
                let fall = zip(curveAt(n, 1, step: finalStep), curveAt(n, 1, step: 0)).map { $0 / $1 }
                c1.append(ClaimCheck(statistic: "\(n): final / initial relative error (a), β = 1", estimate: Stats.meanCI(fall),
                                     direction: .lessThan, threshold: Self.fallRatio,
                                     provenance: .ours("\"falls\" read as below half its value at initialisation (fixed before any run)")))
                // Issue 17: each β referred to its own floor (the same network regressed on the exact
                // score), σ²-weighted sums over scales and seeds, seed-level bootstrap of
                // (DSM/floor)(β = 1) / (DSM/floor)(β = 2).
                let seedsHere = Set(lv.filter { $0.dataset == n }.map(\.seed)).sorted()
                func sums(_ b: Double, _ s: Int) -> (dsm: Double, floor: Double) {
                    let rows = lv.filter { $0.dataset == n && $0.beta == b && $0.seed == s }
                    return (rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorSame }, rows.reduce(0) { $0 + $1.sigma * $1.sigma * $1.errorFloorSame })
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
                    let r = Stats.meanCI(zip(bySeed(n, b, \.relativeErrorOff), bySeed(n, 2, \.relativeErrorOff)).map { $0 - $1 })
                    ownNormaliser.append("\(n), β = \(Format.significant(b, 3)): \(Format.significant(r.mean, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]")
                    let e = Stats.meanCI(zip(bySeed(n, b, \.absoluteErrorOff), bySeed(n, 2, \.absoluteErrorOff)).map { $0 - $1 })
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
