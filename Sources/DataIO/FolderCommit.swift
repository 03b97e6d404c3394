// Whole-folder commits. A run writes everything it produces into a staging folder next to its
// final folder and then swaps the staging folder in with one rename: renameat2(RENAME_EXCHANGE)
// when an older folder is there (the old one ends up at the staging path, to be kept aside or
// removed), a no-replace rename otherwise. A reader therefore sees the old folder or the new one,
// never a mixture, whatever happens to the writer (kill -9, Ctrl-C, a full disk).
import CSystemShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Folder-level atomic operations.
public enum FolderCommit {
    /// Puts the complete folder `staged` at `target`. If `target` exists, the two are exchanged
    /// atomically and the previous content of `target` is left at `staged` (returns true);
    /// otherwise `staged` is renamed to `target` (returns false).
    /// - Throws: `DataIOError.notWritable` naming `target` and the system's reason.
    @discardableResult
    public static func install(_ staged: URL, at target: URL) throws -> Bool {
        if FileManager.default.fileExists(atPath: target.path) {
            guard shim_rename_exchange(staged.path, target.path) == 0 else {
                throw DataIOError.notWritable(path: target.path, reason: "cannot swap in \(staged.path) (\(String(cString: strerror(errno))))")
            }
            return true
        }
        guard shim_rename_noreplace(staged.path, target.path) == 0 else {
            throw DataIOError.notWritable(path: target.path, reason: "cannot rename \(staged.path) into place (\(String(cString: strerror(errno))))")
        }
        return false
    }

    /// Moves `source` to `target` (which must not exist) with one rename.
    public static func move(_ source: URL, to target: URL) throws {
        try AtomicFile.createFolder(target.deletingLastPathComponent())
        guard shim_rename_noreplace(source.path, target.path) == 0 else {
            throw DataIOError.notWritable(path: target.path, reason: "cannot move \(source.path) there (\(String(cString: strerror(errno))))")
        }
    }

    /// Recreates the tree `source` at `target` with hard links to the same files: a cheap copy
    /// that is safe because every writer in this package replaces files by rename and never
    /// writes into an existing file. A file already at `target` is an error, or, with
    /// `skipExisting`, kept (completing a partial tree).
    public static func hardLinkTree(from source: URL, to target: URL, skipExisting: Bool = false) throws {
        try AtomicFile.createFolder(target)
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: source.path) else {
            throw DataIOError.fileNotFound(path: source.path, hint: nil)
        }
        while let relative = walker.nextObject() as? String {
            let from = source.appendingPathComponent(relative), to = target.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: from.path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try AtomicFile.createFolder(to)
            } else if skipExisting && fm.fileExists(atPath: to.path) {
                continue
            } else if link(from.path, to.path) != 0 {
                throw DataIOError.notWritable(path: to.path, reason: "cannot link \(from.path) (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Removes `url` (file or folder) if it exists; errors are ignored (used for leftovers).
    public static func removeIfPresent(_ url: URL) {
        if FileManager.default.fileExists(atPath: url.path) { try? FileManager.default.removeItem(at: url) }
    }
}

extension AtomicFile {
    /// Removes the temporary files (".NAME.HEX.tmp") that an interrupted writer left in `folder`
    /// (and its sub-folders when `recursive`). Call it only while no writer of this package can be
    /// using the folder (e.g. under the folder's lock). Returns how many were removed.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL, recursive: Bool = false) -> Int {
        let fm = FileManager.default
        let names: [String]
        if recursive {
            names = (fm.enumerator(atPath: folder.path)?.allObjects as? [String]) ?? []
        } else {
            names = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
        }
        var removed = 0
        for relative in names {
            let name = (relative as NSString).lastPathComponent
            guard name.hasPrefix("."), name.hasSuffix(".tmp") else { continue }
            if (try? fm.removeItem(at: folder.appendingPathComponent(relative))) != nil { removed += 1 }
        }
        return removed
    }
}

/// An exclusive lock on a file (flock), held until the object is released or the process ends
/// (the kernel drops it on kill -9 too). The lock file holds a line naming its holder, so a
/// second process can say who has it.
public final class FileLock {
    private let fd: Int32
    public let url: URL

    /// Takes the lock or throws at once.
    /// - Parameter holder: a line describing this process (pid, command, start time).
    /// - Throws: `FileLockError.busy` naming the file and the current holder.
    public init(_ url: URL, holder: String) throws {
        self.url = url
        try AtomicFile.createFolder(url.deletingLastPathComponent())
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DataIOError.notWritable(path: url.path, reason: "cannot open the lock file (\(String(cString: strerror(errno))))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let text = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw FileLockError.busy(path: url.path, holder: text.isEmpty ? "another process" : text)
        }
        _ = ftruncate(fd, 0)
        let line = holder + "\n"
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        close(fd)
    }
}

/// The lock is held by another process.
public enum FileLockError: Error, CustomStringConvertible {
    case busy(path: String, holder: String)
    public var description: String {
        switch self {
        case .busy(let path, let holder): return "\(path) is locked by \(holder); wait for it to finish or stop it"
        }
    }
}

/// The data files a process read (path, SHA-256, size), in the order first read; results record
/// them so a reader can tell which data produced which numbers.
public final class DataFileLog: @unchecked Sendable {
    /// One data file.
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var bytes: Int
    }

    /// The process-wide log.
    public static let shared = DataFileLog()
    private let lock = NSLock()
    private var recorded: [Entry] = []

    /// Records `path` (once; later calls for the same path are ignored).
    public func record(path: String) throws {
        lock.lock()
        let known = recorded.contains { $0.path == path }
        lock.unlock()
        if known { return }
        let url = URL(fileURLWithPath: path)
        let digest = try Digest.sha256(file: url)
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        lock.lock()
        if !recorded.contains(where: { $0.path == path }) { recorded.append(Entry(path: path, sha256: digest, bytes: bytes)) }
        lock.unlock()
    }

    /// Forgets what was recorded (a run starts its own record).
    public func reset() {
        lock.lock()
        recorded = []
        lock.unlock()
    }

    /// Everything recorded so far.
    public var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
