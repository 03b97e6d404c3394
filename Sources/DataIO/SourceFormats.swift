// Readers for the raw sources the data sets are built from, and their conversion to
// `LabeledImages` (pixel values scaled to [0, 1]):
//   - IDX files (LeCun's MNIST format, also Fashion-MNIST's), gzip-compressed: a 4-byte magic
//     number 0x00 0x00 <type> <rank> (type 0x08 = unsigned byte), `rank` big-endian UInt32
//     dimensions, then the bytes row-major. Images are magic 0x00000803, labels 0x00000801.
//   - scikit-learn's digits.csv.gz: 1797 lines of 64 pixel values (integers 0–16) and a label,
//     no header. It has no official split, so a deterministic stratified one is made here.
// Every check names the source file and the position of the problem.
import Foundation
import TensorCore

/// An n-dimensional array of unsigned bytes read from an IDX file.
public struct IDXArray: Equatable, Sendable {
    /// The extent of each dimension, outermost first.
    public var dimensions: [Int]
    /// The elements, row-major.
    public var bytes: [UInt8]

    /// An array with the given dimensions and row-major bytes.
    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// The magic number of an unsigned-byte IDX file of the given rank (0x00000803 for rank 3).
    public static func magic(rank: Int) -> UInt32 { 0x0000_0800 | UInt32(rank) }

    /// Parses IDX bytes; `path` is used in error messages.
    /// - Parameter expectedRank: if given, the magic number must be `magic(rank:)` of it.
    /// - Throws: `.format` for a wrong magic number, a short header, or a payload whose length
    ///   does not match the dimensions.
    public static func parse(_ data: Data, path: String, expectedRank: Int? = nil) throws -> IDXArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw DataIOError.format(path: path, object: "IDX header", expected: "at least 4 bytes", found: "\(bytes.count) bytes")
        }
        let magic = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let rank = Int(bytes[3])
        let expectedMagic = expectedRank.map(magic(rank:))
        let magicText = "0x" + String(format: "%08X", magic)
        if let expectedMagic, magic != expectedMagic {
            throw DataIOError.format(
                path: path, object: "IDX magic number",
                expected: String(format: "0x%08X (unsigned bytes, rank %d)", expectedMagic, expectedRank ?? 0), found: magicText)
        }
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, rank >= 1 else {
            throw DataIOError.format(path: path, object: "IDX magic number", expected: "0x000008NN (unsigned bytes, rank NN ≥ 1)", found: magicText)
        }
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw DataIOError.format(path: path, object: "IDX header", expected: "\(headerLength) bytes for rank \(rank)", found: "\(bytes.count) bytes")
        }
        var dimensions: [Int] = []
        var count = 1
        for d in 0..<rank {
            let start = 4 + 4 * d
            let extent = Int(bytes[start..<(start + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            dimensions.append(extent)
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw DataIOError.format(path: path, object: "IDX dimensions", expected: "a size that fits in memory", found: "\(dimensions)")
            }
            count = product
        }
        guard bytes.count - headerLength == count else {
            throw DataIOError.format(
                path: path, object: "IDX data", expected: "\(count) bytes for dimensions \(dimensions)",
                found: "\(bytes.count - headerLength) bytes")
        }
        return IDXArray(dimensions: dimensions, bytes: Array(bytes[headerLength...]))
    }

    /// Reads a (gzip-compressed or plain) IDX file. `hint` is added to the not-found message.
    public static func read(_ url: URL, expectedRank: Int? = nil, hint: String? = nil) throws -> IDXArray {
        try parse(try GzipFile.read(url, hint: hint), path: url.path, expectedRank: expectedRank)
    }
}

/// Converts raw 8-bit images to floats in [0, 1] by dividing by 255.
func unitFloats(_ bytes: [UInt8]) -> [Float] {
    bytes.map { Float($0) / 255 }
}

/// Fashion-MNIST as shipped by Debian's `dataset-fashion-mnist`: four gzip IDX files.
public enum FashionMNISTSource {
    /// The Debian package providing the files.
    public static let package = "dataset-fashion-mnist"
    /// Where the package installs them.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// Training images (60000 × 28 × 28).
    public static let trainImagesFile = "train-images-idx3-ubyte.gz"
    /// Training labels (60000).
    public static let trainLabelsFile = "train-labels-idx1-ubyte.gz"
    /// Test images (10000 × 28 × 28).
    public static let testImagesFile = "t10k-images-idx3-ubyte.gz"
    /// Test labels (10000).
    public static let testLabelsFile = "t10k-labels-idx1-ubyte.gz"
    /// The number of classes.
    public static let classes = 10
    /// The class names, in label order (Xiao, Rasul & Vollgraf 2017).
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The four source files in `directory`.
    public static func sourceFiles(in directory: URL) -> [URL] {
        [trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile].map { directory.appendingPathComponent($0) }
    }

