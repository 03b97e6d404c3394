// Tiles a batch of images into one picture (sample sheets, data previews): `rows × columns`
// cells separated and framed by padding lines. Images come as a tensor whose first dimension
// indexes them and whose remaining elements are one image, channel-first ([N, H*W],
// [N, H, W], [N, C, H, W] with C = 1 or 3); values are in [0, 1] and clamped (NaN becomes 0).
// Fewer images than cells leaves the last cells in the padding colour. With `pixelScale` k > 1
// every image pixel becomes a k × k block (nearest neighbour), so that small images are legible.
import Foundation
import TensorCore

/// Layout for tiling images into one PNG.
public struct ImageGrid: Sendable, Equatable {
    /// Number of rows of cells.
    public var rows: Int
    /// Number of columns of cells.
    public var columns: Int
    /// Width in pixels of the lines between cells and around the border.
    public var padding: Int
    /// Grey level of the padding, in [0, 1] (1 = white).
    public var paddingLevel: Float
    /// Each image pixel is drawn as a pixelScale × pixelScale block (nearest neighbour).
    public var pixelScale: Int

    /// A grid of `rows × columns` cells with `padding`-pixel lines of grey `paddingLevel`, each
    /// image pixel drawn `pixelScale` × `pixelScale`.
    public init(rows: Int, columns: Int, padding: Int = 1, paddingLevel: Float = 1, pixelScale: Int = 1) {
        self.rows = rows
        self.columns = columns
        self.padding = padding
        self.paddingLevel = paddingLevel
        self.pixelScale = pixelScale
    }

    /// The smallest near-square grid holding `count` images.
    public init(fitting count: Int, padding: Int = 1, paddingLevel: Float = 1, pixelScale: Int = 1) {
        let columns = max(1, Int(Double(count).squareRoot().rounded(.up)))
        let rows = max(1, (count + columns - 1) / columns)
        self.init(rows: rows, columns: columns, padding: padding, paddingLevel: paddingLevel, pixelScale: pixelScale)
    }

    /// The pixel size of the grid for images of `height × width` (before scaling): cells are
    /// `height·pixelScale × width·pixelScale`; cell (r, c) has its top-left pixel at
    /// x = padding + c·(width·pixelScale + padding), y = padding + r·(height·pixelScale + padding).
    public func pixelSize(height: Int, width: Int) -> (width: Int, height: Int) {
        let k = max(1, pixelScale)
        return (columns * width * k + (columns + 1) * padding, rows * height * k + (rows + 1) * padding)
    }

    /// Converts a value in [0, 1] to a byte (clamped; NaN → 0).
    @inline(__always) static func byte<S: BinaryFloatingPoint>(_ v: S) -> UInt8 {
        guard !v.isNaN else { return 0 }
        let clamped = min(max(Double(v), 0), 1)
        return UInt8((clamped * 255).rounded())
    }

    /// Tiles `images` (first dimension = image index; each image `channels × height × width`,
    /// channel-first) into a PNG image. `channels` must be 1 (gray) or 3 (RGB).
    /// - Throws: `.format` (path "<memory>") if the sizes do not fit.
    public func render<S: TensorScalar>(_ images: Tensor<S>, height: Int, width: Int, channels: Int = 1) throws -> PNGImage {
        let object = "ImageGrid \(rows)×\(columns)"
        guard rows > 0, columns > 0, padding >= 0, height > 0, width > 0, pixelScale > 0 else {
            throw DataIOError.format(
                path: "<memory>", object: object, expected: "positive rows, columns, height, width, pixel scale and padding ≥ 0",
                found: "rows \(rows), columns \(columns), height \(height), width \(width), pixel scale \(pixelScale), padding \(padding)")
        }
        guard channels == 1 || channels == 3 else {
            throw DataIOError.format(path: "<memory>", object: object, expected: "1 or 3 channels", found: "\(channels)")
        }
        let perImage = channels * height * width
        let count = images.rank == 0 ? 0 : images.shape[0]
        guard images.rank >= 1, images.count == count * perImage else {
            throw DataIOError.format(
                path: "<memory>", object: object, expected: "images of \(channels)×\(height)×\(width) = \(perImage) values each",
                found: "a tensor of shape \(images.shape)")
        }
        guard count <= rows * columns else {
            throw DataIOError.format(path: "<memory>", object: object, expected: "at most \(rows * columns) images", found: "\(count)")
        }
        let size = pixelSize(height: height, width: width)
        let format: PNGImage.Format = channels == 1 ? .gray : .rgb
        var out = PNGImage(width: size.width, height: size.height, format: format, repeating: ImageGrid.byte(paddingLevel))
        let k = pixelScale
        images.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for n in 0..<count {
                    let top = padding + (n / columns) * (height * k + padding)
                    let left = padding + (n % columns) * (width * k + padding)
                    for c in 0..<channels {
                        let plane = n * perImage + c * height * width
                        for y in 0..<height {
                            for x in 0..<width {
                                let value = ImageGrid.byte(src[plane + y * width + x])
                                for dy in 0..<k {
                                    let rowStart = ((top + y * k + dy) * size.width + left + x * k) * channels + c
                                    for dx in 0..<k { dst[rowStart + dx * channels] = value }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Tiles `images` shaped [N, H, W] (gray) or [N, C, H, W] (C = 1 or 3).
    public func render<S: TensorScalar>(_ images: Tensor<S>) throws -> PNGImage {
        switch images.rank {
        case 3: return try render(images, height: images.shape[1], width: images.shape[2], channels: 1)
        case 4: return try render(images, height: images.shape[2], width: images.shape[3], channels: images.shape[1])
        default:
            throw DataIOError.format(
                path: "<memory>", object: "ImageGrid", expected: "images of shape [N, H, W] or [N, C, H, W] (or pass height and width)",
                found: "shape \(images.shape)")
        }
    }

    /// Tiles `images` (see `render(_:height:width:channels:)`) and writes the PNG atomically.
    public func write<S: TensorScalar>(_ images: Tensor<S>, height: Int, width: Int, channels: Int = 1, to url: URL) throws {
        try render(images, height: height, width: width, channels: channels).write(to: url)
    }

    /// Tiles `images` shaped [N, H, W] or [N, C, H, W] and writes the PNG atomically.
    public func write<S: TensorScalar>(_ images: Tensor<S>, to url: URL) throws {
        try render(images).write(to: url)
    }
}
