// One call for the feature-space metrics an image experiment reports (heavy-tailed spec E6: FD and
// KID in a classifier's feature space, PRDC on features and on pixels) and a summary of the
// memorisation check. Features of any scalar type are converted to Float64 here
// (`Tensor.converted(to:)`), so network outputs in Float can be passed directly.
import TensorCore

/// FD, KID and PRDC between generated and reference feature vectors.
public struct SampleQuality: Codable, Sendable, Equatable {
    /// Fréchet distance between the fitted Gaussians.
    public var frechetDistance: Double
    /// KID (mean and spread over subsets).
    public var kernelDistance: KernelDistanceResult
    /// PRDC with the reference set as "real".
    public var prdc: PRDC
    /// Vectors per set.
    public var generatedCount: Int
    public var referenceCount: Int

    /// Evaluates all three metrics on `generated` [M, D] against `reference` [N, D].
    /// - Parameters:
    ///   - kid: KID settings (subset count, size, seed).
    ///   - k: the PRDC neighbour count.
    /// - Throws: `LinearAlgebraError` if LAPACK fails in the Fréchet distance.
    public static func evaluate<S: TensorScalar>(
        generated: Tensor<S>, reference: Tensor<S>, kid: KernelDistance = KernelDistance(), k: Int = 5
    ) throws -> SampleQuality {
        let x = generated.converted(to: Double.self), y = reference.converted(to: Double.self)
        return SampleQuality(
            frechetDistance: try FrechetDistance.between(features: x, y),
            kernelDistance: kid.evaluate(x, y),
            prdc: PRDC.evaluate(real: y, generated: x, k: k),
            generatedCount: x.rows, referenceCount: y.rows)
    }
}

/// Summary of nearest-neighbour distances to the training set (memorisation check). Compare the
/// generated samples' summary with that of held-out real images: generated samples much closer
/// to the training set than test images are suggest copying.
public struct NearestNeighbourSummary: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var minimum: Double
    /// 5 % quantile (nearest-rank).
    public var quantile05: Double
    public var count: Int

    /// Summarises `distances` (non-empty).
    public init(_ distances: [Double]) {
        precondition(!distances.isEmpty, "nearest-neighbour summary of no distances")
        let sorted = distances.sorted()
        let n = sorted.count
        mean = sorted.reduce(0, +) / Double(n)
        median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        minimum = sorted[0]
        quantile05 = sorted[max(0, Int((0.05 * Double(n)).rounded(.up)) - 1)]
        count = n
    }
}
