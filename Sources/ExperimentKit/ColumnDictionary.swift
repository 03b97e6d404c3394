// The column dictionary of a results folder (issue 19): every row type says, for each of its
// columns, the unit and what the value is; every experiment lists its CSV files with their row
// types and one-line purposes; and every complete results folder gets COLUMNS.md, one section per
// CSV file (purpose, then column | unit | meaning), written into the staging folder after render
// and committed with it (normal runs, --merge-only and --render-only alike).
//
//     struct ArmRow: DocumentedRow {
//         var seed: Int
//         var beta: Double
//         static let columns: [ColumnDoc] = [
//             .init("seed", "count", "seed index k (the run's base seed + k)"),
//             .init("beta", "1", "GND shape β of the noise"),
//         ]
//     }
//     static let csvFiles = [CSVFileDoc("arms.csv", ArmRow.self, "one row per seed and arm")]
//
// The docs cannot drift from the data: `writeRows` refuses a row whose encoded columns are not
// exactly the documented ones, in order, and the dictionary is only written when every CSV of
// the folder is listed and its header is exactly its row type's documented columns.
import DataIO
import Foundation

/// One column of a CSV file: its header name, unit and meaning.
public struct ColumnDoc: Sendable, Equatable {
    /// The header name (the row type's coding key).
    public var column: String
    /// The unit: "1" for dimensionless numbers, "count", "fraction", "σ units", "seconds", "nats",
    /// "pixels in [0,1]"; "index" for a position (seed k, level i, chain), "label" for a class,
    /// "text" for names.
    public var unit: String
    /// What the value is, how it is computed, and what an empty cell means.
    public var meaning: String
    public init(_ column: String, _ unit: String, _ meaning: String) {
        self.column = column
        self.unit = unit
        self.meaning = meaning
    }
}

/// A typed CSV row (CSVRows.swift) that documents its columns: one entry per stored property,
/// in declaration order, named as the header names them.
public protocol DocumentedRow: Codable {
    static var columns: [ColumnDoc] { get }
}

extension DocumentedRow {
    /// The documented header.
    public static var header: [String] { columns.map(\.column) }
}

/// One CSV file of an experiment's results folder: its name, purpose and row type's columns.
public struct CSVFileDoc: Sendable {
    public var name: String
    /// One line: what a row is and what the file is for.
    public var purpose: String
    public var columns: [ColumnDoc]
    public init<R: DocumentedRow>(_ name: String, _ row: R.Type, _ purpose: String) {
        self.name = name
        self.purpose = purpose
        self.columns = R.columns
    }
}

/// A results folder whose CSV files and column dictionary disagree.
public struct ColumnDictionaryError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

extension RunDirectory {
    /// The name of the column dictionary in a results folder.
    public static let columnDictionaryName = "COLUMNS.md"

    /// Writes `rows` to `name` (see `writeRows(_:to:header:)`), after checking that the row type's
    /// encoded columns are exactly its documented ones; an empty file gets the documented header.
    /// - Throws: `CSVRowError` naming the first column that differs.
    public func writeRows<R: DocumentedRow>(_ rows: [R], to name: String) throws {
        if let first = rows.first {
            let encoded = try RowEncoder.columns(of: first, path: file(name).path)
            try Self.checkColumns(encoded: encoded, documented: R.header, path: file(name).path, type: "\(R.self)")
        }
        try writeRows(rows, to: name, header: R.header)
    }

    /// Throws unless `encoded` (a row's columns) equals `documented` (its type's docs).
    public static func checkColumns(encoded: [String], documented: [String], path: String, type: String) throws {
        guard encoded != documented else { return }
        let column = zip(encoded, documented).first { $0 != $1 }.map { "\($0.0)' / '\($0.1)" }
            ?? (encoded.count > documented.count ? encoded[documented.count] : documented[encoded.count])
        throw CSVRowError(path: path, line: nil, column: column,
                          problem: "\(type)'s documented columns \(documented) are not its encoded columns \(encoded)")
    }

