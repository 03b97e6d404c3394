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
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: ScaleHelp.override("Override the training steps per network (the cap, where a plateau rule may stop earlier).", quick: Config.quick.steps, full: Config.full.steps)) var trainStepsOption: Int?
    /// The option's earlier name, still accepted (hidden from --help; issue 19: one name per meaning).
    @Option(name: .customLong("steps"), parsing: .unconditional, help: .hidden) var stepsAlias: Int?
    var steps: Int? { trainStepsOption ?? stepsAlias }
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the number of test points.", quick: Config.quick.testPoints, full: Config.full.testPoints)) var testPoints: Int?
    @Option(parsing: .unconditional, help: "Network element type: float32 (default) or float64.") var precision: NetworkPrecision?
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the largest D with a full D² s̃₂ head (above it: rank-r + diagonal, with its representability floor in head_floor.csv).", quick: Config.quick.fullHeadMaxDimension, full: Config.full.fullHeadMaxDimension)) var fullHeadMaxDimension: Int?

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
        if let v = fullHeadMaxDimension { c.fullHeadMaxDimension = v }
        return c
    }

    static let knownDatasets = ["anisotropic-2d", "random-5", "random-10", "random-20", "random-50", "digits-64"]

    func validate() throws {
        if let bad = datasets.first(where: { !Self.knownDatasets.contains($0) }) {
            throw ValidationError("--datasets: unknown data set '\(bad)'; expected one of \(Self.knownDatasets.joined(separator: ", "))")
        }
        try Validate.distinct(datasets, option: "--datasets")
        try Validate.nonEmpty(dataDir, option: "--data-dir")
        if let v = steps, v < 1 { throw ValidationError("--train-steps must be at least 1, got \(v)") }
        if let v = testPoints, v < 2 { throw ValidationError("--test-points must be at least 2, got \(v)") }
        if let v = fullHeadMaxDimension, v < 1 { throw ValidationError("--full-head-max-dimension must be at least 1, got \(v)") }
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
        /// Rows of curves.csv, as cells (`UnitRows.cells`).
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

    /// The random-stream keys of a cell (data set, σ, seed).
    static func streamKeys(_ c: Config, _ cell: Cell, dimension d: Int) -> (seed: UInt64, sigma: UInt64, data: UInt64) {
        (UInt64(cell.seed), UInt64(cell.sigma * 1e6), UInt64(c.datasets.firstIndex(of: cell.dataset) ?? 0) &+ UInt64(d) &* 100)
    }

    /// A cell's test points: clean x ~ p and x̃ = x + σz, from the cell's own stream.
    static func testPoints(_ c: Config, _ cell: Cell, mixture: GaussianMixture, base: UInt64) -> (clean: Tensor<Double>, noisy: Tensor<Double>) {
        let (seedKey, sigmaKey, dataKey) = streamKeys(c, cell, dimension: mixture.dimension)
        var testRNG = Xoshiro256(seed: base, key: [2, dataKey, sigmaKey, seedKey])
        let clean = mixture.sample(count: c.testPoints, using: &testRNG)
        var noisy = clean
        for i in 0..<noisy.count { noisy.scalars[i] += cell.sigma * testRNG.nextNormal() }
        return (clean, noisy)
    }

    /// Rounds of the alternating low-rank + diagonal fit per test point (HeadRepresentability),
    /// and the relative improvement below which it stops earlier.
    static let headFloorIterations = 100
    static let headFloorTolerance = 1e-8

    /// The rank-r + diagonal head's representability floor at a cell's test points: the mean
    /// over points of the relative Frobenius error of the alternating fit to the exact s₂. It
    /// uses the first `curvePoints` test points (those of curves.csv): at D = 64 each point costs
    /// up to 100 symmetric eigendecompositions.
    static func headFloor(_ c: Config, _ cell: Cell, mixture: GaussianMixture, base: UInt64) throws -> HeadFloorRow {
        let d = mixture.dimension
        let all = testPoints(c, cell, mixture: mixture, base: base).noisy
        let count = min(c.curvePoints, all.rows)
        let noisy = Tensor<Double>(shape: [count, d], scalars: Array(all.scalars[0..<(count * d)]))
        let s2 = mixture.perturbed(sigma: cell.sigma).hessians(noisy)
        var errors: [Double] = []
        for i in 0..<noisy.rows {
            let target = Array(s2.scalars[(i * d * d)..<((i + 1) * d * d)])
            errors.append(try HeadRepresentability.lowRankPlusDiagonalError(target, dimension: d, rank: min(c.rank, d), iterations: headFloorIterations,
                                                                              relativeTolerance: headFloorTolerance))
        }
        let ci = Stats.meanCI(errors)
        return HeadFloorRow(dataset: cell.dataset, dimension: d, sigma: cell.sigma, seed: cell.seed, rank: min(c.rank, d),
                            relativeFrobenius: ci.mean, low: ci.low, high: ci.high, testPoints: errors.count)
    }

    static func runCell<S: TensorScalar>(_ c: Config, _ cell: Cell, mixture: GaussianMixture, base: UInt64, scalar: S.Type) throws -> CellResult {
        let d = mixture.dimension
        let sigma = cell.sigma
        let q = mixture.perturbed(sigma: sigma)
        let (seedKey, sigmaKey, dataKey) = Self.streamKeys(c, cell, dimension: d)
        let (clean, noisy) = Self.testPoints(c, cell, mixture: mixture, base: base)
        let s1True = q.scores(noisy), s2True = q.hessians(noisy)
        let curvePoints = Tensor<Double>(shape: [min(c.curvePoints, c.testPoints), d], scalars: Array(noisy.scalars[0..<(min(c.curvePoints, c.testPoints) * d)]))
        let hidden = d <= c.smallNetworkMaxDimension ? c.hiddenSmall : c.hiddenLarge
        let settings = TrainingSettings(hidden: [hidden, hidden], learningRate: c.learningRate, batchSize: c.batchSize, steps: c.steps, plateau: c.plateau)
        let training = SecondOrderTraining(sigma: sigma, dimension: d, settings: settings)
        let structure: SecondOrderStructure = d <= c.fullHeadMaxDimension ? .full : .lowRank(rank: c.rank)
        let every = max(1, c.steps / c.checkpoints)
        var result = CellResult(dataset: cell.dataset, dimension: d, sigma: sigma, seed: cell.seed)
        var curveRows: [CurveRow] = []
        func curve(_ arm: String, _ step: Int, _ estimate: Tensor<Double>) {
            let e = SecondOrderMetrics.errors(estimate, s2True, rows: curvePoints.rows)
            curveRows.append(CurveRow(dataset: cell.dataset, dimension: d, sigma: sigma, seed: cell.seed, arm: arm, step: step,
                                      relativeFrobenius: Stats.mean(e.relativeFrobenius)))
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
        result.curves = try UnitRows.cells(curveRows)
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
        let base = options.seed
        let results = try run.units("cells", count: cells.count,
                                    key: { "\(cells[$0].dataset)_sigma-\(cells[$0].sigma)_seed-\(cells[$0].seed)" },
                                    progress: { progress.advance() }) { k -> CellResult in
            c.precision == .float32 ? try Self.runCell(c, cells[k], mixture: mixtures[cells[k].dataset]!, base: base, scalar: Float.self)
                                     : try Self.runCell(c, cells[k], mixture: mixtures[cells[k].dataset]!, base: base, scalar: Double.self)
        }

        // Issue 17: how closely the rank-r + diagonal head (D > fullHeadMaxDimension) can fit the
        // exact s₂ at each cell's own test points at all, whatever the training (information for
        // HO-C2: a floor above autodiff's error would lose those checks by construction). Exact
        // targets only, no networks; full heads represent any symmetric matrix and get no unit.
        let lowRankCells = cells.filter { mixtures[$0.dataset]!.dimension > c.fullHeadMaxDimension }
        let floors = try run.units("head-floor", count: lowRankCells.count,
                                   key: { "\(lowRankCells[$0].dataset)_sigma-\(lowRankCells[$0].sigma)_seed-\(lowRankCells[$0].seed)" }) { k -> HeadFloorRow in
            try Self.headFloor(c, lowRankCells[k], mixture: mixtures[lowRankCells[k].dataset]!, base: base)
        }

        var armRows: [ArmRow] = [], ratioRows: [RatioRow] = [], denoiseRows: [DenoisingRow] = [], tweedieRows: [TweedieRatioRow] = []
        var identityRows: [IdentityRow] = []
        for r in results {
            if let m = r.identity {
                identityRows.append(IdentityRow(dataset: r.dataset, dimension: r.dimension, sigma: r.sigma, seed: r.seed,
                                                valueRatio: m.valueRatio, gradientCoefficient: m.gradientCoefficient, gradientCosine: m.gradientCosine))
            }
            for a in r.arms {
                armRows.append(ArmRow(dataset: r.dataset, dimension: r.dimension, sigma: r.sigma, seed: r.seed, arm: a.arm,
                                      relativeFrobenius: Stats.mean(a.errors.relativeFrobenius), mse: Stats.mean(a.errors.mse),
                                      mseSigma4: Stats.mean(a.errors.mse) * pow(r.sigma, 4), diagonalMSE: Stats.mean(a.errors.diagonalMSE),
                                      firstOrderError: a.firstOrderError, stepsTrained: a.steps))
            }
            denoiseRows.append(DenoisingRow(dataset: r.dataset, dimension: r.dimension, sigma: r.sigma, seed: r.seed, mseTweedie: Stats.mean(r.denoising.dsm),
                                            mseRegression: Stats.mean(r.denoising.regression), mseBayes: Stats.mean(r.denoising.bayes)))
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
                ratioRows.append(RatioRow(dataset: first.dataset, dimension: first.dimension, sigma: first.sigma, arm: a.arm, baseline: a.baseline,
                                          ratio: est.mean, low: est.low, high: est.high, seeds: group.count))
            }
            let hasRegression = group.allSatisfy { $0.denoising.regression.allSatisfy { !$0.isNaN } }
            let tw = hasRegression ? Stats.pairedRatioBootstrapCI(group.map { ($0.denoising.dsm, $0.denoising.regression) }, seed: base)
                                   : Estimate(mean: .nan, low: .nan, high: .nan, n: 0)
            let tb = Stats.pairedRatioBootstrapCI(group.map { ($0.denoising.dsm, $0.denoising.bayes) }, seed: base)
            tweedieRows.append(TweedieRatioRow(dataset: first.dataset, dimension: first.dimension, sigma: first.sigma, ratioRegression: tw.mean,
                                               lowRegression: tw.low, highRegression: tw.high, ratioBayes: tb.mean, lowBayes: tb.low, highBayes: tb.high,
                                               seeds: group.count))
        }
        try run.writeRows(armRows, to: "arms.csv")
        try run.writeRows(ratioRows, to: "ratios.csv")
        try run.writeRows(results.flatMap { try UnitRows.rows($0.curves, as: CurveRow.self) }, to: "curves.csv")
        try run.writeRows(denoiseRows, to: "denoising.csv")
        try run.writeRows(identityRows, to: "tweedie_identity.csv")
        try run.writeRows(tweedieRows, to: "tweedie_ratios.csv")
        try run.writeRows(floors, to: "head_floor.csv")
        try run.writeConfig(c)
    }

    // MARK: - Rows

    /// A row of head_floor.csv: how closely a rank-r + diagonal head can fit the exact s₂ at one
    /// cell's test points (issue 17; the D > fullHeadMaxDimension cells only).
    struct HeadFloorRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, rank: Int, relativeFrobenius: Double, low: Double, high: Double, testPoints: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, rank, relativeFrobenius = "relative_frobenius_floor", low, high, testPoints = "test_points"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the Gaussian-mixture ground truth whose D exceeds the full-head limit (digits-64 at full scale)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ of q_σ"),
            .init("seed", "index", "seed index k (the same test points as the cell's arms)"),
            .init("rank", "count", "r of the head UUᵀ + diag(d), U ∈ R^{D×r}"),
            .init("relative_frobenius_floor", "1", "mean over test points of ‖S − UUᵀ − diag(d)‖_F / ‖S‖_F for the exact s₂ = S, after at most \(HOE1HessianAccuracy.headFloorIterations) rounds of alternating exact fits, stopping when a round improves by less than \(HOE1HessianAccuracy.headFloorTolerance) of the residual (an upper bound on the best fit; no network involved)"),
            .init("low", "1", "lower end of the 95% t-interval of that mean over test points"),
            .init("high", "1", "upper end of that interval"),
            .init("test_points", "count", "test points x̃ ~ q_σ used: the cell's first curvePoints test points (those of curves.csv)"),
        ]
    }

    /// A row of arms.csv: one arm's s₂ estimate in one (data set, σ, seed) cell.
    struct ArmRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, arm: String, relativeFrobenius: Double, mse: Double, mseSigma4: Double
        var diagonalMSE: Double, firstOrderError: Double, stepsTrained: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, arm, relativeFrobenius = "relative_frobenius", mse, mseSigma4 = "mse_sigma4"
            case diagonalMSE = "diagonal_mse", firstOrderError = "first_order_error", stepsTrained = "steps_trained"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the Gaussian-mixture ground truth: anisotropic-2d, random-D (D dimensions, `components` components) or digits-64 (class-conditional 8×8-digits mixture)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ of q_σ"),
            .init("seed", "index", "seed index k (test points and networks of the cell)"),
            .init("arm", "text", "autodiff (symmetrised input Jacobian of the DSM-VR s̃₁), D2SM-A/-B (± -VR, s̃₁ frozen), D2SM-A-joint (trained jointly with s̃₁, the released code), or an -N<n> small-data arm (both networks on n fixed samples)"),
            .init("relative_frobenius", "1", "mean over test points x̃ ~ q_σ of ‖ŝ₂ − s₂‖_F / ‖s₂‖_F against the exact Hessian of log q_σ"),
            .init("mse", "1/data units⁴", "mean over test points of the mean squared error of the D² entries"),
            .init("mse_sigma4", "1", "mse × σ⁴ (posterior-covariance units, comparable across σ)"),
            .init("diagonal_mse", "1/data units⁴", "mean squared error of the D diagonal entries"),
            .init("first_order_error", "1", "mean over test points of ‖s̃₁ − s₁‖/‖s₁‖ of the s̃₁ this arm used"),
            .init("steps_trained", "count", "Adam steps its network (the s̃₂ head, or s̃₁ for autodiff arms) was trained (the cap, or earlier at a plateau)"),
        ]
    }

    /// A row of ratios.csv: one D2SM arm against its autodiff baseline, pooled over seeds.
    struct RatioRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, arm: String, baseline: String, ratio: Double, low: Double, high: Double, seeds: Int
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture (as arms.csv)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("arm", "text", "the D2SM arm"),
            .init("baseline", "text", "its autodiff arm (the same s̃₁, or the same n samples)"),
            .init("ratio", "1", "err(arm)/err(baseline): mean relative Frobenius errors, group means averaged over seeds"),
            .init("low", "1", "lower end of the two-level (seeds, then test points) bootstrap 95 % interval"),
            .init("high", "1", "upper end of that interval"),
            .init("seeds", "count", "seeds pooled (n)"),
        ]
    }

    /// A row of curves.csv: one arm's error at one training checkpoint.
    struct CurveRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, arm: String, step: Int, relativeFrobenius: Double
        enum CodingKeys: String, CodingKey { case dataset, dimension, sigma, seed, arm, step, relativeFrobenius = "relative_frobenius" }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("arm", "text", "the arm (as arms.csv)"),
            .init("step", "count", "training step of the traced network (every steps/checkpoints steps)"),
            .init("relative_frobenius", "1", "mean relative Frobenius error of ŝ₂ on the first curvePoints test points"),
        ]
    }

    /// A row of denoising.csv: denoising errors in one cell.
    struct DenoisingRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, mseTweedie: Double, mseRegression: Double, mseBayes: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, mseTweedie = "mse_tweedie", mseRegression = "mse_regression", mseBayes = "mse_bayes"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("mse_tweedie", "data units²", "mean over test pairs of ‖x̃ + σ²s̃₁(x̃) − x‖² (the Tweedie denoiser of the trained s̃₁)"),
            .init("mse_regression", "data units²", "the same for a network regressing x on x̃ directly (same MLP and budget); nan for D > regressionMaxDimension (not trained)"),
            .init("mse_bayes", "data units²", "the same for the exact posterior mean E[x | x̃] = x̃ + σ²s₁(x̃)"),
        ]
    }

    /// A row of tweedie_identity.csv: the identity σ⁴·L_DSM = L_reg measured in one cell.
    struct IdentityRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, seed: Int, valueRatio: Double, gradientCoefficient: Double, gradientCosine: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, seed, valueRatio = "value_ratio", gradientCoefficient = "gradient_coefficient", gradientCosine = "gradient_cosine"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("seed", "index", "seed index k"),
            .init("value_ratio", "1", "σ⁴·(the library's DSM loss of s̃₁) / (regression loss of h = x̃ + σ²s̃₁) on the first identityPairs test pairs (1 exactly)"),
            .init("gradient_coefficient", "1", "least-squares coefficient of the σ⁴-scaled DSM parameter gradient on the regression gradient (1 when equal)"),
            .init("gradient_cosine", "1", "cosine between the two parameter gradients"),
        ]
    }

    /// A row of tweedie_ratios.csv: denoising-error ratios per (data set, σ), pooled over seeds.
    struct TweedieRatioRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, ratioRegression: Double, lowRegression: Double, highRegression: Double
        var ratioBayes: Double, lowBayes: Double, highBayes: Double, seeds: Int
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, ratioRegression = "ratio_regression", lowRegression = "low_regression", highRegression = "high_regression"
            case ratioBayes = "ratio_bayes", lowBayes = "low_bayes", highBayes = "high_bayes", seeds
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ"),
            .init("ratio_regression", "1", "MSE(Tweedie denoiser) / MSE(direct regression network), two-level bootstrap point estimate; nan where no regression network was trained"),
            .init("low_regression", "1", "lower end of its bootstrap 95 % interval (nan as above)"),
            .init("high_regression", "1", "upper end (nan as above)"),
            .init("ratio_bayes", "1", "MSE(Tweedie denoiser) / MSE(E[x | x̃]): the oracle gap, ≥ 1 for any imperfect s̃₁"),
            .init("low_bayes", "1", "lower end of its bootstrap 95 % interval"),
            .init("high_bayes", "1", "upper end"),
            .init("seeds", "count", "seeds pooled (n)"),
        ]
    }

    /// A row of arm_verdicts.csv: HO-C2's verdict for one arm in one (data set, σ).
    struct ArmVerdictRow: DocumentedRow {
        var dataset: String, dimension: Int, sigma: Double, arm: String, baseline: String, ratio: Double, low: Double, high: Double, verdict: String
        var firstOrderErrorArm: Double, firstOrderErrorBaseline: Double
        enum CodingKeys: String, CodingKey {
            case dataset, dimension, sigma, arm, baseline, ratio, low, high, verdict
            case firstOrderErrorArm = "first_order_error_arm", firstOrderErrorBaseline = "first_order_error_baseline"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "text", "the mixture (D ≥ 10 only)"),
            .init("dimension", "count", "D"),
            .init("sigma", "data units", "noise level σ ∈ [0.05, 0.5]"),
            .init("arm", "text", "the D2SM arm"),
            .init("baseline", "text", "its autodiff arm"),
            .init("ratio", "1", "err(arm)/err(baseline) (as ratios.csv)"),
            .init("low", "1", "lower end of the bootstrap 95 % interval"),
            .init("high", "1", "upper end"),
            .init("verdict", "text", "the check ratio < 1: supported, not supported or inconclusive"),
            .init("first_order_error_arm", "1", "mean over seeds of the relative error of the s̃₁ the arm used"),
            .init("first_order_error_baseline", "1", "the same for the baseline's s̃₁"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("arms.csv", ArmRow.self, "Error metrics of every s₂ arm per data set, σ and seed (tables/accuracy, tables/metrics, figures/error_vs_dimension)."),
        CSVFileDoc("ratios.csv", RatioRow.self, "Error ratio of each D2SM arm to its autodiff baseline with bootstrap intervals (tables/ratios, HO-C2)."),
        CSVFileDoc("arm_verdicts.csv", ArmVerdictRow.self, "HO-C2's verdict per arm (tables/arm_verdicts)."),
        CSVFileDoc("curves.csv", CurveRow.self, "s₂ error during training per arm (figures/error_vs_steps)."),
        CSVFileDoc("denoising.csv", DenoisingRow.self, "Denoising errors of the Tweedie denoiser, a direct regression network and the exact posterior mean per cell."),
        CSVFileDoc("tweedie_identity.csv", IdentityRow.self, "The DSM/regression identity measured on the trained s̃₁ per cell (HO-C1)."),
        CSVFileDoc("tweedie_ratios.csv", TweedieRatioRow.self, "Denoising-error ratios pooled over seeds (the oracle gap in HO-C1's notes)."),
        CSVFileDoc("head_floor.csv", HeadFloorRow.self, "How closely the rank-r + diagonal s̃₂ head can fit the exact s₂ at all, per low-rank cell (HO-C2's notes)."),
    ]

    // MARK: - Render

    func render(in run: RunDirectory) throws {
        let c = config
        let arms = try run.readRows(ArmRow.self, from: "arms.csv")
        let ratios = try run.readRows(RatioRow.self, from: "ratios.csv")
        let tw = try run.readRows(TweedieRatioRow.self, from: "tweedie_ratios.csv")
        let cv = try run.readRows(CurveRow.self, from: "curves.csv")

        var names: [String] = []
        for r in arms where !names.contains(r.dataset) { names.append(r.dataset) }
        func dim(_ n: String) -> Int { arms.first { $0.dataset == n }!.dimension }
        names.sort { dim($0) < dim($1) }
        var armOrder: [String] = []
        for r in arms where !armOrder.contains(r.arm) { armOrder.append(r.arm) }
        let seedCount = ratios.first?.seeds ?? 0
        func armRows(_ n: String, _ s: Double, _ arm: String) -> [ArmRow] { arms.filter { $0.dataset == n && $0.sigma == s && $0.arm == arm } }

        // Table 1: relative Frobenius error per arm (mean ± t-interval over seeds).
        var rows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(arms.filter { $0.dataset == n }.map(\.sigma))).sorted()
            for s in sigmas {
                var row = [n, "\(dim(n))", Format.significant(s, 2)]
                let first = Stats.meanCI(armRows(n, s, "autodiff").map(\.firstOrderError))
                row.append(Format.withError(first.mean, first.halfWidth))
                for arm in armOrder {
                    let v = armRows(n, s, arm).map(\.relativeFrobenius)
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
        var metricRows: [[String]] = []
        for n in names {
            let sigmas = Array(Set(arms.filter { $0.dataset == n }.map(\.sigma))).sorted()
            for s in sigmas {
                for arm in armOrder {
                    let rs = armRows(n, s, arm)
                    if rs.isEmpty { continue }
                    metricRows.append([n, "\(rs[0].dimension)", Format.significant(s, 2), arm]
                                      + [\ArmRow.relativeFrobenius, \.mse, \.mseSigma4, \.diagonalMSE, \.firstOrderError].map { v in
                        Format.significant(Stats.mean(rs.map { $0[keyPath: v] }), 3)
                    })
                }
            }
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "rel. Frobenius", "MSE of entries", "σ⁴·MSE", "diagonal MSE", "s̃₁ rel. error"], rows: metricRows,
                                 caption: "All error metrics of the spec's §2.2 per arm, mean over \(seedCount) seeds on \(c.testPoints) test points: relative Frobenius error, MSE of the D² entries, σ⁴-scaled MSE (posterior-covariance units, comparable across σ), MSE of the diagonal, and the first-order error of the s̃₁ the arm used.",
                                 label: "tab:ho-e1-metrics"), name: "metrics")

        // Table 2: ratios to autodiff with bootstrap intervals.
        var ratioTable: [[String]] = []
        for r in ratios {
            ratioTable.append([r.dataset, "\(r.dimension)", Format.significant(r.sigma, 2), r.arm, "\(Format.significant(r.ratio, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]"])
        }
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "err_arm / err_autodiff [95% CI]"], rows: ratioTable,
                                 caption: "Error ratio of each D2SM arm to its autodiff baseline (same s̃₁ or same N samples), two-level bootstrap over seeds and test points.",
                                 label: "tab:ho-e1-ratios"), name: "ratios")

        // Figure: error against training steps, autodiff vs D2SM-A (frozen), per data set at σ = 0.3 (or the first σ).
        var panels: [Panel] = []
        for n in names {
            let sigmas = Array(Set(cv.filter { $0.dataset == n }.map(\.sigma))).sorted()
            guard let s = sigmas.first(where: { $0 == 0.3 }) ?? sigmas.last else { continue }
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                var byStep: [Double: [Double]] = [:]
                for r in cv where r.dataset == n && r.sigma == s && r.arm == arm { byStep[Double(r.step), default: []].append(r.relativeFrobenius) }
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
        for s in Array(Set(arms.map(\.sigma))).sorted() {
            var series: [Series] = []
            for (k, arm) in ["autodiff", "D2SM-A", "D2SM-A-VR", "D2SM-B", "D2SM-B-VR", "D2SM-A-joint"].enumerated() {
                let ns = names.filter { n in arms.contains { $0.dataset == n && $0.sigma == s && $0.arm == arm } }
                if ns.isEmpty { continue }
                let est = ns.map { n in Stats.meanCI(armRows(n, s, arm).map(\.relativeFrobenius)) }
                series.append(Series(x: ns.map { Double(dim($0)) }, y: est.map { $0.mean }, yError: est.map { $0.halfWidth }, title: arm, style: .errorbars, color: k))
            }
            if !series.isEmpty {
                dimPanels.append(Panel(title: "σ = \(Format.significant(s, 2))", xLabel: "dimension D", yLabel: "relative Frobenius error", logX: true, logY: true, key: "off", series: series))
            }
        }
        if !dimPanels.isEmpty {
            let legend = Panel.legend(for: dimPanels.max { $0.series.count < $1.series.count }!.series)
            // Two rows once there are more than three slots (five in one row came out 3200 px wide).
            try run.writeFigure(Figure(name: "error_vs_dimension", panels: dimPanels + [legend], rows: dimPanels.count + 1 > 3 ? 2 : 1,
                                       title: "HO-E1: s₂ error against D (mean ± 95% CI over seeds)"))
        }

        // HO-C2: for D ≥ 10 and σ ∈ [0.05, 0.5], err(arm)/err(its autodiff baseline) < 1. The
        // decisive arm (config.primaryArm) gives the claim's checks; every arm, small-data arms
        // included, gets its own verdict in tables/arm_verdicts with the s̃₁ errors beside it.
        let c2Provenance = ThresholdProvenance.specRecon("high-order spec §5 C2: \"the D2SM estimate of s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁\": ratio < 1")
        func firstOrderError(_ n: String, _ s: Double, _ arm: String) -> Double {
            Stats.mean(armRows(n, s, arm).map(\.firstOrderError))
        }
        var c2: [ClaimCheck] = []
        var armVerdictRows: [[String]] = [], armVerdictCSV: [ArmVerdictRow] = []
        var tally: [String: [Verdict: Int]] = [:]
        for r in ratios where r.dimension >= 10 && r.sigma >= 0.05 && r.sigma <= 0.5 {
            let e = Estimate(mean: r.ratio, low: r.low, high: r.high, n: r.seeds)
            let check = ClaimCheck(statistic: "\(r.dataset), σ = \(Format.significant(r.sigma, 2)): err(\(r.arm)) / err(\(r.baseline))",
                                   estimate: e, direction: .lessThan, threshold: 1, provenance: c2Provenance,
                                   power: CheckPower.ofInterval(e, counts: "seeds (two-level bootstrap over seeds and test points)"))
            if r.arm == c.primaryArm { c2.append(check) }
            tally[r.arm, default: [:]][check.verdict, default: 0] += 1
            let e1Arm = firstOrderError(r.dataset, r.sigma, r.arm), e1Base = firstOrderError(r.dataset, r.sigma, r.baseline)
            armVerdictRows.append([r.dataset, "\(r.dimension)", Format.significant(r.sigma, 2), r.arm + (r.arm == c.primaryArm ? " (decisive)" : ""), r.baseline,
                                   "\(Format.significant(r.ratio, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]", check.verdict.rawValue,
                                   Format.significant(e1Arm, 3), Format.significant(e1Base, 3)])
            armVerdictCSV.append(ArmVerdictRow(dataset: r.dataset, dimension: r.dimension, sigma: r.sigma, arm: r.arm, baseline: r.baseline, ratio: r.ratio,
                                               low: r.low, high: r.high, verdict: check.verdict.rawValue, firstOrderErrorArm: e1Arm,
                                               firstOrderErrorBaseline: e1Base))
        }
        try run.writeRows(armVerdictCSV, to: "arm_verdicts.csv")
        try run.writeTable(Table(header: ["data", "D", "σ", "arm", "baseline", "err_arm / err_baseline [95% CI]", "verdict (< 1)", "s̃₁ rel. error (arm)", "s̃₁ rel. error (baseline)"],
                                 rows: armVerdictRows,
                                 caption: "HO-C2 per arm (D ≥ 10, σ ∈ [0.05, 0.5]): each D2SM arm against its autodiff baseline, with the verdict of ratio < 1 and the first-order errors of the s̃₁ each side used. The decisive arm is \(c.primaryArm) (the authors' joint training); -N arms train both networks on N fixed samples (the spec names data size as a factor).",
                                 label: "tab:ho-e1-arm-verdicts"), name: "arm_verdicts")
        // Issue 17, "done means": a "not supported" says why it is a finding about the claim and
        // not about the set-up — from the numbers: head representability (full heads up to
        // fullHeadMaxDimension; the computed floor of the low-rank head above it), the plateau
        // rule, and which arms, if any, do beat autodiff.
        // A result committed before the head-floor unit group existed has no head_floor.csv;
        // it still re-renders (without the floor) until a rerun computes that group.
        let floors = FileManager.default.fileExists(atPath: run.file("head_floor.csv").path)
            ? try run.readRows(HeadFloorRow.self, from: "head_floor.csv") : []
        var floorParts: [String] = []
        var floorKeys: [String] = []
        // Whether every low-rank cell's floor is below its autodiff error (the head is then not
        // what decides those checks).
        var floorsBelowAutodiff = true
        for f in floors where !floorKeys.contains("\(f.dataset)|\(f.sigma)") { floorKeys.append("\(f.dataset)|\(f.sigma)") }
        for key in floorKeys {
            let here = floors.filter { "\($0.dataset)|\($0.sigma)" == key }
            let (n, s) = (here[0].dataset, here[0].sigma)
            let floor = Stats.mean(here.map(\.relativeFrobenius))
            let autodiff = Stats.mean(armRows(n, s, "autodiff").map(\.relativeFrobenius))
            let decisive = Stats.mean(armRows(n, s, c.primaryArm).map(\.relativeFrobenius))
            if !(floor < autodiff) { floorsBelowAutodiff = false }
            floorParts.append("\(n), σ = \(Format.significant(s, 2)): floor \(Format.significant(floor, 3)) (seeds \(Format.significant(here.map(\.relativeFrobenius).min()!, 3))–\(Format.significant(here.map(\.relativeFrobenius).max()!, 3))) against autodiff \(Format.significant(autodiff, 3)) and \(c.primaryArm) \(Format.significant(decisive, 3))")
        }
        let floorNote = floorParts.isEmpty ? "" : " Head representability (head_floor.csv): for D > \(c.fullHeadMaxDimension) the head is rank-\(c.rank) + diagonal (UUᵀ + diag(d)), which can fit the exact s₂ at the cells' own test points to within (mean relative Frobenius error of an alternating exact fit, an upper bound on its best fit) " + floorParts.joined(separator: "; ") + "."
        var findingNote = ""
        if c2.contains(where: { $0.verdict == .notSupported }) {
            let fullHead = ratios.filter { $0.arm == c.primaryArm && $0.dimension >= 10 && $0.dimension <= c.fullHeadMaxDimension && $0.sigma >= 0.05 && $0.sigma <= 0.5 }
            let ahead = tally.keys.sorted().filter { (tally[$0]?[.supported] ?? 0) > 0 }.map { arm in
                "\(arm) (\(tally[arm]![.supported]!) of \(tally[arm]!.values.reduce(0, +)) cells\(arm.contains("-N") ? ", s̃₁ fitted to few samples" : ""))"
            }
            // The networks of the decisive comparison (its arm and autodiff, in the claim's cells)
            // that stopped at the step cap instead of at the plateau.
            let decisive = arms.filter { $0.dimension >= 10 && $0.sigma >= 0.05 && $0.sigma <= 0.5 && ($0.arm == c.primaryArm || $0.arm == "autodiff") }
            let capped = decisive.filter { $0.stepsTrained >= c.steps }.count
            let cappedSmall = arms.filter { $0.arm.contains("-N") && $0.stepsTrained >= c.steps }.count
            findingNote = " Why this reads as a finding about the claim at this scale and not about the set-up: "
                + (fullHead.isEmpty ? "" : "in the \(fullHead.count) cells with 10 ≤ D ≤ \(c.fullHeadMaxDimension) the head is a full D² matrix, which can represent any symmetric s₂, and there the decisive ratio is \(Format.significant(fullHead.map(\.ratio).min()!, 3))–\(Format.significant(fullHead.map(\.ratio).max()!, 3)) with \(fullHead.filter { $0.low > 1 }.count) of \(fullHead.count) intervals wholly above 1; ")
                + (floorKeys.isEmpty ? "" : floorsBelowAutodiff ? "above D = \(c.fullHeadMaxDimension) the low-rank head can fit s₂ more closely than autodiff's error in every cell (above); " : "above D = \(c.fullHeadMaxDimension) the low-rank head's floor is not below autodiff's error in every cell (above), so those cells may be lost by construction; ")
                + (c.plateau == nil ? "" : capped == 0 ? "all \(decisive.count) networks of the decisive comparison stopped at the plateau rule before the \(c.steps)-step cap; " : "\(capped) of the \(decisive.count) networks of the decisive comparison stopped at the \(c.steps)-step cap, the rest at the plateau rule; ")
                + "both sides' s̃₁ errors are in tables/arm_verdicts. D2SM beats autodiff "
                + (ahead.isEmpty ? "in no arm." : "only in " + ahead.joined(separator: ", ") + ".")
                + (cappedSmall == 0 ? "" : " (\(cappedSmall) small-data networks stopped at the step cap with their held-out loss still improving by the plateau rule's measure.)")
        }
        let tallyNote = tally.keys.sorted().map { arm in
            let t = tally[arm]!
            return "\(arm): \(t[.supported] ?? 0) supported, \(t[.notSupported] ?? 0) not supported, \(t[.inconclusive] ?? 0) inconclusive"
        }.joined(separator: "; ")
        // HO-C1 (issue 17): the identity itself — σ⁴·DSM loss = regression loss of h = x̃ + σ²s̃₁
        // and equal parameter gradients — on the trained network, per (data set, σ), over seeds.
        // The former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± 0.02, equals
        // 1 + σ⁴E‖s̃₁ − s₁‖²/MSE_Bayes ≥ 1 for any imperfect s̃₁: it measured training quality, and
        // is now reported as the oracle gap (information).
        let ident = try run.readRows(IdentityRow.self, from: "tweedie_identity.csv")
        let idTol = c.identityTolerance ?? 1e-3
        let idProvenance = ThresholdProvenance.ours("the identity is exact; ±\(idTol) covers \(c.precision.label) round-off through the network (≈ 1e-6) with three orders of margin, while a scale, sign or target error in the DSM loss moves these ratios by ≥ 1e-2")
        var c1: [ClaimCheck] = []
        var gaps: [String] = []
        for t in tw {
            let here = ident.filter { $0.dataset == t.dataset && $0.sigma == t.sigma }
            let value = Stats.meanCI(here.map(\.valueRatio)), coef = Stats.meanCI(here.map(\.gradientCoefficient))
            let cosine = here.map(\.gradientCosine).min() ?? .nan
            let cell = "\(t.dataset), σ = \(Format.significant(t.sigma, 2))"
            c1.append(ClaimCheck(statistic: "\(cell): σ⁴·DSM loss / regression loss of x̃ + σ²s̃₁", estimate: value, direction: .within, threshold: 1,
                                 tolerance: idTol, provenance: idProvenance))
            c1.append(ClaimCheck(statistic: "\(cell): parameter-gradient coefficient, σ⁴·∇DSM on ∇regression (min cosine \(Format.significant(cosine, 8)))",
                                 estimate: coef, direction: .within, threshold: 1, tolerance: idTol, provenance: idProvenance))
            gaps.append("\(cell): \(Format.significant(t.ratioBayes, 4)) [\(Format.significant(t.lowBayes, 4)), \(Format.significant(t.highBayes, 4))]"
                        + (t.ratioRegression.isNaN ? "" : ", vs direct regression network \(Format.significant(t.ratioRegression, 3)) [\(Format.significant(t.lowRegression, 3)), \(Format.significant(t.highRegression, 3))]"))
        }
        let command = "make ho-e1-hessian-accuracy SCALE=\(options.scale.rawValue)"
        let note = "Protocol [RECON]: Gaussian-mixture ground truth, Softplus MLPs (\(c.precision.label)), \(c.plateau == nil ? "\(c.steps) Adam steps per network" : "Adam to a held-out-loss plateau (at most \(c.steps) steps) per network"), batch \(c.batchSize), lr \(c.learningRate); two-level bootstrap over \(seedCount) seeds and \(c.testPoints) test points."
        try run.writeClaims([
            ClaimResult(claim: "HO-C2", scope: "At equal training budget, for D ≥ 10 and σ ∈ [0.05, 0.5], D2SM's s₂ has lower relative Frobenius error than the symmetrised Jacobian of the DSM-trained s̃₁.",
                        experiment: Self.experimentID, command: command, checks: c2, seeds: seedCount,
                        notes: note + " Decisive arm \(c.primaryArm) (the authors' set-up: form A trained jointly with s̃₁, no detaching). Per-arm verdicts (tables/arm_verdicts, with s̃₁ errors): \(tallyNote). What changed and why (issue 17): a full D² head at D = 50 (the rank-8 + diagonal head cannot represent that target: best fit 0.45 relative error, so those checks were lost by construction); the decisive arm is the authors' joint set-up, stated before the rerun, and every arm, small-data arms included, gets its own verdict. Training: \(c.plateau.map { "every network " + $0.description + ", capped at \(c.steps) steps (steps per arm in arms.csv)" } ?? "a fixed \(c.steps) steps")." + floorNote + findingNote),
            ClaimResult(claim: "HO-C1", scope: "DSM is Tweedie's formula: the denoiser x̃ + σ²s̃₁ matches least-squares regression of x on x̃ (within 2%); the Tweedie identities hold numerically (unit tests).",
                        experiment: Self.experimentID, command: command, checks: c1, seeds: seedCount,
                        notes: note + " The second-order Tweedie identities are checked by Monte Carlo in ScoreKitTests (SecondOrderDSMMonteCarloTests). What changed and why (issue 17): the checks now test the identity itself (σ⁴·DSM = regression loss of x̃ + σ²s̃₁, equal gradients) on the trained network; the former check, MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) within 1 ± \(c.c1Tolerance), is ≥ 1 for any imperfect s̃₁ and measured training quality. Oracle gap MSE(x̃ + σ²s̃₁)/MSE(E[x | x̃]) (information): " + gaps.joined(separator: "; ") + "."),
        ])
        print(Table(header: ["data", "D", "σ", "s̃₁ err"] + armOrder, rows: rows).markdown())
        print(Table(header: ["data", "D", "σ", "arm", "ratio"], rows: ratioTable).markdown())
    }
}
