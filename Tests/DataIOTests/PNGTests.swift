// PNG round trips (gray and RGB, byte-identical), libpng errors surfaced with the file name,
// and ImageGrid's size, pixel placement, clamping and PNG output.
import DataIO
import Foundation
import TensorCore
import Testing

@Suite struct PNGTests {
    @Test(arguments: [PNGImage.Format.gray, .rgb])
    func roundTripIsByteIdentical(_ format: PNGImage.Format) throws {
        let folder = TemporaryFolder()
        let url = folder.file("image.png")
        let (width, height) = (37, 19)  // odd sizes: no accidental alignment
        let pixels = (0..<(width * height * format.channels)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 13) }
        let image = try PNGImage(width: width, height: height, format: format, pixels: pixels)
        try image.write(to: url)
        let back = try PNGImage.read(from: url)
        #expect(back == image)
        #expect(back.format == format)
        let signature = try Data(contentsOf: url).prefix(8)
        #expect(signature == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(folder.contents() == ["image.png"])
        #expect(PNGLibrary.version.hasPrefix("1."))
    }

    @Test func readingANonPNGFailsClearly() throws {
        let folder = TemporaryFolder()
        let url = folder.file("fake.png")
        try AtomicFile.write("GIF89a definitely not a PNG", to: url)
        expectMessage(containing: [url.path, "reading the PNG header failed", "libpng", "Not a PNG file"]) {
            _ = try PNGImage.read(from: url)
        }
        let missing = folder.file("absent.png")
        expectMessage(containing: [missing.path, "file not found"]) { _ = try PNGImage.read(from: missing) }
    }

    @Test func truncatedPNGFailsClearly() throws {
        let folder = TemporaryFolder()
        let url = folder.file("cut.png")
        try PNGImage(width: 64, height: 64, format: .rgb, pixels: (0..<(64 * 64 * 3)).map { UInt8(truncatingIfNeeded: $0 * 31) })
            .write(to: url)
        let data = try Data(contentsOf: url)
        try AtomicFile.write(data.prefix(data.count / 2), to: url)
        expectMessage(containing: [url.path, "libpng"]) { _ = try PNGImage.read(from: url) }
    }

    @Test func invalidImagesAreRejected() throws {
        expectMessage(containing: ["expected 12 bytes", "found 11"]) {
            _ = try PNGImage(width: 2, height: 2, format: .rgb, pixels: [UInt8](repeating: 0, count: 11))
        }
        let folder = TemporaryFolder()
        let blocker = folder.file("f")
        try AtomicFile.write("x", to: blocker)
        let image = PNGImage(width: 1, height: 1, format: .gray)
        expectMessage(containing: [blocker.path + "/x.png", "is a file, not a folder"]) {
            try image.write(to: blocker.appendingPathComponent("x.png"))
        }
    }
}

