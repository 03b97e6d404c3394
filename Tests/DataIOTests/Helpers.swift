// Helpers for the DataIO tests: a private temporary folder per test, and a way to capture the
// message of an expected error so tests can assert that it names the file and the object.
import DataIO
import Foundation
import Testing

/// A fresh folder under the system temporary directory, removed when the value is released.
final class TemporaryFolder {
    let url: URL

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("DataIOTests-\(safe)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The URL of `name` inside the folder.
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The names of everything in the folder (including dot files), sorted.
    func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }
}

/// Runs `body`, which must throw a `DataIOError`, and returns it (nil, with a recorded issue,
/// if it does not throw or throws something else).
func dataIOError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DataIOError? {
    do {
        try body()
        Issue.record("expected a DataIOError, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as DataIOError {
        return error
    } catch {
        Issue.record("expected a DataIOError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Asserts that `body` throws a DataIOError whose message contains every string in `parts`;
/// returns the message.
@discardableResult
func expectMessage(containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    guard let error = dataIOError(body, sourceLocation: sourceLocation) else { return "" }
    let message = error.description
    for part in parts {
        #expect(message.contains(part), "message \"\(message)\" should contain \"\(part)\"", sourceLocation: sourceLocation)
    }
    #expect(error.localizedDescription == message, sourceLocation: sourceLocation)
    return message
}
