// HT-E5's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HTE5ClassBalance {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        func q(_ name: String) -> Double { results.classifierValue(name) }
        let trainingFraction = results.trainingFraction
        let arms = results.arms(c)
        let seeds = results.seeds
        let (summaries, pairs) = Self.summarise(results, config: c)
        try run.writeRows(summaries.map { s in
            SummaryRow(langevinNoise: s.arm, beta: s.beta, seeds: s.seeds, minorityFraction: s.fraction.mean, minorityLow: s.fraction.low,
                       minorityHigh: s.fraction.high, entropyTwoClass: s.entropy.mean, entropyLow: s.entropy.low, entropyHigh: s.entropy.high,
                       klToUniform: s.klUniform, klToTraining: s.klTraining, otherClassFraction: s.other, divergedChains: s.diverged)
        }, to: "summary.csv")
        try run.writeRows(pairs.map { p in
            PairedRow(langevinNoise: p.arm, beta: p.beta, seeds: p.seeds, minorityDifference: p.minority.mean, minorityDifferenceLow: p.minority.low,
                      minorityDifferenceHigh: p.minority.high, entropyGapDifference: p.entropyGap.mean, entropyGapDifferenceLow: p.entropyGap.low,
                      entropyGapDifferenceHigh: p.entropyGap.high)
        }, to: "paired.csv")
        let table = summaries.map { s in
            [s.arm, Format.significant(s.beta, 3), "\(s.seeds)", Format.percent(s.fraction.mean),
             Format.interval(low: s.fraction.low, high: s.fraction.high, percent: true), Format.significant(s.entropy.mean, 3),
             Format.significant(s.klUniform, 3), Format.significant(s.klTraining, 3), Format.percent(s.other)]
        }
        let accuracy = q("ten_way_test_accuracy_all_classes"), restrictedAccuracy = q("restricted_accuracy_reference_set")
        try run.writeTable(Table(
            header: ["Langevin noise", "β", "seeds", "minority", "95% CI (seeds)", "entropy (2 classes)", "KL(gen‖uniform)", "KL(gen‖training)", "neither class"],
            rows: table,
            caption: "HT-E5: minority fraction of samples (classifier decision restricted to classes \(c.minorityClass) and \(c.majorityClass)) by GND shape β of the training noise and by Langevin noise, on \(c.dataset.rawValue) with \(Format.percent(trainingFraction)) minority in training; mean over seeds with a Student-t 95% interval. Classifier test accuracy \(Format.percent(accuracy)) on all ten classes, \(Format.percent(restrictedAccuracy)) restricted to the two classes on the reference set. \"Neither class\": samples whose ten-way label is another class.",
            label: "tab:ht-e5-balance"), name: "balance")

        // Figure: minority fraction and entropy against β, per arm, with the training fraction
        // and 50 % for reference. Arms are offset by ±0.01 in β so that their bars do not hide
        // each other.
        func series(_ value: (Summary) -> Estimate, arm a: String, color: Int) -> Series? {
            let rows = summaries.filter { $0.arm == a }
            guard !rows.isEmpty else { return nil }
            return Series(x: rows.map { $0.beta + (color == 0 ? -0.01 : 0.01) }, y: rows.map { value($0).mean },
                          yError: rows.map { value($0).high.isFinite ? (value($0).high - value($0).low) / 2 : 0 },
                          title: "\(a) Langevin noise", style: .errorbars, color: color)
        }
        let betaRange = (c.betas.min() ?? 1) - 0.1 ... (c.betas.max() ?? 2) + 0.1
        // The y range fits the data and the training fraction (a fixed 0…1 squeezed full-scale
        // fractions of 0–6 % onto the axis); the 50 % line is drawn when it is in range and
        // named as off scale otherwise.
        let fracTop = min(1, 1.25 * max(trainingFraction.isFinite ? trainingFraction : 0,
                                        summaries.map { $0.fraction.high.isFinite ? $0.fraction.high : $0.fraction.mean }.filter(\.isFinite).max() ?? 0, 0.02))
        let halfInRange = fracTop >= 0.5
        let fracPanel = Panel(
            title: "minority fraction of samples" + (halfInRange ? "" : " (balanced, 50 %, is off scale)"), xLabel: "β (training noise)", yLabel: "fraction",
            xRange: betaRange, yRange: 0...(halfInRange ? 1 : fracTop), key: "outside right top",
            series: arms.enumerated().compactMap { series({ $0.fraction }, arm: $1, color: $0) } + [
                Series(x: [betaRange.lowerBound, betaRange.upperBound], y: [trainingFraction, trainingFraction], title: "training fraction", color: 2, dashed: true),
            ] + (halfInRange ? [Series(x: [betaRange.lowerBound, betaRange.upperBound], y: [0.5, 0.5], title: "balanced (50%)", color: 6, dashed: true)] : []))
        let entPanel = Panel(
            title: "entropy of the two-class histogram", xLabel: "β (training noise)", yLabel: "nats", xRange: betaRange, yRange: 0...0.8, key: "outside right top",
            series: arms.enumerated().compactMap { series({ $0.entropy }, arm: $1, color: $0) } + [
                Series(x: [betaRange.lowerBound, betaRange.upperBound], y: [log(2.0), log(2.0)], title: "log 2 (balanced)", color: 6, dashed: true),
            ])
        try run.writeFigure(Figure(name: "balance_vs_beta", panels: [fracPanel, entPanel], rows: 1,
                                   title: "HT-E5, \(c.dataset.rawValue), \(seeds.count) seed(s): mean ± 95% CI over seeds", panelWidth: 700, panelHeight: 420))
        print(Table(header: ["noise", "β", "seeds", "minority", "CI", "H2", "KL u", "KL t", "neither"], rows: table).markdown())
    }
}
