// Multilayer perceptron with optional noise-level conditioning, written for allocation-free
// training steps and for the batched input Jacobian of the second-order DSM paper.
//
// Structure: sizes [D, h1, ..., Dout] give Linear layers D(+c)→h1→...→Dout with the activation
// after every layer except the last. Conditioning (e.g. log σ, [B, c]) is mathematically a
// concatenation [x, cond] fed to the first layer, whose weight therefore has D + c rows; it is
// computed as x·W[0..<D] + cond·W[D..<D+c] (two GEMMs into the same output) so no concatenated
// copy is ever made and dInput comes out as [B, D] directly. An optional per-row output scale
// s_b (e.g. 1/σ_b for a score network s(x, σ) = net(x, log σ)/σ) is applied inside the model,
// and its transpose inside backward, so callers need no extra passes.
//
// Memory: every intermediate (pre-activations z_i, activations h_i, derivatives f'(z_i),
// backward temporaries) lives in grow-only scratch buffers owned by the MLP; the returned
// output and dInput tensors are internal buffers too. After the first step at the largest
// batch size, forward + backward allocate nothing. The MLP keeps a reference to the input,
// condition and scale tensors from `forward` until `backward` (which releases them), so
// callers may refill their input buffers in place every step without copy-on-write.
import TensorCore

/// A multilayer perceptron on row-vector batches with optional conditioning input.
public final class MLP<Scalar: TensorScalar>: ParameterContainer {
    /// Layer widths [D, h1, ..., Dout] (the conditioning width is not included).
    public let sizes: [Int]
    /// The activation applied after every layer except the last.
    public let activation: ActivationKind
    /// Number of conditioning columns c appended to the input of the first layer (0 = none).
    public let conditioningSize: Int
    /// The Linear layers; layer 0 maps D + c → h1, layer i maps sizes[i] → sizes[i+1].
    public let layers: [Linear<Scalar>]

    /// Input width D.
    public var inputSize: Int { sizes[0] }
    /// Output width Dout.
    public var outputSize: Int { sizes[sizes.count - 1] }

    // Per hidden layer i (0..<layers.count-1): pre-activation, activation, derivative [B, sizes[i+1]].
    private let pre: [ScratchBuffer<Scalar>]
    private let post: [ScratchBuffer<Scalar>]
    private let derivative: [ScratchBuffer<Scalar>]
    // Backward ping-pong temporaries [B, max width].
    private let gradA = ScratchBuffer<Scalar>()
    private let gradB = ScratchBuffer<Scalar>()
    private let maxWidth: Int

    private var output = Tensor<Scalar>(shape: [0])
    private var dInput = Tensor<Scalar>(shape: [0])

    // Saved by forward for backward.
    private var savedInput: Tensor<Scalar>?
    private var savedCondition: Tensor<Scalar>?
    private var savedScale: Tensor<Scalar>?
    private var savedRows = 0
    private var hasDerivatives = false

    // Jacobian workspace (replicated inputs and identity cotangents).
    private var jacobianInput = Tensor<Scalar>(shape: [0])
    private var jacobianCondition = Tensor<Scalar>(shape: [0])
    private var jacobianScale = Tensor<Scalar>(shape: [0])
    private var jacobianCotangent = Tensor<Scalar>(shape: [0])
    private var jacobianCotangentRows = -1

    /// An MLP with layer widths `sizes` = [D, h1, ..., Dout] (at least two entries), initialised
    /// layer by layer (weight then bias) with PyTorch's default U(−1/√fanIn, 1/√fanIn) from `rng`.
    /// - Parameters:
    ///   - activation: applied after every layer except the last.
    ///   - conditioningSize: c > 0 adds c conditioning columns to the first layer's input.
    public init<G: RandomNumberGenerator>(
        sizes: [Int], activation: ActivationKind, conditioningSize: Int = 0, using rng: inout G
    ) {
        precondition(sizes.count >= 2, "an MLP needs at least input and output sizes, got \(sizes)")
        precondition(sizes.allSatisfy { $0 > 0 }, "MLP sizes must be positive, got \(sizes)")
        precondition(conditioningSize >= 0, "conditioningSize must be non-negative")
        self.sizes = sizes
        self.activation = activation
        self.conditioningSize = conditioningSize
        var layers: [Linear<Scalar>] = []
        for i in 0..<(sizes.count - 1) {
            let fanIn = sizes[i] + (i == 0 ? conditioningSize : 0)
            layers.append(Linear(inputSize: fanIn, outputSize: sizes[i + 1], name: "layers.\(i)", using: &rng))
        }
        self.layers = layers
        let hidden = sizes.count - 2
        pre = (0..<hidden).map { _ in ScratchBuffer() }
        post = (0..<hidden).map { _ in ScratchBuffer() }
        derivative = (0..<hidden).map { _ in ScratchBuffer() }
        maxWidth = sizes.max()!
    }

