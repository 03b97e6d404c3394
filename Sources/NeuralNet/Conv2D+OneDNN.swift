// The Float32 Conv2D path through oneDNN's convolution primitives (forward, backward-data,
// backward-weights). With `.oneDNN` oneDNN chooses its (blocked) memory layouts and the
// primitives reorder the caller's tensors in and out wherever their layout differs: weights are
// always plain OIHW, activations NCHW or, when the caller says so (`ActivationLayout`, the U-Net's
// training step), already channel-blocked, which then needs no reorder. With `.oneDNNPlain` they
// work on the plain layouts directly (oneDNN's im2col + GEMM implementation). Backward-weights
// reuses the blocked copies of the input (from forward) and of dOutput (from backward-data).
//
// Primitives are created once per (input shape, OpenMP team size, activation layouts) and kept
// by the layer: oneDNN fixes its work split when a primitive is created, so a plan made at one
// thread count is not reused at another (results then repeat bit for bit at a fixed thread
// count). oneDNN's backward-weights overwrites its outputs; the layer adds them into dWeight /
// dBias, since backward passes accumulate parameter gradients. The im2col path in Conv2D.swift
// stays the Float64 reference that the tests compare against.
import CDNNL
import TensorCore

/// Which implementation a Float32 `Conv2D` uses (Float64 always uses im2col + GEMM).
public enum ConvolutionBackend: String, Sendable, CaseIterable, Codable {
    /// oneDNN convolution primitives on the layouts oneDNN chooses, with reorders.
    case oneDNN
    /// oneDNN convolution primitives on the plain NCHW / OIHW layouts.
    case oneDNNPlain
    /// im2col + GEMM, as for Float64.
    case im2col
}

/// The process-wide oneDNN CPU engine (thread-safe; created on first use).
nonisolated(unsafe) let dnnlEngine: dnnl_engine_t = {
    var engine: dnnl_engine_t?
    let status = dnnl_engine_create(&engine, dnnl_cpu, 0)
    precondition(status == dnnl_success && engine != nil, "oneDNN: cannot create the CPU engine (status \(status.rawValue))")
    return engine!
}()

/// Forward, backward-data and backward-weights primitives of one convolution shape, with a
/// stream of their own (a layer is used from one thread at a time).
final class DNNLConvolutionPlan {
    private var conv = cdnnl_conv()
    private let stream: dnnl_stream_t
    /// [B, C, H, W, team size, blocked, source block, destination block] this plan was made for
    /// (the blocks give the caller's activation layouts, 0 for NCHW: see `Conv2D.forward(_:into:layout:)`).
    let key: [Int]

    init(key: [Int], outputChannels: Int, outputHeight: Int, outputWidth: Int, kernelSize: Int, stride: Int, padding: Int,
         blocked: Bool, layout: ActivationLayout) {
        self.key = key
        var s: dnnl_stream_t?
        let ss = dnnl_stream_create(&s, dnnlEngine, UInt32(dnnl_stream_default_flags.rawValue))
        precondition(ss == dnnl_success && s != nil, "oneDNN: cannot create a stream (status \(ss.rawValue))")
        stream = s!
        let status = cdnnl_conv_create(
            &conv, dnnlEngine, Int64(key[0]), Int64(key[1]), Int64(key[2]), Int64(key[3]),
            Int64(outputChannels), Int64(outputHeight), Int64(outputWidth), Int64(kernelSize), Int64(stride), Int64(padding),
            blocked ? 1 : 0, Int64(layout.source), Int64(layout.destination))
        precondition(status == dnnl_success,
                     "oneDNN: no convolution for input \(key.prefix(4)) → O=\(outputChannels) k=\(kernelSize) s=\(stride) p=\(padding) (status \(status.rawValue))")
    }

    deinit {
        cdnnl_conv_destroy(&conv)
        dnnl_stream_destroy(stream)
    }

