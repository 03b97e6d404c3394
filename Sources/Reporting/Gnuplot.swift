// Figures drawn by gnuplot (Debian's gnuplot-nox: pngcairo and pdfcairo terminals).
//
// An experiment describes a figure declaratively (panels of series of points) from the numbers
// in its CSV files; `Gnuplot.render` writes a self-contained script `<name>.gp` whose data
// blocks hold exactly those numbers, then runs gnuplot twice (PNG, PDF). The script stays next to
// the images, so a figure can be re-drawn, or restyled by hand, without re-running anything.
// Outputs are written under temporary names and renamed, so a failed run leaves no half file.
import Foundation

/// One line or point set in a panel.
public struct Series: Sendable {
    /// How the series is drawn.
    public enum Style: String, Sendable { case lines, points, linespoints, steps, errorbars, filledcurve }
    /// The points, in drawing order.
    public var x: [Double]
    public var y: [Double]
    /// Symmetric error half-widths (only drawn with `.errorbars`).
    public var yError: [Double]?
    /// Legend entry ("" hides it).
    public var title: String
    public var style: Style
    /// Colour index into the palette (series with the same index share a colour).
    public var color: Int?
    /// Dashed line (used for closed-form overlays).
    public var dashed: Bool
    /// Point size or line width multiplier.
    public var weight: Double

    public init(x: [Double], y: [Double], yError: [Double]? = nil, title: String = "", style: Style = .lines,
                color: Int? = nil, dashed: Bool = false, weight: Double = 1) {
        precondition(x.count == y.count, "series '\(title)': \(x.count) x values but \(y.count) y values")
        precondition(yError == nil || yError!.count == y.count, "series '\(title)': error bars do not match points")
        self.x = x
        self.y = y
        self.yError = yError
        self.title = title
        self.style = style
        self.color = color
        self.dashed = dashed
        self.weight = weight
    }
}

/// One set of axes.
public struct Panel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX: Bool
    public var logY: Bool
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// gnuplot key placement, e.g. "top right", "bottom left", or "off".
    public var key: String
    public var series: [Series]
    /// A panel that draws only the key of its series (no axes, no data): one legend for a
    /// multi-panel figure, placed in a spare layout slot instead of over the data (issue 19).
    public var legendOnly = false

    /// A legend panel for `series` (their styles and titles; their data is not drawn).
    public static func legend(for series: [Series], title: String = "") -> Panel {
        var panel = Panel(title: title, key: "center center",
                          series: series.filter { !$0.title.isEmpty }.map { s in
                              Series(x: [-1], y: [-1], yError: s.yError == nil ? nil : [0], title: s.title, style: s.style,
                                     color: s.color, dashed: s.dashed, weight: s.weight)
                          })
        panel.legendOnly = true
        return panel
    }

    public init(title: String = "", xLabel: String = "", yLabel: String = "", logX: Bool = false, logY: Bool = false,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil, key: String = "top right",
                series: [Series] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
        self.xRange = xRange
        self.yRange = yRange
        self.key = key
        self.series = series
    }
}

/// A figure: panels laid out in a grid.
public struct Figure: Sendable {
    /// File stem, e.g. "cv_skew_vs_dimension".
    public var name: String
    public var panels: [Panel]
    public var layoutRows: Int
    public var layoutColumns: Int
    /// Overall title ("" for none).
    public var title: String
    /// Size of one panel in pixels (PNG) — the PDF uses the same aspect ratio.
    public var panelWidth: Int
    public var panelHeight: Int

    public init(name: String, panels: [Panel], rows: Int = 1, columns: Int? = nil, title: String = "",
                panelWidth: Int = 640, panelHeight: Int = 480) {
        precondition(!panels.isEmpty, "figure '\(name)' has no panels")
        self.name = name
        self.panels = panels
        self.layoutRows = rows
        self.layoutColumns = columns ?? Int((Double(panels.count) / Double(rows)).rounded(.up))
        precondition(layoutRows * layoutColumns >= panels.count, "figure '\(name)': layout too small for \(panels.count) panels")
        self.title = title
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
    }

