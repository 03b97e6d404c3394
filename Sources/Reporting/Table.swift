// Tables rendered from data, never typed: an experiment fills a `Table` from the numbers it has
// written to CSV, and the same value renders to Markdown (README, terminal) and LaTeX (report).
// LaTeX cells are escaped so that names such as "HT_C1" or "50%" compile.

/// A rectangular table of already-formatted cells.
public struct Table: Sendable, Equatable {
    /// How a column is aligned.
    public enum Alignment: String, Sendable { case left, right, center }

    /// Column headers.
    public var header: [String]
    /// Rows of cells; each row has `header.count` cells.
    public var rows: [[String]]
    /// Per-column alignment (defaults: first column left, others right).
    public var alignments: [Alignment]
    /// A caption (plain text; escaped for LaTeX).
    public var caption: String
    /// A LaTeX label such as "tab:ht-e1".
    public var label: String
    /// Overrides the LaTeX column specification (e.g. "llp{6cm}" for wrapping text columns).
    public var latexColumnSpec: String?
    /// Always render as a longtable (breaks across pages), e.g. for a table of few but tall rows.
    public var breaksAcrossPages = false

    /// A table; every row must have as many cells as the header.
    public init(header: [String], rows: [[String]], caption: String = "", label: String = "", alignments: [Alignment]? = nil) {
        precondition(rows.allSatisfy { $0.count == header.count }, "every table row needs \(header.count) cells")
        self.header = header
        self.rows = rows
        self.caption = caption
        self.label = label
        self.alignments = alignments ?? header.indices.map { $0 == 0 ? .left : .right }
    }

    /// GitHub-flavoured Markdown; `|` in cells is escaped.
    public func markdown() -> String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = ""
        if !caption.isEmpty { out += "**\(caption)**\n\n" }
        out += "| " + header.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + alignments.map { a -> String in
            switch a {
            case .left: return " :--- "
            case .right: return " ---: "
            case .center: return " :---: "
            }
        }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + r.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    /// The table back from `markdown()` (caption, header, alignments, rows; the label is not in
    /// the Markdown). Nil when `text` is not such a table. The report renders a result's table
    /// from it when the result's LaTeX was written by an older `latex()` (issue 31: a stale
    /// result's table printed at 3 pt) or is missing (the committed references keep only Markdown).
    public init?(markdown text: String) {
        var caption = ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if let first = lines.first, first.hasPrefix("**"), first.hasSuffix("**"), first.count >= 4 {
            caption = String(first.dropFirst(2).dropLast(2))
            lines.removeFirst()
        }
        func cells(_ line: String) -> [String]? {
            guard line.hasPrefix("| "), line.hasSuffix(" |") else { return nil }
            // Split at " | " not preceded by a backslash (markdown() escapes "|" as "\|").
            let inner = Array(line.dropFirst(2).dropLast(2))
            var out: [String] = [], cell = ""
            var i = 0
            while i < inner.count {
                if inner[i] == "\\", i + 1 < inner.count, inner[i + 1] == "|" { cell.append("|"); i += 2; continue }
                if inner[i] == " ", i + 2 < inner.count, inner[i + 1] == "|", inner[i + 2] == " " { out.append(cell); cell = ""; i += 3; continue }
                cell.append(inner[i]); i += 1
            }
            out.append(cell)
            return out
        }
        guard lines.count >= 2, let header = cells(lines[0]), lines[1].hasPrefix("|") else { return nil }
        let alignments = lines[1].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.map { a -> Alignment in
            a.hasPrefix(":") && a.hasSuffix(":") ? .center : (a.hasPrefix(":") ? .left : .right)
        }
        let rows = lines.dropFirst(2).compactMap(cells)
        guard alignments.count == header.count, rows.count == lines.count - 2, rows.allSatisfy({ $0.count == header.count }) else { return nil }
        self.init(header: header, rows: rows, caption: caption, alignments: alignments)
    }

    /// Tables with more rows than this become a `longtable` that breaks across pages.
    public static let longTableRows = 40

