/// ht-e6-sample-quality: sample quality of GND(β)-DSM score networks against Gaussian DSM, with
/// offline proxies for the paper's FID/IS/KID (heavy-tailed spec E6, §6 E6; claim HT-C10; issue 15).
///
/// The paper's Inception FID/IS/KID cannot be computed here (no Inception weights, no network,
/// no MNIST/CIFAR-10). The proxies: Fréchet distance and KID in the feature space of the kit's
/// classifier (its penultimate layer), PRDC (k = 5) on those features and on pixels, and the
/// per-class histogram of the samples. As a floor, the same metrics are computed for as many
/// real training images as there are samples (what a generator that reproduced the data would
/// score at this sample size).
///
/// Cases: the balanced 8×8 digits (all classes; the fast case, both scales) and, at full scale,
/// Fashion-MNIST (all classes). One U-Net score network per (case, seed, β), β ∈ {1, 1.5, 2},
/// with the same architecture, noise levels (NCSNv2 rule, β-independent), optimiser, steps and
/// seed streams; annealed Langevin with Gaussian noise (the released code) from the EMA weights,
/// chain c of a seed sharing its start and noise across β. Sampling runs in chunks of chains (work
/// units); the metrics are computed on all samples of a (case, seed, β) at the merge.
///
/// HT-C10 ("competitive", direction and size unknown: spec §5 "record, don't assert") gets a
/// "proxy recorded" verdict: the classifier-feature FD ratio FD(β)/FD(2) per case, with an
/// interval over seeds where there are several, and a sentence of what it shows.
///
/// Outputs (results/<scale>/ht-e6-sample-quality/): metrics.csv (per case, seed, β), floor.csv,
/// class_histogram.csv, ratios.csv, loss.csv, images/samples-<case>.png (rows β, seed 0),
/// tables/quality, claims.json (HT-C10), models/.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import SampleMetrics
import ScoreKit
import TensorCore

@main
struct HTE6SampleQuality: Experiment {
    static let experimentID = "ht-e6-sample-quality"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HT-E6: sample quality (classifier-feature FD/KID, PRDC, class histogram) of GND(β)-DSM score networks against Gaussian DSM (heavy-tailed spec E6; claim HT-C10, as a proxy).")

    @OptionGroup var options: ExperimentOptions
    @Option(help: ScaleHelp.override("Override the training steps per model (every case).", quick: Config.caseValues(Config.quick, \.steps), full: Config.caseValues(Config.full, \.steps))) var trainSteps: Int?
    @Option(help: ScaleHelp.override("Override the samples per (case, seed, β).", quick: Config.caseValues(Config.quick, \.samples), full: Config.caseValues(Config.full, \.samples))) var samples: Int?
    @Option(help: ScaleHelp.override("Override the Langevin steps per noise level T (every case).", quick: Config.caseValues(Config.quick, \.stepsPerLevel), full: Config.caseValues(Config.full, \.stepsPerLevel))) var langevinSteps: Int?
    @Option(help: "Classifier checkpoint of the digits case (default: data/classifiers/digits8x8.h5).") var classifier: String?

    /// One data set with its model and sampling settings.
    struct Case: Codable {
        var dataset: DatasetName
        var classifier: String
        var baseChannels: Int
        var steps: Int
        var batchSize = 64
        var learningRate = 1e-3
        var emaDecay: Double
        var checkpointEvery: Int
        /// Samples per (seed, β), drawn in chunks of `chunk` chains (one work unit each).
        var samples: Int
        var chunk: Int
        var samplingBatch: Int
        var stepsPerLevel: Int
        var seeds: Int
        /// This case's level rule (nil: the config's), with σ_1 and L of the fixed rule.
        var noiseLevelRule: NoiseLevelRule? = nil
        var fixedSigmaMax: Double? = nil
        var fixedLevelCount: Int? = nil
    }

    struct Config: Codable {
        var cases: [Case]
        var betas: [Double] = [1, 1.5, 2]
        var noiseLevelRule = NoiseLevelRule.ncsnv2
        var sigmaMin = 0.01
        /// ε/σ_L² (as ht-e5: 0.2, chosen on the β = 2 image-kit demo).
        var stepRatio = 0.2
        var finalDenoise = true
        /// Samples of seed 0 shown per β in the grids.
        var gridSamples = 20

