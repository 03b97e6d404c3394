// Summary statistics with uncertainty, used to turn per-seed results into intervals and
// intervals into verdicts. Conventions: sample standard deviations use n − 1; 95 % intervals for
// means use Student's t; proportions use the Wilson score interval; anything else uses the
// percentile bootstrap with a seeded generator so intervals repeat.
import Foundation
import TensorCore

/// Mean with a confidence interval.
public struct Estimate: Codable, Sendable, Equatable {
    public var mean: Double
    public var low: Double
    public var high: Double
    /// The number of independent values behind it (seeds, chains, samples).
    public var n: Int
    /// Half the interval width.
    public var halfWidth: Double { (high - low) / 2 }

    public init(mean: Double, low: Double, high: Double, n: Int) {
        self.mean = mean
        self.low = low
        self.high = high
        self.n = n
    }
}

/// Descriptive statistics.
public enum Stats {
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    /// Sample variance (n − 1 denominator); nan for fewer than 2 values.
    public static func variance(_ x: [Double]) -> Double {
        guard x.count > 1 else { return .nan }
        let m = mean(x)
        return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    }

    public static func standardDeviation(_ x: [Double]) -> Double { variance(x).squareRoot() }

    /// Standard error of the mean.
    public static func standardError(_ x: [Double]) -> Double { (variance(x) / Double(x.count)).squareRoot() }

    /// Sample skewness g1 = m3 / m2^(3/2) (biased moment estimator, as scipy.stats.skew).
    public static func skewness(_ x: [Double]) -> Double {
        let m = mean(x)
        var m2 = 0.0, m3 = 0.0
        for v in x {
            let d = v - m
            m2 += d * d
            m3 += d * d * d
        }
        m2 /= Double(x.count)
        m3 /= Double(x.count)
        return m3 / pow(m2, 1.5)
    }