    /// A LaTeX `table` environment using booktabs rules (\toprule, \midrule, \bottomrule), shrunk
    /// to the line width when wider; a `longtable` (header repeated on every page) beyond
    /// `longTableRows` rows.
    ///
    /// Issue 31: no table text below `minimumPrintedFontPoints` where it is printed. LaTeX
    /// measures the tabular; one that would have to shrink below that is split into 2, 3 or 4
    /// tabulars of consecutive columns (each repeating the first), the fewest whose widest
    /// part fits, each in its own float of the same number. Each printed tabular reports its natural and fitted
    /// width through `\reporttablesize` when the document defines it (paper/report.tex), for
    /// scripts/check-paper.sh.
    public func latex() -> String {
        let spec = latexColumnSpec ?? alignments.map(Table.specLetter).joined()
        let all = Array(header.indices)
        let splits = latexColumnSpec == nil ? (2...4).compactMap { columnGroups(parts: $0) }.map { $0.map { [0] + $0 } } : []
        if breaksAcrossPages || rows.count > Table.longTableRows {
            // Not shrunk: printed at the surrounding font. One wider than the line is split into
            // 2, 3 or 4 longtables of consecutive columns (each repeating the first), the fewest
            // whose widest part fits the line.
            guard !splits.isEmpty else { return longTables(parts: [all], spec: spec) }
            return measuredChoice(all: all, spec: spec, splits: splits, font: "", limitSetup: "", limit: "\\linewidth", print: longTables)
        }
        // The widest tabular that still prints at the minimum font: font size × line width / minimum.
        let limit = "\\dimen2=\\csname f@size\\endcsname\\linewidth \\divide\\dimen2 by \(Int(Table.minimumPrintedFontPoints))\\relax\\xdef\\reporttablelimit{\\the\\dimen2}%\n"
        return measuredChoice(all: all, spec: spec, splits: splits, font: "\\small", limitSetup: limit, limit: "\\reporttablelimit", print: float)
    }

    /// Measures, outside any float and at `font`, the full tabular and every split's widest part
    /// (kept in global macros: typesetting may reuse scratch registers), then prints with `print`
    /// the whole table when it is within `limit`, else the fewest parts whose widest is; the last
    /// split is printed whatever its width (the check reports it).
    func measuredChoice(all: [Int], spec: String, splits: [[[Int]]], font: String, limitSetup: String, limit: String,
                        print: ([[Int]], String?) -> String) -> String {
        var out = "\\begingroup\(font)\n"
        out += "\\sbox0{\(tabular(columns: all, spec: spec))}\\xdef\\reporttablewidth{\\the\\wd0}%\n"
        out += limitSetup
        for (i, parts) in splits.enumerated() where i < splits.count - 1 {
            out += "\\gdef\\reporttablewidest\(Table.letter(i)){0pt}%\n"
            for p in parts {
                out += "\\sbox0{\(tabular(columns: p, spec: nil))}\\ifdim\\wd0>\\reporttablewidest\(Table.letter(i))\\relax\\xdef\\reporttablewidest\(Table.letter(i)){\\the\\wd0}\\fi\n"
            }
        }
        out += "\\endgroup\n"
        let whole = print([all], spec)
        guard let last = splits.last else { return out + whole }
        var body = print(last, nil)
        for i in (0..<(splits.count - 1)).reversed() {
            body = "\\ifdim\\reporttablewidest\(Table.letter(i))>\(limit)\\relax\n" + body + "\\else\n" + print(splits[i], nil) + "\\fi\n"
        }
        return out + "\\ifdim\\reporttablewidth>\(limit)\\relax\n" + body + "\\else\n" + whole + "\\fi\n"
    }

