// The exact law of the unit-scale noise norm R = ‖ε‖₂, ε ~ GND(0, α(σ = 1), β)^D, as a CDF
// (issue 30, HT-C4): overlaps and quantile bands under it carry no Monte Carlo error, and it can
// draw norms by inversion (the same law as the norms of drawn GND vectors, at a cost independent
// of D).
//
// Method. S = R² = Σ_d X_d² is a sum of D i.i.d. copies of Y = X². With m = E Y, v = Var Y and
// Z = (S − Dm)/√(Dv), the characteristic function is φ_Z(u) = ψ(u/√(Dv))^D with
// ψ(t) = E e^{it(Y − m)}, a 1-D integral over y = |X|/α (composite 8-point Gauss–Legendre on
// panels of width 0.05 up to y^β = 60, density (β/Γ(1/β)) e^{−y^β}). φ_Z is formed as
// exp(D·(log|ψ| + i·arg ψ)) with arg ψ the principal value (continuous while |arg ψ| < π, which
// holds wherever |ψ|^D is not negligible for D ≥ 16). The CDF follows from Gil-Pelaez,
//
//     F_Z(z) = 1/2 − (1/π) ∫₀^∞ Im[φ_Z(u) e^{−iuz}] / u du,
//
// by the trapezoid rule with step h = 0.05 (its error is the law's mass beyond 2π/h ≈ 126
// standard deviations, negligible here) up to the u where |φ_Z| < 1e-16; the u = 0 term is its
// limit −z. F_R(r) = F_Z((r² − Dm)/√(Dv)). Known answers (tests): β = 2 gives χ²_D exactly.
import TensorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact law of R = ‖ε‖₂ for D i.i.d. GND(0, α(σ = 1), β) coordinates.
public struct NoiseNormExactLaw: Sendable {
    public let beta: Double
    public let dimension: Int
    /// Mean Dm and standard deviation √(Dv) of S = R².
    public let meanS: Double, sdS: Double
    /// Gil-Pelaez nodes u_k = k·h (k ≥ 1) and φ_Z(u_k) (real and imaginary parts).
    let step: Double
    let phiRe: [Double], phiIm: [Double]
    /// Inversion table: standardised z on a grid and F_Z there (non-decreasing).
    let tableZ: [Double], tableF: [Double]

    /// Precomputes φ_Z on the Gil-Pelaez grid and an inversion table of F_Z.
    /// - Precondition: D ≥ 16 (the principal-argument construction of φ_Z needs a few terms).
    public init(beta: Double, dimension: Int, convention: GNDScaleConvention = .codeConvention) {
        precondition(dimension >= 16, "the exact norm law is built for D ≥ 16, got \(dimension)")
        self.beta = beta
        self.dimension = dimension
        let gnd = GeneralizedNormal(sigma: 1, beta: beta, convention: convention)
        let a2 = gnd.alpha * gnd.alpha
        let m = gnd.absoluteMoment(2), v = gnd.absoluteMoment(4) - m * m
        let d = Double(dimension)
        meanS = d * m
        sdS = (d * v).squareRoot()
        // Gauss–Legendre nodes on [0, 1], 8 points.
        let gl: [(Double, Double)] = [(0.0198550717512319, 0.0506142681451881), (0.1016667612931866, 0.1111905172266872),
                                      (0.2372337950418355, 0.1568533229389436), (0.4082826787521751, 0.1813418916891810),
                                      (0.5917173212478249, 0.1813418916891810), (0.7627662049581645, 0.1568533229389436),
                                      (0.8983332387068134, 0.1111905172266872), (0.9801449282487681, 0.0506142681451881)]
        let yMax = pow(60.0, 1 / beta), panel = 0.05
        let norm = beta * exp(-lgamma(1 / beta))
        var yc: [Double] = [], wc: [Double] = []  // centred Y − m and weights
        var p = 0.0
        while p < yMax {
            for (x, w) in gl {
                let y = p + panel * x
                yc.append(a2 * y * y - m)
                wc.append(norm * exp(-pow(y, beta)) * panel * w)
            }
            p += panel
        }
        let h = 0.05
        step = h
        var re: [Double] = [], im: [Double] = []
        var k = 1
        while k <= 4_000 {
            let t = Double(k) * h / sdS
            var cr = 0.0, ci = 0.0
            for j in 0..<yc.count { cr += wc[j] * cos(t * yc[j]); ci += wc[j] * sin(t * yc[j]) }
            let logModulus = d * 0.5 * log(cr * cr + ci * ci), phase = d * atan2(ci, cr)
            let modulus = exp(logModulus)
            re.append(modulus * cos(phase)); im.append(modulus * sin(phase))
            if logModulus < -37 { break }  // |φ_Z| < 1e-16
            k += 1
        }
        phiRe = re
        phiIm = im
        // Inversion table over z ∈ [max(−Dm/√(Dv), −40), 80], step 0.004, made monotone.
        var zs: [Double] = [], fs: [Double] = []
        let zLow = max(-meanS / sdS, -40.0), zStep = 0.004
        var z = zLow, running = 0.0
        while z <= 80 {
            running = max(running, min(1, max(0, NoiseNormExactLaw.gilPelaez(z, step: h, re: re, im: im))))
            zs.append(z); fs.append(running)
            z += zStep
        }
        tableZ = zs
        tableF = fs
    }

