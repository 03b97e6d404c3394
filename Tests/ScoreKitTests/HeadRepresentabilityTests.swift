// The representability floor of a rank-r + diagonal s̃₂ head (HO-E1, issue 17) against matrices
// whose best fit is known: representable ones (floor 0), rank 0 (the off-diagonal share), and a
// 3×3 target whose infimum over UUᵀ + diag(d) is derived by hand.
import Foundation
import Testing
import TensorCore
@testable import ScoreKit

struct HeadRepresentabilityTests {
    /// Round-off of a few hundred eigendecompositions of small matrices.
    static let exactTolerance = 1e-8

    static func random(_ count: Int, seed: UInt64) -> [Double] {
        var rng = Xoshiro256(seed: seed)
        return (0..<count).map { _ in rng.nextNormal() }
    }

    /// UUᵀ + diag(d) with any signs in d is fitted exactly (the alternation reaches zero).
    @Test(arguments: [(6, 2), (12, 3), (8, 8)]) func representableTargetsFitExactly(d: Int, r: Int) throws {
        let u = Self.random(d * r, seed: UInt64(d * 10 + r)), diag = Self.random(d, seed: 99).map { 3 * $0 }
        var s = [Double](repeating: 0, count: d * d)
        for a in 0..<d { for b in 0..<d { for k in 0..<r { s[a * d + b] += u[a * r + k] * u[b * r + k] } } }
        for i in 0..<d { s[i * d + i] += diag[i] }
        let error = try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: d, rank: r, iterations: 2000)
        #expect(error < 1e-6, "rank \(r) + diagonal target, D = \(d): floor \(error)")
    }

    /// A negative definite diagonal is representable by d alone; rank 0 leaves exactly the
    /// off-diagonal part, ‖offdiag(S)‖_F / ‖S‖_F.
    @Test func diagonalOnlyClosedForms() throws {
        let d = 5
        var negative = [Double](repeating: 0, count: d * d)
        for i in 0..<d { negative[i * d + i] = -Double(i + 1) }
        #expect(try HeadRepresentability.lowRankPlusDiagonalError(negative, dimension: d, rank: 2) < Self.exactTolerance)
        let g = Self.random(d * d, seed: 5)
        var s = [Double](repeating: 0, count: d * d)
        for a in 0..<d { for b in 0..<d { s[a * d + b] = g[a * d + b] + g[b * d + a] } }
        let total = s.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var off = 0.0
        for a in 0..<d { for b in 0..<d where a != b { off += s[a * d + b] * s[a * d + b] } }
        let error = try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: d, rank: 0)
        #expect(abs(error - off.squareRoot() / total) < Self.exactTolerance)
        #expect(try HeadRepresentability.lowRankPlusDiagonalError([Double](repeating: 0, count: 9), dimension: 3, rank: 1) == 0)
    }

    /// S = −(𝟙𝟙ᵀ − I) (zero diagonal, every off-diagonal −1), rank 1. For u ∈ R³ the products
    /// u₁u₂, u₁u₃, u₂u₃ multiply to (u₁u₂u₃)² ≥ 0, so one of them is ≥ 0 and its two entries miss
    /// −1 by ≥ 1: the squared residual is ≥ 2, and u = (a, −1/a, −1/a) gives 2(1 + 1/a²)² → 2.
    /// The infimum of the relative error is √2/√6 = 1/√3; a fit is a feasible point, so it can
    /// never report less.
    @Test func nonRepresentableTargetMeetsItsDerivedInfimum() throws {
        let s: [Double] = [0, -1, -1, -1, 0, -1, -1, -1, 0]
        let error = try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: 3, rank: 1, iterations: 5000)
        let infimum = 1 / 3.0.squareRoot()
        #expect(error >= infimum - Self.exactTolerance, "floor \(error) below the derived infimum \(infimum)")
        // The infimum is not attained (a → ∞), so the fit only approaches it: more rounds never
        // do worse, and the rank-1 part does better than the diagonal alone.
        let short = try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: 3, rank: 1, iterations: 1)
        let medium = try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: 3, rank: 1, iterations: 20)
        #expect(error <= medium + Self.exactTolerance && medium <= short + Self.exactTolerance, "1, 20, 5000 rounds: \(short), \(medium), \(error)")
        #expect(error < 0.7, "floor \(error): the rank-1 part should remove much of the off-diagonal residual")
        // Rank 0 leaves the whole matrix (zero diagonal): relative error 1.
        #expect(abs(try HeadRepresentability.lowRankPlusDiagonalError(s, dimension: 3, rank: 0) - 1) < Self.exactTolerance)
    }
}