    /// Enumerates "layers.0.weight", "layers.0.bias", "layers.1.weight", ... (indices count
    /// Linear layers only; weights are [in, out]).
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {
        for layer in layers { try layer.forEachParameter(body) }
    }

    private func reserve(rows: Int) {
        for i in 0..<pre.count {
            let n = rows * sizes[i + 1]
            pre[i].reserve(n)
            if activation != .identity {
                post[i].reserve(n)
                derivative[i].reserve(n)
            }
        }
        gradA.reserve(rows * maxWidth)
        gradB.reserve(rows * maxWidth)
    }

    /// The activation h_i of hidden layer i (the pre-activation itself for Identity).
    @inline(__always) private func hidden(_ i: Int) -> UnsafeMutablePointer<Scalar> {
        activation == .identity ? pre[i].pointer : post[i].pointer
    }

    // MARK: Forward

    /// Evaluates the network on a batch.
    ///
    /// The result is the MLP's internal output buffer (shared storage, not a copy): drop it (or
    /// copy it) before the next `forward`, otherwise that forward has to copy it first.
    /// - Parameters:
    ///   - x: [B, D].
    ///   - condition: [B, c], required exactly when `conditioningSize > 0`.
    ///   - outputScale: optional [B] (any shape with B elements): row b of the output is multiplied
    ///     by outputScale[b] (e.g. 1/σ_b); backward applies the same factor.
    ///   - retainForBackward: keep references to the inputs and compute activation derivatives
    ///     for a following `backward`; pass false for evaluation only (skips the derivative work).
    /// - Returns: [B, Dout].
    @discardableResult
    public func forward(
        _ x: Tensor<Scalar>, condition: Tensor<Scalar>? = nil, outputScale: Tensor<Scalar>? = nil,
        retainForBackward: Bool = true
    ) -> Tensor<Scalar> {
        let rows = x.rows
        precondition(rows > 0, "MLP.forward: empty batch")
        precondition(x.columns == inputSize, "MLP.forward: input has \(x.columns) features, expected \(inputSize)")
        if conditioningSize > 0 {
            guard let condition else { preconditionFailure("MLP.forward: this MLP needs a [B, \(conditioningSize)] condition") }
            precondition(condition.rows == rows && condition.columns == conditioningSize,
                         "MLP.forward: condition \(condition.shape) does not match [\(rows), \(conditioningSize)]")
        } else {
            precondition(condition == nil, "MLP.forward: this MLP has no conditioning input")
        }
        if let outputScale {
            precondition(outputScale.count == rows, "MLP.forward: outputScale has \(outputScale.count) elements, expected \(rows)")
        }
        reserve(rows: rows)
        ensureMatrix(&output, rows: rows, columns: outputSize)
        let needDerivatives = retainForBackward && activation != .identity
        x.withUnsafeBufferPointer { xp in
            withOptionalPointer(condition) { cp in
                withOptionalPointer(outputScale) { sp in
                    output.withUnsafeMutableBufferPointer { yp in
                        forwardCore(x: xp.baseAddress!, condition: cp, scale: sp, rows: rows, y: yp.baseAddress!,
                                    derivatives: needDerivatives)
                    }
                }
            }
        }
        if retainForBackward {
            savedInput = x
            savedCondition = condition
            savedScale = outputScale
            savedRows = rows
            hasDerivatives = true
        } else {
            releaseSaved()
        }
        return output
    }

