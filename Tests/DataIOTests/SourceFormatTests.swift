// The raw-source readers used by prepare-data: gzip, IDX (on tiny synthetic files the tests
// write), the Fashion-MNIST and digits converters, and the stratified split rule.
import DataIO
import Foundation
import TensorCore
import Testing

/// IDX bytes: magic 0x00 0x00 0x08 rank, big-endian dimensions, payload.
private func idx(_ dims: [Int], _ payload: [UInt8], type: UInt8 = 0x08) -> Data {
    var bytes: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return Data(bytes + payload)
}

@Suite struct GzipAndIDXTests {
    @Test func gzipRoundTripAndPlainPassThrough() throws {
        let folder = TemporaryFolder()
        let data = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
        try GzipFile.write(data, to: folder.file("x.gz"))
        #expect(try GzipFile.read(folder.file("x.gz")) == data)
        #expect(try Data(contentsOf: folder.file("x.gz")).prefix(2) == Data([0x1F, 0x8B]))
        try AtomicFile.write(Data("plain".utf8), to: folder.file("plain.txt"))
        #expect(try GzipFile.read(folder.file("plain.txt")) == Data("plain".utf8))
        #expect(folder.contents() == ["plain.txt", "x.gz"])
    }

    @Test func corruptAndMissingGzipFiles() throws {
        let folder = TemporaryFolder()
        try GzipFile.write(Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7919) }), to: folder.file("x.gz"))
        let whole = try Data(contentsOf: folder.file("x.gz"))
        try AtomicFile.write(whole.prefix(whole.count / 2), to: folder.file("x.gz"))
        expectMessage(containing: [folder.file("x.gz").path, "decompressing failed", "zlib"]) {
            _ = try GzipFile.read(folder.file("x.gz"))
        }
        expectMessage(containing: [folder.file("none.gz").path, "file not found; install it"]) {
            _ = try GzipFile.read(folder.file("none.gz"), hint: "install it")
        }
    }

    @Test func parsesImagesAndLabelsFromGzip() throws {
        let folder = TemporaryFolder()
        let pixels = (0..<(2 * 3 * 4)).map { UInt8($0 * 10) }
        try GzipFile.write(idx([2, 3, 4], pixels), to: folder.file("img.gz"))
        let images = try IDXArray.read(folder.file("img.gz"), expectedRank: 3)
        #expect(images.dimensions == [2, 3, 4] && images.bytes == pixels)
        let labels = try IDXArray.parse(idx([3], [7, 8, 9]), path: "labels", expectedRank: 1)
        #expect(labels == IDXArray(dimensions: [3], bytes: [7, 8, 9]))
        #expect(IDXArray.magic(rank: 3) == 0x0000_0803 && IDXArray.magic(rank: 1) == 0x0000_0801)
        // Large dimensions exercise all four big-endian bytes.
        #expect(try IDXArray.parse(idx([70_000], [UInt8](repeating: 1, count: 70_000)), path: "big").dimensions == [70_000])
    }

    @Test func rejectsBadMagicAndSizes() throws {
        let folder = TemporaryFolder()
        let url = folder.file("labels-as-images.gz")
        try GzipFile.write(idx([3], [1, 2, 3]), to: url)
        expectMessage(containing: [url.path, "IDX magic number", "expected 0x00000803 (unsigned bytes, rank 3)", "found 0x00000801"]) {
            _ = try IDXArray.read(url, expectedRank: 3)
        }
        expectMessage(containing: ["f", "IDX magic number", "found 0x00000D01"]) {
            _ = try IDXArray.parse(idx([3], [0, 0, 0, 0], type: 0x0D), path: "f")
        }
        expectMessage(containing: ["g", "IDX data", "expected 6 bytes for dimensions [2, 3]", "found 5 bytes"]) {
            _ = try IDXArray.parse(idx([2, 3], [1, 2, 3, 4, 5]), path: "g")
        }
        expectMessage(containing: ["h", "IDX header", "expected 12 bytes for rank 2", "found 8 bytes"]) {
            _ = try IDXArray.parse(Data([0, 0, 8, 2, 0, 0, 0, 1]), path: "h")
        }
        expectMessage(containing: ["i", "IDX header", "at least 4 bytes"]) {
            _ = try IDXArray.parse(Data([0, 0]), path: "i")
        }
    }

    @Test func fashionMNISTConverterOnSyntheticFiles() throws {
        let folder = TemporaryFolder()
        let dir = folder.url
        try GzipFile.write(idx([2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]), to: dir.appendingPathComponent(FashionMNISTSource.trainImagesFile))
        try GzipFile.write(idx([2], [9, 0]), to: dir.appendingPathComponent(FashionMNISTSource.trainLabelsFile))
        try GzipFile.write(idx([1, 2, 2], [255, 255, 0, 0]), to: dir.appendingPathComponent(FashionMNISTSource.testImagesFile))
        try GzipFile.write(idx([1], [3]), to: dir.appendingPathComponent(FashionMNISTSource.testLabelsFile))
        let (train, test) = try FashionMNISTSource.load(directory: dir)
        #expect(train.count == 2 && train.height == 2 && train.width == 2)
        #expect(train.images.row(0) == [0, 1, 0.2, 0.4])
        #expect(train.labels == [9, 0] && test.labels == [3])
        #expect(test.images.scalars == [1, 1, 0, 0])

        try GzipFile.write(idx([3], [1, 2, 3]), to: dir.appendingPathComponent(FashionMNISTSource.testLabelsFile))
        expectMessage(containing: [FashionMNISTSource.testLabelsFile, "expected 1 labels (one per image in t10k-images-idx3-ubyte.gz)", "found 3"]) {
            _ = try FashionMNISTSource.load(directory: dir)
        }
        try GzipFile.write(idx([1], [10]), to: dir.appendingPathComponent(FashionMNISTSource.testLabelsFile))
        expectMessage(containing: [FashionMNISTSource.testLabelsFile, "label 0", "a class in 0..<10", "found 10"]) {
            _ = try FashionMNISTSource.load(directory: dir)
        }
        let empty = folder.file("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        expectMessage(containing: [empty.path + "/train-images-idx3-ubyte.gz", "not found", "install the Debian package dataset-fashion-mnist"]) {
            _ = try FashionMNISTSource.load(directory: empty)
        }
    }
}

