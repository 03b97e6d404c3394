// Elementwise arithmetic, row broadcasting and reductions. The in-place forms write into
// existing storage and are what the training loops use; the operators allocate and are for
// set-up code and tests.

extension Tensor {
    @usableFromInline static func checkSameCount(_ a: Tensor, _ b: Tensor, _ op: String) {
        precondition(a.count == b.count, "\(op): shapes \(a.shape) and \(b.shape) differ")
    }

    /// Elementwise sum.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        checkSameCount(a, b, "+")
        var r = a
        r.add(b)
        return r
    }
    /// Elementwise difference.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        checkSameCount(a, b, "-")
        var r = a
        r.add(b, scaledBy: -1)
        return r
    }
    /// Elementwise (Hadamard) product.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        checkSameCount(a, b, "*")
        var r = a
        r.multiply(by: b)
        return r
    }
    /// Scalar multiple.
    public static func * (s: Scalar, a: Tensor) -> Tensor {
        var r = a
        r.scale(by: s)
        return r
    }
    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { -1 * a }

    /// `self += alpha * other` (BLAS axpy).
    public mutating func add(_ other: Tensor, scaledBy alpha: Scalar = 1) {
        Tensor.checkSameCount(self, other, "add")
        let n = count
        other.withUnsafeBufferPointer { x in
            withUnsafeMutableBufferPointer { y in Scalar.axpy(n: n, alpha: alpha, x: x.baseAddress!, y: y.baseAddress!) }
        }
    }

    /// `self *= other` elementwise.
    @inlinable public mutating func multiply(by other: Tensor) {
        Tensor.checkSameCount(self, other, "multiply")
        other.withUnsafeBufferPointer { x in
            withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] *= x[i] } }
        }
    }

    /// `self *= s`.
    @inlinable public mutating func scale(by s: Scalar) {
        withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] *= s } }
    }

    /// Sets every element to `value`.
    @inlinable public mutating func fill(_ value: Scalar) {
        withUnsafeMutableBufferPointer { y in y.update(repeating: value) }
    }

    /// Adds `vector` (length `columns`) to every row of the matrix view (bias broadcast).
    public mutating func addRowVector(_ vector: Tensor) {
        let c = columns
        precondition(vector.count == c, "addRowVector: vector has \(vector.count) elements, rows have \(c)")
        let r = rows
        vector.withUnsafeBufferPointer { v in
            withUnsafeMutableBufferPointer { y in
                for i in 0..<r {
                    let row = y.baseAddress! + i * c
                    for j in 0..<c { row[j] += v[j] }
                }
            }
        }
    }

    /// Column sums of the matrix view accumulated into `out` ([columns]): `out = beta*out + Σ_rows`.
    public func sumRows(into out: inout Tensor, beta: Scalar = 0) {
        let (r, c) = (rows, columns)
        precondition(out.count == c, "sumRows: output has \(out.count) elements, need \(c)")
        withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                if beta == 0 { o.update(repeating: 0) } else if beta != 1 { for j in 0..<c { o[j] *= beta } }
                for i in 0..<r {
                    let row = x.baseAddress! + i * c
                    for j in 0..<c { o[j] += row[j] }
                }
            }
        }
    }

    /// Column sums of the matrix view, [columns].
    public func sumRows() -> Tensor {
        var out = Tensor(shape: [columns])
        sumRows(into: &out)
        return out
    }

    /// Applies `f` to every element.
    public func map(_ f: (Scalar) -> Scalar) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(f))
    }

    /// Sum of all elements (pairwise-free plain loop; use Double tensors where precision matters).
    public func sum() -> Scalar { withUnsafeBufferPointer { $0.reduce(0, +) } }

    /// Mean of all elements.
    public func mean() -> Scalar { count == 0 ? 0 : sum() / Scalar(count) }

    /// Sum of squares of all elements.
    public func squaredNorm() -> Scalar {
        let n = count
        return withUnsafeBufferPointer { p in Scalar.dot(n: n, x: p.baseAddress!, y: p.baseAddress!) }
    }

    /// Squared Euclidean norm of each row of the matrix view, [rows].
    public func rowSquaredNorms() -> [Scalar] {
        let (r, c) = (rows, columns)
        return withUnsafeBufferPointer { p in
            (0..<r).map { i in Scalar.dot(n: c, x: p.baseAddress! + i * c, y: p.baseAddress! + i * c) }
        }
    }

    /// Largest element (nil for an empty tensor).
    public func max() -> Scalar? { scalars.max() }
    /// Smallest element (nil for an empty tensor).
    public func min() -> Scalar? { scalars.min() }

    /// True when every element is finite.
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }
}

/// Largest absolute elementwise difference between two tensors of equal size.
public func maxAbsDifference<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> T {
    precondition(a.count == b.count, "maxAbsDifference: shapes \(a.shape) and \(b.shape) differ")
    var m: T = 0
    for i in 0..<a.count { m = Swift.max(m, Swift.abs(a.scalars[i] - b.scalars[i])) }
    return m
}
