// A 5×7 bitmap font for printable ASCII (32–126), so that grids can carry their labels without a
// font library. The glyphs were drawn for this project in the classic 5×7 dot-matrix style and
// are dedicated to the public domain (CC0). Each glyph is 5 columns × 7 rows of dots above the
// baseline plus 2 rows below it, used only by the descenders of g, j, p, q, y and of the comma and
// semicolon (without them g and q read as 9); text advances 6 dots per character (1 blank column)
// and 11 dots per line (2 blank rows), and is drawn at an integer scale (every dot a scale × scale
// block), so that the result is exact and deterministic.
//
// Text is first reduced to printable ASCII by `transliterate`: Greek letters become their names
// (β → "beta", ε → "eps"), mathematical signs ASCII look-alikes (× → "x", − → "-", ≥ → ">="),
// superscripts "^" plus the character (σ² → "sigma^2"), subscripts the plain character (s₁ → "s1"),
// a combining tilde or hat "~" or "^" after its letter (x̃ → "x~"), accented Latin letters their
// base letter (é → "e"), and anything else "?".
import Foundation

/// The grids' 5×7 bitmap font and the text helpers built on it.
public enum BitmapFont {
    /// Dots per glyph, across and down (7 rows above the baseline, 2 for descenders).
    public static let glyphWidth = 5
    public static let glyphHeight = 9
    /// Dots from one character to the next (glyph plus one blank column).
    public static let advance = 6
    /// Dots from one line to the next (glyph plus two blank rows).
    public static let lineAdvance = 11

    /// The glyph art, 16 characters per block in code order from 32 (space) to 126 (~); "#" is a
    /// dot, "." blank; glyphs are separated by one space; rows 8 and 9 are below the baseline.
    private static let art: [String] = [
        //       !     "     #     $     %     &     '     (     )     *     +     ,     -     .     /
        """
        ..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#.. ...#. .#... ..... ..... ..... ..... ..... .....
        ..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#
        ..... ..#.. .#.#. ##### #.#.. ...#. #.#.. ..#.. .#... ...#. #.#.# ..#.. ..... ..... ..... ...#.
        ..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. ##### ..... ##### ..... ..#..
        ..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#.. ..... ..... ..... .#...
        ..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....
        ..... ..#.. ..... .#.#. ..#.. ...## .##.# ..... ...#. .#... ..... ..... .##.. ..... .##.. .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... .....
        """,
        // 0     1     2     3     4     5     6     7     8     9     :     ;     <     =     >     ?
        """
        .###. ..#.. .###. ##### ...#. ##### ..##. ##### .###. .###. ..... ..... ...#. ..... .#... .###.
        #...# .##.. #...# ...#. ..##. #.... .#... ....# #...# #...# .##.. .##.. ..#.. ..... ..#.. #...#
        #..## ..#.. ....# ..#.. .#.#. ####. #.... ...#. #...# #...# .##.. .##.. .#... ##### ...#. ....#
        #.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#.. .###. .#### ..... ..... #.... ..... ....# ...#.
        ##..# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....# .##.. ..... .#... ##### ...#. ..#..
        #...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#. .##.. .##.. ..#.. ..... ..#.. .....
        .###. .###. ##### .###. ...#. .###. .###. .#... .###. .##.. ..... .##.. ...#. ..... .#... ..#..
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... ..... .....
        """,
        // @     A     B     C     D     E     F     G     H     I     J     K     L     M     N     O
        """
        .###. .###. ####. .###. ###.. ##### ##### .###. #...# .###. ..### #...# #.... #...# #...# .###.
        #...# #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. ...#. #..#. #.... ##.## #...# #...#
        ....# #...# #...# #.... #...# #.... #.... #.... #...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#
        .##.# #...# ####. #.... #...# ####. ####. #.### ##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#
        #.#.# ##### #...# #.... #...# #.... #.... #...# #...# ..#.. ...#. #.#.. #.... #...# #..## #...#
        #.#.# #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. #..#. #..#. #.... #...# #...# #...#
        .###. #...# ####. .###. ###.. ##### #.... .#### #...# .###. .##.. #...# ##### #...# #...# .###.
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
        """,
        // P     Q     R     S     T     U     V     W     X     Y     Z     [     \     ]     ^     _
        """
        ####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### .###. ..... .###. ..#.. .....
        #...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# .#... #.... ...#. .#.#. .....
        #...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. .#... .#... ...#. #...# .....
        ####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. .#... ..#.. ...#. ..... .....
        #.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... .#... ...#. ...#. ..... .....
        #.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... .#... ....# ...#. ..... .....
        #.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### .###. ..... .###. ..... #####
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....
        """,
        // `     a     b     c     d     e     f     g     h     i     j     k     l     m     n     o
        """
        .#... ..... #.... ..... ....# ..... ..##. ..... #.... ..#.. ...#. #.... .##.. ..... ..... .....
        ..#.. ..... #.... ..... ....# ..... .#..# ..... #.... ..... ..... #.... ..#.. ..... ..... .....
        ...#. .###. #.##. .###. .##.# .###. .#... .#### #.##. .##.. ..##. #..#. ..#.. ##.#. #.##. .###.
        ..... ....# ##..# #.... #..## #...# ###.. #...# ##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..# #...#
        ..... .#### #...# #.... #...# ##### .#... #...# #...# ..#.. ...#. ##... ..#.. #.#.# #...# #...#
        ..... #...# #...# #...# #...# #.... .#... #...# #...# ..#.. ...#. #.#.. ..#.. #...# #...# #...#
        ..... .#### ####. .###. .#### .###. .#... .#### #...# .###. ...#. #..#. .###. #...# #...# .###.
        ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... #..#. ..... ..... ..... ..... .....
        ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... .##.. ..... ..... ..... ..... .....
        """,
        // p     q     r     s     t     u     v     w     x     y     z     {     |     }     ~
        """
        ..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ...#. ..#.. .#... .....
        ..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. .....
        ####. .#### #.##. .###. ###.. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#...
        #...# #...# ##..# #.... .#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.#
        #...# #...# #.... .###. .#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#.
        #...# #...# #.... ....# .#..# #..## .#.#. #.#.# .#.#. #...# .#... ..#.. ..#.. ..#.. .....
        ####. .#### #.... ####. ..##. .##.# ..#.. .#.#. #...# .#### ##### ...#. ..#.. .#... .....
        #.... ....# ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... ..... ..... .....
        #.... ....# ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... ..... ..... .....
        """,
    ]

