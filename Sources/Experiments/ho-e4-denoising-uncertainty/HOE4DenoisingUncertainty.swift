/// HO-E4: uncertainty quantification in denoising with second-order scores (high-order spec E4,
/// §6.4; claims HO-C5 and HO-C6; issues 16 and 29).
///
/// σ = 0.5, pixels in [0, 1]. An image U-Net outputs s̃₁ and an s̃₂ head (1 + k channels; see
/// ExperimentKit/ImageSecondOrderTraining.swift), trained with the released MNIST runner's joint
/// loss 10·DSM-VR/σ² + D2SM-A (D2SM gradients reach s̃₁), bias-corrected EMA weights for
/// evaluation. Arms, each trained once per seed (seeds: quick 2, full 3):
///   - "lowrank-A": low-rank r = 10 + diagonal head on the training images (digits8x8 at quick
///     scale, Fashion-MNIST at full scale), form A (the released code's);
///   - "lowrank-B" (issue 29): the same with D2SM form B (s̃₁ detached from it), paired with A by
///     seed: same held-out images and noise;
///   - "full-mixture": a full s̃₂ head (64 maps of 64 pixels) trained on fresh draws of the
///     class-conditional 8×8-digits Gaussian mixture of HO-E1 (shrinkage 0.05), whose exact
///     Cov[x | x̃] = σ⁴∇²log q_σ(x̃) + σ²I is the ground truth of HO-C5 (both scales).
/// For held-out pairs (x, x̃ = x + σz): the mean m = x̃ + σ²s̃₁(x̃), Σ = σ⁴s̃₂(x̃) + σ²I, its diagonal
/// (negative entries clamped to 0 and counted) and its eigenpairs (LAPACK dsyevd on the dense Σ).
/// HO-C5 (issue 29): E[clamped predicted variance]/E[(x − m)²] within 20 % (spec); the per-image
/// Spearman ρ of the variance map against (x − m)² above 0 (a constant map scores 0) and above the
/// ρ of a map that ignores the image (leave-one-out per-pixel mean of (x − m)²); on the mixture
/// also against the exact variance. Reported beside them: the unclamped ratio, λ₁ and λ₂, |cos|
/// of u₁ with x̃ − m, the ratio on the complement of u₁, the calibration curve by decile, the
/// pre-audit Pearson statistics, and a learning curve (the ratio at k/4 of the steps) with a
/// stability rule fixed before the claim is read (< 5 % change between the last two points).
/// HO-C6 (issue 29): the share of each top eigenvector's energy on pixels where the clean image
/// or the mean exceeds 0.1, for eigenvectors not aligned with x̃ − m (|cos| ≤ 0.5), against random
/// directions with per-pixel SD ∝ √(predicted variance) (per image, paired); the noise direction
/// and the pre-audit isotropic null are reported apart.
///
/// Outputs (results/<scale>/ho-e4-denoising-uncertainty/): calibration.csv, diagnostics.csv,
/// calibration-deciles.csv, learning-curve.csv, structure.csv, eigenvalues.csv, loss.csv,
/// timings.json, images/<model>-{denoising,variance,eigen}.{png,json} (seed 0),
/// models/<model>-seed<k>.h5, figures/{learning_curve,calibration_deciles}, tables/{calibration,
/// uncertainty,learning_curve,structure}.{md,tex}, claims.json, config.json.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import ScoreKit
import TensorCore

