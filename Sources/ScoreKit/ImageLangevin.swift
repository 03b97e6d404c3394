// Langevin samplers for batches of image chains, driven by a batch score closure: one call (one
// network forward) serves every chain of the batch. The maths is that of `AnnealedLangevin`
// (NCSNv2's rule ε_i = ε·σ_i²/σ_L², Gaussian or GND(0, √2, β)·σ_i Langevin noise, the final
// Tweedie denoise x + σ_L² s(x, σ_L)) and of `OzakiLangevin` (ULA and diagonal-Ozaki steps with
// f₁(h) = expm1(εh)/h, f₂(h) = expm1(2εh)/h); this file reuses their settings and scalar maps and
// adds what image experiments need on top:
//
//   - any tensor shape [N, ...] (a chain is a row of the matrix view: [N, C, H, W] works) and any
//     scalar type (networks run in Float);
//   - per-chain noise streams (`ChainNoise`): chain c draws from Xoshiro256(seed, key: [c]), so its
//     noise does not depend on the batch it runs in, on how many chains run, or on other chains'
//     GND rejection draws. Runs that differ only in the model (e.g. β arms paired by seed) see the
//     same noise (common random numbers), and 5000 samples in batches of 500 equal one batch;
//   - divergence accounting: a chain whose proposed state has a non-finite value or a value beyond
//     ±bound is frozen at its last good state, its step recorded, and it is skipped afterwards
//     (its score is still computed with the batch; its noise is not drawn).
import TensorCore

/// Independent noise streams, one per chain.
public struct ChainNoise: Sendable {
    /// The generator of each chain of the batch, in chain order.
    public var generators: [Xoshiro256]
    /// The global index of the batch's first chain.
    public let firstChain: Int

    /// Streams for chains firstChain ..< firstChain + count of `seed`.
    public init(seed: UInt64, count: Int, firstChain: Int = 0) {
        precondition(count >= 0 && firstChain >= 0, "chain noise: negative count or first chain")
        self.firstChain = firstChain
        self.generators = (0..<count).map { Xoshiro256(seed: seed, key: [UInt64(firstChain + $0)]) }
    }

    /// Overwrites row r of `noise` ([N, ...], N = generators.count) with i.i.d. draws from chain
    /// r's stream: standard normal when `law` is nil, else draws of `law`. Rows with
    /// `skip[r] == true` are left untouched and their streams not advanced.
    public mutating func fill<S: TensorScalar>(_ noise: inout Tensor<S>, law: GeneralizedNormal? = nil, skip: [Bool]? = nil) {
        let (n, d) = (noise.rows, noise.columns)
        precondition(n == generators.count, "chain noise: \(n) rows for \(generators.count) streams")
        noise.withUnsafeMutableBufferPointer { p in
            for r in 0..<n where !(skip?[r] ?? false) {
                let base = r * d
                if let law {
                    for k in 0..<d { p[base + k] = S(law.sample(using: &generators[r])) }
                } else {
                    var k = 0
                    while k + 1 < d {
                        let (a, b) = generators[r].nextNormalPair()
                        p[base + k] = S(a)
                        p[base + k + 1] = S(b)
                        k += 2
                    }
                    if k < d { p[base + k] = S(generators[r].nextNormal()) }
                }
            }
        }
    }
}

/// Which chains diverged, and when.
public struct ChainDivergence: Codable, Sendable, Equatable {
    /// Per chain: the global step count (0-based over all levels) at which it was frozen, or nil.
    public var frozenAtStep: [Int?]

    /// No chain diverged yet.
    public init(chains: Int) { frozenAtStep = [Int?](repeating: nil, count: chains) }

