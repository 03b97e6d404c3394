// Elementwise loops of the hot path, specialised for Float and Double.
//
// Why this file exists: the layers are generic classes, and Swift compiles a generic method of
// another module once, unspecialised, unless it is @inlinable. A client such as the bench
// calling `MLP<Float>.forward` therefore runs code in which `a[i] * b[i]` on a generic Scalar is
// a witness-table call per element (measured: ~1.5 ns/element instead of ~0.1). BLAS and the C
// kernels are unaffected (one witness call per array), but plain Swift loops are. Each entry
// point below therefore checks the metatype once (`S.self == Float.self`, a pointer compare)
// and calls a body that the compiler specialises for the concrete type, where the loop
// vectorises. A generic fallback keeps other conformers correct. Type-agnostic work (copies,
// zero fills) goes through raw memory operations instead.
import TensorCore

@inline(__always)
func rebound<S, T>(_ p: UnsafePointer<S>, _: T.Type) -> UnsafePointer<T> {
    UnsafeRawPointer(p).assumingMemoryBound(to: T.self)
}

@inline(__always)
func rebound<S, T>(_ p: UnsafeMutablePointer<S>, _: T.Type) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: T.self)
}

// MARK: - Hadamard product

/// out[i] = a[i] * b[i] over `count` elements, parallel; `out` may alias `a` or `b`.
func multiplyElementwise<S: TensorScalar>(
    _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into out: UnsafeMutablePointer<S>, count: Int
) {
    if S.self == Float.self {
        multiplyBody(rebound(a, Float.self), rebound(b, Float.self), rebound(out, Float.self), count)
    } else if S.self == Double.self {
        multiplyBody(rebound(a, Double.self), rebound(b, Double.self), rebound(out, Double.self), count)
    } else {
        multiplyBody(a, b, out, count)
    }
}

private func multiplyBody<T: TensorScalar>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ count: Int
) {
    Parallel.forEachChunk(count: count) { r in
        for i in r { out[i] = a[i] * b[i] }
    }
}

// MARK: - ReLU

/// y = max(x, 0) and, if `d` is not nil, d = 1[x > 0], over `count` elements (serial: callers
/// split the range).
func reluRange<S: TensorScalar>(
    _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ d: UnsafeMutablePointer<S>?, _ count: Int
) {
    if S.self == Float.self {
        reluBody(rebound(x, Float.self), rebound(y, Float.self), d.map { rebound($0, Float.self) }, count)
    } else if S.self == Double.self {
        reluBody(rebound(x, Double.self), rebound(y, Double.self), d.map { rebound($0, Double.self) }, count)
    } else {
        reluBody(x, y, d, count)
    }
}

private func reluBody<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ d: UnsafeMutablePointer<T>?, _ count: Int
) {
    if let d {
        for i in 0..<count {
            let positive = x[i] > 0
            y[i] = positive ? x[i] : 0
            d[i] = positive ? 1 : 0
        }
    } else {
        for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
    }
}

/// p[0..<count] = 1 (serial).
func fillOnes<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ count: Int) {
    if S.self == Float.self {
        rebound(p, Float.self).update(repeating: 1, count: count)
    } else if S.self == Double.self {
        rebound(p, Double.self).update(repeating: 1, count: count)
    } else {
        p.update(repeating: 1, count: count)
    }
}

// MARK: - Row scaling

/// dst[r, :] = scale[r] * src[r, :] for a [rows, columns] matrix, parallel; dst may equal src.
func scaleRows<S: TensorScalar>(
    _ src: UnsafePointer<S>, by scale: UnsafePointer<S>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<S>
) {
    if S.self == Float.self {
        scaleRowsBody(rebound(src, Float.self), rebound(scale, Float.self), rows, columns, rebound(dst, Float.self))
    } else if S.self == Double.self {
        scaleRowsBody(rebound(src, Double.self), rebound(scale, Double.self), rows, columns, rebound(dst, Double.self))
    } else {
        scaleRowsBody(src, scale, rows, columns, dst)
    }
}