    /// The panels as drawn (issue 31: keys drawn over the data hid curves). When two or more
    /// data panels each show a key with the same entries, those keys are switched off and one
    /// legend panel (`Panel.legend`) is added in the next layout slot instead.
    public var drawnPanels: [Panel] {
        let data = panels.filter { !$0.legendOnly }
        guard data.count >= 2, !panels.contains(where: \.legendOnly), data.allSatisfy({ $0.key != "off" }) else { return panels }
        func entries(_ p: Panel) -> [String] {
            p.series.filter { !$0.title.isEmpty }.map { "\($0.title)|\($0.style)|\($0.color ?? -1)|\($0.dashed)|\($0.yError != nil)" }
        }
        guard let first = data.first.map(entries), !first.isEmpty, data.allSatisfy({ entries($0) == first }) else { return panels }
        var drawn = panels.map { p -> Panel in var q = p; q.key = "off"; return q }
        drawn.append(Panel.legend(for: data[0].series))
        return drawn
    }

    /// The requested grid, grown by a column when a merged legend panel does not fit in it.
    var requestedLayout: (rows: Int, columns: Int) {
        let n = drawnPanels.count
        if layoutRows * layoutColumns >= n { return (layoutRows, layoutColumns) }
        return (layoutRows, (n + layoutRows - 1) / layoutRows)
    }

    /// The figure's size in PNG pixels for `rows` × `columns` panels.
    public func pixelSize(rows: Int, columns: Int) -> (width: Int, height: Int) {
        (panelWidth * columns, panelHeight * rows + (title.isEmpty ? 0 : PrintLayout.titlePixels))
    }

    /// The scale at which the report prints the figure laid out as `rows` × `columns`
    /// (the PDF is pixels / `PrintLayout.pixelsPerInch` inches; TeX points are 1/72.27 in).
    public func printScale(rows: Int, columns: Int) -> Double {
        let size = pixelSize(rows: rows, columns: columns)
        let widthPoints = Double(size.width) / PrintLayout.pixelsPerInch * 72.27
        let heightPoints = Double(size.height) / PrintLayout.pixelsPerInch * 72.27
        return min(PrintLayout.printedWidthPoints / widthPoints, PrintLayout.printedHeightPoints / heightPoints)
    }

    /// The layout both outputs use, and the PDF font size: the requested grid when its text
    /// prints at `PrintLayout.minimumPrintedFontPoints` or more, with the PDF font raised to at
    /// most `PrintLayout.maximumPDFFontPoints` if need be (a figure that misses by a little keeps
    /// its layout, which captions may describe as "left" and "right"); else the widest grid of
    /// fewer columns that does; else the grid printed largest, with the PDF font raised until
    /// its text prints at the minimum (issue 31: no figure text below 7 pt).
    public var printLayout: (rows: Int, columns: Int, pdfFont: Double) {
        let minimum = PrintLayout.minimumPrintedFontPoints
        // The PDF font that prints at the minimum, rounded up to a quarter point.
        func font(_ layout: (Int, Int)) -> Double {
            max(PrintLayout.pdfFontPoints, (minimum / printScale(rows: layout.0, columns: layout.1) * 4).rounded(.up) / 4)
        }
        let requested = requestedLayout
        let n = drawnPanels.count
        let candidates = [(requested.rows, requested.columns)]
            + (1..<max(requested.columns, 1)).reversed().map { c in ((n + c - 1) / c, c) }
        if let fit = candidates.first(where: { font($0) <= PrintLayout.maximumPDFFontPoints }) {
            return (fit.0, fit.1, font(fit))
        }
        let best = candidates.max { printScale(rows: $0.0, columns: $0.1) < printScale(rows: $1.0, columns: $1.1) }!
        return (best.0, best.1, font(best))
    }
}

