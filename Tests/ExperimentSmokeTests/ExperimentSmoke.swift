import DataIO
import ExperimentKit
import Foundation
import Testing

/// Parent of every experiment smoke suite. Experiments set process-wide state (OpenBLAS's thread
/// count, `Parallel.threads`), and OpenBLAS results can depend on its thread count, so two
/// experiments running at once in the test process could make each other's outputs differ
/// between runs. `.serialized` on the parent runs the nested suites one after another.
@Suite(.serialized) enum ExperimentSmoke {}

extension ExperimentSmoke {
    /// A digits classifier for the image experiments' smoke tests: one epoch on 320 training
    /// images (seconds; its accuracy does not matter there), saved as `folder`/digits8x8.h5.
    static func tinyDigitsClassifier(in folder: URL) throws -> URL {
        let train = try ImageDataset.load(path: DatasetName.digits8x8.path, split: .train)
        let test = try ImageDataset.load(path: DatasetName.digits8x8.path, split: .test)
        var config = ClassifierTrainingConfig.standard(for: .digits8x8)
        config.epochs = 1
        config.trainingExamples = 320
        let classifier = try ImageClassifier.train(train: train.examples, test: test.examples, classes: 10, config: config, seed: 0,
                                                   dataset: "digits8x8", quiet: true)
        let url = folder.appendingPathComponent("digits8x8.h5")
        try classifier.save(to: url)
        return url
    }
}