        static let digitsQuick = Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), baseChannels: 8, steps: 1000,
                                      emaDecay: 0.99, checkpointEvery: 250, samples: 200, chunk: 200, samplingBatch: 100, stepsPerLevel: 20, seeds: 1)
        static let quick = Config(cases: [digitsQuick])
        /// Digits: C = 16, 2400 steps (the demo's diagnosis: recognisable digits), 1000 samples,
        /// 5 seeds. Fashion-MNIST: C = 8, one seed and the authors' schedule σ 1 → 0.01, L = 10,
        /// T = 20 for the budget (ht-e5's note: ≈ 0.25 s per training step, ≈ 0.5 s per forward
        /// of 250 chains; 5000 samples × 3 β ≈ 6000 core-s of sampling), 5000 samples as the
        /// issue asks.
        static let full = Config(cases: [
            Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), baseChannels: 16, steps: 2400,
                 emaDecay: 0.999, checkpointEvery: 400, samples: 1000, chunk: 500, samplingBatch: 250, stepsPerLevel: 20, seeds: 5),
            Case(dataset: .fashionMNIST, classifier: ImageClassifier.path(for: .fashionMNIST), baseChannels: 8, steps: 2000,
                 emaDecay: 0.999, checkpointEvery: 250, samples: 5000, chunk: 500, samplingBatch: 250, stepsPerLevel: 20, seeds: 1,
                 noiseLevelRule: .fixedGeometric, fixedSigmaMax: 1, fixedLevelCount: 10),
        ])

        /// One setting of every case, for `--help`: "1000 (digits8x8)", or "2400 (digits8x8) / 2000 (fashion-mnist)".
        static func caseValues(_ config: Config, _ field: KeyPath<Case, Int>) -> String {
            config.cases.map { "\($0[keyPath: field]) (\($0.dataset.rawValue))" }.joined(separator: " / ")
        }
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        for i in c.cases.indices {
            if let v = trainSteps { c.cases[i].steps = v; c.cases[i].checkpointEvery = min(c.cases[i].checkpointEvery, v) }
            if let v = samples {
                c.cases[i].samples = v; c.cases[i].chunk = min(c.cases[i].chunk, v); c.cases[i].samplingBatch = min(c.cases[i].samplingBatch, v)
                c.gridSamples = min(c.gridSamples, v)
            }
            if let v = langevinSteps { c.cases[i].stepsPerLevel = v }
            if let v = options.seeds { c.cases[i].seeds = v }
            if let p = classifier, c.cases[i].dataset == .digits8x8 { c.cases[i].classifier = p }
        }
        return c
    }

    func validate() throws {
        if let s = trainSteps { guard s >= 1 else { throw ValidationError("--train-steps must be at least 1, got \(s)") }; try Limits.count("--train-steps", s, maximum: Limits.maximumSteps, reason: "training steps") }
        if let s = samples {
            guard s >= 6 else { throw ValidationError("--samples must be at least 6 (PRDC uses k = 5 neighbours), got \(s)") }
            try Limits.memory("--samples", s, bytesPerUnit: 784 * 4 * 4 + 8 * 70_000, estimate: "samples in Float and Double, and distances to the training set")
        }
        if let v = langevinSteps { guard v >= 1 else { throw ValidationError("--langevin-steps must be at least 1, got \(v)") }; try Limits.count("--langevin-steps", v, maximum: 100_000, reason: "Langevin steps per level") }
        if let p = classifier, p.isEmpty { throw ValidationError("--classifier must not be empty") }
    }

    /// A chunk of samples (Float32 bytes, base64 in the unit's JSON).
    struct Chunk: Codable {
        var images: Data
        /// Per chain of the chunk: the step at which it diverged, or nil.
        var frozenAtStep: [Int?]
    }

    /// The metrics of one (case, seed, β), computed at the merge.
    struct Evaluated: Codable {
        var caseName: String
        var seed: Int
        var beta: Double
        var metrics: ImageSampleMetrics
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func compute(in run: RunDirectory) throws {
        let c = config
        BLAS.setThreads(1)
        var rows: [Evaluated] = [], floors: [(String, ImageSampleMetrics)] = [], grids: [(Case, [[Float]])] = []
        var lossRows: [[CSVCell]] = [], levelsRecord: [String: ImageNoiseLevels] = [:], classifiers: [String: ClassifierRecord] = [:]
        for cs in c.cases {
            let name = cs.dataset.rawValue
            let classifier = try ImageClassifier.load(from: URL(fileURLWithPath: cs.classifier), dataset: name)
            try DataFileLog.shared.record(path: cs.classifier)
            classifiers[name] = classifier.record
            let train = try ImageDataset.load(path: cs.dataset.path, split: .train)
            let test = try ImageDataset.load(path: cs.dataset.path, split: .test)
            let levels = try ImageNoiseLevels.choose(rule: cs.noiseLevelRule ?? c.noiseLevelRule, images: train.images, beta: 2, sigmaMin: c.sigmaMin,
                                                     fixed: cs.fixedSigmaMax.flatMap { s in cs.fixedLevelCount.map { (s, $0) } })
            levelsRecord[name] = levels
            log("\(Self.experimentID) \(name): \(levels.description)")
            func trainingConfig(seed k: Int, beta: Double) -> ImageScoreTrainingConfig {
                ImageScoreTrainingConfig(baseChannels: cs.baseChannels, height: train.height, width: train.width, beta: beta, levels: levels,
                                         steps: cs.steps, batchSize: cs.batchSize, learningRate: cs.learningRate, emaDecay: cs.emaDecay,
                                         checkpointEvery: cs.checkpointEvery, seed: options.seed &+ UInt64(k))
            }
            func modelName(seed k: Int, beta: Double) -> String { "\(name)_seed-\(k)_beta-\(Format.significant(beta, 3))" }
            let models = (0..<cs.seeds).flatMap { k in c.betas.map { (seed: k, beta: $0) } }
            let trainProgress = Progress("\(Self.experimentID) \(name) training", total: models.count)
            let summaries = try run.units("train-\(name)", count: models.count, key: { modelName(seed: models[$0].seed, beta: models[$0].beta) },
                                          progress: { trainProgress.advance() }) { i in
                try run.trainImageScoreModel(modelName(seed: models[i].seed, beta: models[i].beta),
                                             config: trainingConfig(seed: models[i].seed, beta: models[i].beta), data: train.images, quiet: true)
            }
            for (m, s) in zip(models, summaries) {
                lossRows += s.lossTrace.enumerated().map { i, l in
                    [.text(name), .integer(m.seed), .number(m.beta), .integer(min((i + 1) * cs.checkpointEvery, cs.steps)), .number(l)]
                }
            }

            let sigmaL = levels.sigmas[levels.sigmas.count - 1]
            let sampling = ImageSamplingConfig(stepSize: c.stepRatio * sigmaL * sigmaL, stepsPerLevel: cs.stepsPerLevel, noise: .gaussian,
                                               finalDenoise: c.finalDenoise, batchSize: cs.samplingBatch)
            let chunks = Int((Double(cs.samples) / Double(cs.chunk)).rounded(.up))
            let tasks = models.flatMap { m in (0..<chunks).map { (seed: m.seed, beta: m.beta, chunk: $0) } }
            let sampleProgress = Progress("\(Self.experimentID) \(name) sampling", total: tasks.count)
            let sampled = try run.units("sample-\(name)", count: tasks.count,
                                        key: { "\(modelName(seed: tasks[$0].seed, beta: tasks[$0].beta))_chains-\(tasks[$0].chunk * cs.chunk)" },
                                        progress: { sampleProgress.advance() }) { i -> Chunk in
                let t = tasks[i]
                let model = try run.loadImageScoreModel(modelName(seed: t.seed, beta: t.beta), config: trainingConfig(seed: t.seed, beta: t.beta))
                let first = t.chunk * cs.chunk
                let out = ImageSampler.sample(model: model, config: sampling, count: min(cs.chunk, cs.samples - first),
                                              seed: options.seed &+ UInt64(t.seed), firstChain: first)
                return Chunk(images: out.images.scalars.withUnsafeBytes { Data($0) }, frozenAtStep: out.divergence.frozenAtStep)
            }

            // The merge: all chunks of a (seed, β), then the metrics against the test split.
            let d = train.height * train.width
            var trainingCounts = [Double](repeating: 0, count: train.classes)
            for l in train.labels { trainingCounts[Int(l)] += 1 }
            var gridRows: [[Float]] = []
            for m in models {
                let parts = tasks.indices.filter { tasks[$0].seed == m.seed && tasks[$0].beta == m.beta }
                let scalars = parts.flatMap { Self.floats(sampled[$0].images) }
                var divergence = ChainDivergence(chains: cs.samples)
                divergence.frozenAtStep = parts.flatMap { sampled[$0].frozenAtStep }
                let samples = ImageSamples(images: Tensor(shape: [cs.samples, d], scalars: scalars), divergence: divergence, firstChain: 0)
                let metrics = try ImageSampleMetrics.evaluate(samples: samples, reference: test.images, training: train.images,
                                                              classifier: classifier, trainingProportions: trainingCounts)
                rows.append(Evaluated(caseName: name, seed: m.seed, beta: m.beta, metrics: metrics))
                if m.seed == 0 { gridRows.append(Array(samples.clamped().images.scalars.prefix(min(c.gridSamples, cs.samples) * d))) }
            }
            grids.append((cs, gridRows))
            // Floor: as many training images as samples (the first ones), as if they were samples.
            let n = min(cs.samples, train.count)
            let real = ImageSamples(images: train.images.gatherRows(Array(0..<n)), divergence: ChainDivergence(chains: n), firstChain: 0)
            floors.append((name, try ImageSampleMetrics.evaluate(samples: real, reference: test.images, training: train.images,
                                                                 classifier: classifier, trainingProportions: trainingCounts)))
        }

        func metricCells(_ m: ImageSampleMetrics) -> [CSVCell] {
            [.number(m.features.frechetDistance), .number(m.features.kernelDistance.mean), .number(m.features.kernelDistance.standardDeviation),
             .number(m.features.prdc.precision), .number(m.features.prdc.recall), .number(m.features.prdc.density), .number(m.features.prdc.coverage),
             .number(m.pixelPRDC.precision), .number(m.pixelPRDC.recall), .number(m.pixelPRDC.density), .number(m.pixelPRDC.coverage),
             .number(m.classBalance.entropy.value), .number(m.classBalance.klToReference?.value ?? .nan),
             .number(m.nearestTraining.mean), .integer(m.valuesFarOutsideUnitInterval), .integer(m.divergedChains)]
        }
        let metricHeader = ["fd_features", "kid_features", "kid_features_sd", "precision_features", "recall_features", "density_features",
                            "coverage_features", "precision_pixels", "recall_pixels", "density_pixels", "coverage_pixels", "class_entropy",
                            "kl_to_training_proportions", "nn_distance_training_mean", "values_more_than_0.1_outside", "diverged_chains"]
        try run.writeCSV("metrics.csv", header: ["dataset", "seed", "beta", "samples"] + metricHeader,
                         rows: rows.map { r in [.text(r.caseName), .integer(r.seed), .number(r.beta), .integer(r.metrics.predictedClasses.count)] + metricCells(r.metrics) })
        try run.writeCSV("floor.csv", header: ["dataset", "images"] + metricHeader,
                         rows: floors.map { f in [.text(f.0), .integer(f.1.predictedClasses.count)] + metricCells(f.1) })
        try run.writeCSV("class_histogram.csv", header: ["dataset", "seed", "beta", "class", "count", "proportion"],
                         rows: rows.flatMap { r in
                             r.metrics.classBalance.counts.indices.map { k in
                                 [.text(r.caseName), .integer(r.seed), .number(r.beta), .integer(k), .integer(r.metrics.classBalance.counts[k]),
                                  .number(r.metrics.classBalance.proportions[k])] as [CSVCell]
                             }
                         })
        try run.writeCSV("loss.csv", header: ["dataset", "seed", "beta", "interval_end_step", "mean_loss"], rows: lossRows)
        try run.writeCSV("classifiers.csv", header: ["dataset", "test_accuracy"],
                         rows: classifiers.keys.sorted().map { [.text($0), .number(classifiers[$0]!.testAccuracy)] })

        for (cs, gridRows) in grids where gridRows.count == c.betas.count {
            let shown = min(c.gridSamples, cs.samples)
            let side = cs.dataset == .digits8x8 ? 8 : 28
            try run.writeLabelledGrid(
                Tensor<Float>(shape: [c.betas.count * shown, side * side], scalars: gridRows.flatMap { $0 }),
                grid: LabelledImageGrid(rows: GridAxis(name: "β", labels: c.betas.map { "β = \(Format.significant($0, 3))" }),
                                        columns: GridAxis(name: "chain", labels: (0..<shown).map(String.init)),
                                        panelHeight: side, panelWidth: side,
                                        title: "\(cs.dataset.rawValue): samples of seed 0; column j is chain j (same start and noise stream) in every row"),
                name: "samples-\(cs.dataset.rawValue)")
        }
        try run.publishModels()
        struct Record: Encodable {
            var experiment: Config
            var levels: [String: ImageNoiseLevels]
            var classifiers: [String: ClassifierRecord]
        }
        try run.writeConfig(Record(experiment: c, levels: levelsRecord, classifiers: classifiers))
    }

    func render(in run: RunDirectory) throws {
        let c = config
        let m = try run.readCSV("metrics.csv")
        let dataset = try m.strings("dataset"), seed = try m.numbers("seed"), beta = try m.numbers("beta")
        let fd = try m.numbers("fd_features"), kid = try m.numbers("kid_features")
        let pf = try m.numbers("precision_features"), rf = try m.numbers("recall_features"), cf = try m.numbers("coverage_features")
        let pp = try m.numbers("precision_pixels"), rp = try m.numbers("recall_pixels"), ent = try m.numbers("class_entropy")
        let f = try run.readCSV("floor.csv")
        let fds = try f.strings("dataset"), ffd = try f.numbers("fd_features"), fkid = try f.numbers("kid_features")
        let fpf = try f.numbers("precision_features"), frf = try f.numbers("recall_features"), fcf = try f.numbers("coverage_features")
        let fpp = try f.numbers("precision_pixels"), frp = try f.numbers("recall_pixels"), fent = try f.numbers("class_entropy")
        let cl = try run.readCSV("classifiers.csv")
        let clNames = try cl.strings("dataset"), clAcc = try cl.numbers("test_accuracy")
        let cases = c.cases.map(\.dataset.rawValue).filter { dataset.contains($0) }

        var table: [[String]] = [], ratios: [RatioRow] = []
        for name in cases {
            for b in c.betas {
                let idx = m.rows.indices.filter { dataset[$0] == name && beta[$0] == b }.sorted { seed[$0] < seed[$1] }
                guard !idx.isEmpty else { continue }
                func avg(_ v: [Double]) -> String { Format.significant(Stats.mean(idx.map { v[$0] }), 3) }
                table.append([name, Format.significant(b, 3), "\(idx.count)", avg(fd), avg(kid), avg(pf), avg(rf), avg(cf), avg(pp), avg(rp), avg(ent)])
            }
            if let k = fds.firstIndex(of: name) {
                table.append([name, "real images", "–", Format.significant(ffd[k], 3), Format.significant(fkid[k], 3), Format.significant(fpf[k], 3),
                              Format.significant(frf[k], 3), Format.significant(fcf[k], 3), Format.significant(fpp[k], 3), Format.significant(frp[k], 3),
                              Format.significant(fent[k], 3)])
            }
            let reference = m.rows.indices.filter { dataset[$0] == name && beta[$0] == 2 }.sorted { seed[$0] < seed[$1] }
            for b in c.betas where b != 2 {
                let idx = m.rows.indices.filter { dataset[$0] == name && beta[$0] == b }.sorted { seed[$0] < seed[$1] }
                guard idx.count == reference.count, !idx.isEmpty else { continue }
                let logs = Stats.meanCI(zip(idx, reference).map { log(fd[$0.0] / fd[$0.1]) })
                ratios.append(RatioRow(dataset: name, beta: b, seeds: idx.count,
                                       ratio: Estimate(mean: exp(logs.mean), low: exp(logs.low), high: exp(logs.high), n: logs.n)))
            }
        }
        try run.writeCSV("ratios.csv", header: ["dataset", "beta", "seeds", "fd_ratio_to_beta_2", "low", "high"],
                         rows: ratios.map { [.text($0.dataset), .number($0.beta), .integer($0.seeds), .number($0.ratio.mean), .number($0.ratio.low), .number($0.ratio.high)] })
        let accuracies = zip(clNames, clAcc).map { "\($0) \(Format.percent($1))" }.joined(separator: ", ")
        try run.writeTable(Table(
            header: ["data", "β", "seeds", "FD (features)", "KID (features)", "precision (f)", "recall (f)", "coverage (f)", "precision (px)", "recall (px)", "class entropy"],
            rows: table,
            caption: "HT-E6: sample quality by GND shape β of the training noise (mean over seeds; \(c.cases.map { "\($0.dataset.rawValue): \($0.samples) samples" }.joined(separator: ", ")) against the test split). FD, KID and PRDC (k = 5) are computed in the feature space of the kit's classifier (test accuracy \(accuracies)), not Inception's: the paper's FID/IS/KID cannot be computed offline, so these are proxies and are not comparable with published numbers. \"Real images\": the same number of training images scored the same way (the floor at this sample size).",
            label: "tab:ht-e6-quality"), name: "quality")
        try run.writeClaims(claims(ratios))
        print(Table(header: ["data", "β", "seeds", "FD", "KID", "P f", "R f", "C f", "P px", "R px", "H"], rows: table).markdown())
    }

    /// FD(β)/FD(2) on one data set, paired by seed.
    struct RatioRow {
        var dataset: String
        var beta: Double
        var seeds: Int
        /// Geometric mean over seeds, with the interval of the mean log ratio mapped back.
        var ratio: Estimate
    }

    func claims(_ ratios: [RatioRow]) -> [ClaimResult] {
        var shows: [String] = []
        let checks = ratios.map { r -> ClaimCheck in
            let what: String
            if r.seeds < 2 {
                what = "one seed, no interval"
            } else if r.ratio.low > 1 {
                what = "β = \(Format.significant(r.beta, 3)) worse than β = 2"
            } else if r.ratio.high < 1 {
                what = "β = \(Format.significant(r.beta, 3)) better than β = 2"
            } else {
                what = "no difference resolved"
            }
            shows.append("\(r.dataset), β = \(Format.significant(r.beta, 3)): FD ratio \(Format.significant(r.ratio.mean, 3))\(r.seeds >= 2 ? " [\(Format.significant(r.ratio.low, 3)), \(Format.significant(r.ratio.high, 3))]" : "") (\(what))")
            return ClaimCheck.recorded(
                statistic: "FD(β = \(Format.significant(r.beta, 3))) / FD(β = 2) in the classifier's feature space, \(r.dataset), paired by seed (\(r.seeds) seed(s))",
                estimate: r.ratio, reference: 1, reason: what)
        }
        return [ClaimResult(
            claim: "HT-C10",
            scope: "Sample quality of GND(β)-DSM against Gaussian DSM on \(ratios.map(\.dataset).uniqued().joined(separator: " and ")), measured with offline proxies (classifier-feature FD/KID, PRDC, class histogram), not the paper's Inception FID/IS/KID.",
            experiment: Self.experimentID, command: "make ht-e6-sample-quality SCALE=\(options.scale.rawValue)", checks: checks,
            seeds: ratios.map(\.seeds).min() ?? 0,
            notes: "The paper's claim has no stated direction or size (spec §5 C10: record, don't assert), so the proxy is recorded, not judged. What it shows: " + shows.joined(separator: "; ") + ". Intervals are Student-t over seeds of the log ratio, mapped back.")]
    }
}

extension Array where Element: Hashable {
    /// The elements in order, without repeats.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