    /// Writes COLUMNS.md for the CSV files now in the folder (recursively, units/ excluded), in the
    /// order of `files`.
    /// - Throws: `ColumnDictionaryError` when a CSV file is not in `files`, or its header is not
    ///   exactly the documented columns.
    public func writeColumnDictionary(_ files: [CSVFileDoc]) throws {
        let present = Set(csvFileNames())
        let documented = Set(files.map(\.name))
        if let missing = present.subtracting(documented).sorted().first {
            throw ColumnDictionaryError(path: file(missing).path, problem: "not in \(experimentID)'s csvFiles, so COLUMNS.md cannot describe it")
        }
        var text = "# Columns of \(experimentID)\n\n"
        text += "Every CSV file of this folder, its columns in header order, their units and meanings. "
        text += "An empty cell is a missing value; where a column writes nan or −1 instead, its meaning says so. Numbers are in Swift's shortest round-trip form (\"nan\", \"inf\").\n"
        for doc in files where present.contains(doc.name) {
            let header = try csvHeader(doc.name)
            guard header == doc.columns.map(\.column) else {
                throw ColumnDictionaryError(path: file(doc.name).path,
                                            problem: "header \(header) is not the documented columns \(doc.columns.map(\.column))")
            }
            text += "\n## \(doc.name)\n\n\(doc.purpose)\n\n| column | unit | meaning |\n|---|---|---|\n"
            for c in doc.columns {
                text += "| `\(c.column)` | \(Self.cell(c.unit)) | \(Self.cell(c.meaning)) |\n"
            }
        }
        try writeText(text, to: Self.columnDictionaryName)
    }

    /// The CSV files of the folder, relative paths, sorted (units/ excluded).
    func csvFileNames() -> [String] {
        let names = (FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String]) ?? []
        return names.filter { $0.hasSuffix(".csv") && !$0.hasPrefix("units/") }.sorted()
    }

    /// The header line of CSV file `name`.
    func csvHeader(_ name: String) throws -> [String] {
        let handle = try FileHandle(forReadingFrom: file(name))
        defer { try? handle.close() }
        var line = Data()
        while let chunk = try handle.read(upToCount: 4096), !chunk.isEmpty {
            if let end = chunk.firstIndex(of: 0x0A) { line.append(chunk[chunk.startIndex..<end]); break }
            line.append(chunk)
        }
        line.append(0x0A)
        let (header, _) = try CSVFile.parse(line, path: file(name).path)
        return header
    }

    /// Text safe inside a Markdown table cell.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

extension RowEncoder {
    /// The columns `row` encodes to, in order.
    static func columns<R: Encodable>(of row: R, path: String) throws -> [String] {
        let encoder = RowEncoder(path: path)
        try row.encode(to: encoder)
        return encoder.storage.fields.map(\.0)
    }
}

extension UnitRows {
    /// `rows` as the cells of one table of a unit result (the JSON of cached units stays the
    /// cell list it always was, so units cached before typed rows are still read).
    public static func cells<R: DocumentedRow>(_ rows: [R]) throws -> [[CSVCell]] {
        try rows.map { row in
            let encoder = RowEncoder(path: "unit rows of \(R.self)")
            try row.encode(to: encoder)
            let keys = encoder.storage.fields.map(\.0)
            try RunDirectory.checkColumns(encoded: keys, documented: R.header, path: "unit rows", type: "\(R.self)")
            return encoder.storage.fields.map(\.1)
        }
    }

    /// Table `i` of this unit result as rows of `type` (cells in the type's documented order).
    public func rows<R: DocumentedRow>(_ i: Int, as type: R.Type) throws -> [R] {
        try Self.rows(tables[i], as: type)
    }

    /// A table of cells (as `cells` makes them) as rows of `type`.
    public static func rows<R: DocumentedRow>(_ table: [[CSVCell]], as type: R.Type) throws -> [R] {
        let header = R.header
        var index: [String: Int] = [:]
        for (k, h) in header.enumerated() { index[h] = k }
        return try table.enumerated().map { r, cells in
            try R(from: RowDecoder(path: "unit rows of \(R.self)", line: r + 1, header: header, index: index, row: cells.map(\.text)))
        }
    }
}

/// A number cell that keeps its kind, for a quantity/value table whose rows mix counts and
/// measurements: an integer prints as "3", a double in its shortest round-trip form ("3.0").
public enum CSVNumber: Codable, Sendable, Equatable {
    case integer(Int)
    case number(Double)
    /// The value as a Double.
    public var value: Double {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { self = .integer(i) } else { self = .number(try c.decode(Double.self)) }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        }
    }
}