    private func releaseSaved() {
        savedInput = nil
        savedCondition = nil
        savedScale = nil
        hasDerivatives = false
    }

    private func forwardCore(
        x: UnsafePointer<Scalar>, condition: UnsafePointer<Scalar>?, scale: UnsafePointer<Scalar>?,
        rows: Int, y: UnsafeMutablePointer<Scalar>, derivatives: Bool
    ) {
        let last = layers.count - 1
        let d = inputSize
        for i in 0...last {
            let layer = layers[i]
            let out = i == last ? y : pre[i].pointer
            layer.fillBias(out, rows: rows)
            if i == 0 {
                layer.addProduct(x, ldx: d, rows: rows, weightRows: 0..<d, into: out)
                if let condition {
                    layer.addProduct(condition, ldx: conditioningSize, rows: rows,
                                     weightRows: d..<(d + conditioningSize), into: out)
                }
            } else {
                layer.addProduct(hidden(i - 1), ldx: sizes[i], rows: rows, weightRows: 0..<sizes[i], into: out)
            }
            if i < last && activation != .identity {
                applyActivation(activation, x: pre[i].pointer, y: post[i].pointer,
                                derivative: derivatives ? derivative[i].pointer : nil, count: rows * sizes[i + 1])
            }
        }
        if let scale { scaleRows(y, by: scale, rows: rows, columns: outputSize, into: y) }
    }

    // MARK: Backward

    /// Backpropagates `dOutput` through the last `forward` (which must have retained its inputs)
    /// and returns dInput = (∂output/∂x)ᵀ dOutput with respect to x only, [B, D]. When
    /// `accumulateParameterGradients`, also ADDS every parameter gradient into the accumulators;
    /// pass false for pure vector-Jacobian products (skips the weight-gradient GEMMs).
    ///
    /// The result is an internal buffer (see `forward`). Releases the references kept by forward.
    /// - Parameter dOutput: [B, Dout].
    @discardableResult
    public func backward(_ dOutput: Tensor<Scalar>, accumulateParameterGradients: Bool = true) -> Tensor<Scalar> {
        let rows = checkBackward(dOutput)
        ensureMatrix(&dInput, rows: rows, columns: inputSize)
        dOutput.withUnsafeBufferPointer { g in
            dInput.withUnsafeMutableBufferPointer { dx in
                backwardCore(dOutput: g.baseAddress!, rows: rows, accumulate: accumulateParameterGradients,
                             dInput: dx.baseAddress!)
            }
        }
        releaseSaved()
        return dInput
    }

    /// Training form of `backward`: ADDS the parameter gradients for cotangent `dOutput` [B, Dout]
    /// and skips the input gradient (so the first layer needs no dInput GEMM). Releases the
    /// references kept by forward.
    public func backwardParameters(_ dOutput: Tensor<Scalar>) {
        let rows = checkBackward(dOutput)
        dOutput.withUnsafeBufferPointer { g in
            backwardCore(dOutput: g.baseAddress!, rows: rows, accumulate: true, dInput: nil)
        }
        releaseSaved()
    }

    private func checkBackward(_ dOutput: Tensor<Scalar>) -> Int {
        precondition(hasDerivatives && savedInput != nil,
                     "MLP.backward needs a preceding forward with retainForBackward (each forward supports one backward)")
        precondition(dOutput.rows == savedRows && dOutput.columns == outputSize,
                     "MLP.backward: dOutput \(dOutput.shape) does not match [\(savedRows), \(outputSize)]")
        return savedRows
    }

