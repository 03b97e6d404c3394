// Known-answer tests of issue 29's HO-C5/HO-C6 statistics: the complement ratio and the
// noise-direction diagnostics on a Gaussian toy with exact s₂ and on a covariance inflated along
// one direction; Spearman against a constant map; the variance-weighted null on a case with no
// structure beyond the variance map (and one with structure); the learning-curve rule; the
// two-level bootstrap; form-B training and the snapshot property of the second-order trainer.
import Foundation
import ScoreKit
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite struct PosteriorDiagnosticsTests {
    /// A Gaussian toy in D dimensions with a non-diagonal prior covariance C = Q diag(c) Qᵀ.
    /// Exact: s₂ = −(C + σ²I)⁻¹ (constant), s₁(x̃) = s₂(x̃ − μ), Cov[x | x̃] = σ⁴s₂ + σ²I.
    struct Toy {
        let d: Int, sigma: Double
        let mu: [Double], q: [Double], c: [Double]   // q: [D, D] row-major, columns orthonormal
        init(d: Int, sigma: Double, seed: UInt64) throws {
            self.d = d
            self.sigma = sigma
            var rng = Xoshiro256(seed: seed)
            var a = Tensor<Double>(shape: [d, d])
            for i in 0..<d { for j in 0...i { let v = rng.nextNormal(); a.scalars[i * d + j] = v; a.scalars[j * d + i] = v } }
            q = try a.symmetricEigen().vectors.scalars
            c = (0..<d).map { 0.005 + 0.3 * pow(Double($0 + 1) / Double(d), 2) }
            mu = (0..<d).map { _ in rng.nextUniform() }
        }
        /// ∑_k Q_ik f(c_k) Q_jk.
        func matrix(_ f: (Double) -> Double) -> [Double] {
            var m = [Double](repeating: 0, count: d * d)
            for i in 0..<d { for j in 0..<d { for k in 0..<d { m[i * d + j] += q[i * d + k] * f(c[k]) * q[j * d + k] } } }
            return m
        }
        /// Exact s₂ = −(C + σ²I)⁻¹ as a full head row (M = s₂, symmetric).
        var s2: [Double] { matrix { -1 / ($0 + sigma * sigma) } }
        /// A draw (x, x̃) and the exact mean m = x̃ + σ²s₂(x̃ − μ).
        func draw(_ rng: inout Xoshiro256) -> (x: [Double], xt: [Double], m: [Double]) {
            let xi = (0..<d).map { _ in rng.nextNormal() }
            let x = (0..<d).map { i in mu[i] + (0..<d).reduce(0.0) { $0 + q[i * d + $1] * c[$1].squareRoot() * xi[$1] } }
            let xt = x.map { $0 + sigma * rng.nextNormal() }
            let s = s2
            let m = (0..<d).map { i in xt[i] + sigma * sigma * (0..<d).reduce(0.0) { $0 + s[i * d + $1] * (xt[$1] - mu[$1]) } }
            return (x, xt, m)
        }
        /// Diagnostics of one image for a predicted full head row.
        func diagnostics(head: [Double], x: [Double], xt: [Double], m: [Double]) throws -> (PosteriorImageDiagnostics, PosteriorCovariance) {
            let cov = PosteriorCovariance(head: Tensor<Double>(shape: [1, d * d], scalars: head), row: 0, dimension: d, sigma: sigma, structure: .full)
            let pairs = try cov.topEigenpairs(d)
            return (PosteriorImageDiagnostics.evaluate(variances: cov.variances, top: Array(pairs.prefix(2)), clean: x, mean: m, noisy: xt), cov)
        }
    }

    /// Relative standard error of Σ_images ‖x − m‖² for a Gaussian posterior Σ over n images:
    /// Var ‖e‖² = 2 tr(Σ²), so SE/mean = √(2 tr(Σ²)/n)/tr Σ (an upper bound for the complement).
    static func ratioSE(_ cov: PosteriorCovariance, n: Int) -> Double {
        let m = cov.matrix, d = cov.dimension
        var tr = 0.0, tr2 = 0.0
        for i in 0..<d { tr += m.scalars[i * d + i]; for j in 0..<d { tr2 += m.scalars[i * d + j] * m.scalars[i * d + j] } }
        return (2 * tr2 / Double(n)).squareRoot() / tr
    }

    /// With the exact s₂ the clamped, unclamped and complement ratios are 1 within Monte-Carlo
    /// error, λ₁ is the exact top eigenvalue 1/(1/c_max + 1/σ²), and the calibration curve by
    /// decile lies on the diagonal.
    @Test func gaussianToyWithExactSecondOrderScoreGivesRatioOne() throws {
        let toy = try Toy(d: 8, sigma: 0.5, seed: 3)
        let n = 3_000
        var rng = Xoshiro256(seed: 4)
        var diag: [PosteriorImageDiagnostics] = []
        var cov: PosteriorCovariance?
        var predicted: [Double] = [], realised: [Double] = []
        for _ in 0..<n {
            let (x, xt, m) = toy.draw(&rng)
            let (g, cv) = try toy.diagnostics(head: toy.s2, x: x, xt: xt, m: m)
            diag.append(g)
            cov = cv
            predicted += cv.variances
            realised += zip(x, m).map { ($0 - $1) * ($0 - $1) }
        }
        let se = Self.ratioSE(cov!, n: n)
        let tolerance = Tolerance.monteCarloSigmas * se  // ≈ 4 × 0.011
        for kind in PosteriorImageDiagnostics.RatioKind.allCases {
            let r = PosteriorImageDiagnostics.ratio(diag, kind)
            #expect(abs(r - 1) <= tolerance, "\(kind) ratio \(r), tolerance \(tolerance)")
        }
        // The exact Σ is positive definite: no clamping, so clamped = unclamped exactly.
        #expect(PosteriorImageDiagnostics.ratio(diag, .clamped) == PosteriorImageDiagnostics.ratio(diag, .unclamped))
        let s2 = toy.sigma * toy.sigma
        let exactTop = 1 / (1 / toy.c.max()! + 1 / s2)
        #expect(abs(diag[0].lambda1 - exactTop) <= Tolerance.float64Ops * 1e2)
        // Calibration by decile: each bin's mean realised squared error matches its predicted
        // variance (n·D/10 = 2400 pairs per bin: relative SE √(2/2400) ≈ 0.029).
        for b in CalibrationCurve.bins(predicted: predicted, realised: realised, bins: 10) {
            #expect(abs(b.meanRealised / b.meanPredicted - 1) <= Tolerance.monteCarloSigmas * (2.0 / Double(b.count)).squareRoot(), "bin \(b.bin)")
        }
    }

    /// A covariance inflated along the noise direction n̂ = (x̃ − m)/‖x̃ − m‖ (Σ' = Σ + a n̂n̂ᵀ,
    /// the audit's pattern): the diagnostics flag it: u₁ is n̂ (|cos| > 0.99), the full ratio
    /// exceeds 1 by about a/E[tr Σ], and the complement ratio stays at 1.
    @Test func oneDirectionInflatedCovarianceIsFlagged() throws {
        let toy = try Toy(d: 8, sigma: 0.5, seed: 5)
        let n = 3_000, d = toy.d
        let a = 2.0  // ≈ 3.5 × tr Σ (≈ 0.57) of this toy, so u₁ is n̂ to within ‖Σ‖/a
        var rng = Xoshiro256(seed: 6)
        var diag: [PosteriorImageDiagnostics] = []
        var exactTrace = 0.0
        var seCov: PosteriorCovariance?
        for _ in 0..<n {
            let (x, xt, m) = toy.draw(&rng)
            let noise = zip(xt, m).map { $0 - $1 }
            let norm = noise.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let u = noise.map { $0 / norm }
            var head = toy.s2
            let s4 = pow(toy.sigma, 4)
            for i in 0..<d { for j in 0..<d { head[i * d + j] += a / s4 * u[i] * u[j] } }
            let (g, _) = try toy.diagnostics(head: head, x: x, xt: xt, m: m)
            let (exact, cv) = try toy.diagnostics(head: toy.s2, x: x, xt: xt, m: m)
            exactTrace += exact.predictedTrace
            seCov = cv
            diag.append(g)
        }
        let cosineThreshold = 0.99
        #expect(diag.allSatisfy { $0.noiseCosine > cosineThreshold })
        let full = PosteriorImageDiagnostics.ratio(diag, .unclamped)
        let expectedFull = (exactTrace + a * Double(n)) / exactTrace
        let tolerance = Tolerance.monteCarloSigmas * Self.ratioSE(seCov!, n: n)
        #expect(abs(full / expectedFull - 1) <= tolerance, "full ratio \(full), expected \(expectedFull)")
        #expect(full > 2)  // the inflation is visible in the full ratio …
        let complement = PosteriorImageDiagnostics.ratio(diag, .complement)
        #expect(abs(complement - 1) <= tolerance, "complement ratio \(complement)")  // … and absent from the complement
        #expect(diag.allSatisfy { $0.lambda1 > a && $0.lambda1 - $0.lambda2 > 0.5 * a })
    }

    /// Spearman ρ: ties share average ranks; a monotone map scores 1, a reversed one −1; a
    /// constant map scores exactly 0 and cannot pass HO-C5's check ρ > 0.
    @Test func spearmanAndTheConstantMap() {
        #expect(RankCorrelation.ranks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2])
        let e = [0.1, 0.5, 0.02, 0.3, 0.9, 0.05]
        #expect(abs(RankCorrelation.spearman(e.map { $0 * $0 + 1 }, e) - 1) <= Tolerance.float64Ops)
        #expect(abs(RankCorrelation.spearman(e.map { -$0 }, e) + 1) <= Tolerance.float64Ops)
        #expect(RankCorrelation.spearman(e.map { _ in 0.25 }, e) == 0)
        // Per image, a constant map against random squared errors: every ρ is 0, so the mean's
        // interval is [0, 0] and the check "ρ > 0" reads not supported.
        var rng = Xoshiro256(seed: 9)
        let perImage = (0..<50).map { _ in RankCorrelation.spearman([Double](repeating: 0.1, count: 64), (0..<64).map { _ in pow(rng.nextNormal(), 2) }) }
        let est = Stats.twoLevelMeanBootstrapCI([perImage], resamples: 500, seed: 1)
        let check = ClaimCheck(statistic: "constant map ρ", estimate: est, direction: .greaterThan, threshold: 0)
        #expect(check.verdict != .supported)
        // An informative map (the true per-pixel variance of the errors) passes.
        let v = (0..<64).map { 0.01 + 0.2 * Double($0) / 64 }
        let informative = (0..<50).map { _ in RankCorrelation.spearman(v, v.map { $0 * pow(rng.nextNormal(), 2) }) }
        #expect(ClaimCheck(statistic: "true map ρ", estimate: Stats.twoLevelMeanBootstrapCI([informative], resamples: 500, seed: 2),
                           direction: .greaterThan, threshold: 0).verdict == .supported)
    }

    /// Per image: a random stroke mask, a variance map higher on the mask, and an "eigenvector"
    /// that is itself a variance-weighted random direction (no structure beyond the variance
    /// map). The weighted null does not reject (the mean difference is within Monte-Carlo error
    /// of 0 and the check is not supported), while the isotropic null of the pre-audit check
    /// does; an eigenvector concentrated on the mask beyond the variance map is detected.
    @Test func weightedNullDoesNotRejectWithoutStructure() {
        let d = 64, images = 300, directions = 20
        var rng = Xoshiro256(seed: 12)
        var none: [Double] = [], old: [Double] = [], structured: [Double] = []
        for _ in 0..<images {
            let mask = (0..<d).map { _ in rng.nextUniform() < 0.3 }
            let v = mask.map { $0 ? 0.05 + 0.15 * rng.nextUniform() : 0.002 + 0.02 * rng.nextUniform() }
            let u = VarianceWeightedNull.direction(weights: v, using: &rng)
            let weighted = VarianceWeightedNull.meanShare(weights: v, mask: mask, count: directions, using: &rng)
            none.append(StrokeShare.share(u, mask: mask) - weighted)
            let iso = (0..<directions).map { _ in StrokeShare.share((0..<d).map { _ in rng.nextNormal() }, mask: mask) }
            old.append(StrokeShare.share(u, mask: mask) - Stats.mean(iso))
            // Structure: the weighted direction with its off-mask part shrunk 3×.
            let s = zip(u, mask).map { $1 ? $0 : $0 / 3 }
            structured.append(StrokeShare.share(s, mask: mask) - weighted)
        }
        let est = Stats.twoLevelMeanBootstrapCI([none], resamples: 1_000, seed: 3)
        #expect(ClaimCheck(statistic: "no structure, weighted null", estimate: est, direction: .greaterThan, threshold: 0).verdict != .supported)
        #expect(abs(est.mean) <= Tolerance.monteCarloSigmas * Stats.standardError(none))
        #expect(ClaimCheck(statistic: "no structure, isotropic null", estimate: Stats.twoLevelMeanBootstrapCI([old], resamples: 1_000, seed: 4),
                           direction: .greaterThan, threshold: 0).verdict == .supported)
        #expect(ClaimCheck(statistic: "structure, weighted null", estimate: Stats.twoLevelMeanBootstrapCI([structured], resamples: 1_000, seed: 5),
                           direction: .greaterThan, threshold: 0).verdict == .supported)
    }

    /// The noise direction is told from the eigen-image: Σ = σ²-ish floor + a n̂n̂ᵀ + b ggᵀ with
    /// g ⟂ n̂ and a > b; u₁ is flagged (|cos| > 0.5, HO-E4's threshold) and u₂ = g is not.
    @Test func noiseDirectionIsToldApart() throws {
        let d = 64, r = 2, sigma = 0.5
        var rng = Xoshiro256(seed: 14)
        let noise = (0..<d).map { _ in rng.nextNormal() }
        let nn = noise.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let n = noise.map { $0 / nn }
        var g = (0..<d).map { _ in rng.nextNormal() }
        let p = zip(g, n).reduce(0) { $0 + $1.0 * $1.1 }
        g = zip(g, n).map { $0 - p * $1 }
        let gn = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        g = g.map { $0 / gn }
        // Low-rank head: U = [√(a/σ⁴) n̂, √(b/σ⁴) g], diagonal −0.9/σ² (Σ floor 0.1σ²).
        let (a, b) = (0.5, 0.2)
        let s4 = pow(sigma, 4)
        let head = n.map { $0 * (a / s4).squareRoot() } + g.map { $0 * (b / s4).squareRoot() } + [Double](repeating: -0.9 / (sigma * sigma), count: d)
        let cov = PosteriorCovariance(head: Tensor<Double>(shape: [1, head.count], scalars: head), row: 0, dimension: d, sigma: sigma, structure: .lowRank(rank: r))
        let top = try cov.topEigenpairs(2)
        let threshold = 0.5
        #expect(NoiseDirection.absoluteCosine(top[0].vector, noise) > 1 - Tolerance.float64Ops * 1e3)
        #expect(NoiseDirection.absoluteCosine(top[1].vector, noise) < threshold)
        #expect(NoiseDirection.absoluteCosine(top[1].vector, g) > 1 - Tolerance.float64Ops * 1e3)
        #expect(abs(top[0].value - (a + 0.1 * sigma * sigma)) <= Tolerance.float64Ops * 1e2)
    }

    /// The learning-curve rule: stable below the relative change, not above, never from one point.
    @Test func learningCurveRule() {
        #expect(LearningCurveRule.isStable([2, 1.5, 1.45], tolerance: 0.05))      // 3.3 %
        #expect(!LearningCurveRule.isStable([2, 1.5, 1.35], tolerance: 0.05))     // 10 %
        #expect(!LearningCurveRule.isStable([1.3], tolerance: 0.05))
        #expect(!LearningCurveRule.isStable([1.3, .nan], tolerance: 0.05))
        #expect(abs(LearningCurveRule.lastChange([2, 1.5, 1.35]) - 0.1) <= Tolerance.float64Ops)
    }

    /// The two-level bootstrap: constant groups give a point interval; its centre is the mean of
    /// group means (equal weight per group, whatever the group sizes).
    @Test func twoLevelBootstrap() {
        let e = Stats.twoLevelMeanBootstrapCI([[2, 2, 2], [2, 2]], resamples: 200, seed: 1)
        #expect(e.mean == 2 && e.low == 2 && e.high == 2 && e.n == 2)
        let f = Stats.twoLevelMeanBootstrapCI([[1, 1, 1, 1], [3]], resamples: 200, seed: 1)
        #expect(abs(f.mean - 2) <= Tolerance.float64Ops && f.low <= 2 && f.high >= 2)
    }
}

