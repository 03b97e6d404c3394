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
    /// Issue 19: `folder` (a committed results folder) has COLUMNS.md with a section for every
    /// CSV file in it (units/ aside) that lists every column of that file's header.
    static func expectColumnDictionary(in folder: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dictionary = folder.appendingPathComponent("COLUMNS.md")
        #expect(FileManager.default.fileExists(atPath: dictionary.path), "\(folder.path) has no COLUMNS.md", sourceLocation: sourceLocation)
        guard let text = try? String(contentsOf: dictionary, encoding: .utf8) else { return }
        let names = ((FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? [])
            .filter { $0.hasSuffix(".csv") && !$0.hasPrefix("units/") }.sorted()
        #expect(!names.isEmpty, "\(folder.path) has no CSV files", sourceLocation: sourceLocation)
        for name in names {
            // The file's section: from its heading to the next one.
            guard let start = text.range(of: "\n## \(name)\n") else {
                Issue.record("COLUMNS.md has no section for \(name)", sourceLocation: sourceLocation)
                continue
            }
            let rest = text[start.upperBound...]
            let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
            let (header, _) = try CSVFile.read(from: folder.appendingPathComponent(name))
            for column in header {
                #expect(section.contains("| `\(column)` | "), "COLUMNS.md: \(name) lacks column \(column)", sourceLocation: sourceLocation)
            }
            #expect(section.components(separatedBy: "\n| `").count - 1 == header.count,
                    "COLUMNS.md: \(name) documents other columns than its header \(header)", sourceLocation: sourceLocation)
        }
    }

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

extension ExperimentSmoke {
    /// The smoke tests' COLUMNS.md check fails on a missing dictionary, a missing section and a
    /// missing column, and passes on a complete one.
    @Suite struct ColumnDictionaryCheckTests {
        @Test func flagsWhatIsMissing() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("columns-check-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try "x,y\n1,2\n".write(to: dir.appendingPathComponent("a.csv"), atomically: true, encoding: .utf8)
            withKnownIssue { try ExperimentSmoke.expectColumnDictionary(in: dir) }
            let header = "# Columns of t\n\n## a.csv\n\npurpose\n\n| column | unit | meaning |\n|---|---|---|\n"
            let dictionary = dir.appendingPathComponent("COLUMNS.md")
            try (header + "| `x` | 1 | first |\n").write(to: dictionary, atomically: true, encoding: .utf8)
            withKnownIssue { try ExperimentSmoke.expectColumnDictionary(in: dir) }
            try "# Columns of t\n".write(to: dictionary, atomically: true, encoding: .utf8)
            withKnownIssue { try ExperimentSmoke.expectColumnDictionary(in: dir) }
            try (header + "| `x` | 1 | first |\n| `y` | 1 | second |\n").write(to: dictionary, atomically: true, encoding: .utf8)
            try ExperimentSmoke.expectColumnDictionary(in: dir)
        }
    }
}
