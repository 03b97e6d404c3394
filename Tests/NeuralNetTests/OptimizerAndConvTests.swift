// Adam, AMSGrad and EMA against closed forms; Conv2D forward against a direct convolution.
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// A Linear layer whose parameters and gradients are set by hand.
func layerWithGradients(seed: UInt64) -> Linear<Double> {
    var rng = Xoshiro256(seed: seed)
    let layer = Linear<Double>(inputSize: 3, outputSize: 2, using: &rng)
    layer.dWeight = Tensor<Double>.randomNormal([3, 2], using: &rng)
    layer.dBias = Tensor<Double>.randomNormal([2], using: &rng)
    return layer
}

@Suite struct AdamTests {
    /// After one step, m = (1−β1)g and v = (1−β2)g², so with the bias corrections the update is
    /// exactly lr · g / (|g| + ε).
    @Test(arguments: [false, true])
    func firstStepClosedForm(amsgrad: Bool) {
        let layer = layerWithGradients(seed: 101)
        let before = layer.namedParameters()
        let gradients = layer.namedGradients()
        let lr = 0.01, eps = 1e-3
        let adam = Adam<Double>(learningRate: lr, beta1: 0.8, beta2: 0.95, epsilon: eps, amsgrad: amsgrad)
        adam.step(layer)
        #expect(adam.stepCount == 1)
        for ((name, p0), ((_, g), (_, p1))) in zip(before, zip(gradients, layer.namedParameters())) {
            let expected = (0..<p0.count).map { i in p0.scalars[i] - lr * g.scalars[i] / (abs(g.scalars[i]) + eps) }
            expectClose(p1.scalars, expected, "Adam step 1 \(name)", rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        }
    }

    /// Two steps against the recursion written out by hand.
    @Test func secondStepMatchesRecursion() {
        let layer = layerWithGradients(seed: 102)
        let (lr, b1, b2, eps) = (0.05, 0.9, 0.99, 1e-8)
        let adam = Adam<Double>(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps)
        let p0 = layer.weight
        let g1 = layer.dWeight
        adam.step(layer)
        let g2 = Tensor<Double>(shape: [3, 2], scalars: g1.scalars.map { -0.5 * $0 + 0.1 })
        layer.dWeight = g2
        adam.step(layer)
        var expected: [Double] = []
        for i in 0..<p0.count {
            var m = 0.0, v = 0.0, p = p0.scalars[i]
            for (t, g) in [(1.0, g1.scalars[i]), (2.0, g2.scalars[i])] {
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                let mHat = m / (1 - _pow(b1, t))
                let vHat = v / (1 - _pow(b2, t))
                p -= lr * mHat / (vHat.squareRoot() + eps)
            }
            expected.append(p)
        }
        expectClose(layer.weight.scalars, expected, "Adam step 2", rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
    }

    /// AMSGrad's vmax never decreases and equals the running maximum of v.
    @Test func amsgradMaximumIsMonotone() {
        let layer = layerWithGradients(seed: 103)
        let adam = Adam<Double>(learningRate: 1e-3, amsgrad: true)
        var rng = Xoshiro256(seed: 104)
        var previous: [Tensor<Double>] = []
        var runningMax: [[Double]] = []
        for step in 0..<6 {
            // Large gradients first, then small ones, so that v falls while vmax must not.
            let size = step < 3 ? 10.0 : 0.01
            layer.dWeight = Tensor<Double>.randomNormal([3, 2], std: size, using: &rng)
            layer.dBias = Tensor<Double>.randomNormal([2], std: size, using: &rng)
            adam.step(layer)
            let current = adam.maxSecondMoments
            if runningMax.isEmpty { runningMax = adam.secondMoments.map(\.scalars) }
            for k in 0..<current.count {
                runningMax[k] = zip(runningMax[k], adam.secondMoments[k].scalars).map { max($0, $1) }
                #expect(current[k].scalars == runningMax[k], "vmax is the running max of v")
                if !previous.isEmpty {
                    #expect(zip(current[k].scalars, previous[k].scalars).allSatisfy { $0 >= $1 }, "vmax decreased")
                }
            }
            previous = current
        }
        // After the small gradients v has decayed below its maximum: AMSGrad is engaged.
        #expect(zip(adam.secondMoments[0].scalars, adam.maxSecondMoments[0].scalars).allSatisfy { $0 < $1 })
    }
}

@Suite struct EMATests {
    /// Starting from θ0 with the model held at θ1, k updates give d^k θ0 + (1 − d^k) θ1.
    @Test func closedFormAfterKSteps() throws {
        var rng = Xoshiro256(seed: 111)
        let mlp = MLP<Double>(sizes: [2, 3, 2], activation: .softplus, using: &rng)
        let theta0 = mlp.namedParameters()
        let decay = 0.9
        let k = 5
        let ema = ExponentialMovingAverage<Double>(decay: decay, of: mlp)
        for (name, value) in theta0 {
            try mlp.setParameter(named: name, to: value.map { 2 * $0 + 1 })
        }
        let theta1 = mlp.namedParameters()
        for _ in 0..<k { ema.update(from: mlp) }
        #expect(ema.updateCount == k)
        let dk = _pow(decay, Double(k))
        for i in 0..<theta0.count {
            let expected = zip(theta0[i].value.scalars, theta1[i].value.scalars).map { dk * $0 + (1 - dk) * $1 }
            expectClose(ema.shadow[i].scalars, expected, "EMA \(theta0[i].name)",
                        rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        }

        // swap exchanges and swaps back; copy overwrites the model.
        let averaged = ema.shadow
        ema.swap(with: mlp)
        #expect(mlp.namedParameters().map(\.value) == averaged)
        #expect(ema.shadow == theta1.map(\.value))
        ema.swap(with: mlp)
        #expect(mlp.namedParameters().map(\.value) == theta1.map(\.value))
        ema.copy(to: mlp)
        #expect(mlp.namedParameters().map(\.value) == averaged)
    }

    /// Issue 27: the bias-corrected average, worked by hand. With d = 0.5 and the model at θ1, θ2,
    /// θ3 when the three updates are made, s_t = d s_{t−1} + (1 − d) θ_t from s_0 = 0 gives
    /// s_3 = 0.125 θ1 + 0.25 θ2 + 0.5 θ3, and s_3 / (1 − 0.5³) = (θ1 + 2 θ2 + 4 θ3) / 7: the
    /// initial weights θ0 carry no weight. The plain average keeps d³ = 0.125 of θ0.
    @Test func biasCorrectedAverageWorkedByHand() throws {
        var rng = Xoshiro256(seed: 112)
        let mlp = MLP<Double>(sizes: [2, 3, 2], activation: .softplus, using: &rng)
        let theta0 = mlp.namedParameters()
        let corrected = ExponentialMovingAverage<Double>(decay: 0.5, of: mlp, biasCorrected: true)
        let plain = ExponentialMovingAverage<Double>(decay: 0.5, of: mlp)
        var thetas: [[(name: String, value: Tensor<Double>)]] = []
        for t in 1...3 {
            for (name, value) in theta0 { try mlp.setParameter(named: name, to: value.map { $0 * Double(t + 1) + Double(t) }) }
            thetas.append(mlp.namedParameters())
            corrected.update(from: mlp)
            plain.update(from: mlp)
        }
        for i in 0..<theta0.count {
            let (a, b, c) = (thetas[0][i].value.scalars, thetas[1][i].value.scalars, thetas[2][i].value.scalars)
            var expected = [Double](repeating: 0, count: a.count)
            for k in 0..<a.count {
                let sum: Double = a[k] + 2 * b[k] + 4 * c[k]
                expected[k] = sum / 7
            }
            expectClose(corrected.shadow[i].scalars, expected, "bias-corrected EMA \(theta0[i].name)",
                        rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
            let x0 = theta0[i].value.scalars
            var plainExpected = [Double](repeating: 0, count: a.count)
            for k in 0..<a.count {
                let first: Double = 0.125 * x0[k] + 0.125 * a[k]
                plainExpected[k] = first + 0.25 * b[k] + 0.5 * c[k]
            }
            expectClose(plain.shadow[i].scalars, plainExpected, "plain EMA \(theta0[i].name)",
                        rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
        }
        #expect(corrected.initialWeightShare == 0)
        #expect(abs(plain.initialWeightShare - 0.125) < 1e-15)
        // The share the image experiments record: 0.999^2000 ≈ 0.135 for the plain average.
        #expect(abs(ExponentialMovingAverage<Float>.initialWeightShare(decay: 0.999, updates: 2000, biasCorrected: false) - 0.13520) < 1e-4)
        #expect(ExponentialMovingAverage<Float>.initialWeightShare(decay: 0.999, updates: 2000, biasCorrected: true) == 0)
        // The schedule starts at 0 (the first trained weights) and tends to d.
        #expect(ExponentialMovingAverage<Float>.effectiveDecay(0.999, update: 1, biasCorrected: true) == 0)
        #expect(abs(ExponentialMovingAverage<Float>.effectiveDecay(0.999, update: 100_000, biasCorrected: true) - 0.999) < 1e-12)
    }
}

@Suite struct Conv2DForwardTests {
    /// Direct cross-correlation with zero padding, [B, O, Ho, Wo].
    func directConvolution(_ x: Tensor<Double>, _ conv: Conv2D<Double>) -> Tensor<Double> {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (k, s, p, o) = (conv.kernelSize, conv.stride, conv.padding, conv.outputChannels)
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        var y = Tensor<Double>(shape: [b, o, ho, wo])
        for n in 0..<b {
            for oc in 0..<o {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum = conv.bias.scalars[oc]
                        for ic in 0..<c {
                            for i in 0..<k {
                                for j in 0..<k {
                                    let iy = oy * s - p + i, ix = ox * s - p + j
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    sum += conv.weight.scalars[((oc * c + ic) * k + i) * k + j]
                                        * x.scalars[((n * c + ic) * h + iy) * w + ix]
                                }
                            }
                        }
                        y.scalars[((n * o + oc) * ho + oy) * wo + ox] = sum
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: [(3, 2, 1), (3, 1, 0), (2, 2, 0), (5, 1, 2)])
    func matchesDirectLoops(kernel: Int, stride: Int, padding: Int) {
        var rng = Xoshiro256(seed: UInt64(200 + kernel * 10 + stride + padding))
        let conv = Conv2D<Double>(inputChannels: 3, outputChannels: 4, kernelSize: kernel, stride: stride,
                                  padding: padding, using: &rng)
        let x = Tensor<Double>.randomNormal([2, 3, 7, 6], using: &rng)
        let y = conv(x)
        let expected = directConvolution(x, conv)
        #expect(y.shape == expected.shape)
        expectClose(y.scalars, expected.scalars, "conv k\(kernel) s\(stride) p\(padding)",
                    rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
