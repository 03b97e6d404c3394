import Foundation
import Testing
import TestSupport
@testable import Reporting

@Suite struct TableTests {
    @Test func latexEscapesSpecialCharacters() {
        #expect(Table.latexEscape("50% of a_b & {c} #1 $x ~ ^") == "50\\% of a\\_b \\& \\{c\\} \\#1 \\$x \\textasciitilde{} \\textasciicircum{}")
        #expect(Table.latexEscape("β = 1 ± 0.2") == "$\\beta$ = 1 $\\pm$ 0.2")
        #expect(Table.latexEscape("C:\\path") == "C:\\textbackslash{}path")
        // Combining accents (x̃ = "x" + U+0303) become text accents, never a raw combining mark.
        let tilde = Table.latexEscape("x̃ + σ²s̃₁")
        #expect(tilde.hasPrefix("\\~{x} + $\\sigma$"))
        #expect(tilde.contains("\\~{s}"))
        #expect(!tilde.unicodeScalars.contains { $0.value == 0x0303 })
        #expect(Table.latexEscape("x\u{0330}").contains("[U+0330]"))
        #expect(Table.latexEscape("2–3 — x") == "2--3 --- x")
    }

    /// Issue 31: gnuplot-style sub- and superscripts are typeset, identifiers stay literal.
    @Test func latexTypesetsSubscripts() {
        #expect(Table.latexEscape("γ = σ_{i−1}/σ_i") == "$\\gamma$ = $\\sigma$$_{i- 1}$/$\\sigma$$_{i}$")
        #expect(Table.latexEscape("‖ŝ₂ − s₂‖_F, σ_1 = 2, ||eps||_2, q_σ") .contains("$\\|$$_{F}$"))
        #expect(Table.latexEscape("from σ_1 to σ_L").contains("$\\sigma$$_{1}$ to $\\sigma$$_{L}$"))
        #expect(Table.latexEscape("q_σ").contains("$_{\\sigma }$"))
        #expect(Table.latexEscape("error_vs_steps, a_b, HT_C1, x_10") == "error\\_vs\\_steps, a\\_b, HT\\_C1, x\\_10")
    }

    /// Issue 31: LaTeX measures a table and falls back to 2-4 column groups, each repeating the
    /// first column, in floats of one number; every printed tabular reports its size.
    @Test func wideTablesSplitIntoColumnGroups() {
        let t = Table(header: ["k"] + (1...8).map { "column \($0)" }, rows: [["a"] + (1...8).map { "\($0)" }], caption: "wide", label: "tab:w")
        let tex = t.latex()
        #expect(tex.contains("\\ifdim\\reporttablewidth>\\reporttablelimit"))
        #expect(tex.contains("(continued, part 2 of 2)") && tex.contains("(continued, part 4 of 4)"))
        #expect(tex.contains("\\reporttablesize{\\the\\wd0 }{\\the\\linewidth}{1/1}"))
        #expect(tex.components(separatedBy: "\\label{tab:w}").count - 1 == 4)  // once per alternative
        let groups = t.columnGroups(parts: 3)!
        #expect(groups.flatMap { $0 } == Array(1...8) && groups.allSatisfy { !$0.isEmpty })
        #expect(Table(header: ["a", "b"], rows: [["1", "2"]]).columnGroups(parts: 2) == nil)
    }

    /// The report re-renders a stale or missing LaTeX table from its Markdown: a round trip.
    @Test func markdownRoundTrips() {
        let t = Table(header: ["model", "β", "a|b"], rows: [["x", "1.5", "p | q"], ["", "2", "–"]], caption: "Cap: σ_1", alignments: [.left, .right, .center])
        let back = Table(markdown: t.markdown())
        #expect(back == t)
        #expect(Table(markdown: "no table here") == nil)
    }

    @Test func markdownAndLatexLayout() {
        let t = Table(header: ["D", "β"], rows: [["10", "1|2"]], caption: "cap", label: "tab:x")
        let md = t.markdown()
        #expect(md.contains("| D | β |"))
        #expect(md.contains("| :--- | ---: |"))
        #expect(md.contains("1\\|2"))
        let tex = t.latex()
        #expect(tex.contains("\\begin{tabular}{lr}"))
        #expect(tex.contains("10 & 1|2 \\\\"))
        #expect(tex.contains("\\label{tab:x}"))
    }

