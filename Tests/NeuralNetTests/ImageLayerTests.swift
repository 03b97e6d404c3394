// oneDNN Float32 convolution against the im2col Float64 reference; GroupNorm and channel
// concatenation against central finite differences in Double.
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// Float32 through oneDNN (its blocked layouts, and plain NCHW) vs the Double im2col reference.
/// Each output is a sum of at most C·k·k = 288 (forward, backward-data) or B·Ho·Wo = 128 (weights)
/// products of O(1) terms, so the Float32 rounding stays below `Tolerance.float32Ops` (relative,
/// with the same absolute floor).
@Suite struct OneDNNConvolutionTests {
    struct Case: Sendable, CustomStringConvertible {
        var kernel: Int, stride: Int, padding: Int, side: Int
        var description: String { "k\(kernel) s\(stride) p\(padding) \(side)×\(side)" }
    }
    static let cases = [
        Case(kernel: 3, stride: 1, padding: 1, side: 8),
        Case(kernel: 3, stride: 2, padding: 1, side: 8),
        Case(kernel: 3, stride: 2, padding: 1, side: 7),
        Case(kernel: 1, stride: 1, padding: 0, side: 6),
    ]

    /// Forward output, dInput, dWeight, dBias of one forward/backward with cotangent v.
    func run<S: TensorScalar>(_ layer: Conv2D<S>, _ x: Tensor<S>, _ v: Tensor<S>) -> [[Double]] {
        layer.zeroGradients()
        var y = Tensor<S>(shape: [0])
        layer.forward(x, into: &y)
        var dx = Tensor<S>(shape: [0])
        layer.backward(input: x, dOutput: v, into: &dx, accumulateParameterGradients: true)
        // A second backward accumulates: the gradients must double.
        layer.backward(input: x, dOutput: v, into: &dx, accumulateParameterGradients: true)
        return [y, dx, layer.dWeight, layer.dBias].map { $0.scalars.map { Double($0) } }
    }

