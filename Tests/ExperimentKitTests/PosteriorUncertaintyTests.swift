import Foundation
import ScoreKit
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite struct PosteriorUncertaintyTests {
    /// A random head row of `structure` in D dimensions.
    static func head(_ structure: SecondOrderStructure, dimension d: Int, seed: UInt64) -> Tensor<Double> {
        var rng = Xoshiro256(seed: seed)
        let w = structure.width(dimension: d)
        return Tensor(shape: [1, w], scalars: (0..<w).map { _ in rng.nextNormal() })
    }

    /// Σ from LAPACK's eigenpairs, Σ_k λ_k v_k (v_kᵀu), equals Σu computed from the head's factors
    /// (U(Uᵀu) + d∘u, never forming Σ) and the dense Σ times u, for random u; the eigenvalues
    /// come largest first and the vectors are orthonormal.
    @Test(arguments: [SecondOrderStructure.lowRank(rank: 10), .lowRank(rank: 3), .diagonal, .full])
    func eigenDecompositionReproducesProducts(structure: SecondOrderStructure) throws {
        let d = 24, sigma = 0.5
        let cov = PosteriorCovariance(head: Self.head(structure, dimension: d, seed: 11), row: 0, dimension: d, sigma: sigma, structure: structure)
        let pairs = try cov.topEigenpairs(d)
        #expect(pairs.count == d)
        #expect(zip(pairs, pairs.dropFirst()).allSatisfy { $0.value >= $1.value })
        var rng = Xoshiro256(seed: 5)
        let dense = cov.matrix
        for _ in 0..<5 {
            let u = (0..<d).map { _ in rng.nextNormal() }
            let direct = cov.apply(u)
            var spectral = [Double](repeating: 0, count: d)
            for p in pairs {
                let proj = zip(p.vector, u).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<d { spectral[i] += p.value * proj * p.vector[i] }
            }
            let viaMatrix = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + dense.scalars[i * d + $1] * u[$1] } }
            let scale = direct.map(abs).max()!
            for i in 0..<d {
                #expect(abs(spectral[i] - direct[i]) <= Tolerance.float64Ops * 1e2 * scale)  // dsyevd backward error ~ D·ulp·‖Σ‖
                #expect(abs(viaMatrix[i] - direct[i]) <= Tolerance.float64Ops * scale)
            }
        }
        for a in 0..<3 {
            for b in 0..<3 {
                let dot = zip(pairs[a].vector, pairs[b].vector).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(dot - (a == b ? 1 : 0)) <= Tolerance.float64Ops * 1e2)
            }
        }
        // The variance map is the diagonal of the dense Σ.
        let v = cov.variances
        for i in 0..<d { #expect(abs(v[i] - dense.scalars[i * d + i]) <= Tolerance.float64Ops * max(1, abs(v[i]))) }
    }

    /// Gaussian toy with exact posterior: x_j ~ N(μ_j, c_j) independent, x̃ = x + σz. Then
    /// Cov[x | x̃] = diag(v), v_j = c_jσ²/(c_j + σ²), and m = μ + c/(c + σ²)(x̃ − μ). With the exact
    /// m and v the statistic finds r ≈ 1 across pixels, a mean ratio ≈ 1, the pooled r of the
    /// closed form, and a ratio of 2 when the predicted variance is doubled.
    @Test func calibrationRecoversTheExactAnswer() {
        let d = 16, n = 4_000, sigma = 0.5
        var rng = Xoshiro256(seed: 21)
        let c = (0..<d).map { 0.02 + 0.5 * Double($0) / Double(d) }
        let mu = (0..<d).map { _ in rng.nextUniform() }
        let v = c.map { $0 * sigma * sigma / ($0 + sigma * sigma) }
        var errors: [Double] = [], predicted: [Double] = []
        for _ in 0..<n {
            for j in 0..<d {
                let x = mu[j] + c[j].squareRoot() * rng.nextNormal()
                let xt = x + sigma * rng.nextNormal()
                let m = mu[j] + c[j] / (c[j] + sigma * sigma) * (xt - mu[j])
                errors.append((x - m) * (x - m))
                predicted.append(v[j])
            }
        }
        let cal = VarianceCalibration.evaluate(squaredErrors: errors, predicted: predicted, dimension: d)
        // Per-pixel means of v·χ²₁ over n images have relative SE √(2/n) ≈ 0.022; across 16
        // pixels whose v spans a factor ≈ 10, r stays above 0.99.
        #expect(cal.pixelMeanPearson > 0.99)
        // E[(x − m)²] over nD draws: relative SE √(2/(nD)) ≈ 0.0056.
        let ratioSE = (2.0 / Double(n * d)).squareRoot()
        #expect(abs(cal.ratio - 1) <= Tolerance.monteCarloSigmas * ratioSE)
        // Pooled r: SE ≈ (1 − r²)/√N with N = nD draws.
        let exact = VarianceCalibration.exactPooledPearson(variances: predicted)
        #expect(abs(cal.pooledPearson - exact) <= Tolerance.monteCarloSigmas * (1 - exact * exact) / Double(n * d).squareRoot())
        let doubled = VarianceCalibration.evaluate(squaredErrors: errors, predicted: predicted.map { 2 * $0 }, dimension: d)
        #expect(abs(doubled.ratio - 2) <= Tolerance.monteCarloSigmas * 2 * ratioSE)
        #expect(abs(doubled.pixelMeanPearson - cal.pixelMeanPearson) <= Tolerance.float64Ops)
    }

    /// The stroke share of a direction: closed forms for indicator directions.
    @Test func strokeShare() {
        let mask = StrokeShare.mask(clean: [0, 0.5, 0, 0.05], mean: [0, 0, 0.2, 0.05])
        #expect(mask == [false, true, true, false])
        #expect(abs(StrokeShare.share([1, 1, 1, 1], mask: mask) - 0.5) <= Tolerance.float64Ops)
        #expect(abs(StrokeShare.share([0, 3, 4, 0], mask: mask) - 1) <= Tolerance.float64Ops)
        #expect(abs(StrokeShare.share([2, 0, 1, 0], mask: mask) - 0.2) <= Tolerance.float64Ops)
    }
}

