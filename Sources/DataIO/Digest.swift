// SHA-256 digests through OpenSSL's libcrypto (EVP interface): data files are identified by
// their digest in every config.json, and a committed results folder lists the digest of every
// file it holds, so a file changed after the run is detected before anything is drawn from it.
import COpenSSL
import Foundation

/// SHA-256 digests as 64 lower-case hex digits.
public enum Digest {
    /// The digest of `data`.
    public static func sha256(_ data: Data) -> String {
        data.withUnsafeBytes { buffer in
            digest { ctx in _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count) }
        }
    }

    /// The digest of `text` as UTF-8.
    public static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    /// The digest of the file at `url`, read in 1 MiB chunks.
    /// - Throws: `DataIOError.fileNotFound` or `.library` naming the file.
    public static func sha256(file url: URL) throws -> String {
        guard FileManager.default.fileExists(atPath: url.path) else { throw DataIOError.fileNotFound(path: url.path, hint: nil) }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw DataIOError.library(name: "Foundation", path: url.path, object: nil, operation: "open for reading", detail: nil)
        }
        defer { try? handle.close() }
        var failure: Error?
        let hex = digest { ctx in
            while true {
                let chunk: Data
                do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { failure = error; return }
                if chunk.isEmpty { return }
                chunk.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            }
        }
        if let failure { throw DataIOError.library(name: "Foundation", path: url.path, object: nil, operation: "read", detail: failure.localizedDescription) }
        return hex
    }

    private static func digest(_ feed: (OpaquePointer?) -> Void) -> String {
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        precondition(EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1, "libcrypto: SHA-256 unavailable")
        feed(ctx)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ctx, &out, &length) == 1, "libcrypto: SHA-256 failed")
        return out.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
