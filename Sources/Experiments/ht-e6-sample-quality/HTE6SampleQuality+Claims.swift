// HT-C10's record (proxy recorded, with words per β; issue 28) from the typed results (issue
// 30): pure, no file access.
import ExperimentKit
import Foundation
import Reporting

extension HTE6SampleQuality {
    /// Below this fraction of the real images' class entropy (ours) a case's samples count as
    /// missing most classes, and HT-C10's notes say that its FD ratios compare failing samplers.
    static let collapsedEntropyFraction = 0.5

    /// The class coverage of each case's samples beside the real images' (HT-C10's notes): the
    /// class entropy per β (mean over seeds), the largest class's share (pooled over seeds) and
    /// the FD range against the real-image floor. Computed from metrics.csv, floor.csv and
    /// class_histogram.csv.
    static func classCoverage(metrics: [MetricsRow], floors: [FloorRow], histogram: [ClassHistogramRow], betas: [Double]) -> String {
        var parts: [String] = []
        for floor in floors {
            let name = floor.dataset
            let here = betas.filter { b in metrics.contains { $0.dataset == name && $0.beta == b } }
            guard !here.isEmpty else { continue }
            let entropies = here.map { b in Stats.mean(metrics.filter { $0.dataset == name && $0.beta == b }.map(\.metrics.classEntropy)) }
            let largest = here.map { b -> (share: Double, class: Int) in
                let rows = histogram.filter { $0.dataset == name && $0.beta == b }
                var counts: [Int: Int] = [:]
                for r in rows { counts[r.class, default: 0] += r.count }
                let total = max(counts.values.reduce(0, +), 1)
                let top = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
                return (Double(top?.value ?? 0) / Double(total), top?.key ?? -1)
            }
            let fd = metrics.filter { $0.dataset == name }.map(\.metrics.fdFeatures)
            let real = floor.metrics.classEntropy
            var text = "\(name): class entropy " + zip(here, entropies).map { "\(Format.significant($1, 3)) (β = \(Format.significant($0, 3)))" }.joined(separator: ", ")
                + " nats against \(Format.significant(real, 3)) for real images; the largest class takes "
                + largest.map { "\(Format.percent($0.share)) (class \($0.class))" }.joined(separator: ", ")
            let collapsed = zip(here, entropies).filter { $0.1 < collapsedEntropyFraction * real }.map(\.0)
            if collapsed.count == here.count {
                text += "; below \(Format.significant(collapsedEntropyFraction, 2)) of the real images' entropy at every β (threshold ours): the samples miss most classes, so the FD ratios here compare samplers that all fail (FD \(Format.significant(fd.min() ?? .nan, 3))–\(Format.significant(fd.max() ?? .nan, 3)) against \(Format.significant(floor.metrics.fdFeatures, 3)) for real images)"
            } else if !collapsed.isEmpty {
                text += "; below \(Format.significant(collapsedEntropyFraction, 2)) of the real images' entropy (threshold ours) at β = " + collapsed.map { Format.significant($0, 3) }.joined(separator: ", ")
            }
            parts.append(text)
        }
        return parts.isEmpty ? "" : "Class coverage (class_histogram.csv): " + parts.joined(separator: "; ") + "."
    }

    /// The image quality gate (issue 27) per data set, on its β = 2 baseline's samples (mean over
    /// seeds): pixel precision, and class entropy against the real images' (floor.csv).
    static func qualityGates(metrics: [MetricsRow], floors: [FloorRow]) -> [String: ImageQualityGate.Outcome] {
        var gates: [String: ImageQualityGate.Outcome] = [:]
        for name in metrics.map(\.dataset).uniqued() {
            let base = metrics.filter { $0.dataset == name && $0.beta == 2 }
            guard !base.isEmpty else { continue }
            gates[name] = ImageQualityGate.evaluate(.init(
                label: "β = 2, Gaussian Langevin noise, \(name), mean over \(base.count) seed(s)",
                pixelPrecision: Stats.mean(base.map(\.metrics.precisionPixels)), classEntropy: Stats.mean(base.map(\.metrics.classEntropy)),
                realClassEntropy: floors.first { $0.dataset == name }?.metrics.classEntropy))
        }
        return gates
    }

