// CSV round trips (quoting, numbers that read back exactly), the ragged-row error naming file
// and line, and JSON written pretty-printed with sorted keys.
import DataIO
import Foundation
import Testing

@Suite struct CSVTests {
    @Test func roundTripWithQuotingAndExactNumbers() throws {
        let folder = TemporaryFolder()
        let url = folder.file("table.csv")
        let header = ["name", "value", "note"]
        let tricky = ["plain", "with,comma", "with \"quotes\"", "two\nlines", "", " spaced ", "cr\r\nlf", "ünïcode"]
        let numbers: [Double] = [0.1, 1e-300, -2.5e17, .pi, 1.0 / 3.0, 0, .infinity]
        var rows: [[any CSVFieldConvertible]] = []
        for (i, text) in tricky.enumerated() { rows.append([text, numbers[i % numbers.count], i]) }
        rows.append(["float", Float(0.1), true])
        try CSVFile.write(header: header, rows: rows, to: url)
        let (readHeader, readRows) = try CSVFile.read(from: url)
        #expect(readHeader == header)
        #expect(readRows.count == rows.count)
        for (i, text) in tricky.enumerated() {
            #expect(readRows[i][0] == text)
            #expect(Double(readRows[i][1]) == numbers[i % numbers.count], "row \(i) must read back exactly")
            #expect(readRows[i][2] == String(i))
        }
        #expect(Float(readRows.last![1]) == Float(0.1))
        #expect(readRows.last![2] == "true")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix("name,value,note\nplain,0.1,0\n\"with,comma\",1e-300,1\n\"with \"\"quotes\"\"\",-2.5e+17,2\n"))
        #expect(folder.contents() == ["table.csv"])
    }

    @Test func stringRowsFromMappedCellsCompile() throws {
        // The shape ExperimentKit uses: rows of cells mapped to text.
        struct Cell { var text: String }
        let cells = [[Cell(text: "1"), Cell(text: "a,b")]]
        let folder = TemporaryFolder()
        try CSVFile.write(header: ["x", "y"], rows: cells.map { $0.map(\.text) }, to: folder.file("m.csv"))
        #expect(try CSVFile.read(from: folder.file("m.csv")).rows == [["1", "a,b"]])
    }

    @Test func crlfAndMissingFinalNewline() throws {
        let parsed = try CSVFile.parse(Data("a,b\r\n1,\"x\"\"y\"\r\n2,3".utf8), path: "mem.csv")
        #expect(parsed.header == ["a", "b"])
        #expect(parsed.rows == [["1", "x\"y"], ["2", "3"]])
    }

    @Test func raggedRowNamesFileAndLine() throws {
        let folder = TemporaryFolder()
        let url = folder.file("ragged.csv")
        // The quoted field spans lines 3–4, so the short row is on line 5.
        try AtomicFile.write("a,b,c\n1,2,3\n\"multi\nline\",5,6\n7,8\n", to: url)
        expectMessage(containing: [url.path, "line 5", "expected 3 fields (as in the header)", "found 2 fields"]) {
            _ = try CSVFile.read(from: url)
        }
        expectMessage(containing: [folder.file("w.csv").path, "row 2 (line 3)", "expected 2 fields"]) {
            try CSVFile.write(header: ["a", "b"], rows: [["1", "2"], ["3"]], to: folder.file("w.csv"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("w.csv").path))
    }

    @Test func malformedQuotingAndEmptyFiles() throws {
        expectMessage(containing: ["q.csv", "line 2", "closing quote", "end of file"]) {
            _ = try CSVFile.parse(Data("a\n\"never closed\n".utf8), path: "q.csv")
        }
        expectMessage(containing: ["q.csv", "line 2", "comma or line end after a closing quote", "'x'"]) {
            _ = try CSVFile.parse(Data("a,b\n\"q\"x,1\n".utf8), path: "q.csv")
        }
        expectMessage(containing: ["e.csv", "a header row", "an empty file"]) {
            _ = try CSVFile.parse(Data(), path: "e.csv")
        }
        let folder = TemporaryFolder()
        expectMessage(containing: [folder.file("none.csv").path, "file not found"]) {
            _ = try CSVFile.read(from: folder.file("none.csv"))
        }
    }
}

@Suite struct JSONFileTests {
    struct Config: Codable, Equatable {
        var zeta: Int
        var alpha: String
        var ratio: Double
        var path: String
    }

    @Test func prettySortedAtomicAndNonFinite() throws {
        let folder = TemporaryFolder()
        let url = folder.file("config.json")
        let value = Config(zeta: 1, alpha: "a", ratio: .nan, path: "data/x.h5")
        try JSONFile.write(value, to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == "{\n  \"alpha\" : \"a\",\n  \"path\" : \"data/x.h5\",\n  \"ratio\" : \"NaN\",\n  \"zeta\" : 1\n}\n")
        let back = try JSONFile.read(Config.self, from: url)
        #expect(back.zeta == 1 && back.alpha == "a" && back.ratio.isNaN && back.path == "data/x.h5")
        #expect(folder.contents() == ["config.json"])

        try AtomicFile.write("{\"zeta\": \"one\"}", to: url)
        expectMessage(containing: [url.path, "JSON content", "expected a Config", "zeta"]) {
            _ = try JSONFile.read(Config.self, from: url)
        }
    }
}
