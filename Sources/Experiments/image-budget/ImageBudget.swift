/// image-budget: the training and sampling budget of the image experiments, fixed by measurement
/// before any claim is read (issue 27). For each data set it trains the β = 2 baseline (GND-DSM
/// with Gaussian noise, the authors' geometric schedule or NCSNv2's rule as the data set's image
/// experiments use) at each U-Net width, and at each checkpoint of its training samples with
/// annealed Langevin (Gaussian noise) at each T steps per level. Every (width, steps, T) cell gets
/// the quality gate's numbers (pixel precision, class entropy against real images') and FD, KID,
/// recall and the share of pixel values far outside [0, 1]. The knee (the cheapest cell within
/// 95 % of the best precision and entropy ratio that passes the gate) is the budget the image
/// experiments' full-scale configs cite. It tests no claim.
///
/// Outputs (results/<scale>/image-budget/): budget.csv (one row per dataset, width, steps, T),
/// knee.csv, timings.csv (wall-clock, not deterministic), real.csv, figures/budget_<dataset>,
/// tables/budget, images/budget-<dataset>-w<width>.png (rows T, last checkpoint), config.json.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting
import SampleMetrics
import ScoreKit
import TensorCore

@main
struct ImageBudget: Experiment {
    static let experimentID = "image-budget"
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "Image budget curve: β = 2 baseline quality against training steps, U-Net width and Langevin steps per level (issue 27; tests no claim).")

    @OptionGroup var options: ExperimentOptions
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the samples per (width, steps, T) cell (every case).", quick: Config.caseValues(Config.quick, \.samples), full: Config.caseValues(Config.full, \.samples))) var samples: Int?
    @Option(parsing: .upToNextOption, help: "Override the data sets (digits8x8, fashion-mnist).") var datasets: [DatasetName] = []
    @Option(help: "Classifier checkpoint of the digits case (default: data/classifiers/digits8x8.h5).") var classifier: String?
    @Option(parsing: .upToNextOption, help: ScaleHelp.override("Override the U-Net widths (every case).", quick: Config.caseLists(Config.quick, \.widths), full: Config.caseLists(Config.full, \.widths))) var width: [Int] = []
    @Option(name: .customLong("train-steps"), parsing: .upToNextOption, help: ScaleHelp.override("Override the training checkpoints sampled (every case).", quick: Config.caseLists(Config.quick, \.steps), full: Config.caseLists(Config.full, \.steps))) var trainSteps: [Int] = []
    @Option(name: .customLong("langevin-steps"), parsing: .upToNextOption, help: ScaleHelp.override("Override the Langevin steps per level T (every case).", quick: Config.caseLists(Config.quick, \.langevinSteps), full: Config.caseLists(Config.full, \.langevinSteps))) var langevinSteps: [Int] = []

    /// One data set's grid.
    struct Case: Codable {
        var dataset: DatasetName
        var classifier: String
        var widths: [Int]
        /// Checkpoints (training steps) at which the EMA model is sampled, ascending.
        var steps: [Int]
        /// Langevin steps per level T.
        var langevinSteps: [Int]
        var samples: Int
        var batchSize = 64
        var learningRate = 1e-3
        var emaDecay = 0.99
        var emaBiasCorrected = true
        /// The image experiments' level rule for this data set (nil: NCSNv2's rule).
        var fixedSigmaMax: Double? = nil
        var fixedLevelCount: Int? = nil
        var samplingBatch = 250
    }

    struct Config: Codable {
        var cases: [Case]
        var beta = 2.0
        var sigmaMin = 0.01
        /// ε/σ_L² = 0.2 (ε = 2e-5 at σ_L = 0.01, NCSN's MNIST setting).
        var stepRatio = 0.2
        var finalDenoise = true
        /// Samples shown per T in the grids.
        var gridSamples = 10
        /// A cell is "at the knee" within this fraction of the best precision and entropy ratio (ours).
        var kneeFraction = 0.95

        /// Both data sets use the authors' schedule σ 1 → 0.01 with L = 10 levels (their
        /// heavy-tailed configs; the primary arm of HT-E5 under issue 28), so that the curve
        /// measures the sampler the experiments run.
        static let quick = Config(cases: [
            Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), widths: [16], steps: [400, 1200],
                 langevinSteps: [20, 100], samples: 200, fixedSigmaMax: 1, fixedLevelCount: 10, samplingBatch: 200),
        ])
        /// Digits: widths 16 and 32, up to 4000 steps, 500 samples per cell. Fashion-MNIST: width
        /// 16 only, checkpoints at 1000 and 2000 steps, T = 20 and 100, 250 samples per cell (the
        /// PyTorch twin of issue 27 measured 0.21 s per step and 60 s per 64 samples at T = 100 on
        /// one thread: about 20 min of one core; width 32 or 4000 steps do not fit beside the
        /// session's HT-E5 run).
        static let full = Config(cases: [
            Case(dataset: .digits8x8, classifier: ImageClassifier.path(for: .digits8x8), widths: [16, 32], steps: [500, 1000, 2000, 4000],
                 langevinSteps: [20, 50, 100], samples: 500, fixedSigmaMax: 1, fixedLevelCount: 10),
            Case(dataset: .fashionMNIST, classifier: ImageClassifier.path(for: .fashionMNIST), widths: [16], steps: [1000, 2000],
                 langevinSteps: [20, 100], samples: 250, fixedSigmaMax: 1, fixedLevelCount: 10),
        ])

        static func caseLists(_ config: Config, _ field: KeyPath<Case, [Int]>) -> String {
            config.cases.map { "\($0[keyPath: field].map(String.init).joined(separator: " ")) (\($0.dataset.rawValue))" }.joined(separator: " / ")
        }

        static func caseValues(_ config: Config, _ field: KeyPath<Case, Int>) -> String {
            config.cases.map { "\($0[keyPath: field]) (\($0.dataset.rawValue))" }.joined(separator: " / ")
        }
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if !datasets.isEmpty { c.cases = c.cases.filter { datasets.contains($0.dataset) } }
        for i in c.cases.indices {
            if let v = samples { c.cases[i].samples = v; c.cases[i].samplingBatch = min(c.cases[i].samplingBatch, v); c.gridSamples = min(c.gridSamples, v) }
            if !width.isEmpty { c.cases[i].widths = width }
            if let p = classifier, c.cases[i].dataset == .digits8x8 { c.cases[i].classifier = p }
            if !trainSteps.isEmpty { c.cases[i].steps = trainSteps.sorted() }
            if !langevinSteps.isEmpty { c.cases[i].langevinSteps = langevinSteps }
        }
        return c
    }

    func validate() throws {
        try Validate.prdcSamples(samples, imagePixels: 784, trainingImages: 60_000)
        if Set(datasets).count != datasets.count { throw ValidationError("--datasets names a data set twice; give each once") }
        for (name, list) in [("--width", width), ("--train-steps", trainSteps), ("--langevin-steps", langevinSteps)] where Set(list).count != list.count {
            throw ValidationError("\(name) names a value twice; give each once")
        }
        try Validate.nonEmpty(classifier, option: "--classifier")
        for w in width { try Validate.width(w) }
        for s in trainSteps { try Validate.trainSteps(s) }
        for t in langevinSteps { try Validate.langevinSteps(t) }
        let available = (options.scale == .quick ? Config.quick : Config.full).cases.map(\.dataset)
        for d in datasets where !available.contains(d) {
            throw ValidationError("--datasets: \(d.rawValue) has no budget grid at the \(options.scale.rawValue) scale (it has \(available.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    /// What one (dataset, width) unit returns.
    struct UnitResult: Codable {
        var rows: [BudgetRow]
        var timings: [TimingRow]
        /// Last checkpoint's first `gridSamples` samples per T, in `langevinSteps` order (clamped).
        var gridImages: [[Float]]
    }

    func compute(in run: RunDirectory) throws {
        let c = config
        let tasks = c.cases.indices.flatMap { i in c.cases[i].widths.map { (caseIndex: i, width: $0) } }
        var real: [RealRow] = [], classifiers: [String: ClassifierRecord] = [:], levelsRecord: [String: ImageNoiseLevels] = [:]
        var loaded: [DatasetName: (train: ImageDataset, test: ImageDataset, classifier: ImageClassifier, levels: ImageNoiseLevels)] = [:]
        for cs in c.cases {
            let classifier = try ImageClassifier.load(from: URL(fileURLWithPath: cs.classifier), dataset: cs.dataset.rawValue)
            try DataFileLog.shared.record(path: cs.classifier)
            let train = try ImageDataset.load(path: cs.dataset.path, split: .train)
            let test = try ImageDataset.load(path: cs.dataset.path, split: .test)
            let levels = try ImageNoiseLevels.choose(rule: cs.fixedSigmaMax == nil ? .ncsnv2 : .fixedGeometric, images: train.images, beta: c.beta,
                                                     sigmaMin: c.sigmaMin, fixed: cs.fixedSigmaMax.flatMap { s in cs.fixedLevelCount.map { (s, $0) } })
            log("\(Self.experimentID): \(cs.dataset.rawValue): \(levels.description)")
            loaded[cs.dataset] = (train, test, classifier, levels)
            classifiers[cs.dataset.rawValue] = classifier.record
            levelsRecord[cs.dataset.rawValue] = levels
            // The real images' class entropy under the same classifier (the gate's reference).
            let shown = test.images.gatherRows(Array(0..<min(2000, test.count)))
            var counts = [Double](repeating: 0, count: train.classes)
            for l in classifier.classify(shown) { counts[l] += 1 }
            let total = counts.reduce(0, +)
            real.append(RealRow(dataset: cs.dataset.rawValue, images: shown.rows, classEntropy: ClassBalance.entropy(counts.map { $0 / total }),
                                maximumEntropy: log(Double(train.classes)), classifierAccuracy: classifier.record.testAccuracy))
        }
        try run.writeRows(real, to: "real.csv")

        let progress = Progress(Self.experimentID, total: tasks.count)
        let results = try run.units("train-evaluate", count: tasks.count,
                                    key: { "\(c.cases[tasks[$0].caseIndex].dataset.rawValue)_width-\(tasks[$0].width)" },
                                    progress: { progress.advance() }) { k -> UnitResult in
            let cs = c.cases[tasks[k].caseIndex], width = tasks[k].width
            let data = loaded[cs.dataset]!
            let training = ImageScoreTrainingConfig(
                baseChannels: width, height: data.train.height, width: data.train.width, beta: c.beta, levels: data.levels,
                steps: cs.steps.max()!, batchSize: cs.batchSize, learningRate: cs.learningRate, emaDecay: cs.emaDecay,
                emaBiasCorrected: cs.emaBiasCorrected, checkpointEvery: cs.steps.max()!, seed: options.seed)
            let trainer = try ImageScoreTrainer(config: training, data: data.train.images)
            var trainCounts = [Double](repeating: 0, count: data.train.classes)
            for l in data.train.labels { trainCounts[Int(l)] += 1 }
            let sigmaL = data.levels.sigmas[data.levels.sigmas.count - 1]
            var rows: [BudgetRow] = [], timings: [TimingRow] = [], grids: [[Float]] = []
            var trainSeconds = 0.0
            for s in cs.steps.sorted() {
                let t0 = Date()
                try trainer.train(until: s, checkpoint: nil)
                trainSeconds += Date().timeIntervalSince(t0)
                let model = ImageScoreModel(trainer: trainer)
                for T in cs.langevinSteps {
                    let sampling = ImageSamplingConfig(stepSize: c.stepRatio * sigmaL * sigmaL, stepsPerLevel: T, noise: .gaussian,
                                                       finalDenoise: c.finalDenoise, batchSize: cs.samplingBatch)
                    let t1 = Date()
                    // The same chains (starts and noise) for every cell of the unit: only the model and T differ.
                    let samples = ImageSampler.sample(model: model, config: sampling, count: cs.samples, seed: options.seed &+ 1)
                    let sampleSeconds = Date().timeIntervalSince(t1)
                    let m = try ImageSampleMetrics.evaluate(samples: samples, reference: data.test.images, training: data.train.images,
                                                            classifier: data.classifier, trainingProportions: trainCounts)
                    rows.append(BudgetRow(
                        dataset: cs.dataset.rawValue, width: width, steps: s, langevinSteps: T, samples: cs.samples,
                        precisionPixels: m.pixelPRDC.precision, recallPixels: m.pixelPRDC.recall, precisionFeatures: m.features.prdc.precision,
                        recallFeatures: m.features.prdc.recall, fdFeatures: m.features.frechetDistance, kidFeatures: m.features.kernelDistance.mean,
                        classEntropy: m.classBalance.entropy.value, largestClassShare: m.classBalance.proportions.max() ?? .nan,
                        farOutsideShare: Double(m.valuesFarOutsideUnitInterval) / Double(samples.images.count),
                        nnDistanceMean: m.nearestTraining.mean, divergedChains: m.divergedChains))
                    timings.append(TimingRow(dataset: cs.dataset.rawValue, width: width, steps: s, langevinSteps: T,
                                             trainSecondsCumulative: trainSeconds, sampleSecondsPer1000: sampleSeconds * 1000 / Double(cs.samples)))
                    if s == cs.steps.max()! {
                        let shown = min(c.gridSamples, cs.samples)
                        grids.append(samples.clamped().images.gatherRows(Array(0..<shown)).scalars)
                    }
                }
            }
            return UnitResult(rows: rows, timings: timings, gridImages: grids)
        }
        try run.writeRows(results.flatMap(\.rows), to: "budget.csv")
        try run.writeRows(results.flatMap(\.timings), to: "timings.csv")
        for (k, task) in tasks.enumerated() {
            let cs = c.cases[task.caseIndex]
            let shown = min(c.gridSamples, cs.samples)
            let d = loaded[cs.dataset]!.train
            let panels = Tensor<Float>(shape: [cs.langevinSteps.count * shown, d.height * d.width], scalars: results[k].gridImages.flatMap { $0 })
            let grid = LabelledImageGrid(
                rows: GridAxis(name: "T (Langevin steps per level)", labels: cs.langevinSteps.map { "T = \($0)" }),
                columns: GridAxis(name: "chain", labels: (0..<shown).map(String.init)),
                panelHeight: d.height, panelWidth: d.width,
                title: "β = 2 baseline, \(cs.dataset.rawValue), width \(task.width), \(cs.steps.max()!) steps, EMA \(cs.emaDecay)\(cs.emaBiasCorrected ? " (bias-corrected)" : ""): the same chains at each T")
            try run.writeLabelledGrid(panels, grid: grid, name: "budget-\(cs.dataset.rawValue)-w\(task.width)")
        }
        struct Record: Encodable {
            var budget: Config
            var levels: [String: ImageNoiseLevels]
            var classifiers: [String: ClassifierRecord]
        }
        try run.writeConfig(Record(budget: c, levels: levelsRecord, classifiers: classifiers))
    }

    // MARK: - The knee

    /// The cheapest cell (training steps·width², then T) whose pixel precision and class-entropy
    /// ratio are both within `fraction` of the data set's best and that passes the quality gate;
    /// nil when no cell passes the gate.
    static func knee(_ rows: [BudgetRow], realEntropy: Double, fraction: Double) -> BudgetRow? {
        guard let bestPrecision = rows.map(\.precisionPixels).max(),
              let bestEntropy = rows.map(\.classEntropy).max() else { return nil }
        let candidates = rows.filter { r in
            r.precisionPixels >= fraction * bestPrecision && r.classEntropy >= fraction * bestEntropy
                && ImageQualityGate.evaluate(.init(label: "", pixelPrecision: r.precisionPixels, classEntropy: r.classEntropy,
                                                   realClassEntropy: realEntropy)).passed
        }
        return candidates.min { a, b in
            let (ca, cb) = (Double(a.steps * a.width * a.width), Double(b.steps * b.width * b.width))
            return ca != cb ? ca < cb : a.langevinSteps < b.langevinSteps
        }
    }

    func render(in run: RunDirectory) throws {
        let c = config
        let rows = try run.readRows(BudgetRow.self, from: "budget.csv")
        let real = try run.readRows(RealRow.self, from: "real.csv")
        var knees: [KneeRow] = [], tableRows: [[String]] = []
        for cs in c.cases {
            let mine = rows.filter { $0.dataset == cs.dataset.rawValue }
            guard let realEntropy = real.first(where: { $0.dataset == cs.dataset.rawValue })?.classEntropy, !mine.isEmpty else { continue }
            for r in mine {
                let gate = ImageQualityGate.evaluate(.init(label: "", pixelPrecision: r.precisionPixels, classEntropy: r.classEntropy, realClassEntropy: realEntropy))
                tableRows.append([r.dataset, "\(r.width)", "\(r.steps)", "\(r.langevinSteps)", Format.significant(r.precisionPixels, 3),
                                  Format.significant(r.recallPixels, 3), Format.significant(r.classEntropy, 3), Format.significant(r.classEntropy / realEntropy, 3),
                                  Format.significant(r.fdFeatures, 3), Format.percent(r.farOutsideShare), gate.passed ? "passes" : "fails"])
            }
            let passing = mine.filter {
                ImageQualityGate.evaluate(.init(label: "", pixelPrecision: $0.precisionPixels, classEntropy: $0.classEntropy, realClassEntropy: realEntropy)).passed
            }.count
            if let k = Self.knee(mine, realEntropy: realEntropy, fraction: c.kneeFraction) {
                knees.append(KneeRow(dataset: k.dataset, width: k.width, steps: k.steps, langevinSteps: k.langevinSteps, precisionPixels: k.precisionPixels,
                                     classEntropyRatio: k.classEntropy / realEntropy, passesGate: true, cellsPassingGate: passing))
            } else {
                knees.append(KneeRow(dataset: cs.dataset.rawValue, width: 0, steps: 0, langevinSteps: 0, precisionPixels: .nan, classEntropyRatio: .nan,
                                     passesGate: passing > 0, cellsPassingGate: passing))
            }
            // Figure: precision, entropy ratio and far-outside share against steps, a line per (width, T).
            var precision: [Series] = [], entropy: [Series] = [], outside: [Series] = []
            var color = 0
            for w in cs.widths {
                for T in cs.langevinSteps {
                    let line = mine.filter { $0.width == w && $0.langevinSteps == T }.sorted { $0.steps < $1.steps }
                    guard !line.isEmpty else { continue }
                    let x = line.map { Double($0.steps) }, title = "width \(w), T = \(T)"
                    precision.append(Series(x: x, y: line.map(\.precisionPixels), title: title, style: .linespoints, color: color))
                    entropy.append(Series(x: x, y: line.map { $0.classEntropy / realEntropy }, title: title, style: .linespoints, color: color))
                    outside.append(Series(x: x, y: line.map(\.farOutsideShare), title: title, style: .linespoints, color: color))
                    color += 1
                }
            }
            let xRange = Double(cs.steps.min()!) * 0.9...Double(cs.steps.max()!) * 1.1
            let gateLine = { (y: Double, title: String) in Series(x: [xRange.lowerBound, xRange.upperBound], y: [y, y], title: title, color: 7, dashed: true) }
            try run.writeFigure(Figure(name: "budget_\(cs.dataset.rawValue)", panels: [
                Panel(title: "pixel precision (k = 5)", xLabel: "training steps", yLabel: "precision", xRange: xRange, yRange: 0...1, key: "outside bottom",
                      series: precision + [gateLine(ImageQualityGate.minimumPixelPrecision, "gate 0.5")]),
                Panel(title: "class entropy / real images'", xLabel: "training steps", yLabel: "ratio", xRange: xRange, yRange: 0...1.2, key: "outside bottom",
                      series: entropy + [gateLine(ImageQualityGate.entropyFraction, "gate 0.8")]),
                Panel(title: "pixel values > 0.1 outside [0, 1]", xLabel: "training steps", yLabel: "share", xRange: xRange, key: "outside bottom", series: outside),
            ], rows: 1, title: "Image budget, \(cs.dataset.rawValue): β = 2 baseline against training steps, width and T", panelWidth: 520, panelHeight: 520))
        }
        try run.writeRows(knees, to: "knee.csv")
        try run.writeClaims([])  // tests no claim; the ledger reads every result's claims.json
        try run.writeTable(Table(
            header: ["dataset", "width", "steps", "T", "pixel precision", "pixel recall", "class entropy", "/ real", "FD (features)", "far outside", "gate"],
            rows: tableRows,
            caption: "Image budget (issue 27): the β = 2 baseline's samples (Gaussian Langevin noise, EMA \(c.cases.map { "\($0.emaDecay)" }.joined(separator: "/")), bias-corrected) at each width, training length and T; the quality gate needs pixel precision ≥ 0.5 and class entropy ≥ 0.8 × the real images' (thresholds ours). The knee (knee.csv) is the cheapest cell within \(Format.percent(c.kneeFraction)) of the best precision and entropy that passes the gate.",
            label: "tab:image-budget"), name: "budget")
        for k in knees {
            if k.width > 0 {
                log("\(Self.experimentID): \(k.dataset): knee at width \(k.width), \(k.steps) steps, T = \(k.langevinSteps) (pixel precision \(Format.significant(k.precisionPixels, 3)), entropy ratio \(Format.significant(k.classEntropyRatio, 3)))")
            } else if k.cellsPassingGate > 0 {
                log("\(Self.experimentID): \(k.dataset): no knee: \(k.cellsPassingGate) cell(s) pass the quality gate, but none is within \(Format.percent(c.kneeFraction)) of the best precision and of the best entropy at once (the two peak at different T)")
            } else {
                log("\(Self.experimentID): \(k.dataset): no cell passes the quality gate")
            }
        }
    }

    // MARK: - Rows

    struct BudgetRow: DocumentedRow {
        var dataset: String, width: Int, steps: Int, langevinSteps: Int, samples: Int
        var precisionPixels: Double, recallPixels: Double, precisionFeatures: Double, recallFeatures: Double, fdFeatures: Double, kidFeatures: Double
        var classEntropy: Double, largestClassShare: Double, farOutsideShare: Double, nnDistanceMean: Double, divergedChains: Int
        enum CodingKeys: String, CodingKey {
            case dataset, width, steps, langevinSteps = "langevin_steps", samples, precisionPixels = "precision_pixels", recallPixels = "recall_pixels"
            case precisionFeatures = "precision_features", recallFeatures = "recall_features", fdFeatures = "fd_features", kidFeatures = "kid_features"
            case classEntropy = "class_entropy", largestClassShare = "largest_class_share", farOutsideShare = "far_outside_share"
            case nnDistanceMean = "nn_distance_mean", divergedChains = "diverged_chains"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "name", "data set"),
            .init("width", "channels", "U-Net width (base channels)"),
            .init("steps", "count", "training steps of the EMA model sampled"),
            .init("langevin_steps", "count", "Langevin steps per noise level T"),
            .init("samples", "count", "samples (chains) drawn"),
            .init("precision_pixels", "fraction", "PRDC precision (k = 5) on pixels against real held-out images: the quality gate's condition (≥ 0.5)"),
            .init("recall_pixels", "fraction", "PRDC recall (k = 5) on pixels"),
            .init("precision_features", "fraction", "PRDC precision (k = 5) in the classifier's feature space"),
            .init("recall_features", "fraction", "PRDC recall (k = 5) in the classifier's feature space"),
            .init("fd_features", "feature units²", "Fréchet distance in the classifier's feature space against held-out images"),
            .init("kid_features", "feature units²", "kernel inception distance (polynomial kernel) in the classifier's feature space"),
            .init("class_entropy", "nats", "entropy of the classifier's class histogram of the samples (the gate compares it with real.csv's)"),
            .init("largest_class_share", "fraction", "share of the most frequent predicted class"),
            .init("far_outside_share", "fraction", "share of pixel values more than 0.1 outside [0, 1] before clamping (unconverged chains)"),
            .init("nn_distance_mean", "pixel values (images in [0,1])", "mean Euclidean distance of a sample to its nearest training image"),
            .init("diverged_chains", "count", "chains frozen for a non-finite value or one beyond the bound"),
        ]
    }

    struct TimingRow: DocumentedRow {
        var dataset: String, width: Int, steps: Int, langevinSteps: Int, trainSecondsCumulative: Double, sampleSecondsPer1000: Double
        enum CodingKeys: String, CodingKey {
            case dataset, width, steps, langevinSteps = "langevin_steps", trainSecondsCumulative = "train_seconds_cumulative"
            case sampleSecondsPer1000 = "sample_seconds_per_1000"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "name", "data set"),
            .init("width", "channels", "U-Net width"),
            .init("steps", "count", "training steps reached"),
            .init("langevin_steps", "count", "Langevin steps per level T"),
            .init("train_seconds_cumulative", "s (wall clock)", "training time up to this checkpoint, one thread; not deterministic"),
            .init("sample_seconds_per_1000", "s (wall clock)", "sampling time per 1000 samples at this T, one thread; not deterministic"),
        ]
    }

    struct RealRow: DocumentedRow {
        var dataset: String, images: Int, classEntropy: Double, maximumEntropy: Double, classifierAccuracy: Double
        enum CodingKeys: String, CodingKey {
            case dataset, images, classEntropy = "class_entropy", maximumEntropy = "maximum_entropy", classifierAccuracy = "classifier_accuracy"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "name", "data set"),
            .init("images", "count", "held-out real images classified"),
            .init("class_entropy", "nats", "entropy of the classifier's class histogram of real held-out images (the gate's reference)"),
            .init("maximum_entropy", "nats", "log(number of classes)"),
            .init("classifier_accuracy", "fraction", "the classifier's test accuracy"),
        ]
    }

    struct KneeRow: DocumentedRow {
        var dataset: String, width: Int, steps: Int, langevinSteps: Int, precisionPixels: Double, classEntropyRatio: Double, passesGate: Bool
        var cellsPassingGate: Int
        enum CodingKeys: String, CodingKey {
            case dataset, width, steps, langevinSteps = "langevin_steps", precisionPixels = "precision_pixels"
            case classEntropyRatio = "class_entropy_ratio", passesGate = "passes_gate", cellsPassingGate = "cells_passing_gate"
        }
        static let columns: [ColumnDoc] = [
            .init("dataset", "name", "data set"),
            .init("width", "channels", "the knee's U-Net width (0 when no cell passes the gate)"),
            .init("steps", "count", "the knee's training steps"),
            .init("langevin_steps", "count", "the knee's Langevin steps per level T"),
            .init("precision_pixels", "fraction", "its pixel precision"),
            .init("class_entropy_ratio", "1", "its class entropy / the real images'"),
            .init("passes_gate", "boolean", "whether any cell of the data set passes the quality gate"),
            .init("cells_passing_gate", "count", "cells of the data set that pass the quality gate (a data set can have such cells and no knee when precision and entropy peak at different T)"),
        ]
    }

    static let csvFiles = [
        CSVFileDoc("budget.csv", BudgetRow.self, "The β = 2 baseline's sample quality per data set, width, training steps and T."),
        CSVFileDoc("timings.csv", TimingRow.self, "Wall-clock training and sampling times per cell (one thread; not deterministic)."),
        CSVFileDoc("real.csv", RealRow.self, "Real held-out images under the same classifier: the gate's reference entropy."),
        CSVFileDoc("knee.csv", KneeRow.self, "Per data set, the cheapest cell near the best that passes the quality gate."),
    ]
}
