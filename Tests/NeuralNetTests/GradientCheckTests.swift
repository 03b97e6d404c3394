// Backward passes against central finite differences in Double, for every layer and the MLP.
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// Inputs to kinked activations (ReLU at 0, ELU's second derivative at 0) stay this far from 0,
/// far outside the finite-difference stencil h ≈ 1e-5.
let kinkMargin = 0.1

@Suite struct LayerGradientTests {
    @Test func linear() {
        var rng = Xoshiro256(seed: 11)
        let layer = Linear<Double>(inputSize: 3, outputSize: 4, using: &rng)
        let x = Tensor<Double>.randomNormal([3, 3], using: &rng)
        checkLayerGradients(layer, input: x, seed: 12, label: "Linear 3→4")
    }

    @Test(arguments: ActivationKind.allCases)
    func activation(_ kind: ActivationKind) {
        var rng = Xoshiro256(seed: 21)
        let layer = Activation<Double>(kind)
        let x = randomAwayFromZero([3, 4], margin: kinkMargin, using: &rng)
        checkLayerGradients(layer, input: x, seed: 22, label: "\(kind)")
    }

    @Test func conv2DStride2Padding1() {
        var rng = Xoshiro256(seed: 31)
        let layer = Conv2D<Double>(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, using: &rng)
        let x = Tensor<Double>.randomNormal([1, 2, 5, 5], using: &rng)
        #expect(layer.outputShape(forInputShape: x.shape) == [1, 3, 3, 3])
        checkLayerGradients(layer, input: x, seed: 32, label: "Conv2D s2 p1")
    }

    @Test func conv2DBatchStride1NoPadding() {
        var rng = Xoshiro256(seed: 33)
        let layer = Conv2D<Double>(inputChannels: 2, outputChannels: 2, kernelSize: 2, stride: 1, padding: 0, using: &rng)
        let x = Tensor<Double>.randomNormal([2, 2, 4, 3], using: &rng)
        checkLayerGradients(layer, input: x, seed: 34, label: "Conv2D s1 p0")
    }

    @Test func upsample2D() {
        var rng = Xoshiro256(seed: 41)
        let layer = Upsample2D<Double>(factor: 2)
        let x = Tensor<Double>.randomNormal([1, 2, 5, 5], using: &rng)
        #expect(layer.outputShape(forInputShape: x.shape) == [1, 2, 10, 10])
        checkLayerGradients(layer, input: x, seed: 42, label: "Upsample2D ×2")
    }

    @Test func upsampleForwardRepeatsPixels() {
        let layer = Upsample2D<Double>(factor: 3)
        let x = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let y = layer(x)
        #expect(y.shape == [1, 1, 6, 6])
        for oy in 0..<6 {
            for ox in 0..<6 {
                #expect(y.scalars[oy * 6 + ox] == x.scalars[(oy / 3) * 2 + ox / 3])
            }
        }
    }

