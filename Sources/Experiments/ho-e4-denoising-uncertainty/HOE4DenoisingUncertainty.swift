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
struct HOE4DenoisingUncertainty: TypedVerdicts {
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
        /// would need ≈ 9 h of unit time, over the 3 h.
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
}

extension HOE4DenoisingUncertainty.Config: DerivedSettings {
    var derivedSettings: [String: Double] {
        ["ema_initial_weight_share": emaInitialWeightShare(decay: emaDecay, steps: steps, biasCorrected: emaBiasCorrected)]
    }
}
