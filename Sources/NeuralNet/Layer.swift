// The layer and parameter protocols shared by every building block, plus the small buffer
// utilities that let the hot paths run without heap allocation.
//
// Design: layers are classes that own their parameters, gradient accumulators and workspaces.
// `forward(_:into:)` writes into a caller-owned output tensor and caches inside the layer only
// what backward needs besides the input (activation derivatives, im2col columns); the input is
// NOT retained, so the caller passes the same input to `backward`. Not retaining inputs is what
// keeps training allocation-free: a layer that kept a Tensor copy of its input would share that
// storage with the previous layer's output buffer, and the next forward's write into that buffer
// would trigger a copy-on-write. Buffers only ever grow (`ensureMatrix`, `ScratchBuffer`), so
// alternating batch sizes (training batch vs. a replicated Jacobian batch) does not reallocate.
//
// Parameters are enumerated in a fixed order with stable names (e.g. "layers.0.weight") through
// `ParameterContainer`, which is all that optimisers, EMA and checkpointing need.
import Dispatch
import TensorCore

/// Anything that owns trainable parameters with gradient accumulators.
public protocol ParameterContainer<Scalar>: AnyObject {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar

    /// Calls `body` once per parameter, always in the same order, with its stable name, its value
    /// and its gradient accumulator (same shape as the value). `body` may modify both in place
    /// (keeping their element counts).
    func forEachParameter(
        _ body: (_ name: String, _ value: inout Tensor<Scalar>, _ gradient: inout Tensor<Scalar>) throws -> Void
    ) rethrows
}

extension ParameterContainer {
    /// Sets every gradient accumulator to zero (backward passes add into them); a parallel
    /// memset, no allocation.
    public func zeroGradients() {
        forEachParameter { _, _, gradient in
            let n = gradient.count
            guard n > 0 else { return }
            gradient.withUnsafeMutableBufferPointer { zeroFill($0.baseAddress!, count: n) }
        }
    }

    /// The total number of scalar parameters.
    public var parameterCount: Int {
        var n = 0
        forEachParameter { _, value, _ in n += value.count }
        return n
    }

    /// The parameter names in enumeration order.
    public var parameterNames: [String] {
        var names: [String] = []
        forEachParameter { name, _, _ in names.append(name) }
        return names
    }

    /// Copies of all parameters with their names, in enumeration order.
    public func namedParameters() -> [(name: String, value: Tensor<Scalar>)] {
        var out: [(name: String, value: Tensor<Scalar>)] = []
        forEachParameter { name, value, _ in out.append((name, value)) }
        return out
    }

    /// Copies of all gradient accumulators with their parameter names, in enumeration order.
    public func namedGradients() -> [(name: String, gradient: Tensor<Scalar>)] {
        var out: [(name: String, gradient: Tensor<Scalar>)] = []
        forEachParameter { name, _, gradient in out.append((name, gradient)) }
        return out
    }

    /// The parameter called `name`, or nil if there is none.
    public func parameter(named name: String) -> Tensor<Scalar>? {
        var found: Tensor<Scalar>?
        forEachParameter { n, value, _ in if n == name { found = value } }
        return found
    }

    /// The gradient accumulator of the parameter called `name`, or nil if there is none.
    public func gradient(named name: String) -> Tensor<Scalar>? {
        var found: Tensor<Scalar>?
        forEachParameter { n, _, gradient in if n == name { found = gradient } }
        return found
    }

    /// Overwrites the parameter called `name` with the elements of `value`, which must have the
    /// same number of elements (the parameter keeps its own shape, so a flat checkpoint array
    /// works). Throws if there is no such parameter or the size differs.
    public func setParameter(named name: String, to value: Tensor<Scalar>) throws {
        var found = false
        var mismatch: [Int]?
        forEachParameter { n, current, _ in
            guard n == name else { return }
            found = true
            if current.count != value.count {
                mismatch = current.shape
            } else {
                current.scalars = value.scalars
            }
        }
        if !found { throw ParameterError.unknownName(name) }
        if let shape = mismatch { throw ParameterError.shapeMismatch(name: name, expected: shape, got: value.shape) }
    }

    /// Copies every parameter value (not the gradients) from `other`, which must have the same
    /// parameter sizes in the same order.
    public func copyParameters(from other: Self) {
        var values: [Tensor<Scalar>] = []
        other.forEachParameter { _, value, _ in values.append(value) }
        var i = 0
        forEachParameter { name, value, _ in
            precondition(i < values.count && values[i].count == value.count, "copyParameters: parameter \(name) does not match")
            value.scalars = values[i].scalars
            i += 1
        }
        precondition(i == values.count, "copyParameters: parameter counts differ")
    }
}

/// Errors from parameter look-up by name.
public enum ParameterError: Error, CustomStringConvertible {
    /// No parameter has this name.
    case unknownName(String)
    /// The replacement value has a different number of elements.
    case shapeMismatch(name: String, expected: [Int], got: [Int])

    /// A readable message.
    public var description: String {
        switch self {
        case .unknownName(let n): return "no parameter named \(n)"
        case .shapeMismatch(let n, let e, let g): return "parameter \(n) has shape \(e), got \(g)"
        }
    }
}

