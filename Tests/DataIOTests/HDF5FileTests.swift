// HDF5 round trips for every supported element type and for attributes, structure queries, and
// the errors for misuse and bad files (each must name the file and the object).
@testable import DataIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TensorCore
import Testing

@Suite struct HDF5FileTests {
    /// Writes one value array per element type and reads each back unchanged.
    @Test func datasetRoundTripForEveryElementType() throws {
        let folder = TemporaryFolder()
        let url = folder.file("types.h5")
        let shape = [2, 3, 4]
        let floats: [Float] = (0..<24).map { Float($0) * 0.1 - 1.2 }
        let doubles: [Double] = (0..<24).map { Double($0) / 3 - .pi }
        let bytes: [UInt8] = (0..<24).map { UInt8($0 * 10) }
        let int32s: [Int32] = (0..<24).map { Int32($0) * -100_000 + 7 }
        let int64s: [Int64] = (0..<24).map { Int64($0) * 1_000_000_000_000 - 5 }
        let ints: [Int] = (0..<24).map { $0 - 12 }
        try HDF5File.create(at: url) { file in
            try file.write(floats, shape: shape, to: "f32")
            try file.write(doubles, shape: shape, to: "f64")
            try file.write(bytes, shape: shape, to: "u8")
            try file.write(int32s, shape: shape, to: "group/i32")
            try file.write(int64s, shape: shape, to: "group/deeper/i64")
            try file.write(ints, shape: [24], to: "int")
            try file.write([Double(42)], shape: [], to: "scalar")
            try file.write([Float](), shape: [0, 5], to: "empty")
        }
        let file = try HDF5File.open(url)
        #expect(try file.read(Float.self, from: "f32") == HDF5Array(shape: shape, values: floats))
        #expect(try file.read(Double.self, from: "f64") == HDF5Array(shape: shape, values: doubles))
        #expect(try file.read(UInt8.self, from: "u8") == HDF5Array(shape: shape, values: bytes))
        #expect(try file.read(Int32.self, from: "group/i32") == HDF5Array(shape: shape, values: int32s))
        #expect(try file.read(Int64.self, from: "/group/deeper/i64") == HDF5Array(shape: shape, values: int64s))
        #expect(try file.read(Int.self, from: "int") == HDF5Array(shape: [24], values: ints))
        #expect(try file.read(Int64.self, from: "int").values == ints.map(Int64.init))
        #expect(try file.read(Double.self, from: "scalar") == HDF5Array(shape: [], values: [42]))
        #expect(try file.read(Float.self, from: "empty") == HDF5Array(shape: [0, 5], values: []))
        #expect(try file.datasetInfo("f32") == HDF5DataInfo(elementType: .float32, shape: shape))
        #expect(try file.datasetInfo("u8").description == "uint8 [2, 3, 4]")
        #expect(try file.datasetInfo("group/i32").elementType == .int32)
        #expect(try file.datasetInfo("group/deeper/i64").elementType == .int64)
        #expect(try file.datasetInfo("f64").elementType == .float64)
    }

    @Test func tensorRoundTripWithAndWithoutCompression() throws {
        let folder = TemporaryFolder()
        let url = folder.file("tensors.h5")
        let a = Tensor<Float>(shape: [50, 7, 3], scalars: (0..<1050).map { Float($0).squareRoot() })
        let b = Tensor<Double>(shape: [4, 5], scalars: (0..<20).map { 1 / Double($0 + 1) })
        try HDF5File.create(at: url) { file in
            try file.write(a, to: "a", compression: HDF5Compression(level: 6, shuffle: true, chunkBytes: 256))
            try file.write(b, to: "b")
        }
        let file = try HDF5File.open(url)
        #expect(try file.readTensor(Float.self, from: "a") == a)
        #expect(try file.readTensor(Double.self, from: "b") == b)
        #expect(HDF5Library.hasDeflate)
        #expect(HDF5Library.version.split(separator: ".").count == 3)
    }

