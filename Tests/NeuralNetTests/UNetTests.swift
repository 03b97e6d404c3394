// The image score network: parameter count, whole-network gradients against central differences
// (Double, C = 8, 8×8), Float32 oneDNN against the Double im2col reference, σ conditioning and
// repeatability.
import NeuralNet
import TensorCore
import Testing
import TestSupport

@Suite struct UNetTests {
    @Test func parameterCountMatchesPyTorch() {
        var rng = Xoshiro256(seed: 1)
        let net = UNet<Float>(baseChannels: 32, outputChannels: 1, using: &rng)
        #expect(net.parameterCount == 501_793)
        var rng2 = Xoshiro256(seed: 1)
        // Each extra output channel adds one 3×3 kernel over C channels and a bias: 9·32 + 1.
        #expect(UNet<Float>(baseChannels: 32, outputChannels: 10, using: &rng2).parameterCount == 501_793 + 9 * 289)
    }

    @Test func shapesFor28And8() {
        var rng = Xoshiro256(seed: 2)
        let net = UNet<Float>(baseChannels: 8, outputChannels: 3, using: &rng)
        for side in [28, 8, 12] {
            let y = net(Tensor<Float>.randomNormal([2, 1, side, side], using: &rng))
            #expect(y.shape == [2, 3, side, side])
            #expect(y.scalars.allSatisfy { $0.isFinite })
        }
    }

    /// Central differences of φ = Σ v ⊙ net(x; σ) for every input coordinate and `perTensor`
    /// random coordinates of every parameter tensor (all ~32k would take minutes in a debug build).
    @Test func wholeNetworkGradientCheck() {
        var rng = Xoshiro256(seed: 3)
        let net = UNet<Double>(baseChannels: 8, outputChannels: 2, using: &rng)
        // Random affine GroupNorm parameters, so that γ and β enter non-trivially.
        for name in net.parameterNames where name.contains("norm") {
            let p = net.parameter(named: name)!
            let fresh = Tensor<Double>.randomNormal(p.shape, using: &rng).map { name.hasSuffix("weight") ? 1 + 0.3 * $0 : 0.3 * $0 }
            try! net.setParameter(named: name, to: fresh)
        }
        let x = Tensor<Double>.randomNormal([2, 1, 8, 8], using: &rng)
        let sigmas = Tensor<Double>(shape: [2], scalars: [0.5, 2])
        var y = Tensor<Double>(shape: [0])
        net.forward(x, sigmas: sigmas, into: &y)
        let v = Tensor<Double>.randomNormal(y.shape, using: &rng)
        net.zeroGradients()
        var dx = Tensor<Double>(shape: [0])
        net.backward(input: x, dOutput: v, into: &dx)
        let phi = { (input: Tensor<Double>) -> Double in
            var out = Tensor<Double>(shape: [0])
            net.forward(input, sigmas: sigmas, into: &out)
            return dotProduct(v, out)
        }
        expectClose(dx.scalars, numericalGradient({ phi(Tensor(shape: x.shape, scalars: $0)) }, at: x.scalars), "UNet dInput")
        let perTensor = 3
        for (name, gradient) in net.namedGradients() {
            let original = net.parameter(named: name)!
            var analytic: [Double] = [], numeric: [Double] = []
            for _ in 0..<perTensor {
                let i = rng.nextIndex(original.count)
                let f: ([Double]) -> Double = { p in
                    var t = original
                    t.scalars[i] = p[0]
                    try! net.setParameter(named: name, to: t)
                    return phi(x)
                }
                numeric.append(numericalGradient(f, at: [original.scalars[i]])[0])
                analytic.append(gradient.scalars[i])
            }
            try! net.setParameter(named: name, to: original)
            expectClose(analytic, numeric, "UNet d\(name)")
        }
    }

    @Test func sigmaDividesTheOutput() {
        var rng = Xoshiro256(seed: 4)
        let net = UNet<Double>(baseChannels: 8, using: &rng)
        let x = Tensor<Double>.randomNormal([2, 1, 8, 8], using: &rng)
        let plain = net(x)
        var scaled = Tensor<Double>(shape: [0])
        net.forward(x, sigmas: Tensor(shape: [2], scalars: [0.25, 4]), into: &scaled)
        for i in 0..<plain.count {
            let s = i < 64 ? 0.25 : 4.0
            #expect(abs(scaled.scalars[i] - plain.scalars[i] / s) <= Tolerance.float64Ops * max(1, abs(plain.scalars[i] / s)))
        }
    }