    /// oneDNN's implementation names: forward, backward-data, backward-weights.
    var implementations: [String] { (0..<3).map { String(cString: cdnnl_conv_impl(&conv, Int32($0))) } }

    /// True when the primitives work on blocked layouts (reorders in use).
    var isBlocked: Bool { cdnnl_conv_is_blocked(&conv) != 0 }

    /// Turns the shim's reorder timing on or off to match `LayerProfile.isEnabled`, and returns
    /// the call's start time for `endProfile` (0 when off).
    @inline(__always) private func beginProfile() -> UInt64 {
        let on: Int32 = LayerProfile.isEnabled ? 1 : 0
        if conv.profile != on { conv.profile = on }
        conv.reorder_ns = 0
        return LayerProfile.start()
    }

    /// Books the call's time: the reorders under `.reorder`, the rest under `.convolution`.
    @inline(__always) private func endProfile(_ started: UInt64) {
        LayerProfile.bookConvolution(started: started, reorderNanoseconds: conv.reorder_ns)
    }

    func forward(src: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
        let started = beginProfile()
        defer { endProfile(started) }
        let status = cdnnl_conv_forward(&conv, stream, src, weights, bias, dst)
        precondition(status == dnnl_success, "oneDNN convolution forward failed (status \(status.rawValue))")
    }

    func backwardData(dDst: UnsafePointer<Float>, weights: UnsafePointer<Float>, dSrc: UnsafeMutablePointer<Float>) {
        let started = beginProfile()
        defer { endProfile(started) }
        let status = cdnnl_conv_backward_data(&conv, stream, dDst, weights, dSrc)
        precondition(status == dnnl_success, "oneDNN convolution backward-data failed (status \(status.rawValue))")
    }

    /// Must follow `backwardData` on the same dDst (its blocked copy is reused).
    func backwardWeights(src: UnsafePointer<Float>, dDst: UnsafePointer<Float>, dWeights: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>) {
        let started = beginProfile()
        defer { endProfile(started) }
        let status = cdnnl_conv_backward_weights(&conv, stream, src, dDst, dWeights, dBias, 1)
        precondition(status == dnnl_success, "oneDNN convolution backward-weights failed (status \(status.rawValue))")
    }
}

/// The layouts of a convolution's activations on the caller's side: the channel block of the
/// source side (input, dInput) and of the destination side (output, dOutput), 0 for plain NCHW,
/// 8 or 16 for oneDNN's nChw8c / nChw16c (element [n, c, h, w] at
/// ((n·C/B + c/B)·H·W + h·W + w)·B + c mod B). The U-Net's training step keeps its activations
/// blocked between its first and last convolution (issue 32).
public struct ActivationLayout: Hashable, Sendable {
    /// Channel block of the input and dInput (0: NCHW).
    public var source: Int
    /// Channel block of the output and dOutput (0: NCHW).
    public var destination: Int
    /// NCHW on both sides.
    public static let plain = ActivationLayout(source: 0, destination: 0)
    /// The layouts given; each block must be 0, 8 or 16.
    public init(source: Int, destination: Int) {
        precondition([0, 8, 16].contains(source) && [0, 8, 16].contains(destination),
                     "ActivationLayout: channel blocks must be 0 (NCHW), 8 or 16, got \(source) and \(destination)")
        self.source = source
        self.destination = destination
    }
    /// The same block on both sides.
    public static func blocked(_ block: Int) -> ActivationLayout { ActivationLayout(source: block, destination: block) }
}

/// Views a TensorScalar pointer as Float (callers check `S.self == Float.self`).
@inline(__always) func asFloat<S>(_ p: UnsafePointer<S>) -> UnsafePointer<Float> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
@inline(__always) func asFloat<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