    /// String attributes are variable-length UTF-8 (h5py reads them as `str`, not `numpy.bytes_`),
    /// string arrays round-trip element by element, and the fixed-length strings of older files
    /// still read. h5dump, an independent reader, must report the type as H5T_VARIABLE / UTF-8.
    @Test func variableLengthStringAttributesAndArrays() throws {
        let folder = TemporaryFolder()
        let url = folder.file("strings.h5")
        let names = ["T-shirt/top", "Trouser", "a, comma", "", "Größe ✓"]
        try HDF5File.create(at: url) { file in
            try file.setAttribute("title", "Größe – ünïcode ✓")
            try file.setAttribute("class_names", names)
            try file.setAttribute("none", [String]())
            try file.setFixedLengthAttribute("legacy", "0, 1, 2")
            try file.createGroup("g")
            try file.setAttribute("names", ["x"], on: "g")
        }
        let file = try HDF5File.open(url)
        #expect(try file.stringArrayAttribute("class_names") == names)
        #expect(try file.attributeInfo("class_names") == HDF5DataInfo(elementType: .other("variable-length string"), shape: [5]))
        #expect(try file.stringArrayAttribute("none") == [])
        #expect(try file.stringArrayAttribute("names", of: "g") == ["x"])
        #expect(try file.stringArrayAttribute("title") == ["Größe – ünïcode ✓"])  // a scalar reads as one element
        #expect(try file.stringAttribute("legacy") == "0, 1, 2")
        #expect(try file.stringArrayAttribute("legacy") == ["0, 1, 2"])
        #expect(try file.attributeInfo("legacy").elementType == .other("string"))
        expectMessage(containing: [url.path, "attribute 'class_names' of the file", "expected a string", "[5]"]) {
            _ = try file.stringAttribute("class_names")
        }
        try file.close()
        expectMessage(containing: ["attribute 'bad'", "without NUL", "element 1"]) {
            try HDF5File.create(at: folder.file("nul.h5")) { try $0.setAttribute("bad", ["ok", "a\u{0}b"]) }
        }

        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")
        dump.arguments = ["-A", "-a", "/class_names", url.path]
        let pipe = Pipe()
        dump.standardOutput = pipe
        guard FileManager.default.isExecutableFile(atPath: dump.executableURL!.path) else {
            Issue.record("h5dump (Debian hdf5-tools, installed by scripts/install-deps.sh) is missing")
            return
        }
        try dump.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dump.waitUntilExit()
        #expect(text.contains("STRSIZE H5T_VARIABLE"), "\(text)")
        #expect(text.contains("CSET H5T_CSET_UTF8"), "\(text)")
        #expect(text.contains("\"Trouser\""), "\(text)")
    }

    @Test func attributesOnFileGroupsAndDatasets() throws {
        let folder = TemporaryFolder()
        let url = folder.file("attrs.h5")
        try HDF5File.create(at: url) { file in
            try file.createGroup("g/h")
            try file.write([UInt8(1), 2, 3], shape: [3], to: "g/data")
            try file.setAttribute("title", "Größe – ünïcode ✓")
            try file.setAttribute("empty", "")
            try file.setAttribute("pi", Double.pi)
            try file.setAttribute("count", 7)
            try file.setAttribute("small", Float(0.25), on: "g")
            try file.setAttribute("byte", UInt8(200), on: "g/h")
            try file.setAttribute("i32", Int32(-3), on: "g/data")
            try file.setAttribute("i64", Int64.max, on: "g/data")
            try file.setAttribute("vector", [1.5, -2.5, 3.25], on: "g/data")
            try file.setAttribute("replaced", "old", on: "g")
            try file.setAttribute("replaced", 99, on: "g")  // replacing may change the type
        }
        let file = try HDF5File.open(url)
        #expect(try file.stringAttribute("title") == "Größe – ünïcode ✓")
        #expect(try file.stringAttribute("empty") == "")
        #expect(try file.attribute("pi", as: Double.self) == Double.pi)
        #expect(try file.attribute("count", as: Int.self) == 7)
        #expect(try file.attribute("count", as: Double.self) == 7)  // integer read as float: allowed
        #expect(try file.attribute("small", of: "g", as: Float.self) == 0.25)
        #expect(try file.attribute("byte", of: "/g/h/", as: UInt8.self) == 200)
        #expect(try file.attribute("i32", of: "g/data", as: Int32.self) == -3)
        #expect(try file.attribute("i64", of: "g/data", as: Int64.self) == Int64.max)
        #expect(try file.attributeArray("vector", of: "g/data", as: Double.self) == [1.5, -2.5, 3.25])
        #expect(try file.attribute("replaced", of: "g", as: Int.self) == 99)
        #expect(try file.attributeInfo("vector", of: "g/data") == HDF5DataInfo(elementType: .float64, shape: [3]))
        #expect(try file.attributeInfo("title").elementType == .other("variable-length string"))
        #expect(try file.attributeNames() == ["count", "empty", "pi", "title"])
        #expect(try file.attributeNames(of: "g") == ["replaced", "small"])
        #expect(try file.hasAttribute("pi"))
        #expect(try !file.hasAttribute("nope", on: "g"))

        expectMessage(containing: [url.path, "attribute 'pi' of the file", "expected a number readable as int64", "float64"]) {
            _ = try file.attribute("pi", as: Int.self)
        }
        expectMessage(containing: [url.path, "attribute 'title' of the file", "readable as float64", "string"]) {
            _ = try file.attribute("title", as: Double.self)
        }
        expectMessage(containing: [url.path, "attribute 'pi' of the file", "expected a string", "float64"]) {
            _ = try file.stringAttribute("pi")
        }
        expectMessage(containing: [url.path, "attribute 'nope' of 'g'", "not found", "present: replaced, small"]) {
            _ = try file.stringAttribute("nope", of: "g")
        }
        expectMessage(containing: [url.path, "attribute 'vector' of 'g/data'", "a single float64", "3 values"]) {
            _ = try file.attribute("vector", of: "g/data", as: Double.self)
        }
    }

