// The artifact's image data-set files (data/*.h5) and their validating reader and writer.
//
// Schema (one HDF5 file per data set):
//   file attributes   source_package, source_version, description      (strings, required)
//                     source_sha256_<file name>                          (one per source file, ≥ 1)
//                     class_names: one variable-length UTF-8 string per class (1-D array, optional;
//                                  files written before it was an array hold one ", "-joined string)
//                     any other string attributes (e.g. split_rule) are kept as extras
//                     (all strings are variable-length UTF-8, so h5py reads them as `str`)
//   groups            train, test, each with
//     images          float32 [N, H, W], values in [0, 1]
//     labels          uint8 [N], values in 0 ..< classes
//     attributes      height = H, width = W, classes (integers)
//
// `ImageDataset.load` checks every point of the schema for the requested split and throws a
// `DataIOError` naming the file, the object and what was expected and found, e.g.
//   data/digits8x8.h5: dataset 'train/images': expected float32 of rank 3 [N, H, W], found uint8 of rank 2 [1437, 64]
// Images are returned flattened as a Tensor<Float> [N, H*W] (the form the models consume).
import Foundation
import TensorCore

/// The two splits every data-set file holds.
public enum DatasetSplit: String, CaseIterable, Sendable, Codable {
    /// The training examples.
    case train
    /// The held-out test examples.
    case test
}

/// Labelled gray images of one size: images [N, H*W] with values in [0, 1] and one label each.
public struct LabeledImages: Sendable, Equatable {
    /// The images, one flattened row-major image per row: shape [count, height * width].
    public private(set) var images: Tensor<Float>
    /// The class of each image.
    public private(set) var labels: [UInt8]
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int

    /// The number of examples.
    public var count: Int { labels.count }

    /// Pairs images (shape [N, H*W] or [N, H, W]) with their labels.
    /// - Throws: `.format` (path "<memory>") if the shapes disagree.
    public init(images: Tensor<Float>, labels: [UInt8], height: Int, width: Int) throws {
        let n = labels.count
        guard height > 0, width > 0 else {
            throw DataIOError.format(path: "<memory>", object: "LabeledImages", expected: "positive height and width", found: "\(height)×\(width)")
        }
        guard images.shape == [n, height * width] || images.shape == [n, height, width] else {
            throw DataIOError.format(
                path: "<memory>", object: "LabeledImages images",
                expected: "shape [\(n), \(height * width)] or [\(n), \(height), \(width)] for \(n) labels", found: "shape \(images.shape)")
        }
        self.images = images.reshaped([n, height * width])
        self.labels = labels
        self.height = height
        self.width = width
    }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledImages {
        var copy = self
        copy.images = images.gatherRows(indices)
        copy.labels = indices.map { labels[$0] }
        return copy
    }
}

/// The provenance recorded in a data-set file's attributes.
public struct ImageDatasetMetadata: Sendable, Equatable, Codable {
    /// The Debian package the source files came from (attribute `source_package`).
    public var sourcePackage: String
    /// That package's version, or "unknown" (attribute `source_version`).
    public var sourceVersion: String
    /// SHA-256 (lower-case hex) of each source file, keyed by file name
    /// (attributes `source_sha256_<file name>`).
    public var sourceSHA256: [String: String]
    /// What the data set is and how it was converted (attribute `description`).
    public var description: String
    /// The name of each class, in label order (attribute `class_names`, a 1-D string array), or
    /// nil if the file has none.
    public var classNames: [String]?
    /// Any further string attributes of the file, by name (e.g. `split_rule`).
    public var extra: [String: String]

    /// Metadata for a data-set file; see the properties.
    public init(sourcePackage: String, sourceVersion: String, sourceSHA256: [String: String], description: String,
                classNames: [String]? = nil, extra: [String: String] = [:]) {
        self.sourcePackage = sourcePackage
        self.sourceVersion = sourceVersion
        self.sourceSHA256 = sourceSHA256
        self.description = description
        self.classNames = classNames
        self.extra = extra
    }

    /// The attribute that holds `classNames`.
    public static let classNamesAttribute = "class_names"

