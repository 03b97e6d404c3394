// The validating data-set reader: a good tiny file loads with the right shapes and metadata;
// each kind of bad file fails with a message naming the file and the offending object.
@testable import DataIO
import Foundation
import TensorCore
import Testing

/// Writes a small file in the data-set schema (3 train + 2 test images of 2×3 pixels), leaving
/// out the parts named in `omit` and then letting `customize` add replacements.
private func writeSchemaFile(_ url: URL, omit: Set<String> = [], customize: (HDF5File) throws -> Void = { _ in }) throws {
    try HDF5File.create(at: url) { file in
        for (name, value) in [("source_package", "test-package"), ("source_version", "1.0-1"), ("description", "tiny test set")]
        where !omit.contains(name) {
            try file.setAttribute(name, value)
        }
        if !omit.contains("checksums") {
            try file.setAttribute("source_sha256_a.gz", String(repeating: "ab", count: 32))
            try file.setAttribute("source_sha256_b.gz", String(repeating: "0", count: 64))
        }
        try file.setAttribute("split_rule", "first three train")
        for (group, n) in [("train", 3), ("test", 2)] where !omit.contains(group) {
            try file.createGroup(group)
            for (name, value) in [("height", 2), ("width", 3), ("classes", 4)] where !omit.contains("\(group)@\(name)") {
                try file.setAttribute(name, value, on: group)
            }
            if !omit.contains("\(group)/images") {
                try file.write((0..<(n * 6)).map { Float($0) / Float(n * 6) }, shape: [n, 2, 3], to: "\(group)/images")
            }
            if !omit.contains("\(group)/labels") {
                try file.write((0..<n).map { UInt8($0 % 4) }, shape: [n], to: "\(group)/labels")
            }
        }
        try customize(file)
    }
}

@Suite struct ImageDatasetTests {
    @Test func goodFileLoadsBothSplits() throws {
        let folder = TemporaryFolder()
        let url = folder.file("good.h5")
        try writeSchemaFile(url)
        let train = try ImageDataset.load(path: url.path, split: .train)
        #expect(train.count == 3 && train.height == 2 && train.width == 3 && train.classes == 4)
        #expect(train.images.shape == [3, 6])
        #expect(train.images.scalars == (0..<18).map { Float($0) / 18 })
        #expect(train.labels == [0, 1, 2])
        #expect(train.split == .train && train.path == url.path)
        #expect(train.metadata.sourcePackage == "test-package")
        #expect(train.metadata.sourceVersion == "1.0-1")
        #expect(train.metadata.description == "tiny test set")
        #expect(train.metadata.sourceSHA256 == ["a.gz": String(repeating: "ab", count: 32), "b.gz": String(repeating: "0", count: 64)])
        #expect(train.metadata.extra == ["split_rule": "first three train"])
        let test = try ImageDataset.load(path: url.path, split: .test, valueCheck: .spot(samples: 3))
        #expect(test.count == 2 && test.labels == [0, 1])
        #expect(try ImageDataset.readMetadata(path: url.path) == train.metadata)
    }