@Suite(.serialized) struct ImageSecondOrderFormTests {
    static func config(steps: Int = 6, form: SecondOrderForm? = nil) -> ImageSecondOrderTrainingConfig {
        ImageSecondOrderTrainingConfig(baseChannels: 8, height: 8, width: 8, sigma: 0.5, structure: .lowRank(rank: 2), lossScale: 0.0625,
                                       data: "synthetic", steps: steps, batchSize: 4, learningRate: 1e-3, emaDecay: 0.9, emaBiasCorrected: true,
                                       checkpointEvery: 2, seed: 3, form: form)
    }

    /// Form nil (A) keeps the configuration JSON of before the option (no "form" key), form B
    /// changes it, trains with finite losses and leaves s̃₁ to DSM-VR; and step 4 of a 6-step run
    /// equals the end of a 4-step run (parameters and EMA), which the learning-curve snapshots
    /// rely on.
    @Test func formBAndSnapshots() throws {
        try Parallel.inline {
            #expect(!(try Self.config().json()).contains("form"))
            #expect(try Self.config(form: .b).json().contains("\"form\":\"B\""))
            #expect(Self.config(form: .b).loss.form == .b && Self.config().loss.form == .a)
            let data = try syntheticImages(count: 20, seed: 7).images
            let b = try ImageSecondOrderTrainer(config: Self.config(form: .b), source: .images(data))
            for _ in 0..<3 { #expect(b.trainStep().isFinite) }
            let long = try ImageSecondOrderTrainer(config: Self.config(steps: 6), source: .images(data))
            for _ in 0..<4 { long.trainStep() }
            let short = try ImageSecondOrderTrainer(config: Self.config(steps: 4), source: .images(data))
            try short.train(checkpoint: nil)
            #expect(short.step == 4)
            #expect(long.network.namedParameters().map(\.value) == short.network.namedParameters().map(\.value))
            #expect(long.ema.shadow == short.ema.shadow)
        }
    }
}

/// Shipping one-σ second-order models (HO-E4, HO-E6; save-reference and `resample`): the shipped
/// file scores exactly as the trained model's EMA network and is smaller than the checkpoint;
/// the two shipped kinds are told apart.
@Suite(.serialized) struct ShippedSecondOrderModelTests {
    @Test func shippedSecondOrderModelEvaluatesAsTheTrainedOne() throws {
        try Parallel.inline {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shipped-second-order-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let config = ImageSecondOrderFormTests.config(steps: 4)
            let data = try syntheticImages(count: 20, seed: 7).images
            let trainer = try ImageSecondOrderTrainer(config: config, source: .images(data))
            let checkpoint = dir.appendingPathComponent("m.h5")
            try trainer.train(checkpoint: checkpoint)
            let shipped = dir.appendingPathComponent("shipped/m.h5")
            try ShippedModel.export(checkpoint: checkpoint, to: shipped)
            #expect(try ShippedModel.kind(of: shipped) == ShippedModel.secondOrderKind)
            let model = try ShippedModel.loadSecondOrder(shipped)
            #expect(model.config == config)
            let reference = try ImageSecondOrderModel.load(checkpoint: checkpoint, config: config)
            let x = data.gatherRows([0, 1, 2])
            var s1 = Tensor<Float>(shape: [0]), h1 = Tensor<Float>(shape: [0]), s2 = Tensor<Float>(shape: [0]), h2 = Tensor<Float>(shape: [0])
            model.evaluate(x, score: &s1, head: &h1)
            reference.evaluate(x, score: &s2, head: &h2)
            #expect(s1.scalars == s2.scalars && h1.scalars == h2.scalars)
            let sizes = try [checkpoint.path, shipped.path].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
            #expect(sizes[1] * 2 < sizes[0], "shipped \(sizes[1]) bytes against the checkpoint's \(sizes[0])")
            // A shipped second-order file is not an annealed score network, and vice versa.
            #expect(throws: (any Error).self) { _ = try ShippedModel.load(shipped) }
            #expect(throws: (any Error).self) { _ = try ShippedModel.loadSecondOrder(checkpoint) }
        }
    }
}