@main
struct HOE4DenoisingUncertainty: Experiment {
    static let experimentID = "ho-e4-denoising-uncertainty"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HO-E4: posterior mean, variance and covariance eigen-images from learned s̃₁, s̃₂ on images; calibration (HO-C5) and stroke localisation (HO-C6).",
        discussion: seedDefaults.help)

    @OptionGroup var options: ExperimentOptions
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: ScaleHelp.override("Override the training steps of each model.", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), parsing: .unconditional, help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the number of held-out images evaluated per model.", quick: Config.quick.evalImages, full: Config.full.evalImages)) var evalImages: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the U-Net width (base channels, a multiple of 8).", quick: Config.quick.baseChannels, full: Config.full.baseChannels)) var width: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 27: one name per meaning).
    @Option(name: .customLong("base-channels"), parsing: .unconditional, help: .hidden) var baseChannelsAlias: Int?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the EMA decay of the evaluated weights.", quick: Config.quick.emaDecay, full: Config.full.emaDecay)) var ema: Double?
    @Flag(inversion: .prefixedNo, help: ScaleHelp.emaBiasCorrection(quick: Config.quick.emaBiasCorrected, full: Config.full.emaBiasCorrected)) var emaBiasCorrection: Bool?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the training minibatch size.", quick: Config.quick.batchSize, full: Config.full.batchSize)) var batch: Int?

    /// Seeds (issue 29): each seed trains every arm (form A and form B low-rank models, the
    /// full-head mixture model) on its own streams; A and B of one seed share the held-out images
    /// and their noise, so they are paired.
    static let seedDefaults = SeedDefaults(quick: 2, full: 3)

    struct Config: Codable {
        var dataset = DatasetName.digits8x8
        var sigma = 0.5
        var rank = 10
        /// The full-head model on the class-conditional digits mixture (exact Cov[x | x̃] known).
        var fullHeadOnMixture = true
        /// The data set whose class-conditional mixture that model learns: the 8×8 digits at both
        /// scales (a full head needs D² outputs; issue 29 asks for the exact comparison at full
        /// scale too, where the low-rank model runs on Fashion-MNIST).
        var mixtureDataset = DatasetName.digits8x8
        var mixtureShrinkage = 0.05
        /// A form-B low-rank arm beside form A, paired by seed (issue 29; form B did not show
        /// HO-E1's rising error).
        var formB = true
        var baseChannels = 16
        var steps = 1_000
        var batchSize = 32
        var learningRate = 1e-3
        var emaDecay = 0.99
        /// Bias-corrected EMA (issue 27), on at both scales (issue 29).
        var emaBiasCorrected: Bool? = true
        var firstOrderWeight = 10.0
        var checkpointEvery = 100
        /// Learning curve (issue 29): snapshots at k·steps/curvePoints (k = 1 … curvePoints − 1,
        /// rounded down to a checkpoint) and the end.
        var curvePoints = 4
        /// The stability rule, fixed before any claim is read (issue 29; threshold ours): the
        /// ratio E[predicted]/E[(x − m)²] has stabilised when it changed by less than this
        /// (relative) between the last two points of the curve.
        var stabilityTolerance = 0.05
        var evalImages = 200
        var gridImages = 6
        var eigenImages = 4
        var randomDirections = 20
        var strokeThreshold = 0.1
        /// |cos(u, x̃ − m)| above which an eigenvector counts as the noise direction (issue 29;
        /// ours: more than half of its length along x̃ − m, where a random direction has
        /// |cos| ≈ 1/√D = 0.125 at D = 64 and 0.036 at D = 784).
        var noiseCosineThreshold = 0.5
        /// Bins of the calibration curve by predicted variance (deciles).
        var calibrationBins = 10
        var bootstrapResamples = 1_000

        static let quick: Config = {
            var c = Config()
            c.checkpointEvery = 50  // learning curve at 250, 500, 750, 1000 steps
            return c
        }()
        /// Full scale (issue 29; intended, not yet run): the low-rank arms A and B on Fashion-MNIST
        /// (28×28) and the full-head model on the 8×8-digits mixture, 3 seeds each (9 training
        /// units), U-Net width C = 16, 6000 steps of batch 32, Adam 1e-3, EMA 0.999 bias-corrected
        /// (the initial weights carry no weight), learning curve at 1500/3000/4500/6000 steps,
        /// 300 held-out images per seed.
        /// Budget: reference/full/image-budget puts the Fashion-MNIST quality gate at width 16
        /// from 2000 steps (the digits at width 16 from 1000 steps); the audit (issue 29) saw the
        /// ratio still falling between 1500 and 6000 steps (3.4 → 1.62), so 6000 steps (3× the
        /// gate, the earlier run's count) with the learning-curve rule saying whether the ratio
        /// stabilised. Width 32 (the earlier run: 0.93 s per step alone) × 6 Fashion-MNIST models
        /// would need ≈ 9 h of unit time, over the issue's 3 h.
        /// Time (issue 29, measured on the shared 2-core machine at load ≈ 6, beside a full-scale
        /// run): a 40-step probe of this configuration took 28.8 s per Fashion-MNIST unit (two
        /// side by side, 0.72 s per step under contention; ≈ 0.35 s per step alone, scaled from
        /// the earlier C = 32 run by the width) and the digits-mixture unit ≈ 0.04 s per step;
        /// 20 evaluated images per model ≈ 2 s. Estimate: 6 × 6000 × 0.35 s ≈ 3.5 h of unit time
        /// for the Fashion-MNIST units plus ≈ 0.2 h for the mixture units, i.e. ≈ 1.9 h of wall
        /// time with two units side by side, plus ≈ 5 min of evaluation (up to ≈ 3 h if the
        /// machine stays as loaded as during the probe).
        static let full: Config = {
            var c = Config()
            c.dataset = .fashionMNIST
            c.baseChannels = 16
            c.steps = 6_000
            c.emaDecay = 0.999
            c.checkpointEvery = 250
            c.evalImages = 300
            c.gridImages = 8
            return c
        }()

        /// The learning-curve steps below `steps` (multiples of checkpointEvery), ascending.
        var curveSteps: [Int] {
            guard curvePoints >= 2 else { return [] }
            let s = (1..<curvePoints).map { k in (k * steps / curvePoints) / checkpointEvery * checkpointEvery }
            return Array(Set(s.filter { $0 > 0 && $0 < steps })).sorted()
        }
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if let v = steps { c.steps = v }
        if let v = evalImages { c.evalImages = v; c.gridImages = min(c.gridImages, v) }
        if let v = width ?? baseChannelsAlias { c.baseChannels = v }
        if let v = ema { c.emaDecay = v }
        if let v = emaBiasCorrection { c.emaBiasCorrected = v }
        if let v = batch { c.batchSize = v }
        return c
    }

    func validate() throws {
        try Validate.trainSteps(steps)
        if let v = evalImages { guard v >= 2 else { throw ValidationError("--eval-images must be at least 2, got \(v)") }; try Limits.count("--eval-images", v, maximum: 10_000, reason: "held-out images (one dense eigensolve each)") }
        try Validate.width(width)
        try Validate.width(baseChannelsAlias, option: "--base-channels")
        try Validate.ema(ema)
        try Validate.batch(batch)
    }

    /// One evaluated model: per image the clean x, x̃, m, the predicted variances, and more.
    struct ModelEvaluation {
        var name: String
        var seedIndex: Int
        var clean: [[Double]], noisy: [[Double]], mean: [[Double]], variance: [[Double]]
        var exactVariance: [[Double]]?
        /// The exact posterior mean x̃ + σ²∇log q_σ(x̃) (mixture model only).
        var exactMean: [[Double]]?
        var negativeVariances: Int
        var negativeEigenvalues: Int
        var relativeFrobenius: [Double]?
        var shares: [[Double]]          // [image][k] top-k eigenvector stroke shares
        var noiseCosines: [[Double]]    // [image][k] |cos(u_k, x̃ − m)|
        var randomShares: [Double]      // [image] mean share of random unit directions (the old null)
        var weightedShares: [Double]    // [image] mean share of variance-weighted random directions (issue 29)
        var maskFraction: [Double]      // [image]
        var eigenvalues: [[Double]]     // [image][k]
        var eigenvectors: [[[Double]]]  // first grid images only: [image][k][D]
        var diagnostics: [PosteriorImageDiagnostics]  // [image] (issue 29)
    }

    /// The held-out clean images and their noisy versions for one seed and kind (A and B of a
    /// seed get the same, so they are paired).
    func heldOut(mixture: GaussianMixture?, test: Tensor<Float>, c: Config, seedIndex: Int) -> (images: Tensor<Float>, noisy: Tensor<Float>) {
        let images: Tensor<Float>
        let kind: UInt64 = mixture == nil ? 0 : 1
        if let mixture {
            var rng = Xoshiro256(seed: options.seed, key: [0x6D69_78, UInt64(seedIndex)])
            images = mixture.sample(count: c.evalImages, using: &rng).converted(to: Float.self)
        } else {
            images = test.gatherRows(Array(0..<min(c.evalImages, test.rows)))
        }
        var rng = Xoshiro256(seed: options.seed, key: [0x6576_616C, UInt64(seedIndex), kind])
        var noisy = images
        for i in 0..<noisy.count { noisy.scalars[i] += Float(c.sigma * rng.nextNormal()) }
        return (images, noisy)
    }

    func evaluate(model: ImageSecondOrderModel, name: String, seedIndex: Int, images: Tensor<Float>, noisy: Tensor<Float>, exact: GaussianMixture?,
                  c: Config) throws -> ModelEvaluation {
        let (n, d) = (images.rows, images.columns)
        let sigma = c.sigma
        var score = Tensor<Float>(shape: [0]), head = Tensor<Float>(shape: [0])
        model.evaluate(noisy, score: &score, head: &head)
        let q = exact?.perturbed(sigma: sigma)
        let noisyD = noisy.converted(to: Double.self)
        let exactHessians = q?.hessians(noisyD)
        let exactScores = q?.scores(noisyD)
        var e = ModelEvaluation(name: name, seedIndex: seedIndex, clean: [], noisy: [], mean: [], variance: [], exactVariance: q == nil ? nil : [],
                                exactMean: q == nil ? nil : [], negativeVariances: 0, negativeEigenvalues: 0, relativeFrobenius: q == nil ? nil : [],
                                shares: [], noiseCosines: [], randomShares: [], weightedShares: [], maskFraction: [], eigenvalues: [], eigenvectors: [],
                                diagnostics: [])
        let kind: UInt64 = exact == nil ? 0 : 1
        var dirRNG = Xoshiro256(seed: options.seed, key: [0x7261_6E64, UInt64(seedIndex), kind])
        var weightedRNG = Xoshiro256(seed: options.seed, key: [0x7767_6874, UInt64(seedIndex), kind])
        for r in 0..<n {
            let x = (0..<d).map { Double(images.scalars[r * d + $0]) }
            let xt = (0..<d).map { noisyD.scalars[r * d + $0] }
            let m = (0..<d).map { xt[$0] + sigma * sigma * Double(score.scalars[r * d + $0]) }
            let cov = PosteriorCovariance(head: head, row: r, dimension: d, sigma: sigma, structure: model.config.structure)
            let raw = cov.variances
            var v = raw
            for j in 0..<d where v[j] < 0 { v[j] = 0; e.negativeVariances += 1 }
            e.clean.append(x); e.noisy.append(xt); e.mean.append(m); e.variance.append(v)
            if let h = exactHessians {
                let s4 = pow(sigma, 4), s2 = sigma * sigma
                e.exactVariance!.append((0..<d).map { s4 * h.scalars[r * d * d + $0 * d + $0] + s2 })
                e.exactMean!.append((0..<d).map { xt[$0] + s2 * exactScores!.scalars[r * d + $0] })
                let sigmaHat = cov.matrix
                var num = 0.0, den = 0.0
                for i in 0..<d {
                    for j in 0..<d {
                        let t = s4 * h.scalars[r * d * d + i * d + j] + (i == j ? s2 : 0)
                        let diff = sigmaHat.scalars[i * d + j] - t
                        num += diff * diff
                        den += t * t
                    }
                }
                e.relativeFrobenius!.append((num / den).squareRoot())
            }
            let pairs = try cov.topEigenpairs(d)
            e.negativeEigenvalues += pairs.filter { $0.value < 0 }.count
            e.diagnostics.append(PosteriorImageDiagnostics.evaluate(variances: raw, top: Array(pairs.prefix(2)), clean: x, mean: m, noisy: xt))
            let top = Array(pairs.prefix(c.eigenImages))
            let mask = StrokeShare.mask(clean: x, mean: m, threshold: c.strokeThreshold)
            let noise = zip(xt, m).map { $0 - $1 }
            e.shares.append(top.map { StrokeShare.share($0.vector, mask: mask) })
            e.noiseCosines.append(top.map { NoiseDirection.absoluteCosine($0.vector, noise) })
            e.eigenvalues.append(top.map { $0.value })
            if r < c.gridImages { e.eigenvectors.append(top.map { $0.vector }) }
            var random = 0.0
            for _ in 0..<c.randomDirections {
                random += StrokeShare.share((0..<d).map { _ in dirRNG.nextNormal() }, mask: mask)
            }
            e.randomShares.append(random / Double(c.randomDirections))
            e.weightedShares.append(VarianceWeightedNull.meanShare(weights: v, mask: mask, count: c.randomDirections, using: &weightedRNG))
            e.maskFraction.append(Double(mask.filter { $0 }.count) / Double(d))
        }
        return e
    }

    /// The learning-curve point of `model`: E[clamped]/E[(x − m)²] and E[unclamped]/E[(x − m)²]
    /// on the held-out pairs (no eigensolves).
    static func curvePoint(model: ImageSecondOrderModel, images: Tensor<Float>, noisy: Tensor<Float>, sigma: Double) -> (clamped: Double, unclamped: Double) {
        let (n, d) = (images.rows, images.columns)
        var score = Tensor<Float>(shape: [0]), head = Tensor<Float>(shape: [0])
        model.evaluate(noisy, score: &score, head: &head)
        var clamped = 0.0, unclamped = 0.0, error = 0.0
        for r in 0..<n {
            let v = PosteriorCovariance(head: head, row: r, dimension: d, sigma: sigma, structure: model.config.structure).variances
            for j in 0..<d {
                let m = Double(noisy.scalars[r * d + j]) + sigma * sigma * Double(score.scalars[r * d + j])
                let q = Double(images.scalars[r * d + j]) - m
                error += q * q
                clamped += max(v[j], 0)
                unclamped += v[j]
            }
        }
        return (clamped / error, unclamped / error)
    }

    /// Calibration of `predicted` against `target` on the images `picks` (bootstrap resamples).
    static func calibration(_ target: [[Double]], _ predicted: [[Double]], picks: [Int]) -> VarianceCalibration {
        let d = target[0].count
        return VarianceCalibration.evaluate(squaredErrors: picks.flatMap { target[$0] }, predicted: picks.flatMap { predicted[$0] }, dimension: d)
    }

    /// One trained arm of the run.
    struct Arm {
        var model: String
        var seedIndex: Int
        var config: ImageSecondOrderTrainingConfig
        var source: ImageCleanSource
        var mixture: GaussianMixture?
        var storeName: String { "\(model)-seed\(seedIndex)" }
    }

    func compute(in run: RunDirectory) throws {
        let c = config
        let seeds = options.seedCount(Self.seedDefaults)
        var timings: [String: Double] = [:]
        var t = Date()
        let train = try ImageDataset.load(path: c.dataset.path, split: .train)
        let test = try ImageDataset.load(path: c.dataset.path, split: .test)
        let mixtureTrain = c.fullHeadOnMixture ? (c.mixtureDataset == c.dataset ? train : try ImageDataset.load(path: c.mixtureDataset.path, split: .train)) : nil
        timings["load data"] = Date().timeIntervalSince(t)

        func trainingConfig(_ structure: SecondOrderStructure, data: String, height: Int, width: Int, seedIndex: Int, form: SecondOrderForm?) -> ImageSecondOrderTrainingConfig {
            ImageSecondOrderTrainingConfig(baseChannels: c.baseChannels, height: height, width: width, sigma: c.sigma, structure: structure,
                                           firstOrderWeight: c.firstOrderWeight, lossScale: pow(c.sigma, 4), data: data, steps: c.steps,
                                           batchSize: c.batchSize, learningRate: c.learningRate, emaDecay: c.emaDecay, emaBiasCorrected: c.emaBiasCorrected,
                                           checkpointEvery: c.checkpointEvery, seed: options.seed &+ UInt64(seedIndex), form: form)
        }
        let mixture = try mixtureTrain.map {
            try SyntheticMixtures.classConditional(images: $0.images, labels: $0.labels, shrinkage: c.mixtureShrinkage, source: c.mixtureDataset.path)
        }
        var arms: [Arm] = []
        for k in 0..<seeds {
            let data = "\(c.dataset.rawValue) train split"
            arms.append(Arm(model: "lowrank-A", seedIndex: k, config: trainingConfig(.lowRank(rank: c.rank), data: data, height: train.height, width: train.width, seedIndex: k, form: nil),
                            source: .images(train.images), mixture: nil))
            if c.formB {
                arms.append(Arm(model: "lowrank-B", seedIndex: k, config: trainingConfig(.lowRank(rank: c.rank), data: data, height: train.height, width: train.width, seedIndex: k, form: .b),
                                source: .images(train.images), mixture: nil))
            }
            if let mixture, let mt = mixtureTrain {
                arms.append(Arm(model: "full-mixture", seedIndex: k,
                                config: trainingConfig(.full, data: "\(c.mixtureDataset.rawValue) train split, class-conditional Gaussian mixture, shrinkage \(c.mixtureShrinkage)",
                                                       height: mt.height, width: mt.width, seedIndex: k, form: nil),
                                source: .mixture(mixture), mixture: mixture))
            }
        }
        let curveSteps = c.curveSteps
        t = Date()
        let summaries = try run.units("train", count: arms.count, key: { arms[$0].storeName }) { i in
            try run.trainImageSecondOrderModel(arms[i].storeName, config: arms[i].config, source: arms[i].source, snapshots: curveSteps)
        }
        timings["train"] = Date().timeIntervalSince(t)

        t = Date()
        var evaluations: [ModelEvaluation] = []
        var curveRows: [CurveRow] = []
        for arm in arms {
            let model = try run.loadImageSecondOrderModel(arm.storeName, config: arm.config)
            let (images, noisy) = heldOut(mixture: arm.mixture, test: test.images, c: c, seedIndex: arm.seedIndex)
            for s in curveSteps {
                let snap = try run.loadImageSecondOrderSnapshot(arm.storeName, step: s, config: arm.config)
                let p = Self.curvePoint(model: snap, images: images, noisy: noisy, sigma: c.sigma)
                curveRows.append(CurveRow(model: arm.model, seed: arm.seedIndex, step: s, ratioClamped: p.clamped, ratioUnclamped: p.unclamped, images: images.rows))
            }
            let p = Self.curvePoint(model: model, images: images, noisy: noisy, sigma: c.sigma)
            curveRows.append(CurveRow(model: arm.model, seed: arm.seedIndex, step: c.steps, ratioClamped: p.clamped, ratioUnclamped: p.unclamped, images: images.rows))
            evaluations.append(try evaluate(model: model, name: arm.model, seedIndex: arm.seedIndex, images: images, noisy: noisy, exact: arm.mixture, c: c))
        }
        timings["evaluate"] = Date().timeIntervalSince(t)

        // Calibration rows: (model, seed, comparison) with bootstrap intervals over images (the
        // pre-audit statistics, kept as information).
        t = Date()
        var calRows: [CalibrationRow] = []
        var diagRows: [DiagnosticsRow] = []
        var decileRows: [DecileRow] = []
        for e in evaluations {
            let n = e.clean.count
            let d = e.clean[0].count
            let sq = (0..<n).map { r in (0..<d).map { j in let q = e.clean[r][j] - e.mean[r][j]; return q * q } }
            var comparisons: [(String, [[Double]], [[Double]])] = [("squared error vs predicted variance", sq, e.variance)]
            if let exact = e.exactVariance, let exactMean = e.exactMean {
                let sqExact = (0..<n).map { r in (0..<d).map { j in let q = e.clean[r][j] - exactMean[r][j]; return q * q } }
                comparisons.append(("exact posterior variance vs predicted variance", exact, e.variance))
                comparisons.append(("squared error of the exact mean vs exact posterior variance (reference)", sqExact, exact))
            }
            for (k, (what, target, predicted)) in comparisons.enumerated() {
                let point = Self.calibration(target, predicted, picks: Array(0..<n))
                let seedBase = options.seed &+ UInt64(k) &+ 1000 &* UInt64(e.seedIndex)
                let r = Stats.groupBootstrapCI(groupCount: n, resamples: c.bootstrapResamples, seed: seedBase) { Self.calibration(target, predicted, picks: $0).pixelMeanPearson }
                let ratio = Stats.groupBootstrapCI(groupCount: n, resamples: c.bootstrapResamples, seed: seedBase &+ 100) { Self.calibration(target, predicted, picks: $0).ratio }
                calRows.append(CalibrationRow(
                    model: e.name, seed: e.seedIndex, comparison: what, pixelMeanPearson: point.pixelMeanPearson, pearsonLow: r.low, pearsonHigh: r.high,
                    pooledPearson: point.pooledPearson, meanTarget: point.meanSquaredError, meanPredicted: point.meanPredictedVariance,
                    ratioPredictedToTarget: point.ratio, ratioLow: ratio.low, ratioHigh: ratio.high, images: n,
                    negativeVariancesClamped: e.negativeVariances, negativeEigenvalues: e.negativeEigenvalues,
                    relativeFrobeniusErrorVsExact: e.relativeFrobenius.map { Stats.mean($0) }))
            }
            // Issue 29: the image-ignoring map for image r is the per-pixel mean of (x − m)² over
            // the other held-out images of this model and seed (leave one out).
            var total = [Double](repeating: 0, count: d)
            for r in 0..<n { for j in 0..<d { total[j] += sq[r][j] } }
            // The same for the exact posterior (mixture): the reference a perfect model would give.
            let sqExact = e.exactMean.map { em in (0..<n).map { r in (0..<d).map { j in let q = e.clean[r][j] - em[r][j]; return q * q } } }
            var totalExact = [Double](repeating: 0, count: d)
            if let sqExact { for r in 0..<n { for j in 0..<d { totalExact[j] += sqExact[r][j] } } }
            for r in 0..<n {
                let ignoring = (0..<d).map { (total[$0] - sq[r][$0]) / Double(max(n - 1, 1)) }
                let g = e.diagnostics[r]
                diagRows.append(DiagnosticsRow(model: e.name, seed: e.seedIndex, image: r, predictedClampedSum: g.predictedClampedSum, predictedTrace: g.predictedTrace,
                                               squaredError: g.squaredError, lambda1: g.lambda1, lambda2: g.lambda2, noiseCosine: g.noiseCosine,
                                               errorAlongTop: g.errorAlongTop, spearman: g.spearman,
                                               spearmanImageIgnoring: RankCorrelation.spearman(ignoring, sq[r]),
                                               exactVarianceSum: e.exactVariance.map { $0[r].reduce(0, +) },
                                               spearmanExact: e.exactVariance.map { RankCorrelation.spearman($0[r], sqExact![r]) },
                                               spearmanExactImageIgnoring: sqExact.map { sx in RankCorrelation.spearman((0..<d).map { (totalExact[$0] - sx[r][$0]) / Double(max(n - 1, 1)) }, sx[r]) }))
            }
            for b in CalibrationCurve.bins(predicted: e.variance.flatMap { $0 }, realised: sq.flatMap { $0 }, bins: c.calibrationBins) {
                decileRows.append(DecileRow(model: e.name, seed: e.seedIndex, bin: b.bin, pairs: b.count, meanPredicted: b.meanPredicted, meanRealised: b.meanRealised))
            }
        }
        try run.writeRows(calRows, to: "calibration.csv")
        try run.writeRows(diagRows, to: "diagnostics.csv")
        try run.writeRows(decileRows, to: "calibration-deciles.csv")
        try run.writeRows(curveRows, to: "learning-curve.csv")
        // Structure: per image and eigen rank, the stroke share, the noise alignment and both nulls.
        var structRows: [StructureRow] = [], eigRows: [EigenvalueRow] = []
        for e in evaluations {
            for r in e.shares.indices {
                for k in e.shares[r].indices {
                    structRows.append(StructureRow(model: e.name, seed: e.seedIndex, image: r, eigenRank: k + 1, strokeShare: e.shares[r][k],
                                                   noiseCosine: e.noiseCosines[r][k], noiseDirection: e.noiseCosines[r][k] > c.noiseCosineThreshold,
                                                   randomDirectionShare: e.randomShares[r], weightedNullShare: e.weightedShares[r], maskFraction: e.maskFraction[r]))
                    eigRows.append(EigenvalueRow(model: e.name, seed: e.seedIndex, image: r, eigenRank: k + 1, eigenvalue: e.eigenvalues[r][k]))
                }
            }
        }
        try run.writeRows(structRows, to: "structure.csv")
        try run.writeRows(eigRows, to: "eigenvalues.csv")
        try run.writeRows(zip(arms, summaries).flatMap { a, s in
            LossRow.rows(s.lossTrace, every: c.checkpointEvery, steps: c.steps, model: LossModel(model: a.model, seed: a.seedIndex))
        }, to: "loss.csv")

        // Grids for the first images of seed 0.
        for e in evaluations where e.seedIndex == 0 {
            let (h, w) = e.exactVariance == nil ? (test.height, test.width) : (mixtureTrain!.height, mixtureTrain!.width)
            let g = min(c.gridImages, e.clean.count)
            let rows = GridAxis(name: "held-out image", labels: (0..<g).map(String.init))
            let d = h * w
            func panels(_ columns: [(Int) -> [Double]]) -> Tensor<Double> {
                Tensor(shape: [g * columns.count, d], scalars: (0..<g).flatMap { r in columns.flatMap { $0(r) } })
            }
            let source = e.exactVariance == nil ? "\(c.dataset.rawValue) test images" : "draws of the \(c.mixtureDataset.rawValue) mixture"
            try run.writeLabelledGrid(panels([{ e.noisy[$0] }, { e.clean[$0] }, { e.mean[$0] }]),
                                      grid: LabelledImageGrid(rows: rows, columns: GridAxis(name: "panel", labels: ["noisy x̃", "clean x", "mean m = x̃ + σ²s̃₁"]),
                                                              panelHeight: h, panelWidth: w,
                                                              title: "\(e.name), seed 0: \(source), σ = \(c.sigma); values clipped to [0, 1]"),
                                      name: "\(e.name)-denoising")
            var varianceColumns: [(Int) -> [Double]] = [{ e.variance[$0] }, { r in zip(e.clean[r], e.mean[r]).map { ($0 - $1) * ($0 - $1) } }]
            var varianceLabels = ["predicted variance diag(σ⁴s̃₂ + σ²I)", "squared error (x − m)²"]
            if let exact = e.exactVariance { varianceColumns.append({ exact[$0] }); varianceLabels.append("exact posterior variance") }
            try run.writeLabelledGrid(panels(varianceColumns),
                                      grid: LabelledImageGrid(rows: rows, columns: GridAxis(name: "panel", labels: varianceLabels), panelHeight: h, panelWidth: w,
                                                              valueRange: .clip(lower: 0, upper: c.sigma * c.sigma),
                                                              title: "\(e.name), seed 0: per-pixel variances on a 0 … σ² = \(c.sigma * c.sigma) scale (white = σ², no reduction from the prior)"),
                                      name: "\(e.name)-variance")
            let k = min(c.eigenImages, e.eigenvectors.first?.count ?? 0)
            var eigenPanels: [Double] = []
            for r in 0..<g {
                eigenPanels += e.mean[r].map { 2 * $0 - 1 }
                for j in 0..<k { eigenPanels += e.eigenvectors[r][j] }
            }
            var eigenLabels = ["mean (2m − 1)"]
            for j in 0..<k { eigenLabels.append("eigenvector \(j + 1)") }
            let eigenTitle = "\(e.name), seed 0: top eigenvectors of Σ, largest first; per-panel scale, grey = 0"
            let eigenGrid = LabelledImageGrid(rows: rows, columns: GridAxis(name: "panel", labels: eigenLabels), panelHeight: h, panelWidth: w,
                                              valueRange: .symmetric(perPanel: true), title: eigenTitle)
            try run.writeLabelledGrid(Tensor<Double>(shape: [g * (k + 1), d], scalars: eigenPanels), grid: eigenGrid,
                                      name: "\(e.name)-eigen")
        }
        try run.publishModels()
        timings["write outputs"] = Date().timeIntervalSince(t)
        try run.writeJSON(timings, to: "timings.json")
        struct Record: Encodable {
            var experiment: Config
            var seeds: Int
            var curveSteps: [Int]
            var models: [String: ImageSecondOrderTrainingConfig]
            var trainingResumedFromStep: [String: Int]
        }
        try run.writeConfig(Record(experiment: c, seeds: seeds, curveSteps: curveSteps,
                                   models: Dictionary(uniqueKeysWithValues: arms.map { ($0.storeName, $0.config) }),
                                   trainingResumedFromStep: Dictionary(uniqueKeysWithValues: zip(arms, summaries).map { ($0.storeName, $1.resumedFromStep) })))
        for (part, s) in timings.sorted(by: { $0.value > $1.value }) { log(String(format: "%@: %@ took %.1f s", Self.experimentID, part, s)) }
    }

    // MARK: - Rows

    static let modelDoc = "lowrank-A (low-rank r + diagonal s̃₂ head, loss DSM-VR + D2SM form A, the released code's), lowrank-B (the same head with D2SM form B, s̃₁ detached from it; issue 29) or full-mixture (full head, form A, on draws of the class-conditional digits mixture, exact Cov[x | x̃] known)"
    static let seedDoc = "seed index k (training seed = --seed + k; A and B of one k share held-out images and noise)"

    /// A row of calibration.csv: one (model, seed, comparison) of predicted against target variances.
    struct CalibrationRow: DocumentedRow {
        var model: String, seed: Int, comparison: String, pixelMeanPearson: Double, pearsonLow: Double, pearsonHigh: Double, pooledPearson: Double
        var meanTarget: Double, meanPredicted: Double, ratioPredictedToTarget: Double, ratioLow: Double, ratioHigh: Double, images: Int
        var negativeVariancesClamped: Int, negativeEigenvalues: Int, relativeFrobeniusErrorVsExact: Double?
        enum CodingKeys: String, CodingKey {
            case model, seed, comparison, pixelMeanPearson = "pixel_mean_pearson", pearsonLow = "pearson_low", pearsonHigh = "pearson_high"
            case pooledPearson = "pooled_pearson", meanTarget = "mean_target", meanPredicted = "mean_predicted"
            case ratioPredictedToTarget = "ratio_predicted_to_target", ratioLow = "ratio_low", ratioHigh = "ratio_high", images
            case negativeVariancesClamped = "negative_variances_clamped", negativeEigenvalues = "negative_eigenvalues"
            case relativeFrobeniusErrorVsExact = "relative_frobenius_error_vs_exact"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("comparison", "text", "target against predicted: squared error (x − m)² vs predicted variance diag(σ⁴s̃₂ + σ²I); exact posterior variance vs predicted (mixture only); squared error of the exact mean vs exact variance (reference, not a check)"),
            .init("pixel_mean_pearson", "1", "Pearson r across pixels between the per-pixel means over held-out images of the target and of the predicted value (the pre-audit HO-C5 sub-check, information only since issue 29: a map that ignores the image scores high)"),
            .init("pearson_low", "1", "lower end of the percentile-bootstrap 95 % interval of pixel_mean_pearson (images resampled, bootstrapResamples times)"),
            .init("pearson_high", "1", "upper end of that interval"),
            .init("pooled_pearson", "1", "Pearson r over all (image, pixel) pairs"),
            .init("mean_target", "pixels² ([0,1] scale)", "mean of the target over images and pixels"),
            .init("mean_predicted", "pixels² ([0,1] scale)", "mean of the predicted variance (negative entries clamped to 0)"),
            .init("ratio_predicted_to_target", "1", "mean_predicted / mean_target"),
            .init("ratio_low", "1", "lower end of the percentile-bootstrap 95 % interval of the ratio (images resampled)"),
            .init("ratio_high", "1", "upper end of that interval"),
            .init("images", "count", "held-out images (n)"),
            .init("negative_variances_clamped", "count", "predicted per-pixel variances below 0, clamped to 0, over all images (per model and seed; repeated on each comparison row)"),
            .init("negative_eigenvalues", "count", "negative eigenvalues of the predicted Σ (all D eigenpairs, LAPACK dsyevd) summed over images (per model and seed; repeated on each comparison row)"),
            .init("relative_frobenius_error_vs_exact", "1", "mean over images of ‖Σ̂ − Σ‖_F / ‖Σ‖_F against the exact Cov[x | x̃]; empty for the low-rank models (no exact covariance)"),
        ]
    }

    /// A row of diagnostics.csv (issue 29): one held-out image of one model and seed.
    struct DiagnosticsRow: DocumentedRow {
        var model: String, seed: Int, image: Int, predictedClampedSum: Double, predictedTrace: Double, squaredError: Double
        var lambda1: Double, lambda2: Double, noiseCosine: Double, errorAlongTop: Double, spearman: Double, spearmanImageIgnoring: Double
        var exactVarianceSum: Double?
        var spearmanExact: Double?, spearmanExactImageIgnoring: Double?
        enum CodingKeys: String, CodingKey {
            case model, seed, image, predictedClampedSum = "predicted_clamped_sum", predictedTrace = "predicted_trace", squaredError = "squared_error"
            case lambda1 = "lambda1", lambda2 = "lambda2", noiseCosine = "noise_cosine", errorAlongTop = "error_along_top", spearman
            case spearmanImageIgnoring = "spearman_image_ignoring", exactVarianceSum = "exact_variance_sum"
            case spearmanExact = "spearman_exact", spearmanExactImageIgnoring = "spearman_exact_image_ignoring"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("predicted_clamped_sum", "pixels² ([0,1] scale)", "Σ_j max(Σ_jj, 0): the clamped predicted variance map summed over pixels (numerator of the claim's ratio)"),
            .init("predicted_trace", "pixels² ([0,1] scale)", "tr Σ = Σ_j Σ_jj without clamping (numerator of the unclamped ratio)"),
            .init("squared_error", "pixels² ([0,1] scale)", "‖x − m‖², the realised squared error of the mean m = x̃ + σ²s̃₁ (denominator of both ratios)"),
            .init("lambda1", "pixels² ([0,1] scale)", "largest eigenvalue λ₁ of Σ = σ⁴s̃₂ + σ²I (LAPACK dsyevd)"),
            .init("lambda2", "pixels² ([0,1] scale)", "second largest eigenvalue λ₂ of Σ"),
            .init("noise_cosine", "1", "|cos| between λ₁'s eigenvector u₁ and the noise direction x̃ − m"),
            .init("error_along_top", "pixels² ([0,1] scale)", "(u₁ᵀ(x − m))², the realised squared error along u₁; the complement ratio is Σ(predicted_trace − lambda1) / Σ(squared_error − error_along_top)"),
            .init("spearman", "1", "Spearman rank correlation across the image's pixels between the clamped predicted variance and the realised (x − m)² (a constant map scores 0)"),
            .init("spearman_image_ignoring", "1", "the same rank correlation for a map that ignores the image: the per-pixel mean of (x − m)² over the other held-out images of this model and seed (leave one out)"),
            .init("exact_variance_sum", "pixels² ([0,1] scale)", "Σ_j of the exact posterior variance (full-mixture only; empty otherwise)"),
            .init("spearman_exact", "1", "reference (full-mixture only): Spearman ρ across pixels between the exact posterior variance and the squared error of the exact mean, what a perfect model would score"),
            .init("spearman_exact_image_ignoring", "1", "reference (full-mixture only): the same for the image-ignoring map of the exact mean's squared errors (leave one out)"),
        ]
    }

    /// A row of calibration-deciles.csv (issue 29): one predicted-variance decile of one model and seed.
    struct DecileRow: DocumentedRow {
        var model: String, seed: Int, bin: Int, pairs: Int, meanPredicted: Double, meanRealised: Double
        enum CodingKeys: String, CodingKey { case model, seed, bin, pairs, meanPredicted = "mean_predicted", meanRealised = "mean_realised" }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("bin", "index", "decile 1 … calibrationBins of the clamped predicted variance over all (image, pixel) pairs, 1 = smallest"),
            .init("pairs", "count", "(image, pixel) pairs in the bin (equal counts, the last bin takes the remainder)"),
            .init("mean_predicted", "pixels² ([0,1] scale)", "mean clamped predicted variance in the bin"),
            .init("mean_realised", "pixels² ([0,1] scale)", "mean realised (x − m)² in the bin (calibrated: equal to mean_predicted)"),
        ]
    }

    /// A row of learning-curve.csv (issue 29): the ratio at one training step of one model and seed.
    struct CurveRow: DocumentedRow {
        var model: String, seed: Int, step: Int, ratioClamped: Double, ratioUnclamped: Double, images: Int
        enum CodingKeys: String, CodingKey { case model, seed, step, ratioClamped = "ratio_clamped", ratioUnclamped = "ratio_unclamped", images }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("step", "count", "training step of the snapshot (k·steps/curvePoints rounded down to a checkpoint, and the last step); the EMA weights at that step"),
            .init("ratio_clamped", "1", "E[clamped predicted variance]/E[(x − m)²] on the held-out pairs (the claim's ratio) at that step"),
            .init("ratio_unclamped", "1", "E[diag Σ]/E[(x − m)²] without clamping at that step"),
            .init("images", "count", "held-out images"),
        ]
    }

    /// A row of structure.csv: one eigenvector of one held-out image's Σ.
    struct StructureRow: DocumentedRow {
        var model: String, seed: Int, image: Int, eigenRank: Int, strokeShare: Double, noiseCosine: Double, noiseDirection: Bool
        var randomDirectionShare: Double, weightedNullShare: Double, maskFraction: Double
        enum CodingKeys: String, CodingKey {
            case model, seed, image, eigenRank = "eigen_rank", strokeShare = "stroke_share", noiseCosine = "noise_cosine", noiseDirection = "noise_direction"
            case randomDirectionShare = "random_direction_share", weightedNullShare = "weighted_null_share", maskFraction = "mask_fraction"
        }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("eigen_rank", "index", "rank k of the eigenvector of Σ = σ⁴s̃₂ + σ²I, 1 = largest eigenvalue"),
            .init("stroke_share", "fraction", "share of the unit eigenvector's energy (squared entries) on stroke pixels, where the clean image or the mean exceeds strokeThreshold"),
            .init("noise_cosine", "1", "|cos| between this eigenvector and the noise direction x̃ − m"),
            .init("noise_direction", "bool", "noise_cosine > noiseCosineThreshold: the eigenvector is the noise direction, reported apart and left out of HO-C6's test (issue 29)"),
            .init("random_direction_share", "fraction", "the same share averaged over randomDirections isotropic Gaussian directions for this image (the pre-audit null; repeated for every rank)"),
            .init("weighted_null_share", "fraction", "the same share averaged over randomDirections Gaussian directions with per-pixel SD ∝ √(clamped predicted variance), normalised (issue 29's null that knows the variance map; repeated for every rank)"),
            .init("mask_fraction", "fraction", "share of the image's pixels that are stroke pixels (the isotropic null's expectation)"),
        ]
    }

    /// A row of eigenvalues.csv: one eigenvalue of one held-out image's Σ.
    struct EigenvalueRow: DocumentedRow {
        var model: String, seed: Int, image: Int, eigenRank: Int, eigenvalue: Double
        enum CodingKeys: String, CodingKey { case model, seed, image, eigenRank = "eigen_rank", eigenvalue }
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
            .init("image", "index", "held-out image index"),
            .init("eigen_rank", "index", "rank k, 1 = largest"),
            .init("eigenvalue", "pixels² ([0,1] scale)", "the k-th largest eigenvalue of Σ = σ⁴s̃₂ + σ²I (LAPACK dsyevd)"),
        ]
    }

    /// loss.csv's model columns.
    struct LossModel: LossTraceModel {
        var model: String, seed: Int
        static let columns: [ColumnDoc] = [
            .init("model", "text", HOE4DenoisingUncertainty.modelDoc),
            .init("seed", "index", HOE4DenoisingUncertainty.seedDoc),
        ]
        static let lossDescription = "mean joint training loss σ⁴·(firstOrderWeight·DSM-VR/σ² + D2SM, form A or B) over the interval's minibatches"
    }
    typealias LossRow = LossTraceRow<LossModel>

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("calibration.csv", CalibrationRow.self, "Calibration of the predicted posterior variance per model, seed and comparison, pre-audit statistics (tables/calibration)."),
        CSVFileDoc("diagnostics.csv", DiagnosticsRow.self, "Per held-out image: predicted against realised variance in total, along the top eigenvector and on its complement; rank correlations (tables/uncertainty, HO-C5; issue 29)."),
        CSVFileDoc("calibration-deciles.csv", DecileRow.self, "Calibration curve by predicted-variance decile (figures/calibration_deciles; issue 29)."),
        CSVFileDoc("learning-curve.csv", CurveRow.self, "The variance ratio against training steps, and the stability rule's input (figures/learning_curve, tables/learning_curve; issue 29)."),
        CSVFileDoc("structure.csv", StructureRow.self, "Stroke localisation of the top eigenvectors of Σ per held-out image, their noise alignment and both nulls (tables/structure, HO-C6)."),
        CSVFileDoc("eigenvalues.csv", EigenvalueRow.self, "The top eigenvalues of Σ per held-out image (for the eigen-image grids)."),
        CSVFileDoc("loss.csv", LossRow.self, "Training loss of each model and seed, averaged per interval."),
    ]

    /// The models present in `rows`, in order of first appearance.
    static func models(_ names: [String]) -> [String] { names.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } } }

    func render(in run: RunDirectory) throws {
        let c = config
        func f3(_ v: Double) -> String { Format.significant(v, 3) }
        func ci(_ v: Double, _ lo: Double, _ hi: Double) -> String { "\(f3(v)) [\(f3(lo)), \(f3(hi))]" }
        func ci(_ e: Estimate) -> String { ci(e.mean, e.low, e.high) }
        let cal = try run.readRows(CalibrationRow.self, from: "calibration.csv")
        let calTable = cal.map { r in
            [r.model, "\(r.seed)", r.comparison, ci(r.pixelMeanPearson, r.pearsonLow, r.pearsonHigh), f3(r.pooledPearson), f3(r.meanTarget),
             f3(r.meanPredicted), ci(r.ratioPredictedToTarget, r.ratioLow, r.ratioHigh), "\(r.images)", "\(r.negativeVariancesClamped)",
             "\(r.negativeEigenvalues)", r.relativeFrobeniusErrorVsExact.map { f3($0) } ?? "–"]
        }
        let calHeader = ["model", "seed", "comparison", "Pearson r (per-pixel means)", "pooled r", "E[target]", "E[predicted]", "ratio predicted/target",
                         "images", "clamped variances", "negative eigenvalues", "rel. Frobenius error vs exact Σ"]
        try run.writeTable(Table(header: calHeader, rows: calTable,
                                 caption: "HO-E4 calibration, pre-audit statistics (information since issue 29), σ = \(c.sigma), per model and seed: Pearson r across pixels between per-pixel means over held-out images of the target ((x − m)² or the exact posterior variance) and of the predicted variance diag(σ⁴s̃₂ + σ²I); pooled r over all (image, pixel) pairs; means and their ratio; percentile-bootstrap 95% intervals over images (\(c.bootstrapResamples) resamples; the r intervals sit low, since a resample repeats images). Negative predicted variances are clamped to 0 and counted.",
                                 label: "tab:ho-e4-calibration"), name: "calibration")

        // HO-C5 (issue 29): per model and seed, and pooled over seeds (two-level bootstrap over
        // seeds and images), the clamped, unclamped and complement ratios, λ₁, its alignment
        // with x̃ − m, and the rank correlations.
        let diag = try run.readRows(DiagnosticsRow.self, from: "diagnostics.csv")
        let curve = try run.readRows(CurveRow.self, from: "learning-curve.csv")
        let diagModels = Self.models(diag.map(\.model))
        let seedList = Set(diag.map(\.seed)).sorted()
        let seedCount = seedList.count
        func groups(_ model: String, _ seeds: [Int]) -> [[DiagnosticsRow]] { seeds.map { s in diag.filter { $0.model == model && $0.seed == s } }.filter { !$0.isEmpty } }
        func ratio(_ gs: [[DiagnosticsRow]], _ a: (DiagnosticsRow) -> Double, _ b: (DiagnosticsRow) -> Double, seed: UInt64) -> Estimate {
            Stats.pairedRatioBootstrapCI(gs.map { g in (a: g.map(a), b: g.map(b)) }, resamples: c.bootstrapResamples, seed: seed)
        }
        func mean(_ gs: [[DiagnosticsRow]], _ v: (DiagnosticsRow) -> Double, seed: UInt64) -> Estimate {
            Stats.twoLevelMeanBootstrapCI(gs.map { $0.map(v) }, resamples: c.bootstrapResamples, seed: seed)
        }
        struct C5 { var clamped, unclamped, complement, spearman, spearmanGain: Estimate; var exact: Estimate?; var lambda1, lambda2, cosine, aligned: Double }
        func c5(_ gs: [[DiagnosticsRow]], seed: UInt64) -> C5 {
            let all = gs.flatMap { $0 }
            let hasExact = all.allSatisfy { $0.exactVarianceSum != nil }
            return C5(clamped: ratio(gs, \.predictedClampedSum, \.squaredError, seed: seed),
                      unclamped: ratio(gs, \.predictedTrace, \.squaredError, seed: seed &+ 1),
                      complement: ratio(gs, { $0.predictedTrace - $0.lambda1 }, { $0.squaredError - $0.errorAlongTop }, seed: seed &+ 2),
                      spearman: mean(gs, \.spearman, seed: seed &+ 3), spearmanGain: mean(gs, { $0.spearman - $0.spearmanImageIgnoring }, seed: seed &+ 4),
                      exact: hasExact ? ratio(gs, \.predictedClampedSum, { $0.exactVarianceSum! }, seed: seed &+ 5) : nil,
                      lambda1: Stats.mean(all.map(\.lambda1)), lambda2: Stats.mean(all.map(\.lambda2)), cosine: Stats.mean(all.map(\.noiseCosine)),
                      aligned: Double(all.filter { $0.noiseCosine > c.noiseCosineThreshold }.count) / Double(all.count))
        }
        // The learning-curve rule, per model and seed.
        var stability: [String: [Int: (stable: Bool, change: Double)]] = [:]
        var curveTable: [[String]] = []
        for m in Self.models(curve.map(\.model)) {
            for s in Set(curve.filter { $0.model == m }.map(\.seed)).sorted() {
                let pts = curve.filter { $0.model == m && $0.seed == s }.sorted { $0.step < $1.step }
                let r = pts.map(\.ratioClamped)
                let stable = LearningCurveRule.isStable(r, tolerance: c.stabilityTolerance)
                stability[m, default: [:]][s] = (stable, LearningCurveRule.lastChange(r))
                curveTable.append([m, "\(s)", pts.map { "\($0.step): \(f3($0.ratioClamped))" }.joined(separator: ", "), f3(LearningCurveRule.lastChange(r)), stable ? "yes" : "no"])
            }
        }
        try run.writeTable(Table(header: ["model", "seed", "step: ratio E[clamped]/E[(x − m)²]", "last relative change", "stable"], rows: curveTable,
                                 caption: "HO-E4 learning curve (issue 29): the claim's ratio at each snapshot (EMA weights) on the held-out pairs. Rule fixed before the claim is read (threshold ours): stable when the ratio changed by less than \(Format.significant(c.stabilityTolerance * 100, 3)) % between the last two points.",
                                 label: "tab:ho-e4-learning-curve"), name: "learning_curve")
        let curveModels = Self.models(curve.map(\.model))
        try run.writeFigure(Figure(name: "learning_curve", panels: curveModels.map { m in
            Panel(title: "\(m): E[predicted]/E[(x − m)²] against training steps", xLabel: "training step", yLabel: "ratio", key: "top right",
                  series: Set(curve.filter { $0.model == m }.map(\.seed)).sorted().flatMap { s -> [Series] in
                      let pts = curve.filter { $0.model == m && $0.seed == s }.sorted { $0.step < $1.step }
                      return [Series(x: pts.map { Double($0.step) }, y: pts.map(\.ratioClamped), title: "seed \(s), clamped", style: .linespoints, color: s),
                              Series(x: pts.map { Double($0.step) }, y: pts.map(\.ratioUnclamped), title: "seed \(s), unclamped", style: .linespoints, color: s, dashed: true)]
                  } + [Series(x: [Double(curve.map(\.step).min() ?? 0), Double(curve.map(\.step).max() ?? 1)], y: [1, 1], title: "calibrated", style: .lines, color: 7, dashed: true)])
        }, title: "HO-E4: variance ratio during training (issue 29)"))
        let deciles = try run.readRows(DecileRow.self, from: "calibration-deciles.csv")
        let decileModels = Self.models(deciles.map(\.model))
        try run.writeFigure(Figure(name: "calibration_deciles", panels: decileModels.map { m in
            let rows = deciles.filter { $0.model == m }
            let hi = max(rows.map(\.meanPredicted).max() ?? 1, rows.map(\.meanRealised).max() ?? 1)
            return Panel(title: "\(m): realised against predicted variance by decile", xLabel: "mean predicted variance", yLabel: "mean realised (x − m)²", key: "top left",
                         series: Set(rows.map(\.seed)).sorted().map { s in
                             let pts = rows.filter { $0.seed == s }.sorted { $0.bin < $1.bin }
                             return Series(x: pts.map(\.meanPredicted), y: pts.map(\.meanRealised), title: "seed \(s)", style: .linespoints, color: s)
                         } + [Series(x: [0, hi], y: [0, hi], title: "calibrated", style: .lines, color: 7, dashed: true)])
        }, title: "HO-E4: calibration by predicted-variance decile (issue 29)"))

        var c5Table: [[String]] = []
        var pooled: [String: C5] = [:]
        for (mi, m) in diagModels.enumerated() {
            for s in seedList {
                let gs = groups(m, [s])
                guard !gs.isEmpty else { continue }
                let r = c5(gs, seed: options.seed &+ UInt64(100 * mi + s))
                let st = stability[m]?[s]
                c5Table.append([m, "\(s)", ci(r.clamped), ci(r.unclamped), ci(r.complement), f3(r.lambda1), f3(r.lambda2), f3(r.cosine), f3(r.aligned),
                                ci(r.spearman), ci(r.spearmanGain), r.exact.map(ci) ?? "–", st.map { $0.stable ? "yes" : "no" } ?? "–"])
            }
            let r = c5(groups(m, seedList), seed: options.seed &+ UInt64(100 * mi + 99))
            pooled[m] = r
            c5Table.append([m, "all (\(seedCount))", ci(r.clamped), ci(r.unclamped), ci(r.complement), f3(r.lambda1), f3(r.lambda2), f3(r.cosine), f3(r.aligned),
                            ci(r.spearman), ci(r.spearmanGain), r.exact.map(ci) ?? "–", (stability[m]?.values.allSatisfy(\.stable) ?? false) ? "yes" : "no"])
        }
        try run.writeTable(Table(header: ["model", "seed", "ratio (clamped)", "ratio (unclamped)", "ratio on the complement of u₁", "mean λ₁", "mean λ₂",
                                          "mean |cos(u₁, x̃ − m)|", "share |cos| > \(c.noiseCosineThreshold)", "mean Spearman ρ", "ρ − ρ(image-ignoring map)",
                                          "ratio predicted/exact", "curve stable"], rows: c5Table,
                                 caption: "HO-E4 uncertainty (HO-C5, issue 29), σ = \(c.sigma): ratios E[predicted]/E[realised] with the predicted variance clamped at 0 (the claim's), unclamped (tr Σ), and on the orthogonal complement of the top eigenvector u₁ of Σ (tr Σ − λ₁ against ‖x − m‖² − (u₁ᵀ(x − m))²); λ₁, λ₂ and u₁'s alignment with the noise direction x̃ − m; per-image Spearman ρ between the predicted variance map and (x − m)² (a constant map scores 0), and its gain over a map that ignores the image (the leave-one-out per-pixel mean of (x − m)²). Per seed: percentile-bootstrap 95% intervals over images; 'all': two-level bootstrap over seeds and images (\(c.bootstrapResamples) resamples).",
                                 label: "tab:ho-e4-uncertainty"), name: "uncertainty")

        // HO-C6 (issue 29): per image, the mean stroke share of the top eigenvectors that are not
        // the noise direction, against the variance-weighted null; the noise direction apart.
        let st = try run.readRows(StructureRow.self, from: "structure.csv")
        var structTable: [[String]] = []
        var c6: [String: (test: Estimate, old: Estimate, noise: Double, noiseShare: Double, images: Int)] = [:]
        let structModels = Self.models(st.map(\.model))
        for (mi, m) in structModels.enumerated() {
            let rowsM = st.filter { $0.model == m }
            for k in Set(rowsM.map(\.eigenRank)).sorted() {
                let rows = rowsM.filter { $0.eigenRank == k }
                let kept = rows.filter { !$0.noiseDirection }
                structTable.append([m, "\(k)", f3(Stats.mean(rows.map(\.strokeShare))), f3(Stats.mean(rows.map(\.randomDirectionShare))),
                                    f3(Stats.mean(rows.map(\.weightedNullShare))), f3(Stats.mean(rows.map(\.noiseCosine))),
                                    "\(rows.count - kept.count)/\(rows.count)", kept.isEmpty ? "–" : f3(Stats.mean(kept.map { $0.strokeShare - $0.weightedNullShare }))])
            }
            var test: [[Double]] = [], old: [[Double]] = []
            for s in Set(rowsM.map(\.seed)).sorted() {
                var t: [Double] = [], o: [Double] = []
                for im in Set(rowsM.filter { $0.seed == s }.map(\.image)).sorted() {
                    let rows = rowsM.filter { $0.seed == s && $0.image == im }
                    o.append(Stats.mean(rows.map(\.strokeShare)) - rows[0].randomDirectionShare)
                    let kept = rows.filter { !$0.noiseDirection }
                    if !kept.isEmpty { t.append(Stats.mean(kept.map(\.strokeShare)) - rows[0].weightedNullShare) }
                }
                if !t.isEmpty { test.append(t) }
                old.append(o)
            }
            let noise = rowsM.filter(\.noiseDirection)
            let base = options.seed &+ 7_000 &+ UInt64(mi * 10)
            c6[m] = (test.isEmpty ? Estimate(mean: .nan, low: .nan, high: .nan, n: 0) : Stats.twoLevelMeanBootstrapCI(test, resamples: c.bootstrapResamples, seed: base),
                     Stats.twoLevelMeanBootstrapCI(old, resamples: c.bootstrapResamples, seed: base &+ 1),
                     Double(noise.count) / Double(Set(rowsM.map { "\($0.seed)/\($0.image)" }).count), Stats.mean(noise.map(\.strokeShare)),
                     test.map(\.count).reduce(0, +))
        }
        try run.writeTable(Table(header: ["model", "eigenvector", "stroke share", "isotropic-null share", "variance-weighted-null share", "mean |cos(u, x̃ − m)|",
                                          "noise directions", "share − weighted null (non-noise)"],
                                 rows: structTable,
                                 caption: "HO-E4 structure (HO-C6), all seeds: share of each top eigenvector's energy on pixels where the clean image or the denoised mean exceeds \(c.strokeThreshold), against \(c.randomDirections) isotropic random directions per image (the pre-audit null; its expectation is the stroke-pixel fraction) and \(c.randomDirections) random directions with per-pixel SD ∝ √(predicted variance) (issue 29's null, which knows where the variance is). Eigenvectors with |cos(u, x̃ − m)| > \(c.noiseCosineThreshold) are the noise direction, counted apart and left out of the last column.",
                                 label: "tab:ho-e4-structure"), name: "structure")

        // Claims.
        let command = "make \(Self.experimentID) SCALE=\(options.scale.rawValue)"
        let counts = "seeds (two-level bootstrap over seeds and images)"
        let ratioProv = ThresholdProvenance.specRecon("spec §5 C5: E[(x − m)²] ≈ E[predicted variance] within 20%")
        let rhoProv = ThresholdProvenance.ours("issue 29: replaces the spec's Pearson r > 0.5 of per-pixel means (spec §5 C5 [RECON]), which a map that ignores the image passes (0.93 in the audit); a constant map has per-image Spearman ρ = 0, so ρ > 0 is the least a variance map must show")
        let gainProv = ThresholdProvenance.ours("issue 29: the variance map must rank an image's pixels better than a map that ignores the image (the leave-one-out per-pixel mean of (x − m)² over the other held-out images), i.e. a positive paired gain")
        var checks5: [ClaimCheck] = []
        var c5Notes: [String] = []
        for m in ["lowrank-A", "full-mixture"] {
            guard let r = pooled[m] else { continue }
            checks5.append(ClaimCheck(statistic: "\(m): ratio E[predicted variance, clamped at 0]/E[(x − m)²]", estimate: r.clamped, direction: .within, threshold: 1, tolerance: 0.2,
                                      provenance: ratioProv, power: CheckPower.ofInterval(r.clamped, counts: counts)))
            checks5.append(ClaimCheck(statistic: "\(m): mean per-image Spearman ρ of predicted variance against (x − m)² across pixels", estimate: r.spearman, direction: .greaterThan, threshold: 0,
                                      provenance: rhoProv, power: CheckPower.ofInterval(r.spearman, counts: counts)))
            checks5.append(ClaimCheck(statistic: "\(m): mean per-image ρ(predicted variance) − ρ(image-ignoring map), paired by image", estimate: r.spearmanGain, direction: .greaterThan, threshold: 0,
                                      provenance: gainProv, power: CheckPower.ofInterval(r.spearmanGain, counts: counts)))
            if let ex = r.exact {
                checks5.append(ClaimCheck(statistic: "\(m): ratio E[predicted variance, clamped]/E[exact posterior variance]", estimate: ex, direction: .within, threshold: 1, tolerance: 0.2,
                                          provenance: ratioProv, power: CheckPower.ofInterval(ex, counts: counts)))
            }
            let gsAll = groups(m, seedList)
            if gsAll.allSatisfy({ $0.allSatisfy { $0.spearmanExact != nil } }) {
                let rx = mean(gsAll, { $0.spearmanExact! }, seed: options.seed &+ 801)
                let gx = mean(gsAll, { $0.spearmanExact! - $0.spearmanExactImageIgnoring! }, seed: options.seed &+ 802)
                c5Notes.append("\(m) reference, the exact posterior (what a perfect model would score): Spearman ρ \(ci(rx)), gain over the image-ignoring map \(ci(gx)).")
            }
            let unstable = (stability[m] ?? [:]).filter { !$0.value.stable }.keys.sorted()
            c5Notes.append("\(m): unclamped ratio \(ci(r.unclamped)), ratio on the complement of the top eigenvector \(ci(r.complement)); mean λ₁ \(f3(r.lambda1)) against λ₂ \(f3(r.lambda2)); |cos(u₁, x̃ − m)| \(f3(r.cosine)) on average, above \(c.noiseCosineThreshold) (threshold ours, issue 29) in \(f3(100 * r.aligned)) % of images. " +
                           (unstable.isEmpty ? "The learning-curve rule (relative change < \(c.stabilityTolerance) between the last two curve points, \(c.curveSteps + [c.steps]) steps; threshold ours, fixed before the claim was read, issue 29) found the ratio stable for every seed." : "The ratio had NOT stabilised by the learning-curve rule (relative change < \(c.stabilityTolerance) between the last two curve points, threshold ours, fixed before the claim was read, issue 29) for seed(s) \(unstable.map(String.init).joined(separator: ", ")) (last relative change \(unstable.map { f3(stability[m]![$0]!.change) }.joined(separator: ", ")) ≥ \(c.stabilityTolerance)), so the verdict may change with more training."))
        }
        if let a = pooled["lowrank-A"], let b = pooled["lowrank-B"] {
            // Paired by seed: the ratio A − B per seed, two-level interval over seeds and images.
            let ga = groups("lowrank-A", seedList), gb = groups("lowrank-B", seedList)
            let paired = zip(ga, gb).map { pa, pb in zip(pa, pb).map { $0.predictedClampedSum / max($0.squaredError, 1e-300) - $1.predictedClampedSum / max($1.squaredError, 1e-300) } }
            let diff = Stats.twoLevelMeanBootstrapCI(paired, resamples: c.bootstrapResamples, seed: options.seed &+ 555)
            c5Notes.append("Form-B arm (information, not a check: the claim is about the released code's form A): lowrank-B ratio \(ci(b.clamped)) (clamped), \(ci(b.unclamped)) (unclamped), complement \(ci(b.complement)), λ₁ \(f3(b.lambda1)), |cos| \(f3(b.cosine)), Spearman gain \(ci(b.spearmanGain)); per-image ratio A − B, paired by seed and image, \(ci(diff)) (form A's clamped ratio \(f3(a.clamped.mean))).")
        }
        let setup = "σ = \(c.sigma), U-Net C = \(c.baseChannels), \(c.steps) steps of batch \(c.batchSize), Adam \(c.learningRate), EMA \(c.emaDecay)\(c.emaBiasCorrected == true ? " bias-corrected" : ""), loss σ⁴·(\(Format.significant(c.firstOrderWeight, 3))·DSM-VR/σ² + D2SM), \(seedCount) training seed(s); intervals by two-level bootstrap over seeds and held-out images (\(c.evalImages) per seed)."
        let auditC5 = "What changed after the audit (issue 29): before, HO-C5 read Pearson r > 0.5 between per-pixel means (a map that ignores the image scored 0.93) and the ratio within 20 %, one seed, form A only; the full-scale verdict was 'not supported' (Fashion-MNIST, C = 32, 6000 steps: r = 0.639 [0.575, 0.650], ratio 1.62 [1.54, 1.71]). Now: the Pearson check is information (tables/calibration); the rank checks replace it; the unclamped and complement ratios, λ₁ and its alignment with x̃ − m are reported; a form-B arm is paired by seed; a learning curve with a stability rule fixed in advance; seeds with intervals over seeds and images; bias-corrected EMA; the exact-covariance (digits mixture) model runs at both scales."
        let auditC6 = "What changed after the audit (issue 29): before, HO-C6 compared the top-\(c.eigenImages) stroke share with isotropic random directions and read 'supported' (full scale +0.0931 [0.0859, 0.100]); background pixels are confidently zero, so almost any direction that follows the variance passes. Now the null draws random directions with per-pixel SD ∝ √(predicted variance), and eigenvectors aligned with the noise direction x̃ − m (|cos| > \(c.noiseCosineThreshold), threshold ours) are left out and reported apart; the old statistic is kept as information."
        var checks6: [ClaimCheck] = []
        var c6Notes = ""
        if let r = c6["lowrank-A"] {
            checks6.append(ClaimCheck(statistic: "lowrank-A: stroke share of the top-\(c.eigenImages) eigenvectors that are not the noise direction − share of variance-weighted random directions (mean over held-out images)",
                                      estimate: r.test, direction: .greaterThan, threshold: 0,
                                      provenance: .ours("issue 29: structure beyond 'where the variance is' means more stroke energy than random directions drawn with the predicted variance map (per-pixel SD ∝ √variance), a positive paired difference; spec §5 C6 names the share (energy on pixels where clean or mean > \(c.strokeThreshold), the spec's mask) but no threshold"),
                                      power: CheckPower.ofInterval(r.test, counts: counts)))
            c6Notes = "lowrank-A: the pre-audit statistic (top-\(c.eigenImages) share − isotropic null) is \(ci(r.old)); noise-direction eigenvectors among the top \(c.eigenImages): \(f3(r.noise)) per image, with mean stroke share \(f3(r.noiseShare)); \(r.images) image-seed pairs in the test."
            for m in ["lowrank-B", "full-mixture"] { if let o = c6[m] { c6Notes += " \(m) (information): share − weighted null \(ci(o.test)), old statistic \(ci(o.old))." } }
        }
        try run.writeClaims([
            ClaimResult(claim: "HO-C5", scope: "The learned posterior variance diag(σ⁴s̃₂ + σ²I) of the released code's loss (form A) is calibrated on held-out pairs: means within 20 % (spec [RECON]), a per-image rank correlation with (x − m)² above that of a constant map (ρ > 0, ours) and above that of a map that ignores the image (ours); on the digits mixture also against the exact Cov[x | x̃].",
                        experiment: Self.experimentID, command: command, checks: checks5, seeds: seedCount,
                        notes: setup + " Dataset \(c.dataset.rawValue)" + (c.fullHeadOnMixture ? "; full head on the class-conditional \(c.mixtureDataset.rawValue) mixture. " : "; no mixture model. ") + c5Notes.joined(separator: " ") + " " + auditC5),
            ClaimResult(claim: "HO-C6", scope: "Top eigenvectors of the low-rank (form A) posterior covariance, the noise direction x̃ − m left out, carry structure beyond the variance map: more energy on stroke pixels (clean or mean > 0.1) than random directions weighted by the predicted per-pixel variance.",
                        experiment: Self.experimentID, command: command, checks: checks6, seeds: seedCount,
                        notes: setup + " Dataset \(c.dataset.rawValue) instead of MNIST (spec §6.4, data-sources note). " + c6Notes + " " + auditC6),
        ])
        print(Table(header: ["model", "seed", "clamped", "unclamped", "complement", "λ₁", "λ₂", "|cos|", "aligned", "ρ", "ρ gain", "exact", "stable"], rows: c5Table).markdown())
        print(Table(header: ["model", "k", "share", "iso null", "weighted null", "|cos|", "noise", "diff"], rows: structTable).markdown())
    }
}

extension HOE4DenoisingUncertainty.Config: DerivedSettings {
    var derivedSettings: [String: Double] {
        ["ema_initial_weight_share": emaInitialWeightShare(decay: emaDecay, steps: steps, biasCorrected: emaBiasCorrected)]
    }
}
