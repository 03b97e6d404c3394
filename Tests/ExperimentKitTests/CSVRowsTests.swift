import DataIO
import ExperimentKit
import Foundation
import Testing

@Suite struct CSVRowsTests {
    enum Arm: String, Codable { case gaussian, laplace }
    struct Row: Codable, Equatable {
        var seed: Int
        var beta: Double
        var arm: Arm
        var label: String
        var converged: Bool
        var stepsToBand: Int?
        var low: Double?
    }

    /// A run folder in a fresh temporary directory (removed by the caller's `defer`).
    func folder() throws -> (URL, RunDirectory) {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("csv-rows-\(UUID().uuidString)")
        let options = try ExperimentOptions.parse(["--out", tmp.appendingPathComponent("run").path])
        return (tmp, try RunDirectory(experimentID: "csv-rows-test", options: options))
    }

    /// Rows round-trip exactly (including nil as an empty cell, nan and a raw-value enum), and the
    /// header is the property names in declaration order.
    @Test func rowsRoundTripWithHeaderFromPropertyNames() throws {
        let (tmp, run) = try folder()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let rows = [
            Row(seed: 0, beta: 1.25, arm: .laplace, label: "a, \"quoted\"", converged: true, stepsToBand: 17, low: -0.5),
            Row(seed: 1, beta: 2, arm: .gaussian, label: "", converged: false, stepsToBand: nil, low: nil),
        ]
        try run.writeRows(rows, to: "rows.csv")
        let (header, raw) = try CSVFile.read(from: run.file("rows.csv"))
        #expect(header == ["seed", "beta", "arm", "label", "converged", "stepsToBand", "low"])
        #expect(raw[1][5] == "" && raw[1][6] == "" && raw[0][2] == "laplace" && raw[0][4] == "true")
        #expect(try run.readRows(Row.self, from: "rows.csv") == rows)
        var nan = rows[0]
        nan.beta = .nan
        try run.writeRows([nan], to: "nan.csv")
        #expect(try run.readRows(Row.self, from: "nan.csv")[0].beta.isNaN)
    }

    /// A missing column and a value of the wrong type are errors naming the file, line and column.
    @Test func badInputNamesFileLineAndColumn() throws {
        let (tmp, run) = try folder()
        defer { try? FileManager.default.removeItem(at: tmp) }
        try run.writeCSV("short.csv", header: ["seed", "beta"], rows: [[.integer(0), .number(1)]])
        #expect(throws: CSVColumnError.self) { try run.readRows(Row.self, from: "short.csv") }
        try run.writeCSV("bad.csv", header: ["seed", "beta", "arm", "label", "converged", "stepsToBand", "low"],
                         rows: [[.integer(0), .text("one"), .text("gaussian"), .text("x"), .text("true"), .text(""), .text("")]])
        do {
            _ = try run.readRows(Row.self, from: "bad.csv")
            Issue.record("a non-number in beta was accepted")
        } catch let e as CSVRowError {
            #expect(e.line == 2 && e.column == "beta" && e.description.contains("bad.csv"))
        }
        struct Nested: Codable { var values: [Double] }
        #expect(throws: CSVRowError.self) { try run.writeRows([Nested(values: [1, 2])], to: "nested.csv") }
    }
}

/// Issue 30: the shared loss-trace row writes the columns the five per-experiment LossRow types
/// wrote (the model's columns, then interval_end_step and mean_loss), documents them in that
/// order, cuts the last interval at the step count, and reads back.
@Suite struct LossTraceRowTests {
    struct Model: LossTraceModel, Equatable {
        var dataset: String, seed: Int, beta: Double
        static let columns: [ColumnDoc] = [.init("dataset", "text", "d"), .init("seed", "index", "s"), .init("beta", "1", "b")]
        static let lossDescription = "mean test loss"
    }
    struct NoModel: LossTraceModel, Equatable {
        static let columns: [ColumnDoc] = []
        static let lossDescription = "mean loss of the one model"
    }

    @Test func columnsIntervalsAndRoundTrip() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("loss-trace-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let run = try RunDirectory(experimentID: "loss-trace-test", options: try ExperimentOptions.parse(["--out", tmp.appendingPathComponent("run").path]))
        let rows = LossTraceRow.rows([3.5, 2.25, 1.125], every: 400, steps: 1000, model: Model(dataset: "digits8x8", seed: 2, beta: 1.5))
        #expect(rows.map(\.intervalEndStep) == [400, 800, 1000])
        try run.writeRows(rows, to: "loss.csv")
        let (header, raw) = try CSVFile.read(from: run.file("loss.csv"))
        #expect(header == ["dataset", "seed", "beta", "interval_end_step", "mean_loss"])
        #expect(header == LossTraceRow<Model>.header)
        #expect(raw[2] == ["digits8x8", "2", "1.5", "1000", "1.125"])
        let back = try run.readRows(LossTraceRow<Model>.self, from: "loss.csv")
        #expect(back.map(\.model) == rows.map(\.model) && back.map(\.meanLoss) == [3.5, 2.25, 1.125])
        #expect(LossTraceRow<Model>.columns.last?.meaning == "mean test loss")

        try run.writeRows(LossTraceRow.rows([0.5], every: 10, steps: 10, model: NoModel()), to: "one.csv")
        let (oneHeader, oneRaw) = try CSVFile.read(from: run.file("one.csv"))
        #expect(oneHeader == ["interval_end_step", "mean_loss"] && oneRaw == [["10", "0.5"]])
    }
}