    @Test func writerRoundTrip() throws {
        let folder = TemporaryFolder()
        let url = folder.file("written.h5")
        let train = try LabeledImages(
            images: Tensor(shape: [4, 2, 2], scalars: (0..<16).map { Float($0) / 15 }), labels: [0, 1, 2, 1], height: 2, width: 2)
        let test = try LabeledImages(images: Tensor(shape: [1, 4], scalars: [0, 0.5, 1, 0.25]), labels: [2], height: 2, width: 2)
        let meta = ImageDatasetMetadata(
            sourcePackage: "pkg", sourceVersion: "unknown", sourceSHA256: ["src.csv.gz": String(repeating: "f", count: 64)],
            description: "round trip", classNames: ["a", "b, with comma", "ç"], extra: ["split_rule": "by hand"])
        try ImageDataset.write(train: train, test: test, classes: 3, metadata: meta, to: url)
        let back = try ImageDataset.load(path: url.path, split: .train)
        #expect(back.examples == train)
        #expect(back.metadata == meta)
        #expect(try ImageDataset.load(path: url.path, split: .test).examples == test)
        #expect(train.subset([3, 0]).labels == [1, 0])
        #expect(train.subset([3, 0]).images.row(1) == train.images.row(0))

        expectMessage(containing: [folder.file("bad.h5").path, "train labels (before writing)", "labels in 0..<2", "2 at index 2"]) {
            try ImageDataset.write(train: train, test: test, classes: 2, metadata: meta, to: folder.file("bad.h5"))
        }
        var noChecksums = meta
        noChecksums.sourceSHA256 = [:]
        expectMessage(containing: ["bad.h5", "one checksum per source file"]) {
            try ImageDataset.write(train: train, test: test, classes: 3, metadata: noChecksums, to: folder.file("bad.h5"))
        }
        var wrongNames = meta
        wrongNames.classNames = ["a", "b"]
        expectMessage(containing: ["bad.h5", "metadata.classNames", "one name per class (3)", "2 names"]) {
            try ImageDataset.write(train: train, test: test, classes: 3, metadata: wrongNames, to: folder.file("bad.h5"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("bad.h5").path))
        expectMessage(containing: ["LabeledImages images", "[2, 4] or [2, 2, 2]", "shape [1, 4]"]) {
            _ = try LabeledImages(images: Tensor(shape: [1, 4], repeating: 0), labels: [0, 1], height: 2, width: 2)
        }
    }

    /// Files written before `class_names` became an array hold one ", "-joined string; they still
    /// read, as the same array.
    @Test func legacyJoinedClassNamesRead() throws {
        let folder = TemporaryFolder()
        let url = folder.file("legacy.h5")
        // Built by hand as the old writer did: every string attribute fixed-length.
        try HDF5File.create(at: url) { file in
            try file.setFixedLengthAttribute("source_package", "pkg")
            try file.setFixedLengthAttribute("source_version", "1")
            try file.setFixedLengthAttribute("description", "legacy")
            try file.setFixedLengthAttribute("source_sha256_src", String(repeating: "a", count: 64))
            try file.setFixedLengthAttribute("class_names", "zero, one")
            for group in ["train", "test"] {
                try file.createGroup(group)
                try file.setAttribute("height", 2, on: group)
                try file.setAttribute("width", 2, on: group)
                try file.setAttribute("classes", 2, on: group)
                try file.write([Float](repeating: 0.5, count: 8), shape: [2, 2, 2], to: "\(group)/images")
                try file.write([UInt8(0), 1], shape: [2], to: "\(group)/labels")
            }
        }
        #expect(try ImageDataset.load(path: url.path, split: .train).count == 2)
        #expect(try ImageDataset.readMetadata(path: url.path).classNames == ["zero", "one"])
        #expect(try ImageDataset.readMetadata(path: url.path).extra.isEmpty)
    }

    /// One bad variant per case: what to omit or add, and what the message must mention.
    struct BadCase: CustomTestStringConvertible, Sendable {
        let name: String
        let omit: Set<String>
        let customize: @Sendable (HDF5File) throws -> Void
        let message: [String]
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(
            name: "images of wrong dtype", omit: ["train/images"],
            customize: { try $0.write([UInt8](repeating: 0, count: 18), shape: [3, 2, 3], to: "train/images") },
            message: ["dataset 'train/images': expected float32 of rank 3 [N, H, W], found uint8 of rank 3 [3, 2, 3]"]),
        BadCase(
            name: "images of wrong rank", omit: ["train/images"],
            customize: { try $0.write([Float](repeating: 0, count: 18), shape: [3, 6], to: "train/images") },
            message: ["dataset 'train/images': expected float32 of rank 3 [N, H, W], found float32 of rank 2 [3, 6]"]),
        BadCase(
            name: "labels of wrong dtype", omit: ["train/labels"],
            customize: { try $0.write([Int32](repeating: 0, count: 3), shape: [3], to: "train/labels") },
            message: ["dataset 'train/labels': expected uint8 of rank 1 [N], found int32 of rank 1 [3]"]),
        BadCase(
            name: "mismatched example counts", omit: ["train/labels"],
            customize: { try $0.write([UInt8](repeating: 0, count: 2), shape: [2], to: "train/labels") },
            message: ["dataset 'train/labels': expected 3 labels (one per image in 'train/images'), found 2"]),
        BadCase(
            name: "missing file attribute", omit: ["source_package"], customize: { _ in },
            message: ["attribute 'source_package' of the file not found", "present: description"]),
        BadCase(
            name: "file attribute of wrong type", omit: ["description"], customize: { try $0.setAttribute("description", 3.5) },
            message: ["attribute 'description' of the file: expected a string, found float64"]),
        BadCase(
            name: "no checksums", omit: ["checksums"], customize: { _ in },
            message: ["attribute 'source_sha256_<file>' of the file not found"]),
        BadCase(
            name: "malformed checksum", omit: [], customize: { try $0.setAttribute("source_sha256_c.gz", "xyz") },
            message: ["attribute 'source_sha256_c.gz' of the file: expected 64 lower-case hex digits (SHA-256), found 'xyz'"]),
        BadCase(
            name: "missing labels dataset", omit: ["train/labels"], customize: { _ in },
            message: ["dataset 'train/labels' not found", "group 'train' has: images"]),
        BadCase(
            name: "missing split group", omit: ["train"], customize: { _ in },
            message: ["group 'train' not found", "the file root has: test"]),
        BadCase(
            name: "missing group attribute", omit: ["train@classes"], customize: { _ in },
            message: ["attribute 'classes' of 'train' not found", "present: height, width"]),
        BadCase(
            name: "height attribute disagrees", omit: ["train@height"], customize: { try $0.setAttribute("height", 5, on: "train") },
            message: ["attribute 'height' of 'train': expected 2 (as in 'train/images'), found 5"]),
        BadCase(
            name: "pixel above 1", omit: ["train/images"],
            customize: { try $0.write([Float](repeating: 0, count: 10) + [1.5] + [Float](repeating: 0, count: 7), shape: [3, 2, 3], to: "train/images") },
            message: ["dataset 'train/images': expected values in [0, 1], found 1.5 in image 1 at row 1, column 1"]),
        BadCase(
            name: "NaN pixel", omit: ["train/images"],
            customize: { try $0.write([Float.nan] + [Float](repeating: 0, count: 17), shape: [3, 2, 3], to: "train/images") },
            message: ["dataset 'train/images': expected values in [0, 1], found nan in image 0"]),
        BadCase(
            name: "label out of range", omit: ["train/labels"],
            customize: { try $0.write([UInt8(0), 9, 1], shape: [3], to: "train/labels") },
            message: ["dataset 'train/labels': expected labels in 0..<4, found 9 at index 1"]),
    ]

    @Test(arguments: badCases)
    func badFileFailsWithPreciseMessage(_ bad: BadCase) throws {
        let folder = TemporaryFolder()
        let url = folder.file("bad.h5")
        try writeSchemaFile(url, omit: bad.omit, customize: bad.customize)
        expectMessage(containing: [url.path + ": "] + bad.message) {
            _ = try ImageDataset.load(path: url.path, split: .train)
        }
    }

    @Test func nonHDF5AndMissingFiles() throws {
        let folder = TemporaryFolder()
        let text = folder.file("digits8x8.h5")
        try AtomicFile.write("not an HDF5 file at all", to: text)
        expectMessage(containing: [text.path, "expected an HDF5 file", "no HDF5 signature"]) {
            _ = try ImageDataset.load(path: text.path, split: .train)
        }
        let missing = folder.file("fashion-mnist.h5")
        expectMessage(containing: [missing.path, "file not found", "make data"]) {
            _ = try ImageDataset.load(path: missing.path, split: .test)
        }
        expectMessage(containing: [missing.path, "file not found; run prepare-data"]) {
            _ = try ImageDataset.load(path: missing.path, split: .test, hint: "run prepare-data")
        }
    }
}