    /// One `longtable` per part (header repeated on every page): the first with the caption and
    /// label, the others with the same number, captioned "(continued, part k of n)".
    func longTables(parts: [[Int]], spec: String?) -> String {
        parts.enumerated().map { k, columns in
            let s = spec ?? columns.map { Table.specLetter(alignments[$0]) }.joined()
            let head = columns.map { Table.latexEscape(header[$0]) }.joined(separator: " & ") + " \\\\\n"
            var out = (k == 0 ? "" : "\\addtocounter{table}{-1}") + "\\begin{longtable}{\(s)}\n"
            if k == 0 {
                if !caption.isEmpty {
                    out += "\\caption{\(Table.latexEscape(caption))" + (parts.count > 1 ? " (in \(parts.count) parts, each repeating the first column)" : "") + "}"
                    out += (label.isEmpty ? "" : "\\label{\(label)}") + "\\\\\n"
                }
            } else {
                out += "\\caption{(continued, part \(k + 1) of \(parts.count))}\\\\\n"
            }
            out += "\\toprule\n" + head + "\\midrule\n\\endfirsthead\n\\toprule\n" + head + "\\midrule\n\\endhead\n\\bottomrule\n\\endlastfoot\n"
            for r in rows { out += columns.map { Table.latexEscape(r[$0]) }.joined(separator: " & ") + " \\\\\n" }
            return out + "\\end{longtable}\n\\ifdefined\\reporttablesize\\reporttablesize{long}{\\the\\linewidth}{\(k + 1)/\(parts.count)}\\fi\n"
        }.joined()
    }

    static func letter(_ i: Int) -> String { String("ABCDEFGH"[String.Index(utf16Offset: i, in: "ABCDEFGH")]) }

    /// One float per part: the first with the caption and label, the others with the same
    /// number, captioned "(continued)". Each is shrunk to the line width when wider, never grown.
    func float(parts: [[Int]], spec: String?) -> String {
        parts.enumerated().map { k, columns in
            var out = "\\begin{table}[htbp]\n\\centering\n\\small\n"
            if k == 0 {
                if !caption.isEmpty { out += "\\caption{\(Table.latexEscape(caption))" + (parts.count > 1 ? " (in \(parts.count) parts, each repeating the first column)" : "") + "}\n" }
                if !label.isEmpty { out += "\\label{\(label)}\n" }
            } else {
                out += "\\addtocounter{table}{-1}\\caption{(continued, part \(k + 1) of \(parts.count))}\n"
            }
            out += printed(box: 0, content: tabular(columns: columns, spec: spec), part: "\(k + 1)/\(parts.count)") + "\n"
            return out + "\\end{table}\n"
        }.joined()
    }

    /// No table text below this size where it is printed (issue 31).
    public static let minimumPrintedFontPoints = 7.0

    static func specLetter(_ a: Alignment) -> String {
        switch a {
        case .left: return "l"
        case .right: return "r"
        case .center: return "c"
        }
    }

    /// A booktabs tabular of the given columns (`spec` for all of them, else their alignments).
    func tabular(columns: [Int], spec: String?) -> String {
        let s = spec ?? columns.map { Table.specLetter(alignments[$0]) }.joined()
        var out = "\\begin{tabular}{\(s)}\n\\toprule\n"
        out += columns.map { Table.latexEscape(header[$0]) }.joined(separator: " & ") + " \\\\\n\\midrule\n"
        for r in rows { out += columns.map { Table.latexEscape(r[$0]) }.joined(separator: " & ") + " \\\\\n" }
        return out + "\\bottomrule\n\\end{tabular}"
    }

    /// Typesets `content` (or uses the box already holding it), reports its size and prints it,
    /// scaled down to the line width when wider (graphicx), never scaled up.
    func printed(box: Int, content: String?, part: String) -> String {
        var out = content.map { "\\sbox\(box){\($0)}%\n" } ?? ""
        out += "\\ifdefined\\reporttablesize\\reporttablesize{\\the\\wd\(box) }{\\the\\linewidth}{\(part)}\\fi\n"
        out += "\\ifdim\\wd\(box)>\\linewidth\\resizebox{\\linewidth}{!}{\\usebox\(box)}\\else\\usebox\(box)\\fi"
        return out
    }

