import ArgumentParser
import DataIO
import Foundation
import Testing
import TestSupport
import TensorCore
@testable import ExperimentKit

@Suite struct OptionsTests {
    @Test func defaultsAreQuickSeedZeroTwoThreads() throws {
        let o = try ExperimentOptions.parse([])
        #expect(o.scale == .quick && o.seed == 0 && o.threads == 2 && !o.renderOnly)
        #expect(o.outputURL(for: "x").path.hasSuffix("results/quick/x") && !o.force)
        #expect(o.seedCount(quick: 3, full: 10) == 3)
    }

    @Test func badArgumentsGiveClearErrors() {
        for args in [["--threads", "0"], ["--seeds", "0"], ["--scale", "huge"], ["--out", ""]] {
            #expect(throws: (any Error).self, "\(args) should be rejected") { try ExperimentOptions.parse(args) }
        }
    }

    /// The message ArgumentParser prints for `args` (validation included), or nil when they parse.
    static func refusal(_ args: [String]) -> String? {
        do {
            _ = try ExperimentOptions.parse(args)
            return nil
        } catch {
            return ExperimentOptions.message(for: error)
        }
    }

    /// Issue 26: `--seeds 1000000000000` was accepted (and memory grew ~100 MB/s); it is bounded
    /// like the size options.
    @Test func seedsAreBounded() throws {
        #expect(Self.refusal(["--seeds", "1000000000000"]) == "--seeds must be at most 1000 (independent seeds; the largest protocol uses 20), got 1000000000000")
        #expect(try ExperimentOptions.parse(["--seeds", "1000"]).seeds == 1000)
    }

    /// Issue 26: a negative number was answered "Missing value for '--seeds <seeds>'"
    /// (ArgumentParser read "-3" as an option); the message says what the value must be.
    @Test func negativeNumbersSayWhatIsExpected() {
        #expect(Self.refusal(["--seeds", "-3"]) == "--seeds must be at least 1, got -3")
        #expect(Self.refusal(["--threads", "-2"]) == "--threads must be at least 1, got -2")
        #expect(Self.refusal(["--seed", "-3"]) == "The value '-3' is invalid for '--seed <seed>': expected a whole number from 0 to \(UInt64.max)")
    }

    /// Issue 26: `--seed 1 --seed 2` silently ran seed 2; a repeated single-valued shared option
    /// is refused, naming both values, and one given once still parses.
    @Test func repeatedSharedOptionsAreRefused() throws {
        #expect(Self.refusal(["--seed", "1", "--seed", "2"]) == "--seed is given 2 times (1, 2); give it once")
        #expect(Self.refusal(["--threads", "1", "--seeds", "2", "--threads", "1"]) == "--threads is given 2 times (1, 1); give it once")
        #expect(Self.refusal(["--scale", "full", "--scale", "quick"]) == "--scale is given 2 times (full, quick); give it once")
        #expect(Self.refusal(["--out", "a", "--out", "b", "--out", "c"]) == "--out is given 3 times (a, b, c); give it once")
        let o = try ExperimentOptions.parse(["--seed", "7", "--seeds", "3", "--threads", "1", "--scale", "full", "--out", "x", "--gemm-backend", "openBLAS"])
        #expect(o.seed == 7 && o.seeds == 3 && o.threads == 1 && o.scale == .full && o.out == "x" && o.float32GEMMBackend == .openBLAS)
    }

    /// Issue 26: a repeated list value (`--dimensions 64 64`) crashed the run ("unit keys must
    /// be unique"); `Validate.distinct` refuses it at parse time.
    @Test func listValuesAreDistinct() {
        func refusal(_ check: () throws -> Void) -> String? {
            do { try check(); return nil } catch { return "\(error)" }
        }
        #expect(refusal { try Validate.distinct([64, 196, 784], option: "--dimensions") } == nil)
        #expect(refusal { try Validate.distinct([Int](), option: "--dimensions") } == nil)
        #expect(refusal { try Validate.distinct([64, 64], option: "--dimensions") } == "--dimensions has 64 twice; give each value once")
        #expect(refusal { try Validate.distinct(["a", "b", "a", "a"], option: "--datasets") } == "--datasets has a 3 times; give each value once")
        #expect(refusal { try Validate.distinct([1.5, 2, 1.5], option: "--betas") } == "--betas has 1.5 twice; give each value once")
    }