    /// The two-sided 97.5 % quantile of Student's t with `df` degrees of freedom (exact table for
    /// small df, Cornish–Fisher expansion beyond; error < 1e-3 for df ≥ 1).
    public static func tQuantile975(df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                               2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        if df < 1 { return .nan }
        if df <= table.count { return table[df - 1] }
        let z = 1.959963984540054
        let v = Double(df)
        return z + (z * z * z + z) / (4 * v) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v)
    }

    /// Standard normal quantile Φ⁻¹(p), by bisection on erfc (|error| < 1e-12).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "normal quantile needs 0 < p < 1, got \(p)")
        var lo = -40.0, hi = 40.0
        while hi - lo > 1e-12 {
            let mid = 0.5 * (lo + hi)
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// The two-sided normal multiplier for a family of `k` intervals with 95 % family-wise
    /// coverage (Bonferroni): Φ⁻¹(1 − 0.025/k). A claim that needs all of its k checks to hold
    /// uses it so that one unlucky interval among many does not decide the verdict.
    public static func familyZ(_ k: Int) -> Double { normalQuantile(1 - 0.025 / Double(max(k, 1))) }

    /// Mean with a 95 % Student-t interval (one value gives a degenerate interval).
    public static func meanCI(_ x: [Double]) -> Estimate {
        let m = mean(x)
        guard x.count > 1 else { return Estimate(mean: m, low: m, high: m, n: x.count) }
        let h = tQuantile975(df: x.count - 1) * standardError(x)
        return Estimate(mean: m, low: m - h, high: m + h, n: x.count)
    }

    /// Wilson score 95 % interval for `successes` out of `trials`.
    public static func proportionCI(successes: Int, trials: Int) -> Estimate {
        guard trials > 0 else { return Estimate(mean: .nan, low: .nan, high: .nan, n: 0) }
        let z = 1.959963984540054
        let n = Double(trials)
        let p = Double(successes) / n
        let denom = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denom
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denom
        return Estimate(mean: p, low: max(0, centre - half), high: min(1, centre + half), n: trials)
    }

    /// Percentile-bootstrap 95 % interval of `statistic` over resamples of `x`.
    public static func bootstrapCI(_ x: [Double], resamples: Int = 2000, seed: UInt64 = 0,
                                   statistic: ([Double]) -> Double = Stats.mean) -> Estimate {
        var rng = Xoshiro256(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resamples)
        var buffer = [Double](repeating: 0, count: x.count)
        for _ in 0..<resamples {
            for i in 0..<x.count { buffer[i] = x[rng.nextIndex(x.count)] }
            values.append(statistic(buffer))
        }
        values.sort()
        let lo = values[Int(0.025 * Double(resamples - 1))]
        let hi = values[Int(0.975 * Double(resamples - 1))]
        return Estimate(mean: statistic(x), low: lo, high: hi, n: x.count)
    }

    /// Two-level percentile-bootstrap 95 % interval of the ratio of means of paired values,
    /// mean(a)/mean(b), where each group (e.g. a seed) holds paired values a_i, b_i (e.g. two
    /// methods' errors on the same test points). Each resample draws groups with replacement and,
    /// inside each drawn group, pairs with replacement; the statistic averages the group means
    /// with equal weight per group: (Σ_g mean_g(a)) / (Σ_g mean_g(b)).
    public static func pairedRatioBootstrapCI(_ groups: [(a: [Double], b: [Double])], resamples: Int = 2000,
                                              seed: UInt64 = 0) -> Estimate {
        precondition(!groups.isEmpty && groups.allSatisfy { $0.a.count == $0.b.count && !$0.a.isEmpty },
                     "pairedRatioBootstrapCI needs non-empty groups of paired values")
        func ratio(_ gs: [(a: [Double], b: [Double])]) -> Double {
            gs.map { mean($0.a) }.reduce(0, +) / gs.map { mean($0.b) }.reduce(0, +)
        }
        var rng = Xoshiro256(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sa = 0.0, sb = 0.0
            for _ in 0..<groups.count {
                let g = groups[rng.nextIndex(groups.count)]
                let n = g.a.count
                var ma = 0.0, mb = 0.0
                for _ in 0..<n {
                    let i = rng.nextIndex(n)
                    ma += g.a[i]
                    mb += g.b[i]
                }
                sa += ma / Double(n)
                sb += mb / Double(n)
            }
            values.append(sa / sb)
        }
        values.sort()
        return Estimate(mean: ratio(groups), low: values[Int(0.025 * Double(resamples - 1))],
                        high: values[Int(0.975 * Double(resamples - 1))], n: groups.count)
    }

    /// Two-level percentile-bootstrap 95 % interval of the mean of group means (groups e.g.
    /// seeds, values e.g. held-out images): each resample draws groups with replacement and,
    /// inside each drawn group, values with replacement; every group weighs equally. With one
    /// group it is the ordinary bootstrap of the mean (issue 29: HO-C5/C6 over seeds and images).
    public static func twoLevelMeanBootstrapCI(_ groups: [[Double]], resamples: Int = 2000, seed: UInt64 = 0) -> Estimate {
        precondition(!groups.isEmpty && groups.allSatisfy { !$0.isEmpty }, "twoLevelMeanBootstrapCI needs non-empty groups")
        var rng = Xoshiro256(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var total = 0.0
            for _ in 0..<groups.count {
                let g = groups[rng.nextIndex(groups.count)]
                var m = 0.0
                for _ in 0..<g.count { m += g[rng.nextIndex(g.count)] }
                total += m / Double(g.count)
            }
            values.append(total / Double(groups.count))
        }
        values.sort()
        return Estimate(mean: groups.map { mean($0) }.reduce(0, +) / Double(groups.count), low: values[Int(0.025 * Double(resamples - 1))],
                        high: values[Int(0.975 * Double(resamples - 1))], n: groups.count)
    }

    /// Percentile-bootstrap 95 % interval of a statistic of `groupCount` groups (e.g. seeds):
    /// each resample draws group indices with replacement and passes them to `statistic`, which
    /// also gives the point estimate on 0..<groupCount. For ratios of sums over seeds.
    public static func groupBootstrapCI(groupCount: Int, resamples: Int = 2000, seed: UInt64 = 0,
                                        statistic: ([Int]) -> Double) -> Estimate {
        precondition(groupCount >= 1, "groupBootstrapCI needs at least one group")
        var rng = Xoshiro256(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resamples)
        var picks = [Int](repeating: 0, count: groupCount)
        for _ in 0..<resamples {
            for i in 0..<groupCount { picks[i] = rng.nextIndex(groupCount) }
            values.append(statistic(picks))
        }
        values.sort()
        return Estimate(mean: statistic(Array(0..<groupCount)), low: values[Int(0.025 * Double(resamples - 1))],
                        high: values[Int(0.975 * Double(resamples - 1))], n: groupCount)
    }

    /// Least-squares line y = a + b·x: returns (intercept, slope, slope standard error).
    public static func linearFit(x: [Double], y: [Double]) -> (intercept: Double, slope: Double, slopeSE: Double) {
        precondition(x.count == y.count && x.count >= 2, "linearFit needs at least two (x, y) pairs")
        let mx = mean(x), my = mean(y)
        var sxx = 0.0, sxy = 0.0
        for i in 0..<x.count {
            sxx += (x[i] - mx) * (x[i] - mx)
            sxy += (x[i] - mx) * (y[i] - my)
        }
        let b = sxy / sxx
        let a = my - b * mx
        var rss = 0.0
        for i in 0..<x.count { rss += pow(y[i] - a - b * x[i], 2) }
        let se = x.count > 2 ? (rss / Double(x.count - 2) / sxx).squareRoot() : .nan
        return (a, b, se)
    }
}