@Suite(.serialized) struct ImageSecondOrderTrainingTests {
    static func config(_ structure: SecondOrderStructure = .lowRank(rank: 2)) -> ImageSecondOrderTrainingConfig {
        ImageSecondOrderTrainingConfig(baseChannels: 8, height: 8, width: 8, sigma: 0.5, structure: structure, lossScale: 0.0625,
                                       data: "synthetic", steps: 6, batchSize: 4, learningRate: 1e-3, emaDecay: 0.9, checkpointEvery: 2, seed: 3)
    }

    /// Uninterrupted vs interrupted after step 3 (checkpoint at 2) and resumed in a fresh trainer:
    /// parameters, EMA, Adam moments and loss trace are bit-identical; the channel count follows
    /// the head (1 + r + 1, 1 + 1, 1 + D); a checkpoint of another configuration is refused.
    @Test func resumedRunIsBitIdentical() throws {
        // Inline: oneDNN runs on this thread alone, whatever thread count tests running
        // beside this one set process-wide (a changed team size changes the float sums).
        try Parallel.inline {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("so-train-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let data = try syntheticImages(count: 20, seed: 7).images
            let straight = try ImageSecondOrderTrainer(config: Self.config(), source: .images(data))
            try straight.train(checkpoint: dir.appendingPathComponent("straight.h5"))
            let url = dir.appendingPathComponent("killed.h5")
            do {
                let killed = try ImageSecondOrderTrainer(config: Self.config(), source: .images(data))
                for _ in 0..<3 {
                    killed.trainStep()
                    if killed.step % 2 == 0 { try killed.save(to: url) }
                }
            }
            let resumed = try ImageSecondOrderTrainer(config: Self.config(), source: .images(data))
            try resumed.resume(from: url)
            #expect(resumed.step == 2)
            try resumed.train(checkpoint: url)
            #expect(resumed.network.namedParameters().map(\.value) == straight.network.namedParameters().map(\.value))
            #expect(resumed.ema.shadow == straight.ema.shadow)
            #expect(resumed.optimizer.secondMoments == straight.optimizer.secondMoments)
            #expect(resumed.lossTrace == straight.lossTrace && resumed.lossTrace.allSatisfy { $0.isFinite })
            #expect(Self.config().outputChannels == 4 && Self.config(.diagonal).outputChannels == 2 && Self.config(.full).outputChannels == 65)
            let other = try ImageSecondOrderTrainer(config: Self.config(.diagonal), source: .images(data))
            #expect(throws: (any Error).self) { try other.resume(from: url) }
            let model = try ImageSecondOrderModel.load(checkpoint: url, config: Self.config())
            var score = Tensor<Float>(shape: [0]), head = Tensor<Float>(shape: [0])
            model.evaluate(data.gatherRows([0, 1, 2]), score: &score, head: &head)
            #expect(score.shape == [3, 64] && head.shape == [3, 3 * 64])
        }
    }
}