/// How big a figure is printed, and the layout that keeps its text legible there (issue 31).
///
/// The report includes every figure PDF at `width=\textwidth,height=0.75\textheight,keepaspectratio`
/// (paper/report.tex's `\reportfigure`), so a figure of W × H inches is printed at
/// scale min(textwidth / W, 0.75·textheight / H), and its text at `pdfFontPoints` × that scale.
/// A figure whose text would print below `minimumPrintedFontPoints` gets a slightly larger PDF
/// font (up to `maximumPDFFontPoints`) or, if that is not enough, wraps its panels into more
/// rows (fewer columns), the same in the PNG and the PDF (`Figure.printLayout`). scripts/check-paper.sh holds these constants against the
/// text block LaTeX reports, and every printed figure's font against the minimum.
public enum PrintLayout {
    /// The report's \textwidth: A4 (210 mm) less 2 cm margins each side = 170 mm, in TeX points.
    public static let printedWidthPoints = 170 / 25.4 * 72.27
    /// 0.75 × the report's \textheight (297 mm less 2 cm margins = 257 mm), in TeX points.
    public static let printedHeightPoints = 0.75 * 257 / 25.4 * 72.27
    /// No text in a printed figure below this (issue 31).
    public static let minimumPrintedFontPoints = 7.0
    /// The PDF terminal's font size, at the PDF's own size.
    public static let pdfFontPoints = 9.0
    /// The most the PDF font is raised to keep a figure's layout (a sixth above the default).
    public static let maximumPDFFontPoints = 10.5
    /// PNG pixels per PDF inch (a 640 × 480 px panel is 4 × 3 in in the PDF).
    public static let pixelsPerInch = 160.0
    /// Height of an overall figure title, in PNG pixels.
    public static let titlePixels = 40
}

