// The one error type of DataIO. Every reader and writer in this module reports failures through
// it, so that callers (and the people reading their logs) always get the same four facts: which
// file, which object inside it (dataset, attribute, line, field), what was expected and what
// was found — or, for library failures, which operation failed and what the library said.
import Foundation

/// A failure reading or writing a data file. The message always names the file.
public enum DataIOError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The file does not exist. `hint` says how to make it (e.g. which package to install).
    case fileNotFound(path: String, hint: String?)
    /// The file (or the folder it belongs in) cannot be written.
    case notWritable(path: String, reason: String)
    /// An object inside the file (dataset, group, attribute, field) is missing.
    /// `context` lists what is there instead, when known.
    case missing(path: String, object: String, context: String?)
    /// The file's content does not have the expected form.
    case format(path: String, object: String, expected: String, found: String)
    /// A call into a C library (HDF5, libpng, zlib) failed; `detail` is the library's own message.
    case library(name: String, path: String, object: String?, operation: String, detail: String?)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .fileNotFound(let p, _), .notWritable(let p, _), .missing(let p, _, _),
            .format(let p, _, _, _), .library(_, let p, _, _, _):
            return p
        }
    }

    /// A one-line message of the form "FILE: OBJECT: what went wrong".
    public var description: String {
        switch self {
        case .fileNotFound(let path, let hint):
            return "\(path): file not found" + (hint.map { "; \($0)" } ?? "")
        case .notWritable(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .missing(let path, let object, let context):
            return "\(path): \(object) not found" + (context.map { " (\($0))" } ?? "")
        case .format(let path, let object, let expected, let found):
            return "\(path): \(object): expected \(expected), found \(found)"
        case .library(let name, let path, let object, let operation, let detail):
            let where_ = object.map { "\($0): " } ?? ""
            return "\(path): \(where_)\(operation) failed" + (detail.map { " (\(name): \($0))" } ?? " (\(name))")
        }
    }

    /// Same as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
