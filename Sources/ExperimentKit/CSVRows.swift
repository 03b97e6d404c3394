// Typed CSV rows (issue 12): a Codable struct is a row, its stored properties in declaration order
// are the columns, and the header comes from the property names, so a writer and its renderer
// cannot disagree on a column name or order, and a renderer reads whole rows instead of parallel
// column arrays.
//
//     struct Row: Codable { var seed: Int; var beta: Double; var arm: String; var low: Double? }
//     try run.writeRows(rows, to: "balance.csv")
//     let back = try run.readRows(Row.self, from: "balance.csv")
//
// Supported field types: Int (and the fixed-width integers), Double, Float, String, Bool
// ("true"/"false") and Optionals of them (nil is an empty cell; a missing value is never a
// sentinel number). Doubles use CSVCell's text (shortest round-trip form, "nan"/"inf"). Nested
// containers are refused with an error naming the field.
import DataIO
import Foundation

/// An error of a typed CSV row: the file, the line (when reading), the column and what was wrong.
public struct CSVRowError: Error, CustomStringConvertible {
    public let path: String
    public let line: Int?
    public let column: String
    public let problem: String
    public var description: String {
        "\(path)\(line.map { ", line \($0)" } ?? ""): column '\(column)': \(problem)"
    }
}

extension RunDirectory {
    /// Writes `rows` to `name` as CSV (atomically), the header from the row type's property names.
    /// - Throws: `CSVRowError` for an unsupported field type or rows with different columns.
    public func writeRows<R: Encodable>(_ rows: [R], to name: String, header explicitHeader: [String]? = nil) throws {
        let path = file(name).path
        var header = explicitHeader
        var cells: [[CSVCell]] = []
        for row in rows {
            let encoder = RowEncoder(path: path)
            try row.encode(to: encoder)
            let keys = encoder.storage.fields.map(\.0)
            if header == nil { header = keys }
            guard keys == header else {
                throw CSVRowError(path: path, line: nil, column: keys.first { !(header ?? []).contains($0) } ?? "?",
                                  problem: "rows have different columns (\(keys) against \(header ?? []))")
            }
            cells.append(encoder.storage.fields.map(\.1))
        }
        try writeCSV(name, header: header ?? [], rows: cells)
    }

    /// Reads `name` back as rows of `type`, matching columns by property name (column order and
    /// extra columns do not matter).
    /// - Throws: `CSVColumnError`/`CSVRowError` naming the file, line and column when a column is
    ///   missing or a value does not parse as its field's type.
    public func readRows<R: Decodable>(_ type: R.Type, from name: String) throws -> [R] {
        let table = try readCSV(name)
        var index: [String: Int] = [:]
        for (i, h) in table.header.enumerated() where index[h] == nil { index[h] = i }
        return try table.rows.enumerated().map { r, row in
            try R(from: RowDecoder(path: table.path, line: r + 2, header: table.header, index: index, row: row))
        }
    }
}

// MARK: - Encoder

final class RowStorage {
    var fields: [(String, CSVCell)] = []
}

struct RowEncoder: Encoder {
    let path: String
    let storage = RowStorage()
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(path: String) { self.path = path }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowKeyedEncoder<Key>(path: path, storage: storage))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer { UnsupportedEncoder(path: path, what: "a list") }
    func singleValueContainer() -> SingleValueEncodingContainer { UnsupportedEncoder(path: path, what: "a single value") }
}

struct RowKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let path: String
    let storage: RowStorage
    var codingPath: [CodingKey] = []

    func put(_ cell: CSVCell, _ key: Key) { storage.fields.append((key.stringValue, cell)) }
    mutating func encodeNil(forKey key: Key) throws { put(.text(""), key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.text(value ? "true" : "false"), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.text(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.number(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.number(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.text("\(value)"), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.text("\(value)"), key) }
    // nil is an empty cell (the default would leave the column out of the row).
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        // RawRepresentable enums and other single values encode through a single-value container.
        let single = SingleCellEncoder(path: path)
        try value.encode(to: single)
        guard let cell = single.box.cell else {
            throw CSVRowError(path: path, line: nil, column: key.stringValue, problem: "a \(T.self) is not a single CSV value")
        }
        put(cell, key)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RowKeyedEncoder<NestedKey>(path: path, storage: RowStorage()))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer { UnsupportedEncoder(path: path, what: "a list in \(key.stringValue)") }
    mutating func superEncoder() -> Encoder { RowEncoder(path: path) }
    mutating func superEncoder(forKey key: Key) -> Encoder { RowEncoder(path: path) }
}

final class CellBox { var cell: CSVCell? }

/// Encodes one value (e.g. a raw-value enum) into one cell.
struct SingleCellEncoder: Encoder, SingleValueEncodingContainer {
    let path: String
    let box = CellBox()
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    init(path: String) { self.path = path }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowKeyedEncoder<Key>(path: path, storage: RowStorage()))
    }
    func unkeyedContainer() -> UnkeyedEncodingContainer { UnsupportedEncoder(path: path, what: "a list") }
    func singleValueContainer() -> SingleValueEncodingContainer { self }
    mutating func encodeNil() throws { box.cell = .text("") }
    mutating func encode(_ value: Bool) throws { box.cell = .text(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { box.cell = .text(value) }
    mutating func encode(_ value: Double) throws { box.cell = .number(value) }
    mutating func encode(_ value: Float) throws { box.cell = .number(Double(value)) }
    mutating func encode(_ value: Int) throws { box.cell = .integer(value) }
    mutating func encode(_ value: Int8) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int16) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int32) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: Int64) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt) throws { box.cell = .text("\(value)") }
    mutating func encode(_ value: UInt8) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt16) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt32) throws { box.cell = .integer(Int(value)) }
    mutating func encode(_ value: UInt64) throws { box.cell = .text("\(value)") }
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
}

