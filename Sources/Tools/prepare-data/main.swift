// prepare-data: converts the data sets' Debian-packaged source files into the artifact's HDF5
// schema (see DataIO/ImageDataset.swift), once, so that every experiment reads HDF5 only.
//
//   data/fashion-mnist.h5  from dataset-fashion-mnist's four IDX .gz files (official split)
//   data/digits8x8.h5      from python3-sklearn's digits.csv.gz (deterministic stratified split)
//
// Each file records the source package, its version (dpkg-query), the SHA-256 of every source
// file (libcrypto) and a description. Output files are written atomically and contain no
// timestamps, so re-running with the same sources reproduces them byte for byte.
import ArgumentParser
import DataIO
import Foundation
import Reporting

/// The data sets this tool can build.
enum Target: String, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case digits8x8 = "digits8x8"
}

/// The settings of one run (from the command line).
struct Options {
    var outDir = URL(fileURLWithPath: "data")
    var only: Target?
    var fashionMNISTDir = FashionMNISTSource.defaultDirectory
    var digitsCSV = DigitsSource.defaultFile
    var compress = true
}

extension Target: ExpressibleByArgument {}

/// prepare-data's command line.
struct PrepareData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-data",
        abstract: "Builds data/fashion-mnist.h5 and data/digits8x8.h5 from the files of the Debian packages dataset-fashion-mnist and python3-sklearn.")

    @Option(help: "Output folder (created if missing).") var out = "data"
    @Option(name: .customLong("out-dir"), help: .hidden) var outDir: String?
    @Option(help: "Build only this data set: fashion-mnist or digits8x8.") var only: Target?
    @Option(help: "Folder with the four Fashion-MNIST IDX .gz files.") var fashionMNISTDir = FashionMNISTSource.defaultDirectory.path
    @Option(help: "scikit-learn's digits.csv.gz.") var digitsCSV = DigitsSource.defaultFile.path
    @Flag(help: "Store datasets contiguously instead of chunked + deflate.") var noCompress = false

    func run() throws {
        let options = Options(outDir: URL(fileURLWithPath: outDir ?? out), only: only, fashionMNISTDir: URL(fileURLWithPath: fashionMNISTDir),
                              digitsCSV: URL(fileURLWithPath: digitsCSV), compress: !noCompress)
        let status = prepare(options)
        if status != 0 { throw ExitCode(status) }
    }
}

/// A command-line usage mistake.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// A failure running an external program (sha256sum).
struct ToolError: Error, CustomStringConvertible {
    var description: String
}

/// Runs `command` with `arguments` (found on PATH) and returns its stdout, or nil if it could
/// not be started or exited non-zero.
func run(_ command: String, _ arguments: [String]) -> String? { ExternalProgram.output(of: command, arguments) }

/// SHA-256 of a file (libcrypto).
func sha256(_ url: URL) throws -> String {
    try Digest.sha256(file: url)
}

/// The Debian package that installed `url` (dpkg-query -S), and its version; "unknown" for
/// either when dpkg does not know.
func debianPackage(owning url: URL) -> (package: String, version: String) {
    let path = url.resolvingSymlinksInPath().path
    guard let line = run("dpkg-query", ["-S", path]), let colon = line.firstIndex(of: ":") else {
        return ("unknown", "unknown")
    }
    // "python3-sklearn: /usr/lib/…" (or "pkg:amd64: /…" for multi-arch packages)
    let package = String(line[..<colon]).split(separator: ",").first.map(String.init) ?? String(line[..<colon])
    let version = run("dpkg-query", ["-W", "-f=${Version}", package]).flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    return (package, version)
}

/// Provenance metadata for a set of source files from one package.
func metadata(for sources: [URL], expectedPackage: String, description: String, classNames: [String], extra: [String: String]) throws -> ImageDatasetMetadata {
    var checksums: [String: String] = [:]
    for url in sources { checksums[url.lastPathComponent] = try sha256(url) }
    let (package, version) = debianPackage(owning: sources[0])
    if package != expectedPackage {
        print("  note: \(sources[0].path) is not from the Debian package \(expectedPackage) (dpkg says: \(package))")
    }
    return ImageDatasetMetadata(sourcePackage: package, sourceVersion: version, sourceSHA256: checksums, description: description, classNames: classNames, extra: extra)
}