    /// Beyond `Table.longTableRows` rows the LaTeX is a page-breaking longtable with its header
    /// repeated, and every row is still there.
    @Test func longTablesBreakAcrossPages() {
        let n = Table.longTableRows + 1
        let t = Table(header: ["k", "v"], rows: (0..<n).map { ["\($0)", "x"] }, caption: "long", label: "tab:long")
        let tex = t.latex()
        #expect(tex.hasPrefix("\\begin{longtable}{lr}"))
        #expect(tex.contains("\\endhead") && tex.contains("\\label{tab:long}"))
        #expect(!tex.contains("\\begin{table}"))
        #expect(tex.components(separatedBy: " & x \\\\").count - 1 == n)
        #expect(Table(header: ["k"], rows: [["1"]]).latex().contains("\\begin{table}"))
    }

    /// A longtable cannot be shrunk, so one wider than the line (the quick ht-e4 table overran
    /// it by 278 pt and failed CI's `make paper`) falls back, as LaTeX measures it, to 2, 3 or 4
    /// longtables of consecutive columns, each repeating the first, with every row in each part.
    @Test func wideLongTablesSplitIntoColumnGroups() {
        let n = Table.longTableRows + 1
        let header = ["key"] + (1...8).map { "column \($0)" }
        let t = Table(header: header, rows: (0..<n).map { i in ["k\(i)"] + (1...8).map { "v\($0)" } }, caption: "wide", label: "tab:wide")
        let tex = t.latex()
        #expect(tex.contains("\\ifdim\\reporttablewidth>\\linewidth"))
        // The whole table, then the 2-, 3- and 4-part splits: 1 + 2 + 3 + 4 longtables.
        #expect(tex.components(separatedBy: "\\begin{longtable}").count - 1 == 10)
        // Each row's key is in every longtable (the repeated first column) and in every tabular
        // LaTeX measures (the whole table and the 2- and 3-part splits): 10 + 6.
        #expect(tex.components(separatedBy: "k\(n - 1) & ").count - 1 == 16)
        #expect(tex.components(separatedBy: "continued, part 4 of 4").count - 1 == 1)
        // Continued parts keep the table's number; the label is set once per alternative.
        #expect(tex.contains("\\addtocounter{table}{-1}\\begin{longtable}"))
        #expect(!tex.contains("\\begin{table}"))
    }

    @Test func numberFormatting() {
        #expect(Format.significant(0.0123456, 3) == "0.0123")
        #expect(Format.significant(123.456, 4) == "123.5")
        #expect(Format.significant(.nan) == "nan")
        #expect(Format.withError(1.23456, 0.0123) == "1.235 ± 0.012")
    }
}

@Suite struct GnuplotTests {
    /// Issue 31: no figure prints its text below 7 pt at the report's width; panels wrap into
    /// fewer columns when a slightly larger font is not enough, the PNG and the PDF alike.
    @Test func layoutKeepsPrintedTextLegible() {
        func panels(_ n: Int, key: String = "off") -> [Panel] {
            (0..<n).map { i in Panel(title: "p\(i)", key: key, series: [Series(x: [0, 1], y: [0, 1], title: key == "off" ? "" : "a")]) }
        }
        for n in 1...9 {
            for rows in 1...2 {
                let fig = Figure(name: "f", panels: panels(n), rows: min(rows, n))
                let l = fig.printLayout
                #expect(l.rows * l.columns >= n)
                #expect(l.pdfFont * fig.printScale(rows: l.rows, columns: l.columns) >= PrintLayout.minimumPrintedFontPoints - 1e-9)
                let pdf = Gnuplot.script(for: fig, terminal: "pdfcairo", output: "f.pdf")
                let png = Gnuplot.script(for: fig, terminal: "pngcairo", output: "f.png")
                let grid = "set multiplot layout \(l.rows),\(l.columns)"
                #expect(pdf.contains(grid) && png.contains(grid))
            }
        }
        // Three 640-px panels in a row would print at 5 pt: they wrap into two columns.
        let wide = Figure(name: "w", panels: panels(3), rows: 1).printLayout
        #expect(wide.columns == 2 && wide.rows == 2 && wide.pdfFont == PrintLayout.pdfFontPoints)
        // Two in a row print at 7.5 pt as they are.
        let two = Figure(name: "t", panels: panels(2), rows: 1).printLayout
        #expect(two.columns == 2 && two.rows == 1)
    }

    /// The same key in every panel becomes one legend panel instead of covering each panel's data.
    @Test func repeatedKeysBecomeOneLegendPanel() {
        let panels = (0..<2).map { i in Panel(title: "p\(i)", key: "top right", series: [Series(x: [0, 1], y: [0, 1], title: "β = 2", color: 0)]) }
        let fig = Figure(name: "k", panels: panels, rows: 1)
        #expect(fig.drawnPanels.count == 3)
        #expect(fig.drawnPanels.last!.legendOnly)
        #expect(fig.drawnPanels.dropLast().allSatisfy { $0.key == "off" })
        var different = panels
        different[1].series[0].title = "β = 1"
        #expect(Figure(name: "d", panels: different).drawnPanels.count == 2)
    }

