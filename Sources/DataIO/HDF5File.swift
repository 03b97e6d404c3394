// A small, safe Swift layer over the HDF5 C library: create a file (atomically) or open one
// read-only; make groups; write and read whole datasets of float32, float64, uint8, int32 and
// int64 of any shape; attach numeric and string attributes to the file, groups and datasets;
// list members and check existence.
//
// Objects are named by slash-separated paths from the file root ("train/images"; "/" is the
// root). Every handle this layer opens is closed before the call returns (`defer`), so no HDF5
// id escapes except the file's own, which `close()` or `deinit` releases. Every C call is
// checked; a failure becomes a `DataIOError` naming the file, the object and the operation, with
// HDF5's own explanation taken from its error stack (automatic stack printing is switched off).
// Reading a dataset requires the stored element type to be exactly the requested one: no silent
// conversion of bulk data. Numeric attributes may be read as any numeric type except float into
// integer. All HDF5 calls are serialised by one process-wide lock (the system library is the
// non-thread-safe build), so files may be used from several threads.
import CHDF5
import Foundation
import TensorCore

// MARK: - Library

/// The HDF5 library as linked into this program.
public enum HDF5Library {
    /// Initialises the library once and turns off its automatic error printing and its file
    /// locking. HDF5 (1.10.7+) flocks every file it opens; a child process started while a file
    /// is open (gnuplot, an experiment binary, a test's tool) inherits the descriptor and holds
    /// the lock after we close, so reopening the file just written failed with "unable to lock
    /// file, errno = 11" (seen in the full test run). The lock serves HDF5's single-writer /
    /// multi-reader mode, which this project does not use: files are written under a temporary
    /// name and renamed into place (AtomicFile). An HDF5_USE_FILE_LOCKING already in the
    /// environment is left as it is.
    static let initialized: Bool = {
        setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0)
        _ = H5open()
        chdf5_silence_errors()
        return true
    }()

    @inline(__always) static func ensureInitialized() { _ = initialized }

    /// Serialises all HDF5 calls: Debian's HDF5 is the non-thread-safe build, so every public
    /// entry point of `HDF5File` holds this (recursive) lock while it talks to the library.
    static let lock = NSRecursiveLock()

    /// The library version, e.g. "1.10.8".
    public static var version: String {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        ensureInitialized()
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        guard H5get_libversion(&major, &minor, &release) >= 0 else { return "unknown" }
        return "\(major).\(minor).\(release)"
    }

    /// Whether the deflate (gzip) filter is available for compressed datasets.
    public static var hasDeflate: Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        ensureInitialized()
        return H5Zfilter_avail(H5Z_filter_t(H5Z_FILTER_DEFLATE)) > 0
    }

    /// HDF5's explanation of the last failure on this thread (outermost and innermost entries
    /// of the error stack), then clears the stack.
    static func takeErrorMessage() -> String? {
        var messages: [String] = []
        withUnsafeMutablePointer(to: &messages) { pointer in
            _ = H5Ewalk2(chdf5_e_default(), H5E_WALK_DOWNWARD, { _, entry, client in
                guard let entry, let client, let desc = entry.pointee.desc else { return 0 }
                client.assumingMemoryBound(to: [String].self).pointee.append(String(cString: desc))
                return 0
            }, pointer)
        }
        _ = H5Eclear2(chdf5_e_default())
        guard let first = messages.first else { return nil }
        if let last = messages.last, last != first { return "\(first): \(last)" }
        return first
    }
}

// MARK: - Element types

/// The element type of a stored dataset or attribute, as HDF5 describes it.
public enum HDF5ElementType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// IEEE single precision.
    case float32
    /// IEEE double precision.
    case float64
    /// Unsigned 8-bit integer.
    case uint8
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Anything this layer does not read as numbers ("int16", "string", "compound", …).
    case other(String)

    /// "float32", "uint8", …, or the name carried by `.other`.
    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .uint8: return "uint8"
        case .int32: return "int32"
        case .int64: return "int64"
        case .other(let name): return name
        }
    }

    /// The in-memory HDF5 type id for the numeric cases.
    var nativeTypeID: hid_t? {
        switch self {
        case .float32: return chdf5_native_float()
        case .float64: return chdf5_native_double()
        case .uint8: return chdf5_native_uint8()
        case .int32: return chdf5_native_int32()
        case .int64: return chdf5_native_int64()
        case .other: return nil
        }
    }

    /// Whether values of this type are integers (`nil` for non-numeric types).
    var isInteger: Bool? {
        switch self {
        case .float32, .float64: return false
        case .uint8, .int32, .int64: return true
        case .other(let name): return name.hasPrefix("int") || name.hasPrefix("uint") ? true : (name.hasPrefix("float") ? false : nil)
        }
    }

    /// Describes the HDF5 datatype `tid`.
    static func describing(_ tid: hid_t) -> HDF5ElementType {
        let size = H5Tget_size(tid)
        let cls = H5Tget_class(tid)
        switch cls {
        case H5T_FLOAT:
            return size == 4 ? .float32 : size == 8 ? .float64 : .other("float\(size * 8)")
        case H5T_INTEGER:
            let signed = H5Tget_sign(tid) != H5T_SGN_NONE
            switch (signed, size) {
            case (false, 1): return .uint8
            case (true, 4): return .int32
            case (true, 8): return .int64
            default: return .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: return .other(H5Tis_variable_str(tid) > 0 ? "variable-length string" : "string")
        case H5T_COMPOUND: return .other("compound")
        case H5T_ENUM: return .other("enum")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_REFERENCE: return .other("reference")
        default: return .other("unknown type")
        }
    }
}

