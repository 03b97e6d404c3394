import DataIO
import Foundation
import Testing
import TensorCore

@Suite struct LabelledImageGridTests {
    /// Writes a 2 × 3 grid of 4 × 5 grey panels (labels drawn around them), reads the PNG back with
    /// the PNG reader and checks the size, each panel's position by the sidecar's layout formula
    /// (its first pixel carries the panel index), the gap pixels, clipping, and the sidecar's labels.
    @Test func greyGridReadsBack() throws {
        let folder = TemporaryFolder()
        let (rows, cols, h, w, gap) = (2, 3, 4, 5, 2)
        var panels = Tensor<Float>(shape: [rows * cols, 1, h, w])
        for p in 0..<(rows * cols) {
            for y in 0..<h {
                for x in 0..<w { panels.scalars[p * h * w + y * w + x] = Float(p) / 10 + Float(x + y) / 100 }
            }
        }
        panels.scalars[5 * h * w + 1] = 7  // above the range: clipped to white
        panels.scalars[5 * h * w + 2] = -3  // below: black
        let grid = LabelledImageGrid(
            rows: GridAxis(name: "beta", labels: ["1", "2"]),
            columns: GridAxis(name: "step", labels: ["0", "10", "20"]),
            panelHeight: h, panelWidth: w, gap: gap, background: 1, title: "test grid", pixelScale: 1)
        let urls = try grid.write(panels, name: "samples", in: folder.url)
        #expect(urls.png.lastPathComponent == "samples.png" && urls.sidecar.lastPathComponent == "samples.json")
        let png = try PNGImage.read(from: urls.png)
        #expect(png.format == .gray)
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: urls.sidecar))
        #expect(sidecar.rows.labels == ["1", "2"] && sidecar.columns.name == "step" && sidecar.formatVersion == 3)
        #expect(sidecar.imageWidth == png.width && sidecar.imageHeight == png.height && sidecar.image == "samples.png"
                && sidecar.valueRange.mode == "clip")
        // The block of panels has ImageGrid's size; the labels sit left of and above it.
        let block = try #require(sidecar.labelAreas?.panels)
        #expect(block.width == cols * w + (cols + 1) * gap && block.height == rows * h + (rows + 1) * gap)
        #expect(block.x > 0 && block.y > 0 && block.x + block.width <= png.width && block.y + block.height == png.height)
        let (x0, y0) = try (#require(sidecar.firstPanelX), #require(sidecar.firstPanelY))
        #expect(x0 == block.x + gap && y0 == block.y + gap)
        for r in 0..<rows {
            for c in 0..<cols {
                let p = r * cols + c
                let o = sidecar.origin(row: r, column: c)
                #expect(o.x == x0 + c * (w + gap) && o.y == y0 + r * (h + gap))
                for y in 0..<h {
                    for x in 0..<w where !(p == 5 && y == 0 && (x == 1 || x == 2)) {
                        let expected = UInt8((Double(Float(p) / 10 + Float(x + y) / 100) * 255).rounded())
                        #expect(png.pixel(x: o.x + x, y: o.y + y).first == expected)
                    }
                }
                // The pixel left of each panel is background (white).
                #expect(png.pixel(x: o.x - 1, y: o.y).first == 255)
            }
        }
        let last = sidecar.origin(row: 1, column: 2)
        #expect(png.pixel(x: last.x + 1, y: last.y).first == 255)
        #expect(png.pixel(x: last.x + 2, y: last.y).first == 0)
    }

    /// Signed maps: per-panel symmetric scaling puts 0 at mid grey and ±max|v| at black/white,
    /// and the sidecar records each panel's scale.
    @Test func symmetricScaling() throws {
        let folder = TemporaryFolder()
        let panels = Tensor<Double>(shape: [2, 1, 1, 3], scalars: [-2, 0, 1, 0.5, -0.25, 0])
        let grid = LabelledImageGrid(
            rows: GridAxis(name: "image", labels: ["a"]), columns: GridAxis(name: "eigenvector", labels: ["1", "2"]),
            panelHeight: 1, panelWidth: 3, gap: 1, valueRange: .symmetric(perPanel: true), pixelScale: 1)
        let urls = try grid.write(panels, name: "eigen", in: folder.url)
        let png = try PNGImage.read(from: urls.png)
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: urls.sidecar))
        #expect(sidecar.valueRange.mode == "symmetric" && sidecar.valueRange.scope == "per_panel")
        #expect(sidecar.valueRange.scales == [2, 0.5])
        let o0 = sidecar.origin(row: 0, column: 0), o1 = sidecar.origin(row: 0, column: 1)
        let grey = { (v: Double) in UInt8((v * 255).rounded()) }
        #expect(png.pixel(x: o0.x, y: o0.y).first == 0)  // −2 of scale 2
        #expect(png.pixel(x: o0.x + 1, y: o0.y).first == grey(0.5))
        #expect(png.pixel(x: o0.x + 2, y: o0.y).first == grey(0.75))
        #expect(png.pixel(x: o1.x, y: o1.y).first == 255)  // 0.5 of scale 0.5
        #expect(png.pixel(x: o1.x + 1, y: o1.y).first == grey(0.25))
    }

    /// RGB panels are channel-first in the tensor and interleaved in the PNG.
    @Test func rgbPanels() throws {
        let panels = Tensor<Float>(shape: [1, 3, 1, 1], scalars: [1, 0, 0.5])
        let grid = LabelledImageGrid(rows: GridAxis(name: "r", labels: ["x"]), columns: GridAxis(name: "c", labels: ["y"]),
                                     panelHeight: 1, panelWidth: 1, channels: 3, gap: 1, pixelScale: 1)
        let (png, sidecar) = try grid.render(panels)
        #expect(png.format == .rgb && sidecar.channels == 3)
        let o = sidecar.origin(row: 0, column: 0)
        #expect(Array(png.pixel(x: o.x, y: o.y)) == [255, 0, 128])
        // Labels are grey in RGB too: black in all three channels somewhere in the row-label strip.
        let strip = try #require(sidecar.labelAreas?.rowLabels)
        #expect((strip.y..<(strip.y + strip.height)).contains { y in (0..<strip.width).contains { Array(png.pixel(x: $0, y: y)) == [0, 0, 0] } })
        // Without labels the panel sits at (gap, gap), as in ImageGrid.
        var plain = grid
        plain.drawsLabels = false
        let (bare, bareSidecar) = try plain.render(panels)
        #expect(bare.width == 3 && bare.height == 3 && Array(bare.pixel(x: 1, y: 1)) == [255, 0, 128])
        #expect(bareSidecar.origin(row: 0, column: 0) == (1, 1) && bareSidecar.labelAreas == nil && bareSidecar.labelsDrawn == false)
    }

    @Test func wrongPanelCountIsReported() {
        let grid = LabelledImageGrid(rows: GridAxis(name: "beta", labels: ["1", "2"]), columns: GridAxis(name: "step", labels: ["0"]),
                                     panelHeight: 2, panelWidth: 2, pixelScale: 1)
        let error = dataIOError { _ = try grid.render(Tensor<Float>(shape: [3, 4])) }
        #expect(error.map { "\($0)".contains("2×1 = 2 panels") && "\($0)".contains("[3, 4]") } == true)
    }

    /// With pixel scale 3, every image pixel is a 3×3 block at the position the sidecar's origin
    /// and scale give, and the automatic scale makes 8×8 panels 56 pixels wide.
    @Test func upscaledPanelsReadBack() throws {
        let folder = TemporaryFolder()
        let (h, w, k, gap) = (2, 3, 3, 1)
        var panels = Tensor<Float>(shape: [2, h * w])
        for i in 0..<panels.count { panels.scalars[i] = Float(i) / 20 }
        let grid = LabelledImageGrid(rows: GridAxis(name: "r", labels: ["a"]), columns: GridAxis(name: "c", labels: ["x", "y"]),
                                     panelHeight: h, panelWidth: w, gap: gap, pixelScale: k)
        let urls = try grid.write(panels, name: "big", in: folder.url)
        let png = try PNGImage.read(from: urls.png)
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: urls.sidecar))
        let block = try #require(sidecar.labelAreas?.panels)
        #expect(sidecar.pixelScale == k && block.width == 2 * w * k + 3 * gap && block.height == h * k + 2 * gap)
        for p in 0..<2 {
            let o = sidecar.origin(row: 0, column: p)
            #expect(o.x == block.x + gap + p * (w * k + gap) && o.y == block.y + gap)
            for y in 0..<(h * k) {
                for x in 0..<(w * k) {
                    let v = Double(panels.scalars[p * h * w + (y / k) * w + x / k])
                    #expect(png.pixel(x: o.x + x, y: o.y + y).first == UInt8((v * 255).rounded()))
                }
            }
        }
        #expect(LabelledImageGrid.automaticScale(side: 8) == 7 && LabelledImageGrid.automaticScale(side: 28) == 2
                && LabelledImageGrid.automaticScale(side: 64) == 1 && LabelledImageGrid.automaticScale(side: 10) == 6
                && LabelledImageGrid.automaticScale(side: 56) == 1 && LabelledImageGrid.automaticScale(side: 30) == 2)
        // The shorter side decides: an 8 × 20 panel is drawn 56 × 140.
        let wide = LabelledImageGrid(rows: GridAxis(name: "r", labels: ["a"]), columns: GridAxis(name: "c", labels: ["x"]),
                                     panelHeight: 8, panelWidth: 20)
        #expect(wide.pixelScale == 7 && wide.gap >= 4)
    }

    /// 8 × 8 digits with the defaults (the experiments' call): panels drawn 56 × 56 (7×), 4-pixel
    /// white gaps, at the positions the sidecar gives; every panel pixel is its source value
    /// upscaled, every gap pixel background, even where strokes touch the panel's border.
    @Test func digitPanelsAreLargeAndSeparated() throws {
        let (rows, cols, side) = (2, 3, 8)
        var panels = Tensor<Float>(shape: [rows * cols, side * side])
        for p in 0..<(rows * cols) {
            for i in 0..<(side * side) {
                let (y, x) = (i / side, i % side)
                // Border pixels alternate black and bright, inner ones vary with the panel.
                let border = y == 0 || x == 0 || y == side - 1 || x == side - 1
                panels.scalars[p * side * side + i] = border ? Float((x + y) % 2) * 0.9 : Float((p * 7 + i * 3) % 16) / 15
            }
        }
        let grid = LabelledImageGrid(rows: GridAxis(name: "β", labels: ["β = 1.5", "β = 2"]),
                                     columns: GridAxis(name: "chain", labels: ["0", "1", "2"]),
                                     panelHeight: side, panelWidth: side, title: "samples; ε = 0.1·σ²")
        let folder = TemporaryFolder()
        let urls = try grid.write(panels, name: "digits", in: folder.url)
        let png = try PNGImage.read(from: urls.png)
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: urls.sidecar))
        let k = try #require(sidecar.pixelScale)
        #expect(k == 7 && side * k >= 56 && sidecar.gap >= 4 && sidecar.labelsDrawn == true && sidecar.textScale == 2)
        #expect(png.width == sidecar.imageWidth && png.height == sidecar.imageHeight && png.format == .gray)
        let cell = side * k, gap = sidecar.gap
        let background: UInt8 = 255
        for r in 0..<rows {
            for c in 0..<cols {
                let o = sidecar.origin(row: r, column: c)
                #expect(o.x == sidecar.firstPanelX! + c * (cell + gap) && o.y == sidecar.firstPanelY! + r * (cell + gap))
                for y in 0..<cell {
                    for x in 0..<cell {
                        let v = Double(panels.scalars[(r * cols + c) * side * side + (y / k) * side + x / k])
                        #expect(png.pixel(x: o.x + x, y: o.y + y).first == UInt8((v * 255).rounded()))
                    }
                }
                // The gap to the right of and below each panel (and around the block) is background.
                for d in 1...gap {
                    for t in 0..<cell {
                        #expect(png.pixel(x: o.x + cell - 1 + d, y: o.y + t).first == background)
                        #expect(png.pixel(x: o.x + t, y: o.y + cell - 1 + d).first == background)
                        #expect(png.pixel(x: o.x - d, y: o.y + t).first == background)
                        #expect(png.pixel(x: o.x + t, y: o.y - d).first == background)
                    }
                }
            }
        }
    }

    /// The labels are drawn into the PNG: ink in the title strip, above every column, beside every
    /// row and where the row axis name goes; none of it touches the panels (the block of panels
    /// is byte for byte the unlabelled render), and the strips lie outside the block.
    @Test func labelsAreDrawnOutsideThePanels() throws {
        let (rows, cols, side) = (3, 4, 8)
        var panels = Tensor<Double>(shape: [rows * cols, side * side])
        for i in 0..<panels.count { panels.scalars[i] = Double((i * 13) % 17) / 16 }
        let grid = LabelledImageGrid(
            rows: GridAxis(name: "sampler, chain", labels: ["ula test start 0", "ozaki noise start 1", "β ≥ 2"]),
            columns: GridAxis(name: "step", labels: ["t = 0", "t = 100", "mean m = x̃ + σ²s̃₁", "predicted variance diag(σ⁴s̃₂ + σ²I)"]),
            panelHeight: side, panelWidth: side,
            title: "Tweedie-denoised chain states x + σ²s̃₁(x), σ = 0.3, ε = 0.05·σ², seed 0; same starts and noise for both samplers; a long title is wrapped")
        let (png, sidecar) = try grid.render(panels)
        var plain = grid
        plain.drawsLabels = false
        let (bare, bareSidecar) = try plain.render(panels)
        let areas = try #require(sidecar.labelAreas)
        let title = try #require(areas.title), header = try #require(areas.columnLabels), left = try #require(areas.rowLabels)
        // The block of panels is the unlabelled image, copied unchanged.
        #expect(areas.panels.width == bare.width && areas.panels.height == bare.height)
        for y in 0..<bare.height {
            for x in 0..<bare.width {
                #expect(png.pixel(x: areas.panels.x + x, y: areas.panels.y + y) == bare.pixel(x: x, y: y))
            }
        }
        #expect(sidecar.origin(row: 2, column: 3) == (bareSidecar.origin(row: 2, column: 3).x + areas.panels.x,
                                                      bareSidecar.origin(row: 2, column: 3).y + areas.panels.y))
        // The areas do not overlap the panels, and cover every non-background pixel outside them.
        for area in [title, header, left] {
            #expect(area.x + area.width <= areas.panels.x || area.y + area.height <= areas.panels.y)
            #expect(area.x >= 0 && area.y >= 0 && area.x + area.width <= png.width && area.y + area.height <= png.height)
        }
        func ink(_ xs: Range<Int>, _ ys: Range<Int>) -> Int {
            var n = 0
            for y in ys { for x in xs where png.pixel(x: x, y: y).first != 255 { n += 1 } }
            return n
        }
        for y in 0..<png.height {
            for x in 0..<png.width where !areas.panels.contains(x: x, y: y) && png.pixel(x: x, y: y).first != 255 {
                #expect([title, header, left].contains { $0.contains(x: x, y: y) }, "ink at (\(x), \(y)) outside the label areas")
            }
        }
        #expect(ink(0..<title.width, title.y..<(title.y + title.height)) > 0)
        let cell = side * sidecar.pixelScale!, gap = sidecar.gap
        for c in 0..<cols {
            let o = sidecar.origin(row: 0, column: c)
            #expect(ink((o.x - gap / 2)..<(o.x + cell + gap / 2), header.y..<(header.y + header.height)) > 0, "column \(c) label")
        }
        for r in 0..<rows {
            let o = sidecar.origin(row: r, column: 0)
            #expect(ink(0..<left.width, o.y..<(o.y + cell)) > 0, "row \(r) label")
        }
        // The row axis name sits in the corner above the row labels.
        #expect(ink(0..<left.width, header.y..<(header.y + header.height)) > 0)
        // The column labels' ink stays inside the header strip's columns (none left of the block).
        #expect(ink(0..<(areas.panels.x + gap / 2), header.y..<(header.y + header.height)) == ink(0..<left.width, header.y..<(header.y + header.height)))
    }

    /// The same inputs give the same bytes (PNG and sidecar), and a dark background gets white text.
    @Test func deterministicAndInkContrasts() throws {
        let panels = Tensor<Float>(shape: [2, 64], scalars: (0..<128).map { Float($0 % 9) / 8 })
        let grid = LabelledImageGrid(rows: GridAxis(name: "σ", labels: ["σ = 0.1"]), columns: GridAxis(name: "k", labels: ["a", "b"]),
                                     panelHeight: 8, panelWidth: 8, title: "twice")
        let one = TemporaryFolder("one"), two = TemporaryFolder("two")
        let a = try grid.write(panels, name: "g", in: one.url), b = try grid.write(panels, name: "g", in: two.url)
        #expect(try Data(contentsOf: a.png) == Data(contentsOf: b.png))
        #expect(try Data(contentsOf: a.sidecar) == Data(contentsOf: b.sidecar))
        var dark = grid
        dark.background = 0
        let (png, sidecar) = try dark.render(panels)
        let title = try #require(sidecar.labelAreas?.title)
        var levels = Set<UInt8>()
        for y in title.y..<(title.y + title.height) { for x in 0..<title.width { levels.insert(png.pixel(x: x, y: y).first!) } }
        #expect(levels == [0, 255])
    }

    /// Sidecars of format 2 (no first_panel_x/y) still give their panel positions.
    @Test func formatTwoSidecarsStillDecode() throws {
        let json = """
            {"format_version": 2, "image": "a.png", "rows": {"name": "r", "labels": ["0"]}, "columns": {"name": "c", "labels": ["0", "1"]},
             "panel_height": 8, "panel_width": 8, "channels": 1, "gap": 2, "pixel_scale": 7, "image_width": 118, "image_height": 60,
             "layout": "...", "value_range": {"mode": "clip", "lower": 0, "upper": 1, "meaning": "..."}}
            """
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(json.utf8))
        #expect(sidecar.origin(row: 0, column: 1) == (60, 2) && sidecar.labelAreas == nil && sidecar.labelsDrawn == nil)
    }
}