/// A forward-only convolution on channel-blocked activations (nChw8c or nChw16c on both sides,
/// no activation reorder), for `UNet.forwardInference` (issue 32). Made once per (input shape,
/// team size, block) and kept by the layer (the last four).
final class DNNLBlockedForwardPlan {
    private var conv = cdnnl_fwd()
    private let stream: dnnl_stream_t
    /// [B, C, H, W, team size, block] this plan was made for.
    let key: [Int]

    /// Nil when oneDNN has no convolution for these layouts (the caller then keeps the plain path).
    init?(key: [Int], outputChannels: Int, outputHeight: Int, outputWidth: Int, kernelSize: Int, stride: Int, padding: Int) {
        self.key = key
        var s: dnnl_stream_t?
        let ss = dnnl_stream_create(&s, dnnlEngine, UInt32(dnnl_stream_default_flags.rawValue))
        precondition(ss == dnnl_success && s != nil, "oneDNN: cannot create a stream (status \(ss.rawValue))")
        stream = s!
        let status = cdnnl_fwd_create(
            &conv, dnnlEngine, Int64(key[0]), Int64(key[1]), Int64(key[2]), Int64(key[3]),
            Int64(outputChannels), Int64(outputHeight), Int64(outputWidth), Int64(kernelSize), Int64(stride), Int64(padding),
            Int64(key[5]))
        // Every stored property is set, so deinit runs on failure too and releases the stream and
        // whatever part of `conv` was made (cdnnl_fwd_destroy is safe on a partial struct).
        if status != dnnl_success { return nil }
    }

    deinit {
        cdnnl_fwd_destroy(&conv)
        dnnl_stream_destroy(stream)
    }

    /// oneDNN's implementation name (e.g. "jit:avx512_core").
    var implementation: String { String(cString: cdnnl_fwd_impl(&conv)) }

    func forward(src: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
        let on: Int32 = LayerProfile.isEnabled ? 1 : 0
        if conv.profile != on { conv.profile = on }
        conv.reorder_ns = 0
        let started = LayerProfile.start()
        let status = cdnnl_fwd_run(&conv, stream, src, weights, bias, dst)
        precondition(status == dnnl_success, "oneDNN blocked convolution forward failed (status \(status.rawValue))")
        LayerProfile.bookConvolution(started: started, reorderNanoseconds: conv.reorder_ns)
    }
}

extension Conv2D {
    /// The blocked forward plan for this input shape and block at the current team size, or nil
    /// when this layer cannot run blocked (Float64, a non-oneDNN backend, channel counts that are
    /// not multiples of the block, or no JIT kernel for the layouts).
    func blockedForwardPlan(for inputShape: [Int], block: Int) -> DNNLBlockedForwardPlan? {
        guard Scalar.self == Float.self, backend == .oneDNN, inputChannels % block == 0, outputChannels % block == 0 else { return nil }
        OneDNN.pinThreads()
        let key = inputShape + [OneDNN.threads, block]
        if let i = blockedPlans.firstIndex(where: { $0.key == key }) { return blockedPlans[i] }
        let out = outputShape(forInputShape: inputShape)
        guard let p = DNNLBlockedForwardPlan(key: key, outputChannels: outputChannels, outputHeight: out[2], outputWidth: out[3],
                                             kernelSize: kernelSize, stride: stride, padding: padding),
              p.implementation.hasPrefix("jit") else { return nil }
        blockedPlans.insert(p, at: 0)
        if blockedPlans.count > 4 { blockedPlans.removeLast() }
        return p
    }

    /// output = conv(input) with both in the channel-blocked layout of `block` (shapes are the
    /// logical [B, C, H, W]); `blockedForwardPlan(for:block:)` must have returned a plan.
    func forwardBlocked(_ input: Tensor<Scalar>, block: Int, into output: inout Tensor<Scalar>) {
        guard let p = blockedForwardPlan(for: input.shape, block: block) else {
            preconditionFailure("Conv2D.forwardBlocked: no blocked plan for \(input.shape), block \(block)")
        }
        ensureShape(&output, outputShape(forInputShape: input.shape))
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
    }
}