    /// Per printable character (index code − 32), 9 rows of 5 bits, bit 4 the leftmost dot.
    static let glyphs: [[UInt8]] = {
        var table: [[UInt8]] = []
        for block in art {
            let lines = block.split(separator: "\n").map { Array($0.utf8) }
            precondition(lines.count == glyphHeight, "BitmapFont: a block must have \(glyphHeight) rows")
            let count = (lines[0].count + 1) / (glyphWidth + 1)
            for g in 0..<count {
                table.append(lines.map { line in
                    var bits: UInt8 = 0
                    for x in 0..<glyphWidth where line[g * (glyphWidth + 1) + x] == UInt8(ascii: "#") { bits |= 1 << (glyphWidth - 1 - x) }
                    return bits
                })
            }
        }
        precondition(table.count == 95, "BitmapFont: expected 95 glyphs, found \(table.count)")
        return table
    }()

    /// The 9 rows of the glyph for ASCII `code` (bit 4 = leftmost dot); "?" outside 32–126.
    public static func glyph(_ code: UInt8) -> [UInt8] {
        (32...126).contains(code) ? glyphs[Int(code) - 32] : glyphs[Int(UInt8(ascii: "?")) - 32]
    }

    /// Whether dot (x, y) of the glyph for `code` is set (x across 0..<5, y down 0..<9).
    public static func isSet(_ code: UInt8, x: Int, y: Int) -> Bool {
        guard (0..<glyphWidth).contains(x), (0..<glyphHeight).contains(y) else { return false }
        return glyph(code)[y] & (1 << (glyphWidth - 1 - x)) != 0
    }

    // MARK: - Transliteration