    @Test func float32OneDNNAgreesWithDoubleReference() {
        var rng = Xoshiro256(seed: 6)
        let reference = UNet<Double>(baseChannels: 8, using: &rng)
        var rng32 = Xoshiro256(seed: 6)
        let fast = UNet<Float>(baseChannels: 8, using: &rng32)
        for (name, value) in fast.namedParameters() { try! reference.setParameter(named: name, to: value.converted(to: Double.self)) }
        let x = Tensor<Float>.randomNormal([4, 1, 8, 8], using: &rng)
        let sigmas = Tensor<Float>(shape: [4], scalars: [0.1, 0.5, 1, 3])
        let v = Tensor<Float>.randomNormal([4, 1, 8, 8], using: &rng)
        let expected = unetPass(reference, x.converted(to: Double.self), sigmas.converted(to: Double.self), v.converted(to: Double.self))
        let got = unetPass(fast, x, sigmas, v)
        #expect(fast.convolutions.allSatisfy { $0.oneDNNImplementations != nil })
        // Measured as a fraction of each tensor's largest magnitude (observed worst 2.5e-6).
        // A conv bias feeding a GroupNorm with one channel per group (C = 8, 8 groups) has a zero
        // gradient in exact arithmetic (the norm removes it); such tensors are measured against
        // the largest parameter gradient of the network instead of their own (rounding) size.
        let largestGradient = expected.dropFirst(2).flatMap { $0.1 }.map { abs($0) }.max() ?? 0
        var worstRatio = 0.0
        for ((name, e), (_, g)) in zip(expected, got) {
            let own = e.map { abs($0) }.max() ?? 0
            let scale = own < Tolerance.float64Ops * largestGradient ? largestGradient : own
            let worst = zip(e, g).map { abs($0 - $1) }.max() ?? 0
            worstRatio = max(worstRatio, worst / scale)
            #expect(worst <= Tolerance.float32Ops * scale, "\(name): max |Δ| \(worst) vs scale \(scale)")
        }
        print("UNet Float32 oneDNN vs Double: worst |Δ| / scale = \(worstRatio)")
    }

    @Test func float32RepeatsBitForBit() {
        func once() -> [(String, [Double])] {
            var rng = Xoshiro256(seed: 7)
            let net = UNet<Float>(baseChannels: 16, using: &rng)
            let x = Tensor<Float>.randomNormal([4, 1, 12, 12], using: &rng)
            let v = Tensor<Float>.randomNormal([4, 1, 12, 12], using: &rng)
            return unetPass(net, x, Tensor(shape: [4], scalars: [0.2, 0.4, 0.8, 1.6]), v)
        }
        let first = once()
        let second = once()
        #expect(zip(first, second).allSatisfy { $0.1 == $1.1 })
    }

    /// The training forward and backward in pieces (issue 32) against the whole batch in one
    /// call, in Double (im2col convolutions) where the two differ only in the order of the
    /// batch sums: output, dInput and every parameter gradient agree to `Tolerance.float64Ops`
    /// of each tensor's largest entry. The backward adds to gradients already held, as the
    /// whole-batch backward does: a second backward without zeroing doubles them. A piece that
    /// went missing, ran twice or was added at the wrong rows would fail this.
    @Test func trainingPiecesAgreeWithTheWholeBatch() {
        restoringParallelSettings {
            Parallel.configure(threads: 2)
            var rng = Xoshiro256(seed: 8)
            let net = UNet<Double>(baseChannels: 8, outputChannels: 2, using: &rng)
            let x = Tensor<Double>.randomNormal([5, 1, 8, 8], using: &rng)
            let sigmas = Tensor<Double>(shape: [5], scalars: [0.1, 0.3, 1, 2, 5])
            let v = Tensor<Double>.randomNormal([5, 2, 8, 8], using: &rng)
            net.trainingPieceImages = 5
            let whole = unetPass(net, x, sigmas, v)
            net.trainingPieceImages = 2  // pieces of 2, 2 and 1
            let pieces = unetPass(net, x, sigmas, v)
            for ((name, e), (_, g)) in zip(whole, pieces) {
                let scale = max(e.map { abs($0) }.max() ?? 0, 1e-300)
                let worst = zip(e, g).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= Tolerance.float64Ops * scale, "\(name): max |pieces − whole| \(worst) vs scale \(scale)")
            }
            var dx = Tensor<Double>(shape: [0])
            net.backward(input: x, dOutput: v, into: &dx)  // adds the same gradients again
            for ((name, e), (_, g)) in zip(whole.dropFirst(2), net.namedGradients().map { ($0.name, $0.gradient.scalars) }) {
                let scale = max(e.map { abs($0) }.max() ?? 0, 1e-300)
                let worst = zip(e, g).map { abs(2 * $0 - $1) }.max() ?? 0
                #expect(worst <= Tolerance.float64Ops * scale, "\(name) after a second backward: max |2·whole − pieces| \(worst)")
            }
        }
    }

    /// The same in Float32 on oneDNN at 2 threads (pieces of 16 by default; 40 images make
    /// three): pieces agree with one whole-batch call to `Tolerance.float32Ops` of each tensor's
    /// largest entry (or of the largest parameter gradient, for tensors whose exact gradient is
    /// zero, as in `float32OneDNNAgreesWithDoubleReference`).
    @Test func float32TrainingPiecesAgreeWithTheWholeBatch() {
        restoringParallelSettings {
            Parallel.configure(threads: 2)
            var rng = Xoshiro256(seed: 9)
            let net = UNet<Float>(baseChannels: 8, using: &rng)
            #expect(net.trainingPieceImages == 16)
            let x = Tensor<Float>.randomNormal([40, 1, 8, 8], using: &rng)
            let sigmas = Tensor<Float>.randomUniform([40], lower: 0.1, upper: 1, using: &rng)
            let v = Tensor<Float>.randomNormal([40, 1, 8, 8], using: &rng)
            let pieces = unetPass(net, x, sigmas, v)
            net.trainingPieceImages = 40
            let whole = unetPass(net, x, sigmas, v)
            expectFloat32Agreement(whole, pieces, "pieces against the whole batch")
        }
    }
}
