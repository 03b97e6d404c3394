// Annealed Langevin dynamics (heavy-tailed spec §1.7; Song & Ermon 2019):
//
//     for i = 1..L:  repeat T times:  x ← x + ε_i·s(x, σ_i) + sqrt(2ε_i)·scale_i·z
//
// with ε_i = ε·(σ_i/σ_L)² (the released code) or ε_i = ε at every level (the 2-D notebook), and
// the Langevin noise z chosen by option: standard normal (released code; scale 1), or GND(0, √2, β)
// scaled by σ_i (the notebook's Laplace β = 1 and its earlier GND(β_train)). An optional final
// step x ← x + σ_L²·s(x, σ_L) is Tweedie's denoiser (exact only for Gaussian noise).
//
// Chains whose state becomes non-finite, or leaves the box |x_d| ≤ bound, are frozen and
// counted instead of crashing the run (heavy-tailed spec E4).
import TensorCore

/// The noise injected by each Langevin step.
public enum LangevinNoise: Codable, Sendable, Equatable, CustomStringConvertible {
    /// z ~ N(0, I), unscaled: the released code.
    case gaussian
    /// σ_i·u with u ~ GND(0, √2, β): the notebook (β = 1 is its final "Laplace" version).
    case gnd(beta: Double)
    /// z ~ GND(0, √2, β), unscaled: the released image code between Oct and Dec 2021, which drew
    /// z from the training noise law at σ = 1 (α = √2σ; β = 2 is N(0, I), β = 1 a Laplace law of
    /// standard deviation 2).
    case gndUnscaled(beta: Double)

    public var description: String {
        switch self {
        case .gaussian: return "gaussian"
        case .gnd(let b): return b == 1 ? "laplace" : "gnd(\(b))"
        case .gndUnscaled(let b): return "gnd-unscaled(\(b))"
        }
    }
}

/// Settings of annealed Langevin sampling.
public struct AnnealedLangevin: Codable, Sendable {
    public var sigmas: [Double]
    /// ε (the step at σ_L when `rescaleSteps`, else at every level).
    public var stepSize: Double
    public var stepsPerLevel: Int
    /// ε_i = ε·(σ_i/σ_L)² when true; ε at every level when false.
    public var rescaleSteps: Bool
    public var noise: LangevinNoise
    public var finalDenoise: Bool
    /// Chains with any |x_d| beyond this are frozen and counted as diverged.
    public var bound: Double

    public init(sigmas: [Double], stepSize: Double, stepsPerLevel: Int, rescaleSteps: Bool = true,
                noise: LangevinNoise = .gaussian, finalDenoise: Bool = false, bound: Double = 1e6) {
        precondition(!sigmas.isEmpty && stepSize > 0 && stepsPerLevel >= 1, "need levels, a positive step and at least one step")
        self.sigmas = sigmas
        self.stepSize = stepSize
        self.stepsPerLevel = stepsPerLevel
        self.rescaleSteps = rescaleSteps
        self.noise = noise
        self.finalDenoise = finalDenoise
        self.bound = bound
    }

    /// The step at level i.
    public func step(level i: Int) -> Double {
        rescaleSteps ? stepSize * (sigmas[i] / sigmas[sigmas.count - 1]) * (sigmas[i] / sigmas[sigmas.count - 1]) : stepSize
    }

    /// Runs the chains in `x` [N, D] in place.
    /// - Parameters:
    ///   - score: writes s(x, σ_i) [N, D] for the states and level index given.
    ///   - observe: called after every step with (level, step, states, scores), for traces.
    /// - Returns: for each chain, whether it diverged (non-finite or out of bounds; frozen then).
    @discardableResult
    public func run<Scalar: TensorScalar, G: RandomNumberGenerator>(
        _ x: inout Tensor<Scalar>, using rng: inout G,
        score: (Tensor<Scalar>, Int, inout Tensor<Scalar>) -> Void,
        observe: ((Int, Int, Tensor<Scalar>, Tensor<Scalar>) -> Void)? = nil
    ) -> [Bool] {
        let (n, d) = (x.rows, x.columns)
        var s = Tensor<Scalar>(shape: [n, d])
        var diverged = [Bool](repeating: false, count: n)
        for i in sigmas.indices {
            let eps = step(level: i)
            let noiseScale: Double
            let law: GeneralizedNormal?
            switch noise {
            case .gaussian:
                noiseScale = (2 * eps).squareRoot(); law = nil
            case .gnd(let b):
                noiseScale = (2 * eps).squareRoot() * sigmas[i]; law = GeneralizedNormal(alpha: 2.0.squareRoot(), beta: b)
            case .gndUnscaled(let b):
                noiseScale = (2 * eps).squareRoot(); law = GeneralizedNormal(alpha: 2.0.squareRoot(), beta: b)
            }
            for t in 0..<stepsPerLevel {
                score(x, i, &s)
                for r in 0..<n where !diverged[r] {
                    var bad = false
                    for c in 0..<d {
                        let z = law?.sample(using: &rng) ?? rng.nextNormal()
                        let v = x.scalars[r * d + c] + Scalar(eps) * s.scalars[r * d + c] + Scalar(noiseScale * z)
                        x.scalars[r * d + c] = v
                        if !v.isFinite || abs(Double(v)) > bound { bad = true }
                    }
                    if bad { diverged[r] = true }
                }
                observe?(i, t, x, s)
            }
        }
        if finalDenoise {
            let last = sigmas.count - 1
            score(x, last, &s)
            let s2 = Scalar(sigmas[last] * sigmas[last])
            for r in 0..<n where !diverged[r] { for c in 0..<d { x.scalars[r * d + c] += s2 * s.scalars[r * d + c] } }
        }
        return diverged
    }
}
