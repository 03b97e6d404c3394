// CSV files (RFC 4180 dialect): one header row, then data rows, comma-separated, "\n" line
// ends (CRLF accepted on reading). Fields containing a comma, a double quote, CR or LF are
// quoted with embedded quotes doubled. Numbers are written in Swift's shortest round-trip form
// (`description`), so reading a value back with `Double(_:)` gives exactly the value written.
// Files are written atomically. The reader insists every row has as many fields as the header
// and reports the file and line of the first that does not.
import Foundation

/// A value that can be written as one CSV field.
public protocol CSVFieldConvertible {
    /// The field's text, before quoting.
    var csvField: String { get }
}

extension String: CSVFieldConvertible {
    /// The string itself.
    public var csvField: String { self }
}
extension Substring: CSVFieldConvertible {
    /// The substring as a string.
    public var csvField: String { String(self) }
}
extension Double: CSVFieldConvertible {
    /// Shortest text that reads back as exactly this value ("0.1", "1e-08", "nan", "inf").
    public var csvField: String { description }
}
extension Float: CSVFieldConvertible {
    /// Shortest text that reads back (as Float) as exactly this value.
    public var csvField: String { description }
}
extension Int: CSVFieldConvertible {
    /// Decimal digits.
    public var csvField: String { String(self) }
}
extension Int32: CSVFieldConvertible {
    /// Decimal digits.
    public var csvField: String { String(self) }
}
extension Int64: CSVFieldConvertible {
    /// Decimal digits.
    public var csvField: String { String(self) }
}
extension UInt8: CSVFieldConvertible {
    /// Decimal digits.
    public var csvField: String { String(self) }
}
extension Bool: CSVFieldConvertible {
    /// "true" or "false".
    public var csvField: String { self ? "true" : "false" }
}

/// Reading and writing CSV files with a header row.
public enum CSVFile {
    /// Writes `header` and `rows` to `url` atomically.
    /// - Throws: `.format` if a row's length differs from the header's; `.notWritable`.
    public static func write(header: [String], rows: [[any CSVFieldConvertible]], to url: URL) throws {
        if let bad = rows.firstIndex(where: { $0.count != header.count }) {
            throw DataIOError.format(
                path: url.path, object: "row \(bad + 1) (line \(bad + 2))",
                expected: "\(header.count) fields (as in the header)", found: "\(rows[bad].count)")
        }
        try AtomicFile.write(encode(header: header, rows: rows), to: url)
    }

    /// The CSV text for `header` and `rows` (each line ends in "\n").
    public static func encode(header: [String], rows: [[any CSVFieldConvertible]]) -> String {
        var text = line(header)
        for row in rows { text += line(row.map(\.csvField)) }
        return text
    }

    /// One CSV line for `fields`, quoted where needed, ending in "\n".
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\n"
    }

    /// `field`, quoted (with doubled inner quotes) if it contains a comma, quote, CR or LF.
    public static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Reads a CSV file: its header and its rows (all as text).
    /// - Throws: `.fileNotFound`; `.format` naming the file and line for an empty file,
    ///   malformed quoting, or a row whose length differs from the header's.
    public static func read(from url: URL) throws -> (header: [String], rows: [[String]]) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) { throw DataIOError.fileNotFound(path: url.path, hint: nil) }
            throw DataIOError.library(name: "Foundation", path: url.path, object: nil, operation: "reading the file", detail: error.localizedDescription)
        }
        return try parse(data, path: url.path)
    }

    /// Parses CSV bytes with a header row; `path` is used in error messages.
    public static func parse(_ data: Data, path: String) throws -> (header: [String], rows: [[String]]) {
        let records = try parseRecords(data, path: path)
        guard let header = records.first else {
            throw DataIOError.format(path: path, object: "line 1", expected: "a header row", found: "an empty file")
        }
        for record in records.dropFirst() where record.fields.count != header.fields.count {
            throw DataIOError.format(
                path: path, object: "line \(record.line)",
                expected: "\(header.fields.count) fields (as in the header)", found: "\(record.fields.count) fields")
        }
        return (header.fields, records.dropFirst().map(\.fields))
    }

    /// One parsed record and the line it starts on (1-based).
    public struct Record: Equatable, Sendable {
        /// The record's fields, unquoted.
        public var fields: [String]
        /// The line the record starts on, counting from 1.
        public var line: Int
    }

    /// Parses CSV bytes into records without assuming a header or equal lengths. A final line
    /// end does not start a new record.
    /// - Throws: `.format` for an unterminated quoted field or text after a closing quote.
    public static func parseRecords(_ data: Data, path: String) throws -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var i = data.startIndex
        let end = data.endIndex
        var atFieldStart = true
        var recordHasContent = false

        func finishField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func finishRecord() {
            finishField()
            records.append(Record(fields: fields, line: recordLine))
            fields.removeAll()
        }

        while i < end {
            let byte = data[i]
            if atFieldStart && byte == quote {
                // Quoted field: runs to the next quote not followed by another quote.
                let startLine = line
                i += 1
                var closed = false
                while i < end {
                    let b = data[i]
                    if b == quote {
                        if i + 1 < end && data[i + 1] == quote {
                            field.append(quote)
                            i += 2
                            continue
                        }
                        closed = true
                        i += 1
                        break
                    }
                    if b == lf { line += 1 }
                    field.append(b)
                    i += 1
                }
                guard closed else {
                    throw DataIOError.format(path: path, object: "line \(startLine)", expected: "a closing quote for the quoted field", found: "end of file")
                }
                if i < end && data[i] != comma && data[i] != lf && data[i] != cr {
                    throw DataIOError.format(
                        path: path, object: "line \(line)", expected: "a comma or line end after a closing quote",
                        found: "'\(String(decoding: [data[i]], as: UTF8.self))'")
                }
                atFieldStart = false
                recordHasContent = true
                continue
            }
            switch byte {
            case comma:
                finishField()
                atFieldStart = true
                recordHasContent = true
                i += 1
            case cr where i + 1 < end && data[i + 1] == lf:
                i += 1  // handled as LF next
            case lf, cr:
                finishRecord()
                line += 1
                recordLine = line
                atFieldStart = true
                recordHasContent = false
                i += 1
            default:
                field.append(byte)
                atFieldStart = false
                recordHasContent = true
                i += 1
            }
        }
        if recordHasContent || !fields.isEmpty { finishRecord() }
        return records
    }
}

/// Writing values as JSON files.
public enum JSONFile {
    /// Encodes `value` as pretty-printed JSON with sorted keys (non-finite numbers as the strings
    /// "NaN", "Infinity", "-Infinity") and writes it, with a final newline, atomically.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let data: Data
        do {
            data = try encoder().encode(value)
        } catch {
            throw DataIOError.format(path: url.path, object: "JSON value \(T.self)", expected: "an encodable value", found: "\(error)")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: url)
    }

    /// Reads a JSON file written by `write(_:to:)` (or any JSON of the right form).
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.fileNotFound(path: url.path, hint: nil)
        }
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw DataIOError.format(path: url.path, object: "JSON content", expected: "a \(T.self)", found: describe(error))
        }
    }

    /// The encoder `write` uses: pretty-printed, sorted keys, no escaped slashes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return (path.isEmpty ? "" : "at \(path): ") + context.debugDescription
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): return at(c)
        @unknown default: return "\(error)"
        }
    }
}
