import Foundation
import NeuralNet
import ScoreKit
import TensorCore
import Testing
import TestSupport
@testable import ExperimentKit

/// The gradients one D2SM training step hands to Adam (ExperimentKit.SecondOrderGradients) against
/// central finite differences, in Double, for every training mode, form, head and ± VR. This checks
/// the routing the losses' own gradient tests cannot: stacking the evaluation points into one batch,
/// sending dL/ds̃₁ into s̃₁ only in the code-faithful joint mode, adding the weighted DSM-VR term to
/// s̃₁ in both joint modes, and leaving a frozen s̃₁'s accumulators alone.
@Suite struct SecondOrderGradientsTests {
    static let (d, batch, sigma) = (2, 4, 0.4)

    /// Flat parameter vector and gradient accumulators, in enumeration order.
    static func parameters(_ net: MLP<Double>) -> [Double] { net.namedParameters().flatMap { $0.value.scalars } }
    static func gradients(_ net: MLP<Double>) -> [Double] { net.namedGradients().flatMap { $0.gradient.scalars } }
    static func setParameter(_ net: MLP<Double>, _ index: Int, _ value: Double) {
        var offset = 0
        net.forEachParameter { _, p, _ in
            if index >= offset && index < offset + p.count { p.scalars[index - offset] = value }
            offset += p.count
        }
    }

    /// Central differences of `f` over every parameter of `net`.
    static func finiteDifferences(_ net: MLP<Double>, _ f: () -> Double) -> [Double] {
        let theta = parameters(net)
        return theta.indices.map { i in
            let h = finiteDifferenceStep(theta[i])
            setParameter(net, i, theta[i] + h); let up = f()
            setParameter(net, i, theta[i] - h); let down = f()
            setParameter(net, i, theta[i])
            return (up - down) / (2 * h)
        }
    }

    static func expectClose(_ analytic: [Double], _ numeric: [Double], _ what: String) {
        #expect(analytic.count == numeric.count)
        let scale = max(1, numeric.map(abs).max() ?? 0)
        let worst = zip(analytic, numeric).map { abs($0 - $1) }.max() ?? 0
        // Relative to the largest gradient entry; the losses are smooth in every parameter.
        #expect(worst <= Tolerance.finiteDifferenceRelative * 10 * scale, "\(what): worst |analytic − FD| = \(worst), scale \(scale)")
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var mode: SecondOrderMode, form: SecondOrderForm, structure: SecondOrderStructure, vr: Bool
        var testDescription: String { "\(mode.rawValue), form \(form), \(structure), VR \(vr)" }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        for vr in [false, true] {
            for structure in [SecondOrderStructure.full, .lowRank(rank: 1)] {
                out.append(Case(mode: .frozen, form: .a, structure: structure, vr: vr))
                out.append(Case(mode: .frozen, form: .b, structure: structure, vr: vr))
                out.append(Case(mode: .jointDetached, form: .a, structure: structure, vr: vr))
                out.append(Case(mode: .joint, form: .a, structure: structure, vr: vr))
            }
        }
        return out
    }()

    @Test(arguments: cases)
    func stepGradientsMatchFiniteDifferences(_ c: Case) {
        var rng = Xoshiro256(seed: 11)
        let (d, b, sigma) = (Self.d, Self.batch, Self.sigma)
        let loss = SecondOrderDSM(dimension: d, sigma: sigma, structure: c.structure, form: c.form, scale: pow(sigma, 4))
        let first = MLP<Double>(sizes: [d, 5, d], activation: .softplus, using: &rng)
        let head = MLP<Double>(sizes: [d, 5, c.structure.width(dimension: d)], activation: .softplus, using: &rng)
        var x = Tensor<Double>.randomNormal([b, d], using: &rng), z = Tensor<Double>.randomNormal([b, d], using: &rng)
        x.scale(by: 1.5)
        var noisy = x
        for i in 0..<x.count { noisy.scalars[i] += sigma * z.scalars[i] }
        let weight = 0.7
        var step = SecondOrderGradients<Double>(batchSize: b, loss: loss, mode: c.mode, varianceReduced: c.vr, firstOrderWeight: weight)

        // A frozen s̃₁ keeps whatever its accumulators hold.
        first.zeroGradients()
        first.forEachParameter { _, _, g in g.fill(3) }
        let total = step.accumulate(head: head, first: first, x: x, z: z, noisy: noisy)
        #expect(total.isFinite)
        let headGradient = Self.gradients(head), firstGradient = Self.gradients(first)
        var probe = step
        let lossValue = { probe.accumulate(head: head, first: first, x: x, z: z, noisy: noisy) }
        Self.expectClose(headGradient, Self.finiteDifferences(head, lossValue), "\(c.testDescription): s̃₂ gradients")
        switch c.mode {
        case .frozen:
            #expect(firstGradient.allSatisfy { $0 == 3 }, "frozen s̃₁ accumulators changed")
        case .joint:
            Self.expectClose(firstGradient, Self.finiteDifferences(first, lossValue), "\(c.testDescription): s̃₁ gradients (D2SM + DSM-VR)")
        case .jointDetached:
            // Only scale·w·DSM-VR/σ² reaches s̃₁.
            let dsm = {
                let s = first.forward(noisy, retainForBackward: false), cl = first.forward(x, retainForBackward: false)
                var g = Tensor<Double>(shape: [b, d]), gc = g
                let v = SecondOrderDSM.firstOrderLossVR(score: Tensor(shape: s.shape, scalars: s.scalars), cleanScore: Tensor(shape: cl.shape, scalars: cl.scalars),
                                                        noise: z, sigma: sigma, dScore: &g, dCleanScore: &gc)
                return loss.scale * weight / (sigma * sigma) * v
            }
            Self.expectClose(firstGradient, Self.finiteDifferences(first, dsm), "\(c.testDescription): s̃₁ gradients (DSM-VR only)")
            // And the D2SM part does depend on s̃₁ (form A), so the detaching is a real difference.
            let full = Self.finiteDifferences(first, lossValue)
            #expect(zip(full, firstGradient).map { abs($0 - $1) }.max()! > 1e-4, "D2SM-A does not depend on s̃₁: the detach test would be vacuous")
        }
    }
}
