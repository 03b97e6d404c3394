// HT-C10's words per β (issue 28): "better", "worse", "competitive", "mixed", "not resolved" or
// "sampler failed", from rules fixed before the full-scale run of 2026-12-06 (ours, stated here
// and in the claim's notes).
//
// - Primary statistic: the FD ratio FD(β)/FD(β = 2) in the classifier's feature space, paired by
//   seed, with its Student-t interval over seeds (ratios.csv). "better" when the interval lies
//   below 1, "worse" when above 1, "competitive" when it lies inside the equivalence margin
//   [0.8, 1.25] (ours, the 80–125 % convention for ratios), otherwise "not resolved".
// - Secondary statistics: per-seed exact sign tests of six metrics against β = 2, paired by
//   seed: FD, KID, pixel precision, pixel recall, the mean distance to the nearest training
//   image, and the class-entropy gap |H − H(real images)|. A metric is "better" (or "worse")
//   when the one-sided sign test in that direction gives p ≤ 0.05 (ours; with 5 seeds that
//   means all five agree, p = 1/32). With fewer than 5 seeds no sign test can reach 0.05, and the
//   metrics are "underpowered", never "no difference".
// - The word: the primary's, turned into "mixed" when a secondary metric disagrees with it
//   (better where the primary says worse or competitive, or worse where it says better or
//   competitive). A β whose samples fail the quality gate's pixel-precision condition is
//   "sampler failed" (issue 27) and gets no word about quality.
import ExperimentKit
import Foundation
import Reporting

extension HTE6SampleQuality {
    /// One metric compared per seed with β = 2.
    struct ComparedMetric: Sendable {
        var name: String
        var lowerIsBetter: Bool
        /// The metric's value of a row; `realEntropy` is the real images' class entropy.
        var value: @Sendable (QualityMetrics, _ realEntropy: Double) -> Double
    }

    /// The six secondary metrics, in table order.
    static let comparedMetrics: [ComparedMetric] = [
        .init(name: "FD (features)", lowerIsBetter: true) { m, _ in m.fdFeatures },
        .init(name: "KID (features)", lowerIsBetter: true) { m, _ in m.kidFeatures },
        .init(name: "pixel precision", lowerIsBetter: false) { m, _ in m.precisionPixels },
        .init(name: "pixel recall", lowerIsBetter: false) { m, _ in m.recallPixels },
        .init(name: "nearest-training distance", lowerIsBetter: true) { m, _ in m.nnDistanceTrainingMean },
        .init(name: "class-entropy gap to real", lowerIsBetter: true) { m, real in abs(m.classEntropy - real) },
    ]

    /// One-sided level of each sign test (ours).
    static let signTestLevel = 0.05
    /// The fewest seeds at which a one-sided sign test can reach `signTestLevel` (0.5^5 = 0.031).
    static var minimumSeedsForSignTest: Int {
        var n = 1
        while pow(0.5, Double(n)) > signTestLevel { n += 1 }
        return n
    }
    /// The FD ratio's equivalence margin for "competitive" (ours: the 80–125 % convention).
    static let competitiveMargin = (low: 0.8, high: 1.25)

    /// An exact sign test of paired differences; `d[i] > 0` means β did better than β = 2 in
    /// seed i, ties (exactly 0) are dropped.
    struct SignTest: Equatable {
        var better: Int, worse: Int, ties: Int
        /// One-sided p-values: P(at least `better` of the non-tied seeds better | no difference).
        var pBetter: Double, pWorse: Double
    }

    static func signTest(_ d: [Double]) -> SignTest {
        let better = d.filter { $0 > 0 }.count, worse = d.filter { $0 < 0 }.count
        let n = better + worse
        func tail(_ k: Int) -> Double {
            guard n > 0 else { return 1 }
            var p = 0.0
            for j in k...n { p += binomial(n, j) }
            return min(1, p / pow(2, Double(n)))
        }
        return SignTest(better: better, worse: worse, ties: d.count - n, pBetter: tail(better), pWorse: tail(worse))
    }

    static func binomial(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        var c = 1.0
        for i in 0..<min(k, n - k) { c = c * Double(n - i) / Double(i + 1) }
        return c
    }