/// Builds one data set and prints what was written.
func build(_ target: Target, options: Options) throws {
    let start = Date()
    let output = options.outDir.appendingPathComponent("\(target.rawValue).h5")
    let train: LabeledImages, test: LabeledImages, classes: Int, meta: ImageDatasetMetadata
    switch target {
    case .fashionMNIST:
        let sources = FashionMNISTSource.sourceFiles(in: options.fashionMNISTDir)
        (train, test) = try FashionMNISTSource.load(directory: options.fashionMNISTDir)
        classes = FashionMNISTSource.classes
        meta = try metadata(
            for: sources, expectedPackage: FashionMNISTSource.package,
            description: "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747): 28x28 grayscale images of "
                + "10 clothing classes, 60000 train + 10000 test. Converted from the IDX files: "
                + "images = byte / 255 as float32 in [0, 1], labels uint8 0-9.",
            classNames: FashionMNISTSource.classNames,
            extra: [
                "split_rule": "the official split: train-* files form train, t10k-* files form test",
            ])
    case .digits8x8:
        (train, test) = try DigitsSource.load(options.digitsCSV)
        classes = DigitsSource.classes
        meta = try metadata(
            for: [options.digitsCSV], expectedPackage: DigitsSource.package,
            description: "Optical recognition of handwritten digits (UCI; Alpaydin & Kaynak 1998) as shipped with "
                + "scikit-learn: 1797 8x8 images, 10 classes. Pixel counts 0-16 divided by 16 as float32 in [0, 1], "
                + "labels uint8 0-9.",
            classNames: (0..<10).map(String.init),
            extra: [
                "split_rule": DigitsSource.splitRule,
            ])
    }
    try ImageDataset.write(
        train: train, test: test, classes: classes, metadata: meta, to: output,
        compression: options.compress ? .standard : nil)
    let written = Date()
    // Read it back through the validating reader: what we wrote is what experiments will accept.
    let checkTrain = try ImageDataset.load(path: output.path, split: .train)
    let checkTest = try ImageDataset.load(path: output.path, split: .test)
    let bytes = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
    let end = Date()
    print("wrote \(output.path): \(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB, "
        + "train images [\(checkTrain.count), \(checkTrain.height), \(checkTrain.width)], "
        + "test images [\(checkTest.count), \(checkTest.height), \(checkTest.width)], \(classes) classes; "
        + "converted and written in \(String(format: "%.1f", written.timeIntervalSince(start))) s, "
        + "read back and validated in \(String(format: "%.2f", end.timeIntervalSince(written))) s")
    print("  source: \(meta.sourcePackage) \(meta.sourceVersion); "
        + meta.sourceSHA256.sorted(by: { $0.key < $1.key }).map { "\($0.key) sha256 \($0.value.prefix(12))…" }.joined(separator: ", "))
}

/// Builds the requested data sets; 1 with a one-line message on error.
func prepare(_ options: Options) -> Int32 {
    do {
        try AtomicFile.createFolder(options.outDir)
    } catch {
        FileHandle.standardError.write(Data("prepare-data: error: output folder: \(error)\n".utf8))
        return 1
    }
    // One prepare-data per folder at a time; under the lock, temporary files there are leftovers
    // of an interrupted run (tens of MB each) and are removed.
    let lock: FileLock
    do {
        lock = try FileLock(options.outDir.appendingPathComponent(".prepare-data.lock"),
                            holder: "prepare-data pid \(ProcessInfo.processInfo.processIdentifier)")
    } catch {
        FileHandle.standardError.write(Data("prepare-data: error: \(error)\n".utf8))
        return 1
    }
    defer { withExtendedLifetime(lock) {} }
    let stale = AtomicFile.removeStaleTemporaries(in: options.outDir)
    if stale > 0 { print("prepare-data: removed \(stale) temporary file(s) left by an interrupted run") }
    let targets = options.only.map { [$0] } ?? Target.allCases
    for target in targets {
        do {
            try build(target, options: options)
        } catch {
            FileHandle.standardError.write(Data("prepare-data: error: \(target.rawValue): \(error)\n".utf8))
            return 1
        }
    }
    return 0
}

PrepareData.main()
