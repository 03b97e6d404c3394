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

// MARK: - Issue 29: diagnostics that separate the noise direction, a rank check a constant map
// cannot pass, a variance-weighted null for the eigen-images, and a learning-curve rule.

/// Spearman's rank correlation (issue 29, HO-C5): Pearson's r of the average ranks (ties share
/// the mean of their ranks). A constant series has no ranking, so ρ = 0 by convention: a map
/// that predicts the same variance for every pixel scores 0 and cannot pass a check ρ > 0.
public enum RankCorrelation {
    /// Average ranks 1…n of `x` (ties get the mean of the ranks they span).
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// ρ between `a` and `b` (equal lengths ≥ 2); 0 when either is constant.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count && a.count >= 2, "spearman: need two series of equal length ≥ 2")
        let r = VarianceCalibration.pearson(ranks(a), ranks(b))
        return r.isNaN ? 0 : r
    }
}

/// HO-C5 diagnostics of one held-out image (issue 29): where the predicted total variance tr Σ
/// sits against the realised squared error ‖x − m‖², along the top eigenvector u₁ of Σ and on
/// its orthogonal complement. u₁ depends on x̃ only, so for an exact Gaussian posterior
/// E[(u₁ᵀ(x − m))² | x̃] = λ₁ and E[‖x − m‖² − (u₁ᵀ(x − m))² | x̃] = tr Σ − λ₁: both the full and
/// the complement ratio are 1. A covariance inflated along one direction puts the excess in λ₁
/// and leaves the complement ratio at 1.
public struct PosteriorImageDiagnostics: Codable, Sendable, Equatable {
    /// tr Σ = Σ_j Σ_jj (no clamping).
    public var predictedTrace: Double
    /// Σ_j max(Σ_jj, 0) (the clamped variance map's sum, the claim's predicted variance).
    public var predictedClampedSum: Double
    /// ‖x − m‖².
    public var squaredError: Double
    /// The two largest eigenvalues of Σ.
    public var lambda1: Double
    public var lambda2: Double
    /// |cos| between u₁ and the noise direction x̃ − m (NaN when x̃ = m).
    public var noiseCosine: Double
    /// (u₁ᵀ(x − m))².
    public var errorAlongTop: Double
    /// Spearman ρ across pixels between the clamped predicted variance and (x − m)².
    public var spearman: Double

    /// tr Σ − λ₁: the predicted variance on the complement of u₁.
    public var complementPredicted: Double { predictedTrace - lambda1 }
    /// ‖x − m‖² − (u₁ᵀ(x − m))²: the realised squared error on the complement of u₁.
    public var complementError: Double { squaredError - errorAlongTop }

    /// - Parameters:
    ///   - variances: diag Σ (unclamped), length D.
    ///   - top: the two largest eigenpairs of Σ (unit vectors), largest first.
    ///   - clean, mean, noisy: x, m and x̃, length D.
    public static func evaluate(variances: [Double], top: [(value: Double, vector: [Double])], clean: [Double], mean: [Double],
                                noisy: [Double]) -> PosteriorImageDiagnostics {
        let d = variances.count
        precondition(top.count >= 2 && clean.count == d && mean.count == d && noisy.count == d, "posterior diagnostics: shapes")
        let error = (0..<d).map { clean[$0] - mean[$0] }
        let noise = (0..<d).map { noisy[$0] - mean[$0] }
        let along = zip(top[0].vector, error).reduce(0) { $0 + $1.0 * $1.1 }
        return PosteriorImageDiagnostics(
            predictedTrace: variances.reduce(0, +), predictedClampedSum: variances.reduce(0) { $0 + max($1, 0) },
            squaredError: error.reduce(0) { $0 + $1 * $1 }, lambda1: top[0].value, lambda2: top[1].value,
            noiseCosine: NoiseDirection.absoluteCosine(top[0].vector, noise), errorAlongTop: along * along,
            spearman: RankCorrelation.spearman(variances.map { max($0, 0) }, error.map { $0 * $0 }))
    }

    /// Σ predicted / Σ realised over `images` for the full map (clamped or not) and the complement.
    public static func ratio(_ images: [PosteriorImageDiagnostics], _ which: RatioKind) -> Double {
        let (p, t) = images.reduce((0.0, 0.0)) { acc, e in
            switch which {
            case .clamped: return (acc.0 + e.predictedClampedSum, acc.1 + e.squaredError)
            case .unclamped: return (acc.0 + e.predictedTrace, acc.1 + e.squaredError)
            case .complement: return (acc.0 + e.complementPredicted, acc.1 + e.complementError)
            }
        }
        return p / t
    }