    /// Replacements for the non-ASCII characters used in this project's labels and titles.
    static let replacements: [Unicode.Scalar: String] = {
        var map: [Unicode.Scalar: String] = [:]
        let greek: [(String, String)] = [
            ("α", "alpha"), ("β", "beta"), ("γ", "gamma"), ("δ", "delta"), ("ε", "eps"), ("ϵ", "eps"), ("ζ", "zeta"),
            ("η", "eta"), ("θ", "theta"), ("ϑ", "theta"), ("ι", "iota"), ("κ", "kappa"), ("λ", "lambda"), ("μ", "mu"),
            ("µ", "mu"), ("ν", "nu"), ("ξ", "xi"), ("ο", "o"), ("π", "pi"), ("ρ", "rho"), ("σ", "sigma"), ("ς", "sigma"),
            ("τ", "tau"), ("υ", "upsilon"), ("φ", "phi"), ("ϕ", "phi"), ("χ", "chi"), ("ψ", "psi"), ("ω", "omega"),
            ("Α", "A"), ("Β", "B"), ("Γ", "Gamma"), ("Δ", "Delta"), ("Ε", "E"), ("Ζ", "Z"), ("Η", "H"), ("Θ", "Theta"),
            ("Ι", "I"), ("Κ", "K"), ("Λ", "Lambda"), ("Μ", "M"), ("Ν", "N"), ("Ξ", "Xi"), ("Ο", "O"), ("Π", "Pi"),
            ("Ρ", "P"), ("Σ", "Sigma"), ("Τ", "T"), ("Υ", "Upsilon"), ("Φ", "Phi"), ("Χ", "X"), ("Ψ", "Psi"), ("Ω", "Omega"),
        ]
        let symbols: [(String, String)] = [
            ("×", "x"), ("−", "-"), ("–", "-"), ("—", "--"), ("‐", "-"), ("‑", "-"), ("·", "*"), ("∗", "*"), ("⋅", "*"),
            ("÷", "/"), ("±", "+-"), ("∓", "-+"), ("≥", ">="), ("≤", "<="), ("≠", "!="), ("≈", "~="), ("∼", "~"),
            ("≪", "<<"), ("≫", ">>"), ("∝", "~"), ("→", "->"), ("←", "<-"), ("↔", "<->"), ("↦", "|->"), ("⇒", "=>"),
            ("⇔", "<=>"), ("…", "..."), ("‖", "||"), ("√", "sqrt"), ("∞", "inf"), ("∇", "grad"), ("∂", "d"),
            ("∈", " in "), ("∑", "sum"), ("∫", "int"), ("∏", "prod"), ("∃", "exists"), ("∀", "for all"), ("∘", "o"),
            ("⊙", "(.)"), ("⟨", "<"), ("⟩", ">"), ("⌊", "floor("), ("⌋", ")"), ("⌈", "ceil("), ("⌉", ")"),
            ("′", "'"), ("″", "''"), ("‘", "'"), ("’", "'"), ("“", "\""), ("”", "\""), ("«", "\""), ("»", "\""),
            ("§", "S"), ("°", "deg"), ("½", "1/2"), ("¼", "1/4"), ("¾", "3/4"), ("✓", "ok"), ("✗", "x"),
            ("ℓ", "l"), ("ℝ", "R"), ("𝟙", "1"), ("ß", "ss"), ("æ", "ae"), ("Æ", "AE"), ("ø", "o"), ("Ø", "O"),
            ("\u{00A0}", " "), ("\u{2009}", " "), ("\u{202F}", " "),
        ]
        for (from, to) in greek + symbols { map[from.unicodeScalars.first!] = to }
        return map
    }()

