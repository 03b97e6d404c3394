// The image classifiers of the sample-quality metrics: training (seeded), HDF5 checkpoints that
// record what the classifier is and how good it is, loading with checks, and batched
// classification and feature extraction.
//
// Checkpoint layout (data/classifiers/<dataset>.h5, written atomically):
//     /parameters/<name>          the ConvClassifier's parameters (Float32)
//     root attributes             format = "image-classifier v1", dataset, architecture (JSON),
//                                 training (JSON of ClassifierTrainingConfig), seed,
//                                 test_accuracy, test_count, data_sha256 (of the data file),
//                                 git_revision, threads, training_seconds
import DataIO
import Foundation
import NeuralNet
import TensorCore

/// How a classifier is trained.
public struct ClassifierTrainingConfig: Codable, Sendable, Equatable {
    /// The network.
    public var architecture: ConvClassifierArchitecture
    /// Passes over the training set.
    public var epochs: Int
    /// Minibatch size (the last, partial batch of an epoch is dropped).
    public var batchSize: Int
    /// Adam's learning rate at the start; it follows a half-cosine down to 0 over training.
    public var learningRate: Double
    /// Use only the first n training examples (nil: all; for tests).
    public var trainingExamples: Int?

    /// A configuration; see the properties.
    public init(architecture: ConvClassifierArchitecture, epochs: Int, batchSize: Int, learningRate: Double,
                trainingExamples: Int? = nil) {
        self.architecture = architecture
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.trainingExamples = trainingExamples
    }

    /// The artifact's classifier for each data set (sizes chosen for ≥ 90 % / ≥ 95 % test
    /// accuracy within minutes on 2 threads; see README).
    public static func standard(for dataset: DatasetName) -> ClassifierTrainingConfig {
        switch dataset {
        case .fashionMNIST:
            return ClassifierTrainingConfig(
                architecture: ConvClassifierArchitecture(height: 28, width: 28, convolutionChannels: [32, 64],
                                                         convolutionStrides: [2, 2], hidden: 128, classes: 10),
                epochs: 5, batchSize: 128, learningRate: 2e-3)
        case .digits8x8:
            return ClassifierTrainingConfig(
                architecture: ConvClassifierArchitecture(height: 8, width: 8, convolutionChannels: [16, 32],
                                                         convolutionStrides: [1, 2], hidden: 64, classes: 10),
                epochs: 15, batchSize: 32, learningRate: 2e-3)
        }
    }

    /// The learning rate after `step` of `total` steps (half-cosine from `learningRate` to 0).
    public func learningRate(step: Int, total: Int) -> Double {
        0.5 * learningRate * (1 + cos(Double.pi * Double(step) / Double(max(total, 1))))
    }
}

/// What a classifier checkpoint records about itself.
public struct ClassifierRecord: Codable, Sendable, Equatable {
    /// The data set it was trained on ("digits8x8", "fashion-mnist", or a test name).
    public var dataset: String
    /// The training configuration (architecture included).
    public var training: ClassifierTrainingConfig
    /// The training seed.
    public var seed: UInt64
    /// Accuracy on the data set's test split.
    public var testAccuracy: Double
    /// Size of the test split.
    public var testCount: Int
    /// SHA-256 of the data file it was trained on ("" when trained from memory).
    public var dataSHA256: String
    /// The git revision of the code that trained it.
    public var gitRevision: String
    /// Threads used for training.
    public var threads: Int
    /// Wall-clock training time.
    public var trainingSeconds: Double
}

/// A trained image classifier: labels for generated images and penultimate-layer features.
public final class ImageClassifier {
    /// The `format` attribute of classifier checkpoints.
    public static let format = "image-classifier v1"
    /// Images per forward pass in `classify` and `features`.
    public static let evaluationBatch = 500

    /// The network (Float32).
    public let network: ConvClassifier<Float>
    /// Serialises `evaluateWithLogits` (the network keeps its activations between calls).
    private let evaluationLock = NSLock()
    /// Where it came from and how good it is.
    public private(set) var record: ClassifierRecord

    init(network: ConvClassifier<Float>, record: ClassifierRecord) {
        self.network = network
        self.record = record
    }

    /// The conventional checkpoint path of a data set's classifier.
    public static func path(for dataset: DatasetName) -> String { "data/classifiers/\(dataset.rawValue).h5" }

    // MARK: Training

