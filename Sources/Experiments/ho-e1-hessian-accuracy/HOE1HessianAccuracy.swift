/// HO-E1: accuracy of second-order scores, D2SM against autodiff (high-order spec §2, E1, §6.1;
/// claims HO-C2 and HO-C1).
///
/// Ground truth: Gaussian mixtures with exact s₁, s₂ of q_σ (ExperimentKit.SyntheticMixtures):
/// the 2-D anisotropic mixture, random mixtures in D ∈ {5, 10, 20, 50} (3 components, means of
/// scale 1.5, covariances AAᵀ/D + 0.3I) and the class-conditional 8×8-digits mixture (D = 64).
/// Per (data set, σ, seed); networks in Float32 by default (`--precision float64` for Float64),
/// data, ground truth and metrics in Float64:
/// * s̃₁: MLP D → h → h → D (Softplus; h = 128 for D ≤ 10, else 256) trained with DSM-VR;
/// * autodiff: s₂ ≈ ½(J + Jᵀ), J the input Jacobian of s̃₁ by D reverse-mode passes;
/// * D2SM arms: an s̃₂ network of the same trunk with a full head (D ≤ 50; issue 17: at D = 50 the
///   rank-8 + diagonal head cannot represent the target, best fit 0.45 relative error) or a
///   low-rank r = 8 + diagonal head (D = 64), trained for the same number of steps as s̃₁: form A and form B, each
///   plain and VR, with s̃₁ frozen; form A trained jointly with s̃₁ as the released code does
///   (no detaching, L = σ⁴(DSM-VR/σ² + D2SM-A));
/// * small-data arms: s̃₁ and s̃₂ (form A, frozen) trained on N ∈ {200, 1000} fixed samples;
/// * HO-C1 (issue 17): the identity itself, on the trained s̃₁ and the test pairs: σ⁴·(the
///   library's DSM loss) equals the least-squares regression loss of h = x̃ + σ²s̃₁, with equal
///   parameter gradients (`TweedieIdentity`). For information: the Tweedie denoiser's MSE against
///   the exact regression function E[x | x̃] = x̃ + σ²s₁(x̃) (the oracle gap, ≥ 1 for any imperfect
///   s̃₁, so it measures training quality, not the identity), and a network regressing x on x̃
///   directly with the same MLP and budget (it has to learn the identity map, so it is worse at
///   small σ).
/// Metrics on M fresh test points x̃ ~ q_σ (spec §2.2): relative Frobenius error
/// ‖ŝ₂ − s₂‖_F/‖s₂‖_F (mean over points), MSE of entries, σ⁴-scaled MSE, diagonal MSE, and the
/// first-order error ‖s̃₁ − s₁‖/‖s₁‖; errors against training steps on a subset. The error ratio
/// err_D2SM/err_autodiff has a two-level bootstrap interval (seeds, then test points).
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import ScoreKit
import TensorCore

