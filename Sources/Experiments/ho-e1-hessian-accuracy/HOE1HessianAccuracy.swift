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
struct HOE1HessianAccuracy: TypedVerdicts {
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
}