    @Test func longPanelTitlesWrap() {
        #expect(Gnuplot.wrap("mean distance to nearest training point, ε = 0.1", 20) == "mean distance to\nnearest training\npoint, ε = 0.1")
        #expect(Gnuplot.quote("a\nb") == "\"a\\nb\"")
    }

    @Test func scriptHoldsDataAndStyles() {
        let fig = Figure(name: "f", panels: [Panel(title: "p", logX: true, series: [
            Series(x: [1, 2], y: [3, .nan], title: "a \"q\"", style: .lines, dashed: true),
        ])])
        let s = Gnuplot.script(for: fig, terminal: "pngcairo", output: "f.png")
        #expect(s.contains("$d0_0 << EOD\n1.0 3.0\n2.0 nan\nEOD"))
        #expect(s.contains("set logscale x"))
        #expect(s.contains("dt 2"))
        #expect(s.contains("title \"a \\\"q\\\"\""))
    }

    /// Wide linear x labels (≥ 4 digits) get a 1/2/2.5/5 × 10^k step with at most 5 intervals
    /// (ten "1000"-wide labels ran together in a narrow HO-E1 panel); narrow labels and log axes
    /// are left to gnuplot.
    @Test func wideLinearXAxesGetFewerTics() {
        func step(_ x: [Double], logX: Bool = false, range: ClosedRange<Double>? = nil) -> Double? {
            Gnuplot.xTicStep(Panel(title: "p", logX: logX, xRange: range, series: [Series(x: x, y: x.map { _ in 1 }, title: "s")]))
        }
        #expect(step([0, 10_000]) == 2000)
        #expect(step([0, 4000]) == 1000)
        #expect(step([0, 5750]) == 2000)
        #expect(step([0, 1, 2]) == nil)
        #expect(step([1, 100_000], logX: true) == nil)
        #expect(step([0, 1], range: 0...12_000) == 2500)
        let fig = Figure(name: "f", panels: [Panel(title: "p", series: [Series(x: [0, 10_000], y: [1, 2], title: "s")])])
        #expect(Gnuplot.script(for: fig, terminal: "pngcairo", output: "f.png").contains("set xtics 2000.0\n"))
    }

    /// A series with yError draws its bars in the points and linespoints styles too (they used to
    /// drop them while captions promised 95% intervals); without yError nothing changes.
    @Test func seriesWithErrorsDrawBarsInEveryMarkerStyle() {
        let fig = Figure(name: "f", panels: [Panel(title: "p", series: [
            Series(x: [1, 2], y: [3, 4], yError: [0.5, 0.25], title: "lp", style: .linespoints),
            Series(x: [1, 2], y: [3, 4], yError: [0.5, 0.25], title: "pt", style: .points),
            Series(x: [1, 2], y: [3, 4], title: "plain", style: .linespoints),
        ])])
        let s = Gnuplot.script(for: fig, terminal: "pngcairo", output: "f.png")
        #expect(s.contains("$d0_0 using 1:2:3 with yerrorlines") && s.contains("$d0_1 using 1:2:3 with yerrorbars"))
        #expect(s.contains("$d0_2 using 1:2 with linespoints"))
        #expect(s.contains("$d0_0 << EOD\n1.0 3.0 0.5\n2.0 4.0 0.25\nEOD"))
    }

