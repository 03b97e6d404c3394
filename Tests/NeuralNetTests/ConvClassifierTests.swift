import Foundation
import NeuralNet
import TensorCore
import Testing
import TestSupport

@Suite struct ConvClassifierTests {
    static let tiny = ConvClassifierArchitecture(height: 6, width: 6, convolutionChannels: [3, 4], convolutionStrides: [1, 2],
                                                 hidden: 5, classes: 3, activation: .silu)

    /// The whole classifier (convs, flatten, hidden and output layers) against central
    /// differences in Double, for the input and every parameter (SiLU: no kinks in the stencil).
    @Test func wholeNetworkGradientCheck() {
        var rng = Xoshiro256(seed: 11)
        let net = ConvClassifier<Double>(Self.tiny, using: &rng)
        let x = Tensor<Double>.randomUniform([2, 36], using: &rng)
        checkLayerGradients(net, input: x, seed: 5, label: "ConvClassifier")
    }

    /// Shapes: 28 → 28 → 14 → 7 with strides 1, 2, 2; features [B, F].
    @Test func shapes() {
        let a = ConvClassifierArchitecture(height: 28, width: 28, convolutionChannels: [4, 8, 8], convolutionStrides: [1, 2, 2],
                                           hidden: 16, classes: 10)
        #expect(a.featureMapShape == [8, 7, 7])
        var rng = Xoshiro256(seed: 1)
        let net = ConvClassifier<Float>(a, using: &rng)
        let y = net(Tensor<Float>.randomUniform([3, 784], using: &rng))
        #expect(y.shape == [3, 10] && net.features.shape == [3, 16])
        #expect(ConvClassifierArchitecture(height: 8, width: 8, convolutionChannels: [4], convolutionStrides: [3], hidden: 4, classes: 2).problem != nil)
    }

    /// Softmax cross-entropy: the gradient against central differences, and the value against the
    /// closed form log K at equal logits.
    @Test func crossEntropyGradientAndValue() {
        var rng = Xoshiro256(seed: 3)
        let z = Tensor<Double>.randomNormal([4, 5], using: &rng).map { 3 * $0 }
        let labels = [0, 4, 2, 2]
        var g = Tensor<Double>(shape: [0])
        softmaxCrossEntropy(logits: z, labels: labels, dLogits: &g)
        let numeric = numericalGradient({ v in
            var scratch = Tensor<Double>(shape: [0])
            return softmaxCrossEntropy(logits: Tensor(shape: [4, 5], scalars: v), labels: labels, dLogits: &scratch)
        }, at: z.scalars)
        expectClose(g.scalars, numeric, "dL/dlogits")
        let equal = softmaxCrossEntropy(logits: Tensor<Double>(shape: [2, 5], repeating: 7), labels: [1, 3], dLogits: &g)
        #expect(abs(equal - log(5.0)) < Tolerance.float64Ops)
        #expect(argmaxRows(Tensor<Double>(rows: [[0, 2, 1], [5, -1, 5]])) == [1, 0])
    }
}