    /// The columns after the first in `parts` consecutive groups of about equal width (estimated
    /// from the longest cell of each column); nil when there are too few columns.
    func columnGroups(parts: Int) -> [[Int]]? {
        let rest = Array(header.indices.dropFirst())
        guard rest.count >= parts else { return nil }
        let widths = rest.map { c in Double(([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0) + 2 }
        var groups: [[Int]] = []
        var current: [Int] = []
        var used = 0.0
        let total = widths.reduce(0, +)
        for (i, c) in rest.enumerated() {
            let remainingColumns = rest.count - i
            let remainingGroups = parts - groups.count
            // Close the group when it has reached its share, or when the rest is needed one per group.
            if !current.isEmpty && groups.count < parts - 1 && (used + widths[i] / 2 > total * Double(groups.count + 1) / Double(parts) || remainingColumns < remainingGroups) {
                groups.append(current)
                current = []
            }
            current.append(c)
            used += widths[i]
        }
        groups.append(current)
        return groups.count == parts ? groups : nil
    }

    /// Escapes LaTeX's special characters (\ { } $ & # ^ _ % ~) and maps the Greek letters and
    /// symbols this project's tables use to math mode.
    ///
    /// Sub- and superscripts written the gnuplot way are typeset, not printed raw (issue 31:
    /// "σ_{i−1}", "σ_1", "‖·‖_F" appeared as text): `_{…}` and `^{…}` always, and `_x` for a
    /// single digit or Greek letter x after a non-space character, or a single Latin letter after
    /// a symbol (‖_F, σ_L), when no letter or digit follows (identifiers such as "a_b" or
    /// "error_vs_steps" stay literal).
    public static func latexEscape(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            i += 1
            if ch == "_" || ch == "^", i < chars.count {
                if chars[i] == "{", let close = chars[i...].firstIndex(of: "}") {
                    out += "$" + String(ch) + "{" + mathText(chars[(i + 1)..<close]) + "}$"
                    i = close + 1
                    continue
                }
                let next = chars[i]
                let after = i + 1 < chars.count ? chars[i + 1] : nil
                let isWordCharacter: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "_" }
                let before = i >= 2 ? chars[i - 2] : nil
                let subscriptable = next.isNumber || Table.mathSymbols[next] != nil
                    || (next.isASCII && next.isLetter && before.map { !($0.isASCII && ($0.isLetter || $0.isNumber)) } ?? false)
                if ch == "_", let before, !before.isWhitespace, next.isASCII || Table.mathSymbols[next] != nil, subscriptable,
                   after.map({ !isWordCharacter($0) }) ?? true {
                    out += "$_{" + mathText([next][...]) + "}$"
                    i += 1
                    continue
                }
            }
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "{": out += "\\{"
            case "}": out += "\\}"
            case "$": out += "\\$"
            case "&": out += "\\&"
            case "#": out += "\\#"
            case "^": out += "\\textasciicircum{}"
            case "_": out += "\\_"
            case "%": out += "\\%"
            case "~": out += "\\textasciitilde{}"
            case "<": out += "\\textless{}"
            case ">": out += "\\textgreater{}"
            case "–": out += "--"
            case "—": out += "---"
            default:
                if let math = Table.mathSymbols[ch] {
                    out += "$" + math + "$"
                } else if ch.unicodeScalars.count > 1, let accented = Table.accented(ch) {
                    out += accented
                } else if let v = ch.unicodeScalars.first?.value, v > 0x24F, ch.unicodeScalars.count == 1 {
                    // Anything else outside Latin: a visible code point rather than a LaTeX error.
                    out += String(format: "[U+%04X]", v)
                } else {
                    out.append(ch)
                }
            }
        }
        return out
    }

    /// Characters inside a math-mode sub- or superscript: letters, digits and simple operators as
    /// they are, the known symbols as math, anything else escaped in an \mbox.
    static func mathText(_ chars: ArraySlice<Character>) -> String {
        chars.map { c -> String in
            if let math = mathSymbols[c] { return math + " " }
            if c.isASCII && (c.isLetter || c.isNumber || "+-=/,.()[]|'* ".contains(c)) { return String(c) }
            return "\\mbox{" + latexEscape(String(c)) + "}"
        }.joined()
    }

    /// A base character followed by combining accents (e.g. x̃ = "x" + U+0303) as nested LaTeX
    /// text accents; unknown combining marks become a visible [U+XXXX]. Nil when the base is not a
    /// single ASCII letter (the caller then falls back).
    static func accented(_ ch: Character) -> String? {
        let scalars = Array(ch.unicodeScalars)
        guard let base = scalars.first, base.isASCII, base.properties.isAlphabetic else { return nil }
        var out = String(Character(base))
        for mark in scalars.dropFirst() {
            switch mark.value {
            case 0x0303: out = "\\~{\(out)}"
            case 0x0302: out = "\\^{\(out)}"
            case 0x0304: out = "\\={\(out)}"
            case 0x0301: out = "\\'{\(out)}"
            case 0x0300: out = "\\`{\(out)}"
            case 0x0308: out = "\\\"{\(out)}"
            default: out += String(format: "[U+%04X]", mark.value)
            }
        }
        return out
    }

    /// Non-ASCII symbols this project's text uses, as LaTeX math.
    static let mathSymbols: [Character: String] = {
        var m: [Character: String] = [
            "±": "\\pm", "∓": "\\mp", "×": "\\times", "·": "\\cdot", "≤": "\\le", "≥": "\\ge", "≈": "\\approx",
            "≠": "\\ne", "→": "\\to", "←": "\\leftarrow", "∈": "\\in", "∞": "\\infty", "∝": "\\propto", "√": "\\surd",
            "‖": "\\|", "⊙": "\\odot", "∇": "\\nabla", "∑": "\\sum", "−": "-", "∼": "\\sim", "′": "'", "…": "\\ldots",
            "ℓ": "\\ell", "⁻": "^{-}", "ᵀ": "^{\\top}",
        ]
        let greek: [(Character, String)] = [
            ("α", "alpha"), ("β", "beta"), ("γ", "gamma"), ("δ", "delta"), ("ε", "varepsilon"), ("ζ", "zeta"), ("η", "eta"),
            ("θ", "theta"), ("κ", "kappa"), ("λ", "lambda"), ("μ", "mu"), ("ν", "nu"), ("ξ", "xi"), ("π", "pi"), ("ρ", "rho"),
            ("σ", "sigma"), ("τ", "tau"), ("φ", "phi"), ("χ", "chi"), ("ψ", "psi"), ("ω", "omega"), ("Γ", "Gamma"),
            ("Δ", "Delta"), ("Θ", "Theta"), ("Λ", "Lambda"), ("Σ", "Sigma"), ("Φ", "Phi"), ("Ψ", "Psi"), ("Ω", "Omega"),
        ]
        for (c, name) in greek { m[c] = "\\" + name }
        for (i, c) in "⁰¹²³⁴⁵⁶⁷⁸⁹".enumerated() { m[c] = "^{\(i)}" }
        for (i, c) in "₀₁₂₃₄₅₆₇₈₉".enumerated() { m[c] = "_{\(i)}" }
        return m
    }()
}