    /// Which predicted/realised ratio.
    public enum RatioKind: String, Codable, Sendable, CaseIterable {
        /// Σ max(Σ_jj, 0) / Σ ‖x − m‖² (the claim's ratio, HO-C5's spec statistic).
        case clamped
        /// tr Σ / Σ ‖x − m‖².
        case unclamped
        /// Σ (tr Σ − λ₁) / Σ (‖x − m‖² − (u₁ᵀ(x − m))²).
        case complement
    }
}

/// The noise direction x̃ − m (issue 29): an eigenvector of Σ whose |cos| with it exceeds a
/// threshold is the "noise direction" and is reported apart from the eigen-images of HO-C6.
public enum NoiseDirection {
    /// |aᵀb| / (‖a‖‖b‖); NaN when either is zero.
    public static func absoluteCosine(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "cosine: lengths \(a.count), \(b.count)")
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i] }
        return aa > 0 && bb > 0 ? abs(ab) / (aa * bb).squareRoot() : .nan
    }
}

/// HO-C6's null that knows the variance map (issue 29): random Gaussian directions with
/// per-pixel standard deviation ∝ √(predicted variance), normalised. An eigen-image whose stroke
/// share exceeds theirs carries structure beyond "where the variance is".
public enum VarianceWeightedNull {
    /// One direction g_j = √max(v_j, 0)·ξ_j, ξ ~ N(0, I), scaled to unit length.
    public static func direction(weights v: [Double], using rng: inout Xoshiro256) -> [Double] {
        let g = v.map { max($0, 0).squareRoot() * rng.nextNormal() }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? g.map { $0 / norm } : g
    }

    /// The mean stroke share of `count` such directions.
    public static func meanShare(weights v: [Double], mask: [Bool], count: Int, using rng: inout Xoshiro256) -> Double {
        precondition(count >= 1, "weighted null: need at least one direction")
        var s = 0.0
        for _ in 0..<count { s += StrokeShare.share(direction(weights: v, using: &rng), mask: mask) }
        return s / Double(count)
    }
}

/// Calibration curve by predicted-variance decile (issue 29, information beside HO-C5): the
/// pooled (image, pixel) pairs sorted by predicted variance, cut into `bins` groups of equal
/// count (the last takes the remainder), with the mean predicted variance and the mean realised
/// squared error of each. A calibrated map lies on the diagonal; a constant map gives one point.
public enum CalibrationCurve {
    public struct Bin: Codable, Sendable, Equatable {
        public var bin: Int, count: Int, meanPredicted: Double, meanRealised: Double
    }

    public static func bins(predicted p: [Double], realised e: [Double], bins: Int = 10) -> [Bin] {
        precondition(p.count == e.count && p.count >= bins && bins >= 1, "calibration curve: \(p.count) pairs for \(bins) bins")
        let order = p.indices.sorted { p[$0] < p[$1] }
        let size = p.count / bins
        return (0..<bins).map { b in
            let range = (b * size)..<(b == bins - 1 ? p.count : (b + 1) * size)
            let idx = order[range]
            return Bin(bin: b + 1, count: idx.count, meanPredicted: Stats.mean(idx.map { p[$0] }), meanRealised: Stats.mean(idx.map { e[$0] }))
        }
    }
}

/// The learning-curve rule of HO-C5 (issue 29), fixed before any claim is read: the ratio has
/// stabilised when it changed by less than `tolerance` (relative) between the last two
/// checkpoints of the curve.
public enum LearningCurveRule {
    /// |r_last / r_previous − 1| < tolerance; false with fewer than two finite points.
    public static func isStable(_ ratios: [Double], tolerance: Double) -> Bool {
        guard ratios.count >= 2, let last = ratios.last, last.isFinite else { return false }
        let previous = ratios[ratios.count - 2]
        guard previous.isFinite, previous != 0 else { return false }
        return abs(last / previous - 1) < tolerance
    }

    /// The relative change |r_last / r_previous − 1| (NaN with fewer than two points).
    public static func lastChange(_ ratios: [Double]) -> Double {
        guard ratios.count >= 2 else { return .nan }
        return abs(ratios[ratios.count - 1] / ratios[ratios.count - 2] - 1)
    }
}