    /// The secondary comparisons of every (case, β ≠ 2), paired by seed.
    static func comparisons(metrics: [MetricsRow], floors: [FloorRow], betas: [Double]) -> [ComparisonRow] {
        var out: [ComparisonRow] = []
        for name in metrics.map(\.dataset).uniqued() {
            let real = floors.first { $0.dataset == name }?.metrics.classEntropy ?? .nan
            let base = Dictionary(metrics.filter { $0.dataset == name && $0.beta == 2 }.map { ($0.seed, $0) }, uniquingKeysWith: { a, _ in a })
            for b in betas where b != 2 {
                let pairs = metrics.filter { $0.dataset == name && $0.beta == b }.sorted { $0.seed < $1.seed }.compactMap { r in base[r.seed].map { (r, $0) } }
                guard !pairs.isEmpty else { continue }
                for metric in comparedMetrics {
                    let here = pairs.map { metric.value($0.0.metrics, real) }, there = pairs.map { metric.value($0.1.metrics, real) }
                    let d = zip(here, there).map { metric.lowerIsBetter ? $1 - $0 : $0 - $1 }
                    let t = signTest(d)
                    let outcome: String
                    if pairs.count < minimumSeedsForSignTest {
                        outcome = "underpowered"
                    } else if t.pBetter <= signTestLevel {
                        outcome = "better"
                    } else if t.pWorse <= signTestLevel {
                        outcome = "worse"
                    } else {
                        outcome = "no difference shown"
                    }
                    out.append(ComparisonRow(dataset: name, beta: b, metric: metric.name, seeds: pairs.count, meanBeta: Stats.mean(here), meanBeta2: Stats.mean(there),
                                             seedsBetter: t.better, seedsWorse: t.worse, ties: t.ties, pBetter: t.pBetter, pWorse: t.pWorse, outcome: outcome))
                }
            }
        }
        return out
    }

    /// HT-C10's word for one (case, β ≠ 2).
    enum QualityWord: String, Equatable {
        case better, worse, competitive, mixed
        case notResolved = "not resolved"
        case samplerFailed = "sampler failed"
    }

    /// The word and the sentence that gives its reason, from the FD ratio (interval over seeds;
    /// nil or one seed: no interval) and the secondary comparisons of that (case, β).
    static func word(fdRatio: Estimate?, seeds: Int, comparisons: [ComparisonRow], samplerFailed: Bool) -> (word: QualityWord, reason: String) {
        if samplerFailed {
            return (.samplerFailed, "sampler failed: pixel precision below \(Format.significant(ImageQualityGate.minimumPixelPrecision, 2)), so no word about quality")
        }
        let primary: QualityWord
        let margin = "[\(Format.significant(competitiveMargin.low, 2)), \(Format.significant(competitiveMargin.high, 3))]"
        var because: String
        if let r = fdRatio, seeds >= 2, r.low.isFinite, r.high.isFinite {
            let ci = "FD ratio \(Format.significant(r.mean, 3)) [\(Format.significant(r.low, 3)), \(Format.significant(r.high, 3))]"
            if r.high < 1 {
                primary = .better; because = "\(ci) below 1"
            } else if r.low > 1 {
                primary = .worse; because = "\(ci) above 1"
            } else if r.low >= competitiveMargin.low && r.high <= competitiveMargin.high {
                primary = .competitive; because = "\(ci) inside the margin \(margin) (ours)"
            } else {
                primary = .notResolved; because = "\(ci) crosses 1 and leaves the margin \(margin) (ours)"
            }
        } else {
            primary = .notResolved; because = "one seed: no interval over seeds for the FD ratio"
        }
        let better = comparisons.filter { $0.outcome == "better" }.map(\.metric)
        let worse = comparisons.filter { $0.outcome == "worse" }.map(\.metric)
        let underpowered = !comparisons.isEmpty && comparisons.allSatisfy { $0.outcome == "underpowered" }
        var word = primary
        switch primary {
        case .better where !worse.isEmpty, .worse where !better.isEmpty, .competitive where !better.isEmpty || !worse.isEmpty:
            word = .mixed
        default: break
        }
        var parts = [because]
        if !better.isEmpty { parts.append("sign tests better in " + better.joined(separator: ", ")) }
        if !worse.isEmpty { parts.append("sign tests worse in " + worse.joined(separator: ", ")) }
        if underpowered {
            parts.append("sign tests underpowered (\(comparisons[0].seeds) seed\(comparisons[0].seeds == 1 ? "" : "s"); the smallest one-sided p is \(Format.significant(pow(0.5, Double(comparisons[0].seeds)), 3)) > \(Format.significant(signTestLevel, 2)))")
        } else if better.isEmpty && worse.isEmpty && !comparisons.isEmpty {
            parts.append("no sign test shows a difference")
        }
        return (word, word.rawValue + ": " + parts.joined(separator: "; "))
    }
}
