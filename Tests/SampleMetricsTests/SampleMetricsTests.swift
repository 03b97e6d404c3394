import Foundation
import Testing
import TensorCore
import TestSupport
@testable import SampleMetrics

/// Tolerances specific to these tests.
enum MetricTolerance {
    /// FD of a set with itself: two dsyevd calls and a few GEMMs on O(1) covariances leave
    /// rounding of ~1e-14 per eigenvalue; the square roots of near-zero eigenvalues of the
    /// difference amplify it to ~1e-7 at worst (sqrt of 1e-14).
    static let selfFrechet = 1e-6
    /// Agreement with NumPy/SciPy for FD: scipy's sqrtm (Schur method) and our eigen route
    /// differ by rounding amplified by the matrix square root; 1e-8 relative is ample.
    static let referenceRelative = 1e-8
}

/// i.i.d. N(0, 1) features [n, d] with a seed.
func gaussianFeatures(_ n: Int, _ d: Int, seed: UInt64, shift: Double = 0, scale: Double = 1) -> Tensor<Double> {
    var rng = Xoshiro256(seed: seed)
    var t = Tensor<Double>.randomNormal([n, d], using: &rng)
    for i in 0..<t.count { t.scalars[i] = shift + scale * t.scalars[i] }
    return t
}

@Suite struct FrechetDistanceTests {
    @Test func identicalSetsGiveZero() throws {
        let x = gaussianFeatures(200, 5, seed: 1)
        let fd = try FrechetDistance.between(features: x, x)
        #expect(abs(fd) <= MetricTolerance.selfFrechet)
    }

    /// Diagonal covariances: FD = ‖Δμ‖² + Σ (sqrt a_i − sqrt b_i)²; the same after rotating both
    /// by one orthogonal matrix (commuting covariances).
    @Test func diagonalClosedForm() throws {
        let a = [1.0, 4.0, 0.25], b = [2.0, 1.0, 0.5]
        let mu1 = [0.0, 1.0, -1.0], mu2 = [0.5, 0.0, -1.0]
        var expected = 0.0
        for i in 0..<3 {
            expected += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i])
            expected += (a[i].squareRoot() - b[i].squareRoot()) * (a[i].squareRoot() - b[i].squareRoot())
        }
        func diag(_ v: [Double]) -> Tensor<Double> {
            var t = Tensor<Double>(shape: [3, 3]); for i in 0..<3 { t.scalars[i * 3 + i] = v[i] }; return t
        }
        let fd = try FrechetDistance.between(FeatureGaussian(mean: mu1, covariance: diag(a)), FeatureGaussian(mean: mu2, covariance: diag(b)))
        #expect(abs(fd - expected) <= Tolerance.float64Ops)
        // Rotate both covariances by Q (a Householder reflection, orthogonal and symmetric).
        let v = [1.0, 2.0, -1.0], vv = v.reduce(0) { $0 + $1 * $1 }
        var q = Tensor<Double>.identity(3)
        for i in 0..<3 { for j in 0..<3 { q.scalars[i * 3 + j] -= 2 * v[i] * v[j] / vv } }
        let ra = matmul(matmul(q, diag(a)), q), rb = matmul(matmul(q, diag(b)), q)
        let fdRotated = try FrechetDistance.between(FeatureGaussian(mean: mu1, covariance: ra), FeatureGaussian(mean: mu2, covariance: rb))
        #expect(abs(fdRotated - expected) <= Tolerance.float64Ops)
    }

    /// Non-commuting 2×2 covariances: for a 2×2 matrix M with non-negative eigenvalues,
    /// tr M^{1/2} = sqrt(tr M + 2 sqrt(det M)), so tr (Σ₁Σ₂)^{1/2} = sqrt(tr Σ₁Σ₂ + 2 sqrt(det Σ₁ det Σ₂)).
    @Test func twoByTwoClosedForm() throws {
        let s1 = Tensor<Double>(rows: [[2.0, 0.7], [0.7, 1.0]])
        let s2 = Tensor<Double>(rows: [[0.5, -0.3], [-0.3, 3.0]])
        let mu1 = [1.0, 2.0], mu2 = [0.0, 0.5]
        let prod = matmul(s1, s2)
        let det1 = 2.0 * 1.0 - 0.7 * 0.7, det2 = 0.5 * 3.0 - 0.3 * 0.3
        let traceRoot = (prod.scalars[0] + prod.scalars[3] + 2 * (det1 * det2).squareRoot()).squareRoot()
        let expected = 1.0 + 2.25 + 3.0 + 3.5 - 2 * traceRoot
        let fd = try FrechetDistance.between(FeatureGaussian(mean: mu1, covariance: s1), FeatureGaussian(mean: mu2, covariance: s2))
        #expect(abs(fd - expected) <= Tolerance.float64Ops)
    }
}

