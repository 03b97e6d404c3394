// Tests of TweedieIdentity (issue 17, HO-C1): σ⁴·DSM = regression loss of h = x̃ + σ²f with equal
// parameter gradients, through the library's DSM loss on a real network; a mis-specified σ in the
// DSM loss breaks both, so the measurement can fail.
import Foundation
import NeuralNet
import Testing
import TensorCore
import TestSupport
@testable import ExperimentKit

@Suite struct TweedieIdentityTests {
    static func pairs(_ b: Int, _ d: Int, seed: UInt64) -> (Tensor<Double>, Tensor<Double>) {
        var rng = Xoshiro256(seed: seed)
        return (Tensor<Double>.randomNormal([b, d], using: &rng), Tensor<Double>.randomNormal([b, d], using: &rng))
    }

    @Test(arguments: [0.05, 0.3, 1.0])
    func identityHoldsInDouble(sigma: Double) {
        var rng = Xoshiro256(seed: 11)
        let net = MLP<Double>(sizes: [3, 16, 16, 3], activation: .softplus, using: &rng)
        let (x, z) = Self.pairs(64, 3, seed: 5)
        let m = TweedieIdentity.measure(net, clean: x, noise: z, sigma: sigma)
        #expect(abs(m.valueRatio - 1) < Tolerance.float64Ops)
        #expect(abs(m.gradientCoefficient - 1) < Tolerance.float64Ops)
        #expect(abs(m.gradientCosine - 1) < Tolerance.float64Ops)
    }

    @Test func identityHoldsInFloat32ToRoundOff() {
        var rng = Xoshiro256(seed: 12)
        let net = MLP<Float>(sizes: [4, 32, 32, 4], activation: .softplus, using: &rng)
        let (x, z) = Self.pairs(128, 4, seed: 6)
        let m = TweedieIdentity.measure(net, clean: x, noise: z, sigma: 0.1)
        #expect(abs(m.valueRatio - 1) < Tolerance.float32Ops)
        #expect(abs(m.gradientCoefficient - 1) < Tolerance.float32Ops)
    }

    /// Telling the DSM loss the wrong σ (target −z/σ' instead of −z/σ) breaks the identity.
    @Test func wrongTargetFails() {
        var rng = Xoshiro256(seed: 13)
        let net = MLP<Double>(sizes: [2, 8, 2], activation: .softplus, using: &rng)
        let (x, z) = Self.pairs(64, 2, seed: 7)
        let m = TweedieIdentity.measure(net, clean: x, noise: z, sigma: 0.3, dsmSigma: 0.35)
        #expect(abs(m.valueRatio - 1) > 0.05)
        #expect(abs(m.gradientCoefficient - 1) > 1e-3 || abs(m.gradientCosine - 1) > 1e-3)
    }
}
