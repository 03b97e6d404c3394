// HO-E6's tables and figures from the typed results (issue 30); the verdict is in +Claims.
import ExperimentKit
import Foundation
import Reporting

extension HOE6OzakiImages {
    func render(_ results: Results, in run: RunDirectory) throws {
        let c = config
        let mx = results.mixing, lf = results.left
        let seeds = results.seeds
        func ci(_ e: Estimate, unit: Bool = false) -> String {
            let (lo, hi) = unit ? (max(0, e.low), min(1, e.high)) : (e.low, e.high)
            return "\(Format.significant(e.mean, 3)) [\(Format.significant(lo, 3)), \(Format.significant(hi, 3))]"
        }
        var rows: [[String]] = []
        for q in c.stepRatios {
            for rule in Self.samplers.map(\.rawValue) {
                for kind in Self.startKinds {
                    let arm = mx.filter { $0.stepRatio == q && $0.sampler == rule && $0.start == kind }
                    var row = [Format.significant(q, 2), rule, kind]
                    for t in c.reportSteps {
                        let left = lf.filter { $0.stepRatio == q && $0.sampler == rule && $0.start == kind && $0.step == t }
                        row.append(ci(Stats.meanCI(left.map(\.fractionLeftStartClass)), unit: true))
                    }
                    row += [ci(Stats.meanCI(arm.map(\.switchesPerChain))), ci(Stats.meanCI(arm.map(\.persistentSwitchesPer1000Steps))),
                            ci(Stats.meanCI(arm.map(\.pooledClassEntropyNats))), ci(Stats.meanCI(arm.map(\.finalHistogramDistance)), unit: true),
                            "\(arm.filter { $0.start == kind }.map(\.divergedChainsAllStarts).reduce(0, +))"]
                    rows.append(row)
                }
            }
        }
        let accuracy = results.classifierAccuracy
        try run.writeTable(Table(header: ["c (ε = c·σ²)", "sampler", "start"] + c.reportSteps.map { "left start class by t = \($0)" }
                                 + ["class switches per chain", "persistent switches per 1000 steps", "pooled class entropy (nats)", "final distance to class mix", "diverged (both starts)"],
                                 rows: rows,
                                 caption: String(format: "HO-E6 mixing on %@ at σ = %@: %d chains per start kind and seed, %d steps, classes of the Tweedie-denoised state every %d steps by the kit's classifier (test accuracy %.3f); means over %d seeds with t 95%% intervals over seeds (fractions' intervals cut to [0, 1]). Same starts and noise for ULA and diagonal Ozaki. Diverged chains: %d in total.",
                                                 c.dataset.rawValue, Format.significant(c.sigma, 2), c.chains, c.steps, c.recordEvery, accuracy, seeds.count, mx.map(\.divergedChainsAllStarts).reduce(0, +)),
                                 label: "tab:ho-e6"), name: "mixing")

        try drawDistance(results.distances, c: c, in: run)
        print(Table(header: ["c", "sampler", "start"] + c.reportSteps.map { "left@\($0)" } + ["switches", "persistent/1000", "entropy", "TV final", "diverged"], rows: rows).markdown())
    }

    /// figures/histogram_distance: the pooled histogram's distance to the true class mix over
    /// time, one panel per sampler, one line per c (mean over seeds).
    func drawDistance(_ rows: [DistanceRow], c: Config, in run: RunDirectory) throws {
        var panels: [Panel] = []
        for rule in Self.samplers.map(\.rawValue) {
            var series: [Series] = []
            for (k, q) in c.stepRatios.enumerated() {
                let here = rows.filter { $0.sampler == rule && $0.stepRatio == q }
                let steps = Set(here.map(\.step)).sorted()
                guard !steps.isEmpty else { continue }
                series.append(Series(x: steps.map(Double.init), y: steps.map { t in Stats.mean(here.filter { $0.step == t }.map(\.histogramDistance)) },
                                     title: "c = \(Format.significant(q, 2))", style: .lines, color: k))
            }
            panels.append(Panel(title: rule, xLabel: "Langevin step", yLabel: "TV distance to class mix", logX: false, yRange: 0...1, key: "off", series: series))
        }
        if let first = panels.first { panels.append(.legend(for: first.series, title: "step ε = c·σ²")) }
        try run.writeFigure(Figure(name: "histogram_distance", panels: panels, title: "HO-E6: pooled class histogram against the true class mix (mean over seeds)", panelWidth: 420))
    }
}