    /// Per data set, the β < 2 whose samples fail the gate's pixel-precision condition (mean
    /// over seeds): "sampler failed", their checks not counted (issue 27).
    static func failedSamplers(metrics: [MetricsRow]) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for name in metrics.map(\.dataset).uniqued() {
            let rows = metrics.filter { $0.dataset == name }
            let betas = rows.map(\.beta).uniqued().sorted()
            out[name] = ImageQualityGate.failedSamplers(pixelPrecision: betas.map { b in
                (b, Stats.mean(rows.filter { $0.beta == b }.map(\.metrics.precisionPixels)))
            })
        }
        return out
    }

    /// HT-C10's recorded checks, one per (case, β ≠ 2). With several seeds the interval is over
    /// seeds (training and sampling variation); with one seed it is the chain bootstrap's
    /// (sampling variation only), and the sentence says so.
    /// Read from the FD ratios (ratios.csv), the chain bootstrap, the sign-test comparisons and
    /// their words (+Comparison), the quality gate per case and the class coverage.
    static func claims(_ results: Results, config: Config, seeds: Int, scale: Scale) -> [ClaimResult] {
        let m = results.metrics, f = results.floors, bootstrap = results.bootstrap
        let ratios = fdRatios(results, config: config)
        let comparisons = Self.comparisons(metrics: m, floors: f, betas: config.betas)
        let coverage = classCoverage(metrics: m, floors: f, histogram: results.histogram, betas: config.betas)
        let gates = qualityGates(metrics: m, floors: f), failedSamplers = Self.failedSamplers(metrics: m)
        var shows: [String] = []
        func interval(_ lo: Double, _ hi: Double) -> String { "[\(Format.significant(lo, 3)), \(Format.significant(hi, 3))]" }
        let checks = ratios.map { r -> ClaimCheck in
            let b = Format.significant(r.beta, 3)
            let chains = bootstrap.first { $0.dataset == r.dataset && $0.beta == r.beta }
            var estimate = r.ratio
            var what: String, source: String
            if r.seeds >= 2 {
                source = "\(r.seeds) seeds"
            } else if let chains {
                estimate = Estimate(mean: r.ratio.mean, low: chains.low, high: chains.high, n: chains.chains)
                source = "one seed; chain bootstrap, sampling variation only"
            } else {
                source = "one seed, no interval"
            }
            if r.seeds < 2 && chains == nil {
                what = "one seed, no interval"
            } else if estimate.low > 1 {
                what = "β = \(b) worse than β = 2" + (r.seeds < 2 ? " beyond sampling noise (one training seed)" : "")
            } else if estimate.high < 1 {
                what = "β = \(b) better than β = 2" + (r.seeds < 2 ? " beyond sampling noise (one training seed)" : "")
            } else {
                what = "no difference resolved"
            }
            let compared = comparisons.filter { $0.dataset == r.dataset && $0.beta == r.beta }
            var words: String?
            if !compared.isEmpty {
                words = Self.word(fdRatio: r.seeds >= 2 ? r.ratio : nil, seeds: r.seeds, comparisons: compared,
                                  samplerFailed: failedSamplers[r.dataset]?.contains(r.beta) == true).reason
                what = words!
            }
            var text = "\(r.dataset), β = \(b): FD ratio \(Format.significant(r.ratio.mean, 3))"
            if r.seeds >= 2 || chains != nil { text += " \(interval(estimate.low, estimate.high))" }
            text += words == nil ? " (\(source); \(what))" : " (\(source)); \(what)"
            if r.seeds >= 2, let chains { text += ", chain bootstrap \(interval(chains.low, chains.high))" }
            shows.append(text)
            var check = ClaimCheck.recorded(
                statistic: "FD(β = \(b)) / FD(β = 2) in the classifier's feature space, \(r.dataset), paired by seed (\(r.seeds) seed(s))"
                    + (r.seeds < 2 && chains != nil ? "; interval: chain bootstrap, \(chains!.resamples) resamples of \(chains!.chains) chains paired across β" : ""),
                estimate: estimate, reference: 1, reason: what)
            if let gate = gates[r.dataset], !gate.passed {
                ImageQualityGate.markNotTestable(&check, by: gate)
            } else if failedSamplers[r.dataset]?.contains(r.beta) == true {
                check.verdict = .notTested
                check.reason = "sampler failed at β = \(b): its samples fail the pixel-precision condition of the quality gate (< \(Format.significant(ImageQualityGate.minimumPixelPrecision, 2))), so they are not evidence about sample quality"
            }
            return check
        }
        let gateNotes = ratios.map(\.dataset).uniqued().compactMap { name in
            gates[name].map { gate in
                "\(name): \(gate.sentence)" + (gate.passed && !(failedSamplers[name] ?? []).isEmpty
                    ? " Sampler failed at \(failedSamplers[name]!.map { "β = \(Format.significant($0, 3))" }.joined(separator: ", ")) (pixel precision < \(Format.significant(ImageQualityGate.minimumPixelPrecision, 2))): not counted."
                    : "")
            }
        }
        return [ClaimResult(
            claim: "HT-C10",
            scope: "Sample quality of GND(β)-DSM against Gaussian DSM on \(ratios.map(\.dataset).uniqued().joined(separator: " and ")), measured with offline proxies (classifier-feature FD/KID, PRDC, class histogram), not the paper's Inception FID/IS/KID.",
            experiment: Self.experimentID, command: makeCommand(scale: scale), checks: checks, seeds: seeds,
            notes: (gateNotes.isEmpty ? "" : gateNotes.joined(separator: " ") + " ")
                + "The paper's claim has no stated direction or size (spec §5 C10: record, don't assert), so the proxy is recorded, not judged. What it shows: " + shows.joined(separator: "; ") + ". Intervals over seeds are Student-t of the log ratio, mapped back; chain-bootstrap intervals (percentile, each seed's chains resampled with the same indices for every β, the test split fixed) show the sampling variation of the proxy only."
                + (comparisons.isEmpty ? "" : " The words (issue 28, rules fixed before the full-scale run, ours): \"better\"/\"worse\" when the FD ratio's interval over seeds lies below/above 1, \"competitive\" when it lies inside [\(Format.significant(Self.competitiveMargin.low, 2)), \(Format.significant(Self.competitiveMargin.high, 3))] (the 80–125 % convention), else \"not resolved\"; \"mixed\" when a per-seed sign test (one-sided p ≤ \(Format.significant(Self.signTestLevel, 2)), paired by seed; FD, KID, pixel precision and recall, nearest-training distance, class-entropy gap to real images; comparisons.csv) disagrees with that word.")
                + (coverage.isEmpty ? "" : " " + coverage))]
    }
}