    private func backwardCore(
        dOutput: UnsafePointer<Scalar>, rows: Int, accumulate: Bool, dInput dx: UnsafeMutablePointer<Scalar>?
    ) {
        let d = inputSize
        let c = conditioningSize
        let last = layers.count - 1
        savedInput!.withUnsafeBufferPointer { xp in
            withOptionalPointer(savedCondition) { cp in
                withOptionalPointer(savedScale) { sp in
                    var dz = dOutput
                    var spare = gradA.pointer
                    var other = gradB.pointer
                    if let sp {
                        scaleRows(dOutput, by: sp, rows: rows, columns: outputSize, into: gradA.pointer)
                        dz = UnsafePointer(gradA.pointer)
                        spare = gradB.pointer
                        other = gradA.pointer
                    }
                    for i in stride(from: last, through: 0, by: -1) {
                        let layer = layers[i]
                        if accumulate {
                            if i == 0 {
                                layer.accumulateWeightGradient(xp.baseAddress!, ldx: d, rows: rows, weightRows: 0..<d, dOutput: dz)
                                if let cp {
                                    layer.accumulateWeightGradient(cp, ldx: c, rows: rows, weightRows: d..<(d + c), dOutput: dz)
                                }
                            } else {
                                layer.accumulateWeightGradient(hidden(i - 1), ldx: sizes[i], rows: rows,
                                                               weightRows: 0..<sizes[i], dOutput: dz)
                            }
                            layer.accumulateBiasGradient(dz, rows: rows)
                        }
                        if i > 0 {
                            layer.inputGradient(dz, rows: rows, weightRows: 0..<sizes[i], into: spare, ldx: sizes[i])
                            if activation != .identity {
                                multiplyElementwise(spare, derivative[i - 1].pointer, into: spare, count: rows * sizes[i])
                            }
                            dz = UnsafePointer(spare)
                            swap(&spare, &other)
                        } else if let dx {
                            layer.inputGradient(dz, rows: rows, weightRows: 0..<d, into: dx, ldx: d)
                        }
                    }
                }
            }
        }
    }

    /// dInput = (∂output/∂x)ᵀ dOutput [B, D] for the last `forward`, KEEPING its saved state (as
    /// autograd's retain_graph), so that several vector-Jacobian products can follow one forward
    /// pass. No parameter gradients are touched. Call `releaseForward()` after the last one.
    public func vectorJacobianProduct(_ dOutput: Tensor<Scalar>, into result: inout Tensor<Scalar>) {
        let rows = checkBackward(dOutput)
        if !(result.rank == 2 && result.shape[0] == rows && result.shape[1] == inputSize) { ensureMatrix(&result, rows: rows, columns: inputSize) }
        dOutput.withUnsafeBufferPointer { g in
            result.withUnsafeMutableBufferPointer { dx in
                backwardCore(dOutput: g.baseAddress!, rows: rows, accumulate: false, dInput: dx.baseAddress!)
            }
        }
    }

    /// Drops the references kept by the last `forward` (after `vectorJacobianProduct` calls).
    public func releaseForward() { releaseSaved() }

    /// The input Jacobian [B, Dout, D] by Dout separate vector-Jacobian products after ONE forward
    /// pass (the loop form of reverse mode: output coordinate o gets cotangent e_o for every row).
    /// Same result as `inputJacobian(at:...)`, which batches the Dout passes into one.
    public func inputJacobianByVJPs(at x: Tensor<Scalar>, condition: Tensor<Scalar>? = nil, outputScale: Tensor<Scalar>? = nil,
                                    into jacobian: inout Tensor<Scalar>) {
        let (rows, m, d) = (x.rows, outputSize, inputSize)
        _ = forward(x, condition: condition, outputScale: outputScale)
        if !(jacobian.rank == 3 && jacobian.shape == [rows, m, d]) { ensureShape(&jacobian, [rows, m, d]) }
        var cotangent = Tensor<Scalar>(shape: [rows, m])
        var row = Tensor<Scalar>(shape: [rows, d])
        for o in 0..<m {
            if o > 0 { for b in 0..<rows { cotangent.scalars[b * m + o - 1] = 0 } }
            for b in 0..<rows { cotangent.scalars[b * m + o] = 1 }
            vectorJacobianProduct(cotangent, into: &row)
            row.withUnsafeBufferPointer { r in
                jacobian.withUnsafeMutableBufferPointer { j in
                    for b in 0..<rows { copyElements(from: r.baseAddress! + b * d, to: j.baseAddress! + (b * m + o) * d, count: d) }
                }
            }
        }
        releaseSaved()
    }

    // MARK: Input Jacobian

