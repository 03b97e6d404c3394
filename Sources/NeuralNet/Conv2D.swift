// 2-D convolution (cross-correlation, as in PyTorch) and nearest-neighbour upsampling on NCHW
// batches, for the image experiments. Float32 convolutions run on oneDNN's convolution
// primitives by default (Conv2D+OneDNN.swift); Float64, and Float32 with `backend = .im2col`,
// take the im2col path below, the reference the tests compare oneDNN against.
//
// Conv2D works image by image through im2col: the columns matrix of image b is
// [C·k·k, Ho·Wo], with row (c, i, j) holding input[c, oh·s − p + i, ow·s − p + j] (0 outside).
// Then
//   forward   out_b [O, Ho·Wo] = W [O, C·k·k] · col_b + bias            (GEMM NN)
//   backward  dW += dOut_b · col_bᵀ (GEMM NT), db += row sums of dOut_b,
//             dcol = Wᵀ · dOut_b (GEMM TN), then col2im scatter-adds dcol into dInput_b.
// The columns of every image are kept from forward for the weight gradient (memory
// B·C·k·k·Ho·Wo, fine at the image sizes used). Weight [O, C, k, k] and bias [O] use
// PyTorch's default init U(−1/√(C·k·k), 1/√(C·k·k)).
import TensorCore

/// A square-kernel 2-D convolution on [B, C, H, W] inputs.
public final class Conv2D<Scalar: TensorScalar>: Layer {
    /// Input channels C.
    public let inputChannels: Int
    /// Output channels O.
    public let outputChannels: Int
    /// Kernel side k.
    public let kernelSize: Int
    /// Stride s.
    public let stride: Int
    /// Zero padding p on each side.
    public let padding: Int
    /// The kernel, [O, C, k, k].
    public var weight: Tensor<Scalar>
    /// The bias, [O].
    public var bias: Tensor<Scalar>
    /// Accumulated gradient of the kernel, [O, C, k, k].
    public var dWeight: Tensor<Scalar>
    /// Accumulated gradient of the bias, [O].
    public var dBias: Tensor<Scalar>

    private let weightName: String
    private let biasName: String
    private var columns = Tensor<Scalar>(shape: [0])  // [B, C·k·k, Ho·Wo] from the last forward
    private var dColumns = Tensor<Scalar>(shape: [0])  // [C·k·k, Ho·Wo]
    /// The input shape of the last forward ([] before the first).
    public private(set) var lastInputShape: [Int] = []
    private var plan: DNNLConvolutionPlan?  // oneDNN primitives for the last input shape
    private var lastLayout = ActivationLayout.plain  // the caller's activation layouts of the last forward
    /// The channel-blocked inference forward's plans (issue 32), most recent first: two input
    /// shapes alternate when a batch is cut into pieces whose last one is smaller.
    var blockedPlans: [DNNLBlockedForwardPlan] = []
    private var dWeightStep = Tensor<Scalar>(shape: [0])  // oneDNN backward-weights output
    private var dBiasStep = Tensor<Scalar>(shape: [0])

    /// The Float32 implementation (ignored for Float64, which always uses im2col).
    public var backend: ConvolutionBackend = .oneDNN

    /// True when this layer runs on oneDNN.
    var usesOneDNN: Bool { Scalar.self == Float.self && backend != .im2col }

    /// oneDNN's implementation names (forward, backward-data, backward-weights) for the last
    /// forward's shape, or nil on the im2col path.
    public var oneDNNImplementations: [String]? { usesOneDNN ? plan?.implementations : nil }

