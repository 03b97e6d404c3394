// The autodiff arm of the high-order experiments (s₂ as the input Jacobian of s̃₁) checked
// against an independent implementation: the same Softplus MLP written with Swift's
// `_Differentiation` module, whose Jacobian rows come from its compiler-generated pullbacks.
import _Differentiation
import Foundation
import NeuralNet
import TensorCore
import Testing
import TestSupport

/// One dense layer y = act(x·W + b) on plain arrays, W row-major [in, out], differentiable in x.
@differentiable(reverse, wrt: x)
private func referenceDense(_ x: [Double], _ w: [Double], _ b: [Double], _ inSize: Int, _ outSize: Int, _ softplus: Bool) -> [Double] {
    var out: [Double] = []
    for o in 0..<outSize {
        var s = b[o]
        for i in 0..<inSize { s = s + x[i] * w[i * outSize + o] }
        if softplus { s = log(1 + exp(s)) }
        out.append(s)
    }
    return out
}

@Suite struct DifferentiationReferenceTests {
    /// Our reverse-mode Jacobians (batched and the D-pass loop) equal the `_Differentiation`
    /// pullback Jacobian of an independently written network with the same weights.
    @Test func jacobianMatchesSwiftAutodiff() {
        var rng = Xoshiro256(seed: 12)
        let sizes = [4, 5, 3, 4]
        let mlp = MLP<Double>(sizes: sizes, activation: .softplus, using: &rng)
        let params = mlp.namedParameters().map { $0.value.scalars }  // weight, bias per layer
        let x = Tensor<Double>.randomNormal([3, sizes[0]], using: &rng)
        let batched = mlp.inputJacobian(at: x)
        var looped = Tensor<Double>(shape: [0])
        mlp.inputJacobianByVJPs(at: x, into: &looped)
        let autodiffAgreement = 1e-12
        #expect(worstMismatch(looped.scalars, batched.scalars, rtol: autodiffAgreement, atol: autodiffAgreement) == nil)
        let (m, d) = (sizes.last!, sizes[0])
        for b in 0..<3 {
            let xb = (0..<d).map { x.scalars[b * d + $0] }
            func network(_ v: [Double]) -> [Double] {
                var h = v
                for l in 0..<(sizes.count - 1) {
                    h = referenceDense(h, params[2 * l], params[2 * l + 1], sizes[l], sizes[l + 1], l < sizes.count - 2)
                }
                return h
            }
            let (y, pullback) = valueWithPullback(at: xb) { v -> [Double] in
                var h = v
                for l in 0..<(sizes.count - 1) {
                    h = referenceDense(h, params[2 * l], params[2 * l + 1], sizes[l], sizes[l + 1], l < sizes.count - 2)
                }
                return h
            }
            let ours = mlp.forward(Tensor(shape: [1, d], scalars: xb), retainForBackward: false).scalars
            #expect(worstMismatch(ours, y, rtol: autodiffAgreement, atol: autodiffAgreement) == nil, "forward values differ")
            #expect(worstMismatch(ours, network(xb), rtol: autodiffAgreement, atol: autodiffAgreement) == nil)
            for o in 0..<m {
                var e = [Double](repeating: 0, count: m)
                e[o] = 1
                let row = pullback(Array<Double>.TangentVector(e))
                let oursRow = Array(batched.scalars[(b * m * d + o * d)..<(b * m * d + (o + 1) * d)])
                #expect(worstMismatch(oursRow, Array(row.base), rtol: autodiffAgreement, atol: autodiffAgreement) == nil, "Jacobian row \(o) of point \(b)")
            }
        }
    }
}