    /// The Jacobian of the output with respect to x, [B, Dout, D], computed the way reverse-mode
    /// autodiff does it: each input row is replicated Dout times into one batch of B·Dout rows,
    /// one forward and one backward pass with identity cotangents (row (b, o) gets e_o) and no
    /// parameter-gradient GEMMs give row (b, o) of dInput = ∂output_o/∂x_b. Uses the same kernels
    /// as training. Workspaces are kept and reused (grow-only). Parameter gradients are untouched.
    /// - Parameters:
    ///   - x: [B, D]; condition: [B, c] when the MLP is conditioned; outputScale: [B] or nil.
    ///   - jacobian: receives [B, Dout, D] (reshaped if needed).
    public func inputJacobian(
        at x: Tensor<Scalar>, condition: Tensor<Scalar>? = nil, outputScale: Tensor<Scalar>? = nil,
        into jacobian: inout Tensor<Scalar>
    ) {
        let rows = x.rows
        let m = outputSize
        let d = inputSize
        precondition(x.columns == d, "inputJacobian: input has \(x.columns) features, expected \(d)")
        let big = rows * m
        replicateRows(x, times: m, into: &jacobianInput)
        if let condition { replicateRows(condition, times: m, into: &jacobianCondition) }
        if let outputScale {
            precondition(outputScale.count == rows, "inputJacobian: outputScale has \(outputScale.count) elements, expected \(rows)")
            replicateRows(outputScale.reshaped([rows, 1]), times: m, into: &jacobianScale)
        }
        if jacobianCotangentRows != big {
            ensureMatrix(&jacobianCotangent, rows: big, columns: m)
            jacobianCotangent.fill(0)
            jacobianCotangent.withUnsafeMutableBufferPointer { p in
                for r in 0..<big { p[r * m + r % m] = 1 }
            }
            jacobianCotangentRows = big
        }
        _ = forward(jacobianInput, condition: condition == nil ? nil : jacobianCondition,
                    outputScale: outputScale == nil ? nil : jacobianScale)
        if !(jacobian.rank == 3 && jacobian.shape[0] == rows && jacobian.shape[1] == m && jacobian.shape[2] == d) {
            ensureShape(&jacobian, [rows, m, d])
        }
        jacobianCotangent.withUnsafeBufferPointer { g in
            jacobian.withUnsafeMutableBufferPointer { j in
                backwardCore(dOutput: g.baseAddress!, rows: big, accumulate: false, dInput: j.baseAddress!)
            }
        }
        releaseSaved()
    }

    /// Allocating form of `inputJacobian(at:condition:outputScale:into:)`; returns [B, Dout, D].
    public func inputJacobian(
        at x: Tensor<Scalar>, condition: Tensor<Scalar>? = nil, outputScale: Tensor<Scalar>? = nil
    ) -> Tensor<Scalar> {
        var j = Tensor<Scalar>(shape: [0])
        inputJacobian(at: x, condition: condition, outputScale: outputScale, into: &j)
        return j
    }
}

/// The input Jacobian of `mlp` at `x`, [B, Dout, D], by batched reverse mode (see
/// `MLP.inputJacobian(at:condition:outputScale:into:)`): the autodiff baseline.
public func inputJacobian<Scalar: TensorScalar>(
    of mlp: MLP<Scalar>, at x: Tensor<Scalar>, condition: Tensor<Scalar>? = nil,
    outputScale: Tensor<Scalar>? = nil
) -> Tensor<Scalar> {
    mlp.inputJacobian(at: x, condition: condition, outputScale: outputScale)
}

// MARK: - Row helpers

/// dst = each row of src repeated `times` times consecutively: [rows·times, columns].
func replicateRows<S: TensorScalar>(_ src: Tensor<S>, times: Int, into dst: inout Tensor<S>) {
    let (rows, c) = (src.rows, src.columns)
    ensureMatrix(&dst, rows: rows * times, columns: c)
    src.withUnsafeBufferPointer { s in
        dst.withUnsafeMutableBufferPointer { t in
            for r in 0..<rows {
                for k in 0..<times {
                    copyElements(from: s.baseAddress! + r * c, to: t.baseAddress! + (r * times + k) * c, count: c)
                }
            }
        }
    }
}