    static func gilPelaez(_ z: Double, step h: Double, re: [Double], im: [Double]) -> Double {
        var sum = -0.5 * z  // the u = 0 term, half weight: lim Im[φ e^{−iuz}]/u = E Z − z = −z
        for k in 0..<re.count {
            let u = Double(k + 1) * h
            // Im[(re + i im)(cos uz − i sin uz)] = im·cos(uz) − re·sin(uz)
            sum += (im[k] * cos(u * z) - re[k] * sin(u * z)) / u
        }
        return 0.5 - h * sum / Double.pi
    }

    /// F_S(s) = P(R² ≤ s), by Gil-Pelaez (not the table).
    public func cdfSquared(_ s: Double) -> Double {
        guard s > 0 else { return 0 }
        return min(1, max(0, NoiseNormExactLaw.gilPelaez((s - meanS) / sdS, step: step, re: phiRe, im: phiIm)))
    }

    /// F_R(r) = P(R ≤ r).
    public func cdf(_ r: Double) -> Double { r <= 0 ? 0 : cdfSquared(r * r) }

    /// The quantile of R at probability p ∈ (0, 1), by bisection on the CDF (to 1e-12 relative).
    public func quantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "quantile needs p in (0, 1), got \(p)")
        var lo = 0.0, hi = (meanS + 100 * sdS).squareRoot()
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if cdf(mid) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return 0.5 * (lo + hi)
    }

    /// The exact quantile band [Q(Φ(−k)), Q(Φ(k))] of R.
    public func quantileBand(halfWidth k: Double) -> (lower: Double, upper: Double) {
        let p = 0.5 * erfc(k / 2.0.squareRoot())
        return (quantile(p), quantile(1 - p))
    }

    /// P(level-i norm in the band of level i − 1) for ratio γ: F_R(γ·upper) − F_R(γ·lower).
    public func overlap(ratio gamma: Double, band: (lower: Double, upper: Double)) -> Double {
        cdf(gamma * band.upper) - cdf(gamma * max(band.lower, 0))
    }

    /// `count` draws of R by inversion of the tabulated F_Z (linear interpolation), sorted: the
    /// same law as the norms of `count` drawn GND vectors.
    public func sampleNorms<G: RandomNumberGenerator>(_ count: Int, using rng: inout G) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let u = Double(rng.next() >> 11) * 0x1p-53
            // First index with F ≥ u.
            var lo = 0, hi = tableF.count - 1
            while lo < hi { let mid = (lo + hi) / 2; if tableF[mid] < u { lo = mid + 1 } else { hi = mid } }
            let z: Double
            if lo == 0 { z = tableZ[0] } else {
                let f0 = tableF[lo - 1], f1 = tableF[lo]
                z = tableZ[lo - 1] + (f1 > f0 ? (u - f0) / (f1 - f0) : 0) * (tableZ[lo] - tableZ[lo - 1])
            }
            out[i] = max(0, meanS + z * sdS).squareRoot()
        }
        out.sort()
        return out
    }
}

extension NoiseNormLaw {
    /// A law from given norm draws (e.g. `NoiseNormExactLaw.sampleNorms`).
    public init(beta: Double, dimension: Int, norms: [Double]) {
        precondition(norms.count >= 2, "need at least 2 norms")
        self.init(beta: beta, dimension: dimension, sortedNormsUnchecked: norms.sorted())
    }
}
