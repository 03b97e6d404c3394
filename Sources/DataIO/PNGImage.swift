// 8-bit grayscale and RGB PNG files through libpng's simplified API (png_image_*), which
// catches its own longjmp internally: no setjmp/longjmp ever crosses Swift frames. Writing goes
// through `AtomicFile`, so a failed write never leaves a partial PNG behind. libpng's error
// text (the `message` field) is passed on in the thrown `DataIOError` together with the file.
import CPNG
import Foundation

/// The libpng library as linked into this program.
public enum PNGLibrary {
    /// The library version, e.g. "1.6.39".
    public static var version: String {
        guard let text = png_get_libpng_ver(nil) else { return "unknown" }
        return String(cString: text)
    }
}

/// An 8-bit image held in memory: rows top to bottom, pixels left to right, channels
/// interleaved (gray: one byte per pixel; RGB: three).
public struct PNGImage: Equatable, Sendable {
    /// The pixel format.
    public enum Format: Int, Sendable {
        /// One 8-bit gray channel.
        case gray = 1
        /// Three 8-bit channels, red, green, blue.
        case rgb = 3

        /// Bytes per pixel.
        public var channels: Int { rawValue }

        var pngFormat: UInt32 { self == .gray ? cpng_format_gray() : cpng_format_rgb() }
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The pixel format.
    public let format: Format
    /// `height * width * format.channels` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// An image of the given size filled with `value` in every channel.
    public init(width: Int, height: Int, format: Format, repeating value: UInt8 = 0) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.format = format
        self.pixels = [UInt8](repeating: value, count: self.width * self.height * format.channels)
    }

    /// An image from its pixel bytes.
    /// - Throws: `.format` (with path "<memory>") if `pixels` has the wrong length or a
    ///   dimension is not positive.
    public init(width: Int, height: Int, format: Format, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw DataIOError.format(path: "<memory>", object: "PNG image", expected: "positive width and height", found: "\(width)×\(height)")
        }
        guard pixels.count == width * height * format.channels else {
            throw DataIOError.format(
                path: "<memory>", object: "PNG image \(width)×\(height) \(format)",
                expected: "\(width * height * format.channels) bytes", found: "\(pixels.count)")
        }
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// The bytes of pixel (x, y): one for gray, three for RGB.
    public func pixel(x: Int, y: Int) -> ArraySlice<UInt8> {
        let c = format.channels
        let start = (y * width + x) * c
        return pixels[start..<(start + c)]
    }

    /// Writes the image as an 8-bit PNG at `url`, atomically.
    /// - Throws: `.notWritable` for folder problems, `.library` with libpng's message otherwise.
    public func write(to url: URL) throws {
        guard width > 0, height > 0, pixels.count == width * height * format.channels else {
            throw DataIOError.format(
                path: url.path, object: "PNG image", expected: "positive size and \(width * height * format.channels) bytes",
                found: "\(width)×\(height) with \(pixels.count) bytes")
        }
        try AtomicFile.replace(url) { temporary in
            var image = png_image()
            image.version = cpng_image_version()
            image.width = UInt32(width)
            image.height = UInt32(height)
            image.format = format.pngFormat
            defer { png_image_free(&image) }
            let ok = pixels.withUnsafeBufferPointer { buffer in
                png_image_write_to_file(&image, temporary.path, 0, buffer.baseAddress, Int32(width * format.channels), nil)
            }
            guard ok != 0 else {
                throw DataIOError.library(name: "libpng", path: url.path, object: nil, operation: "writing the PNG", detail: PNGImage.message(of: &image))
            }
        }
    }

    /// Reads an 8-bit PNG as gray (if the file is grayscale) or RGB (otherwise). Alpha is
    /// composited onto black; 16-bit files are reduced to 8 bits.
    /// - Throws: `.fileNotFound`, or `.library` with libpng's message (e.g. "Not a PNG file").
    public static func read(from url: URL) throws -> PNGImage {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataIOError.fileNotFound(path: url.path, hint: nil)
        }
        var image = png_image()
        image.version = cpng_image_version()
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            throw DataIOError.library(name: "libpng", path: url.path, object: nil, operation: "reading the PNG header", detail: message(of: &image))
        }
        let format: Format = (image.format & UInt32(PNG_FORMAT_FLAG_COLOR)) != 0 ? .rgb : .gray
        image.format = format.pngFormat
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * format.channels)
        let ok = pixels.withUnsafeMutableBufferPointer { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * format.channels), nil)
        }
        guard ok != 0 else {
            throw DataIOError.library(name: "libpng", path: url.path, object: nil, operation: "decoding the PNG", detail: message(of: &image))
        }
        return try PNGImage(width: width, height: height, format: format, pixels: pixels)
    }

    /// libpng's NUL-terminated message from the fixed 64-byte `message` field.
    static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "no message" : text
    }
}
