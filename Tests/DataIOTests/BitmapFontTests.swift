// The grids' 5×7 bitmap font: every printable ASCII glyph is there and distinct, drawing puts
// each dot where the glyph says at the requested scale, and labels written with Greek letters and
// mathematical signs come out as readable ASCII.
import DataIO
import Testing

@Suite struct BitmapFontTests {
    /// Every printable character but space has at least one dot, space has none, and no two
    /// characters share a glyph.
    @Test func everyPrintableGlyphIsDrawnAndDistinct() {
        var seen: [[UInt8]: UInt8] = [:]
        for code in UInt8(32)...UInt8(126) {
            let rows = BitmapFont.glyph(code)
            #expect(rows.count == BitmapFont.glyphHeight)
            #expect(rows.allSatisfy { $0 < 1 << BitmapFont.glyphWidth }, "glyph \(code) wider than 5 dots")
            let dots = rows.reduce(0) { $0 + $1.nonzeroBitCount }
            if code == 32 {
                #expect(dots == 0, "space has dots")
            } else {
                #expect(dots > 0, "glyph '\(Character(Unicode.Scalar(code)))' is empty")
            }
            #expect(seen[rows] == nil, "'\(Character(Unicode.Scalar(code)))' looks like code \(seen[rows] ?? 0)")
            seen[rows] = code
        }
        // Outside printable ASCII: the "?" glyph.
        #expect(BitmapFont.glyph(7) == BitmapFont.glyph(UInt8(ascii: "?")) && BitmapFont.glyph(200) == BitmapFont.glyph(UInt8(ascii: "?")))
        // A few glyphs checked dot by dot: "-" is the middle row, "|" the middle column.
        #expect(BitmapFont.glyph(UInt8(ascii: "-")) == [0, 0, 0, 0b11111, 0, 0, 0, 0, 0])
        #expect(BitmapFont.glyph(UInt8(ascii: "|")) == [UInt8](repeating: 0b00100, count: 7) + [0, 0])
        // Only g, j, p, q, y, comma and semicolon reach below the baseline (rows 7 and 8).
        let descenders = (UInt8(32)...UInt8(126)).filter { BitmapFont.glyph($0)[7] | BitmapFont.glyph($0)[8] != 0 }
        #expect(String(decoding: descenders, as: UTF8.self) == ",;gjpqy")
    }

    /// Drawing "g-" at scale 3: every dot is a 3 × 3 block of the ink level at the place the
    /// glyph and the advance give, and nothing else changes.
    @Test func drawsDotsAtScale() throws {
        let (scale, x0, y0) = (3, 2, 1)
        var image = PNGImage(width: 40, height: 31, format: .gray, repeating: 255)
        BitmapFont.draw("g-", into: &image, x: x0, y: y0, scale: scale, level: 0)
        #expect(BitmapFont.width(characters: 2, scale: scale) == 33)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (gx, gy) = ((x - x0) / scale, (y - y0) / scale)
                var ink = false
                if x >= x0, y >= y0, gy < BitmapFont.glyphHeight {
                    let (index, dot) = (gx / BitmapFont.advance, gx % BitmapFont.advance)
                    if index < 2 { ink = BitmapFont.isSet(UInt8(ascii: index == 0 ? "g" : "-"), x: dot, y: gy) }
                }
                #expect(image.pixel(x: x, y: y).first == (ink ? 0 : 255), "pixel (\(x), \(y))")
            }
        }
        // Text running off the image is clipped, not a crash; RGB gets the level in every channel.
        var rgb = PNGImage(width: 8, height: 8, format: .rgb, repeating: 0)
        BitmapFont.draw("WWW", into: &rgb, x: -3, y: -2, scale: 2, level: 200)
        // "W" starts at x = -3: its right column (dot 4, x = 5...6) is set in row 1 (y = 0...1), dot 1 (x = 0) is not.
        #expect(Array(rgb.pixel(x: 5, y: 0)) == [200, 200, 200] && Array(rgb.pixel(x: 0, y: 0)) == [0, 0, 0])
    }

    /// The non-ASCII characters of this project's labels become readable ASCII.
    @Test func transliteratesLabels() {
        let cases: [(String, String)] = [
            ("β", "beta"), ("σ", "sigma"), ("ε", "eps"), ("×", "x"), ("−", "-"), ("≥", ">="), ("≤", "<="),
            ("β = 1.5", "beta = 1.5"), ("σ²", "sigma^2"), ("Σ = σ⁴s̃₂ + σ²I", "Sigma = sigma^4s~2 + sigma^2I"),
            ("noisy x̃", "noisy x~"), ("mean m = x̃ + σ²s̃₁", "mean m = x~ + sigma^2s~1"), ("A⁻¹", "A^-1"), ("Aᵀ", "A^T"),
            ("ε = 0.1·σ²", "eps = 0.1*sigma^2"), ("0 … σ²", "0 ... sigma^2"), ("‖x‖", "||x||"), ("a → b", "a -> b"),
            ("±2", "+-2"), ("≈", "~="), ("–", "-"), ("Ozaki ✓", "Ozaki ok"), ("Liò", "Lio"), ("é", "e"), ("ŝ", "s"),
            ("中", "?"), ("😀", "?"), ("a\tb\nc", "a b c"), ("plain ASCII 0-9 ~!", "plain ASCII 0-9 ~!"),
        ]
        for (input, expected) in cases {
            #expect(BitmapFont.transliterate(input) == expected, "\(input)")
        }
        let all = BitmapFont.transliterate("αβγδεζηθικλμνξπρστυφχψω ΓΔΘΛΞΠΣΦΨΩ ½ § ∞ ∇ ∂ ∈ ∝ ≠ ≪ ⟨x⟩ ⌊x⌋ ℓ ℝ 𝟙 ß ü")
        #expect(all.unicodeScalars.allSatisfy { (32...126).contains($0.value) } && !all.contains("?"), "\(all)")
    }

    /// Wrapping breaks at spaces, cuts words longer than a line and ends a cut text with "...".
    @Test func wrapsAndTruncates() {
        #expect(BitmapFont.wrap("t = 100", maxCharacters: 5, maxLines: 2) == (["t =", "100"], false))
        #expect(BitmapFont.wrap("eigenvector 12", maxCharacters: 5, maxLines: 4).lines == ["eigen", "vecto", "r 12"])
        let cut = BitmapFont.wrap("one two three four five", maxCharacters: 9, maxLines: 2)
        #expect(cut.lines == ["one two", "three..."] && cut.truncated)
        #expect(BitmapFont.wrap("", maxCharacters: 9, maxLines: 2).lines.isEmpty)
        #expect(BitmapFont.characters(fitting: 60, scale: 2) == 5 && BitmapFont.characters(fitting: 59, scale: 1) == 10)
    }
}
