// MLP behaviour: input Jacobian, Float/Double agreement, parameters, buffers, determinism and
// a small training run.
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// The sin(x) regression must reduce the loss by at least this factor (a trend, not a value).
let requiredLossReduction = 10.0
/// Adam steps for the sin(x) regression.
let regressionSteps = 400

@Suite struct InputJacobianTests {
    /// The batched reverse-mode Jacobian equals the central-difference Jacobian of each row.
    func check(conditioningSize: Int, useScale: Bool, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let sizes = [3, 6, 5, 2]
        let batch = 3
        let mlp = MLP<Double>(sizes: sizes, activation: .softplus, conditioningSize: conditioningSize, using: &rng)
        let x = Tensor<Double>.randomNormal([batch, sizes[0]], using: &rng)
        let condition: Tensor<Double>? = conditioningSize > 0
            ? Tensor<Double>.randomNormal([batch, conditioningSize], using: &rng) : nil
        let scale: Tensor<Double>? = useScale ? Tensor<Double>.randomUniform([batch], lower: 0.5, upper: 2, using: &rng) : nil

        mlp.zeroGradients()
        let jacobian = inputJacobian(of: mlp, at: x, condition: condition, outputScale: scale)
        #expect(jacobian.shape == [batch, sizes.last!, sizes[0]])
        #expect(mlp.namedGradients().allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } },
                "the Jacobian must not touch parameter gradients")

        for b in 0..<batch {
            let c = condition.map { rowTensor($0, b) }
            let s = scale.map { Tensor<Double>(shape: [1], scalars: [$0.scalars[b]]) }
            let numeric = numericalJacobian({ xs in
                mlp.forward(Tensor(shape: [1, sizes[0]], scalars: xs), condition: c, outputScale: s,
                            retainForBackward: false).scalars
            }, at: x.row(b))
            let m = sizes.last!, d = sizes[0]
            let analytic = Array(jacobian.scalars[(b * m * d)..<((b + 1) * m * d)])
            expectClose(analytic, numeric.flatMap { $0 }, "Jacobian row \(b) c=\(conditioningSize) scale=\(useScale)")
        }
    }

    @Test func plain() { check(conditioningSize: 0, useScale: false, seed: 81) }
    @Test func conditionedAndScaled() { check(conditioningSize: 1, useScale: true, seed: 82) }

    /// Training steps and Jacobians interleave without disturbing each other (grow-only buffers).
    @Test func interleavesWithTraining() {
        var rng = Xoshiro256(seed: 83)
        let mlp = MLP<Double>(sizes: [2, 5, 2], activation: .silu, using: &rng)
        let x = Tensor<Double>.randomNormal([4, 2], using: &rng)
        let y0 = mlp.forward(x, retainForBackward: false)
        let j0 = mlp.inputJacobian(at: x)
        let y1 = mlp.forward(x, retainForBackward: false)
        let j1 = mlp.inputJacobian(at: x)
        #expect(y0 == y1)
        #expect(j0 == j1)
        // A different batch size in between.
        _ = mlp.forward(Tensor<Double>.randomNormal([7, 2], using: &rng), retainForBackward: false)
        #expect(mlp.forward(x, retainForBackward: false) == y0)
    }
}

