// A dense, row-major, n-dimensional array of Float or Double.
//
// Design: a value type over a contiguous `[Scalar]` (copy-on-write), with the shape alongside.
// Most numerics treat a tensor as a matrix [rows, columns] where rows = shape[0] and columns is
// the product of the remaining dimensions (a batch of flattened examples). Hot loops avoid
// allocation by writing into caller-owned tensors (`into:` variants, `inout` updates); the
// allocating operators exist for convenience in tests and set-up code.

/// A dense row-major tensor.
public struct Tensor<Scalar: TensorScalar>: Sendable, Equatable {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Scalar]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Scalar = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "shape extents must be non-negative: \(shape)")
        self.shape = shape
        self.scalars = [Scalar](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(
            scalars.count == shape.reduce(1, *),
            "\(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A matrix from nested rows (for tests and small literals).
    public init(rows: [[Scalar]]) {
        let c = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == c }, "ragged rows")
        self.init(shape: [rows.count, c], scalars: rows.flatMap { $0 })
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    /// The number of elements.
    @inlinable public var count: Int { scalars.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The leading dimension (1 for a scalar tensor).
    public var rows: Int { shape.first ?? 1 }
    /// The product of all but the leading dimension (the flattened example size).
    public var columns: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    /// Element access for a matrix view [rows, columns].
    public subscript(row: Int, column: Int) -> Scalar {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Changes the shape in place; the element count must not change.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == scalars.count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    /// Resizes to `newShape`, reusing storage when the element count is unchanged (no allocation
    /// then); contents are unspecified afterwards unless the count was unchanged.
    public mutating func resize(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n != scalars.count { scalars = [Scalar](repeating: 0, count: n) }
        shape = newShape
    }

    /// Row `i` of the matrix view, copied into an array.
    public func row(_ i: Int) -> [Scalar] {
        let c = columns
        return Array(scalars[(i * c)..<((i + 1) * c)])
    }

    /// Rows `indices` of the matrix view gathered into a new tensor [indices.count, ...].
    public func gatherRows(_ indices: [Int]) -> Tensor {
        var out = Tensor(shape: [indices.count] + shape.dropFirst(), repeating: 0)
        gatherRows(indices, into: &out)
        return out
    }

    /// Rows `indices` gathered into `out`, which must have shape [indices.count, columns...].
    public func gatherRows(_ indices: [Int], into out: inout Tensor) {
        let c = columns
        precondition(out.count == indices.count * c, "gatherRows: output has \(out.count) elements, need \(indices.count * c)")
        scalars.withUnsafeBufferPointer { src in
            out.scalars.withUnsafeMutableBufferPointer { dst in
                for (r, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "row index \(i) out of range 0..<\(rows)")
                    (dst.baseAddress! + r * c).update(from: src.baseAddress! + i * c, count: c)
                }
            }
        }
    }

    /// Converts the element type (e.g. Float data to Double for exact ground truth).
    public func converted<T: TensorScalar>(to: T.Type = T.self) -> Tensor<T> {
        Tensor<T>(shape: shape, scalars: scalars.map { T($0) })
    }

    /// Calls `body` with a pointer to the elements.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the elements.
    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.typeName)>\(shape)[\(head)\(scalars.count > 8 ? ", …" : "")]"
    }
}
