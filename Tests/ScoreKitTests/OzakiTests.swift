// Ozaki discretisation of Langevin dynamics (high-order spec §3.1, §6.7 item 5).
import Foundation
import Testing
import TensorCore
import TestSupport
@testable import ScoreKit

@Suite struct OzakiTests {
    /// A 2-D correlated Gaussian target N(μ, S): s₁ = −S⁻¹(x − μ), s₂ = −S⁻¹.
    static let mean = [1.0, -0.5]
    static let cov = [1.0, 0.8, 0.8, 1.2]
    static var precision: [Double] {
        let det = cov[0] * cov[3] - cov[1] * cov[2]
        return [cov[3] / det, -cov[1] / det, -cov[2] / det, cov[0] / det]
    }

    static func matmul2(_ a: [Double], _ b: [Double], transposeB: Bool = false) -> [Double] {
        var out = [Double](repeating: 0, count: 4)
        for i in 0..<2 {
            for j in 0..<2 {
                var s = 0.0
                for k in 0..<2 {
                    let bv: Double = transposeB ? b[j * 2 + k] : b[k * 2 + j]
                    s += a[i * 2 + k] * bv
                }
                out[i * 2 + j] = s
            }
        }
        return out
    }

    /// Jacobi eigenpairs agree with LAPACK and reconstruct the matrix.
    @Test(arguments: [2, 3, 5, 8]) func jacobiEigenMatchesLAPACK(d: Int) throws {
        var rng = Xoshiro256(seed: UInt64(d))
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0...i { let v = rng.nextNormal(); a[i * d + j] = v; a[j * d + i] = v } }
        let (values, vectors) = SmallSymmetricEigen.decompose(a, dimension: d)
        let reference = try Tensor<Double>(shape: [d, d], scalars: a).symmetricEigen()
        #expect(worstMismatch(values, reference.values, rtol: 1e-12, atol: 1e-12) == nil)
        var rebuilt = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<d { rebuilt[i * d + j] += vectors[i * d + k] * values[k] * vectors[j * d + k] } } }
        #expect(worstMismatch(rebuilt, a, rtol: 1e-12, atol: 1e-12) == nil)
    }

    /// Exactness on a Gaussian: the Ozaki step maps x − μ to e^{εH}(x − μ) plus noise of
    /// covariance Σ, and e^{εH} S e^{εH}ᵀ + Σ = S, for small and large ε (deterministic, 1e-10).
    /// ULA's one-step map does not preserve S (the contrast the spec describes).
    @Test(arguments: [0.05, 0.5, 2.0]) func ozakiPreservesGaussianCovarianceExactly(eps: Double) {
        let h = Self.precision.map { -$0 }
        let sampler = OzakiLangevin(rule: .ozaki, stepSize: eps)
        let ops = sampler.operators(hessian: h, dimension: 2)
        var a = Self.matmul2(ops.drift, h)
        a[0] += 1; a[3] += 1
        let (values, vectors) = SmallSymmetricEigen.decompose(h, dimension: 2)
        var expm = [Double](repeating: 0, count: 4)
        for i in 0..<2 { for j in 0..<2 { for k in 0..<2 { expm[i * 2 + j] += vectors[i * 2 + k] * exp(eps * values[k]) * vectors[j * 2 + k] } } }
        #expect(worstMismatch(a, expm, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil, "I + MH ≠ e^{εH}")
        let propagated = Self.matmul2(Self.matmul2(a, Self.cov), a, transposeB: true)
        let noise = Self.matmul2(ops.noise, ops.noise, transposeB: true)
        #expect(worstMismatch(zip(propagated, noise).map { $0 + $1 }, Self.cov, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        // ULA: (I + εH) S (I + εH)ᵀ + 2εI differs from S (measured: by 0.45 % of the largest entry
        // at ε = 0.05; more at larger ε), far beyond rounding.
        var u = h.map { eps * $0 }
        u[0] += 1; u[3] += 1
        let ula = zip(Self.matmul2(Self.matmul2(u, Self.cov), u, transposeB: true), [2 * eps, 0, 0, 2 * eps]).map { $0 + $1 }
        #expect(zip(ula, Self.cov).map { abs($0 - $1) }.max()! > 1e-3 * Self.cov.max()!)
    }

    /// Chains started at the target keep its covariance within 2 % (entries relative to the
    /// largest) after 3 Ozaki steps, for ε ∈ {0.05, 2}. With 100 000 chains a variance estimate has
    /// relative s.e. √(2/n) ≈ 0.45 %, so 2 % is more than 4 standard errors.
    @Test(arguments: [0.05, 2.0]) func ozakiChainsKeepTheTargetCovariance(eps: Double) {
        let n = 100_000
        var rng = Xoshiro256(seed: 17)
        // x = μ + C z with C the Cholesky factor of S.
        let c00 = Self.cov[0].squareRoot(), c10 = Self.cov[2] / c00, c11 = (Self.cov[3] - c10 * c10).squareRoot()
        var x = Tensor<Double>(shape: [n, 2])
        for r in 0..<n {
            let z0 = rng.nextNormal(), z1 = rng.nextNormal()
            x.scalars[2 * r] = Self.mean[0] + c00 * z0
            x.scalars[2 * r + 1] = Self.mean[1] + c10 * z0 + c11 * z1
        }
        let p = Self.precision
        let sampler = OzakiLangevin(rule: .ozaki, stepSize: eps)
        var diverged = [Bool](repeating: false, count: n)
        var hess = Tensor<Double>(shape: [n, 2, 2])
        for r in 0..<n { for k in 0..<4 { hess.scalars[4 * r + k] = -p[k] } }
        for _ in 0..<3 {
            var score = Tensor<Double>(shape: [n, 2])
            for r in 0..<n {
                let d0 = x.scalars[2 * r] - Self.mean[0], d1 = x.scalars[2 * r + 1] - Self.mean[1]
                score.scalars[2 * r] = -(p[0] * d0 + p[1] * d1)
                score.scalars[2 * r + 1] = -(p[2] * d0 + p[3] * d1)
            }
            let noise = Tensor<Double>.randomNormal([n, 2], using: &rng)
            sampler.step(&x, score: score, hessian: hess, noise: noise, diverged: &diverged)
        }
        var m = [0.0, 0.0]
        for r in 0..<n { m[0] += x.scalars[2 * r] / Double(n); m[1] += x.scalars[2 * r + 1] / Double(n) }
        var s = [0.0, 0.0, 0.0, 0.0]
        for r in 0..<n {
            let d0 = x.scalars[2 * r] - m[0], d1 = x.scalars[2 * r + 1] - m[1]
            s[0] += d0 * d0; s[1] += d0 * d1; s[2] += d1 * d0; s[3] += d1 * d1
        }
        s = s.map { $0 / Double(n - 1) }
        let covarianceTolerance = 0.02
        #expect(zip(s, Self.cov).map { abs($0 - $1) }.max()! <= covarianceTolerance * Self.cov.max()!, "ε = \(eps): covariance \(s) vs \(Self.cov)")
        #expect(!diverged.contains(true))
    }

    /// As εH → 0 the Ozaki step is the ULA step with the same noise.
    @Test func ozakiReducesToULA() {
        var rng = Xoshiro256(seed: 3)
        let (n, d, eps) = (50, 3, 0.1)
        let x0 = Tensor<Double>.randomNormal([n, d], using: &rng)
        let score = Tensor<Double>.randomNormal([n, d], using: &rng)
        let noise = Tensor<Double>.randomNormal([n, d], using: &rng)
        var tiny = Tensor<Double>.randomNormal([n, d, d], using: &rng)
        for i in 0..<tiny.count { tiny.scalars[i] *= 1e-9 }
        var xo = x0, xu = x0
        var f1 = [Bool](repeating: false, count: n), f2 = f1
        OzakiLangevin(rule: .ozaki, stepSize: eps).step(&xo, score: score, hessian: tiny, noise: noise, diverged: &f1)
        OzakiLangevin(rule: .ula, stepSize: eps).step(&xu, score: score, noise: noise, diverged: &f2)
        let limitTolerance = 1e-8  // the first neglected term is O(ε²‖H‖) ≈ 1e-11
        #expect(worstMismatch(xo.scalars, xu.scalars, rtol: limitTolerance, atol: limitTolerance) == nil)
    }

    /// For a diagonal H the diagonal Ozaki step equals the full step.
    @Test func diagonalStepEqualsFullStepForDiagonalH() {
        var rng = Xoshiro256(seed: 4)
        let (n, d, eps) = (40, 4, 0.7)
        let x0 = Tensor<Double>.randomNormal([n, d], using: &rng)
        let score = Tensor<Double>.randomNormal([n, d], using: &rng)
        let noise = Tensor<Double>.randomNormal([n, d], using: &rng)
        let diag = Tensor<Double>.randomNormal([n, d], using: &rng)
        var full = Tensor<Double>(shape: [n, d, d])
        for r in 0..<n { for i in 0..<d { full.scalars[r * d * d + i * d + i] = diag.scalars[r * d + i] } }
        var a = x0, b = x0
        var f1 = [Bool](repeating: false, count: n), f2 = f1
        OzakiLangevin(rule: .ozaki, stepSize: eps).step(&a, score: score, hessian: full, noise: noise, diverged: &f1)
        OzakiLangevin(rule: .ozakiDiagonal, stepSize: eps).step(&b, score: score, diagonal: diag, noise: noise, diverged: &f2)
        #expect(worstMismatch(a.scalars, b.scalars, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
    }

    /// Non-finite or out-of-bound updates freeze the chain and flag it; the others move on.
    /// The clamp counts curvatures above h_max and none when off.
    @Test func divergenceAndClamp() {
        var x = Tensor<Double>(shape: [3, 2], scalars: [0, 0, 0, 0, 0, 0])
        let score = Tensor<Double>(shape: [3, 2], scalars: [.nan, 0, 1e9, 0, 1, 1])
        let noise = Tensor<Double>(shape: [3, 2])
        var flags = [false, false, false]
        OzakiLangevin(rule: .ula, stepSize: 0.1, bound: 100).step(&x, score: score, noise: noise, diverged: &flags)
        #expect(flags == [true, true, false])
        #expect(x.scalars[0] == 0 && x.scalars[2] == 0 && abs(x.scalars[4] - 0.1) < 1e-15)
        let h = Tensor<Double>(shape: [3, 2, 2], scalars: [10, 0, 0, -1, 10, 0, 0, -1, 10, 0, 0, -1])
        var y = Tensor<Double>(shape: [3, 2])
        var live = [false, false, false]
        let clamped = OzakiLangevin(rule: .ozaki, stepSize: 0.5, clamp: OzakiLangevin.defaultClamp(stepSize: 0.5))
            .step(&y, score: Tensor(shape: [3, 2]), hessian: h, noise: noise, diverged: &live)
        #expect(clamped == 3)
        var z = Tensor<Double>(shape: [3, 2])
        live = [false, false, false]
        #expect(OzakiLangevin(rule: .ozaki, stepSize: 0.5).step(&z, score: Tensor(shape: [3, 2]), hessian: h, noise: noise, diverged: &live) == 0)
    }
    /// The annealed runner: one level equals plain steps with the same noise stream; the step of
    /// level i is ε(σ_i/σ_L)²; the final Tweedie denoise adds σ_L² s₁.
    @Test func annealedRunner() {
        var rng = Xoshiro256(seed: 21)
        let start = Tensor<Double>.randomNormal([20, 2], using: &rng)
        let p = Self.precision
        let score: (Tensor<Double>) -> Tensor<Double> = { x in
            var s = Tensor<Double>(shape: x.shape)
            for r in 0..<x.rows {
                let d0 = x.scalars[2 * r] - Self.mean[0], d1 = x.scalars[2 * r + 1] - Self.mean[1]
                s.scalars[2 * r] = -(p[0] * d0 + p[1] * d1); s.scalars[2 * r + 1] = -(p[2] * d0 + p[3] * d1)
            }
            return s
        }
        var hess = Tensor<Double>(shape: [20, 2, 2])
        for r in 0..<20 { for k in 0..<4 { hess.scalars[4 * r + k] = -p[k] } }
        // Two levels: the first runs at 4ε when σ_1 = 2σ_2.
        var a = start
        var ra = Xoshiro256(seed: 5)
        let result = OzakiLangevin.annealed(&a, sigmas: [0.2, 0.1], rule: .ozaki, stepSize: 0.05, stepsPerLevel: 3, finalDenoise: true, using: &ra) { x, _ in (score(x), hess) }
        var b = start
        var rb = Xoshiro256(seed: 5)
        var flags = [Bool](repeating: false, count: 20)
        for (eps, n) in [(0.2, 3), (0.05, 3)] {
            for _ in 0..<n {
                let s = score(b)
                OzakiLangevin(rule: .ozaki, stepSize: eps).step(&b, score: s, hessian: hess, noise: Tensor<Double>.randomNormal([20, 2], using: &rb), diverged: &flags)
            }
        }
        let s = score(b)
        for i in 0..<b.count { b.scalars[i] += 0.01 * s.scalars[i] }
        #expect(worstMismatch(a.scalars, b.scalars, rtol: Tolerance.float64Ops, atol: Tolerance.float64Ops) == nil)
        #expect(!result.diverged.contains(true) && result.clamped == 0)
    }
}

