import DataIO
import Foundation
import Testing
import TensorCore

@Suite struct LabelledImageGridTests {
    /// Writes a 2 × 3 grid of 4 × 5 grey panels, reads the PNG back with the PNG reader and checks
    /// the size, each panel's position (its first pixel carries the panel index), the gap pixels,
    /// clipping, and the sidecar's labels and layout.
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
        #expect(png.width == cols * w + (cols + 1) * gap && png.height == rows * h + (rows + 1) * gap)
        let sidecar = try JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: urls.sidecar))
        #expect(sidecar.rows.labels == ["1", "2"] && sidecar.columns.name == "step")
        #expect(sidecar.imageWidth == png.width && sidecar.image == "samples.png" && sidecar.valueRange.mode == "clip")
        for r in 0..<rows {
            for c in 0..<cols {
                let p = r * cols + c
                let o = sidecar.origin(row: r, column: c)
                #expect(o.x == gap + c * (w + gap) && o.y == gap + r * (h + gap))
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
        #expect(Array(png.pixel(x: 1, y: 1)) == [255, 0, 128])
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
        #expect(sidecar.pixelScale == k && png.width == 2 * w * k + 3 * gap && png.height == h * k + 2 * gap)
        for p in 0..<2 {
            let o = sidecar.origin(row: 0, column: p)
            #expect(o.x == gap + p * (w * k + gap) && o.y == gap)
            for y in 0..<(h * k) {
                for x in 0..<(w * k) {
                    let v = Double(panels.scalars[p * h * w + (y / k) * w + x / k])
                    #expect(png.pixel(x: o.x + x, y: o.y + y).first == UInt8((v * 255).rounded()))
                }
            }
        }
        #expect(LabelledImageGrid.automaticScale(side: 8) == 7 && LabelledImageGrid.automaticScale(side: 28) == 2
                && LabelledImageGrid.automaticScale(side: 64) == 1)
    }
}