@Suite struct KernelDistanceTests {
    /// 1-D hand case, k(a, b) = (ab + 1)³: x = {0, 1}, y = {1, 2}:
    /// XX off-diagonal mean k(0,1) = 1; YY: k(1,2) = 27; XY mean (1 + 1 + 8 + 27)/4 = 9.25;
    /// MMD² = 1 + 27 − 18.5 = 9.5.
    @Test func handCase() {
        let x = Tensor<Double>(rows: [[0], [1]]), y = Tensor<Double>(rows: [[1], [2]])
        #expect(abs(KernelDistance.unbiasedMMD2(x, y) - 9.5) <= Tolerance.float64Ops)
    }

    /// Two samples of one distribution: the unbiased estimate is centred at 0, so the subset mean
    /// lies within a few subset spreads of 0; a shifted set is far outside.
    @Test func sameDistributionNearZeroShiftedFar() {
        let x = gaussianFeatures(400, 4, seed: 2), y = gaussianFeatures(400, 4, seed: 3)
        let kid = KernelDistance(subsets: 20, subsetSize: 100, seed: 7)
        let same = kid.evaluate(x, y)
        #expect(abs(same.mean) <= Tolerance.monteCarloSigmas * same.standardDeviation)
        let shifted = kid.evaluate(gaussianFeatures(400, 4, seed: 4, shift: 1), y)
        #expect(shifted.mean > Tolerance.monteCarloSigmas * shifted.standardDeviation)
        #expect(same.subsetValues.count == 20 && same.subsetSize == 100)
    }

    /// Same seed, same subsets; a subset as large as both sets is the full-set estimate.
    @Test func seededAndFullSubset() {
        let x = gaussianFeatures(50, 3, seed: 5), y = gaussianFeatures(60, 3, seed: 6, shift: 0.3)
        let a = KernelDistance(subsets: 5, subsetSize: 20, seed: 9).evaluate(x, y)
        let b = KernelDistance(subsets: 5, subsetSize: 20, seed: 9).evaluate(x, y)
        #expect(a == b)
        let full = KernelDistance(subsets: 1, subsetSize: 50, seed: 0).evaluate(x, y.gatherRows(Array(0..<50)))
        #expect(abs(full.mean - KernelDistance.unbiasedMMD2(x, y.gatherRows(Array(0..<50)))) <= Tolerance.float64Ops)
    }
}

@Suite struct PRDCTests {
    @Test func identicalSets() {
        let x = gaussianFeatures(60, 3, seed: 10)
        let r = PRDC.evaluate(real: x, generated: x)
        #expect(r.precision == 1 && r.recall == 1 && r.coverage == 1)
        #expect(r.density > 0)
    }

    /// Hand-counted, 1-D, k = 2. Real {0, 1, 2, 3}: 2nd-neighbour radii 2, 1, 1, 2.
    /// Generated {0.5, 10, 11}: radii 10.5, 9.5, 10.5.
    /// Precision: only 0.5 lies in a real ball (|0.5 − 0| < 2) → 1/3.
    /// Recall: every real point is within 10.5 of 0.5 → 1.
    /// Density: 0.5 lies in the balls of 0 (0.5 < 2) and 1 (0.5 < 1), not 2 (1.5 ≥ 1) or 3 (2.5 ≥ 2)
    /// → 2 / (k·M) = 2/6 = 1/3.
    /// Coverage: nearest generated point 0.5 is inside the balls of 0 and 1 only → 2/4.
    @Test func handCountedCase() {
        let real = Tensor<Double>(rows: [[0], [1], [2], [3]])
        let fake = Tensor<Double>(rows: [[0.5], [10], [11]])
        let r = PRDC.evaluate(real: real, generated: fake, k: 2)
        #expect(abs(r.precision - 1.0 / 3) <= Tolerance.float64Ops)
        #expect(r.recall == 1)
        #expect(abs(r.density - 1.0 / 3) <= Tolerance.float64Ops)
        #expect(r.coverage == 0.5)
    }