/// A Swift type that can be stored as HDF5 numbers: Float, Double, UInt8, Int32, Int64, Int.
public protocol HDF5Scalar: Sendable {
    /// The HDF5 element type this Swift type is stored as.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar {
    /// Stored as float32.
    public static var hdf5ElementType: HDF5ElementType { .float32 }
}
extension Double: HDF5Scalar {
    /// Stored as float64.
    public static var hdf5ElementType: HDF5ElementType { .float64 }
}
extension UInt8: HDF5Scalar {
    /// Stored as uint8.
    public static var hdf5ElementType: HDF5ElementType { .uint8 }
}
extension Int32: HDF5Scalar {
    /// Stored as int32.
    public static var hdf5ElementType: HDF5ElementType { .int32 }
}
extension Int64: HDF5Scalar {
    /// Stored as int64.
    public static var hdf5ElementType: HDF5ElementType { .int64 }
}
extension Int: HDF5Scalar {
    /// Stored as int64 (Int is 64 bits on every platform this project supports).
    public static var hdf5ElementType: HDF5ElementType { .int64 }
}

/// A whole dataset read into memory: its shape and its elements in row-major order.
public struct HDF5Array<Element: HDF5Scalar>: Sendable {
    /// The extent of each dimension, outermost first (empty for a scalar dataset).
    public var shape: [Int]
    /// The elements in row-major order; `values.count == shape.reduce(1, *)`.
    public var values: [Element]

    /// Pairs a shape with its row-major elements.
    public init(shape: [Int], values: [Element]) {
        self.shape = shape
        self.values = values
    }
}

extension HDF5Array: Equatable where Element: Equatable {}

/// Element type and shape of a dataset or attribute, read without reading its values.
public struct HDF5DataInfo: Equatable, Sendable, CustomStringConvertible {
    /// The stored element type.
    public var elementType: HDF5ElementType
    /// The extent of each dimension (empty for a scalar).
    public var shape: [Int]
    /// The rank (number of dimensions).
    public var rank: Int { shape.count }
    /// "float32 [60000, 28, 28]", or "int64 scalar" for rank 0.
    public var description: String { shape.isEmpty ? "\(elementType) scalar" : "\(elementType) \(shape)" }

    /// Pairs an element type with a shape.
    public init(elementType: HDF5ElementType, shape: [Int]) {
        self.elementType = elementType
        self.shape = shape
    }
}

/// What kind of object a path inside an HDF5 file names.
public enum HDF5ObjectKind: String, Sendable {
    /// A group (folder-like container).
    case group
    /// A dataset (an n-dimensional array).
    case dataset
    /// A committed datatype or something else.
    case other
}

/// Optional chunked gzip compression for a dataset.
public struct HDF5Compression: Sendable, Equatable {
    /// Deflate level, 1 (fast) to 9 (small).
    public var level: Int
    /// Whether to apply HDF5's byte-shuffle filter first (helps float data compress).
    public var shuffle: Bool
    /// Approximate chunk size in bytes; chunks span whole rows of the leading dimension.
    public var chunkBytes: Int

    /// A compression setting; see the properties.
    public init(level: Int = 4, shuffle: Bool = true, chunkBytes: Int = 1 << 20) {
        self.level = level
        self.shuffle = shuffle
        self.chunkBytes = chunkBytes
    }

    /// Level 4 with shuffle and 1 MiB chunks: a good size/speed balance for image data.
    public static let standard = HDF5Compression()
}

// MARK: - File

/// An open HDF5 file. Create one with `HDF5File.create(at:_:)` (atomic) or open an existing
/// one read-only with `HDF5File.open(_:)`.
public final class HDF5File {
    /// The path the file is reported under in errors (the final path, also while it is being
    /// written under a temporary name).
    public let path: String
    /// Whether the file was opened for writing.
    public let isWritable: Bool
    private var fileID: hid_t

