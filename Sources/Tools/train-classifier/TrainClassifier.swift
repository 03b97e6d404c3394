/// Trains the sample-quality classifier of one data set (seeded) and writes it to an HDF5
/// checkpoint (default data/classifiers/<dataset>.h5) that records its test accuracy, seed,
/// configuration, the data file's SHA-256 and the git revision. `make classifiers` runs it for
/// both data sets; `make figures` for the digits when the file is missing.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import TensorCore

@main
struct TrainClassifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-classifier",
        abstract: "Train the conv classifier of a data set (for class histograms and FD/KID/PRDC features) into data/classifiers/<dataset>.h5.")

    @Option(help: "The data set: \(DatasetName.allCases.map(\.rawValue).joined(separator: " or ")).")
    var dataset: DatasetName

    @Option(help: "Random seed (initialisation and minibatch order).")
    var seed: UInt64 = 0

    @Option(help: "Threads for oneDNN, OpenBLAS and the elementwise kernels.")
    var threads: Int = 2

    @Option(help: "Output checkpoint (default: data/classifiers/<dataset>.h5).")
    var out: String?

    @Option(help: "Override the number of epochs.")
    var epochs: Int?

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64, got \(threads)") }
        if let e = epochs, !(1...1000).contains(e) { throw ValidationError("--epochs must be in 1...1000, got \(e)") }
        if let o = out, o.isEmpty { throw ValidationError("--out must not be empty") }
    }

    func run() throws {
        do {
            Parallel.configure(threads: threads)
            let path = dataset.path
            let train = try ImageDataset.load(path: path, split: .train)
            let test = try ImageDataset.load(path: path, split: .test)
            var config = ClassifierTrainingConfig.standard(for: dataset)
            if let e = epochs { config.epochs = e }
            let digest = try Digest.sha256(file: URL(fileURLWithPath: path))
            let classifier = try ImageClassifier.train(
                train: train.examples, test: test.examples, classes: train.classes, config: config, seed: seed,
                dataset: dataset.rawValue, dataSHA256: digest)
            let url = URL(fileURLWithPath: out ?? ImageClassifier.path(for: dataset))
            try classifier.save(to: url)
            let r = classifier.record
            print(String(format: "%@: test accuracy %.4f (%d test images), trained in %.1f s on %d thread(s), seed %llu -> %@",
                         dataset.rawValue, r.testAccuracy, r.testCount, r.trainingSeconds, threads, seed, url.path))
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("error: train-classifier: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