    @Test func radiiMatchBruteForce() {
        let x = gaussianFeatures(30, 4, seed: 11)
        let radii = PairwiseDistances.kthNeighbourRadii(x, k: 5)
        for i in 0..<30 {
            var d: [Double] = []
            for j in 0..<30 {
                var s = 0.0
                for c in 0..<4 { s += (x[i, c] - x[j, c]) * (x[i, c] - x[j, c]) }
                d.append(s.squareRoot())
            }
            // Norm expansion vs direct differences: ~1e-15 absolute on O(1) distances.
            #expect(abs(d.sorted()[5] - radii[i]) <= Tolerance.float64Ops)
        }
    }
}

@Suite struct ClassBalanceTests {
    @Test func uniformLabels() {
        let labels = (0..<400).map { $0 % 4 }
        let c = ClassBalance.evaluate(labels: labels, classCount: 4, reference: [1, 1, 1, 1], resamples: 200, seed: 1)
        #expect(abs(c.entropy.value - log(4.0)) <= Tolerance.float64Ops)
        #expect(abs(c.klToUniform.value) <= Tolerance.float64Ops)
        #expect(abs(c.klToReference!.value) <= Tolerance.float64Ops)
        // The plug-in entropy is at its maximum, so every resample lies at or below it: the
        // percentile interval sits below the value (the statistic's downward bias shows).
        #expect(c.entropy.low < c.entropy.high && c.entropy.high <= log(4.0) + Tolerance.float64Ops)
        #expect(c.counts == [100, 100, 100, 100])
    }

    /// One class only: H = 0, KL to uniform = log K; KL to a reference without that class is +∞.
    @Test func degenerateLabels() {
        let c = ClassBalance.evaluate(labels: [2, 2, 2], classCount: 3, reference: [1, 1, 0], resamples: 10, seed: 0)
        #expect(c.entropy.value == 0)
        #expect(abs(c.klToUniform.value - log(3.0)) <= Tolerance.float64Ops)
        #expect(c.klToReference!.value == .infinity)
    }

    @Test func seededBootstrap() {
        let labels = (0..<90).map { ($0 * 7) % 3 == 0 ? 0 : 1 }
        let a = ClassBalance.evaluate(labels: labels, classCount: 2, resamples: 100, seed: 5)
        let b = ClassBalance.evaluate(labels: labels, classCount: 2, resamples: 100, seed: 5)
        #expect(a == b)
        #expect(a.entropy.low < a.entropy.high)
    }
}

@Suite struct NearestNeighbourTests {
    @Test func matchesBruteForce() {
        let train = gaussianFeatures(50, 3, seed: 12), samples = gaussianFeatures(20, 3, seed: 13)
        let nn = NearestNeighbours.search(samples: samples, training: train)
        for j in 0..<20 {
            var best = Double.infinity, index = -1
            for i in 0..<50 {
                var s = 0.0
                for c in 0..<3 { s += (samples[j, c] - train[i, c]) * (samples[j, c] - train[i, c]) }
                if s.squareRoot() < best { best = s.squareRoot(); index = i }
            }
            #expect(nn.indices[j] == index)
            #expect(abs(nn.distances[j] - best) <= Tolerance.float64Ops)
        }
        // A copy of a training vector is at distance ~0 from it (memorisation shows as 0).
        let copy = NearestNeighbours.search(samples: train.gatherRows([7]), training: train)
        #expect(copy.indices == [7] && copy.distances[0] <= MetricTolerance.selfFrechet)
    }

