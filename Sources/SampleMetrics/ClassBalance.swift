// Class-balance statistics of generated samples, from the labels a classifier assigns them
// (heavy-tailed spec E5: does a heavier-tailed noise keep minority classes?). With p the
// histogram of the labels over K classes and q reference proportions (the training set's):
//
//     H(p)          = −Σ_c p_c log p_c                 (nats; 0 log 0 = 0; log K at uniform)
//     KL(p ‖ u)     = Σ_c p_c log(K p_c) = log K − H(p)
//     KL(p ‖ q)     = Σ_c p_c log(p_c / q_c)            (+∞ if some p_c > 0 where q_c = 0)
//
// Each statistic gets a seeded percentile-bootstrap 95 % interval: the labels are resampled with
// replacement `resamples` times from one Xoshiro256(seed) stream and the statistic recomputed.
// (A plug-in entropy is biased low for small samples; the interval is about sampling spread,
// not that bias.)
import Foundation
import TensorCore

/// A statistic with a 95 % interval.
public struct IntervalEstimate: Codable, Sendable, Equatable {
    /// The statistic on the full sample.
    public var value: Double
    /// 2.5 % bootstrap percentile.
    public var low: Double
    /// 97.5 % bootstrap percentile.
    public var high: Double

    /// Creates an estimate.
    public init(value: Double, low: Double, high: Double) {
        self.value = value
        self.low = low
        self.high = high
    }
}

/// Histogram statistics of class labels.
public struct ClassBalance: Codable, Sendable, Equatable {
    /// Count per class, [K].
    public var counts: [Int]
    /// counts / total, [K].
    public var proportions: [Double]
    /// Entropy H(p) in nats.
    public var entropy: IntervalEstimate
    /// KL(p ‖ uniform) in nats.
    public var klToUniform: IntervalEstimate
    /// KL(p ‖ reference) in nats (nil without reference proportions).
    public var klToReference: IntervalEstimate?
    /// Bootstrap resamples used.
    public var resamples: Int

    /// H(p) in nats for proportions p.
    public static func entropy(_ p: [Double]) -> Double {
        var h = 0.0
        for v in p where v > 0 { h -= v * log(v) }
        return h
    }

    /// KL(p ‖ q) in nats (+∞ when p puts mass where q has none).
    public static func klDivergence(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count, "KL divergence: \(p.count) vs \(q.count) classes")
        var kl = 0.0
        for (a, b) in zip(p, q) where a > 0 {
            if b <= 0 { return .infinity }
            kl += a * log(a / b)
        }
        return kl
    }

    /// Statistics of `labels` (each in 0..<classCount), with bootstrap intervals.
    /// - Parameters:
    ///   - reference: reference proportions over the classes (normalised here), e.g. the
    ///     training set's; nil to skip KL(p ‖ q).
    /// - Precondition: labels non-empty and in range; reference of length `classCount`.
    public static func evaluate(labels: [Int], classCount: Int, reference: [Double]? = nil,
                                resamples: Int = 2000, seed: UInt64 = 0) -> ClassBalance {
        precondition(!labels.isEmpty && classCount >= 1, "class balance: need labels and at least one class")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "class balance: labels must lie in 0..<\(classCount)")
        precondition(resamples >= 1, "class balance: need at least one bootstrap resample")
        var q: [Double]?
        if let reference {
            precondition(reference.count == classCount && reference.allSatisfy { $0 >= 0 } && reference.reduce(0, +) > 0,
                         "class balance: reference needs \(classCount) non-negative proportions with a positive sum")
            let total = reference.reduce(0, +)
            q = reference.map { $0 / total }
        }
        let uniform = [Double](repeating: 1 / Double(classCount), count: classCount)
        func histogram(_ l: [Int]) -> [Int] {
            var c = [Int](repeating: 0, count: classCount)
            for v in l { c[v] += 1 }
            return c
        }
        func stats(_ counts: [Int]) -> (Double, Double, Double?) {
            let n = Double(counts.reduce(0, +))
            let p = counts.map { Double($0) / n }
            return (entropy(p), klDivergence(p, uniform), q.map { klDivergence(p, $0) })
        }
        let counts = histogram(labels)
        let full = stats(counts)
        var rng = Xoshiro256(seed: seed)
        var hs: [Double] = [], ku: [Double] = [], kr: [Double] = []
        var sample = [Int](repeating: 0, count: labels.count)
        for _ in 0..<resamples {
            for i in 0..<labels.count { sample[i] = labels[rng.nextIndex(labels.count)] }
            let s = stats(histogram(sample))
            hs.append(s.0)
            ku.append(s.1)
            if let r = s.2 { kr.append(r) }
        }
        func interval(_ value: Double, _ draws: [Double]) -> IntervalEstimate {
            let sorted = draws.sorted()
            let lo = sorted[Int(0.025 * Double(sorted.count - 1))]
            let hi = sorted[Int(0.975 * Double(sorted.count - 1))]
            return IntervalEstimate(value: value, low: lo, high: hi)
        }
        let n = Double(labels.count)
        return ClassBalance(
            counts: counts, proportions: counts.map { Double($0) / n },
            entropy: interval(full.0, hs), klToUniform: interval(full.1, ku),
            klToReference: full.2.map { interval($0, kr) }, resamples: resamples)
    }
}