/// Number formatting shared by tables, so that every table prints numbers the same way.
public enum Format {
    /// `value` with `digits` significant digits ("nan"/"inf" spelled out).
    public static func significant(_ value: Double, _ digits: Int = 4) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        if value == 0 { return "0" }
        let magnitude = Int((Swift.abs(value)).log10Floor)
        if magnitude >= 6 || magnitude < -4 { return String(format: "%.\(Swift.max(digits - 1, 0))e", value) }
        let decimals = Swift.max(0, digits - 1 - magnitude)
        return String(format: "%.\(decimals)f", value)
    }

    /// A fraction as a percentage with one decimal ("12.3%"; "nan" spelled out).
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return significant(fraction) }
        return String(format: "%.1f%%", 100 * fraction)
    }

    /// "[low, high]" of an interval, as percentages when `percent` (else 3 significant digits);
    /// "–" when it is not finite (one seed).
    public static func interval(low: Double, high: Double, percent asPercent: Bool = false) -> String {
        guard low.isFinite, high.isFinite, high > low else { return "–" }
        return asPercent ? "[\(percent(low)), \(percent(high))]" : "[\(significant(low, 3)), \(significant(high, 3))]"
    }

    /// "mean ± halfWidth" with the half-width to 2 significant digits and the mean to the same decimal place.
    public static func withError(_ mean: Double, _ halfWidth: Double) -> String {
        guard mean.isFinite, halfWidth.isFinite, halfWidth > 0 else { return significant(mean) }
        let magnitude = Int(halfWidth.log10Floor)
        let decimals = Swift.max(0, 1 - magnitude)
        if decimals > 8 || Swift.abs(mean) >= 1e6 { return significant(mean) + " ± " + significant(halfWidth, 2) }
        return String(format: "%.\(decimals)f ± %.\(decimals)f", mean, halfWidth)
    }
}

import Foundation

extension Double {
    fileprivate var log10Floor: Double { Foundation.floor(Foundation.log10(self)) }
}