private func scaleRowsBody<T: TensorScalar>(
    _ src: UnsafePointer<T>, _ scale: UnsafePointer<T>, _ rows: Int, _ columns: Int, _ dst: UnsafeMutablePointer<T>
) {
    Parallel.forEachChunk(count: rows * columns) { r in
        var i = r.lowerBound
        var row = i / columns
        while i < r.upperBound {
            let end = Swift.min((row + 1) * columns, r.upperBound)
            let s = scale[row]
            for k in i..<end { dst[k] = s * src[k] }
            i = end
            row += 1
        }
    }
}

// MARK: - Type-agnostic memory operations

/// Sets `count` elements to zero (all-zero bits are +0.0), parallel.
func zeroFill<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, count: Int) {
    let stride = MemoryLayout<S>.stride
    let raw = UnsafeMutableRawPointer(p)
    Parallel.forEachChunk(count: count) { r in
        (raw + r.lowerBound * stride).initializeMemory(as: UInt8.self, repeating: 0, count: r.count * stride)
    }
}

/// Copies `count` elements (non-overlapping), serial.
@inline(__always)
func copyElements<S: TensorScalar>(from src: UnsafePointer<S>, to dst: UnsafeMutablePointer<S>, count: Int) {
    UnsafeMutableRawPointer(dst).copyMemory(from: UnsafeRawPointer(src), byteCount: count * MemoryLayout<S>.stride)
}

/// Writes `vector` [columns] into every row of y [rows, columns], parallel.
func fillRows<S: TensorScalar>(_ y: UnsafeMutablePointer<S>, rows: Int, columns n: Int, with vector: UnsafePointer<S>) {
    Parallel.forEachChunk(count: rows * n) { r in
        var i = r.lowerBound
        while i < r.upperBound {
            let col = i % n
            let len = Swift.min(n - col, r.upperBound - i)
            copyElements(from: vector + col, to: y + i, count: len)
            i += len
        }
    }
}

// MARK: - Weighted squared error

/// For elements lo..<hi of [*, columns] matrices: g = w_row · (p − t) · invB and returns
/// Σ w_row · Σ (p − t)² over the range (accumulated in Double). Serial.
func squaredErrorRange<S: TensorScalar>(
    _ p: UnsafePointer<S>, _ t: UnsafePointer<S>, _ w: UnsafePointer<S>?, _ g: UnsafeMutablePointer<S>,
    lo: Int, hi: Int, columns: Int, invB: S
) -> Double {
    if S.self == Float.self {
        return squaredErrorBody(rebound(p, Float.self), rebound(t, Float.self), w.map { rebound($0, Float.self) },
                                rebound(g, Float.self), lo, hi, columns, Float(invB))
    } else if S.self == Double.self {
        return squaredErrorBody(rebound(p, Double.self), rebound(t, Double.self), w.map { rebound($0, Double.self) },
                                rebound(g, Double.self), lo, hi, columns, Double(invB))
    }
    return squaredErrorBody(p, t, w, g, lo, hi, columns, invB)
}

private func squaredErrorBody<T: TensorScalar>(
    _ p: UnsafePointer<T>, _ t: UnsafePointer<T>, _ w: UnsafePointer<T>?, _ g: UnsafeMutablePointer<T>,
    _ lo: Int, _ hi: Int, _ columns: Int, _ invB: T
) -> Double {
    var sum = 0.0
    var i = lo
    var row = lo / columns
    while i < hi {
        let end = Swift.min((row + 1) * columns, hi)
        let weight = w?[row] ?? 1
        let scale = weight * invB
        // Residual, its squared norm (BLAS dot: vectorised), then the scaled gradient.
        for k in i..<end { g[k] = p[k] - t[k] }
        let rowSum = T.dot(n: end - i, x: g + i, y: g + i)
        for k in i..<end { g[k] *= scale }
        sum += Double(weight) * Double(rowSum)
        i = end
        row += 1
    }
    return sum
}