    @Test func betaSigmaAndDatasetChecks() {
        #expect(throws: ValidationError.self) { try Validate.beta(0.5) }
        #expect(throws: ValidationError.self) { try Validate.beta(.nan) }
        #expect(throws: Never.self) { try Validate.beta(1.5) }
        #expect(throws: ValidationError.self) { try Validate.sigma(0) }
        #expect(throws: ValidationError.self) { try Validate.sigma(-1) }
        do {
            try Validate.dataset("mnist")
            Issue.record("unknown data set accepted")
        } catch {
            #expect("\(error)".contains("mnist") && "\(error)".contains("fashion-mnist"))
        }
    }

    /// An output folder under a regular file cannot be created: the error names the path.
    @Test func unwritableOutputFolder() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-dir-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let o = try ExperimentOptions.parse(["--out", file.appendingPathComponent("run").path])
        do {
            _ = try RunDirectory(experimentID: "x", options: o)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains(file.path))
        }
    }
}

@Suite struct RunDirectoryTests {
    /// CSV round trip through the run folder, an image grid, and no temporary files left behind.
    @Test func writesAtomicallyAndReadsBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RunDirectory(experimentID: "x", options: try ExperimentOptions.parse(["--out", dir.path]))
        try run.writeCSV("a.csv", header: ["name", "value"], rows: [["p", 1.5], ["q, r", .number(.nan)]])
        let t = try run.readCSV("a.csv")
        #expect(try t.strings("name") == ["p", "q, r"])
        let v = try t.numbers("value")
        #expect(v[0] == 1.5 && v[1].isNaN)
        #expect(throws: CSVColumnError.self) { try t.numbers("missing") }
        let images = Tensor<Float>(shape: [4, 9], repeating: 0.5)
        try run.writeImageGrid(images, height: 3, width: 3, name: "grid")
        // 3×3 images drawn 19× (57 px, at least 56), 4 px apart, in a 2×2 grid.
        let png = try PNGImage.read(from: dir.appendingPathComponent("images/grid.png"))
        #expect(png.width == 2 * 57 + 3 * 4 && png.height == 2 * 57 + 3 * 4)
        try run.writeConfig(["k": 1])
        let leftovers = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}

/// config.json's package versions are the ones Package.swift pins with `exact:`.
@Suite struct PackageVersionTests {
    @Test func pinnedVersionsMatchPackageSwift() throws {
        let manifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        var pins: [String: String] = [:]
        for line in text.split(separator: "\n") where line.contains(".package(url:") {
            guard let url = line.split(separator: "\"").dropFirst().first,
                  let exact = line.range(of: "exact: \"") else { Issue.record("not pinned with exact: \(line)"); continue }
            let version = line[exact.upperBound...].prefix { $0 != "\"" }
            pins[String(url.split(separator: "/").last!)] = String(version)
        }
        #expect(pins == PackageVersions.pinned)
        #expect(PackageVersions.compiler.hasPrefix("6."))
    }
}

/// The Makefile's lists agree with the sources (issue 31): every experiment that loads an image
/// classifier is in CLASSIFIER_EXPERIMENTS (so `make <id>` trains the classifiers first), and no
/// other experiment waits for them; every experiment folder is in EXPERIMENTS.
@Suite struct MakefileListTests {
    @Test func classifierExperimentsMatchTheSources() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let makefile = try String(contentsOf: root.appendingPathComponent("Makefile"), encoding: .utf8)
        func list(_ name: String) -> Set<String> {
            guard let line = makefile.split(separator: "\n").first(where: { $0.hasPrefix("\(name) :=") }) else { return [] }
            return Set(line.split(separator: "=", maxSplits: 1)[1].split(separator: " ").map(String.init))
        }
        let experimentsDir = root.appendingPathComponent("Sources/Experiments")
        var usesClassifier: Set<String> = [], all: Set<String> = []
        for id in try FileManager.default.contentsOfDirectory(atPath: experimentsDir.path) where id.hasPrefix("ht-e") || id.hasPrefix("ho-e") {
            all.insert(id)
            let dir = experimentsDir.appendingPathComponent(id)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                if text.contains("ImageClassifier") { usesClassifier.insert(id) }
            }
        }
        #expect(all.count == 13)
        #expect(list("EXPERIMENTS") == all)
        #expect(list("CLASSIFIER_EXPERIMENTS") == usesClassifier)
    }
}

