import Foundation
import ScoreKit
import TensorCore
import Testing
import TestSupport
@testable import ExperimentKit

@Suite struct SyntheticMixturesTests {
    /// Class weights, means and shrunk covariances of a hand-made two-class image set.
    @Test func classConditionalMatchesHandComputation() throws {
        // Class 0: (0,0), (2,0), (1,3); class 1: (1,1), (3,3). D = 2.
        let images = Tensor<Float>(shape: [5, 2], scalars: [0, 0, 2, 0, 1, 1, 1, 3, 3, 3])
        let labels: [UInt8] = [0, 0, 1, 0, 1]
        let m = try SyntheticMixtures.classConditional(images: images, labels: labels, shrinkage: 0.05)
        let tol = Tolerance.float64Ops
        #expect(abs(m.weights[0] - 0.6) < tol && abs(m.weights[1] - 0.4) < tol)
        #expect(abs(m.means[0][0] - 1) < tol && abs(m.means[0][1] - 1) < tol)
        #expect(abs(m.means[1][0] - 2) < tol && abs(m.means[1][1] - 2) < tol)
        // Class 0 deviations (−1,−1), (1,−1), (0,2): Σ = [[2, 0], [0, 6]]/2 = [[1, 0], [0, 3]].
        let c0 = m.covariances[0].scalars
        #expect(abs(c0[0] - 1.05) < tol && abs(c0[1]) < tol && abs(c0[2]) < tol && abs(c0[3] - 3.05) < tol)
        // Class 1 deviations (−1,−1), (1,1): Σ = [[2, 2], [2, 2]]/1.
        let c1 = m.covariances[1].scalars
        #expect(abs(c1[0] - 2.05) < tol && abs(c1[1] - 2) < tol && abs(c1[3] - 2.05) < tol)
    }

    /// A class with a single image cannot have a covariance: a clear error, not a crash.
    @Test func singleImageClassIsRejected() {
        let images = Tensor<Float>(shape: [3, 2], scalars: [0, 0, 1, 1, 2, 2])
        #expect(throws: (any Error).self) {
            _ = try SyntheticMixtures.classConditional(images: images, labels: [0, 0, 1], source: "toy.h5")
        }
    }

    /// Random mixtures are reproducible from the seed, with exactly symmetric covariances whose
    /// smallest eigenvalue is at least the floor (A Aᵀ/D is positive semi-definite).
    @Test func randomMixtureIsSymmetricWithFloor() {
        var r1 = Xoshiro256(seed: 11), r2 = Xoshiro256(seed: 11)
        let a = SyntheticMixtures.random(dimension: 6, components: 3, using: &r1)
        let b = SyntheticMixtures.random(dimension: 6, components: 3, using: &r2)
        #expect(a.means == b.means)
        let floorSlack = 1e-10
        for c in a.covariances {
            for i in 0..<6 { for j in 0..<6 { #expect(c.scalars[i * 6 + j] == c.scalars[j * 6 + i]) } }
            let eig = try! c.symmetricEigen()
            #expect(eig.values.min()! >= 0.3 - floorSlack)
        }
    }
}
