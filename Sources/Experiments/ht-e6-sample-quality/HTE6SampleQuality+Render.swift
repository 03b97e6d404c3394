// HT-E6's tables from the typed results (issue 30); HT-C10's record is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE6SampleQuality {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let m = results.metrics, f = results.floors, cl = results.classifiers
        let cases = results.cases(c)

        var table: [[String]] = []
        for name in cases {
            for b in c.betas {
                let rows = m.filter { $0.dataset == name && $0.beta == b }.sorted { $0.seed < $1.seed }
                guard !rows.isEmpty else { continue }
                func avg(_ v: KeyPath<QualityMetrics, Double>) -> String { Format.significant(Stats.mean(rows.map { $0.metrics[keyPath: v] }), 3) }
                table.append([name, Format.significant(b, 3), "\(rows.count)", avg(\.fdFeatures), avg(\.kidFeatures), avg(\.precisionFeatures), avg(\.recallFeatures),
                              avg(\.coverageFeatures), avg(\.precisionPixels), avg(\.recallPixels), avg(\.classEntropy)])
            }
            if let floor = f.first(where: { $0.dataset == name })?.metrics {
                table.append([name, "real images", "–", Format.significant(floor.fdFeatures, 3), Format.significant(floor.kidFeatures, 3),
                              Format.significant(floor.precisionFeatures, 3), Format.significant(floor.recallFeatures, 3), Format.significant(floor.coverageFeatures, 3),
                              Format.significant(floor.precisionPixels, 3), Format.significant(floor.recallPixels, 3), Format.significant(floor.classEntropy, 3)])
            }
        }
        let ratios = Self.fdRatios(results, config: c)
        try run.writeRows(ratios.map { FDRatioRow(dataset: $0.dataset, beta: $0.beta, seeds: $0.seeds, fdRatioToBeta2: $0.ratio.mean, low: $0.ratio.low, high: $0.ratio.high) },
                          to: "ratios.csv")
        let accuracies = cl.map { "\($0.dataset) \(Format.percent($0.testAccuracy))" }.joined(separator: ", ")
        try run.writeTable(Table(
            header: ["data", "β", "seeds", "FD (features)", "KID (features)", "precision (f)", "recall (f)", "coverage (f)", "precision (px)", "recall (px)", "class entropy"],
            rows: table,
            caption: "HT-E6: sample quality by GND shape β of the training noise (mean over seeds; \(c.cases.map { "\($0.dataset.rawValue): \($0.samples) samples" }.joined(separator: ", ")) against the test split). FD, KID and PRDC (k = 5) are computed in the feature space of the kit's classifier (test accuracy \(accuracies)), not Inception's: the paper's FID/IS/KID cannot be computed offline, so these are proxies and are not comparable with published numbers. \"Real images\": the same number of training images scored the same way (the floor at this sample size).",
            label: "tab:ht-e6-quality"), name: "quality")
        let comparisons = Self.comparisons(metrics: m, floors: f, betas: c.betas)
        try run.writeRows(comparisons, to: "comparisons.csv")
        try run.writeTable(Table(
            header: ["data", "β", "metric", "seeds", "mean at β", "mean at β = 2", "seeds better / worse / tied", "p better", "p worse", "outcome"],
            rows: comparisons.map { [$0.dataset, Format.significant($0.beta, 3), $0.metric, "\($0.seeds)", Format.significant($0.meanBeta, 3), Format.significant($0.meanBeta2, 3),
                                     "\($0.seedsBetter) / \($0.seedsWorse) / \($0.ties)", Format.significant($0.pBetter, 2), Format.significant($0.pWorse, 2), $0.outcome] },
            caption: "HT-E6: each β < 2 against β = 2, per-seed exact sign tests paired by seed (issue 28). Outcome \"better\" or \"worse\": one-sided p ≤ \(Format.significant(Self.signTestLevel, 2)) (ours), which needs at least \(Self.minimumSeedsForSignTest) seeds; with fewer, \"underpowered\". The class-entropy gap is |H − H(real images)|.",
            label: "tab:ht-e6-comparison"), name: "comparison")
        print(Table(header: ["data", "β", "seeds", "FD", "KID", "P f", "R f", "C f", "P px", "R px", "H"], rows: table).markdown())
    }
}
