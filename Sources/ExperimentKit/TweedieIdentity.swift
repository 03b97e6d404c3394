// The identity behind HO-C1 (issue 17): for x̃ = x + σz, plain DSM on a score network f,
//
//     L_DSM(f) = (1/B) Σ_b ‖f(x̃_b) + z_b/σ‖²,
//
// and least-squares regression of x on x̃ with the denoiser h = x̃ + σ²f,
//
//     L_reg(h) = (1/B) Σ_b ‖h(x̃_b) − x_b‖²,
//
// satisfy σ⁴·L_DSM(f) = L_reg(h) for every f (per sample, so "up to a constant" with constant 0),
// hence their parameter gradients are equal. Training f by DSM IS least-squares regression of x
// on x̃ in the family h = x̃ + σ²f. `TweedieIdentity.measure` evaluates both sides through the
// library's DSM loss (`SecondOrderDSM.firstOrderLoss`) and an independent regression loss on a
// real network, so a scale, sign or target error in the DSM implementation shows up.
import NeuralNet
import ScoreKit
import TensorCore

public enum TweedieIdentity {
    /// σ⁴·L_DSM / L_reg, the least-squares coefficient of the σ⁴-scaled DSM parameter gradient on
    /// the regression gradient (g_dsm·g_reg / g_reg·g_reg: 1 when they are equal), and their cosine.
    public struct Measurement: Sendable, Equatable, Codable {
        public var valueRatio: Double
        public var gradientCoefficient: Double
        public var gradientCosine: Double
    }

    /// Both sides on the pairs (clean x [B, D], noise z [B, D]) at level σ, for network `net`.
    /// `dsmSigma` is the σ the DSM loss is told (the identity needs dsmSigma = sigma; tests pass
    /// another value to see the check fail). The network's parameter gradients are left zeroed.
    public static func measure<S: TensorScalar>(_ net: MLP<S>, clean: Tensor<Double>, noise: Tensor<Double>, sigma: Double,
                                                dsmSigma: Double? = nil) -> Measurement {
        precondition(clean.shape == noise.shape && clean.rank == 2, "TweedieIdentity: clean \(clean.shape) and noise \(noise.shape) must both be [B, D]")
        let (b, d) = (clean.rows, clean.columns)
        var noisy = clean
        for i in 0..<noisy.count { noisy.scalars[i] += sigma * noise.scalars[i] }
        let out = net.forward(noisy.converted(to: S.self))
        let f = Tensor<S>(shape: out.shape, scalars: out.scalars)

        // Side 1: the library's DSM loss and its output gradient, scaled by σ⁴.
        var dDSM = Tensor<S>(shape: [b, d])
        let dsm = SecondOrderDSM.firstOrderLoss(score: f, noise: noise.converted(to: S.self), sigma: dsmSigma ?? sigma, dScore: &dDSM)
        let s4 = sigma * sigma * sigma * sigma
        let scaledDSM = s4 * dsm
        var dScaled = dDSM
        for i in 0..<dScaled.count { dScaled.scalars[i] = S(s4 * Double(dDSM.scalars[i])) }

        // Side 2: regression of x on x̃ with h = x̃ + σ²f, in Float64; ∂L/∂f = σ²·2(h − x)/B.
        var reg = 0.0
        var dReg = Tensor<S>(shape: [b, d])
        for i in 0..<(b * d) {
            let r = noisy.scalars[i] + sigma * sigma * Double(f.scalars[i]) - clean.scalars[i]
            reg += r * r
            dReg.scalars[i] = S(sigma * sigma * 2 * r / Double(b))
        }
        reg /= Double(b)

        // Parameter gradients of each side through the same forward pass.
        func gradient(_ dOut: Tensor<S>) -> [Double] {
            net.zeroGradients()
            net.backwardParameters(dOut)
            var g: [Double] = []
            net.forEachParameter { _, _, grad in g.append(contentsOf: grad.scalars.map { Double($0) }) }
            return g
        }
        let gD = gradient(dScaled)
        net.forward(noisy.converted(to: S.self))  // a fresh forward for the second backward
        let gR = gradient(dReg)
        net.zeroGradients()
        var dot = 0.0, rr = 0.0, dd = 0.0
        for i in gD.indices { dot += gD[i] * gR[i]; rr += gR[i] * gR[i]; dd += gD[i] * gD[i] }
        return Measurement(valueRatio: scaledDSM / reg, gradientCoefficient: dot / rr, gradientCosine: dot / (rr * dd).squareRoot())
    }
}