    /// The prefix of the per-file checksum attributes.
    public static let checksumPrefix = "source_sha256_"
}

/// How thoroughly `ImageDataset.load` checks that pixel values lie in [0, 1].
public enum ValueCheck: Sendable, Equatable {
    /// Every value (about 50 ms for Fashion-MNIST's 47 M values in a release build).
    case full
    /// About `samples` values spread evenly over the data set, plus the first and last.
    case spot(samples: Int)
}

/// One split of a validated data-set file, loaded into memory.
public struct ImageDataset: Sendable {
    /// The file it was read from.
    public let path: String
    /// Which split this is.
    public let split: DatasetSplit
    /// The file's provenance attributes.
    public let metadata: ImageDatasetMetadata
    /// The number of classes (labels lie in 0 ..< classes).
    public let classes: Int
    /// The images and labels.
    public let examples: LabeledImages

    /// The images, shape [count, height * width], values in [0, 1].
    public var images: Tensor<Float> { examples.images }
    /// The labels, one per image.
    public var labels: [UInt8] { examples.labels }
    /// Image height in pixels.
    public var height: Int { examples.height }
    /// Image width in pixels.
    public var width: Int { examples.width }
    /// The number of examples.
    public var count: Int { examples.count }

    /// Names of the file attributes every data-set file must have (besides the checksums).
    public static let requiredFileAttributes = ["source_package", "source_version", "description"]

    /// Loads and validates one split of a data-set file.
    /// - Parameter hint: added to the not-found message (e.g. "run `make data`").
    /// - Throws: `DataIOError` naming the file and the offending object if anything in the
    ///   schema (see the file comment) does not hold.
    public static func load(path: String, split: DatasetSplit, valueCheck: ValueCheck = .full, hint: String? = "build it with `make data` (prepare-data)") throws -> ImageDataset {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataIOError.fileNotFound(path: path, hint: hint)
        }
        let file = try HDF5File.open(path: path)
        defer { try? file.close() }
        let metadata = try readMetadata(file)

        let group = split.rawValue
        let imagesName = "\(group)/images", labelsName = "\(group)/labels"
        guard try file.kind(of: group) == .group else {
            _ = try file.members(of: group)  // throws the precise not-found / not-a-group error
            throw DataIOError.missing(path: path, object: "group '\(group)'", context: nil)
        }
        let imageInfo = try file.datasetInfo(imagesName)
        guard imageInfo.elementType == .float32, imageInfo.rank == 3 else {
            throw DataIOError.format(
                path: path, object: "dataset '\(imagesName)'", expected: "float32 of rank 3 [N, H, W]",
                found: "\(imageInfo.elementType) of rank \(imageInfo.rank) \(imageInfo.shape)")
        }
        let labelInfo = try file.datasetInfo(labelsName)
        guard labelInfo.elementType == .uint8, labelInfo.rank == 1 else {
            throw DataIOError.format(
                path: path, object: "dataset '\(labelsName)'", expected: "uint8 of rank 1 [N]",
                found: "\(labelInfo.elementType) of rank \(labelInfo.rank) \(labelInfo.shape)")
        }
        let (n, h, w) = (imageInfo.shape[0], imageInfo.shape[1], imageInfo.shape[2])
        guard n > 0 else {
            throw DataIOError.format(path: path, object: "dataset '\(imagesName)'", expected: "at least one image", found: "an empty data set (0 images)")
        }
        guard labelInfo.shape[0] == n else {
            throw DataIOError.format(
                path: path, object: "dataset '\(labelsName)'", expected: "\(n) labels (one per image in '\(imagesName)')",
                found: "\(labelInfo.shape[0])")
        }
        guard h > 0, w > 0 else {
            throw DataIOError.format(path: path, object: "dataset '\(imagesName)'", expected: "images of positive size", found: "\(h)×\(w)")
        }
        for (name, actual) in [("height", h), ("width", w)] {
            let stored = try integerAttribute(file, name, of: group)
            guard stored == actual else {
                throw DataIOError.format(path: path, object: "attribute '\(name)' of '\(group)'", expected: "\(actual) (as in '\(imagesName)')", found: "\(stored)")
            }
        }
        let classes = try integerAttribute(file, "classes", of: group)
        guard (1...256).contains(classes) else {
            throw DataIOError.format(path: path, object: "attribute 'classes' of '\(group)'", expected: "a class count in 1...256", found: "\(classes)")
        }

