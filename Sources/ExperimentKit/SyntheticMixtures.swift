// The Gaussian mixtures with exact s₁ and s₂ that the high-order experiments use as ground
// truth (high-order spec §2.3, §6.1). All three are [RECON]: the paper's distributions could not
// be read, so these follow the spec's scaled-down protocol.
import DataIO
import ScoreKit
import TensorCore

/// Ground-truth mixtures of the high-order experiments.
public enum SyntheticMixtures {
    /// The 2-D two-component mixture with anisotropic, correlated covariances (spec §6.1, first
    /// item; the exact numbers are ours): weights 0.4 / 0.6, means (−1.5, 0) and (1.5, 0.5),
    /// covariances [[0.5, 0.3], [0.3, 0.3]] and [[0.2, −0.1], [−0.1, 0.6]].
    public static func anisotropic2D() -> GaussianMixture {
        GaussianMixture(weights: [0.4, 0.6], means: [[-1.5, 0], [1.5, 0.5]],
                        covariances: [Tensor(shape: [2, 2], scalars: [0.5, 0.3, 0.3, 0.3]),
                                      Tensor(shape: [2, 2], scalars: [0.2, -0.1, -0.1, 0.6])])
    }

    /// A random mixture in D dimensions (spec §6.1, second item): K components with equal
    /// weights, means drawn from N(0, scale²·I) and covariances A Aᵀ/D + floor·I with A a D×D
    /// standard-normal matrix.
    public static func random<G: RandomNumberGenerator>(dimension d: Int, components k: Int, meanScale: Double = 1.5,
                                                        covarianceFloor: Double = 0.3, using rng: inout G) -> GaussianMixture {
        precondition(d >= 1 && k >= 1, "a random mixture needs D ≥ 1 and K ≥ 1, got D = \(d), K = \(k)")
        var means: [[Double]] = []
        var covariances: [Tensor<Double>] = []
        for _ in 0..<k {
            means.append((0..<d).map { _ in meanScale * rng.nextNormal() })
            let a = Tensor<Double>(shape: [d, d], scalars: (0..<(d * d)).map { _ in rng.nextNormal() })
            var c = Tensor<Double>(shape: [d, d])
            matmul(a, a, transposeB: true, into: &c, alpha: 1 / Double(d))
            for i in 0..<d {
                c.scalars[i * d + i] += covarianceFloor
                for j in 0..<i {  // exact symmetry (the GEMM result is symmetric up to rounding)
                    let m = 0.5 * (c.scalars[i * d + j] + c.scalars[j * d + i])
                    c.scalars[i * d + j] = m
                    c.scalars[j * d + i] = m
                }
            }
            covariances.append(c)
        }
        return GaussianMixture(weights: [Double](repeating: 1 / Double(k), count: k), means: means, covariances: covariances)
    }

    /// The semi-synthetic "digits" mixture (spec §6.1, third item): one Gaussian per class of the
    /// given images (pixels in [0, 1]), with the class frequency as weight, the class mean, and the
    /// class covariance (divisor n − 1) shrunk as Σ_k + shrinkage·I.
    /// - Throws: `DataIOError.format` when a class has fewer than two images.
    public static func classConditional(images: Tensor<Float>, labels: [UInt8], shrinkage: Double = 0.05,
                                        source: String = "images") throws -> GaussianMixture {
        let (n, d) = (images.rows, images.columns)
        precondition(labels.count == n, "\(labels.count) labels for \(n) images")
        let classes = Array(Set(labels)).sorted()
        var weights: [Double] = [], means: [[Double]] = [], covariances: [Tensor<Double>] = []
        for c in classes {
            let rows = (0..<n).filter { labels[$0] == c }
            guard rows.count >= 2 else {
                throw DataIOError.format(path: source, object: "labels", expected: "at least 2 images per class", found: "\(rows.count) image(s) of class \(c)")
            }
            let x = images.gatherRows(rows).converted(to: Double.self)
            var mean = [Double](repeating: 0, count: d)
            for r in 0..<rows.count { for j in 0..<d { mean[j] += x.scalars[r * d + j] } }
            mean = mean.map { $0 / Double(rows.count) }
            var centred = x
            for r in 0..<rows.count { for j in 0..<d { centred.scalars[r * d + j] -= mean[j] } }
            var cov = Tensor<Double>(shape: [d, d])
            matmul(centred, transposeA: true, centred, into: &cov, alpha: 1 / Double(rows.count - 1))
            for i in 0..<d {
                cov.scalars[i * d + i] += shrinkage
                for j in 0..<i {
                    let m = 0.5 * (cov.scalars[i * d + j] + cov.scalars[j * d + i])
                    cov.scalars[i * d + j] = m
                    cov.scalars[j * d + i] = m
                }
            }
            weights.append(Double(rows.count) / Double(n))
            means.append(mean)
            covariances.append(cov)
        }
        // Re-normalise against rounding so the weights sum to 1 within the mixture's tolerance.
        let total = weights.reduce(0, +)
        return GaussianMixture(weights: weights.map { $0 / total }, means: means, covariances: covariances)
    }
}
