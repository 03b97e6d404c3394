// Pointwise activations and their derivatives.
//
// Softplus, SiLU and ELU go through the vectorised C kernels (TrainingKernels.swift, libmvec),
// which can write f'(x) in the same call, so forward stores the derivative and backward is a
// single multiply dInput = dOutput ⊙ f'(x) with no transcendental work. ReLU and Identity are
// plain loops. Work is split over `Parallel.threads` with `Parallel.forEachChunk` so these passes
// use the same cores as the GEMMs around them.
import TensorCore

/// The pointwise nonlinearities available to layers and MLPs.
public enum ActivationKind: String, Sendable, CaseIterable, Codable {
    /// softplus(x) = log(1 + eˣ); f'(x) = sigmoid(x).
    case softplus
    /// ELU with alpha = 1: x for x > 0, eˣ − 1 otherwise.
    case elu
    /// SiLU (swish): x · sigmoid(x).
    case silu
    /// max(x, 0); its derivative is taken as 0 at x = 0.
    case relu
    /// f(x) = x.
    case identity
}

/// y = f(x) over `count` contiguous elements, also writing f'(x) into `derivative` when it is
/// not nil; parallel over `Parallel.threads`. `y` must not alias `x`.
@inline(__always)
func applyActivation<S: TensorScalar>(
    _ kind: ActivationKind, x: UnsafePointer<S>, y: UnsafeMutablePointer<S>,
    derivative: UnsafeMutablePointer<S>?, count: Int
) {
    Parallel.forEachChunk(count: count) { r in
        let o = r.lowerBound
        let n = r.count
        let d = derivative.map { $0 + o }
        switch kind {
        case .softplus: TrainingKernels<S>.softplus(x + o, y + o, d, n)
        case .silu: TrainingKernels<S>.silu(x + o, y + o, d, n)
        case .elu: TrainingKernels<S>.elu(x + o, y + o, d, n)
        case .relu: reluRange(x + o, y + o, d, n)
        case .identity:
            copyElements(from: x + o, to: y + o, count: n)
            if let d { fillOnes(d, n) }
        }
    }
}

/// A pointwise activation layer. Forward caches f'(input); backward multiplies by it.
public final class Activation<Scalar: TensorScalar>: Layer {
    /// Which nonlinearity this layer applies.
    public let kind: ActivationKind
    private var derivative = Tensor<Scalar>(shape: [0])

    /// An activation layer of the given kind.
    public init(_ kind: ActivationKind) {
        self.kind = kind
    }

    /// No parameters.
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {}

    /// Same as the input shape.
    public func outputShape(forInputShape inputShape: [Int]) -> [Int] { inputShape }

    /// output = f(input), any shape; caches f'(input).
    public func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.activation, started) }
        ensureShape(&output, input.shape)
        ensureShape(&derivative, input.shape)
        let n = input.count
        guard n > 0 else { return }
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                derivative.withUnsafeMutableBufferPointer { d in
                    applyActivation(kind, x: x.baseAddress!, y: y.baseAddress!, derivative: d.baseAddress!, count: n)
                }
            }
        }
    }

    /// dInput = dOutput ⊙ f'(input) with f' cached by the last forward.
    public func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool = true
    ) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.activation, started) }
        precondition(dOutput.count == derivative.count, "Activation.backward: dOutput \(dOutput.shape) does not match the last forward \(derivative.shape)")
        ensureShape(&dInput, dOutput.shape)
        let n = dOutput.count
        guard n > 0 else { return }
        dOutput.withUnsafeBufferPointer { g in
            derivative.withUnsafeBufferPointer { d in
                dInput.withUnsafeMutableBufferPointer { out in
                    multiplyElementwise(g.baseAddress!, d.baseAddress!, into: out.baseAddress!, count: n)
                }
            }
        }
    }
}