@Suite struct ImageGridTests {
    @Test func sizeAndPlacementForGrayImages() throws {
        // 5 images of 2×3 pixels in a 2×3 grid, padding 1 (white): 3*3+4 = 13 wide, 2*2+3 = 7 high.
        let images = Tensor<Float>(shape: [5, 6], scalars: (0..<30).map { Float($0 / 6) * 0.25 })  // image n is uniformly n/4
        let grid = ImageGrid(rows: 2, columns: 3, padding: 1)
        #expect(grid.pixelSize(height: 2, width: 3) == (13, 7))
        let png = try grid.render(images, height: 2, width: 3)
        #expect(png.width == 13 && png.height == 7 && png.format == .gray)
        func at(_ x: Int, _ y: Int) -> UInt8 { png.pixel(x: x, y: y).first ?? 0 }
        // Corners and separators are padding.
        #expect(at(0, 0) == 255 && at(4, 1) == 255 && at(12, 6) == 255 && at(1, 3) == 255)
        // Image n sits at column n % 3, row n / 3, with its top-left pixel at (1 + 4c, 1 + 3r).
        for n in 0..<5 {
            let (left, top) = (1 + 4 * (n % 3), 1 + 3 * (n / 3))
            let expected = UInt8((Double(n) * 0.25 * 255).rounded())
            for dy in 0..<2 { for dx in 0..<3 { #expect(at(left + dx, top + dy) == expected, "image \(n)") } }
        }
        // The sixth cell is empty: padding colour.
        #expect(at(9, 4) == 255 && at(11, 5) == 255)
    }

    /// With pixel scale 3, a 2×2 RGB image becomes a 6×6 block of 3×3 squares at
    /// padding + c·(3·width + padding); the padding stays padding.
    @Test func pixelScaleUpscalesNearestNeighbour() throws {
        let image = Tensor<Float>(shape: [2, 3, 2, 2], scalars: (0..<24).map { Float($0) / 23 })
        let grid = ImageGrid(rows: 1, columns: 2, padding: 2, paddingLevel: 0.5, pixelScale: 3)
        #expect(grid.pixelSize(height: 2, width: 2) == (2 * 6 + 3 * 2, 6 + 2 * 2))
        let png = try grid.render(image)
        #expect(png.width == 18 && png.height == 10)
        for n in 0..<2 {
            for y in 0..<6 {
                for x in 0..<6 {
                    let expected = (0..<3).map { c in ImageGridTests.byte(image.scalars[n * 12 + c * 4 + (y / 3) * 2 + x / 3]) }
                    #expect(Array(png.pixel(x: 2 + n * 8 + x, y: 2 + y)) == expected)
                }
            }
        }
        #expect(Array(png.pixel(x: 8, y: 5)) == [128, 128, 128] && Array(png.pixel(x: 17, y: 9)) == [128, 128, 128])
        expectMessage(containing: ["pixel scale 0"]) {
            _ = try ImageGrid(rows: 1, columns: 2, pixelScale: 0).render(image)
        }
    }

    static func byte(_ v: Float) -> UInt8 { UInt8((Double(min(max(v, 0), 1)) * 255).rounded()) }

    @Test func pixelOrderClampingAndNaN() throws {
        // One 2×2 image: row-major [a b; c d].
        let image = Tensor<Double>(shape: [1, 2, 2], scalars: [-0.5, 0.5, 2, .nan])
        let png = try ImageGrid(rows: 1, columns: 1, padding: 0).render(image)
        #expect(png.pixels == [0, 128, 255, 0])
    }

    @Test func rgbChannelFirstLayout() throws {
        // One 1×2 RGB image, channel-first: R = [1, 0], G = [0, 1], B = [0, 0.5].
        let image = Tensor<Float>(shape: [1, 3, 1, 2], scalars: [1, 0, 0, 1, 0, 0.5])
        let png = try ImageGrid(rows: 1, columns: 1, padding: 1, paddingLevel: 0).render(image)
        #expect(png.format == .rgb && png.width == 4 && png.height == 3)
        #expect(Array(png.pixel(x: 1, y: 1)) == [255, 0, 0])
        #expect(Array(png.pixel(x: 2, y: 1)) == [0, 255, 128])
        #expect(Array(png.pixel(x: 0, y: 0)) == [0, 0, 0])
    }

    @Test func writesPNGAndRejectsBadShapes() throws {
        let folder = TemporaryFolder()
        let url = folder.file("grid.png")
        let images = Tensor<Float>(shape: [10, 4, 4], repeating: 0.5)
        let grid = ImageGrid(fitting: 10)
        #expect(grid.rows == 3 && grid.columns == 4)
        try grid.write(images, to: url)
        let back = try PNGImage.read(from: url)
        #expect(back.width == 4 * 4 + 5 && back.height == 3 * 4 + 4)
        expectMessage(containing: ["at most 4 images", "found 10"]) {
            _ = try ImageGrid(rows: 2, columns: 2).render(images)
        }
        expectMessage(containing: ["1×1×5", "shape [10, 4, 4]"]) {
            _ = try ImageGrid(rows: 4, columns: 4).render(images, height: 1, width: 5)
        }
        expectMessage(containing: ["1 or 3 channels", "found 2"]) {
            _ = try ImageGrid(rows: 4, columns: 4).render(Tensor<Float>(shape: [1, 2, 2, 2]))
        }
        expectMessage(containing: ["[N, H, W] or [N, C, H, W]", "shape [10, 16]"]) {
            _ = try ImageGrid(rows: 4, columns: 4).render(images.reshaped([10, 16]))
        }
    }
}
