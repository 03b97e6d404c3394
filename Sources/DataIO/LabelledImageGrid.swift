// Labelled image grids: a PNG of rows × columns panels plus a JSON sidecar that says what each
// row and column is (e.g. rows = β values, columns = Langevin steps), how big a panel is, where
// panel (r, c) sits in the PNG and how values were mapped to grey levels. Figures built from these
// grids can therefore be read (and re-cut) without the code that made them.
//
// Layout (the one `ImageGrid` uses): panel (r, c) has its top-left pixel at
//     x = gap + c·(width + gap),   y = gap + r·(height + gap),
// with `gap` background pixels between panels and around the border.
//
// Value mapping, stated in the sidecar under "value_range":
//   - clip(lower, upper): v ↦ (v − lower)/(upper − lower), clipped to [0, 1] (images in [0, 1]:
//     the default lower 0, upper 1);
//   - symmetric: signed maps (eigen-images, score fields) without colour: v ↦ 0.5 + 0.5·v/s, with
//     s = max |v| over each panel ("per_panel") or over the whole grid ("grid"), so 0 is mid grey;
//     an all-zero panel is mid grey. The scale(s) used are written to the sidecar.
// NaN becomes 0 (black) in either mode, as in `ImageGrid`.
import Foundation
import TensorCore

/// What one axis of a grid shows.
public struct GridAxis: Codable, Sendable, Equatable {
    /// What varies along the axis, e.g. "beta", "class", "step".
    public var name: String
    /// One label per row (or column), e.g. ["1", "1.5", "2"].
    public var labels: [String]

    /// An axis called `name` with one label per position.
    public init(name: String, labels: [String]) {
        self.name = name
        self.labels = labels
    }
}

/// How panel values become grey levels.
public enum GridValueRange: Sendable, Equatable {
    /// (v − lower)/(upper − lower) clipped to [0, 1].
    case clip(lower: Double, upper: Double)
    /// 0.5 + 0.5·v/max|v|, the maximum taken per panel (`perPanel`) or over the grid.
    case symmetric(perPanel: Bool)

    /// Images in [0, 1], clipped.
    public static let unit = GridValueRange.clip(lower: 0, upper: 1)
}

/// The JSON sidecar written next to a grid's PNG.
public struct GridSidecar: Codable, Sendable, Equatable {
    /// The value mapping as recorded in the sidecar.
    public struct ValueRange: Codable, Sendable, Equatable {
        /// "clip" or "symmetric".
        public var mode: String
        /// clip: the value mapped to black.
        public var lower: Double?
        /// clip: the value mapped to white.
        public var upper: Double?
        /// symmetric: "per_panel" or "grid".
        public var scope: String?
        /// symmetric: max |v| used, per panel in row-major order (one entry when scope is "grid").
        public var scales: [Double]?
        /// A sentence saying how to read the grey levels.
        public var meaning: String
    }

    /// The sidecar format version.
    public var formatVersion: Int
    /// The PNG's file name (same folder).
    public var image: String
    /// Optional free text: what the grid shows.
    public var title: String?
    public var rows: GridAxis
    public var columns: GridAxis
    /// Panel size in pixels and channels (1 grey, 3 RGB).
    public var panelHeight: Int
    public var panelWidth: Int
    public var channels: Int
    /// Background pixels between panels and around the border.
    public var gap: Int
    /// Each image pixel is drawn as a pixel_scale × pixel_scale block (nearest neighbour), so
    /// that small images are legible; absent (1) in format version 1.
    public var pixelScale: Int?
    /// PNG size in pixels.
    public var imageWidth: Int
    public var imageHeight: Int
    /// How to find panel (r, c).
    public var layout: String
    public var valueRange: ValueRange

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", image, title, rows, columns
        case panelHeight = "panel_height", panelWidth = "panel_width", channels, gap, pixelScale = "pixel_scale"
        case imageWidth = "image_width", imageHeight = "image_height", layout
        case valueRange = "value_range"
    }

    /// The top-left pixel (x, y) of panel (row, column).
    public func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        let k = pixelScale ?? 1
        return (gap + column * (panelWidth * k + gap), gap + row * (panelHeight * k + gap))
    }
}

/// A grid of labelled panels written as `<name>.png` plus `<name>.json`.
public struct LabelledImageGrid: Sendable {
    public var rows: GridAxis
    public var columns: GridAxis
    public var panelHeight: Int
    public var panelWidth: Int
    /// 1 (grey) or 3 (RGB), channel-first in the input tensor.
    public var channels: Int
    /// Background pixels between panels and around the border.
    public var gap: Int
    /// Grey level of the background, in [0, 1].
    public var background: Float
    public var valueRange: GridValueRange
    /// Optional free text recorded in the sidecar.
    public var title: String?
    /// Each image pixel becomes a pixelScale × pixelScale block (nearest neighbour).
    public var pixelScale: Int

    /// The default pixel scale for panels of `side` pixels: panels about 56 pixels across
    /// (7 for 8×8 images, 2 for 28×28, 1 from 56 up).
    public static func automaticScale(side: Int) -> Int { max(1, 56 / max(1, side)) }

    /// A grid with `rows.labels.count × columns.labels.count` panels of `panelHeight × panelWidth`.
    public init(rows: GridAxis, columns: GridAxis, panelHeight: Int, panelWidth: Int, channels: Int = 1,
                gap: Int = 2, background: Float = 1, valueRange: GridValueRange = .unit, title: String? = nil,
                pixelScale: Int? = nil) {
        precondition((pixelScale ?? 1) >= 1, "grid: pixel scale must be at least 1")
        self.pixelScale = pixelScale ?? Self.automaticScale(side: max(panelHeight, panelWidth))
        self.rows = rows
        self.columns = columns
        self.panelHeight = panelHeight
        self.panelWidth = panelWidth
        self.channels = channels
        self.gap = gap
        self.background = background
        self.valueRange = valueRange
        self.title = title
    }