    @Test(arguments: cases, [ConvolutionBackend.oneDNN, .oneDNNPlain])
    func agreesWithIm2colReference(_ c: Case, backend: ConvolutionBackend) {
        var rng = Xoshiro256(seed: 5)
        let reference = Conv2D<Double>(inputChannels: 8, outputChannels: 6, kernelSize: c.kernel, stride: c.stride,
                                       padding: c.padding, using: &rng)
        var rng32 = Xoshiro256(seed: 5)
        let fast = Conv2D<Float>(inputChannels: 8, outputChannels: 6, kernelSize: c.kernel, stride: c.stride,
                                 padding: c.padding, using: &rng32)
        fast.backend = backend
        let x = Tensor<Double>.randomNormal([2, 8, c.side, c.side], using: &rng)
        let v = Tensor<Double>.randomNormal(reference.outputShape(forInputShape: x.shape), using: &rng)
        // Compare at the Float-rounded inputs, so only arithmetic differs.
        let (x32, v32) = (x.converted(to: Float.self), v.converted(to: Float.self))
        for (name, value) in fast.namedParameters() {
            try! reference.setParameter(named: name, to: value.converted(to: Double.self))
        }
        let expected = run(reference, x32.converted(to: Double.self), v32.converted(to: Double.self))
        let got = run(fast, x32, v32)
        #expect(fast.oneDNNImplementations != nil, "\(c): oneDNN path not taken")
        for (i, what) in ["output", "dInput", "dWeight", "dBias"].enumerated() {
            let m = worstMismatch(got[i], expected[i], rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
            #expect(m == nil, "\(c) \(backend) \(what): \(m.map { "\($0)" } ?? "")")
        }
    }

    @Test func blockedLayoutIsUsedAtNetworkSizes() {
        var rng = Xoshiro256(seed: 9)
        let layer = Conv2D<Float>(inputChannels: 32, outputChannels: 64, kernelSize: 3, stride: 2, padding: 1, using: &rng)
        _ = layer(Tensor<Float>.randomNormal([2, 32, 14, 14], using: &rng))
        let names = layer.oneDNNImplementations ?? []
        #expect(names.count == 3 && names.allSatisfy { !$0.contains("gemm") }, "oneDNN chose \(names)")
    }

    @Test(arguments: [1, 3], [ConvolutionBackend.oneDNN, .oneDNNPlain])
    func agreesWithIm2colAtNetworkSizes(kernel: Int, backend: ConvolutionBackend) {
        // 32 → 64 channels: the blocked (nChw8c) JIT kernels, with reorders, on this path.
        var rng = Xoshiro256(seed: 10)
        let reference = Conv2D<Double>(inputChannels: 32, outputChannels: 64, kernelSize: kernel, stride: 1,
                                       padding: kernel / 2, using: &rng)
        var rng32 = Xoshiro256(seed: 10)
        let fast = Conv2D<Float>(inputChannels: 32, outputChannels: 64, kernelSize: kernel, stride: 1,
                                 padding: kernel / 2, using: &rng32)
        fast.backend = backend
        let x = Tensor<Float>.randomNormal([3, 32, 6, 6], using: &rng)
        let v = Tensor<Float>.randomNormal([3, 64, 6, 6], using: &rng)
        for (name, value) in fast.namedParameters() {
            try! reference.setParameter(named: name, to: value.converted(to: Double.self))
        }
        let expected = run(reference, x.converted(to: Double.self), v.converted(to: Double.self))
        let got = run(fast, x, v)
        for (i, what) in ["output", "dInput", "dWeight", "dBias"].enumerated() {
            let m = worstMismatch(got[i], expected[i], rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
            #expect(m == nil, "k\(kernel) \(backend) \(what): \(m.map { "\($0)" } ?? "")")
        }
    }

    @Test func repeatsBitForBit() {
        func once() -> [[Double]] {
            var rng = Xoshiro256(seed: 8)
            let layer = Conv2D<Float>(inputChannels: 16, outputChannels: 32, kernelSize: 3, stride: 1, padding: 1, using: &rng)
            let x = Tensor<Float>.randomNormal([4, 16, 14, 14], using: &rng)
            let v = Tensor<Float>.randomNormal([4, 32, 14, 14], using: &rng)
            return run(layer, x, v)
        }
        let first = once()
        #expect(once() == first)
        #expect(once() == first)
    }
}

@Suite struct ImageLayerGradientTests {
    @Test func groupNorm() throws {
        var rng = Xoshiro256(seed: 51)
        let layer = GroupNorm<Double>(groups: 2, channels: 4)
        // Non-trivial γ, β so that their gradients and the γ-weighting of dx̂ are exercised.
        try layer.setParameter(named: "weight", to: Tensor.randomNormal([4], using: &rng))
        try layer.setParameter(named: "bias", to: Tensor.randomNormal([4], using: &rng))
        let x = Tensor<Double>.randomNormal([2, 4, 3, 3], using: &rng)
        checkLayerGradients(layer, input: x, seed: 52, label: "GroupNorm G=2")
    }

    @Test func groupNormNormalises() {
        var rng = Xoshiro256(seed: 53)
        let layer = GroupNorm<Double>(groups: 2, channels: 4, epsilon: 1e-12)
        let x = Tensor<Double>.randomNormal([1, 4, 2, 2], using: &rng).map { 3 * $0 + 1 }
        let y = layer(x)
        for g in 0..<2 {
            let part = Array(y.scalars[(g * 8)..<((g + 1) * 8)])
            let mean = part.reduce(0, +) / 8
            let variance = part.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
            #expect(abs(mean) <= Tolerance.float64Ops)
            #expect(abs(variance - 1) <= Tolerance.float64Ops)
        }
    }

    @Test func silu() {
        var rng = Xoshiro256(seed: 54)
        let x = Tensor<Double>.randomNormal([2, 3, 2, 2], using: &rng)
        checkLayerGradients(Activation<Double>(.silu), input: x, seed: 55, label: "SiLU on NCHW")
    }

    @Test func conv1x1() {
        var rng = Xoshiro256(seed: 56)
        let layer = Conv2D<Double>(inputChannels: 3, outputChannels: 2, kernelSize: 1, using: &rng)
        let x = Tensor<Double>.randomNormal([2, 3, 3, 3], using: &rng)
        checkLayerGradients(layer, input: x, seed: 57, label: "Conv2D 1×1")
    }

    @Test func concatenation() {
        var rng = Xoshiro256(seed: 58)
        let a = Tensor<Double>.randomNormal([2, 2, 3, 3], using: &rng)
        let b = Tensor<Double>.randomNormal([2, 3, 3, 3], using: &rng)
        let v = Tensor<Double>.randomNormal([2, 5, 3, 3], using: &rng)
        var out = Tensor<Double>(shape: [0])
        concatenateChannels(a, b, into: &out)
        #expect(out.shape == [2, 5, 3, 3])
        #expect(out.scalars[(1 * 5 + 2) * 9 + 4] == b.scalars[(1 * 3 + 0) * 9 + 4])
        var (da, db) = (Tensor<Double>(shape: [0]), Tensor<Double>(shape: [0]))
        splitChannels(v, firstChannels: 2, into: &da, &db)
        let phiA: ([Double]) -> Double = { xs in
            var o = Tensor<Double>(shape: [0])
            concatenateChannels(Tensor(shape: a.shape, scalars: xs), b, into: &o)
            return dotProduct(v, o)
        }
        let phiB: ([Double]) -> Double = { xs in
            var o = Tensor<Double>(shape: [0])
            concatenateChannels(a, Tensor(shape: b.shape, scalars: xs), into: &o)
            return dotProduct(v, o)
        }
        expectClose(da.scalars, numericalGradient(phiA, at: a.scalars), "concat dA")
        expectClose(db.scalars, numericalGradient(phiB, at: b.scalars), "concat dB")
    }
}
