// Atomic file replacement. A writer never produces its output file directly: it writes a
// temporary file in the same folder (same file system, so the final rename(2) is atomic) and
// renames it over the target only when everything has been written and flushed. A crash or a
// thrown error therefore leaves either the old file or the complete new one, never half a file.
// Temporary names end in ".tmp" (ignored by git) and start with a dot.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files atomically: temporary file in the same folder, then rename.
public enum AtomicFile {
    /// Writes `data` to `url`, replacing any existing file atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try replace(url) { temporary in
            try writeDurably(data, to: temporary, reportedAs: url.path)
        }
    }

    /// Writes `text` as UTF-8 to `url`, replacing any existing file atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Runs `produce` with the URL of a fresh temporary file next to `url` (not yet created),
    /// then renames that file to `url`. If `produce` throws, or leaves no file behind, the
    /// temporary file is removed and `url` is untouched. Use this for writers that need a path
    /// (HDF5, libpng).
    /// - Throws: `DataIOError.notWritable` when the folder is missing, not a folder or not
    ///   writable, or when the rename fails; whatever `produce` throws.
    public static func replace<R>(_ url: URL, _ produce: (URL) throws -> R) throws -> R {
        try checkWritableFolder(for: url)
        let temporary = temporaryURL(for: url)
        let result: R
        do {
            result = try produce(temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard FileManager.default.fileExists(atPath: temporary.path) else {
            throw DataIOError.notWritable(path: url.path, reason: "the writer produced no file")
        }
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw DataIOError.notWritable(path: url.path, reason: "cannot rename the temporary file into place (\(reason))")
        }
        return result
    }

    /// Creates `folder` and any missing parents (nothing happens if it exists).
    /// - Throws: `.notWritable` naming the folder and the reason (e.g. a parent is a file).
    public static func createFolder(_ folder: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DataIOError.notWritable(path: folder.path, reason: "it is a file, not a folder") }
            return
        }
        if let blocker = fileBlocking(folder) {
            throw DataIOError.notWritable(path: folder.path, reason: "\(blocker) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
            throw DataIOError.notWritable(path: folder.path, reason: "cannot create the folder (\(reason))")
        }
    }

    /// The nearest existing ancestor of the missing path `url` if it is a regular file.
    static func fileBlocking(_ url: URL) -> String? {
        var isDirectory: ObjCBool = false
        var ancestor = url.deletingLastPathComponent()
        while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
            ancestor = ancestor.deletingLastPathComponent()
        }
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return ancestor.path
        }
        return nil
    }

    /// The temporary name used for `url`: ".NAME.RANDOM.tmp" in the same folder.
    static func temporaryURL(for url: URL) -> URL {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(suffix).tmp")
    }

    /// Throws unless the folder of `url` exists, is a folder and is writable, and `url` itself
    /// is not a folder.
    static func checkWritableFolder(for url: URL) throws {
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        // Walk up to the first existing ancestor to explain *why* the folder is unusable.
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            if let blocker = fileBlocking(URL(fileURLWithPath: folder)) {
                throw DataIOError.notWritable(path: url.path, reason: "\(blocker) is a file, not a folder")
            }
            throw DataIOError.notWritable(path: url.path, reason: "folder \(folder) does not exist")
        }
        guard isDirectory.boolValue else {
            throw DataIOError.notWritable(path: url.path, reason: "\(folder) is a file, not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw DataIOError.notWritable(path: url.path, reason: "folder \(folder) is not writable (\(String(cString: strerror(errno))))")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DataIOError.notWritable(path: url.path, reason: "a folder of that name exists")
        }
    }

    /// Creates `url` (which must not exist), writes all of `data` and fsyncs it.
    static func writeDurably(_ data: Data, to url: URL, reportedAs path: String) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw DataIOError.notWritable(path: path, reason: "cannot create a temporary file (\(String(cString: strerror(errno))))")
        }
        var failure: String?
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
        if let failure {
            throw DataIOError.notWritable(path: path, reason: failure)
        }
    }
}