    /// Per chain, whether it diverged.
    public var diverged: [Bool] { frozenAtStep.map { $0 != nil } }
    /// How many chains diverged.
    public var count: Int { frozenAtStep.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

extension AnnealedLangevin {
    /// Runs the chains in `x` ([N, ...], one chain per row of the matrix view) in place.
    ///
    ///     for i = 1..L, T times:  x ← x + ε_i s(x, σ_i) + sqrt(2ε_i)·z,  z ~ N(0, I) or GND(0, √2, β)
    ///                          or x ← x + ε_i s(x, σ_i) + sqrt(2ε_i)·σ_i·u, u ~ GND(0, √2, β)
    ///     then, if finalDenoise: x ← x + σ_L² s(x, σ_L)
    ///
    /// - Parameters:
    ///   - noise: the chains' noise streams (one per row of `x`).
    ///   - score: writes s(x, σ_i) (same shape as x) for the batch and level index i.
    ///   - observe: after every step, (level, step within level, states); frozen rows hold their
    ///     last good state.
    /// - Returns: the divergence record (steps counted over all levels; the final denoise is step
    ///   L·T).
    @discardableResult
    public func runBatch<Scalar: TensorScalar>(
        _ x: inout Tensor<Scalar>, noise: inout ChainNoise,
        score: (Tensor<Scalar>, Int, inout Tensor<Scalar>) throws -> Void,
        observe: ((Int, Int, Tensor<Scalar>) -> Void)? = nil
    ) rethrows -> ChainDivergence {
        let (n, d) = (x.rows, x.columns)
        precondition(noise.generators.count == n, "annealed Langevin: \(noise.generators.count) noise streams for \(n) chains")
        var s = Tensor<Scalar>(shape: x.shape)
        var z = Tensor<Scalar>(shape: x.shape)
        var divergence = ChainDivergence(chains: n)
        var next = [Scalar](repeating: 0, count: d)
        var globalStep = 0
        let law: GeneralizedNormal?
        var scaledBySigma = false
        switch self.noise {
        case .gaussian: law = nil
        case .gnd(let b): law = GeneralizedNormal(alpha: 2.0.squareRoot(), beta: b); scaledBySigma = true
        case .gndUnscaled(let b): law = GeneralizedNormal(alpha: 2.0.squareRoot(), beta: b)
        }
        for i in sigmas.indices {
            let eps = step(level: i)
            let noiseScale: Double = scaledBySigma ? (2 * eps).squareRoot() * sigmas[i] : (2 * eps).squareRoot()
            for t in 0..<stepsPerLevel {
                try score(x, i, &s)
                let frozen = divergence.diverged
                noise.fill(&z, law: law, skip: frozen)
                for r in 0..<n where !frozen[r] {
                    let base = r * d
                    for k in 0..<d {
                        next[k] = x.scalars[base + k] + Scalar(eps) * s.scalars[base + k] + Scalar(noiseScale) * z.scalars[base + k]
                    }
                    accept(next, row: r, into: &x, step: globalStep, divergence: &divergence)
                }
                observe?(i, t, x)
                globalStep += 1
            }
        }
        if finalDenoise {
            let last = sigmas.count - 1
            try score(x, last, &s)
            let s2 = Scalar(sigmas[last] * sigmas[last])
            let frozen = divergence.diverged
            for r in 0..<n where !frozen[r] {
                for k in 0..<d { next[k] = x.scalars[r * d + k] + s2 * s.scalars[r * d + k] }
                accept(next, row: r, into: &x, step: globalStep, divergence: &divergence)
            }
        }
        return divergence
    }

    /// Writes `next` into row r of x if it is finite and within ±bound; freezes the chain otherwise.
    private func accept<Scalar: TensorScalar>(_ next: [Scalar], row r: Int, into x: inout Tensor<Scalar>, step: Int,
                                              divergence: inout ChainDivergence) {
        if next.allSatisfy({ $0.isFinite && abs(Double($0)) <= bound }) {
            let d = next.count
            for k in 0..<d { x.scalars[r * d + k] = next[k] }
        } else {
            divergence.frozenAtStep[r] = step
        }
    }
}

extension OzakiLangevin {
    /// One ULA or diagonal-Ozaki step at a single noise level for chains of any shape [N, ...] and
    /// scalar type (coefficients in Double):
    ///
    ///     ULA:            x ← x + ε s₁ + sqrt(2ε) ξ
    ///     diagonal Ozaki: x ← x + f₁(h) s₁ + sqrt(f₂(h)) ξ,  h = diag(s₂) per pixel (clamped to
    ///                     `clamp` if set)
    ///
    /// - Parameters:
    ///   - score: s₁ at x, shape of x.
    ///   - diagonal: diag(s₂) at x, shape of x (`.ozakiDiagonal` only).
    ///   - noise: ξ ~ N(0, I), shape of x (pass the same ξ to compare samplers on shared noise).
    ///   - divergence: frozen chains stay frozen; chains whose update is non-finite or leaves
    ///     ±bound are frozen at their current state with `step` recorded.
    /// - Returns: the number of clamped curvatures.
    /// - Precondition: the rule is `.ula` or `.ozakiDiagonal` (the full-s₂ rule needs [N, D, D]).
    @discardableResult
    public func stepImages<Scalar: TensorScalar>(
        _ x: inout Tensor<Scalar>, score: Tensor<Scalar>, diagonal: Tensor<Scalar>? = nil, noise: Tensor<Scalar>,
        divergence: inout ChainDivergence, step: Int = 0
    ) -> Int {
        let (n, d) = (x.rows, x.columns)
        precondition(rule != .ozaki, "stepImages: the full-s₂ Ozaki rule needs OzakiLangevin.step with [N, D, D] curvatures")
        precondition(score.count == x.count && noise.count == x.count,
                     "Langevin step: score \(score.shape) and noise \(noise.shape) must match x \(x.shape)")
        precondition(divergence.frozenAtStep.count == n, "Langevin step: \(divergence.frozenAtStep.count) divergence entries for \(n) chains")
        if rule == .ozakiDiagonal {
            precondition(diagonal?.count == x.count, "diagonal Ozaki needs diag(s₂) of the shape of x \(x.shape)")
        }
        let eps = stepSize
        let ulaNoise = (2 * eps).squareRoot()
        var clamped = 0
        var next = [Scalar](repeating: 0, count: d)
        for r in 0..<n where divergence.frozenAtStep[r] == nil {
            let base = r * d
            var ok = true
            for k in 0..<d {
                let xv = Double(x.scalars[base + k]), sv = Double(score.scalars[base + k]), zv = Double(noise.scalars[base + k])
                let v: Double
                if rule == .ula {
                    v = xv + eps * sv + ulaNoise * zv
                } else {
                    var h = Double(diagonal!.scalars[base + k])
                    if let c = clamp, h > c { h = c; clamped += 1 }
                    v = xv + Self.drift(h, eps) * sv + Self.diffusion(h, eps).squareRoot() * zv
                }
                next[k] = Scalar(v)
                if !(next[k].isFinite && abs(v) <= bound) { ok = false }
            }
            if ok {
                for k in 0..<d { x.scalars[base + k] = next[k] }
            } else {
                divergence.frozenAtStep[r] = step
            }
        }
        return clamped
    }
}