    private init(path: String, fileID: hid_t, isWritable: Bool) {
        self.path = path
        self.fileID = fileID
        self.isWritable = isWritable
    }

    deinit {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        if fileID >= 0 { _ = H5Fclose(fileID) }
    }

    /// Opens an existing HDF5 file read-only.
    /// - Throws: `.fileNotFound` if there is no such file, `.format` if it is not HDF5,
    ///   `.library` if HDF5 cannot open it.
    public static func open(_ url: URL) throws -> HDF5File {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try open(path: url.path)
    }

    /// Opens an existing HDF5 file read-only; see `open(_:)`.
    public static func open(path: String) throws -> HDF5File {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        HDF5Library.ensureInitialized()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataIOError.fileNotFound(path: path, hint: nil)
        }
        guard !isDirectory.boolValue else {
            throw DataIOError.format(path: path, object: "file", expected: "an HDF5 file", found: "a folder")
        }
        let isHDF5 = H5Fis_hdf5(path)
        if isHDF5 == 0 {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            throw DataIOError.format(
                path: path, object: "file", expected: "an HDF5 file",
                found: "no HDF5 signature" + (size.map { " (\($0) bytes)" } ?? ""))
        }
        if isHDF5 < 0 {
            throw DataIOError.library(name: "HDF5", path: path, object: nil, operation: "checking the file signature", detail: HDF5Library.takeErrorMessage())
        }
        let id = H5Fopen(path, chdf5_acc_rdonly(), chdf5_p_default())
        guard id >= 0 else {
            throw DataIOError.library(name: "HDF5", path: path, object: nil, operation: "opening the file", detail: HDF5Library.takeErrorMessage())
        }
        return HDF5File(path: path, fileID: id, isWritable: false)
    }

    /// Creates a new HDF5 file at `url` atomically: `body` fills a file with a temporary name in
    /// the same folder; when it returns, the file is closed and renamed to `url`, replacing any
    /// existing file. If `body` throws, the temporary file is deleted and `url` is untouched.
    /// The `HDF5File` passed to `body` must not be used after `body` returns. `body` runs while
    /// holding the process-wide HDF5 lock, so it must not wait for other threads that use HDF5.
    public static func create<R>(at url: URL, _ body: (HDF5File) throws -> R) throws -> R {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        HDF5Library.ensureInitialized()
        return try AtomicFile.replace(url) { temporary in
            let id = H5Fcreate(temporary.path, chdf5_acc_trunc(), chdf5_p_default(), chdf5_p_default())
            guard id >= 0 else {
                throw DataIOError.library(name: "HDF5", path: url.path, object: nil, operation: "creating the file", detail: HDF5Library.takeErrorMessage())
            }
            let file = HDF5File(path: url.path, fileID: id, isWritable: true)
            do {
                let result = try body(file)
                try file.close()
                return result
            } catch {
                try? file.close()
                throw error
            }
        }
    }

    /// Flushes and closes the file. Further calls on this object throw. Closing twice is allowed.
    public func close() throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        guard fileID >= 0 else { return }
        let id = fileID
        fileID = -1
        if isWritable && H5Fflush(id, H5F_SCOPE_GLOBAL) < 0 {
            let detail = HDF5Library.takeErrorMessage()
            _ = H5Fclose(id)
            throw DataIOError.library(name: "HDF5", path: path, object: nil, operation: "flushing the file", detail: detail)
        }
        guard H5Fclose(id) >= 0 else {
            throw DataIOError.library(name: "HDF5", path: path, object: nil, operation: "closing the file", detail: HDF5Library.takeErrorMessage())
        }
    }

    // MARK: Names and structure

    /// Normalises "/a/b/" to "a/b" (the root is "").
    static func normalize(_ name: String) -> String {
        name.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// The HDF5 path for a normalised name ("/" for the root).
    static func hdf5Path(_ normalized: String) -> String { normalized.isEmpty ? "/" : normalized }

    /// How an object is named in messages: "group 'train'", "dataset 'train/images'", "the file root".
    static func label(_ kind: String, _ name: String) -> String {
        let n = normalize(name)
        return n.isEmpty ? "the file root" : "\(kind) '\(n)'"
    }

    private func openFileID(for object: String) throws -> hid_t {
        guard fileID >= 0 else {
            throw DataIOError.library(name: "HDF5", path: path, object: object, operation: "access after close", detail: "the file has been closed")
        }
        return fileID
    }

    private func requireWritable(_ object: String) throws {
        guard isWritable else {
            throw DataIOError.notWritable(path: path, reason: "\(object): the file is open read-only")
        }
    }

    private func fail(_ object: String?, _ operation: String) -> DataIOError {
        .library(name: "HDF5", path: path, object: object, operation: operation, detail: HDF5Library.takeErrorMessage())
    }

    /// Whether an object (group or dataset) exists at `name`. The root always exists.
    public func exists(_ name: String) throws -> Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try kind(of: name) != nil
    }

    /// The kind of object at `name`, or nil if there is none.
    public func kind(of name: String) throws -> HDF5ObjectKind? {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let fid = try openFileID(for: HDF5File.label("object", name))
        let parts = HDF5File.normalize(name).split(separator: "/").map(String.init)
        if parts.isEmpty { return .group }
        var prefix = ""
        for (i, part) in parts.enumerated() {
            prefix = prefix.isEmpty ? part : prefix + "/" + part
            let linked = H5Lexists(fid, prefix, chdf5_p_default())
            if linked < 0 { throw fail(HDF5File.label("object", prefix), "looking up the name") }
            if linked == 0 { return nil }
            let oid = H5Oopen(fid, prefix, chdf5_p_default())
            guard oid >= 0 else { _ = HDF5Library.takeErrorMessage(); return nil }  // dangling link
            let type = H5Iget_type(oid)
            _ = H5Oclose(oid)
            let kind: HDF5ObjectKind = type == H5I_GROUP ? .group : type == H5I_DATASET ? .dataset : .other
            if i == parts.count - 1 { return kind }
            if kind != .group { return nil }
        }
        return nil
    }

    /// The names of the members of group `group` ("/" for the root), in name order.
    public func members(of group: String = "/") throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let label = HDF5File.label("group", group)
        return try withObject(group, expecting: .group, label: label) { gid in
            var info = H5G_info_t()
            guard H5Gget_info(gid, &info) >= 0 else { throw fail(label, "listing members") }
            var names: [String] = []
            for i in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
                guard length >= 0 else { throw fail(label, "reading member name \(i)") }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                guard H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, chdf5_p_default()) >= 0 else {
                    throw fail(label, "reading member name \(i)")
                }
                names.append(String(cString: buffer))
            }
            return names
        }
    }

    /// Creates group `name` and any missing parent groups; an existing group is left alone.
    public func createGroup(_ name: String) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let normalized = HDF5File.normalize(name)
        let label = HDF5File.label("group", normalized)
        try requireWritable(label)
        let fid = try openFileID(for: label)
        var prefix = ""
        for part in normalized.split(separator: "/") {
            prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
            switch try kind(of: prefix) {
            case .group?: continue
            case .some(let other):
                throw DataIOError.format(path: path, object: HDF5File.label("object", prefix), expected: "a group", found: "a \(other.rawValue)")
            case nil:
                let gid = H5Gcreate2(fid, prefix, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
                guard gid >= 0 else { throw fail(HDF5File.label("group", prefix), "creating the group") }
                _ = H5Gclose(gid)
            }
        }
    }

    /// Opens the object at `name`, checks its kind and passes its id to `body`; closes it after.
    private func withObject<R>(_ name: String, expecting expected: HDF5ObjectKind?, label: String, _ body: (hid_t) throws -> R) throws -> R {
        let fid = try openFileID(for: label)
        let normalized = HDF5File.normalize(name)
        guard let found = try kind(of: normalized) else {
            throw DataIOError.missing(path: path, object: label, context: try missingContext(normalized))
        }
        if let expected, found != expected {
            throw DataIOError.format(path: path, object: label, expected: "a \(expected.rawValue)", found: "a \(found.rawValue)")
        }
        let oid = H5Oopen(fid, HDF5File.hdf5Path(normalized), chdf5_p_default())
        guard oid >= 0 else { throw fail(label, "opening the object") }
        defer { _ = H5Oclose(oid) }
        return try body(oid)
    }

    /// "group 'train' has: images" — what the nearest existing parent holds, for not-found messages.
    private func missingContext(_ normalized: String) throws -> String? {
        var parent = normalized.split(separator: "/").dropLast().joined(separator: "/")
        while try kind(of: parent) != .group { parent = parent.split(separator: "/").dropLast().joined(separator: "/") }
        let names = try members(of: parent)
        let where_ = parent.isEmpty ? "the file root" : "group '\(parent)'"
        return names.isEmpty ? "\(where_) is empty" : "\(where_) has: \(names.joined(separator: ", "))"
    }

    // MARK: Datasets

    /// Writes a new dataset `name` (parent groups are created) with the given shape and
    /// row-major values, optionally chunked and compressed.
    /// - Throws: `.format` if `values.count` does not fill `shape`, or if `name` exists.
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int], to name: String, compression: HDF5Compression? = nil) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let normalized = HDF5File.normalize(name)
        let label = HDF5File.label("dataset", normalized)
        try requireWritable(label)
        let fid = try openFileID(for: label)
        guard !normalized.isEmpty else {
            throw DataIOError.format(path: path, object: label, expected: "a dataset name", found: "an empty name")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw DataIOError.format(path: path, object: label, expected: "\(shape.reduce(1, *)) values for shape \(shape)", found: "\(values.count) values")
        }
        if let existing = try kind(of: normalized) {
            throw DataIOError.format(path: path, object: label, expected: "a new name", found: "an existing \(existing.rawValue)")
        }
        let parent = normalized.split(separator: "/").dropLast().joined(separator: "/")
        if !parent.isEmpty { try createGroup(parent) }

        let memType = T.hdf5ElementType.nativeTypeID!
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        guard space >= 0 else { throw fail(label, "creating the dataspace \(shape)") }
        defer { _ = H5Sclose(space) }

        let dcpl = H5Pcreate(chdf5_p_dataset_create())
        guard dcpl >= 0 else { throw fail(label, "creating the dataset properties") }
        defer { _ = H5Pclose(dcpl) }
        // No modification times: rebuilding a file from the same sources gives the same bytes.
        guard H5Pset_obj_track_times(dcpl, false) >= 0 else { throw fail(label, "setting dataset properties") }
        if let compression, !shape.isEmpty, values.count > 0 {
            guard (1...9).contains(compression.level) else {
                throw DataIOError.format(path: path, object: label, expected: "a deflate level in 1...9", found: "\(compression.level)")
            }
            let elementSize = MemoryLayout<T>.stride
            let rowBytes = max(1, shape.dropFirst().reduce(1, *) * elementSize)
            let rows = max(1, min(shape[0], compression.chunkBytes / rowBytes))
            var chunk = [hsize_t(rows)] + shape.dropFirst().map { hsize_t(max($0, 1)) }
            guard H5Pset_chunk(dcpl, Int32(chunk.count), &chunk) >= 0 else { throw fail(label, "setting the chunk shape") }
            if compression.shuffle {
                guard H5Pset_shuffle(dcpl) >= 0 else { throw fail(label, "enabling the shuffle filter") }
            }
            guard H5Pset_deflate(dcpl, UInt32(compression.level)) >= 0 else { throw fail(label, "enabling deflate compression") }
        }

        let did = H5Dcreate2(fid, normalized, memType, space, chdf5_p_default(), dcpl, chdf5_p_default())
        guard did >= 0 else { throw fail(label, "creating the dataset") }
        defer { _ = H5Dclose(did) }
        if values.isEmpty { return }
        let status = values.withUnsafeBufferPointer { buffer in
            H5Dwrite(did, memType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buffer.baseAddress)
        }
        guard status >= 0 else { throw fail(label, "writing \(values.count) values") }
    }

    /// Writes a tensor as a dataset of its shape (float32 for Float, float64 for Double).
    public func write<S: TensorScalar & HDF5Scalar>(_ tensor: Tensor<S>, to name: String, compression: HDF5Compression? = nil) throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try write(tensor.scalars, shape: tensor.shape, to: name, compression: compression)
    }

    /// The element type and shape of dataset `name`, without reading its values.
    public func datasetInfo(_ name: String) throws -> HDF5DataInfo {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let label = HDF5File.label("dataset", name)
        return try withObject(name, expecting: .dataset, label: label) { did in
            try info(ofDataset: did, label: label)
        }
    }

    private func info(ofDataset did: hid_t, label: String) throws -> HDF5DataInfo {
        let tid = H5Dget_type(did)
        guard tid >= 0 else { throw fail(label, "reading the element type") }
        defer { _ = H5Tclose(tid) }
        let space = H5Dget_space(did)
        guard space >= 0 else { throw fail(label, "reading the shape") }
        defer { _ = H5Sclose(space) }
        return HDF5DataInfo(elementType: .describing(tid), shape: try extent(of: space, label: label))
    }

    private func extent(of space: hid_t, label: String) throws -> [Int] {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw fail(label, "reading the rank") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 {
            guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { throw fail(label, "reading the dimensions") }
        }
        return dims.map { Int($0) }
    }

    /// Reads all of dataset `name`. The stored element type must be `T`'s exactly.
    /// - Throws: `.missing` if there is no such dataset; `.format` naming the expected and the
    ///   stored type if they differ.
    public func read<T: HDF5Scalar>(_ type: T.Type = T.self, from name: String) throws -> HDF5Array<T> {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let label = HDF5File.label("dataset", name)
        return try withObject(name, expecting: .dataset, label: label) { did in
            let info = try info(ofDataset: did, label: label)
            guard info.elementType == T.hdf5ElementType else {
                throw DataIOError.format(path: path, object: label, expected: "\(T.hdf5ElementType)", found: "\(info.elementType) \(info.shape)")
            }
            let count = info.shape.reduce(1, *)
            let memType = T.hdf5ElementType.nativeTypeID!
            var status: herr_t = 0
            let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    status = H5Dread(did, memType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buffer.baseAddress)
                }
                // On failure the buffer content is unspecified but every T is a plain number.
                initialized = count
            }
            guard status >= 0 else { throw fail(label, "reading \(count) values") }
            return HDF5Array(shape: info.shape, values: values)
        }
    }

    /// Reads dataset `name` as a tensor of its stored shape (float32 → Float, float64 → Double).
    public func readTensor<S: TensorScalar & HDF5Scalar>(_ type: S.Type = S.self, from name: String) throws -> Tensor<S> {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let array = try read(S.self, from: name)
        return Tensor(shape: array.shape, scalars: array.values)
    }

    // MARK: Attributes

    /// Sets a scalar numeric attribute on `object` ("/" for the file), replacing any old one.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ value: T, on object: String = "/") throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try writeAttribute(name, on: object, values: [value], shape: [])
    }

    /// Sets a one-dimensional numeric attribute on `object`, replacing any old one.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ values: [T], on object: String = "/") throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try writeAttribute(name, on: object, values: values, shape: [values.count])
    }

    /// Sets a variable-length UTF-8 string attribute on `object`, replacing any old one. (h5py
    /// reads it as `str`; fixed-length strings would come back as `numpy.bytes_`.)
    public func setAttribute(_ name: String, _ value: String, on object: String = "/") throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try writeStringAttribute(name, on: object, values: [value], shape: [])
    }

    /// Sets a one-dimensional attribute of variable-length UTF-8 strings on `object` (e.g.
    /// `class_names`), replacing any old one.
    public func setAttribute(_ name: String, _ values: [String], on object: String = "/") throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try writeStringAttribute(name, on: object, values: values, shape: [values.count])
    }

    /// Sets a fixed-length, null-padded UTF-8 string attribute: the form this artifact wrote before
    /// it switched to variable-length strings. Kept so that tests can build such older files.
    func setFixedLengthAttribute(_ name: String, _ value: String, on object: String = "/") throws {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        try writeStringAttribute(name, on: object, values: [value], shape: [], fixedLength: true)
    }

    /// Writes string attribute `name`: variable-length UTF-8 elements, or (`fixedLength`, one
    /// scalar only) a null-padded string of the value's byte length.
    private func writeStringAttribute(_ name: String, on object: String, values: [String], shape: [Int], fixedLength: Bool = false) throws {
        let label = attributeLabel(name, object)
        try requireWritable(label)
        precondition(!fixedLength || (shape.isEmpty && values.count == 1), "fixed-length strings are written as scalars only")
        if let bad = values.firstIndex(where: { $0.utf8.contains(0) }) {
            throw DataIOError.format(path: path, object: label, expected: "strings without NUL characters", found: "a NUL in element \(bad)")
        }
        try withAttributeTarget(object) { oid in
            try deleteAttributeIfPresent(name, on: oid, label: label)
            let tid = H5Tcopy(chdf5_c_s1())
            guard tid >= 0 else { throw fail(label, "creating the string type") }
            defer { _ = H5Tclose(tid) }
            let configured = fixedLength
                ? H5Tset_size(tid, max(1, values[0].utf8.count)) >= 0 && H5Tset_strpad(tid, H5T_STR_NULLPAD) >= 0
                : H5Tset_size(tid, -1) >= 0  // -1 is H5T_VARIABLE
            guard configured, H5Tset_cset(tid, H5T_CSET_UTF8) >= 0 else { throw fail(label, "configuring the string type") }
            var dims = shape.map { hsize_t($0) }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, nil)
            guard space >= 0 else { throw fail(label, "creating the dataspace") }
            defer { _ = H5Sclose(space) }
            let aid = H5Acreate2(oid, name, tid, space, chdf5_p_default(), chdf5_p_default())
            guard aid >= 0 else { throw fail(label, "creating the attribute") }
            defer { _ = H5Aclose(aid) }
            if values.isEmpty { return }
            if fixedLength {
                var padded = values[0].utf8.isEmpty ? [UInt8(0)] : Array(values[0].utf8)
                guard H5Awrite(aid, tid, &padded) >= 0 else { throw fail(label, "writing the attribute") }
                return
            }
            // One C string per element; HDF5 copies them during the write.
            let cStrings = values.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            var pointers: [UnsafePointer<CChar>?] = cStrings.map { $0.map { UnsafePointer($0) } }
            guard pointers.allSatisfy({ $0 != nil }) else { throw fail(label, "copying the strings") }
            guard H5Awrite(aid, tid, &pointers) >= 0 else { throw fail(label, "writing the attribute") }
        }
    }

    private func writeAttribute<T: HDF5Scalar>(_ name: String, on object: String, values: [T], shape: [Int]) throws {
        let label = attributeLabel(name, object)
        try requireWritable(label)
        try withAttributeTarget(object) { oid in
            try deleteAttributeIfPresent(name, on: oid, label: label)
            let memType = T.hdf5ElementType.nativeTypeID!
            var dims = shape.map { hsize_t($0) }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, nil)
            guard space >= 0 else { throw fail(label, "creating the dataspace") }
            defer { _ = H5Sclose(space) }
            let aid = H5Acreate2(oid, name, memType, space, chdf5_p_default(), chdf5_p_default())
            guard aid >= 0 else { throw fail(label, "creating the attribute") }
            defer { _ = H5Aclose(aid) }
            if values.isEmpty { return }
            let status = values.withUnsafeBufferPointer { H5Awrite(aid, memType, $0.baseAddress) }
            guard status >= 0 else { throw fail(label, "writing the attribute") }
        }
    }

    private func deleteAttributeIfPresent(_ name: String, on oid: hid_t, label: String) throws {
        let present = H5Aexists(oid, name)
        guard present >= 0 else { throw fail(label, "checking for the attribute") }
        if present > 0 && H5Adelete(oid, name) < 0 { throw fail(label, "replacing the attribute") }
    }

    /// "attribute 'height' of group 'train'".
    private func attributeLabel(_ name: String, _ object: String) -> String {
        let n = HDF5File.normalize(object)
        return "attribute '\(name)' of " + (n.isEmpty ? "the file" : "'\(n)'")
    }

    private func withAttributeTarget<R>(_ object: String, _ body: (hid_t) throws -> R) throws -> R {
        try withObject(object, expecting: nil, label: HDF5File.label("object", object), body)
    }

    /// Opens attribute `name` of `object`, passing its id, type id and shape to `body`.
    private func withAttribute<R>(_ name: String, of object: String, _ body: (hid_t, hid_t, [Int], String) throws -> R) throws -> R {
        let label = attributeLabel(name, object)
        return try withAttributeTarget(object) { oid in
            let present = H5Aexists(oid, name)
            guard present >= 0 else { throw fail(label, "checking for the attribute") }
            guard present > 0 else {
                let names = try attributeNames(ofObjectID: oid, label: label)
                throw DataIOError.missing(
                    path: path, object: label,
                    context: names.isEmpty ? "no attributes there" : "present: \(names.joined(separator: ", "))")
            }
            let aid = H5Aopen(oid, name, chdf5_p_default())
            guard aid >= 0 else { throw fail(label, "opening the attribute") }
            defer { _ = H5Aclose(aid) }
            let tid = H5Aget_type(aid)
            guard tid >= 0 else { throw fail(label, "reading the attribute type") }
            defer { _ = H5Tclose(tid) }
            let space = H5Aget_space(aid)
            guard space >= 0 else { throw fail(label, "reading the attribute shape") }
            defer { _ = H5Sclose(space) }
            return try body(aid, tid, try extent(of: space, label: label), label)
        }
    }

    /// Whether `object` has an attribute called `name`.
    public func hasAttribute(_ name: String, on object: String = "/") throws -> Bool {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let label = attributeLabel(name, object)
        return try withAttributeTarget(object) { oid in
            let present = H5Aexists(oid, name)
            guard present >= 0 else { throw fail(label, "checking for the attribute") }
            return present > 0
        }
    }

    /// The names of all attributes of `object`, in name order.
    public func attributeNames(of object: String = "/") throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try withAttributeTarget(object) { oid in
            try attributeNames(ofObjectID: oid, label: HDF5File.label("object", object))
        }
    }

    private func attributeNames(ofObjectID oid: hid_t, label: String) throws -> [String] {
        let count = H5Aget_num_attrs(oid)
        guard count >= 0 else { throw fail(label, "counting attributes") }
        var names: [String] = []
        for i in 0..<hsize_t(count) {
            let length = H5Aget_name_by_idx(oid, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, chdf5_p_default())
            guard length >= 0 else { throw fail(label, "reading attribute name \(i)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Aget_name_by_idx(oid, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, chdf5_p_default()) >= 0 else {
                throw fail(label, "reading attribute name \(i)")
            }
            names.append(String(cString: buffer))
        }
        return names
    }

    /// The element type and shape of attribute `name` of `object`.
    public func attributeInfo(_ name: String, of object: String = "/") throws -> HDF5DataInfo {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try withAttribute(name, of: object) { _, tid, shape, _ in
            HDF5DataInfo(elementType: .describing(tid), shape: shape)
        }
    }

    /// Reads a scalar (or one-element) numeric attribute as `T`. Integers may be read as any
    /// numeric type; floating-point values only as Float or Double.
    public func attribute<T: HDF5Scalar>(_ name: String, of object: String = "/", as type: T.Type = T.self) throws -> T {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        let values = try attributeArray(name, of: object, as: T.self)
        guard values.count == 1 else {
            throw DataIOError.format(path: path, object: attributeLabel(name, object), expected: "a single \(T.hdf5ElementType)", found: "\(values.count) values")
        }
        return values[0]
    }

    /// Reads a numeric attribute of any shape as a flat array of `T` (conversion rules as in
    /// `attribute(_:of:as:)`).
    public func attributeArray<T: HDF5Scalar>(_ name: String, of object: String = "/", as type: T.Type = T.self) throws -> [T] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try withAttribute(name, of: object) { aid, tid, shape, label in
            let stored = HDF5ElementType.describing(tid)
            let wanted = T.hdf5ElementType
            guard let storedIsInteger = stored.isInteger, H5Tget_class(tid) != H5T_STRING,
                storedIsInteger || wanted.isInteger == false
            else {
                throw DataIOError.format(path: path, object: label, expected: "a number readable as \(wanted)", found: "\(HDF5DataInfo(elementType: stored, shape: shape))")
            }
            let count = shape.reduce(1, *)
            let memType = wanted.nativeTypeID!
            var status: herr_t = 0
            let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { status = H5Aread(aid, memType, buffer.baseAddress) }
                initialized = count
            }
            guard status >= 0 else { throw fail(label, "reading the attribute as \(wanted)") }
            return values
        }
    }

    /// Reads a one-dimensional string attribute (fixed or variable length) as an array. A scalar
    /// string attribute is read as one element.
    public func stringArrayAttribute(_ name: String, of object: String = "/") throws -> [String] {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try withAttribute(name, of: object) { aid, tid, shape, label in
            guard H5Tget_class(tid) == H5T_STRING, shape.count <= 1 else {
                throw DataIOError.format(path: path, object: label, expected: "a one-dimensional array of strings", found: "\(HDF5DataInfo(elementType: .describing(tid), shape: shape))")
            }
            return try readStrings(aid, tid, count: shape.reduce(1, *), label: label)
        }
    }

    /// Reads a string attribute (fixed or variable length).
    public func stringAttribute(_ name: String, of object: String = "/") throws -> String {
        HDF5Library.lock.lock(); defer { HDF5Library.lock.unlock() }
        return try withAttribute(name, of: object) { aid, tid, shape, label in
            guard H5Tget_class(tid) == H5T_STRING, shape.reduce(1, *) == 1 else {
                throw DataIOError.format(path: path, object: label, expected: "a string", found: "\(HDF5DataInfo(elementType: .describing(tid), shape: shape))")
            }
            return try readStrings(aid, tid, count: 1, label: label)[0]
        }
    }

    /// The `count` elements of string attribute `aid` of type `tid`: variable-length ones through
    /// HDF5's own buffers, fixed-length ones cut at the first NUL (and space padding removed).
    private func readStrings(_ aid: hid_t, _ tid: hid_t, count: Int, label: String) throws -> [String] {
        if count == 0 { return [] }
        if H5Tis_variable_str(tid) > 0 {
            let memType = H5Tcopy(chdf5_c_s1())
            guard memType >= 0 else { throw fail(label, "creating the string type") }
            defer { _ = H5Tclose(memType) }
            _ = H5Tset_size(memType, -1)  // H5T_VARIABLE
            _ = H5Tset_cset(memType, H5Tget_cset(tid))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(aid, memType, &pointers) >= 0 else { throw fail(label, "reading the strings") }
            defer { for p in pointers { if let p { _ = H5free_memory(p) } } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(tid)
        guard size > 0 else { throw fail(label, "reading the string size") }
        var buffer = [UInt8](repeating: 0, count: size * count)
        guard H5Aread(aid, tid, &buffer) >= 0 else { throw fail(label, "reading the strings") }
        let spacePadded = H5Tget_strpad(tid) == H5T_STR_SPACEPAD
        return (0..<count).map { i in
            let element = buffer[(i * size)..<((i + 1) * size)]
            let end = element.firstIndex(of: 0) ?? element.endIndex
            var text = String(decoding: element[..<end], as: UTF8.self)
            if spacePadded { while text.hasSuffix(" ") { text.removeLast() } }
            return text
        }
    }
}