@Suite struct DigitsSourceTests {
    @Test func stratifiedSplitTakesEveryFifthOfEachClass() {
        let labels: [UInt8] = [0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
        let split = DigitsSource.stratifiedSplit(labels: labels)
        // Class 0 at 0,2,3,5,6,10,11,12,13,14 → 5th and 10th: 6 and 14. Class 1 at 1,4,7,8,9 → 5th: 9.
        #expect(split.test == [6, 9, 14])
        #expect(split.train == (0..<15).filter { ![6, 9, 14].contains($0) })
        #expect(DigitsSource.stratifiedSplit(labels: labels, every: 2).test == [2, 4, 5, 8, 10, 12, 14])
    }

    @Test func parsesSyntheticCSVAndScales() throws {
        let folder = TemporaryFolder()
        var lines: [String] = []
        for i in 0..<12 {
            let pixels = (0..<64).map { String(($0 + i) % 17) }
            lines.append((pixels + [String(i % 2)]).joined(separator: ","))
        }
        let url = folder.file("digits.csv.gz")
        try GzipFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
        let all = try DigitsSource.readAll(url)
        #expect(all.count == 12 && all.height == 8 && all.width == 8)
        #expect(all.images.row(1)[0] == 1 / 16 && all.images.row(0)[16] == 1 && all.images.row(0)[0] == 0)
        let (train, test) = try DigitsSource.load(url)
        #expect(test.count == 2 && train.count == 10)  // each class has 6 examples → one to test
        #expect(test.labels == [0, 1])
        #expect(test.images.row(0) == all.images.row(8))  // 5th example of class 0 is line 9

        try GzipFile.write(Data((lines[0] + "\n" + lines[1].replacingOccurrences(of: ",", with: ",17,", options: [], range: lines[1].range(of: ",")) + "\n").utf8), to: url)
        expectMessage(containing: [url.path, "line 2", "expected 65 fields", "found 66 fields"]) { _ = try DigitsSource.readAll(url) }
        try GzipFile.write(Data(("17," + lines[0].split(separator: ",", maxSplits: 1)[1] + "\n").utf8), to: url)
        expectMessage(containing: [url.path, "line 1, pixel 1", "an integer in 0...16", "'17'"]) { _ = try DigitsSource.readAll(url) }
        try GzipFile.write(Data((lines[0].dropLast() + "x\n").utf8), to: url)
        expectMessage(containing: [url.path, "line 1, label", "an integer in 0...9", "'x'"]) { _ = try DigitsSource.readAll(url) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: DigitsSource.defaultFile.path), "python3-sklearn not installed"))
    func realDigitsFile() throws {
        let all = try DigitsSource.readAll()
        #expect(all.count == 1797)
        let (train, test) = try DigitsSource.load()
        #expect(train.count + test.count == 1797)
        // Every class contributes floor(n_c / 5) test examples.
        let perClass = (0..<10).map { c in all.labels.filter { $0 == c }.count }
        #expect(test.count == perClass.map { $0 / 5 }.reduce(0, +))
        #expect(all.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