@main
struct HOE1HessianAccuracy: Experiment {
    static let experimentID = "ho-e1-hessian-accuracy"
    static let seedDefaults = SeedDefaults(quick: 2, full: 3)
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HO-E1: second-order score accuracy, D2SM (forms A/B, ± VR, frozen/joint, small data) against the autodiff Jacobian of a DSM-trained s̃₁ (high-order spec E1; claims HO-C2, HO-C1).",
        discussion: seedDefaults.help)

    @OptionGroup var options: ExperimentOptions

    @Option(help: "Folder holding digits8x8.h5 (from make data).") var dataDir = "data"
    @Option(parsing: .upToNextOption, help: ScaleHelp.override("Override the data sets (anisotropic-2d, random-5, random-10, random-20, random-50, digits-64).", quick: Config.quick.datasets, full: Config.full.datasets)) var datasets: [String] = []
    @Option(name: .customLong("train-steps"), help: ScaleHelp.override("Override the training steps per network (the cap, where a plateau rule may stop earlier).", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(help: ScaleHelp.override("Override the number of test points.", quick: Config.quick.testPoints, full: Config.full.testPoints)) var testPoints: Int?
    @Option(help: "Network element type: float32 (default) or float64.") var precision: NetworkPrecision?

    struct Config: Codable {
        var datasets = ["anisotropic-2d", "random-5", "random-10", "random-20", "random-50", "digits-64"]
        var sigmas = [0.1, 0.3, 0.5]
        /// The σ grid for D > smallNetworkMaxDimension (the cost is in these cells; 2 cores).
        var largeDimensionSigmas = [0.1, 0.5]
        /// The direct-regression network of HO-C1 (information only) runs for D ≤ this.
        var regressionMaxDimension = 10
        /// An extra small σ run for D ≤ `smallSigmaMaxDimension` (where VR matters, spec §1.6).
        var smallSigma = 0.05
        var smallSigmaMaxDimension = 10
        var components = 3
        var hiddenSmall = 128
        var hiddenLarge = 256
        var smallNetworkMaxDimension = 10
        /// Full D² head up to this D (issue 17: 50, so random-50 is not lost by construction).
        var fullHeadMaxDimension = 50
        var rank = 8
        var learningRate = 1e-3
        var batchSize = 256
        /// The step cap with `plateau`, else the fixed step count.
        var steps = 12_000
        /// Issue 17 (HO-C2): every network trains until its held-out loss stops improving by 1 %
        /// over 4 evaluations 250 steps apart, at least the former fixed budget of 4000 steps and
        /// at most `steps`, so a network still improving at 4000 steps gets to converge. Stated
        /// before the rerun.
        var plateau: PlateauRule? = PlateauRule(every: 250, window: 4, relativeImprovement: 0.01, minimumSteps: 4_000, heldOutBatches: 4)
        var testPoints = 2_000
        var curvePoints = 250
        var checkpoints = 8
        /// Fixed-sample sizes of the small-data arms, run for D in `smallDataDimensions`.
        var smallData = [200, 1_000]
        var smallDataDimensions = [2, 10]
        /// The VR arms (3 evaluations per sample) run at every D; for D > smallNetworkMaxDimension
        /// only at σ ≤ this (VR matters at small σ, spec §1.6; HO-E3 found no effect at σ = 1),
        /// which keeps the full scale under an hour on 2 cores.
        var vrLargeDimensionMaxSigma = 0.1
        var digitsShrinkage = 0.05
        /// The arm whose ratio to autodiff decides HO-C2. Issue 17: the authors' own set-up, form A
        /// trained jointly with s̃₁ as the released code does (no detaching), decides — the claim is
        /// the paper's; the frozen, VR, form-B and small-data arms isolate parts of it and get
        /// their own verdicts in tables/arm_verdicts. Fixed before any run of the new set-up.
        var primaryArm = "D2SM-A-joint"
        /// The oracle gap's former tolerance (information only since issue 17).
        var c1Tolerance = 0.02
        /// HO-C1 identity checks (issue 17, ours): σ⁴·DSM / regression loss and the gradient
        /// coefficient within 1 ± this; Float32 round-off through the network is ≈ 1e-6.
        var identityTolerance: Double? = 1e-3
        /// Test pairs used for the identity measurement.
        var identityPairs: Int? = 256
        /// Element type of the networks ("float32", as the released PyTorch code, or "float64").
        /// Data, ground truth and metrics are Float64 either way.
        var precision = NetworkPrecision.float32

        static let full = Config()
        static let quick: Config = {
            var c = Config()
            c.datasets = ["anisotropic-2d", "random-10"]
            c.sigmas = [0.1, 0.5]
            c.steps = 600
            c.plateau = PlateauRule(every: 50, window: 3, relativeImprovement: 0.01, minimumSteps: 200, heldOutBatches: 2)
            c.testPoints = 300
            c.curvePoints = 100
            c.checkpoints = 4
            c.smallData = [200]
            c.smallDataDimensions = [10]
            c.largeDimensionSigmas = [0.3]
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if !datasets.isEmpty { c.datasets = datasets }
        if let v = steps { c.steps = v }
        if let v = testPoints { c.testPoints = v; c.curvePoints = min(c.curvePoints, v) }
        if let v = precision { c.precision = v }
        return c
    }

    static let knownDatasets = ["anisotropic-2d", "random-5", "random-10", "random-20", "random-50", "digits-64"]

    func validate() throws {
        if let bad = datasets.first(where: { !Self.knownDatasets.contains($0) }) {
            throw ValidationError("--datasets: unknown data set '\(bad)'; expected one of \(Self.knownDatasets.joined(separator: ", "))")
        }
        if let v = steps, v < 1 { throw ValidationError("--train-steps must be at least 1, got \(v)") }
        if let v = testPoints, v < 2 { throw ValidationError("--test-points must be at least 2, got \(v)") }
        if let v = steps { try Limits.count("--train-steps", v, maximum: Limits.maximumSteps, reason: "training steps per network") }
        if let v = testPoints {
            try Limits.memory("--test-points", v, bytesPerUnit: 64 * 64 * 8 * 8 * Double(max(options.threads, 1)),
                              estimate: "a D × D Hessian of 8-byte doubles (D ≤ 64) for the truth and each of about 7 arms, one cell per thread")
        }
    }

    // MARK: - Data sets

    static func mixture(_ name: String, _ c: Config, dataDir: String, seed: UInt64) throws -> GaussianMixture {
        switch name {
        case "anisotropic-2d": return SyntheticMixtures.anisotropic2D()
        case "digits-64":
            let digits = try ImageDataset.load(path: "\(dataDir)/digits8x8.h5", split: .train)
            return try SyntheticMixtures.classConditional(images: digits.images, labels: digits.labels, shrinkage: c.digitsShrinkage,
                                                          source: "\(dataDir)/digits8x8.h5")
        default:
            let d = Int(name.split(separator: "-").last!)!
            var rng = Xoshiro256(seed: seed, key: [1, UInt64(d)])
            return SyntheticMixtures.random(dimension: d, components: c.components, using: &rng)
        }
    }


    // MARK: - Metrics

    /// Per-point squared denoising errors ‖x̂ − x‖².
    static func denoisingErrors(_ estimate: Tensor<Double>, _ clean: Tensor<Double>) -> [Double] {
        let d = clean.columns
        return (0..<clean.rows).map { b in (0..<d).reduce(0.0) { $0 + pow(estimate.scalars[b * d + $1] - clean.scalars[b * d + $1], 2) } }
    }

    // MARK: - One cell

    struct ArmResult: Codable {
        var arm: String
        var errors: SecondOrderMetrics.PointErrors
        var firstOrderError: Double
        /// The autodiff arm this D2SM arm is compared with ("" for autodiff arms).
        var baseline: String
        /// Steps its network (the s̃₂ head, or s̃₁ for autodiff arms) was trained.
        var steps: Int = 0
    }

    struct CellResult: Codable {
        var dataset: String
        var dimension: Int
        var sigma: Double
        var seed: Int
        var arms: [ArmResult] = []
        var curves: [[CSVCell]] = []
        var denoising = Denoising()
        var identity: TweedieIdentity.Measurement?
    }

    /// Per-point squared denoising errors of the Tweedie denoiser, the regression network and E[x | x̃].
    struct Denoising: Codable {
        var dsm: [Double] = []
        var regression: [Double] = []
        var bayes: [Double] = []
    }

    struct Cell { var dataset: String; var sigma: Double; var seed: Int }

    static func runCell<S: TensorScalar>(_ c: Config, _ cell: Cell, mixture: GaussianMixture, base: UInt64, scalar: S.Type) -> CellResult {
        let d = mixture.dimension
        let sigma = cell.sigma
        let q = mixture.perturbed(sigma: sigma)
        let seedKey = UInt64(cell.seed), sigmaKey = UInt64(sigma * 1e6), dataKey = UInt64(c.datasets.firstIndex(of: cell.dataset) ?? 0) &+ UInt64(d) &* 100
        var testRNG = Xoshiro256(seed: base, key: [2, dataKey, sigmaKey, seedKey])
        let clean = mixture.sample(count: c.testPoints, using: &testRNG)
        var noisy = clean
        for i in 0..<noisy.count { noisy.scalars[i] += sigma * testRNG.nextNormal() }
        let s1True = q.scores(noisy), s2True = q.hessians(noisy)
        let curvePoints = Tensor<Double>(shape: [min(c.curvePoints, c.testPoints), d], scalars: Array(noisy.scalars[0..<(min(c.curvePoints, c.testPoints) * d)]))
        let hidden = d <= c.smallNetworkMaxDimension ? c.hiddenSmall : c.hiddenLarge
        let settings = TrainingSettings(hidden: [hidden, hidden], learningRate: c.learningRate, batchSize: c.batchSize, steps: c.steps, plateau: c.plateau)
        let training = SecondOrderTraining(sigma: sigma, dimension: d, settings: settings)
        let structure: SecondOrderStructure = d <= c.fullHeadMaxDimension ? .full : .lowRank(rank: c.rank)
        let every = max(1, c.steps / c.checkpoints)
        var result = CellResult(dataset: cell.dataset, dimension: d, sigma: sigma, seed: cell.seed)
        func curve(_ arm: String, _ step: Int, _ estimate: Tensor<Double>) {
            let e = SecondOrderMetrics.errors(estimate, s2True, rows: curvePoints.rows)
            result.curves.append([.text(cell.dataset), .integer(d), .number(sigma), .integer(cell.seed), .text(arm), .integer(step), .number(Stats.mean(e.relativeFrobenius))])
        }

        // s̃₁ by DSM-VR, with the autodiff error traced at checkpoints.
        var rng = Xoshiro256(seed: base, key: [3, dataKey, sigmaKey, seedKey])
        func trainFirst(_ source: CleanSource, arm: String, rng: inout Xoshiro256) -> (MLP<S>, Int) {
            let net = training.network(width: d, scalar: S.self, using: &rng)
            let trained = training.trainFirstOrder(net, source: source, varianceReduced: true, every: every, using: &rng) { step, n in
                curve(arm, step, SecondOrderMetrics.autodiffHessians(n, curvePoints))
            }
            return (net, trained)
        }
        let (s1Net, s1Steps) = trainFirst(.mixture(mixture), arm: "autodiff", rng: &rng)
        let s1Error = SecondOrderMetrics.firstOrderError(s1Net, noisy, s1True)
        result.arms.append(ArmResult(arm: "autodiff", errors: SecondOrderMetrics.errors(SecondOrderMetrics.autodiffHessians(s1Net, noisy), s2True), firstOrderError: s1Error, baseline: "", steps: s1Steps))

        // HO-C1: Tweedie denoiser against the exact Bayes denoiser (and, for small D, a direct
        // regression network of x on x̃).
        let s1Out = s1Net.forward(noisy.converted(to: S.self), retainForBackward: false)
        var tweedie = noisy, bayes = noisy
        for i in 0..<noisy.count {
            tweedie.scalars[i] += sigma * sigma * Double(s1Out.scalars[i])
            bayes.scalars[i] += sigma * sigma * s1True.scalars[i]
        }
        var regressionErrors = [Double](repeating: .nan, count: c.testPoints)
        if d <= c.regressionMaxDimension {
            let reg = training.network(width: d, scalar: S.self, using: &rng)
            training.trainRegression(reg, source: .mixture(mixture), using: &rng)
            let regOut = reg.forward(noisy.converted(to: S.self), retainForBackward: false)
            regressionErrors = denoisingErrors(Tensor(shape: regOut.shape, scalars: regOut.scalars.map { Double($0) }), clean)
        }
        result.denoising = Denoising(dsm: denoisingErrors(tweedie, clean), regression: regressionErrors, bayes: denoisingErrors(bayes, clean))
        // The identity σ⁴·DSM = regression loss of x̃ + σ²s̃₁ (values and gradients) on test pairs.
        let idRows = min(c.identityPairs ?? 256, c.testPoints)
        let idClean = Tensor<Double>(shape: [idRows, d], scalars: Array(clean.scalars[0..<(idRows * d)]))
        let idNoise = Tensor<Double>(shape: [idRows, d], scalars: (0..<(idRows * d)).map { (noisy.scalars[$0] - clean.scalars[$0]) / sigma })
        result.identity = TweedieIdentity.measure(s1Net, clean: idClean, noise: idNoise, sigma: sigma)

        // D2SM arms with s̃₁ frozen, and the code-faithful joint arm.
        let scale = pow(sigma, 4)
        var arms: [(name: String, form: SecondOrderForm, vr: Bool, mode: SecondOrderMode)] = [
            ("D2SM-A", .a, false, .frozen), ("D2SM-A-VR", .a, true, .frozen), ("D2SM-B", .b, false, .frozen), ("D2SM-B-VR", .b, true, .frozen),
            ("D2SM-A-joint", .a, false, .joint),
        ]
        if d > c.smallNetworkMaxDimension && sigma > c.vrLargeDimensionMaxSigma { arms.removeAll { $0.vr } }
        for arm in arms {
            let loss = SecondOrderDSM(dimension: d, sigma: sigma, structure: structure, form: arm.form, scale: scale)
            var armRNG = Xoshiro256(seed: base, key: [4, dataKey, sigmaKey, seedKey, UInt64(arms.firstIndex { $0.name == arm.name }!)])
            let head = training.network(width: structure.width(dimension: d), scalar: S.self, using: &armRNG)
            let first = arm.mode == .frozen ? s1Net : training.network(width: d, scalar: S.self, using: &armRNG)
            let trained = training.trainSecondOrder(head: head, first: first, loss: loss, mode: arm.mode, varianceReduced: arm.vr, source: .mixture(mixture),
                                                    every: every, using: &armRNG) { step, h in curve(arm.name, step, SecondOrderMetrics.headHessians(h, loss, curvePoints)) }
            result.arms.append(ArmResult(arm: arm.name, errors: SecondOrderMetrics.errors(SecondOrderMetrics.headHessians(head, loss, noisy), s2True),
                                         firstOrderError: SecondOrderMetrics.firstOrderError(first, noisy, s1True), baseline: "autodiff", steps: trained))
        }

        // Small-data arms: N fixed samples for both networks.
        if c.smallDataDimensions.contains(d) {
            for n in c.smallData {
                var smallRNG = Xoshiro256(seed: base, key: [5, dataKey, sigmaKey, seedKey, UInt64(n)])
                let points = mixture.sample(count: n, using: &smallRNG)
                let (net, netSteps) = trainFirst(.points(points), arm: "autodiff-N\(n)", rng: &smallRNG)
                result.arms.append(ArmResult(arm: "autodiff-N\(n)", errors: SecondOrderMetrics.errors(SecondOrderMetrics.autodiffHessians(net, noisy), s2True),
                                             firstOrderError: SecondOrderMetrics.firstOrderError(net, noisy, s1True), baseline: "", steps: netSteps))
                let loss = SecondOrderDSM(dimension: d, sigma: sigma, structure: structure, form: .a, scale: scale)
                let head = training.network(width: structure.width(dimension: d), scalar: S.self, using: &smallRNG)
                let trained = training.trainSecondOrder(head: head, first: net, loss: loss, mode: .frozen, varianceReduced: false, source: .points(points),
                                                        every: every, using: &smallRNG) { step, h in curve("D2SM-A-N\(n)", step, SecondOrderMetrics.headHessians(h, loss, curvePoints)) }
                result.arms.append(ArmResult(arm: "D2SM-A-N\(n)", errors: SecondOrderMetrics.errors(SecondOrderMetrics.headHessians(head, loss, noisy), s2True),
                                             firstOrderError: SecondOrderMetrics.firstOrderError(net, noisy, s1True), baseline: "autodiff-N\(n)", steps: trained))
            }
        }
        return result
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let c = config
        let seeds = options.seedCount(Self.seedDefaults)
        var mixtures: [String: GaussianMixture] = [:]
        for name in c.datasets { mixtures[name] = try Self.mixture(name, c, dataDir: dataDir, seed: options.seed) }
        var cells: [Cell] = []
        for name in c.datasets {
            var sigmas = mixtures[name]!.dimension > c.smallNetworkMaxDimension ? c.largeDimensionSigmas : c.sigmas
            if mixtures[name]!.dimension <= c.smallSigmaMaxDimension { sigmas.insert(c.smallSigma, at: 0) }
            for s in sigmas { for seed in 0..<seeds { cells.append(Cell(dataset: name, sigma: s, seed: seed)) } }
        }
        cells.sort { mixtures[$0.dataset]!.dimension > mixtures[$1.dataset]!.dimension }
        let progress = Progress(Self.experimentID, total: cells.count)
        let threads = options.threads
        // One BLAS thread per task (tasks run in parallel; elementwise kernels stay inline).
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        let base = options.seed
        let results = try run.units("cells", count: cells.count,
                                    key: { "\(cells[$0].dataset)_sigma-\(cells[$0].sigma)_seed-\(cells[$0].seed)" },
                                    progress: { progress.advance() }) { k -> CellResult in
            c.precision == .float32 ? Self.runCell(c, cells[k], mixture: mixtures[cells[k].dataset]!, base: base, scalar: Float.self)
                                     : Self.runCell(c, cells[k], mixture: mixtures[cells[k].dataset]!, base: base, scalar: Double.self)
        }

        var armRows: [[CSVCell]] = [], ratioRows: [[CSVCell]] = [], denoiseRows: [[CSVCell]] = [], tweedieRows: [[CSVCell]] = []
        var identityRows: [[CSVCell]] = []
        for r in results {
            if let m = r.identity {
                identityRows.append([.text(r.dataset), .integer(r.dimension), .number(r.sigma), .integer(r.seed),
                                     .number(m.valueRatio), .number(m.gradientCoefficient), .number(m.gradientCosine)])
            }
            for a in r.arms {
                armRows.append([.text(r.dataset), .integer(r.dimension), .number(r.sigma), .integer(r.seed), .text(a.arm),
                                .number(Stats.mean(a.errors.relativeFrobenius)), .number(Stats.mean(a.errors.mse)),
                                .number(Stats.mean(a.errors.mse) * pow(r.sigma, 4)), .number(Stats.mean(a.errors.diagonalMSE)), .number(a.firstOrderError),
                                .integer(a.steps)])
            }
            denoiseRows.append([.text(r.dataset), .integer(r.dimension), .number(r.sigma), .integer(r.seed), .number(Stats.mean(r.denoising.dsm)),
                                .number(Stats.mean(r.denoising.regression)), .number(Stats.mean(r.denoising.bayes))])
        }
        // Ratios pooled over seeds (two-level bootstrap), per (data set, σ, arm).
        var keys: [String] = []
        for r in results where !keys.contains("\(r.dataset)|\(r.sigma)") { keys.append("\(r.dataset)|\(r.sigma)") }
        for key in keys {
            let group = results.filter { "\($0.dataset)|\($0.sigma)" == key }.sorted { $0.seed < $1.seed }
            let first = group[0]
            for a in first.arms where !a.baseline.isEmpty {
                let pairs = group.map { r -> (a: [Double], b: [Double]) in
                    (r.arms.first { $0.arm == a.arm }!.errors.relativeFrobenius, r.arms.first { $0.arm == a.baseline }!.errors.relativeFrobenius)
                }
                let est = Stats.pairedRatioBootstrapCI(pairs, seed: base)
                ratioRows.append([.text(first.dataset), .integer(first.dimension), .number(first.sigma), .text(a.arm), .text(a.baseline),
                                  .number(est.mean), .number(est.low), .number(est.high), .integer(group.count)])
            }
            let hasRegression = group.allSatisfy { $0.denoising.regression.allSatisfy { !$0.isNaN } }
            let tw = hasRegression ? Stats.pairedRatioBootstrapCI(group.map { ($0.denoising.dsm, $0.denoising.regression) }, seed: base)
                                   : Estimate(mean: .nan, low: .nan, high: .nan, n: 0)
            let tb = Stats.pairedRatioBootstrapCI(group.map { ($0.denoising.dsm, $0.denoising.bayes) }, seed: base)
            tweedieRows.append([.text(first.dataset), .integer(first.dimension), .number(first.sigma), .number(tw.mean), .number(tw.low), .number(tw.high),
                                .number(tb.mean), .number(tb.low), .number(tb.high), .integer(group.count)])
        }
        try run.writeCSV("arms.csv", header: ["dataset", "dimension", "sigma", "seed", "arm", "relative_frobenius", "mse", "mse_sigma4", "diagonal_mse", "first_order_error", "steps_trained"], rows: armRows)
        try run.writeCSV("ratios.csv", header: ["dataset", "dimension", "sigma", "arm", "baseline", "ratio", "low", "high", "seeds"], rows: ratioRows)
        try run.writeCSV("curves.csv", header: ["dataset", "dimension", "sigma", "seed", "arm", "step", "relative_frobenius"], rows: results.flatMap { $0.curves })
        try run.writeCSV("denoising.csv", header: ["dataset", "dimension", "sigma", "seed", "mse_tweedie", "mse_regression", "mse_bayes"], rows: denoiseRows)
        try run.writeCSV("tweedie_identity.csv", header: ["dataset", "dimension", "sigma", "seed", "value_ratio", "gradient_coefficient", "gradient_cosine"],
                         rows: identityRows)
        try run.writeCSV("tweedie_ratios.csv", header: ["dataset", "dimension", "sigma", "ratio_regression", "low_regression", "high_regression",
                                                        "ratio_bayes", "low_bayes", "high_bayes", "seeds"], rows: tweedieRows)
        try run.writeConfig(c)
    }

    // MARK: - Render

    func render(in run: RunDirectory) throws {
        let c = config
        let arms = try run.readCSV("arms.csv")
        let aName = try arms.strings("dataset"), aDim = try arms.numbers("dimension"), aSigma = try arms.numbers("sigma"), aArm = try arms.strings("arm")
        let aFrob = try arms.numbers("relative_frobenius"), aFirst = try arms.numbers("first_order_error")
        let ratios = try run.readCSV("ratios.csv")
        let rName = try ratios.strings("dataset"), rDim = try ratios.numbers("dimension"), rSigma = try ratios.numbers("sigma"), rArm = try ratios.strings("arm")
        let rRatio = try ratios.numbers("ratio"), rLow = try ratios.numbers("low"), rHigh = try ratios.numbers("high"), rSeeds = try ratios.numbers("seeds")
        let tw = try run.readCSV("tweedie_ratios.csv")
        let tName = try tw.strings("dataset"), tSigma = try tw.numbers("sigma"), tRatio = try tw.numbers("ratio_regression")
        let tLow = try tw.numbers("low_regression"), tHigh = try tw.numbers("high_regression"), tBayes = try tw.numbers("ratio_bayes")
        let cv = try run.readCSV("curves.csv")
        let cName = try cv.strings("dataset"), cSigma = try cv.numbers("sigma"), cArm = try cv.strings("arm"), cStep = try cv.numbers("step"), cErr = try cv.numbers("relative_frobenius")

        var names: [String] = []
        for n in aName where !names.contains(n) { names.append(n) }
        names.sort { aDim[aName.firstIndex(of: $0)!] < aDim[aName.firstIndex(of: $1)!] }
        var armOrder: [String] = []
        for a in aArm where !armOrder.contains(a) { armOrder.append(a) }
        let seedCount = Int(rSeeds.first ?? 0)

        // Table 1: relative Frobenius error per arm (mean ± t-interval over seeds).
        var rows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(aSigma.indices.filter { aName[$0] == n }.map { aSigma[$0] })).sorted()
            for s in sigmas {
                var row = [n, "\(Int(aDim[aName.firstIndex(of: n)!]))", Format.significant(s, 2)]
                let first = Stats.meanCI(aName.indices.filter { aName[$0] == n && aSigma[$0] == s && aArm[$0] == "autodiff" }.map { aFirst[$0] })
                row.append(Format.withError(first.mean, first.halfWidth))
                for arm in armOrder {
                    let v = aName.indices.filter { aName[$0] == n && aSigma[$0] == s && aArm[$0] == arm }.map { aFrob[$0] }
                    if v.isEmpty { row.append("–"); continue }
                    let e = Stats.meanCI(v)
                    row.append(Format.withError(e.mean, e.halfWidth))
                }
                rows.append(row)
            }
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "s̃₁ rel. error"] + armOrder, rows: rows,
                                 caption: "Mean relative Frobenius error ‖ŝ₂ − s₂‖_F/‖s₂‖_F on \(c.testPoints) test points x̃ ~ q_σ (mean ± 95% t-interval over \(seedCount) seeds). autodiff: symmetrised input Jacobian of the DSM-VR-trained s̃₁; D2SM arms: s̃₂ networks trained (\(c.plateau == nil ? "\(c.steps) steps" : "to a held-out plateau, at most \(c.steps) steps")) with s̃₁ frozen (A, B, ± VR) or jointly (A-joint, code-faithful); -N arms: both networks trained on N fixed samples; VR arms for D > \(c.smallNetworkMaxDimension) only at σ ≤ \(Format.significant(c.vrLargeDimensionMaxSigma, 2)) (– not run). Networks in \(c.precision.label). Protocol [RECON].",
                                 label: "tab:ho-e1"), name: "accuracy")

        // Table 1b: the other metrics of spec §2.2, mean over seeds.
        let aMSE = try arms.numbers("mse"), aMSE4 = try arms.numbers("mse_sigma4"), aDiag = try arms.numbers("diagonal_mse")
        var metricRows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(aSigma.indices.filter { aName[$0] == n }.map { aSigma[$0] })).sorted()
            for s in sigmas {
                for arm in armOrder {
                    let idx = aName.indices.filter { aName[$0] == n && aSigma[$0] == s && aArm[$0] == arm }
                    if idx.isEmpty { continue }
                    metricRows.append([n, "\(Int(aDim[idx[0]]))", Format.significant(s, 2), arm] + [aFrob, aMSE, aMSE4, aDiag, aFirst].map { v in
                        Format.significant(Stats.mean(idx.map { v[$0] }), 3)
                    })
                }
            }
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "rel. Frobenius", "MSE of entries", "σ⁴·MSE", "diagonal MSE", "s̃₁ rel. error"], rows: metricRows,
                                 caption: "All error metrics of the spec's §2.2 per arm, mean over \(seedCount) seeds on \(c.testPoints) test points: relative Frobenius error, MSE of the D² entries, σ⁴-scaled MSE (posterior-covariance units, comparable across σ), MSE of the diagonal, and the first-order error of the s̃₁ the arm used.",
                                 label: "tab:ho-e1-metrics"), name: "metrics")

        // Table 2: ratios to autodiff with bootstrap intervals.
        var ratioTable: [[String]] = []
        for i in rName.indices {
            ratioTable.append([rName[i], "\(Int(rDim[i]))", Format.significant(rSigma[i], 2), rArm[i], "\(Format.significant(rRatio[i], 3)) [\(Format.significant(rLow[i], 3)), \(Format.significant(rHigh[i], 3))]"])
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "err_arm / err_autodiff [95% CI]"], rows: ratioTable,
                                 caption: "Error ratio of each D2SM arm to its autodiff baseline (same s̃₁ or same N samples), two-level bootstrap over seeds and test points.",
                                 label: "tab:ho-e1-ratios"), name: "ratios")

        // Figure: error against training steps, autodiff vs D2SM-A (frozen), per data set at σ = 0.3 (or the first σ).
        var panels: [Panel] = []
        for n in names {
            let sigmas = Array(Set(cSigma.indices.filter { cName[$0] == n }.map { cSigma[$0] })).sorted()
            guard let s = sigmas.first(where: { $0 == 0.3 }) ?? sigmas.last else { continue }
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                var byStep: [Double: [Double]] = [:]
                for i in cName.indices where cName[i] == n && cSigma[i] == s && cArm[i] == arm { byStep[cStep[i], default: []].append(cErr[i]) }
                let xs = byStep.keys.sorted()
                if xs.isEmpty { continue }
                series.append(Series(x: xs, y: xs.map { Stats.mean(byStep[$0]!) }, title: arm, style: .linespoints, color: k))
            }
            panels.append(Panel(title: "\(n), σ = \(Format.significant(s, 2))", xLabel: "training step", yLabel: "relative Frobenius error", logY: true, key: "off", series: series))
        }
        if !panels.isEmpty {
            // One legend in a spare slot; a title short enough for the figure's width (issue 19).
            let withLegend = panels + [Panel.legend(for: panels.max { $0.series.count < $1.series.count }!.series)]
            try run.writeFigure(Figure(name: "error_vs_steps", panels: withLegend, rows: 2, title: "HO-E1: s₂ error in training (seed mean, test subset)",
                                       panelWidth: 420, panelHeight: 340))
        }
        // Figure: error against D per arm at each σ.
        var dimPanels: [Panel] = []
        for s in Array(Set(aSigma)).sorted() {
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                let ns = names.filter { n in aName.indices.contains { aName[$0] == n && aSigma[$0] == s && aArm[$0] == arm } }
                if ns.isEmpty { continue }
                let est = ns.map { n in Stats.meanCI(aName.indices.filter { aName[$0] == n && aSigma[$0] == s && aArm[$0] == arm }.map { aFrob[$0] }) }
                series.append(Series(x: ns.map { aDim[aName.firstIndex(of: $0)!] }, y: est.map { $0.mean }, yError: est.map { $0.halfWidth }, title: arm, style: .linespoints, color: k))
            }
            if !series.isEmpty {
                dimPanels.append(Panel(title: "σ = \(Format.significant(s, 2))", xLabel: "dimension D", yLabel: "relative Frobenius error", logX: true, logY: true, key: "off", series: series))
            }
        }
        if !dimPanels.isEmpty {
            let legend = Panel.legend(for: dimPanels.max { $0.series.count < $1.series.count }!.series)
            try run.writeFigure(Figure(name: "error_vs_dimension", panels: dimPanels + [legend], title: "HO-E1: s₂ error against D (mean ± 95% CI over seeds)"))
        }

        // HO-C2: for D ≥ 10 and σ ∈ [0.05, 0.5], err(arm)/err(its autodiff baseline) < 1. The
        // decisive arm (config.primaryArm) gives the claim's checks; every arm, small-data arms
        // included, gets its own verdict in tables/arm_verdicts with the s̃₁ errors beside it.
        let rBaseline = try ratios.strings("baseline")
        let c2Provenance = ThresholdProvenance.specRecon("high-order spec §5 C2: \"the D2SM estimate of s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁\": ratio < 1")
        func firstOrderError(_ n: String, _ s: Double, _ arm: String) -> Double {
            Stats.mean(aName.indices.filter { aName[$0] == n && aSigma[$0] == s && aArm[$0] == arm }.map { aFirst[$0] })
        }
        var c2: [ClaimCheck] = []
        var armVerdictRows: [[String]] = [], armVerdictCSV: [[CSVCell]] = []
        var tally: [String: [Verdict: Int]] = [:]
        for i in rName.indices where rDim[i] >= 10 && rSigma[i] >= 0.05 && rSigma[i] <= 0.5 {
            let e = Estimate(mean: rRatio[i], low: rLow[i], high: rHigh[i], n: Int(rSeeds[i]))
            let check = ClaimCheck(statistic: "\(rName[i]), σ = \(Format.significant(rSigma[i], 2)): err(\(rArm[i])) / err(\(rBaseline[i]))",
                                   estimate: e, direction: .lessThan, threshold: 1, provenance: c2Provenance,
                                   power: CheckPower.ofInterval(e, counts: "seeds (two-level bootstrap over seeds and test points)"))
            if rArm[i] == c.primaryArm { c2.append(check) }
            tally[rArm[i], default: [:]][check.verdict, default: 0] += 1
            let e1Arm = firstOrderError(rName[i], rSigma[i], rArm[i]), e1Base = firstOrderError(rName[i], rSigma[i], rBaseline[i])
            armVerdictRows.append([rName[i], "\(Int(rDim[i]))", Format.significant(rSigma[i], 2), rArm[i] + (rArm[i] == c.primaryArm ? " (decisive)" : ""), rBaseline[i],
                                   "\(Format.significant(rRatio[i], 3)) [\(Format.significant(rLow[i], 3)), \(Format.significant(rHigh[i], 3))]", check.verdict.rawValue,
                                   Format.significant(e1Arm, 3), Format.significant(e1Base, 3)])
            armVerdictCSV.append([.text(rName[i]), .integer(Int(rDim[i])), .number(rSigma[i]), .text(rArm[i]), .text(rBaseline[i]), .number(rRatio[i]), .number(rLow[i]),
                                  .number(rHigh[i]), .text(check.verdict.rawValue), .number(e1Arm), .number(e1Base)])
        }
        try run.writeCSV("arm_verdicts.csv", header: ["dataset", "dimension", "sigma", "arm", "baseline", "ratio", "low", "high", "verdict",
                                                      "first_order_error_arm", "first_order_error_baseline"], rows: armVerdictCSV)
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "baseline", "err_arm / err_baseline [95% CI]", "verdict (< 1)", "s̃₁ rel. error (arm)", "s̃₁ rel. error (baseline)"],
                                 rows: armVerdictRows,
                                 caption: "HO-C2 per arm (D ≥ 10, σ ∈ [0.05, 0.5]): each D2SM arm against its autodiff baseline, with the verdict of ratio < 1 and the first-order errors of the s̃₁ each side used. The decisive arm is \(c.primaryArm) (the authors' joint training); -N arms train both networks on N fixed samples (the spec names data size as a factor).",
                                 label: "tab:ho-e1-arm-verdicts"), name: "arm_verdicts")
        let tallyNote = tally.keys.sorted().map { arm in
            let t = tally[arm]!
            return "\(arm): \(t[.supported] ?? 0) supported, \(t[.notSupported] ?? 0) not supported, \(t[.inconclusive] ?? 0) inconclusive"
        }.joined(separator: "; ")
        // HO-C1 (issue 17): the identity itself — σ⁴·DSM loss = regression loss of h = x̃ + σ²s̃₁
        // and equal parameter gradients — on the trained network, per (data set, σ), over seeds.
        // The former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± 0.02, equals
        // 1 + σ⁴E‖s̃₁ − s₁‖²/MSE_Bayes ≥ 1 for any imperfect s̃₁: it measured training quality, and
        // is now reported as the oracle gap (information).
        let tBayesLow = try tw.numbers("low_bayes"), tBayesHigh = try tw.numbers("high_bayes")
        let ident = try run.readCSV("tweedie_identity.csv")
        let iName = try ident.strings("dataset"), iSigma = try ident.numbers("sigma"), iValue = try ident.numbers("value_ratio")
        let iCoef = try ident.numbers("gradient_coefficient"), iCos = try ident.numbers("gradient_cosine")
        let idTol = c.identityTolerance ?? 1e-3
        let idProvenance = ThresholdProvenance.ours("the identity is exact; ±\(idTol) covers \(c.precision.label) round-off through the network (≈ 1e-6) with three orders of margin, while a scale, sign or target error in the DSM loss moves these ratios by ≥ 1e-2")
        var c1: [ClaimCheck] = []
        var gaps: [String] = []
        for i in tName.indices {
            let idx = iName.indices.filter { iName[$0] == tName[i] && iSigma[$0] == tSigma[i] }
            let value = Stats.meanCI(idx.map { iValue[$0] }), coef = Stats.meanCI(idx.map { iCoef[$0] })
            let cosine = idx.map { iCos[$0] }.min() ?? .nan
            let cell = "\(tName[i]), σ = \(Format.significant(tSigma[i], 2))"
            c1.append(ClaimCheck(statistic: "\(cell): σ⁴·DSM loss / regression loss of x̃ + σ²s̃₁", estimate: value, direction: .within, threshold: 1,
                                 tolerance: idTol, provenance: idProvenance))
            c1.append(ClaimCheck(statistic: "\(cell): parameter-gradient coefficient, σ⁴·∇DSM on ∇regression (min cosine \(Format.significant(cosine, 8)))",
                                 estimate: coef, direction: .within, threshold: 1, tolerance: idTol, provenance: idProvenance))
            gaps.append("\(cell): \(Format.significant(tBayes[i], 4)) [\(Format.significant(tBayesLow[i], 4)), \(Format.significant(tBayesHigh[i], 4))]"
                        + (tRatio[i].isNaN ? "" : ", vs direct regression network \(Format.significant(tRatio[i], 3)) [\(Format.significant(tLow[i], 3)), \(Format.significant(tHigh[i], 3))]"))
        }
        let command = "make ho-e1-hessian-accuracy SCALE=\(options.scale.rawValue)"
        let note = "Protocol [RECON]: Gaussian-mixture ground truth, Softplus MLPs (\(c.precision.label)), \(c.plateau == nil ? "\(c.steps) Adam steps per network" : "Adam to a held-out-loss plateau (at most \(c.steps) steps) per network"), batch \(c.batchSize), lr \(c.learningRate); two-level bootstrap over \(seedCount) seeds and \(c.testPoints) test points."
        try run.writeClaims([
            ClaimResult(claim: "HO-C2", scope: "At equal training budget, for D ≥ 10 and σ ∈ [0.05, 0.5], D2SM's s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁.",
                        experiment: Self.experimentID, command: command, checks: c2, seeds: seedCount,
                        notes: note + " Decisive arm \(c.primaryArm) (the authors' set-up: form A trained jointly with s̃₁, no detaching). Per-arm verdicts (tables/arm_verdicts, with s̃₁ errors): \(tallyNote). What changed and why (issue 17): a full D² head at D = 50 (the rank-8 + diagonal head cannot represent that target: best fit 0.45 relative error, so those checks were lost by construction); the decisive arm is the authors' joint set-up, stated before the rerun, and every arm, small-data arms included, gets its own verdict. Training: \(c.plateau.map { "every network " + $0.description + ", capped at \(c.steps) steps (steps per arm in arms.csv)" } ?? "a fixed \(c.steps) steps")."),
            ClaimResult(claim: "HO-C1", scope: "DSM is Tweedie's formula: the denoiser x̃ + σ²s̃₁ matches least-squares regression of x on x̃ (within 2%); the Tweedie identities hold numerically (unit tests).",
                        experiment: Self.experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: note + " The second-order Tweedie identities are checked by Monte Carlo in ScoreKitTests (SecondOrderDSMMonteCarloTests). What changed and why (issue 17): the checks now test the identity itself (σ⁴·DSM = regression loss of x̃ + σ²s̃₁, equal gradients) on the trained network; the former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± \(c.c1Tolerance), is ≥ 1 for any imperfect s̃₁ and measured training quality. Oracle gap MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) (information): " + gaps.joined(separator: "; ") + "."),
        ])
        print(Table(header: ["data", "D", "σ", "s̃₁ err"] + armOrder, rows: rows).markdown())
        print(Table(header: ["data", "D", "σ", "arm", "ratio"], rows: ratioTable).markdown())
    }
}