/// The Ozaki operators against matrix functions computed without any eigendecomposition: e^{A}
/// by scaling and squaring of a 30-term Taylor series, H⁻¹ by Gauss–Jordan elimination. Covers
/// negative-definite, indefinite and positive-definite H, the Jacobi path (D ≤ 16) and the LAPACK
/// path (D = 20), and step sizes from small to large.
@Suite struct OzakiMatrixFunctionTests {
    static func multiply(_ x: [Double], _ y: [Double], _ n: Int) -> [Double] {
        var z = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n { let xik = x[i * n + k]; for j in 0..<n { z[i * n + j] += xik * y[k * n + j] } } }
        return z
    }

    /// e^{A} by scaling and squaring: A/2^s with ‖A/2^s‖₁ ≤ 1/2, 30 Taylor terms (truncation
    /// < 1e-40 relative), then s squarings.
    static func expm(_ a: [Double], _ n: Int) -> [Double] {
        let norm = (0..<n).map { j in (0..<n).reduce(0.0) { $0 + abs(a[$1 * n + j]) } }.max() ?? 0
        let squarings = norm > 0.5 ? Int(ceil(log2(norm / 0.5))) : 0
        let b = a.map { $0 / pow(2, Double(squarings)) }
        var result = [Double](repeating: 0, count: n * n), term = result
        for i in 0..<n { result[i * n + i] = 1; term[i * n + i] = 1 }
        for k in 1...30 {
            term = multiply(term, b, n).map { $0 / Double(k) }
            for i in result.indices { result[i] += term[i] }
        }
        for _ in 0..<squarings { result = multiply(result, result, n) }
        return result
    }

    /// H⁻¹ by Gauss–Jordan elimination with partial pivoting.
    static func inverse(_ h: [Double], _ n: Int) -> [Double] {
        var a = h, inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0 * n + c]) < abs(a[$1 * n + c]) }!
            for j in 0..<n { a.swapAt(c * n + j, p * n + j); inv.swapAt(c * n + j, p * n + j) }
            let pivot = a[c * n + c]
            for j in 0..<n { a[c * n + j] /= pivot; inv[c * n + j] /= pivot }
            for r in 0..<n where r != c {
                let f = a[r * n + c]
                if f == 0 { continue }
                for j in 0..<n { a[r * n + j] -= f * a[c * n + j]; inv[r * n + j] -= f * inv[c * n + j] }
            }
        }
        return inv
    }

    /// A random symmetric H = Q diag(λ) Qᵀ with prescribed eigenvalues (Q from Gram–Schmidt).
    static func symmetric(eigenvalues: [Double], seed: UInt64) -> [Double] {
        let n = eigenvalues.count
        var rng = Xoshiro256(seed: seed)
        var q = (0..<(n * n)).map { _ in rng.nextNormal() }
        for c in 0..<n {
            for p in 0..<c {
                let dot = (0..<n).reduce(0.0) { $0 + q[$1 * n + c] * q[$1 * n + p] }
                for r in 0..<n { q[r * n + c] -= dot * q[r * n + p] }
            }
            let norm = (0..<n).reduce(0.0) { $0 + q[$1 * n + c] * q[$1 * n + c] }.squareRoot()
            for r in 0..<n { q[r * n + c] /= norm }
        }
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { h[i * n + j] += q[i * n + k] * eigenvalues[k] * q[j * n + k] } } }
        return h
    }

    static let spectra: [String: [Double]] = [
        "negative definite, D = 2": [-80, -0.8],
        "indefinite, D = 2": [-2.3, 0.6],
        "positive definite, D = 3": [0.4, 1.1, 2.5],
        "indefinite, D = 5": [-5, -1.2, -0.3, 0.7, 1.9],
        "indefinite, D = 20 (LAPACK path)": (0..<20).map { -3.0 + 0.27 * Double($0) + 0.013 },
    ]

    @Test(arguments: [0.05, 0.5, 2.0])
    func operatorsEqualMatrixFunctions(eps: Double) {
        // Relative to the largest entry; the exponentials reach e^{2·2·2.5} ≈ 2.2e4 at ε = 2, and
        // rounding in the squarings sets the scale (measured worst 6e-14).
        let relativeTolerance = 1e-11
        for (name, spectrum) in Self.spectra.sorted(by: { $0.key < $1.key }) {
            let n = spectrum.count
            let h = Self.symmetric(eigenvalues: spectrum, seed: UInt64(n))
            let hInverse = Self.inverse(h, n)
            var e1 = Self.expm(h.map { eps * $0 }, n), e2 = Self.expm(h.map { 2 * eps * $0 }, n)
            for i in 0..<n { e1[i * n + i] -= 1; e2[i * n + i] -= 1 }
            let m = Self.multiply(e1, hInverse, n), sigma = Self.multiply(e2, hInverse, n)
            let ops = OzakiLangevin(rule: .ozaki, stepSize: eps).operators(hessian: h, dimension: n)
            let mScale = m.map(abs).max()!, sScale = sigma.map(abs).max()!
            let mError = zip(ops.drift, m).map { abs($0 - $1) }.max()! / mScale
            #expect(mError <= relativeTolerance, "\(name), ε = \(eps): M ≠ (e^{εH} − I)H⁻¹, relative error \(mError)")
            let square = Self.multiply(ops.noise, ops.noise, n)
            let sError = zip(square, sigma).map { abs($0 - $1) }.max()! / sScale
            #expect(sError <= relativeTolerance, "\(name), ε = \(eps): L² ≠ (e^{2εH} − I)H⁻¹, relative error \(sError)")
            // L is the symmetric square root.
            let asymmetry = (0..<n).flatMap { i in (0..<n).map { j in abs(ops.noise[i * n + j] - ops.noise[j * n + i]) } }.max()!
            #expect(asymmetry <= relativeTolerance * sScale.squareRoot(), "\(name), ε = \(eps): L not symmetric")
        }
    }

    /// The reference matrix functions themselves: e^{A}e^{−A} = I and H·H⁻¹ = I.
    @Test func referencesAreConsistent() {
        let h = Self.symmetric(eigenvalues: [-5, -1.2, -0.3, 0.7, 1.9], seed: 5)
        let n = 5
        let product = Self.multiply(Self.expm(h, n), Self.expm(h.map { -$0 }, n), n)
        let identityProduct = Self.multiply(h, Self.inverse(h, n), n)
        for i in 0..<n {
            for j in 0..<n {
                #expect(abs(product[i * n + j] - (i == j ? 1 : 0)) < 1e-10)
                #expect(abs(identityProduct[i * n + j] - (i == j ? 1 : 0)) < 1e-10)
            }
        }
    }
}
