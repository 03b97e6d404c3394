// Finite-difference gradient checks shared by the NeuralNet tests.
//
// The "random cotangent" trick: for a layer y = f(x; θ) and a fixed random v of the output's
// shape, the scalar φ = Σ v ⊙ f(x; θ) has gradient (∂f/∂x)ᵀ v with respect to x and
// (∂f/∂θ)ᵀ v with respect to θ — exactly what backward returns for dOutput = v. Central
// differences of φ (TestSupport.numericalGradient, Double) check every coordinate.
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// Σ a ⊙ b.
func dotProduct(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.count == b.count, "dotProduct: sizes differ")
    var s = 0.0
    for i in 0..<a.count { s += a.scalars[i] * b.scalars[i] }
    return s
}

/// A [shape] tensor of N(0, 1) draws whose entries are at least `margin` away from 0 (so that
/// ReLU/ELU kinks are outside the finite-difference stencil).
func randomAwayFromZero(_ shape: [Int], margin: Double, using rng: inout Xoshiro256) -> Tensor<Double> {
    var t = Tensor<Double>.randomNormal(shape, using: &rng)
    t = t.map { $0 >= 0 ? $0 + margin : $0 - margin }
    return t
}

/// Records an issue naming `what` when `actual` and `expected` disagree beyond the
/// finite-difference tolerances.
func expectClose(
    _ actual: [Double], _ expected: [Double], _ what: String,
    rtol: Double = Tolerance.finiteDifferenceRelative, atol: Double = Tolerance.finiteDifferenceAbsolute,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) vs \(expected.count) values", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let mismatch = worstMismatch(actual, expected, rtol: rtol, atol: atol)
    #expect(mismatch == nil, "\(what): \(mismatch.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
}

/// Checks a layer's input gradient and every parameter gradient against central differences
/// of φ = Σ v ⊙ layer(x) with a random cotangent v.
func checkLayerGradients<L: Layer>(
    _ layer: L, input: Tensor<Double>, seed: UInt64, label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) where L.Scalar == Double {
    var rng = Xoshiro256(seed: seed)
    let output = layer(input)
    let v = Tensor<Double>.randomNormal(output.shape, using: &rng)

    // Analytic: one forward, one backward with dOutput = v.
    layer.zeroGradients()
    var out = Tensor<Double>(shape: [0])
    layer.forward(input, into: &out)
    var dInput = Tensor<Double>(shape: [0])
    layer.backward(input: input, dOutput: v, into: &dInput, accumulateParameterGradients: true)
    #expect(dInput.shape == input.shape, "\(label): dInput shape", sourceLocation: sourceLocation)
    let analyticParameters = layer.namedGradients()

    // Numerical, input.
    let phiOfInput: ([Double]) -> Double = { xs in
        dotProduct(v, layer(Tensor(shape: input.shape, scalars: xs)))
    }
    expectClose(dInput.scalars, numericalGradient(phiOfInput, at: input.scalars), "\(label) dInput",
                sourceLocation: sourceLocation)

    // Numerical, each parameter.
    for (name, gradient) in analyticParameters {
        let original = layer.parameter(named: name)!
        let phiOfParameter: ([Double]) -> Double = { ps in
            try! layer.setParameter(named: name, to: Tensor(shape: original.shape, scalars: ps))
            return dotProduct(v, layer(input))
        }
        let numeric = numericalGradient(phiOfParameter, at: original.scalars)
        try! layer.setParameter(named: name, to: original)
        expectClose(gradient.scalars, numeric, "\(label) d\(name)", sourceLocation: sourceLocation)
    }
}

/// Row b of a [B, C] matrix as a tensor [1, C].
func rowTensor(_ t: Tensor<Double>, _ b: Int) -> Tensor<Double> {
    Tensor(shape: [1, t.columns], scalars: t.row(b))
}

/// Output, input gradient and parameter gradients of one U-Net forward/backward (gradients
/// zeroed between the two), as named lists of Doubles.
func unetPass<S: TensorScalar>(_ net: UNet<S>, _ x: Tensor<S>, _ sigmas: Tensor<S>, _ v: Tensor<S>) -> [(String, [Double])] {
    var y = Tensor<S>(shape: [0])
    net.forward(x, sigmas: sigmas, into: &y)
    net.zeroGradients()
    var dx = Tensor<S>(shape: [0])
    net.backward(input: x, dOutput: v, into: &dx)
    return [("output", y.scalars.map { Double($0) }), ("dInput", dx.scalars.map { Double($0) })]
        + net.namedGradients().map { ($0.name, $0.gradient.scalars.map { Double($0) }) }
}

/// Expects every tensor of `got` (from `unetPass`) within `Tolerance.float32Ops` of `expected`,
/// relative to the tensor's largest entry; a tensor whose exact value is zero (a conv bias
/// feeding a GroupNorm with one channel per group, at width 8) is measured against the largest
/// parameter gradient instead.
func expectFloat32Agreement(_ expected: [(String, [Double])], _ got: [(String, [Double])], _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(expected.map(\.0) == got.map(\.0), sourceLocation: sourceLocation)
    let largestGradient = expected.dropFirst(2).flatMap { $0.1 }.map { abs($0) }.max() ?? 0
    for ((name, e), (_, g)) in zip(expected, got) {
        let own = e.map { abs($0) }.max() ?? 0
        let scale = own < 1e-3 * largestGradient ? largestGradient : own
        let worst = zip(e, g).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= Tolerance.float32Ops * scale, "\(what), \(name): max |Δ| \(worst) vs scale \(scale)", sourceLocation: sourceLocation)
    }
}