/// A differentiable map on a batch (leading dimension = batch).
///
/// `forward` writes the output into a caller-owned tensor and caches inside the layer whatever
/// backward needs except the input itself; `backward` must be called with the same input as the
/// most recent `forward`.
public protocol Layer<Scalar>: ParameterContainer {
    /// The output shape for an input of shape `inputShape` (batch first).
    func outputShape(forInputShape inputShape: [Int]) -> [Int]

    /// Computes the layer on `input` into `output`, which is reshaped if its shape differs (no
    /// allocation when the shape is unchanged or its storage is already large enough).
    func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>)

    /// The vector-Jacobian product: writes dInput = (∂output/∂input)ᵀ dOutput into `dInput`
    /// (reshaped to the input shape) and, if `accumulateParameterGradients`, ADDS the parameter
    /// gradients (∂output/∂θ)ᵀ dOutput into the gradient accumulators.
    /// - Parameters:
    ///   - input: the input of the most recent `forward`.
    ///   - dOutput: the cotangent, the shape of the output.
    func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool)
}

extension Layer {
    /// Allocating convenience form of `forward(_:into:)` (for tests and set-up code).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var out = Tensor<Scalar>(shape: [0])
        forward(input, into: &out)
        return out
    }
}

// MARK: - Buffer utilities

/// Gives `t` the shape [rows, columns], reusing its storage when that shape is already set and
/// its capacity otherwise (contents are unspecified after a change). Allocates nothing when the
/// shape is unchanged.
@inline(__always)
func ensureMatrix<S: TensorScalar>(_ t: inout Tensor<S>, rows: Int, columns: Int) {
    if t.rank == 2 && t.shape[0] == rows && t.shape[1] == columns { return }
    setCount(&t, rows * columns)
    t.reshape([rows, columns])
}

/// Gives `t` the shape `shape`, reusing storage capacity (contents unspecified after a change).
func ensureShape<S: TensorScalar>(_ t: inout Tensor<S>, _ shape: [Int]) {
    if t.shape == shape { return }
    setCount(&t, shape.reduce(1, *))
    t.reshape(shape)
}

/// Changes the element count of `t` keeping its array capacity (grow-only storage).
///
/// Dispatches on the metatype (see Kernels.swift): called unspecialised from another module, a
/// generic `append(contentsOf: repeatElement(0, ...))` costs a metadata lookup per element
/// (measured ~50 ns), i.e. seconds for the [B·D, D] buffers of a D = 784 input Jacobian.
private func setCount<S: TensorScalar>(_ t: inout Tensor<S>, _ n: Int) {
    if S.self == Float.self {
        withUnsafeMutablePointer(to: &t.scalars) { p in
            p.withMemoryRebound(to: [Float].self, capacity: 1) { setArrayCount(&$0.pointee, n) }
        }
    } else if S.self == Double.self {
        withUnsafeMutablePointer(to: &t.scalars) { p in
            p.withMemoryRebound(to: [Double].self, capacity: 1) { setArrayCount(&$0.pointee, n) }
        }
    } else {
        setArrayCount(&t.scalars, n)
    }
}

private func setArrayCount<T: BinaryFloatingPoint>(_ a: inout [T], _ n: Int) {
    let c = a.count
    if n < c {
        a.removeLast(c - n)
    } else if n > c {
        a.append(contentsOf: repeatElement(0, count: n - c))
    }
}

/// A grow-only, 64-byte-aligned scratch buffer with a stable pointer, for workspaces that never
/// leave a layer (pre-activations, derivatives, backward temporaries). Contents persist until
/// the next growth, which zero-fills.
final class ScratchBuffer<Scalar: TensorScalar> {
    private(set) var pointer: UnsafeMutablePointer<Scalar>
    private(set) var capacity: Int

    init() {
        capacity = 0
        pointer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64).bindMemory(to: Scalar.self, capacity: 1)
    }

    /// Makes room for `n` elements (reallocates only when growing).
    func reserve(_ n: Int) {
        guard n > capacity else { return }
        UnsafeMutableRawPointer(pointer).deallocate()
        pointer = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Scalar>.stride, alignment: 64)
            .bindMemory(to: Scalar.self, capacity: n)
        pointer.initialize(repeating: 0, count: n)
        capacity = n
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// Calls `body` with a pointer to the elements of `t`, or nil when `t` is nil.
@inline(__always)
func withOptionalPointer<S: TensorScalar, R>(_ t: Tensor<S>?, _ body: (UnsafePointer<S>?) -> R) -> R {
    if let t {
        return t.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
    return body(nil)
}

/// Fills `t` with Uniform(−1/sqrt(fanIn), 1/sqrt(fanIn)) draws in row-major order (PyTorch's
/// default for Linear and Conv2d weights and biases). Draws are made in Double, so Float and
/// Double models from the same seed agree to Float rounding.
func uniformInit<S: TensorScalar, G: RandomNumberGenerator>(_ t: inout Tensor<S>, fanIn: Int, using rng: inout G) {
    let bound = 1 / Double(fanIn).squareRoot()
    t.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = S(rng.nextUniform(in: -bound, bound)) }
    }
}