    @Test func structureQueries() throws {
        let folder = TemporaryFolder()
        let url = folder.file("tree.h5")
        try HDF5File.create(at: url) { file in
            try file.createGroup("b/c")
            try file.createGroup("b")  // existing group: no-op
            try file.createGroup("a")
            try file.write([Float(1)], shape: [1], to: "b/x")
            #expect(try file.exists("b/x"))
        }
        let file = try HDF5File.open(url)
        #expect(try file.members() == ["a", "b"])
        #expect(try file.members(of: "b") == ["c", "x"])
        #expect(try file.members(of: "a") == [])
        #expect(try file.exists("/"))
        #expect(try file.exists("b/c"))
        #expect(try !file.exists("b/x/y"))
        #expect(try !file.exists("zzz/y"))
        #expect(try file.kind(of: "b") == .group)
        #expect(try file.kind(of: "b/x") == .dataset)
        #expect(try file.kind(of: "nothing") == nil)
        #expect(!file.isWritable)
        try file.close()
        try file.close()  // closing twice is harmless
        expectMessage(containing: [url.path, "closed"]) { _ = try file.members() }
    }

    @Test func readingErrorsNameFileAndObject() throws {
        let folder = TemporaryFolder()
        let url = folder.file("errors.h5")
        try HDF5File.create(at: url) { file in
            try file.write([UInt8](repeating: 1, count: 6), shape: [2, 3], to: "train/images")
        }
        let file = try HDF5File.open(url)
        expectMessage(containing: [url.path, "dataset 'train/images'", "expected float32", "found uint8 [2, 3]"]) {
            _ = try file.read(Float.self, from: "train/images")
        }
        expectMessage(containing: [url.path, "dataset 'train/labels' not found", "group 'train' has: images"]) {
            _ = try file.read(UInt8.self, from: "train/labels")
        }
        expectMessage(containing: [url.path, "dataset 'test/images' not found", "the file root has: train"]) {
            _ = try file.datasetInfo("test/images")
        }
        expectMessage(containing: [url.path, "dataset 'train'", "expected a dataset", "found a group"]) {
            _ = try file.read(UInt8.self, from: "train")
        }
        expectMessage(containing: [url.path, "read-only"]) {
            try file.setAttribute("x", 1)
        }
    }

    @Test func writingErrors() throws {
        let folder = TemporaryFolder()
        let url = folder.file("bad-writes.h5")
        try HDF5File.create(at: url) { file in
            expectMessage(containing: [url.path, "dataset 'd'", "expected 6 values for shape [2, 3]", "found 5 values"]) {
                try file.write([Float](repeating: 0, count: 5), shape: [2, 3], to: "d")
            }
            try file.write([Float(0)], shape: [1], to: "d")
            expectMessage(containing: [url.path, "dataset 'd'", "found an existing dataset"]) {
                try file.write([Float(0)], shape: [1], to: "d")
            }
            expectMessage(containing: [url.path, "object 'd'", "expected a group", "found a dataset"]) {
                try file.createGroup("d/e")
            }
            expectMessage(containing: [url.path, "object 'nowhere' not found"]) {
                try file.setAttribute("x", 1, on: "nowhere")
            }
            expectMessage(containing: [url.path, "deflate level"]) {
                try file.write([Float(0)], shape: [1], to: "z", compression: HDF5Compression(level: 12))
            }
        }
        #expect(folder.contents() == ["bad-writes.h5"])
    }