    /// Superscript characters and what they stand for (drawn after a "^").
    static let superscripts: [Unicode.Scalar: String] = {
        var map: [Unicode.Scalar: String] = [:]
        for (from, to) in zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀˣᵗ".unicodeScalars, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "-", "=", "(", ")", "n", "i", "T", "x", "t"]) {
            map[from] = to
        }
        return map
    }()

    /// Subscript characters and what they stand for (drawn as plain characters).
    static let subscripts: [Unicode.Scalar: String] = {
        var map: [Unicode.Scalar: String] = [:]
        for (from, to) in zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₜᵢⱼₖₙ".unicodeScalars, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "-", "=", "(", ")", "a", "e", "o", "x", "t", "i", "j", "k", "n"]) {
            map[from] = to
        }
        return map
    }()

    /// `text` reduced to printable ASCII (32–126) as described at the top of this file; the same
    /// input always gives the same output.
    public static func transliterate(_ text: String) -> String {
        var out = ""
        var inSuperscript = false
        for scalar in text.unicodeScalars {
            if let s = superscripts[scalar] {
                if !inSuperscript { out += "^" }
                out += s
                inSuperscript = true
                continue
            }
            inSuperscript = false
            if scalar.isASCII {
                out += (32...126).contains(scalar.value) ? String(scalar) : (scalar.value == 9 || scalar.value == 10 || scalar.value == 13 ? " " : "?")
            } else if let s = subscripts[scalar] {
                out += s
            } else if let s = replacements[scalar] {
                out += s
            } else if scalar.value == 0x303 || scalar.value == 0x330 || scalar.value == 0x334 {
                out += "~"  // combining tilde (x̃), tilde below, tilde overlay
            } else if scalar.value == 0x302 || scalar.value == 0x32D {
                out += "^"  // combining circumflex (hat) above or below
            } else if scalar.value == 0x304 || scalar.value == 0x305 {
                out += "-"  // combining macron / overline (x̄ → "x-")
            } else if scalar.value == 0x307 {
                out += "'"  // combining dot above (ẋ → "x'")
            } else if (0x300...0x36F).contains(scalar.value) || scalar.value == 0xFE0F || scalar.value == 0x200B {
                continue  // other combining marks, variation selector, zero-width space: dropped
            } else if let base = latinBase(scalar) {
                out += base
            } else {
                out += "?"
            }
        }
        return out
    }

    /// The ASCII base letter of an accented Latin letter (é → "e", ŝ → "s"), from its canonical
    /// decomposition; nil for anything else.
    private static func latinBase(_ scalar: Unicode.Scalar) -> String? {
        guard (0xC0...0x24F).contains(scalar.value) || (0x1E00...0x1EFF).contains(scalar.value) else { return nil }
        guard let first = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first,
              first.isASCII, first.properties.isAlphabetic else { return nil }
        return String(first)
    }

    // MARK: - Measuring, wrapping and drawing

    /// Width in pixels of one line of `count` characters at `scale` (no trailing blank column).
    public static func width(characters count: Int, scale: Int) -> Int {
        count > 0 ? (count * advance - 1) * scale : 0
    }

    /// How many characters fit on a line `pixels` wide at `scale`.
    public static func characters(fitting pixels: Int, scale: Int) -> Int {
        max(0, (pixels / scale + 1) / advance)
    }

    /// Breaks ASCII `text` into lines of at most `maxCharacters`, at spaces where possible (a
    /// word longer than a line is cut), keeping at most `maxLines`; if text is left over, the last
    /// line ends in "..." (or is cut, on lines shorter than 4).
    /// - Returns: the lines and whether text was left out.
    public static func wrap(_ text: String, maxCharacters: Int, maxLines: Int) -> (lines: [String], truncated: Bool) {
        guard maxCharacters > 0, maxLines > 0 else { return ([], !text.isEmpty) }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var word = Substring(word)
            if current.isEmpty, word.count <= maxCharacters {
                current = String(word)
            } else if !current.isEmpty, current.count + 1 + word.count <= maxCharacters {
                current += " " + word
            } else {
                if !current.isEmpty { lines.append(current); current = "" }
                while word.count > maxCharacters {
                    lines.append(String(word.prefix(maxCharacters)))
                    word = word.dropFirst(maxCharacters)
                }
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        guard lines.count > maxLines else { return (lines, false) }
        var kept = Array(lines.prefix(maxLines))
        let last = kept[maxLines - 1]
        if maxCharacters >= 4 {
            kept[maxLines - 1] = String(last.prefix(maxCharacters - 3)).trimmingCharacters(in: .whitespaces) + "..."
        }
        return (kept, true)
    }

    /// Draws one line of ASCII `text` with its top-left dot at (x, y), every dot a `scale` ×
    /// `scale` block of grey `level` in every channel; dots outside the image are skipped.
    public static func draw(_ text: String, into image: inout PNGImage, x: Int, y: Int, scale: Int, level: UInt8) {
        let channels = image.format.channels
        let (width, height) = (image.width, image.height)
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            for (i, code) in text.utf8.enumerated() {
                let rows = glyph(code)
                let left = x + i * advance * scale
                for gy in 0..<glyphHeight where rows[gy] != 0 {
                    for gx in 0..<glyphWidth where rows[gy] & (1 << (glyphWidth - 1 - gx)) != 0 {
                        for py in (y + gy * scale)..<(y + (gy + 1) * scale) where py >= 0 && py < height {
                            for px in (left + gx * scale)..<(left + (gx + 1) * scale) where px >= 0 && px < width {
                                for c in 0..<channels { pixels[(py * width + px) * channels + c] = level }
                            }
                        }
                    }
                }
            }
        }
    }
}