    /// backward ADDS into the accumulators, zeroGradients resets them, and
    /// accumulateParameterGradients: false leaves them alone.
    @Test func gradientsAccumulate() {
        var rng = Xoshiro256(seed: 51)
        let layer = Linear<Double>(inputSize: 3, outputSize: 4, using: &rng)
        let x = Tensor<Double>.randomNormal([2, 3], using: &rng)
        let v = Tensor<Double>.randomNormal([2, 4], using: &rng)
        var y = Tensor<Double>(shape: [0])
        var dx = Tensor<Double>(shape: [0])
        layer.zeroGradients()
        layer.forward(x, into: &y)
        layer.backward(input: x, dOutput: v, into: &dx, accumulateParameterGradients: true)
        let once = layer.dWeight
        layer.backward(input: x, dOutput: v, into: &dx, accumulateParameterGradients: true)
        expectClose(layer.dWeight.scalars, (2 * once).scalars, "twice accumulated",
                    rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        layer.backward(input: x, dOutput: v, into: &dx, accumulateParameterGradients: false)
        expectClose(layer.dWeight.scalars, (2 * once).scalars, "no accumulation requested",
                    rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        layer.zeroGradients()
        #expect(layer.dWeight.scalars.allSatisfy { $0 == 0 } && layer.dBias.scalars.allSatisfy { $0 == 0 })
    }
}

@Suite struct MLPGradientTests {
    /// Checks dInput and every parameter gradient of an MLP against finite differences of
    /// φ = Σ v ⊙ mlp(x, condition, scale).
    func check(
        sizes: [Int], activation: ActivationKind, conditioningSize: Int, useScale: Bool, batch: Int, seed: UInt64
    ) {
        var rng = Xoshiro256(seed: seed)
        let mlp = MLP<Double>(sizes: sizes, activation: activation, conditioningSize: conditioningSize, using: &rng)
        let x = Tensor<Double>.randomNormal([batch, sizes[0]], using: &rng)
        let condition: Tensor<Double>? = conditioningSize > 0
            ? Tensor<Double>.randomNormal([batch, conditioningSize], using: &rng) : nil
        let scale: Tensor<Double>? = useScale
            ? Tensor<Double>.randomUniform([batch], lower: 0.5, upper: 2, using: &rng) : nil
        let v = Tensor<Double>.randomNormal([batch, sizes.last!], using: &rng)
        let label = "MLP \(sizes) \(activation) c=\(conditioningSize) scale=\(useScale)"

        func phi() -> Double {
            let y = mlp.forward(x, condition: condition, outputScale: scale, retainForBackward: false)
            return dotProduct(v, y)
        }

        mlp.zeroGradients()
        mlp.forward(x, condition: condition, outputScale: scale)
        let dInput = mlp.backward(v)
        #expect(dInput.shape == [batch, sizes[0]])
        let analytic = mlp.namedGradients()

        let numericInput = numericalGradient({ xs in
            let y = mlp.forward(Tensor(shape: x.shape, scalars: xs), condition: condition, outputScale: scale,
                                retainForBackward: false)
            return dotProduct(v, y)
        }, at: x.scalars)
        expectClose(dInput.scalars, numericInput, "\(label) dInput")

        for (name, gradient) in analytic {
            let original = mlp.parameter(named: name)!
            let numeric = numericalGradient({ ps in
                try! mlp.setParameter(named: name, to: Tensor(shape: original.shape, scalars: ps))
                return phi()
            }, at: original.scalars)
            try! mlp.setParameter(named: name, to: original)
            expectClose(gradient.scalars, numeric, "\(label) d\(name)")
        }

        // The training form gives the same parameter gradients without the input gradient.
        mlp.zeroGradients()
        mlp.forward(x, condition: condition, outputScale: scale)
        mlp.backwardParameters(v)
        for ((name, a), (_, b)) in zip(analytic, mlp.namedGradients()) {
            expectClose(b.scalars, a.scalars, "\(label) backwardParameters \(name)",
                        rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        }
    }

    @Test(arguments: [ActivationKind.softplus, .silu, .elu])
    func unconditioned(_ activation: ActivationKind) {
        check(sizes: [3, 4, 5, 2], activation: activation, conditioningSize: 0, useScale: false, batch: 3, seed: 61)
    }

    @Test func conditioned() {
        check(sizes: [3, 4, 4, 3], activation: .softplus, conditioningSize: 1, useScale: false, batch: 2, seed: 62)
    }

    @Test func conditionedWithOutputScale() {
        check(sizes: [3, 5, 3], activation: .silu, conditioningSize: 2, useScale: true, batch: 3, seed: 63)
    }

    @Test func identityActivationSingleLayer() {
        check(sizes: [3, 4], activation: .identity, conditioningSize: 0, useScale: true, batch: 2, seed: 64)
        check(sizes: [2, 3, 2], activation: .identity, conditioningSize: 1, useScale: false, batch: 2, seed: 65)
    }
}

@Suite struct LossTests {
    @Test func weightedSquaredErrorValueAndGradient() {
        var rng = Xoshiro256(seed: 71)
        let (b, d) = (3, 4)
        let prediction = Tensor<Double>.randomNormal([b, d], using: &rng)
        let target = Tensor<Double>.randomNormal([b, d], using: &rng)
        let weights = Tensor<Double>.randomUniform([b], lower: 0.1, upper: 2, using: &rng)
        var dPrediction = Tensor<Double>(shape: [0])
        let value = weightedSquaredError(prediction: prediction, target: target, rowWeights: weights, dPrediction: &dPrediction)

        func loss(_ p: [Double]) -> Double {
            var total = 0.0
            for r in 0..<b {
                var s = 0.0
                for c in 0..<d { s += (p[r * d + c] - target[r, c]) * (p[r * d + c] - target[r, c]) }
                total += weights.scalars[r] * s
            }
            return 0.5 * total / Double(b)
        }
        expectClose([value], [loss(prediction.scalars)], "loss value", rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        expectClose(dPrediction.scalars, numericalGradient(loss, at: prediction.scalars), "dPrediction")

        // Unit weights by default.
        let unweighted = weightedSquaredError(prediction: prediction, target: target, dPrediction: &dPrediction)
        let expected = 0.5 * (prediction - target).squaredNorm() / Double(b)
        expectClose([unweighted], [expected], "unweighted loss", rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
    }
}