/// Errors from figure rendering.
public enum GnuplotError: Error, CustomStringConvertible {
    case notInstalled
    case failed(script: String, status: Int32, stderr: String)
    public var description: String {
        switch self {
        case .notInstalled:
            return "gnuplot not found on PATH; install Debian's gnuplot-nox (make setup does this)"
        case .failed(let script, let status, let err):
            return "gnuplot failed on \(script) (exit \(status)): \(err.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}

/// Writes gnuplot scripts and runs gnuplot.
public enum Gnuplot {
    /// A colour-blind-safe palette (Okabe–Ito), cycled by `Series.color`.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// The script that draws `figure` to `output` with `terminal` ("pngcairo" or "pdfcairo").
    public static func script(for figure: Figure, terminal: String, output: String) -> String {
        let layout = figure.printLayout
        let (w, h) = figure.pixelSize(rows: layout.rows, columns: layout.columns)
        var s = "# Generated by the Reporting module from the experiment's CSV results; safe to edit and re-run.\n"
        if terminal == "pdfcairo" {
            // Read by scripts/check-paper.sh: the limits the layout was chosen for, and the font.
            s += "# print layout: \(layout.rows)x\(layout.columns) panels, printed within \(num(PrintLayout.printedWidthPoints))pt x \(num(PrintLayout.printedHeightPoints))pt"
                + " at scale \(num(figure.printScale(rows: layout.rows, columns: layout.columns))), text at least \(num(PrintLayout.minimumPrintedFontPoints))pt\n"
            s += "set terminal pdfcairo enhanced font 'DejaVu Sans,\(num(layout.pdfFont))' size \(Double(w) / PrintLayout.pixelsPerInch)in,\(Double(h) / PrintLayout.pixelsPerInch)in linewidth 1.5\n"
        } else {
            // 11 px at the PDF's 9 pt, raised with it when the layout raised the PDF font.
            let pngFont = (11 * layout.pdfFont / PrintLayout.pdfFontPoints * 2).rounded(.up) / 2
            s += "set terminal pngcairo enhanced font 'DejaVu Sans,\(num(pngFont))' size \(w),\(h) linewidth 1.5\n"
        }
        s += "set output '\(output)'\n"
        s += "set datafile missing 'nan'\nset grid lc rgb '#bbbbbb' lw 0.5\nset border lw 1\n"
        // Data blocks first: gnuplot needs them defined before multiplot starts.
        let panels = figure.drawnPanels
        for (p, panel) in panels.enumerated() {
            for (k, series) in panel.series.enumerated() {
                s += "$d\(p)_\(k) << EOD\n"
                for i in 0..<series.x.count {
                    s += "\(num(series.x[i])) \(num(series.y[i]))"
                    if let e = series.yError { s += " \(num(e[i]))" }
                    s += "\n"
                }
                s += "EOD\n"
            }
        }
        let title = figure.title.isEmpty ? "" : " title \(quote(figure.title))"
        s += "set multiplot layout \(layout.rows),\(layout.columns)\(title)\n"
        // Panel titles wrap at word boundaries to the width of a panel at the PDF's font
        // (about 0.55 em per character), instead of running into the next panel or off the page.
        let titleCharacters = max(20, Int(Double(figure.panelWidth) / PrintLayout.pixelsPerInch * 72 / (layout.pdfFont * 0.55)))
        for (p, panel) in panels.enumerated() {
            s += "unset logscale\n"
            if panel.legendOnly {
                // Only the key: the series' single points lie outside the ranges.
                s += "unset border\nunset xtics\nunset ytics\nunset xlabel\nunset ylabel\nunset grid\nset title \(quote(wrap(panel.title, titleCharacters)))\n"
                s += "set xrange [0:1]\nset yrange [0:1]\nset key center center box opaque samplen 3 spacing 1.3\n"
            } else {
                s += "set border lw 1\nset xtics\nset ytics\nset grid lc rgb '#bbbbbb' lw 0.5\n"
            }
            if panel.logX { s += "set logscale x\n" }
            if panel.logY { s += "set logscale y\n" }
            s += "set format x \(panel.logX ? "'10^{%T}'" : "'% h'")\n"
            s += "set format y \(panel.logY ? "'10^{%T}'" : "'% h'")\n"
            if !panel.legendOnly {
                s += "set title \(quote(wrap(panel.title, titleCharacters)))\nset xlabel \(quote(panel.xLabel))\nset ylabel \(quote(panel.yLabel))\n"
                s += panel.xRange.map { "set xrange [\(num($0.lowerBound)):\(num($0.upperBound))]\n" } ?? "set autoscale x\n"
                if let step = xTicStep(panel) { s += "set xtics \(num(step))\n" }
                s += panel.yRange.map { "set yrange [\(num($0.lowerBound)):\(num($0.upperBound))]\n" } ?? "set autoscale y\n"
                s += panel.key == "off" ? "unset key\n" : "set key \(panel.key) box opaque samplen 2 spacing 1.1\n"
            }
            let plots = panel.series.enumerated().map { (k, series) -> String in
                let color = palette[(series.color ?? k) % palette.count]
                let dash = series.dashed ? " dt 2" : ""
                let t = series.title.isEmpty ? "notitle" : "title \(quote(series.title))"
                let lw = "lw \(num(1.5 * series.weight))"
                switch series.style {
                case .lines: return "$d\(p)_\(k) using 1:2 with lines lc rgb '\(color)' \(lw)\(dash) \(t)"
                case .steps: return "$d\(p)_\(k) using 1:2 with histeps lc rgb '\(color)' \(lw)\(dash) \(t)"
                // A series with yError draws its bars in the marker styles too (points and
                // linespoints dropped them silently while captions promised intervals).
                case .points where series.yError != nil:
                    return "$d\(p)_\(k) using 1:2:3 with yerrorbars lc rgb '\(color)' pt 7 ps \(num(0.5 * series.weight)) \(t)"
                case .points: return "$d\(p)_\(k) using 1:2 with points lc rgb '\(color)' pt 7 ps \(num(0.5 * series.weight)) \(t)"
                case .linespoints where series.yError != nil:
                    return "$d\(p)_\(k) using 1:2:3 with yerrorlines lc rgb '\(color)' \(lw)\(dash) pt 7 ps \(num(0.6 * series.weight)) \(t)"
                case .linespoints:
                    return "$d\(p)_\(k) using 1:2 with linespoints lc rgb '\(color)' \(lw)\(dash) pt 7 ps \(num(0.6 * series.weight)) \(t)"
                case .errorbars:
                    return "$d\(p)_\(k) using 1:2:3 with yerrorlines lc rgb '\(color)' \(lw)\(dash) pt 7 ps 0.5 \(t)"
                case .filledcurve:
                    return "$d\(p)_\(k) using 1:2 with filledcurves x1 fc rgb '\(color)' fs transparent solid 0.3 \(t)"
                }
            }
            if plots.isEmpty {
                s += "set label 1 'no data' at graph 0.5,0.5 center\nplot 2 notitle lc rgb '#ffffff'\nunset label 1\n"
            } else {
                s += "plot " + plots.joined(separator: ", \\\n     ") + "\n"
            }
        }
        s += "unset multiplot\nset output\n"
        return s
    }

    /// `script` without its inline data blocks (from a `$name << EOD` line through its `EOD`)
    /// and without the "# Generated" header line.
    static func withoutDataBlocks(_ script: String) -> String {
        var kept: [Substring] = []
        var inBlock = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if inBlock {
                if line == "EOD" { inBlock = false }
                continue
            }
            if line.hasPrefix("$") && line.hasSuffix("<< EOD") { inBlock = true; continue }
            if line.hasPrefix("# Generated") { continue }
            kept.append(line)
        }
        return kept.joined(separator: "\n")
    }

    /// Writes `<name>.gp` and renders `<name>.png` and `<name>.pdf` into `directory`.
    /// - Returns: the URLs of the PNG and the PDF.
    @discardableResult
    public static func render(_ figure: Figure, in directory: URL) throws -> (png: URL, pdf: URL) {
        guard let gnuplot = executablePath("gnuplot") else { throw GnuplotError.notInstalled }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let png = directory.appendingPathComponent(figure.name + ".png")
        let pdf = directory.appendingPathComponent(figure.name + ".pdf")
        let gp = directory.appendingPathComponent(figure.name + ".gp")
        // The saved script renders both outputs under their final names (for re-running by hand);
        // here each is rendered to a temporary name first.
        // The PDF half reuses the data blocks the PNG half defined, so its own are dropped whole
        // (the `$dN << EOD` line, its rows and the closing `EOD`).
        let saved = script(for: figure, terminal: "pngcairo", output: png.lastPathComponent)
            + withoutDataBlocks(script(for: figure, terminal: "pdfcairo", output: pdf.lastPathComponent))
        for (terminal, target) in [("pngcairo", png), ("pdfcairo", pdf)] {
            let tmpOut = directory.appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
            let tmpScript = directory.appendingPathComponent(".\(figure.name).\(terminal).gp.tmp")
            try script(for: figure, terminal: terminal, output: tmpOut.lastPathComponent)
                .write(to: tmpScript, atomically: false, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: tmpScript) }
            let result = try run(gnuplot, [tmpScript.lastPathComponent], in: directory)
            guard result.status == 0, FileManager.default.fileExists(atPath: tmpOut.path) else {
                try? FileManager.default.removeItem(at: tmpOut)
                throw GnuplotError.failed(script: gp.path, status: result.status, stderr: result.stderr)
            }
            guard rename(tmpOut.path, target.path) == 0 else {
                try? FileManager.default.removeItem(at: tmpOut)
                throw GnuplotError.failed(script: gp.path, status: errno, stderr: "cannot rename \(tmpOut.path) to \(target.path)")
            }
        }
        try saved.write(to: gp, atomically: true, encoding: .utf8)
        return (png, pdf)
    }

    /// gnuplot's version string ("gnuplot 5.4 patchlevel 4"), or nil if it is not installed.
    public static func version() -> String? {
        guard let g = executablePath("gnuplot"), let r = try? run(g, ["--version"], in: nil), r.status == 0 else { return nil }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func num(_ v: Double) -> String { v.isFinite ? "\(v)" : "nan" }

    /// A 1/2/2.5/5 × 10^k tic step giving at most `maxXTics` intervals for a linear x axis whose
    /// labels are four or more digits wide (gnuplot's own choice put ten such labels into a
    /// narrow panel, where they ran together); nil otherwise (gnuplot chooses).
    static let maxXTics = 5.0
    static func xTicStep(_ panel: Panel) -> Double? {
        guard !panel.logX, !panel.legendOnly else { return nil }
        let xs = panel.xRange.map { [$0.lowerBound, $0.upperBound] } ?? panel.series.flatMap(\.x).filter(\.isFinite)
        guard let lo = xs.min(), let hi = xs.max(), hi > lo, max(abs(lo), abs(hi)) >= 1000 else { return nil }
        let raw = (hi - lo) / maxXTics
        let magnitude = pow(10, floor(log10(raw)))
        return [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
    }
    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    /// `text` broken into lines of at most `width` characters at spaces (a longer word stays whole).
    static func wrap(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    static func executablePath(_ name: String) -> String? { ExternalProgram.find(name) }

    static func run(_ executable: String, _ arguments: [String], in directory: URL?) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try ExternalProgram.run(executable, arguments, in: directory)
        return (r.status, r.stdout, r.stderr)
    }
}
