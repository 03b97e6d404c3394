import DataIO
import ExperimentKit
import Foundation
import Testing

/// The column dictionary (issue 19): row types document exactly their encoded columns, and
/// COLUMNS.md describes every CSV of a folder with its real header.
@Suite struct ColumnDictionaryTests {
    struct Good: DocumentedRow, Equatable {
        var seed: Int
        var beta: Double
        var stepsToBand: Int?
        enum CodingKeys: String, CodingKey { case seed, beta, stepsToBand = "steps_to_band" }
        static let columns: [ColumnDoc] = [
            .init("seed", "count", "seed index"), .init("beta", "1", "GND shape"), .init("steps_to_band", "count", "empty: never reached"),
        ]
    }
    /// Documents the property name instead of the coding key.
    struct WrongName: DocumentedRow {
        var stepsToBand: Int
        enum CodingKeys: String, CodingKey { case stepsToBand = "steps_to_band" }
        static let columns: [ColumnDoc] = [.init("stepsToBand", "count", "")]
    }
    /// Leaves a column out.
    struct Missing: DocumentedRow {
        var a: Int, b: Int
        static let columns: [ColumnDoc] = [.init("a", "count", "")]
    }
    /// Lists the columns in another order than the properties.
    struct Reordered: DocumentedRow {
        var a: Int, b: Int
        static let columns: [ColumnDoc] = [.init("b", "count", ""), .init("a", "count", "")]
    }
    /// Documents a column the row does not have.
    struct Extra: DocumentedRow {
        var a: Int
        static let columns: [ColumnDoc] = [.init("a", "count", ""), .init("b", "count", "")]
    }

    struct Quantity: DocumentedRow {
        var quantity: String, value: CSVNumber
        static let columns: [ColumnDoc] = [.init("quantity", "text", ""), .init("value", "1", "")]
    }

    func folder() throws -> (URL, RunDirectory) {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("columns-\(UUID().uuidString)")
        let options = try ExperimentOptions.parse(["--out", tmp.appendingPathComponent("run").path])
        return (tmp, try RunDirectory(experimentID: "columns-test", options: options))
    }

    /// writeRows refuses a row type whose docs are not exactly its encoded columns, in order.
    @Test func writeRowsChecksTheDocsAgainstTheEncodedColumns() throws {
        let (tmp, run) = try folder()
        defer { try? FileManager.default.removeItem(at: tmp) }
        try run.writeRows([Good(seed: 1, beta: 1.5, stepsToBand: nil)], to: "good.csv")
        #expect(try String(contentsOf: run.file("good.csv"), encoding: .utf8) == "seed,beta,steps_to_band\n1,1.5,\n")
        #expect(throws: CSVRowError.self) { try run.writeRows([WrongName(stepsToBand: 3)], to: "w.csv") }
        #expect(throws: CSVRowError.self) { try run.writeRows([Missing(a: 1, b: 2)], to: "m.csv") }
        #expect(throws: CSVRowError.self) { try run.writeRows([Reordered(a: 1, b: 2)], to: "r.csv") }
        #expect(throws: CSVRowError.self) { try run.writeRows([Extra(a: 1)], to: "e.csv") }
        #expect(throws: CSVRowError.self) { try UnitRows.cells([Missing(a: 1, b: 2)]) }
        // No rows: the documented header, so an empty table keeps its columns.
        try run.writeRows([Good](), to: "empty.csv")
        #expect(try String(contentsOf: run.file("empty.csv"), encoding: .utf8) == "seed,beta,steps_to_band\n")
    }

    /// COLUMNS.md: one section per CSV with its purpose and a column | unit | meaning table;
    /// an undocumented CSV or a header that differs from the docs is an error.
    @Test func dictionaryDescribesEveryCSVAndRefusesMismatches() throws {
        let (tmp, run) = try folder()
        defer { try? FileManager.default.removeItem(at: tmp) }
        try run.writeRows([Good(seed: 0, beta: 2, stepsToBand: 7)], to: "good.csv")
        let docs = [CSVFileDoc("good.csv", Good.self, "one row per seed | arm")]
        try run.writeColumnDictionary(docs)
        let text = try String(contentsOf: run.file(RunDirectory.columnDictionaryName), encoding: .utf8)
        #expect(text.hasPrefix("# Columns of columns-test\n"))
        #expect(text.contains("\n## good.csv\n\none row per seed | arm\n\n| column | unit | meaning |\n|---|---|---|\n| `seed` | count | seed index |\n"))
        #expect(text.contains("| `steps_to_band` | count | empty: never reached |\n"))

        try run.writeCSV("stray.csv", header: ["x"], rows: [[.integer(1)]])
        #expect(throws: ColumnDictionaryError.self) { try run.writeColumnDictionary(docs) }
        try FileManager.default.removeItem(at: run.file("stray.csv"))
        try run.writeCSV("good.csv", header: ["seed", "beta"], rows: [[.integer(0), .number(2)]])
        #expect(throws: ColumnDictionaryError.self) { try run.writeColumnDictionary(docs) }
    }

    /// Unit results keep their cell JSON: typed rows to cells and back give the same cells, so a
    /// CSV merged from units is byte-identical to one written from the rows directly.
    @Test func unitCellsRoundTrip() throws {
        let rows = [Good(seed: 3, beta: 0.1 + 0.2, stepsToBand: nil), Good(seed: 4, beta: .nan, stepsToBand: 12)]
        let cells = try UnitRows.cells(rows)
        #expect(cells[0] == [.integer(3), .number(0.1 + 0.2), .text("")])
        let back = try UnitRows.rows(cells, as: Good.self)
        #expect(back[0] == rows[0] && back[1].beta.isNaN && back[1].stepsToBand == 12)
        #expect(try UnitRows.cells(back)[0] == cells[0])
    }

    /// CSVNumber keeps an integer's and a double's text apart in one column.
    @Test func csvNumberKeepsItsKind() throws {
        let (tmp, run) = try folder()
        defer { try? FileManager.default.removeItem(at: tmp) }
        try run.writeRows([Quantity(quantity: "images", value: .integer(3)), Quantity(quantity: "fraction", value: .number(3))], to: "q.csv")
        #expect(try String(contentsOf: run.file("q.csv"), encoding: .utf8) == "quantity,value\nimages,3\nfraction,3.0\n")
        let back = try run.readRows(Quantity.self, from: "q.csv")
        #expect(back.map(\.value) == [.integer(3), .number(3)] && back[1].value.value == 3)
    }
}