    /// A convolution with PyTorch's default initialisation from `rng` (weight, then bias).
    /// - Parameter name: prefix for the parameter names ("weight", "bias" or "<name>.weight").
    public init<G: RandomNumberGenerator>(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        name: String = "", using rng: inout G
    ) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D: invalid configuration C=\(inputChannels) O=\(outputChannels) k=\(kernelSize) s=\(stride) p=\(padding)")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        weight = Tensor(shape: [outputChannels, inputChannels, kernelSize, kernelSize])
        bias = Tensor(shape: [outputChannels])
        dWeight = Tensor(shape: weight.shape)
        dBias = Tensor(shape: [outputChannels])
        weightName = name.isEmpty ? "weight" : name + ".weight"
        biasName = name.isEmpty ? "bias" : name + ".bias"
        let fanIn = inputChannels * kernelSize * kernelSize
        uniformInit(&weight, fanIn: fanIn, using: &rng)
        uniformInit(&bias, fanIn: fanIn, using: &rng)
    }

    /// Enumerates "weight" then "bias" (with the prefix given at initialisation).
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {
        try body(weightName, &weight, &dWeight)
        try body(biasName, &bias, &dBias)
    }

    /// Output spatial size for input size `n`: (n + 2p − k)/s + 1.
    public func outputExtent(_ n: Int) -> Int { (n + 2 * padding - kernelSize) / stride + 1 }

    /// [B, C, H, W] → [B, O, Ho, Wo].
    public func outputShape(forInputShape s: [Int]) -> [Int] {
        precondition(s.count == 4 && s[1] == inputChannels, "Conv2D: input shape \(s) is not [B, \(inputChannels), H, W]")
        precondition(s[2] + 2 * padding >= kernelSize && s[3] + 2 * padding >= kernelSize, "Conv2D: input \(s) smaller than the kernel")
        return [s[0], outputChannels, outputExtent(s[2]), outputExtent(s[3])]
    }

    /// output [B, O, Ho, Wo] = conv(input [B, C, H, W]); caches the im2col columns.
    public func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        forward(input, into: &output, layout: .plain)
    }

    /// `forward(_:into:)` with the input and output in the layouts `layout` gives (shapes stay
    /// the logical [B, C, H, W]); a blocked layout needs the oneDNN path (Float32, backend not
    /// im2col). The backward of this forward takes the same layouts.
    func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>, layout: ActivationLayout) {
        precondition(layout == .plain || usesOneDNN, "Conv2D: blocked activations need the oneDNN path (Float32, backend \(backend))")
        lastLayout = layout
        let outShape = outputShape(forInputShape: input.shape)
        let (b, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let (ho, wo) = (outShape[2], outShape[3])
        let ckk = inputChannels * kernelSize * kernelSize
        let hw = ho * wo
        ensureShape(&output, outShape)
        lastInputShape = input.shape
        if usesOneDNN {
            let p = oneDNNPlan(for: input.shape, outputShape: outShape, layout: layout)
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    weight.withUnsafeBufferPointer { wt in
                        bias.withUnsafeBufferPointer { bs in
                            p.forward(src: asFloat(x.baseAddress!), weights: asFloat(wt.baseAddress!),
                                      bias: asFloat(bs.baseAddress!), dst: asFloat(y.baseAddress!))
                        }
                    }
                }
            }
            return
        }
        ensureShape(&columns, [b, ckk, hw])
        let o = outputChannels
        input.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { col in
                output.withUnsafeMutableBufferPointer { y in
                    weight.withUnsafeBufferPointer { wt in
                        bias.withUnsafeBufferPointer { bs in
                            for n in 0..<b {
                                let colN = col.baseAddress! + n * ckk * hw
                                im2col(x.baseAddress! + n * inputChannels * h * w, height: h, width: w,
                                       outHeight: ho, outWidth: wo, into: colN)
                                let yN = y.baseAddress! + n * o * hw
                                for oc in 0..<o { (yN + oc * hw).update(repeating: bs[oc], count: hw) }
                                Scalar.gemm(transA: false, transB: false, m: o, n: hw, k: ckk, alpha: 1,
                                            a: wt.baseAddress!, lda: ckk, b: colN, ldb: hw, beta: 1, c: yN, ldc: hw)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dInput [B, C, H, W] by GEMM + col2im; accumulates dWeight and dBias when asked.
    public func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool = true
    ) {
        precondition(input.shape == lastInputShape, "Conv2D.backward: input \(input.shape) is not the one of the last forward \(lastInputShape)")
        let outShape = outputShape(forInputShape: input.shape)
        precondition(dOutput.shape == outShape, "Conv2D.backward: dOutput \(dOutput.shape) does not match \(outShape)")
        let (b, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let (ho, wo) = (outShape[2], outShape[3])
        let ckk = inputChannels * kernelSize * kernelSize
        let hw = ho * wo
        let o = outputChannels
        ensureShape(&dInput, input.shape)
        if usesOneDNN {
            backwardOneDNN(input: input, dOutput: dOutput, outputShape: outShape, into: &dInput,
                           accumulateParameterGradients: accumulateParameterGradients)
            return
        }
        ensureMatrix(&dColumns, rows: ckk, columns: hw)
        dInput.fill(0)
        columns.withUnsafeBufferPointer { col in
            dOutput.withUnsafeBufferPointer { g in
                dInput.withUnsafeMutableBufferPointer { dx in
                    dColumns.withUnsafeMutableBufferPointer { dcol in
                        for n in 0..<b {
                            let gN = g.baseAddress! + n * o * hw
                            if accumulateParameterGradients {
                                dWeight.withUnsafeMutableBufferPointer { dw in
                                    Scalar.gemm(transA: false, transB: true, m: o, n: ckk, k: hw, alpha: 1,
                                                a: gN, lda: hw, b: col.baseAddress! + n * ckk * hw, ldb: hw, beta: 1,
                                                c: dw.baseAddress!, ldc: ckk)
                                }
                                dBias.withUnsafeMutableBufferPointer { db in
                                    for oc in 0..<o {
                                        var s: Scalar = 0
                                        for k in 0..<hw { s += gN[oc * hw + k] }
                                        db[oc] += s
                                    }
                                }
                            }
                            weight.withUnsafeBufferPointer { wt in
                                Scalar.gemm(transA: true, transB: false, m: ckk, n: hw, k: o, alpha: 1,
                                            a: wt.baseAddress!, lda: ckk, b: gN, ldb: hw, beta: 0,
                                            c: dcol.baseAddress!, ldc: hw)
                            }
                            col2imAdd(dcol.baseAddress!, height: h, width: w, outHeight: ho, outWidth: wo,
                                      into: dx.baseAddress! + n * inputChannels * h * w)
                        }
                    }
                }
            }
        }
    }

    /// The oneDNN primitives for this input shape and these caller-side layouts at the current
    /// team size (made on first use).
    private func oneDNNPlan(for inputShape: [Int], outputShape outShape: [Int], layout: ActivationLayout) -> DNNLConvolutionPlan {
        OneDNN.pinThreads()
        let blocked = backend == .oneDNN
        let key = inputShape + [OneDNN.threads, blocked ? 1 : 0, layout.source, layout.destination]
        if let plan, plan.key == key { return plan }
        let p = DNNLConvolutionPlan(key: key, outputChannels: outputChannels, outputHeight: outShape[2],
                                    outputWidth: outShape[3], kernelSize: kernelSize, stride: stride, padding: padding,
                                    blocked: blocked, layout: layout)
        plan = p
        return p
    }

    /// The plan the forward pass of this input shape used, at the team size it was made for: the
    /// backward reuses the forward's blocked copies of the input, so it must not switch to a new
    /// plan when `Parallel.threads` changed in between (another thread may reconfigure it); a new
    /// plan is made only when there is none for this shape.
    private func backwardPlan(for inputShape: [Int], outputShape outShape: [Int]) -> DNNLConvolutionPlan {
        let blocked = backend == .oneDNN
        let r = inputShape.count
        if let plan, plan.key.count == r + 4, Array(plan.key.prefix(r)) == inputShape,
           Array(plan.key.suffix(3)) == [blocked ? 1 : 0, lastLayout.source, lastLayout.destination] {
            OneDNN.pinThreads(plan.key[r])
            return plan
        }
        return oneDNNPlan(for: inputShape, outputShape: outShape, layout: lastLayout)
    }

    /// dInput by oneDNN backward-data; dWeight and dBias += oneDNN backward-weights.
    private func backwardOneDNN(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, outputShape outShape: [Int], into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool
    ) {
        let p = backwardPlan(for: input.shape, outputShape: outShape)
        dOutput.withUnsafeBufferPointer { g in
            weight.withUnsafeBufferPointer { wt in
                dInput.withUnsafeMutableBufferPointer { dx in
                    p.backwardData(dDst: asFloat(g.baseAddress!), weights: asFloat(wt.baseAddress!), dSrc: asFloat(dx.baseAddress!))
                }
            }
        }
        guard accumulateParameterGradients else { return }
        ensureShape(&dWeightStep, weight.shape)
        ensureShape(&dBiasStep, bias.shape)
        input.withUnsafeBufferPointer { x in
            dOutput.withUnsafeBufferPointer { g in
                dWeightStep.withUnsafeMutableBufferPointer { dw in
                    dBiasStep.withUnsafeMutableBufferPointer { db in
                        p.backwardWeights(src: asFloat(x.baseAddress!), dDst: asFloat(g.baseAddress!),
                                          dWeights: asFloat(dw.baseAddress!), dBias: asFloat(db.baseAddress!))
                    }
                }
            }
        }
        addInPlace(&dWeight, dWeightStep)
        addInPlace(&dBias, dBiasStep)
    }

    /// Fills the [C·k·k, Ho·Wo] columns matrix of one image [C, H, W].
    private func im2col(
        _ x: UnsafePointer<Scalar>, height h: Int, width w: Int, outHeight ho: Int, outWidth wo: Int,
        into col: UnsafeMutablePointer<Scalar>
    ) {
        let k = kernelSize
        var row = 0
        for c in 0..<inputChannels {
            for i in 0..<k {
                for j in 0..<k {
                    let dst = col + row * ho * wo
                    for oh in 0..<ho {
                        let ih = oh * stride - padding + i
                        for ow in 0..<wo {
                            let iw = ow * stride - padding + j
                            dst[oh * wo + ow] = (ih >= 0 && ih < h && iw >= 0 && iw < w) ? x[(c * h + ih) * w + iw] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds a [C·k·k, Ho·Wo] columns gradient back onto one image gradient [C, H, W].
    private func col2imAdd(
        _ col: UnsafePointer<Scalar>, height h: Int, width w: Int, outHeight ho: Int, outWidth wo: Int,
        into dx: UnsafeMutablePointer<Scalar>
    ) {
        let k = kernelSize
        var row = 0
        for c in 0..<inputChannels {
            for i in 0..<k {
                for j in 0..<k {
                    let src = col + row * ho * wo
                    for oh in 0..<ho {
                        let ih = oh * stride - padding + i
                        guard ih >= 0 && ih < h else { continue }
                        for ow in 0..<wo {
                            let iw = ow * stride - padding + j
                            if iw >= 0 && iw < w { dx[(c * h + ih) * w + iw] += src[oh * wo + ow] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}

/// Nearest-neighbour upsampling of [B, C, H, W] by an integer factor f: output [B, C, fH, fW]
/// with out[b, c, y, x] = in[b, c, y / f, x / f]. Backward sums each f×f block.
public final class Upsample2D<Scalar: TensorScalar>: Layer {
    /// The integer scale factor f.
    public let factor: Int

    /// An upsampling layer with integer `factor` ≥ 1.
    public init(factor: Int) {
        precondition(factor >= 1, "Upsample2D factor must be at least 1, got \(factor)")
        self.factor = factor
    }

    /// No parameters.
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {}

    /// [B, C, H, W] → [B, C, fH, fW].
    public func outputShape(forInputShape s: [Int]) -> [Int] {
        precondition(s.count == 4, "Upsample2D: input shape \(s) is not [B, C, H, W]")
        return [s[0], s[1], s[2] * factor, s[3] * factor]
    }

    /// Repeats every pixel into an f×f block.
    public func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.upsample, started) }
        let outShape = outputShape(forInputShape: input.shape)
        ensureShape(&output, outShape)
        let planes = input.shape[0] * input.shape[1]
        let (h, w) = (input.shape[2], input.shape[3])
        let f = factor
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                upsampleForward(x.baseAddress!, y.baseAddress!, planes: planes, height: h, width: w, factor: f)
            }
        }
    }

    /// dInput[b, c, y, x] = Σ over the f×f block of dOutput.
    public func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool = true
    ) {
        let started = LayerProfile.start()
        defer { LayerProfile.stop(.upsample, started) }
        let outShape = outputShape(forInputShape: input.shape)
        precondition(dOutput.shape == outShape, "Upsample2D.backward: dOutput \(dOutput.shape) does not match \(outShape)")
        ensureShape(&dInput, input.shape)
        dInput.fill(0)
        let planes = input.shape[0] * input.shape[1]
        let (h, w) = (input.shape[2], input.shape[3])
        let f = factor
        dOutput.withUnsafeBufferPointer { g in
            dInput.withUnsafeMutableBufferPointer { dx in
                upsampleBackward(g.baseAddress!, dx.baseAddress!, planes: planes, height: h, width: w, factor: f)
            }
        }
    }
}

// The upsampling loops, dispatched on the metatype to bodies the compiler specialises for Float
// and Double (see Kernels.swift): called through the generic layer, the same loops ran about 8×
// slower (issue 32's profile: 82 ms of a 1.07 s C = 32 training step).

/// y [planes, fH, fW] = x [planes, H, W] repeated into f×f blocks. Each input row is widened
/// once into the first of its f output rows, which the other f − 1 copy; planes are shared out
/// over threads (a copy: the same bits at any thread count).
func upsampleForward<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, planes: Int, height h: Int, width w: Int, factor f: Int) {
    if S.self == Float.self {
        upsampleForwardBody(rebound(x, Float.self), rebound(y, Float.self), planes: planes, height: h, width: w, factor: f)
    } else if S.self == Double.self {
        upsampleForwardBody(rebound(x, Double.self), rebound(y, Double.self), planes: planes, height: h, width: w, factor: f)
    } else {
        upsampleForwardBody(x, y, planes: planes, height: h, width: w, factor: f)
    }
}

private func upsampleForwardBody<T: TensorScalar>(_ sx: UnsafePointer<T>, _ sy: UnsafeMutablePointer<T>, planes: Int, height h: Int, width w: Int, factor f: Int) {
    let wo = w * f
    forEachExampleChunk(planes, elementsPerItem: h * w * f * f) { range in
        for p in range {
            let src = sx + p * h * w
            let dst = sy + p * h * w * f * f
            for iy in 0..<h {
                let srow = src + iy * w
                let first = dst + iy * f * wo
                if f == 2 {
                    for ix in 0..<w {
                        let v = srow[ix]
                        first[2 * ix] = v
                        first[2 * ix + 1] = v
                    }
                } else {
                    for ox in 0..<wo { first[ox] = srow[ox / f] }
                }
                for r in 1..<f { (first + r * wo).update(from: first, count: wo) }
            }
        }
    }
}

/// dx [planes, H, W] += the sum of each f×f block of g [planes, fH, fW], row by row, left to
/// right, at any f and any thread count; planes are shared out over threads.
func upsampleBackward<S: TensorScalar>(_ g: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, planes: Int, height h: Int, width w: Int, factor f: Int) {
    if S.self == Float.self {
        upsampleBackwardBody(rebound(g, Float.self), rebound(dx, Float.self), planes: planes, height: h, width: w, factor: f)
    } else if S.self == Double.self {
        upsampleBackwardBody(rebound(g, Double.self), rebound(dx, Double.self), planes: planes, height: h, width: w, factor: f)
    } else {
        upsampleBackwardBody(g, dx, planes: planes, height: h, width: w, factor: f)
    }
}

private func upsampleBackwardBody<T: TensorScalar>(_ sg: UnsafePointer<T>, _ sdx: UnsafeMutablePointer<T>, planes: Int, height h: Int, width w: Int, factor f: Int) {
    let wo = w * f
    forEachExampleChunk(planes, elementsPerItem: h * w * f * f) { range in
        for p in range {
            let src = sg + p * h * w * f * f
            let dst = sdx + p * h * w
            if f == 2 {
                for iy in 0..<h {
                    let (a, b, drow) = (src + 2 * iy * wo, src + (2 * iy + 1) * wo, dst + iy * w)
                    for ix in 0..<w {
                        var v = drow[ix]
                        v += a[2 * ix]
                        v += a[2 * ix + 1]
                        v += b[2 * ix]
                        v += b[2 * ix + 1]
                        drow[ix] = v
                    }
                }
            } else {
                for oy in 0..<(h * f) {
                    let drow = dst + (oy / f) * w
                    for ox in 0..<wo { drow[ox / f] += src[oy * wo + ox] }
                }
            }
        }
    }
}

/// a += b elementwise (same element count), through BLAS axpy with α = 1, which rounds each
/// sum as `+` does. (A generic loop here ran unspecialised from the trainers, through a witness
/// call per element: with the U-Net's pieces it took about 2 % of a training step.)
func addInPlace<S: TensorScalar>(_ a: inout Tensor<S>, _ b: Tensor<S>) {
    precondition(a.count == b.count, "addInPlace: \(a.shape) vs \(b.shape)")
    a.add(b)
}