    @Test func openingMissingOrForeignFiles() throws {
        let folder = TemporaryFolder()
        let missing = folder.file("missing.h5")
        expectMessage(containing: [missing.path, "file not found"]) { _ = try HDF5File.open(missing) }
        let text = folder.file("text.h5")
        try AtomicFile.write("this is not HDF5\n", to: text)
        expectMessage(containing: [text.path, "file: expected an HDF5 file", "no HDF5 signature (17 bytes)"]) {
            _ = try HDF5File.open(text)
        }
        expectMessage(containing: [folder.url.path, "found a folder"]) { _ = try HDF5File.open(folder.url) }
    }

    @Test func createIsAtomicAndDeterministic() throws {
        let folder = TemporaryFolder()
        let url = folder.file("atomic.h5")
        func build(_ value: Float) throws {
            try HDF5File.create(at: url) { file in
                try file.setAttribute("note", "deterministic")
                try file.write([value, 2, 3], shape: [3], to: "g/v", compression: .standard)
            }
        }
        try build(1)
        let first = try Data(contentsOf: url)
        try build(1)
        #expect(try Data(contentsOf: url) == first, "same content must give the same bytes")

        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try HDF5File.create(at: url) { file in
                try file.write([Float(9)], shape: [1], to: "other")
                throw Stop()
            }
        }
        #expect(try Data(contentsOf: url) == first, "a failed create must leave the old file")
        #expect(folder.contents() == ["atomic.h5"])

        let blocker = folder.file("plain")
        try AtomicFile.write("x", to: blocker)
        let impossible = blocker.appendingPathComponent("child.h5")
        expectMessage(containing: [impossible.path, "is a file, not a folder"]) {
            try HDF5File.create(at: impossible) { _ in }
        }
    }

    @Test func concurrentUseIsSerialised() throws {
        let folder = TemporaryFolder()
        let url = folder.file("shared.h5")
        let values = (0..<1000).map { Float($0) }
        try HDF5File.create(at: url) { file in try file.write(values, shape: [10, 100], to: "v") }
        let path = url.path
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10 {
                let file = try? HDF5File.open(path: path)
                #expect((try? file?.read(Float.self, from: "v").values) == values)
            }
        }
    }
}

@Suite struct HDF5DamagedFileTests {
    /// A file with a valid signature but cut short: HDF5's own explanation is passed on.
    @Test func truncatedFileFailsWithHDF5Detail() throws {
        let folder = TemporaryFolder()
        let url = folder.file("cut.h5")
        try HDF5File.create(at: url) { file in
            try file.setAttribute("note", "x")
            try file.write((0..<100_000).map { Float($0) }, shape: [1000, 100], to: "g/data")
        }
        let whole = try Data(contentsOf: url)
        try AtomicFile.write(whole.prefix(whole.count / 2), to: url)
        guard let error = dataIOError({
            let file = try HDF5File.open(url)
            _ = try file.read(Float.self, from: "g/data")
        }) else { return }
        guard case .library(let name, let path, _, _, let detail) = error else {
            Issue.record("expected a library error, got \(error)")
            return
        }
        #expect(name == "HDF5" && path == url.path)
        #expect(detail?.isEmpty == false, "HDF5's error stack should explain the failure: \(error)")
    }
}

/// A flaky failure seen in the full test run (session 12): reopening a just-written HDF5 file
/// failed with "unable to lock file, errno = 11": something held a conflicting flock on it at that
/// moment (who, the run did not show). HDF5's locking guards its single-writer/multi-reader mode,
/// which this project does not use (files are written under a temporary name and renamed), so
/// DataIO turns it off (HDF5_USE_FILE_LOCKING=FALSE unless the environment sets it). The test
/// holds an exclusive flock on a file, as that other party did, and opens it: under HDF5's
/// default the open fails with the error above; with locking off it reads.
@Suite struct HDF5LockingTests {
    @Test func aForeignLockDoesNotBlockReading() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try HDF5File.create(at: url) { file in try file.write([1.0, 2.0], shape: [2], to: "x") }
        let fd = Glibc.open(url.path, O_RDONLY)
        try #require(fd >= 0)
        defer { Glibc.close(fd) }
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let file = try HDF5File.open(url)
        #expect(try file.read(Double.self, from: "x").values == [1, 2])
        try file.close()
    }
}
