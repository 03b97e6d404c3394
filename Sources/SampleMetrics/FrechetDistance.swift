// The Fréchet distance between two feature Gaussians (the statistic behind FID; Heusel et al.
// 2017, Dowson & Landau 1982):
//
//     FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}
//
// The last trace equals tr (Σ₁Σ₂)^{1/2} (the form pytorch-fid evaluates with scipy's general
// `sqrtm`), but written with the symmetric square root it needs only LAPACK's symmetric
// eigensolver (dsyevd) twice: Σ₁ = V Λ Vᵀ gives A = V Λ^{1/2} Vᵀ, and the eigenvalues μ_k of the
// symmetric PSD matrix A Σ₂ A give the trace as Σ_k sqrt(μ_k). Eigenvalues that rounding makes
// slightly negative are taken as 0. Everything is Float64. The covariance is the unbiased one
// (divisor N − 1), as in pytorch-fid's `np.cov`. The result is not clamped: identical inputs give
// 0 up to rounding (about 1e-12 relative to tr Σ), which may be of either sign.
import TensorCore

/// The mean and covariance of a set of feature vectors.
public struct FeatureGaussian: Sendable {
    /// μ, [D].
    public let mean: [Double]
    /// Σ, [D, D] (unbiased, divisor N − 1).
    public let covariance: Tensor<Double>
    /// The number of vectors the moments came from (0 when given directly).
    public let count: Int

    /// A Gaussian given by its moments.
    public init(mean: [Double], covariance: Tensor<Double>, count: Int = 0) {
        precondition(covariance.shape == [mean.count, mean.count],
                     "feature Gaussian: covariance \(covariance.shape) does not match mean of size \(mean.count)")
        self.mean = mean
        self.covariance = covariance
        self.count = count
    }

    /// The sample mean and unbiased sample covariance of the rows of `features` [N, D].
    /// - Precondition: N ≥ 2.
    public init(features: Tensor<Double>) {
        let (n, d) = (features.rows, features.columns)
        precondition(n >= 2, "feature Gaussian: need at least 2 feature vectors, got \(n)")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += features.scalars[i * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var centred = Tensor<Double>(shape: [n, d])
        for i in 0..<n { for j in 0..<d { centred.scalars[i * d + j] = features.scalars[i * d + j] - mean[j] } }
        var cov = Tensor<Double>(shape: [d, d])
        matmul(centred, transposeA: true, centred, into: &cov, alpha: 1 / Double(n - 1), beta: 0)
        // Exact symmetry (the two triangles of a GEMM result can differ in the last bit).
        for i in 0..<d {
            for j in (i + 1)..<max(i + 1, d) {
                let v = 0.5 * (cov.scalars[i * d + j] + cov.scalars[j * d + i])
                cov.scalars[i * d + j] = v
                cov.scalars[j * d + i] = v
            }
        }
        self.init(mean: mean, covariance: cov, count: n)
    }
}

/// The Fréchet distance between feature Gaussians.
public enum FrechetDistance {
    /// FD between two Gaussians of the same dimension.
    /// - Throws: `LinearAlgebraError` if LAPACK fails.
    public static func between(_ a: FeatureGaussian, _ b: FeatureGaussian) throws -> Double {
        let d = a.mean.count
        precondition(b.mean.count == d, "Fréchet distance: dimensions differ (\(d) vs \(b.mean.count))")
        var meanTerm = 0.0
        for j in 0..<d { meanTerm += (a.mean[j] - b.mean[j]) * (a.mean[j] - b.mean[j]) }
        var traces = 0.0
        for j in 0..<d { traces += a.covariance.scalars[j * d + j] + b.covariance.scalars[j * d + j] }
        let root = try symmetricSquareRoot(a.covariance)
        let inner = matmul(matmul(root, b.covariance), root)  // A Σ₂ A, [D, D]
        let mu = try symmetrized(inner).symmetricEigen().values
        let traceRoot = mu.reduce(0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + traces - 2 * traceRoot
    }

    /// FD between the Gaussians fitted to two feature sets [N, D] and [M, D].
    public static func between(features x: Tensor<Double>, _ y: Tensor<Double>) throws -> Double {
        try between(FeatureGaussian(features: x), FeatureGaussian(features: y))
    }

    /// The symmetric PSD square root V max(Λ, 0)^{1/2} Vᵀ of a symmetric matrix.
    public static func symmetricSquareRoot(_ s: Tensor<Double>) throws -> Tensor<Double> {
        let e = try symmetrized(s).symmetricEigen()
        let d = e.values.count
        var scaled = e.vectors  // columns scaled by sqrt(λ)
        for k in 0..<d {
            let r = max(e.values[k], 0).squareRoot()
            for i in 0..<d { scaled.scalars[i * d + k] *= r }
        }
        return symmetrized(matmul(scaled, e.vectors, transposeB: true))
    }

    /// (S + Sᵀ)/2.
    static func symmetrized(_ s: Tensor<Double>) -> Tensor<Double> {
        let d = s.rows
        var out = s
        for i in 0..<d {
            for j in 0..<d { out.scalars[i * d + j] = 0.5 * (s.scalars[i * d + j] + s.scalars[j * d + i]) }
        }
        return out
    }
}