    /// Trains a classifier on `train` and measures its accuracy on `test`. Everything random
    /// (initialisation, the order of each epoch) comes from streams keyed by `seed`, so the same
    /// seed, data and thread count give the same weights.
    /// - Parameters:
    ///   - dataset: the name recorded in the checkpoint.
    ///   - dataSHA256: the data file's digest, recorded ("" if none).
    ///   - quiet: no progress lines.
    public static func train(
        train: LabeledImages, test: LabeledImages, classes: Int, config: ClassifierTrainingConfig, seed: UInt64,
        dataset: String, dataSHA256: String = "", quiet: Bool = false
    ) throws -> ImageClassifier {
        let a = config.architecture
        guard a.problem == nil else { throw ValidationFailure("classifier architecture: \(a.problem!)") }
        guard train.height == a.height, train.width == a.width, test.height == a.height, test.width == a.width else {
            throw ValidationFailure("classifier for \(a.height)×\(a.width) images, data set \(dataset) has \(train.height)×\(train.width)")
        }
        guard classes == a.classes else { throw ValidationFailure("classifier for \(a.classes) classes, data set \(dataset) has \(classes)") }
        let n = min(config.trainingExamples ?? train.count, train.count)
        guard n >= config.batchSize, config.batchSize >= 1, config.epochs >= 1 else {
            throw ValidationFailure("classifier training needs epochs ≥ 1 and at least one batch (batch \(config.batchSize), \(n) examples)")
        }
        let start = Date()
        var initRNG = Xoshiro256(seed: seed, key: [0x636C_6173])  // "clas"
        let network = ConvClassifier<Float>(a, using: &initRNG)
        let adam = Adam<Float>(learningRate: config.learningRate)
        let perEpoch = n / config.batchSize
        let total = perEpoch * config.epochs
        let progress = Progress("training the \(dataset) classifier", total: total, quiet: quiet)
        var logits = Tensor<Float>(shape: [0]), dLogits = Tensor<Float>(shape: [0]), dInput = Tensor<Float>(shape: [0])
        var batch = Tensor<Float>(shape: [config.batchSize, train.images.columns])
        var step = 0
        for epoch in 0..<config.epochs {
            var order = Array(0..<n)
            var rng = Xoshiro256(seed: seed, key: [0x6F72_6465, UInt64(epoch)])  // "orde"
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextIndex(i + 1)) }
            var lossSum = 0.0
            for k in 0..<perEpoch {
                let rows = Array(order[(k * config.batchSize)..<((k + 1) * config.batchSize)])
                train.images.gatherRows(rows, into: &batch)
                let labels = rows.map { Int(train.labels[$0]) }
                network.zeroGradients()
                network.forward(batch, into: &logits)
                lossSum += softmaxCrossEntropy(logits: logits, labels: labels, dLogits: &dLogits)
                network.backward(input: batch, dOutput: dLogits, into: &dInput, accumulateParameterGradients: true)
                adam.learningRate = config.learningRate(step: step, total: total)
                adam.step(network)
                step += 1
                progress.advance(note: String(format: "epoch %d loss %.4f", epoch + 1, lossSum / Double(k + 1)))
            }
        }
        let classifier = ImageClassifier(network: network, record: ClassifierRecord(
            dataset: dataset, training: config, seed: seed, testAccuracy: 0, testCount: test.count, dataSHA256: dataSHA256,
            gitRevision: Provenance.current().gitRevision, threads: Parallel.threads, trainingSeconds: 0))
        classifier.record.testAccuracy = classifier.accuracy(on: test)
        classifier.record.trainingSeconds = Date().timeIntervalSince(start)
        return classifier
    }

    // MARK: Use

    /// The predicted class of each image ([N, H·W], values in [0, 1]).
    public func classify(_ images: Tensor<Float>) -> [Int] { evaluate(images).labels }

    /// The penultimate-layer features [N, F] of each image.
    public func features(_ images: Tensor<Float>) -> Tensor<Float> { evaluate(images).features }

    /// Labels and features in one pass, in batches of `evaluationBatch`.
    public func evaluate(_ images: Tensor<Float>) -> (labels: [Int], features: Tensor<Float>) {
        let all = evaluateWithLogits(images)
        return (all.labels, all.features)
    }

    /// Labels, penultimate features [N, F] and logits [N, classes] in one pass. Safe to call
    /// from parallel work units: the network's buffers are shared, so calls take turns.
    public func evaluateWithLogits(_ images: Tensor<Float>) -> (labels: [Int], features: Tensor<Float>, logits: Tensor<Float>) {
        evaluationLock.lock()
        defer { evaluationLock.unlock() }
        let a = network.architecture
        precondition(images.columns == a.inputChannels * a.height * a.width,
                     "classifier for \(a.height)×\(a.width) images, got rows of \(images.columns) values")
        let n = images.rows
        var labels: [Int] = []
        labels.reserveCapacity(n)
        var features = [Float]()
        features.reserveCapacity(n * a.hidden)
        var allLogits = [Float]()
        allLogits.reserveCapacity(n * a.classes)
        var logits = Tensor<Float>(shape: [0])
        var start = 0
        while start < n {
            let end = min(n, start + Self.evaluationBatch)
            let batch = images.gatherRows(Array(start..<end))
            network.forward(batch, into: &logits)
            labels += argmaxRows(logits)
            features += network.features.scalars
            allLogits += logits.scalars
            start = end
        }
        return (labels, Tensor(shape: [n, a.hidden], scalars: features), Tensor(shape: [n, a.classes], scalars: allLogits))
    }

    /// For each image, whether its logit for class `a` is not below its logit for class `b`
    /// (the classifier's decision restricted to the two classes): true means `a`.
    public static func restrictedDecision(logits: Tensor<Float>, a: Int, b: Int) -> [Bool] {
        (0..<logits.rows).map { r in logits.scalars[r * logits.columns + a] >= logits.scalars[r * logits.columns + b] }
    }

    /// The fraction of `examples` classified correctly.
    public func accuracy(on examples: LabeledImages) -> Double {
        let predicted = classify(examples.images)
        let correct = zip(predicted, examples.labels).reduce(0) { $0 + ($1.0 == Int($1.1) ? 1 : 0) }
        return Double(correct) / Double(max(examples.count, 1))
    }

    // MARK: Checkpoints

    /// Writes the classifier and its record to `url` atomically (folders are created).
    public func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let r = record
        try HDF5File.create(at: url) { file in
            try file.createGroup("parameters")
            for (name, value) in network.namedParameters() { try file.write(value, to: "parameters/\(name)") }
            try file.setAttribute("format", Self.format)
            try file.setAttribute("dataset", r.dataset)
            try file.setAttribute("architecture", String(decoding: try encoder.encode(r.training.architecture), as: UTF8.self))
            try file.setAttribute("training", String(decoding: try encoder.encode(r.training), as: UTF8.self))
            try file.setAttribute("seed", Int64(bitPattern: r.seed))
            try file.setAttribute("test_accuracy", r.testAccuracy)
            try file.setAttribute("test_count", r.testCount)
            try file.setAttribute("data_sha256", r.dataSHA256)
            try file.setAttribute("git_revision", r.gitRevision)
            try file.setAttribute("threads", r.threads)
            try file.setAttribute("training_seconds", r.trainingSeconds)
        }
    }

    /// Loads a classifier checkpoint.
    /// - Parameter dataset: when given, the checkpoint must be this data set's classifier.
    /// - Throws: `DataIOError` naming the file and the field (missing file with a `make
    ///   classifiers` hint, wrong format, unreadable architecture, missing or mis-shaped
    ///   parameters, another data set).
    public static func load(from url: URL, dataset: String? = nil) throws -> ImageClassifier {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.fileNotFound(path: url.path, hint: "train it with `make classifiers` (train-classifier)")
        }
        let record: ClassifierRecord
        do {
            let file = try HDF5File.open(url)
            defer { try? file.close() }
            let format = try file.hasAttribute("format") ? try file.stringAttribute("format") : "none"
            guard format == Self.format else {
                throw DataIOError.format(path: url.path, object: "attribute format", expected: "\"\(Self.format)\"", found: "\"\(format)\"")
            }
            let trainingText = try file.stringAttribute("training")
            let training: ClassifierTrainingConfig
            do {
                training = try JSONDecoder().decode(ClassifierTrainingConfig.self, from: Data(trainingText.utf8))
            } catch {
                throw DataIOError.format(path: url.path, object: "attribute training", expected: "the JSON of a classifier training configuration",
                                         found: String(trainingText.prefix(80)))
            }
            if let p = training.architecture.problem {
                throw DataIOError.format(path: url.path, object: "attribute training (architecture)", expected: "a valid architecture", found: p)
            }
            record = ClassifierRecord(
                dataset: try file.stringAttribute("dataset"), training: training,
                seed: UInt64(bitPattern: try file.attribute("seed", as: Int64.self)),
                testAccuracy: try file.attribute("test_accuracy", as: Double.self), testCount: try file.attribute("test_count", as: Int.self),
                dataSHA256: try file.stringAttribute("data_sha256"), gitRevision: try file.stringAttribute("git_revision"),
                threads: try file.attribute("threads", as: Int.self), trainingSeconds: try file.attribute("training_seconds", as: Double.self))
        }
        if let dataset, record.dataset != dataset {
            throw DataIOError.format(path: url.path, object: "attribute dataset", expected: "\"\(dataset)\"", found: "\"\(record.dataset)\"")
        }
        var rng = Xoshiro256(seed: 0)
        let network = ConvClassifier<Float>(record.training.architecture, using: &rng)
        try Checkpoint.load(network, from: url)
        return ImageClassifier(network: network, record: record)
    }
}

/// A one-line error for bad settings passed to the kit's library calls.
public struct ValidationFailure: Error, CustomStringConvertible {
    /// The message.
    public var description: String
    /// An error with this message.
    public init(_ message: String) { description = message }
}