    /// Renders a real PNG and PDF when gnuplot is installed (CI installs it).
    @Test(.enabled(if: Gnuplot.version() != nil)) func rendersPNGAndPDF() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gnuplot-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fig = Figure(name: "line", panels: [Panel(series: [Series(x: [1, 2, 3], y: [1, 4, 9], title: "y")])])
        let (png, pdf) = try Gnuplot.render(fig, in: dir)
        let pngBytes = try Data(contentsOf: png)
        #expect(pngBytes.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(try Data(contentsOf: pdf).prefix(4) == Data("%PDF".utf8))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("line.gp").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    /// The saved .gp script (what `make replot` runs) re-renders both the PNG and the PDF, with a
    /// multi-panel figure holding several data blocks; outputs are non-empty and fresh.
    @Test(.enabled(if: Gnuplot.version() != nil)) func savedScriptReplots() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gnuplot-replot-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fig = Figure(name: "two", panels: [
            Panel(title: "a", series: [Series(x: [1, 2, 3], y: [1, 4, 9], title: "y"), Series(x: [1, 2], y: [2, 3], title: "z")]),
            Panel(title: "b", logX: true, series: [Series(x: [1, 10, 100], y: [3, 2, 1], title: "w")]),
        ])
        let (png, pdf) = try Gnuplot.render(fig, in: dir)
        for url in [png, pdf] { try FileManager.default.removeItem(at: url) }
        let gp = dir.appendingPathComponent("two.gp")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gnuplot", gp.lastPathComponent]
        process.currentDirectoryURL = dir
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "gnuplot two.gp failed: \(message)")
        #expect(try Data(contentsOf: png).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(try Data(contentsOf: pdf).prefix(4) == Data("%PDF".utf8))
        #expect(try Data(contentsOf: pdf).count > 1000)
        let saved = try String(contentsOf: gp, encoding: .utf8)
        #expect(saved.components(separatedBy: "<< EOD").count - 1 == 3, "each data block is defined once")
    }

    /// A legend panel draws only the key of its series (no axes, its placeholder points outside
    /// the ranges), renders without error, and the data panels keep their own axes afterwards.
    @Test(.enabled(if: Gnuplot.version() != nil)) func legendPanelDrawsOnlyTheKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gnuplot-legend-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let series = [Series(x: [1, 2], y: [1, 2], title: "a", style: .linespoints), Series(x: [1, 2], y: [2, 1], yError: [0.1, 0.1], title: "b", style: .errorbars, dashed: true)]
        let legend = Panel.legend(for: series + [Series(x: [1], y: [1])], title: "key")
        #expect(legend.legendOnly && legend.series.count == 2 && legend.series.allSatisfy { $0.x == [-1] && $0.y == [-1] })
        let fig = Figure(name: "legend", panels: [Panel(title: "data", key: "off", series: series), legend, Panel(title: "more", series: series)])
        let script = Gnuplot.script(for: fig, terminal: "pngcairo", output: "legend.png")
        #expect(script.contains("unset border") && script.contains("set key center center"))
        // The panel after the legend restores its border and tics.
        let after = script.components(separatedBy: "set title \"more\"")[0]
        #expect(after.components(separatedBy: "unset border").last!.contains("set border lw 1\nset xtics\nset ytics\n"))
        let (png, _) = try Gnuplot.render(fig, in: dir)
        #expect(try Data(contentsOf: png).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }
}

/// Issue 30: one helper runs outside programs, draining stdout and stderr at once; a program
/// writing more than a pipe buffer (64 KiB) to stderr before its stdout used to hang gnuplot runs.
@Suite struct ExternalProgramTests {
    @Test func drainsBothPipes() throws {
        let r = try ExternalProgram.run("/bin/sh", ["-c", "head -c 300000 /dev/zero | tr '\\\\0' x >&2; echo done; exit 3"])
        #expect(r.status == 3 && r.stdout == "done\n" && r.stderr.count == 300_000)
        #expect(ExternalProgram.output(of: "sh", ["-c", "echo ' hi '"]) == "hi")
        #expect(ExternalProgram.output(of: "sh", ["-c", "exit 1"]) == nil)
        #expect(ExternalProgram.output(of: "no-such-program-here", []) == nil)
    }
}

/// The report's "Settings" line (issue 31's reviewer pages showed raw nested JSON there).
@Suite struct SettingsSummaryTests {
    func decode(_ json: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func flattensSettingsAndNamesRecords() throws {
        let config = try decode(#"""
            {"steps": 6000, "formB": true, "sigma": 0.5, "curveSteps": [1500, 3000],
             "experiment": {"baseChannels": 16, "ema": {"decay": 0.999, "biasCorrected": false}},
             "models": {"a-seed0": {"seed": 0}, "a-seed1": {"seed": 1}, "b-seed0": {"seed": 0}, "b-seed1": {"seed": 1}}}
            """#)
        #expect(SettingsSummary.items(config) == [
            "curveSteps = 1500, 3000",
            "experiment.baseChannels = 16",
            "experiment.ema.biasCorrected = false",
            "experiment.ema.decay = 0.999",
            "formB = true",
            "models = 4 records (a-seed0, a-seed1, b-seed0, ...; in config.json)",
            "sigma = 0.5",
            "steps = 6000",
        ])
    }

    @Test func cutsLongValues() throws {
        let config = try decode(#"{"path": "\#(String(repeating: "x", count: 200))"}"#)
        let item = try #require(SettingsSummary.items(config).first)
        #expect(item == "path = " + String(repeating: "x", count: SettingsSummary.maximumValueLength - 3) + "...")
    }
}
