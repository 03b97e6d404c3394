// Whole-file gzip reading and writing through zlib's gz* API (gzopen/gzread/gzwrite), used for
// the data sets' source files (.gz) and by tests to make small synthetic sources. Reading a
// file that is not gzip-compressed returns its bytes unchanged (zlib's transparent mode).
import CZlib
import Foundation

/// Reads and writes gzip-compressed files.
public enum GzipFile {
    /// The decompressed contents of the gzip file at `url`.
    /// - Throws: `.fileNotFound` (with `hint`, e.g. which package provides the file), or
    ///   `.library` with zlib's message for a corrupt or truncated file.
    public static func read(_ url: URL, hint: String? = nil) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.fileNotFound(path: url.path, hint: hint)
        }
        guard let file = gzopen(url.path, "rb") else {
            throw DataIOError.library(name: "zlib", path: url.path, object: nil, operation: "opening the file", detail: String(cString: strerror(errno)))
        }
        defer { gzclose(file) }
        _ = gzbuffer(file, 1 << 17)
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunk)) }
            if n < 0 {
                throw DataIOError.library(name: "zlib", path: url.path, object: nil, operation: "decompressing", detail: errorMessage(file))
            }
            if n == 0 { break }
            output.append(buffer, count: Int(n))
        }
        // gzread returns 0 both at a clean end and for a stream cut short; zlib flags the latter.
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw DataIOError.library(name: "zlib", path: url.path, object: nil, operation: "decompressing", detail: errorMessage(file))
        }
        return output
    }

    /// Writes `data` gzip-compressed (level 6) to `url`, atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try AtomicFile.replace(url) { temporary in
            guard let file = gzopen(temporary.path, "wb6") else {
                throw DataIOError.notWritable(path: url.path, reason: String(cString: strerror(errno)))
            }
            var offset = 0
            var failure: String?
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                while offset < raw.count {
                    let n = min(raw.count - offset, 1 << 20)
                    let written = gzwrite(file, raw.baseAddress! + offset, UInt32(n))
                    if written <= 0 {
                        failure = errorMessage(file)
                        return
                    }
                    offset += Int(written)
                }
            }
            let closeStatus = gzclose(file)
            if let failure {
                throw DataIOError.library(name: "zlib", path: url.path, object: nil, operation: "compressing", detail: failure)
            }
            guard closeStatus == Z_OK else {
                throw DataIOError.library(name: "zlib", path: url.path, object: nil, operation: "finishing the gzip file", detail: "gzclose returned \(closeStatus)")
            }
        }
    }

    private static func errorMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let text = gzerror(file, &code) else { return "zlib error \(code)" }
        let message = String(cString: text)
        return code == Z_ERRNO ? "\(message) (\(String(cString: strerror(errno))))" : message
    }
}