    /// Blocked evaluation (blocks smaller than the set) equals the one-block result.
    @Test func blocksCoverAllRows() {
        let x = gaussianFeatures(2_100, 2, seed: 14), y = gaussianFeatures(2_000, 2, seed: 15)
        // 4e6 / 2000 = 2000 rows per block: two blocks.
        let nn = NearestNeighbours.search(samples: x, training: y)
        #expect(nn.indices.allSatisfy { $0 >= 0 } && nn.distances.allSatisfy { $0.isFinite })
        let tail = NearestNeighbours.search(samples: x.gatherRows(Array(2_000..<2_100)), training: y)
        #expect(Array(nn.indices[2_000...]) == tail.indices)
    }
}

/// Values from tools/reference/sample_metrics_reference.py (NumPy/SciPy).
@Suite struct ReferenceValueTests {
    struct Reference: Decodable {
        var generator: String
        var format_version: Int
        var real: [[Double]]
        var generated: [[Double]]
        var frechet_distance: Double
        var mmd2_unbiased: Double
        var prdc_k5: [String: Double]
        var nearest_distances: [Double]
        var nearest_indices: [Int]
        var labels: [Int]
        var class_count: Int
        var reference_proportions: [Double]
        var entropy: Double
        var kl_uniform: Double
        var kl_reference: Double
    }

    func load() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("metrics-reference.json")
        let r = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        #expect(r.format_version == 1, "metrics-reference.json is of another format: re-run \(r.generator)")
        return r
    }

    @Test func agreesWithNumPy() throws {
        let r = try load()
        let real = Tensor<Double>(rows: r.real), fake = Tensor<Double>(rows: r.generated)
        let fd = try FrechetDistance.between(features: fake, real)
        #expect(abs(fd - r.frechet_distance) <= MetricTolerance.referenceRelative * r.frechet_distance)
        #expect(abs(KernelDistance.unbiasedMMD2(fake, real) - r.mmd2_unbiased) <= Tolerance.float64Ops)
        let p = PRDC.evaluate(real: real, generated: fake, k: 5)
        #expect(abs(p.precision - r.prdc_k5["precision"]!) <= Tolerance.float64Ops)
        #expect(abs(p.recall - r.prdc_k5["recall"]!) <= Tolerance.float64Ops)
        #expect(abs(p.density - r.prdc_k5["density"]!) <= Tolerance.float64Ops)
        #expect(abs(p.coverage - r.prdc_k5["coverage"]!) <= Tolerance.float64Ops)
        let nn = NearestNeighbours.search(samples: fake, training: real)
        #expect(nn.indices == r.nearest_indices)
        #expect(worstMismatch(nn.distances, r.nearest_distances, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        let c = ClassBalance.evaluate(labels: r.labels, classCount: r.class_count, reference: r.reference_proportions, resamples: 50)
        #expect(abs(c.entropy.value - r.entropy) <= Tolerance.float64Ops)
        #expect(abs(c.klToUniform.value - r.kl_uniform) <= Tolerance.float64Ops)
        #expect(abs(c.klToReference!.value - r.kl_reference) <= Tolerance.float64Ops)
    }
}

@Suite struct SampleQualityTests {
    /// The combined call equals the individual metrics, and accepts Float features.
    @Test func combinedEqualsParts() throws {
        let x = gaussianFeatures(80, 4, seed: 20, shift: 0.2), y = gaussianFeatures(90, 4, seed: 21)
        let kid = KernelDistance(subsets: 3, subsetSize: 50, seed: 1)
        let q = try SampleQuality.evaluate(generated: x, reference: y, kid: kid)
        #expect(q.frechetDistance == (try FrechetDistance.between(features: x, y)))
        #expect(q.kernelDistance == kid.evaluate(x, y))
        #expect(q.prdc == PRDC.evaluate(real: y, generated: x))
        let qf = try SampleQuality.evaluate(generated: x.converted(to: Float.self), reference: y.converted(to: Float.self), kid: kid)
        // Float inputs lose ~1e-7 relative before the Float64 arithmetic.
        #expect(abs(qf.frechetDistance - q.frechetDistance) <= Tolerance.float32Ops * max(1, q.frechetDistance))
    }

    @Test func nearestNeighbourSummary() {
        let s = NearestNeighbourSummary([4, 1, 3, 2])
        #expect(s.mean == 2.5 && s.median == 2.5 && s.minimum == 1 && s.quantile05 == 1 && s.count == 4)
    }
}
