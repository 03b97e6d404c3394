// Posterior uncertainty from second-order scores (high-order spec E4, §6.4; claims HO-C5, HO-C6;
// issue 16): the posterior covariance Σ = σ⁴s̃₂(x̃) + σ²I of x given x̃, its variance map and top
// eigenvectors, the calibration statistics of HO-C5 and the stroke share of HO-C6.
import Foundation
import ScoreKit
import TensorCore

/// Σ = σ⁴s̃₂ + σ²I for one row of an s̃₂ head.
public struct PosteriorCovariance {
    public let dimension: Int
    public let sigma: Double
    public let structure: SecondOrderStructure
    /// The head row (Double).
    public let head: [Double]

    /// Row `row` of `head` [n, width] (layout of `SecondOrderDSM`).
    public init<S: TensorScalar>(head: Tensor<S>, row: Int, dimension: Int, sigma: Double, structure: SecondOrderStructure) {
        let w = structure.width(dimension: dimension)
        precondition(head.columns == w, "posterior covariance: head has \(head.columns) columns, expected \(w)")
        self.dimension = dimension
        self.sigma = sigma
        self.structure = structure
        self.head = (0..<w).map { Double(head.scalars[row * w + $0]) }
    }

    /// The dense Σ [D, D].
    public var matrix: Tensor<Double> {
        let loss = SecondOrderDSM(dimension: dimension, sigma: sigma, structure: structure)
        var m = loss.matrices(head: Tensor<Double>(shape: [1, head.count], scalars: head))
        m.reshape([dimension, dimension])
        let s4 = pow(sigma, 4), s2 = sigma * sigma
        for i in 0..<m.count { m.scalars[i] *= s4 }
        for i in 0..<dimension { m.scalars[i * dimension + i] += s2 }
        return m
    }

    /// Σv from the head's factors without forming Σ (O(D r) for low-rank and diagonal heads):
    /// σ⁴(U(Uᵀv) + d∘v) + σ²v, σ⁴·½(M + Mᵀ)v + σ²v for the full head.
    public func apply(_ v: [Double]) -> [Double] {
        let d = dimension, s4 = pow(sigma, 4), s2 = sigma * sigma
        precondition(v.count == d, "posterior covariance: vector of length \(v.count) for D = \(d)")
        var out = v.map { s2 * $0 }
        switch structure {
        case .full:
            for i in 0..<d {
                var s = 0.0
                for j in 0..<d { s += 0.5 * (head[i * d + j] + head[j * d + i]) * v[j] }
                out[i] += s4 * s
            }
        case .diagonal:
            for i in 0..<d { out[i] += s4 * head[i] * v[i] }
        case .lowRank(let r):
            for c in 0..<r {
                var p = 0.0
                for i in 0..<d { p += head[c * d + i] * v[i] }
                for i in 0..<d { out[i] += s4 * head[c * d + i] * p }
            }
            for i in 0..<d { out[i] += s4 * head[r * d + i] * v[i] }
        }
        return out
    }

    /// The variance map diag(Σ) (unclamped) in O(D r).
    public var variances: [Double] {
        let loss = SecondOrderDSM(dimension: dimension, sigma: sigma, structure: structure)
        let diag = loss.diagonals(head: Tensor<Double>(shape: [1, head.count], scalars: head))
        return diag.scalars.map { pow(sigma, 4) * $0 + sigma * sigma }
    }

    /// The `count` largest eigenpairs of Σ, largest first (LAPACK dsyevd on the dense Σ); each
    /// vector has unit length and its largest-magnitude entry positive (a fixed sign for display).
    public func topEigenpairs(_ count: Int) throws -> [(value: Double, vector: [Double])] {
        let d = dimension
        let e = try matrix.symmetricEigen()
        return (0..<min(count, d)).map { k in
            let j = d - 1 - k
            var v = (0..<d).map { e.vectors.scalars[$0 * d + j] }
            if let m = v.max(by: { abs($0) < abs($1) }), m < 0 { v = v.map { -$0 } }
            return (e.values[j], v)
        }
    }
}

/// Calibration of predicted posterior variances against squared errors (HO-C5).
public struct VarianceCalibration: Codable, Sendable, Equatable {
    /// Pearson r across pixels between the per-pixel mean of (x − m)² and of the predicted variance
    /// (the spec's C5 statistic).
    public var pixelMeanPearson: Double
    /// Pearson r over every (image, pixel) pair (bounded below 1 even for exact variances: a
    /// single squared error is variance × χ²₁).
    public var pooledPearson: Double
    /// E[(x − m)²] and E[predicted variance] over images and pixels.
    public var meanSquaredError: Double
    public var meanPredictedVariance: Double
    /// meanPredictedVariance / meanSquaredError.
    public var ratio: Double { meanPredictedVariance / meanSquaredError }
    public var count: Int

    /// - Parameters: squaredErrors and predicted: [n, D] row-major, same shape.
    public static func evaluate(squaredErrors e: [Double], predicted v: [Double], dimension d: Int) -> VarianceCalibration {
        precondition(e.count == v.count && d > 0 && e.count % d == 0 && !e.isEmpty, "calibration: shapes \(e.count), \(v.count) for D = \(d)")
        let n = e.count / d
        var me = [Double](repeating: 0, count: d), mv = me
        for r in 0..<n { for j in 0..<d { me[j] += e[r * d + j] / Double(n); mv[j] += v[r * d + j] / Double(n) } }
        return VarianceCalibration(pixelMeanPearson: pearson(me, mv), pooledPearson: pearson(e, v),
                                   meanSquaredError: Stats.mean(e), meanPredictedVariance: Stats.mean(v), count: n)
    }

    /// Pearson's r (NaN when either series is constant).
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count && a.count >= 2, "pearson: need two series of equal length ≥ 2")
        let ma = Stats.mean(a), mb = Stats.mean(b)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { let (x, y) = (a[i] - ma, b[i] - mb); sab += x * y; saa += x * x; sbb += y * y }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }

    /// The pooled r to expect when the posterior is Gaussian and the predicted variances v are
    /// exact: (x − m)² = v·χ²₁, so Cov = Var v and Var((x − m)²) = 3E[v²] − E[v]², giving
    /// r = Var v / √(Var v · (3E[v²] − E[v]²)), with the moments over the (image, pixel) pairs.
    public static func exactPooledPearson(variances v: [Double]) -> Double {
        let m = Stats.mean(v), m2 = Stats.mean(v.map { $0 * $0 })
        let varV = m2 - m * m
        return varV / (varV * (3 * m2 - m * m)).squareRoot()
    }
}

/// HO-C6: how much of a direction's energy lies on the stroke pixels.
public enum StrokeShare {
    /// Pixels where the clean image or the denoised mean exceeds `threshold`.
    public static func mask(clean: [Double], mean: [Double], threshold: Double = 0.1) -> [Bool] {
        zip(clean, mean).map { $0 > threshold || $1 > threshold }
    }

    /// Σ_{j ∈ mask} v_j² / Σ_j v_j².
    public static func share(_ v: [Double], mask: [Bool]) -> Double {
        var on = 0.0, all = 0.0
        for j in v.indices { let e = v[j] * v[j]; all += e; if mask[j] { on += e } }
        return all > 0 ? on / all : .nan
    }
}