        let images = try file.read(Float.self, from: imagesName)
        let labels = try file.read(UInt8.self, from: labelsName).values
        try checkPixels(images.values, height: h, width: w, check: valueCheck, path: path, object: "dataset '\(imagesName)'")
        try checkLabels(labels, classes: classes, path: path, object: "dataset '\(labelsName)'")
        let examples = try LabeledImages(images: Tensor(shape: [n, h * w], scalars: images.values), labels: labels, height: h, width: w)
        try DataFileLog.shared.record(path: path)
        return ImageDataset(path: path, split: split, metadata: metadata, classes: classes, examples: examples)
    }

    /// Reads and validates only the provenance attributes of a data-set file.
    public static func readMetadata(path: String) throws -> ImageDatasetMetadata {
        let file = try HDF5File.open(path: path)
        defer { try? file.close() }
        return try readMetadata(file)
    }

    static func readMetadata(_ file: HDF5File) throws -> ImageDatasetMetadata {
        var strings: [String: String] = [:]
        var classNames: [String]? = nil
        for name in try file.attributeNames(of: "/") {
            let info = try file.attributeInfo(name, of: "/")
            guard info.elementType.description.hasSuffix("string") else { continue }
            if name == ImageDatasetMetadata.classNamesAttribute {
                // A 1-D array; files written before it was one hold a single ", "-joined string.
                let names = try file.stringArrayAttribute(name, of: "/")
                classNames = info.shape.isEmpty ? names.first.map { $0.components(separatedBy: ", ") } ?? [] : names
            } else {
                strings[name] = try file.stringAttribute(name, of: "/")
            }
        }
        func required(_ name: String) throws -> String {
            // Reading it again throws the precise error: missing, or not a string.
            let value = try strings[name] ?? file.stringAttribute(name, of: "/")
            guard !value.isEmpty else {
                throw DataIOError.format(path: file.path, object: "attribute '\(name)' of the file", expected: "a non-empty string", found: "an empty string")
            }
            return value
        }
        let sourcePackage = try required("source_package")
        let sourceVersion = try required("source_version")
        let description = try required("description")
        var checksums: [String: String] = [:]
        for (name, value) in strings where name.hasPrefix(ImageDatasetMetadata.checksumPrefix) {
            let hexDigits = value.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
            guard value.count == 64, hexDigits else {
                throw DataIOError.format(path: file.path, object: "attribute '\(name)' of the file", expected: "64 lower-case hex digits (SHA-256)", found: "'\(value)'")
            }
            checksums[String(name.dropFirst(ImageDatasetMetadata.checksumPrefix.count))] = value
        }
        guard !checksums.isEmpty else {
            throw DataIOError.missing(
                path: file.path, object: "attribute '\(ImageDatasetMetadata.checksumPrefix)<file>' of the file",
                context: "one SHA-256 per source file is required; present: \(strings.keys.sorted().joined(separator: ", "))")
        }
        let known = Set(requiredFileAttributes)
        let extra = strings.filter { !known.contains($0.key) && !$0.key.hasPrefix(ImageDatasetMetadata.checksumPrefix) }
        return ImageDatasetMetadata(
            sourcePackage: sourcePackage, sourceVersion: sourceVersion, sourceSHA256: checksums, description: description,
            classNames: classNames, extra: extra)
    }

    private static func integerAttribute(_ file: HDF5File, _ name: String, of group: String) throws -> Int {
        let info = try file.attributeInfo(name, of: group)
        guard [.uint8, .int32, .int64].contains(info.elementType) || info.elementType.description.hasPrefix("int")
            || info.elementType.description.hasPrefix("uint"), info.shape.reduce(1, *) == 1
        else {
            throw DataIOError.format(path: file.path, object: "attribute '\(name)' of '\(group)'", expected: "an integer", found: "\(info)")
        }
        return try file.attribute(name, of: group, as: Int.self)
    }

    /// Throws unless the checked pixel values lie in [0, 1] (NaN fails).
    static func checkPixels(_ values: [Float], height: Int, width: Int, check: ValueCheck, path: String, object: String) throws {
        let bad: Int? = values.withUnsafeBufferPointer { v -> Int? in
            switch check {
            case .full:
                for i in 0..<v.count where !(v[i] >= 0 && v[i] <= 1) { return i }
                return nil
            case .spot(let samples):
                guard !v.isEmpty else { return nil }
                let stride = max(1, v.count / max(1, samples))
                for i in Swift.stride(from: 0, to: v.count, by: stride) where !(v[i] >= 0 && v[i] <= 1) { return i }
                return (v[v.count - 1] >= 0 && v[v.count - 1] <= 1) ? nil : v.count - 1
            }
        }
        if let i = bad {
            let perImage = height * width
            let image = i / perImage, pixel = i % perImage
            throw DataIOError.format(
                path: path, object: object, expected: "values in [0, 1]",
                found: "\(values[i]) in image \(image) at row \(pixel / width), column \(pixel % width)")
        }
    }

    /// Throws unless every label is below `classes`.
    static func checkLabels(_ labels: [UInt8], classes: Int, path: String, object: String) throws {
        if let i = labels.firstIndex(where: { Int($0) >= classes }) {
            throw DataIOError.format(path: path, object: object, expected: "labels in 0..<\(classes)", found: "\(labels[i]) at index \(i)")
        }
    }

    /// Writes a data-set file in the schema above, atomically (an existing file is replaced
    /// only once the new one is complete). Pixel values and labels are validated first.
    public static func write(
        train: LabeledImages, test: LabeledImages, classes: Int, metadata: ImageDatasetMetadata,
        to url: URL, compression: HDF5Compression? = .standard
    ) throws {
        guard (1...256).contains(classes) else {
            throw DataIOError.format(path: url.path, object: "classes", expected: "a class count in 1...256", found: "\(classes)")
        }
        guard !metadata.sourceSHA256.isEmpty else {
            throw DataIOError.format(path: url.path, object: "metadata.sourceSHA256", expected: "one checksum per source file", found: "none")
        }
        for (split, data) in [(DatasetSplit.train, train), (.test, test)] {
            try checkPixels(data.images.scalars, height: data.height, width: data.width, check: .full, path: url.path, object: "\(split.rawValue) images (before writing)")
            try checkLabels(data.labels, classes: classes, path: url.path, object: "\(split.rawValue) labels (before writing)")
        }
        if let names = metadata.classNames, names.count != classes {
            throw DataIOError.format(path: url.path, object: "metadata.classNames", expected: "one name per class (\(classes))", found: "\(names.count) names")
        }
        try HDF5File.create(at: url) { file in
            try file.setAttribute("source_package", metadata.sourcePackage)
            try file.setAttribute("source_version", metadata.sourceVersion)
            try file.setAttribute("description", metadata.description)
            for (name, digest) in metadata.sourceSHA256.sorted(by: { $0.key < $1.key }) {
                try file.setAttribute(ImageDatasetMetadata.checksumPrefix + name, digest)
            }
            if let names = metadata.classNames {
                try file.setAttribute(ImageDatasetMetadata.classNamesAttribute, names)
            }
            for (name, value) in metadata.extra.sorted(by: { $0.key < $1.key }) {
                try file.setAttribute(name, value)
            }
            for (split, data) in [(DatasetSplit.train, train), (.test, test)] {
                let group = split.rawValue
                try file.createGroup(group)
                try file.setAttribute("height", data.height, on: group)
                try file.setAttribute("width", data.width, on: group)
                try file.setAttribute("classes", classes, on: group)
                try file.write(data.images.scalars, shape: [data.count, data.height, data.width], to: "\(group)/images", compression: compression)
                try file.write(data.labels, shape: [data.count], to: "\(group)/labels", compression: compression)
            }
        }
    }
}