@Suite struct MLPBehaviourTests {
    @Test func floatAndDoubleForwardAgree() {
        var rngD = Xoshiro256(seed: 91)
        var rngF = Xoshiro256(seed: 91)
        let sizes = [6, 16, 16, 5]
        let mlpD = MLP<Double>(sizes: sizes, activation: .softplus, conditioningSize: 1, using: &rngD)
        let mlpF = MLP<Float>(sizes: sizes, activation: .softplus, conditioningSize: 1, using: &rngF)
        var rng = Xoshiro256(seed: 92)
        let x = Tensor<Double>.randomNormal([8, 6], using: &rng)
        let c = Tensor<Double>.randomNormal([8, 1], using: &rng)
        let s = Tensor<Double>.randomUniform([8], lower: 0.5, upper: 2, using: &rng)
        let yD = mlpD.forward(x, condition: c, outputScale: s, retainForBackward: false)
        let yF = mlpF.forward(x.converted(to: Float.self), condition: c.converted(to: Float.self),
                              outputScale: s.converted(to: Float.self), retainForBackward: false)
        expectClose(yF.converted(to: Double.self).scalars, yD.scalars, "Float vs Double",
                    rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
    }

    /// The Float backward (parameter gradients, dInput, Jacobian) agrees with Double.
    @Test func floatAndDoubleBackwardAgree() {
        var rngD = Xoshiro256(seed: 93)
        var rngF = Xoshiro256(seed: 93)
        let sizes = [5, 12, 12, 4]
        let mlpD = MLP<Double>(sizes: sizes, activation: .silu, conditioningSize: 2, using: &rngD)
        let mlpF = MLP<Float>(sizes: sizes, activation: .silu, conditioningSize: 2, using: &rngF)
        var rng = Xoshiro256(seed: 94)
        let x = Tensor<Double>.randomNormal([6, 5], using: &rng)
        let c = Tensor<Double>.randomNormal([6, 2], using: &rng)
        let v = Tensor<Double>.randomNormal([6, 4], using: &rng)
        mlpD.zeroGradients()
        mlpF.zeroGradients()
        mlpD.forward(x, condition: c)
        mlpF.forward(x.converted(to: Float.self), condition: c.converted(to: Float.self))
        let dxD = mlpD.backward(v)
        let dxF = mlpF.backward(v.converted(to: Float.self))
        expectClose(dxF.converted(to: Double.self).scalars, dxD.scalars, "dInput Float vs Double",
                    rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
        for ((name, gD), (_, gF)) in zip(mlpD.namedGradients(), mlpF.namedGradients()) {
            expectClose(gF.converted(to: Double.self).scalars, gD.scalars, "\(name) Float vs Double",
                        rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
        }
        let jD = mlpD.inputJacobian(at: x, condition: c)
        let jF = mlpF.inputJacobian(at: x.converted(to: Float.self), condition: c.converted(to: Float.self))
        expectClose(jF.converted(to: Double.self).scalars, jD.scalars, "Jacobian Float vs Double",
                    rtol: Tolerance.float32Ops, atol: Tolerance.float32Ops)
    }

    @Test func identicalSeedsGiveIdenticalParameters() {
        var a = Xoshiro256(seed: 5)
        var b = Xoshiro256(seed: 5)
        var c = Xoshiro256(seed: 6)
        let m1 = MLP<Double>(sizes: [4, 8, 3], activation: .elu, conditioningSize: 2, using: &a)
        let m2 = MLP<Double>(sizes: [4, 8, 3], activation: .elu, conditioningSize: 2, using: &b)
        let m3 = MLP<Double>(sizes: [4, 8, 3], activation: .elu, conditioningSize: 2, using: &c)
        let p1 = m1.namedParameters(), p2 = m2.namedParameters(), p3 = m3.namedParameters()
        #expect(p1.map(\.name) == p2.map(\.name))
        #expect(zip(p1, p2).allSatisfy { $0.value == $1.value })
        #expect(!zip(p1, p3).allSatisfy { $0.value == $1.value })
    }

    @Test func initialisationFollowsPyTorchBounds() {
        var rng = Xoshiro256(seed: 7)
        let mlp = MLP<Double>(sizes: [9, 16, 4], activation: .relu, conditioningSize: 7, using: &rng)
        // Layer 0 has fan-in 9 + 7 = 16 (bound 1/4), layer 1 fan-in 16 (bound 1/4).
        for (name, value) in mlp.namedParameters() {
            let bound = 1 / Double(16).squareRoot()
            #expect(value.scalars.allSatisfy { abs($0) <= bound }, "\(name) outside ±1/sqrt(fanIn)")
        }
        #expect(mlp.layers[0].weight.shape == [16, 16])
        #expect(mlp.layers[1].weight.shape == [16, 4])
    }

    @Test func parameterEnumerationAndAccess() throws {
        var rng = Xoshiro256(seed: 8)
        let mlp = MLP<Double>(sizes: [3, 5, 2], activation: .softplus, conditioningSize: 1, using: &rng)
        #expect(mlp.parameterNames == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        #expect(mlp.parameterCount == (3 + 1) * 5 + 5 + 5 * 2 + 2)
        #expect(mlp.parameter(named: "layers.1.bias")?.shape == [2])
        #expect(mlp.parameter(named: "nope") == nil)

        let replacement = Tensor<Double>(shape: [2], scalars: [0.25, -0.5])
        try mlp.setParameter(named: "layers.1.bias", to: replacement)
        #expect(mlp.layers[1].bias == replacement)
        #expect(throws: ParameterError.self) { try mlp.setParameter(named: "nope", to: replacement) }
        #expect(throws: ParameterError.self) { try mlp.setParameter(named: "layers.0.bias", to: replacement) }

        var other = Xoshiro256(seed: 9)
        let copy = MLP<Double>(sizes: [3, 5, 2], activation: .softplus, conditioningSize: 1, using: &other)
        copy.copyParameters(from: mlp)
        #expect(zip(copy.namedParameters(), mlp.namedParameters()).allSatisfy { $0.value == $1.value })
    }

    /// Fitting y = sin(x) on [−π, π] with Adam: the loss falls by at least
    /// `requiredLossReduction`.
    @Test func learnsSine() {
        var rng = Xoshiro256(seed: 10)
        let n = 64
        let xs = (0..<n).map { -Double.pi + 2 * Double.pi * Double($0) / Double(n - 1) }
        let x = Tensor<Double>(shape: [n, 1], scalars: xs)
        let y = Tensor<Double>(shape: [n, 1], scalars: xs.map { _sin($0) })
        let mlp = MLP<Double>(sizes: [1, 32, 32, 1], activation: .silu, using: &rng)
        let adam = Adam<Double>(learningRate: 1e-2)
        var dPrediction = Tensor<Double>(shape: [0])
        var first = 0.0, last = 0.0
        for step in 0..<regressionSteps {
            mlp.zeroGradients()
            let prediction = mlp.forward(x)
            let loss = weightedSquaredError(prediction: prediction, target: y, dPrediction: &dPrediction)
            mlp.backwardParameters(dPrediction)
            adam.step(mlp)
            if step == 0 { first = loss }
            last = loss
        }
        #expect(last * requiredLossReduction <= first, "loss \(first) → \(last)")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
func _sin(_ x: Double) -> Double { sin(x) }