    /// Renders `panels`, one per cell in row-major order (panel r·columns + c is row r, column c),
    /// each `channels × panelHeight × panelWidth` values (any tensor shape with that many values
    /// per leading index, e.g. [R·C, C, H, W] or [R·C, H·W]).
    /// - Returns: the PNG image and the sidecar (whose `image` is `imageName`).
    /// - Throws: `DataIOError.format` naming the grid and what was expected.
    public func render<S: TensorScalar>(_ panels: Tensor<S>, imageName: String = "<memory>") throws -> (PNGImage, GridSidecar) {
        let object = "grid \(imageName) (\(rows.name) × \(columns.name))"
        let (r, c) = (rows.labels.count, columns.labels.count)
        guard r > 0, c > 0 else {
            throw DataIOError.format(path: imageName, object: object, expected: "at least one row label and one column label",
                                     found: "\(r) row and \(c) column labels")
        }
        let perPanel = channels * panelHeight * panelWidth
        guard panels.rank >= 1, panels.rows == r * c, panels.count == r * c * perPanel else {
            throw DataIOError.format(
                path: imageName, object: object,
                expected: "\(r)×\(c) = \(r * c) panels of \(channels)×\(panelHeight)×\(panelWidth) values",
                found: "a tensor of shape \(panels.shape)")
        }
        // Map values to [0, 1] (NaN stays NaN and becomes 0 in ImageGrid).
        var unit = Tensor<Double>(shape: [r * c, perPanel])
        let sidecarRange: GridSidecar.ValueRange
        switch valueRange {
        case .clip(let lower, let upper):
            guard upper > lower else {
                throw DataIOError.format(path: imageName, object: object, expected: "a clip range with upper > lower", found: "[\(lower), \(upper)]")
            }
            for k in 0..<unit.count { unit.scalars[k] = (Double(panels.scalars[k]) - lower) / (upper - lower) }
            sidecarRange = .init(
                mode: "clip", lower: lower, upper: upper, scope: nil, scales: nil,
                meaning: "grey = (v - lower) / (upper - lower), clipped to [0, 1]; black = lower, white = upper")
        case .symmetric(let perPanelScale):
            var scales = [Double](repeating: 0, count: r * c)
            for p in 0..<(r * c) {
                for k in 0..<perPanel {
                    let v = abs(Double(panels.scalars[p * perPanel + k]))
                    if v.isFinite { scales[p] = max(scales[p], v) }
                }
            }
            if !perPanelScale { scales = [scales.max() ?? 0] }
            for p in 0..<(r * c) {
                let s = perPanelScale ? scales[p] : scales[0]
                for k in 0..<perPanel {
                    let v = Double(panels.scalars[p * perPanel + k])
                    unit.scalars[p * perPanel + k] = s > 0 ? 0.5 + 0.5 * v / s : (v.isNaN ? v : 0.5)
                }
            }
            sidecarRange = .init(
                mode: "symmetric", lower: nil, upper: nil, scope: perPanelScale ? "per_panel" : "grid", scales: scales,
                meaning: "grey = 0.5 + 0.5 v / s with s = max |v| (per panel or over the grid, see scope): mid grey = 0, black = -s, white = +s")
        }
        let k = pixelScale
        if k > 1 {
            // Nearest-neighbour upscaling of every panel (channel-first planes).
            let (h, w) = (panelHeight, panelWidth)
            var big = Tensor<Double>(shape: [r * c, channels * h * k * w * k])
            for p in 0..<(r * c) {
                for ch in 0..<channels {
                    let src = p * perPanel + ch * h * w, dst = p * perPanel * k * k + ch * h * k * w * k
                    for y in 0..<(h * k) {
                        for x in 0..<(w * k) { big.scalars[dst + y * w * k + x] = unit.scalars[src + (y / k) * w + x / k] }
                    }
                }
            }
            unit = big
        }
        let grid = ImageGrid(rows: r, columns: c, padding: gap, paddingLevel: background)
        let image = try grid.render(unit, height: panelHeight * k, width: panelWidth * k, channels: channels)
        let sidecar = GridSidecar(
            formatVersion: 2, image: imageName, title: title, rows: rows, columns: columns,
            panelHeight: panelHeight, panelWidth: panelWidth, channels: channels, gap: gap, pixelScale: k,
            imageWidth: image.width, imageHeight: image.height,
            layout: "panel (r, c), 0-based, has its top-left pixel at x = gap + c*(panel_width*pixel_scale + gap), y = gap + r*(panel_height*pixel_scale + gap); image pixel (i, j) of a panel covers the pixel_scale × pixel_scale block from (j*pixel_scale, i*pixel_scale); rows top to bottom, columns left to right",
            valueRange: sidecarRange)
        return (image, sidecar)
    }

    /// Writes `<name>.png` and `<name>.json` into `folder` (each atomically; the folder must exist).
    /// - Returns: the two URLs.
    @discardableResult
    public func write<S: TensorScalar>(_ panels: Tensor<S>, name: String, in folder: URL) throws -> (png: URL, sidecar: URL) {
        let png = folder.appendingPathComponent("\(name).png")
        let json = folder.appendingPathComponent("\(name).json")
        let (image, sidecar) = try render(panels, imageName: png.lastPathComponent)
        try image.write(to: png)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(sidecar) + Data("\n".utf8), to: json)
        return (png, json)
    }
}
