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

    /// Tables with more rows than this become a `longtable` that breaks across pages.
    public static let longTableRows = 40

    /// A LaTeX `table` environment using booktabs rules (\toprule, \midrule, \bottomrule), shrunk
    /// to the line width when wider; a `longtable` (header repeated on every page) beyond
    /// `longTableRows` rows.
    public func latex() -> String {
        let spec = latexColumnSpec ?? alignments.map { a -> String in
            switch a {
            case .left: return "l"
            case .right: return "r"
            case .center: return "c"
            }
        }.joined()
        let head = header.map(Table.latexEscape).joined(separator: " & ") + " \\\\\n"
        if breaksAcrossPages || rows.count > Table.longTableRows {
            var out = "\\begin{longtable}{\(spec)}\n"
            if !caption.isEmpty { out += "\\caption{\(Table.latexEscape(caption))}" + (label.isEmpty ? "" : "\\label{\(label)}") + "\\\\\n" }
            out += "\\toprule\n" + head + "\\midrule\n\\endfirsthead\n\\toprule\n" + head + "\\midrule\n\\endhead\n\\bottomrule\n\\endlastfoot\n"
            for r in rows { out += r.map(Table.latexEscape).joined(separator: " & ") + " \\\\\n" }
            return out + "\\end{longtable}\n"
        }
        var out = "\\begin{table}[htbp]\n\\centering\n\\small\n"
        if !caption.isEmpty { out += "\\caption{\(Table.latexEscape(caption))}\n" }
        if !label.isEmpty { out += "\\label{\(label)}\n" }
        // Scaled down to the line width when wider (graphicx), never scaled up.
        out += "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
        out += "\\begin{tabular}{\(spec)}\n\\toprule\n"
        out += header.map(Table.latexEscape).joined(separator: " & ") + " \\\\\n\\midrule\n"
        for r in rows { out += r.map(Table.latexEscape).joined(separator: " & ") + " \\\\\n" }
        out += "\\bottomrule\n\\end{tabular}}\n\\end{table}\n"
        return out
    }

    /// Escapes LaTeX's special characters (\ { } $ & # ^ _ % ~) and maps the Greek letters and
    /// symbols this project's tables use to math mode.
    public static func latexEscape(_ s: String) -> String {
        var out = ""
        for ch in s {
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
