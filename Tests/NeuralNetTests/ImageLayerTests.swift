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

/// The issue-32 rewrites of GroupNorm's sums (four interleaved partial sums) and of the ×2
/// upsampling (row copies, planes over threads) against plain reference loops.
@Suite struct ImageLayerKernelTests {
    /// Float32 GroupNorm against the two-pass formula in Double, on data with mean 3 and spread 2.
    /// Group sizes 2·35 = 70 and 35-element channels leave tails after the 4-way interleave. The
    /// kernel applies x·(γr) + (β − μγr) in Float32 with Double statistics, so its error is about
    /// (|μ|/σ + 1)·2⁻²³ relative: `Tolerance.float32Ops` holds with room here (it would not for
    /// |μ|/σ ≈ 10⁴, a regime the network's activations do not reach).
    @Test func groupNormFloatMatchesTwoPassDouble() throws {
        var rng = Xoshiro256(seed: 60)
        let (b, c, h, w, groups) = (3, 8, 5, 7, 4)
        let layer = GroupNorm<Float>(groups: groups, channels: c)
        let gamma = (0..<c).map { _ in Float(rng.nextUniform(in: 0.5, 1.5)) }
        let beta = (0..<c).map { _ in Float(rng.nextUniform(in: -1, 1)) }
        try layer.setParameter(named: "weight", to: Tensor(shape: [c], scalars: gamma))
        try layer.setParameter(named: "bias", to: Tensor(shape: [c], scalars: beta))
        let x = Tensor<Float>(shape: [b, c, h, w], scalars: (0..<(b * c * h * w)).map { _ in Float(3 + 2 * rng.nextNormalPair().0) })
        let y = layer(x)
        let hw = h * w, cpg = c / groups, n = cpg * hw
        for bi in 0..<b {
            for g in 0..<groups {
                let base = (bi * c + g * cpg) * hw
                let part = (0..<n).map { Double(x.scalars[base + $0]) }
                let mean = part.reduce(0, +) / Double(n)
                let variance = part.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
                for i in 0..<n {
                    let ch = g * cpg + i / hw
                    let expected = (part[i] - mean) / (variance + 1e-5).squareRoot() * Double(gamma[ch]) + Double(beta[ch])
                    #expect(abs(Double(y.scalars[base + i]) - expected) <= Tolerance.float32Ops * max(1, abs(expected)),
                            "example \(bi) group \(g) element \(i)")
                }
            }
        }
    }

    /// ×2 nearest upsampling: the forward copies exactly, and the backward sums each 2×2 block
    /// in the order row 0 left, row 0 right, row 1 left, row 1 right, bit for bit, at 1 and 2
    /// threads, on a batch large enough to be shared out.
    @Test(arguments: [1, 2]) func upsampleByTwoMatchesReferenceLoops(threads: Int) {
        let saved = (Parallel.threads, Parallel.libraryThreads)
        Parallel.configure(threads: threads)
        defer { Parallel.configure(threads: saved.0, libraryThreads: saved.1) }
        var rng = Xoshiro256(seed: 61)
        let (b, c, h, w) = (16, 8, 7, 9)
        let layer = Upsample2D<Float>(factor: 2)
        let x = Tensor<Float>.randomNormal([b, c, h, w], using: &rng)
        let g = Tensor<Float>.randomNormal([b, c, 2 * h, 2 * w], using: &rng)
        var y = Tensor<Float>(shape: [0]), dx = Tensor<Float>(shape: [0])
        layer.forward(x, into: &y)
        layer.backward(input: x, dOutput: g, into: &dx)
        var forwardMismatches = 0, backwardMismatches = 0
        for p in 0..<(b * c) {
            for oy in 0..<(2 * h) {
                for ox in 0..<(2 * w) where y.scalars[(p * 2 * h + oy) * 2 * w + ox] != x.scalars[(p * h + oy / 2) * w + ox / 2] {
                    forwardMismatches += 1
                }
            }
            for iy in 0..<h {
                for ix in 0..<w {
                    var s: Float = 0
                    for r in 0..<2 { for q in 0..<2 { s += g.scalars[(p * 2 * h + 2 * iy + r) * 2 * w + 2 * ix + q] } }
                    if dx.scalars[(p * h + iy) * w + ix] != s { backwardMismatches += 1 }
                }
            }
        }
        #expect(forwardMismatches == 0)
        #expect(backwardMismatches == 0)
    }
}
