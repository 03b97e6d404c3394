// Labelled image grids: a PNG of rows × columns panels plus a JSON sidecar that says what each
// row and column is (e.g. rows = β values, columns = Langevin steps), how big a panel is, where
// panel (r, c) sits in the PNG and how values were mapped to grey levels. Figures built from these
// grids can therefore be read (and re-cut) without the code that made them, and the PNG carries
// the same labels drawn in (a 5×7 bitmap font, `BitmapFont`), so that it can be read without the
// sidecar too.
//
// Panels: every image pixel is drawn as a k × k block (nearest neighbour; k = pixel_scale, by
// default the smallest integer making the panel's shorter side at least 56 pixels: 7 for 8×8,
// 2 for 28×28), with `gap` background pixels (default 4, white) between panels and around the
// block of panels. Panel (r, c) has its top-left pixel at
//     x = x₀ + c·(k·width + gap),   y = y₀ + r·(k·height + gap),
// where (x₀, y₀) is the top-left pixel of panel (0, 0), written to the sidecar as first_panel_x,
// first_panel_y (without labels x₀ = y₀ = gap, the layout of `ImageGrid`).
//
// Labels (unless `drawsLabels` is false), in strips outside the block of panels, black text on
// the background (white on a dark background), at `textScale` pixels per font dot (default 2):
// the title on top (wrapped, at most 4 lines, "..." if cut); under it the column axis name, centred
// over the panels, and each column's label centred over its column (wrapped to the column's
// width, neighbours two dots apart; all at half the text scale, up to 6 lines, if one does not fit
// in 2 lines at full scale); on the left the row axis name (above the row labels) and each row's
// label, centred on its row.
// Text is reduced to ASCII first (β → "beta", σ² → "sigma^2", × → "x", unknown → "?"). The
// sidecar's label_areas give the rectangles of the title, column labels, row labels and panels.
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

    /// A rectangle of the PNG in pixels (top-left corner, size).
    public struct Area: Codable, Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int

        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }

        /// Whether pixel (px, py) lies in the rectangle.
        public func contains(x px: Int, y py: Int) -> Bool {
            px >= x && px < x + width && py >= y && py < y + height
        }
    }

    /// Where the drawn labels and the panels are in the PNG (format version 3).
    public struct LabelAreas: Codable, Sendable, Equatable {
        /// The strip across the top holding the title (absent without a title).
        public var title: Area?
        /// The strip above the panels holding the column axis name and column labels.
        public var columnLabels: Area?
        /// The strip left of the panels holding the row axis name and row labels.
        public var rowLabels: Area?
        /// The block of panels, including the gap around it; nothing but panels and background.
        public var panels: Area

        enum CodingKeys: String, CodingKey {
            case title, columnLabels = "column_labels", rowLabels = "row_labels", panels
        }
    }

    /// The sidecar format version.
    public var formatVersion: Int
    /// The PNG's file name (same folder).
    public var image: String
    /// Optional free text: what the grid shows.
    public var title: String?
    public var rows: GridAxis
    public var columns: GridAxis
    /// Panel size in image pixels (drawn pixel_scale times larger) and channels (1 grey, 3 RGB).
    public var panelHeight: Int
    public var panelWidth: Int
    public var channels: Int
    /// Background pixels between panels and around the block of panels.
    public var gap: Int
    /// Each image pixel is drawn as a pixel_scale × pixel_scale block (nearest neighbour), so
    /// that small images are legible; absent (1) in format version 1.
    public var pixelScale: Int?
    /// The top-left pixel of panel (0, 0); absent (= gap, gap) before format version 3.
    public var firstPanelX: Int?
    public var firstPanelY: Int?
    /// Whether the title and axis labels are drawn into the PNG (format version 3; absent: no).
    public var labelsDrawn: Bool?
    /// Pixels per font dot of the drawn labels (present when labels are drawn).
    public var textScale: Int?
    /// Where the labels and the panels are (present when labels are drawn).
    public var labelAreas: LabelAreas?
    /// PNG size in pixels.
    public var imageWidth: Int
    public var imageHeight: Int
    /// How to find panel (r, c).
    public var layout: String
    public var valueRange: ValueRange

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", image, title, rows, columns
        case panelHeight = "panel_height", panelWidth = "panel_width", channels, gap, pixelScale = "pixel_scale"
        case firstPanelX = "first_panel_x", firstPanelY = "first_panel_y", labelsDrawn = "labels_drawn"
        case textScale = "text_scale", labelAreas = "label_areas"
        case imageWidth = "image_width", imageHeight = "image_height", layout
        case valueRange = "value_range"
    }

    /// The top-left pixel (x, y) of panel (row, column) in the PNG.
    public func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        let k = pixelScale ?? 1
        return ((firstPanelX ?? gap) + column * (panelWidth * k + gap), (firstPanelY ?? gap) + row * (panelHeight * k + gap))
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
    /// Background pixels between panels and around the block of panels.
    public var gap: Int
    /// Grey level of the background, in [0, 1] (1 = white; labels are drawn in black on a light
    /// background, in white on a dark one).
    public var background: Float
    public var valueRange: GridValueRange
    /// Optional free text: drawn across the top of the PNG and recorded in the sidecar.
    public var title: String?
    /// Each image pixel becomes a pixelScale × pixelScale block (nearest neighbour).
    public var pixelScale: Int
    /// Whether the title and the axis names and labels are drawn into the PNG.
    public var drawsLabels: Bool
    /// Pixels per font dot of the drawn labels.
    public var textScale: Int

    /// The shorter side, in pixels, that the automatic pixel scale gives a panel at least.
    public static let minimumPanelSide = 56

    /// The default pixel scale for panels whose shorter side is `side` pixels: the smallest
    /// integer making it at least `minimumPanelSide` (56) pixels (7 for 8×8 images, 2 for 28×28,
    /// 6 for 10×10, 1 from 56 up).
    public static func automaticScale(side: Int) -> Int {
        let side = max(1, side)
        return max(1, (minimumPanelSide + side - 1) / side)
    }

    /// A grid with `rows.labels.count × columns.labels.count` panels of `panelHeight × panelWidth`.
    /// `pixelScale` nil chooses `automaticScale(side: min(panelHeight, panelWidth))`.
    public init(rows: GridAxis, columns: GridAxis, panelHeight: Int, panelWidth: Int, channels: Int = 1,
                gap: Int = 4, background: Float = 1, valueRange: GridValueRange = .unit, title: String? = nil,
                pixelScale: Int? = nil, drawsLabels: Bool = true, textScale: Int = 2) {
        precondition((pixelScale ?? 1) >= 1, "grid: pixel scale must be at least 1")
        precondition(textScale >= 1, "grid: text scale must be at least 1")
        self.pixelScale = pixelScale ?? Self.automaticScale(side: min(panelHeight, panelWidth))
        self.rows = rows
        self.columns = columns
        self.panelHeight = panelHeight
        self.panelWidth = panelWidth
        self.channels = channels
        self.gap = gap
        self.background = background
        self.valueRange = valueRange
        self.title = title
        self.drawsLabels = drawsLabels
        self.textScale = textScale
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
        let grid = ImageGrid(rows: r, columns: c, padding: gap, paddingLevel: background, pixelScale: k)
        let block = try grid.render(unit, height: panelHeight, width: panelWidth, channels: channels)
        let image: PNGImage, areas: GridSidecar.LabelAreas?
        if drawsLabels {
            (image, areas) = labelled(block)
        } else {
            (image, areas) = (block, nil)
        }
        let first = (x: (areas?.panels.x ?? 0) + gap, y: (areas?.panels.y ?? 0) + gap)
        var layout = "panel (r, c), 0-based, has its top-left pixel at x = first_panel_x + c*(panel_width*pixel_scale + gap), "
            + "y = first_panel_y + r*(panel_height*pixel_scale + gap); image pixel (i, j) of a panel covers the "
            + "pixel_scale × pixel_scale block from (j*pixel_scale, i*pixel_scale) (nearest-neighbour upscaling); rows top to bottom, "
            + "columns left to right; gap background pixels between panels and around the block of panels"
        if drawsLabels {
            layout += "; the title, column labels (axis name, then one label centred over each column) and row labels (axis name, "
                + "then one label centred on each row) are drawn outside the panels in label_areas, in a 5x7 bitmap font (with descenders) at "
                + "text_scale pixels per dot, non-ASCII characters transliterated (e.g. beta, sigma^2, x)"
        }
        let sidecar = GridSidecar(
            formatVersion: 3, image: imageName, title: title, rows: rows, columns: columns,
            panelHeight: panelHeight, panelWidth: panelWidth, channels: channels, gap: gap, pixelScale: k,
            firstPanelX: first.x, firstPanelY: first.y, labelsDrawn: drawsLabels, textScale: drawsLabels ? textScale : nil,
            labelAreas: areas, imageWidth: image.width, imageHeight: image.height, layout: layout, valueRange: sidecarRange)
        return (image, sidecar)
    }

    /// The block of panels `block` (as `ImageGrid` renders it) with the title, the column labels
    /// and the row labels drawn around it (see the top of this file); returns the PNG and where
    /// each part is.
    func labelled(_ block: PNGImage) -> (PNGImage, GridSidecar.LabelAreas) {
        let s = textScale
        let pad = 2 * s
        let line = BitmapFont.lineAdvance * s
        let (cellWidth, cellHeight) = (panelWidth * pixelScale, panelHeight * pixelScale)
        func ascii(_ text: String?) -> String { BitmapFont.transliterate(text ?? "").trimmingCharacters(in: .whitespaces) }
        func width(_ text: String, _ scale: Int) -> Int { BitmapFont.width(characters: text.count, scale: scale) }

        // Left strip: the row axis name and one label per row, at most 24 characters a line.
        let rowCharacters = 24
        let rowLineLimit = max(1, (cellHeight + gap) / line)
        let rowLabels = rows.labels.map { BitmapFont.wrap(ascii($0), maxCharacters: rowCharacters, maxLines: rowLineLimit).lines }
        let rowName = BitmapFont.wrap(ascii(rows.name), maxCharacters: rowCharacters, maxLines: 2).lines
        let rowText = (rowLabels.joined() + rowName).map { width($0, s) }.max() ?? 0
        let left = rowText > 0 ? rowText + 2 * pad : 0

        // Column labels: within the panel's width plus the gap less two dots (so that neighbouring
        // labels stay two dots apart), in at most 2 lines with no word cut at the text scale, else
        // at half of it in up to 6 lines (cut and "..." if need be).
        let columnTexts = columns.labels.map { ascii($0) }
        func fit(_ scale: Int, maxLines: Int, strict: Bool) -> [[String]]? {
            let n = max(1, BitmapFont.characters(fitting: cellWidth + gap - 2 * scale, scale: scale))
            var out: [[String]] = []
            for text in columnTexts {
                let (lines, truncated) = BitmapFont.wrap(text, maxCharacters: n, maxLines: maxLines)
                if strict && (truncated || text.split(separator: " ").contains { $0.count > n }) { return nil }
                out.append(lines)
            }
            return out
        }
        let columnScale: Int, columnLines: [[String]]
        if let lines = fit(s, maxLines: 2, strict: true) {
            (columnScale, columnLines) = (s, lines)
        } else {
            columnScale = max(1, s / 2)
            columnLines = fit(columnScale, maxLines: 6, strict: false) ?? []
        }
        let columnLine = BitmapFont.lineAdvance * columnScale
        let columnLabelLines = columnLines.map(\.count).max() ?? 0

        // Width: the panels, widened (with background on the right) so that a title of up to 48
        // characters and a column axis name of up to 24 fit on one line.
        let titleText = ascii(title), columnName = ascii(columns.name)
        let titleWant = titleText.isEmpty ? 0 : BitmapFont.width(characters: min(titleText.count, 48), scale: s) + 2 * pad
        let nameWant = columnName.isEmpty ? 0 : left + BitmapFont.width(characters: min(columnName.count, 24), scale: s) + 2 * pad
        let imageWidth = max(left + block.width, titleWant, nameWant)

        // Heights: title strip, then the column header (bottom-aligned with the row axis name).
        let titleLines = BitmapFont.wrap(titleText, maxCharacters: BitmapFont.characters(fitting: imageWidth - 2 * pad, scale: s), maxLines: 4).lines
        let titleHeight = titleLines.isEmpty ? 0 : 2 * pad + titleLines.count * line
        let columnNameLines = BitmapFont.wrap(
            columnName, maxCharacters: BitmapFont.characters(fitting: imageWidth - left - 2 * pad, scale: s), maxLines: 2).lines
        let headerContent = max(columnNameLines.count * line + columnLabelLines * columnLine, rowName.count * line)
        let headerHeight = headerContent == 0 ? 0 : headerContent + (titleHeight == 0 ? pad : 0)
        let top = titleHeight + headerHeight
        let imageHeight = top + block.height

        var image = PNGImage(width: imageWidth, height: imageHeight, format: block.format, repeating: ImageGrid.byte(background))
        let bytesPerRow = block.width * block.format.channels
        for y in 0..<block.height {
            let dst = ((top + y) * imageWidth + left) * block.format.channels
            image.pixels.replaceSubrange(dst..<(dst + bytesPerRow), with: block.pixels[(y * bytesPerRow)..<((y + 1) * bytesPerRow)])
        }
        let ink: UInt8 = background >= 0.5 ? 0 : 255
        for (i, text) in titleLines.enumerated() {
            BitmapFont.draw(text, into: &image, x: pad, y: pad + i * line, scale: s, level: ink)
        }
        let headerBottom = top
        let labelsTop = headerBottom - columnLabelLines * columnLine
        let span = (from: left + gap, width: block.width - 2 * gap)
        for (i, text) in columnNameLines.enumerated() {
            let w = width(text, s)
            let x = w <= span.width ? span.from + (span.width - w) / 2 : left + pad
            BitmapFont.draw(text, into: &image, x: x, y: labelsTop - (columnNameLines.count - i) * line, scale: s, level: ink)
        }
        for (c, lines) in columnLines.enumerated() {
            let panelX = left + gap + c * (cellWidth + gap)
            for (i, text) in lines.enumerated() {
                BitmapFont.draw(text, into: &image, x: panelX + (cellWidth - width(text, columnScale)) / 2,
                                y: labelsTop + i * columnLine, scale: columnScale, level: ink)
            }
        }
        for (i, text) in rowName.enumerated() {
            BitmapFont.draw(text, into: &image, x: pad, y: headerBottom - (rowName.count - i) * line, scale: s, level: ink)
        }
        for (r, lines) in rowLabels.enumerated() {
            let panelY = top + gap + r * (cellHeight + gap)
            let textHeight = lines.count * line - 2 * s
            for (i, text) in lines.enumerated() {
                BitmapFont.draw(text, into: &image, x: pad, y: panelY + (cellHeight - textHeight) / 2 + i * line, scale: s, level: ink)
            }
        }
        let areas = GridSidecar.LabelAreas(
            title: titleHeight > 0 ? .init(x: 0, y: 0, width: imageWidth, height: titleHeight) : nil,
            columnLabels: headerHeight > 0 ? .init(x: left, y: titleHeight, width: imageWidth - left, height: headerHeight) : nil,
            rowLabels: left > 0 ? .init(x: 0, y: titleHeight, width: left, height: imageHeight - titleHeight) : nil,
            panels: .init(x: left, y: top, width: block.width, height: block.height))
        return (image, areas)
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