/// Issue 30: one list of experiment ids. ExperimentRegistry is that list; the other places that
/// must name every id (the experiment folders, Package.swift's `experiments`, the Makefile's
/// EXPERIMENTS) are checked against it here, and the smoke tests' commands in HelpTests.
/// scripts/slurm-submit.sh and `make verify` ask `report experiments` instead of keeping a copy.
@Suite struct ExperimentListTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let ids = ExperimentRegistry.all.map(\.id)

    @Test func registryHasNoDuplicatesAndMatchesTheFolders() throws {
        #expect(Set(Self.ids).count == Self.ids.count)
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources/Experiments").path)
            .filter { $0.hasPrefix("ht-e") || $0.hasPrefix("ho-e") }
        #expect(Set(folders) == Set(Self.ids))
    }

    /// A grid marked full-scale-only is one of the experiment's grids, and at most the grids of
    /// data sets some scale does not run are marked (the report then says so in a sentence at
    /// quick scale instead of showing a missing-result box).
    @Test func fullScaleOnlyGridsAreDeclaredGrids() {
        for e in ExperimentRegistry.all {
            #expect(Set(e.fullScaleOnlyImages).isSubset(of: Set(e.images)), "\(e.id): \(e.fullScaleOnlyImages) not all in \(e.images)")
        }
        #expect(ExperimentRegistry.all.first { $0.id == "ht-e6-sample-quality" }?.fullScaleOnlyImages == ["samples-fashion-mnist"])
    }

    @Test func packageManifestListsEveryExperiment() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        guard let start = manifest.range(of: "let experiments: [(id: String, dependencies: [Target.Dependency])] = [") else {
            Issue.record("Package.swift: no `let experiments` list")
            return
        }
        let rest = manifest[start.upperBound...]
        let body = rest[..<(rest.range(of: "\n]")?.lowerBound ?? rest.endIndex)]
        let listed = body.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("(\""), let end = t.dropFirst(2).firstIndex(of: "\"") else { return nil }
            return String(t[t.index(t.startIndex, offsetBy: 2)..<end])
        }
        #expect(listed == Self.ids.sorted { Self.packageOrder($0) < Self.packageOrder($1) })
        #expect(Set(listed) == Set(Self.ids))
    }

    /// Package.swift lists the ids by paper, then number (ht-e0 … ht-e6, ho-e1 … ho-e6).
    static func packageOrder(_ id: String) -> String { (id.hasPrefix("ht") ? "0" : "1") + id }

    @Test func makefileAndSlurmScriptFollowTheRegistry() throws {
        let makefile = try String(contentsOf: Self.root.appendingPathComponent("Makefile"), encoding: .utf8)
        let line = makefile.split(separator: "\n").first { $0.hasPrefix("EXPERIMENTS :=") }
        let listed = line.map { $0.split(separator: "=", maxSplits: 1)[1].split(separator: " ").map(String.init) } ?? []
        #expect(Set(listed) == Set(Self.ids) && listed.count == Self.ids.count)
        let slurm = try String(contentsOf: Self.root.appendingPathComponent("scripts/slurm-submit.sh"), encoding: .utf8)
        #expect(slurm.contains("report\" experiments"))
        for id in Self.ids { #expect(!slurm.contains(id), "scripts/slurm-submit.sh keeps its own copy of \(id)") }
    }
}