/// A container that records nothing; the row encoder reports the field as unsupported because
/// no cell was produced for it.
struct UnsupportedEncoder: UnkeyedEncodingContainer, SingleValueEncodingContainer {
    let path: String
    let what: String
    var codingPath: [CodingKey] = []
    var count = 0
    mutating func encodeNil() throws { throw CSVRowError(path: path, line: nil, column: "?", problem: "\(what) cannot be a CSV cell") }
    mutating func encode<T: Encodable>(_ value: T) throws { throw CSVRowError(path: path, line: nil, column: "?", problem: "\(what) cannot be a CSV cell") }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(RowKeyedEncoder<NestedKey>(path: path, storage: RowStorage()))
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { self }
    mutating func superEncoder() -> Encoder { RowEncoder(path: path) }
}

// MARK: - Decoder

struct RowDecoder: Decoder {
    let path: String
    let line: Int
    let header: [String]
    let index: [String: Int]
    let row: [String]
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowKeyedDecoder<Key>(decoder: self))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw CSVRowError(path: path, line: line, column: "?", problem: "a row decodes into a struct, not a list")
    }
    func singleValueContainer() throws -> SingleValueDecodingContainer {
        throw CSVRowError(path: path, line: line, column: "?", problem: "a row decodes into a struct, not a single value")
    }
}

struct RowKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RowDecoder
    var codingPath: [CodingKey] { [] }
    var allKeys: [Key] { decoder.header.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { decoder.index[key.stringValue] != nil }

    func text(_ key: Key) throws -> String {
        guard let i = decoder.index[key.stringValue] else {
            throw CSVColumnError(path: decoder.path, column: key.stringValue, available: decoder.header)
        }
        guard i < decoder.row.count else {
            throw CSVRowError(path: decoder.path, line: decoder.line, column: key.stringValue, problem: "the row has only \(decoder.row.count) cells")
        }
        return decoder.row[i]
    }
    func bad(_ key: Key, _ value: String, _ type: String) -> CSVRowError {
        CSVRowError(path: decoder.path, line: decoder.line, column: key.stringValue, problem: "expected \(type), found '\(value)'")
    }
    func decodeNil(forKey key: Key) throws -> Bool { try text(key).isEmpty }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let v = try text(key)
        switch v { case "true", "1": return true; case "false", "0": return false; default: throw bad(key, v, "true or false") }
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try text(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        let v = try text(key)
        guard let d = Double(v) else { throw bad(key, v, "a number") }
        return d
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decode(Double.self, forKey: key)) }
    func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        let v = try text(key)
        guard let i = T(v) else { throw bad(key, v, "an integer (\(T.self))") }
        return i
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let v = try text(key)
        do {
            return try T(from: CellDecoder(value: v))
        } catch {
            throw bad(key, v, "a value of \(T.self)")
        }
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw CSVRowError(path: decoder.path, line: decoder.line, column: key.stringValue, problem: "nested values cannot be read from a CSV cell")
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        throw CSVRowError(path: decoder.path, line: decoder.line, column: key.stringValue, problem: "lists cannot be read from a CSV cell")
    }
    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder }
}

/// Decodes one cell's text as a single value (raw-value enums, wrappers).
struct CellDecoder: Decoder, SingleValueDecodingContainer {
    let value: String
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    struct Mismatch: Error {}
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw Mismatch() }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer { throw Mismatch() }
    func singleValueContainer() throws -> SingleValueDecodingContainer { self }
    func decodeNil() -> Bool { value.isEmpty }
    func decode(_ type: Bool.Type) throws -> Bool {
        switch value { case "true", "1": return true; case "false", "0": return false; default: throw Mismatch() }
    }
    func decode(_ type: String.Type) throws -> String { value }
    func decode(_ type: Double.Type) throws -> Double { guard let d = Double(value) else { throw Mismatch() }; return d }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func int<T: FixedWidthInteger>() throws -> T { guard let i = T(value) else { throw Mismatch() }; return i }
    func decode(_ type: Int.Type) throws -> Int { try int() }
    func decode(_ type: Int8.Type) throws -> Int8 { try int() }
    func decode(_ type: Int16.Type) throws -> Int16 { try int() }
    func decode(_ type: Int32.Type) throws -> Int32 { try int() }
    func decode(_ type: Int64.Type) throws -> Int64 { try int() }
    func decode(_ type: UInt.Type) throws -> UInt { try int() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try int() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try int() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try int() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try int() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
}