    /// Reads one split: images (rank-3 IDX) and labels (rank-1 IDX) with matching counts.
    public static func readSplit(images imagesURL: URL, labels labelsURL: URL) throws -> LabeledImages {
        let hint = "install the Debian package \(package) (apt-get install \(package)) or pass its folder"
        let images = try IDXArray.read(imagesURL, expectedRank: 3, hint: hint)
        let labels = try IDXArray.read(labelsURL, expectedRank: 1, hint: hint)
        let (n, h, w) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
        guard labels.dimensions[0] == n else {
            throw DataIOError.format(
                path: labelsURL.path, object: "IDX dimensions", expected: "\(n) labels (one per image in \(imagesURL.lastPathComponent))",
                found: "\(labels.dimensions[0])")
        }
        guard h > 0, w > 0 else {
            throw DataIOError.format(path: imagesURL.path, object: "IDX dimensions", expected: "images of positive size", found: "\(h)×\(w)")
        }
        if let i = labels.bytes.firstIndex(where: { Int($0) >= classes }) {
            throw DataIOError.format(path: labelsURL.path, object: "label \(i)", expected: "a class in 0..<\(classes)", found: "\(labels.bytes[i])")
        }
        return try LabeledImages(images: Tensor(shape: [n, h * w], scalars: unitFloats(images.bytes)), labels: labels.bytes, height: h, width: w)
    }

    /// Reads the official train/test split from the four files in `directory`.
    public static func load(directory: URL = defaultDirectory) throws -> (train: LabeledImages, test: LabeledImages) {
        let train = try readSplit(images: directory.appendingPathComponent(trainImagesFile), labels: directory.appendingPathComponent(trainLabelsFile))
        let test = try readSplit(images: directory.appendingPathComponent(testImagesFile), labels: directory.appendingPathComponent(testLabelsFile))
        return (train, test)
    }
}

/// The UCI optical-recognition digits as shipped by scikit-learn (Debian's `python3-sklearn`).
public enum DigitsSource {
    /// The Debian package providing the file.
    public static let package = "python3-sklearn"
    /// Where the package installs it.
    public static let defaultFile = URL(fileURLWithPath: "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz")
    /// Image side length.
    public static let side = 8
    /// Largest pixel value in the source (pixels are counts of set bits in 4×4 blocks).
    public static let maxPixel = 16
    /// The number of classes (digits 0–9).
    public static let classes = 10
    /// Every `testEvery`-th example of each class goes to the test split.
    public static let testEvery = 5
    /// The split rule in words, recorded in the file's `split_rule` attribute.
    public static let splitRule =
        "stratified and deterministic: within each class, taking examples in source-file order and counting from 1, "
        + "examples 5, 10, 15, ... (every 5th) go to test and all others to train"

    /// Indices for the split rule: for each class in file order, every `every`-th example
    /// (the every-th, 2·every-th, …) goes to test. Both lists are in increasing order.
    public static func stratifiedSplit(labels: [UInt8], every: Int = testEvery) -> (train: [Int], test: [Int]) {
        var seen = [Int](repeating: 0, count: 256)
        var train: [Int] = [], test: [Int] = []
        for (i, label) in labels.enumerated() {
            seen[Int(label)] += 1
            if every > 0 && seen[Int(label)] % every == 0 { test.append(i) } else { train.append(i) }
        }
        return (train, test)
    }

    /// Parses the CSV (gzip or plain) into all examples, in file order, scaled by 1/16.
    public static func readAll(_ url: URL = defaultFile) throws -> LabeledImages {
        let hint = "install the Debian package \(package) (apt-get install \(package)) or pass the file's path"
        let records = try CSVFile.parseRecords(try GzipFile.read(url, hint: hint), path: url.path)
        let pixels = side * side
        guard !records.isEmpty else {
            throw DataIOError.format(path: url.path, object: "content", expected: "lines of \(pixels) pixels and a label", found: "no lines")
        }
        var values = [Float]()
        values.reserveCapacity(records.count * pixels)
        var labels = [UInt8]()
        labels.reserveCapacity(records.count)
        for record in records {
            guard record.fields.count == pixels + 1 else {
                throw DataIOError.format(
                    path: url.path, object: "line \(record.line)", expected: "\(pixels + 1) fields (\(pixels) pixels and a label)",
                    found: "\(record.fields.count) fields")
            }
            for (j, field) in record.fields.enumerated() {
                let limit = j < pixels ? maxPixel : classes - 1
                guard let x = Double(field.trimmingCharacters(in: .whitespaces)), x == x.rounded(), x >= 0, x <= Double(limit) else {
                    let what = j < pixels ? "pixel \(j + 1)" : "label"
                    throw DataIOError.format(path: url.path, object: "line \(record.line), \(what)", expected: "an integer in 0...\(limit)", found: "'\(field)'")
                }
                if j < pixels { values.append(Float(x) / Float(maxPixel)) } else { labels.append(UInt8(x)) }
            }
        }
        return try LabeledImages(images: Tensor(shape: [labels.count, pixels], scalars: values), labels: labels, height: side, width: side)
    }

    /// Reads the CSV and applies the stratified split (`stratifiedSplit`).
    public static func load(_ url: URL = defaultFile) throws -> (train: LabeledImages, test: LabeledImages) {
        let all = try readAll(url)
        let split = stratifiedSplit(labels: all.labels)
        return (all.subset(split.train), all.subset(split.test))
    }
}
