// First- and second-order denoising score matching as functions of network OUTPUTS (high-order
// spec §1.3–§1.6, §1.8–§1.10). ScoreKit has no networks: callers evaluate s̃₁ and the s̃₂ head,
// pass their outputs here, and back-propagate the returned output gradients.
//
// Notation (x̃ = x + σz, one fixed σ): T = (zzᵀ − I)/σ², the regression target of
// ψ = s̃₂ + s̃₁s̃₁ᵀ by Tweedie's second-moment identity E[T | x̃] = s₂ + s₁s₁ᵀ.
//
// * First order: plain DSM ‖s̃₁(x̃) + z/σ‖² and DSM-VR ‖s̃₁(x̃) + z/σ‖² − 2 s̃₁(x)·z/σ − ‖z‖²/σ²
//   (§1.6: a control variate evaluated at the clean x), summed over coordinates, batch mean.
// * Form A (the released code's): per sample ‖ψ‖² − 2⟨ψ, T⟩, i.e. ‖ψ − T‖² without the
//   parameter-free ‖T‖², batch mean, then ÷ 2.
// * Form B (Lu et al. 2022's covariance form): per sample ‖s̃₂ − (eeᵀ − I/σ²)‖² with
//   e = z/σ + s̃₁(x̃), again without its s̃₂-free part, batch mean, ÷ 2. It trains s̃₂ only: s̃₁
//   enters as a fixed input (detached); joint training of s̃₁ uses form A.
// * Variance reduction (§1.6): the antithetic pair x ± σz shares T (T is even in z).
//   Form A-VR per sample: ½[ℓ(ψ₊) + ℓ(ψ₋)] + 2⟨T, ψ₀⟩ with ψ₀ = ψ at the clean x; the last term
//   has mean zero (ψ₀ does not depend on z, E[T] = 0) and cancels the 1/σ² part of the first,
//   since ψ₊ + ψ₋ − 2ψ₀ = O(σ²).
//   Form B-VR [DERIV, ours; not in the spec or code]: ½[ℓ_B(x₊, e₊) + ℓ_B(x₋, e₋)] with
//   e± = ±z/σ + s̃₁(x±), plus 2⟨s̃₂(x), T⟩. Expanding e eᵀ, the 1/σ² part of −2⟨s̃₂, eeᵀ⟩ +
//   2⟨s̃₂, I⟩/σ² is −2⟨s̃₂, T⟩, which the clean-point term cancels to O(1) as in form A; the
//   1/σ part (−4 s̃₁ᵀ s̃₂ z/σ) is odd in z and cancels between the pair to O(1). Every added term
//   has mean zero, so the VR losses have the plain losses' expectation (tested by Monte Carlo).
// * The diagonal-only variant of §1.10 for diagonal heads: Σ_i (d_i + s̃₁,i² − (z_i² − 1)/σ²)².
//
// Cheap exact evaluation (§1.10). With ψ = AAᵀ + diag(d), A = [U | s̃₁] (form A; A = U for
// form B), every loss here is q‖ψ‖² + a⟨ψ, vvᵀ⟩ + b⟨ψ, I⟩ per sample for scalars q, a, b and a
// vector v, and
//     ‖ψ‖² = ‖AᵀA‖² + 2 Σ_i d_i ‖A_i‖² + Σ_i d_i²,  ⟨ψ, vvᵀ⟩ = ‖Aᵀv‖² + Σ_i d_i v_i²,
//     ⟨ψ, I⟩ = ‖A‖² + Σ_i d_i,
// with gradients ∂/∂A = q(4AAᵀA + 4 diag(d)A) + 2a v(vᵀA) + 2bA and
// ∂/∂d_i = q(2‖A_i‖² + 2d_i) + a v_i² + b: O(D k²) per sample, k = r + 1, never D×D. The full
// head (D ≤ a few tens) uses the dense form with S = ½(M + Mᵀ).
import TensorCore

/// How the s̃₂ head's output row encodes the matrix (high-order spec §1.8).
public enum SecondOrderStructure: Codable, Sendable, Equatable, CustomStringConvertible {
    /// D² numbers M (row-major); s̃₂ = ½(M + Mᵀ).
    case full
    /// D numbers d; s̃₂ = diag(d).
    case diagonal
    /// D·r numbers for U followed by D for d; s̃₂ = UUᵀ + diag(d). As in the released code, the
    /// first D·r numbers are r maps of length D, map k being column k of U: U_{i,k} = out[k·D + i].
    case lowRank(rank: Int)

    /// The head's output width for dimension D.
    public func width(dimension d: Int) -> Int {
        switch self {
        case .full: return d * d
        case .diagonal: return d
        case .lowRank(let r): return d * r + d
        }
    }

    /// The rank r of the U factor (0 for diagonal and full).
    public var rank: Int { if case .lowRank(let r) = self { return r } else { return 0 } }

    public var description: String {
        switch self {
        case .full: return "full"
        case .diagonal: return "diagonal"
        case .lowRank(let r): return "low-rank r=\(r) + diagonal"
        }
    }
}

/// Which second-order objective (high-order spec §1.4).
public enum SecondOrderForm: String, Codable, Sendable, CaseIterable {
    /// Moment form ‖s̃₂ + s̃₁s̃₁ᵀ − (zzᵀ − I)/σ²‖² (the released code's).
    case a = "A"
    /// Covariance form ‖s̃₂ − (eeᵀ − I/σ²)‖², e = z/σ + s̃₁ (s̃₁ detached).
    case b = "B"
}

/// First-order DSM and second-order DSM (D2SM) on network outputs at one noise level σ.
///
/// Every loss returns its value and writes gradients with respect to the outputs it was given
/// (same shapes), already including the batch mean and the overall `scale`, so callers pass
/// them straight to the networks' backward passes.
public struct SecondOrderDSM: Sendable {
    public let dimension: Int
    public let sigma: Double
    public let structure: SecondOrderStructure
    public let form: SecondOrderForm
    /// Multiplies every second-order loss and gradient (e.g. σ⁴, the spec's pilot convention that
    /// regresses σ²ψ onto zzᵀ − I; 1 reproduces the released code's values).
    public let scale: Double
    /// The §1.10 "diagonal-only" variant (diagonal structure, form A only).
    public let diagonalOnly: Bool

    /// - Precondition: σ > 0, D ≥ 1, rank ≥ 1 for low-rank heads, diagonal-only only with a
    ///   diagonal head and form A.
    public init(dimension: Int, sigma: Double, structure: SecondOrderStructure, form: SecondOrderForm = .a,
                scale: Double = 1, diagonalOnly: Bool = false) {
        precondition(dimension >= 1, "D2SM needs D ≥ 1, got \(dimension)")
        precondition(sigma > 0 && sigma.isFinite, "D2SM needs σ > 0, got \(sigma)")
        if case .lowRank(let r) = structure { precondition(r >= 1, "a low-rank head needs rank ≥ 1, got \(r)") }
        precondition(!diagonalOnly || (structure == .diagonal && form == .a), "the diagonal-only variant needs a diagonal head and form A")
        self.dimension = dimension
        self.sigma = sigma
        self.structure = structure
        self.form = form
        self.scale = scale
        self.diagonalOnly = diagonalOnly
    }

    // MARK: - First order

    /// Plain DSM: (1/B) Σ_b ‖s̃₁(x̃_b) + z_b/σ‖². Writes ∂/∂s̃₁ into `dScore`.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func firstOrderLoss<S: TensorScalar>(score: Tensor<S>, noise z: Tensor<S>, sigma: Double,
                                                      dScore: inout Tensor<S>) -> Double {
        precondition(score.shape == z.shape && score.rank == 2, "first-order DSM: score \(score.shape) and noise \(z.shape) must both be [B, D]")
        if dScore.shape != score.shape { dScore = Tensor(shape: score.shape) }
        let n = score.count, b = Double(score.rows), inv = 1 / sigma
        var total = 0.0
        score.withUnsafeBufferPointer { s in
            z.withUnsafeBufferPointer { zz in
                dScore.withUnsafeMutableBufferPointer { g in
                    for i in 0..<n {
                        let r = Double(s[i]) + Double(zz[i]) * inv
                        total += r * r
                        g[i] = S(2 * r / b)
                    }
                }
            }
        }
        return total / b
    }

    /// DSM-VR (§1.6): (1/B) Σ_b [‖s̃₁(x̃_b) + z_b/σ‖² − 2 s̃₁(x_b)·z_b/σ − ‖z_b‖²/σ²], with the clean
    /// outputs s̃₁(x_b). Writes ∂/∂s̃₁(x̃) into `dScore` and ∂/∂s̃₁(x) into `dCleanScore`.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func firstOrderLossVR<S: TensorScalar>(score: Tensor<S>, cleanScore: Tensor<S>, noise z: Tensor<S>, sigma: Double,
                                                        dScore: inout Tensor<S>, dCleanScore: inout Tensor<S>) -> Double {
        precondition(cleanScore.shape == score.shape, "DSM-VR: clean score \(cleanScore.shape) must match \(score.shape)")
        var total = firstOrderLoss(score: score, noise: z, sigma: sigma, dScore: &dScore)
        if dCleanScore.shape != score.shape { dCleanScore = Tensor(shape: score.shape) }
        let n = score.count, b = Double(score.rows), inv = 1 / sigma
        var cv = 0.0
        cleanScore.withUnsafeBufferPointer { c in
            z.withUnsafeBufferPointer { zz in
                dCleanScore.withUnsafeMutableBufferPointer { g in
                    for i in 0..<n {
                        let zi = Double(zz[i])
                        cv += 2 * Double(c[i]) * zi * inv + zi * zi * inv * inv
                        g[i] = S(-2 * zi * inv / b)
                    }
                }
            }
        }
        total -= cv / b
        return total
    }

    // MARK: - Second order

    /// Plain D2SM: (scale/2)(1/B) Σ_b ℓ_b (form A or B, see the type's docs).
    /// - Parameters:
    ///   - head: the s̃₂ head's outputs [B, width]; score: s̃₁(x̃) [B, D]; noise: z [B, D].
    ///   - dHead: receives ∂/∂head.
    ///   - dScore: receives ∂/∂s̃₁(x̃) when non-nil (form A; zero for form B, whose s̃₁ is detached).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func loss<S: TensorScalar>(head: Tensor<S>, score: Tensor<S>, noise z: Tensor<S>,
                                      dHead: inout Tensor<S>, dScore: inout Tensor<S>?) -> Double {
        let rows = checkShapes(head: head, score: score, noise: z)
        prepare(&dHead, like: head)
        if dScore != nil { prepare(&dScore!, like: score) }
        let weight = scale / (2 * Double(rows))
        var total = 0.0
        let s2 = 1 / (sigma * sigma)
        var work = Workspace(dimension: dimension, structure: structure)
        for r in 0..<rows {
            work.load(head: head, score: score, noise: z, row: r, form: form, sigma: sigma)
            if diagonalOnly {
                total += work.diagonalOnly(sigmaSquaredInverse: s2, weight: weight)
            } else {
                switch form {
                case .a: total += work.evaluate(q: 1, a: -2 * s2, b: 2 * s2, vector: .noise, weight: weight)
                case .b: total += work.evaluate(q: 1, a: -2, b: 2 * s2, vector: .e, weight: weight)
                }
            }
            work.store(dHead: &dHead, dScore: &dScore, row: r, form: form)
        }
        return total * weight
    }

    /// D2SM-VR: (scale/2)(1/B) Σ_b {½[ℓ(x̃₊) + ℓ(x̃₋)] + 2⟨T, ψ₀⟩} with x̃± = x ± σz and ψ₀ at the
    /// clean x (form A), or the form-B analogue (see the type's docs). Three evaluations of both
    /// networks per sample; gradients for each.
    /// - Parameters:
    ///   - plus/minus/clean: (head, s̃₁) outputs at x + σz, x − σz and x.
    ///   - noise: z [B, D] (the pair uses +z and −z).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func lossVR<S: TensorScalar>(plus: (head: Tensor<S>, score: Tensor<S>), minus: (head: Tensor<S>, score: Tensor<S>),
                                        clean: (head: Tensor<S>, score: Tensor<S>), noise z: Tensor<S>,
                                        dPlus: inout (head: Tensor<S>, score: Tensor<S>?), dMinus: inout (head: Tensor<S>, score: Tensor<S>?),
                                        dClean: inout (head: Tensor<S>, score: Tensor<S>?)) -> Double {
        precondition(!diagonalOnly, "the diagonal-only variant has no VR form here")
        let rows = checkShapes(head: plus.head, score: plus.score, noise: z)
        _ = checkShapes(head: minus.head, score: minus.score, noise: z)
        _ = checkShapes(head: clean.head, score: clean.score, noise: z)
        prepare(&dPlus.head, like: plus.head)
        prepare(&dMinus.head, like: minus.head)
        prepare(&dClean.head, like: clean.head)
        if dPlus.score != nil { prepare(&dPlus.score!, like: plus.score) }
        if dMinus.score != nil { prepare(&dMinus.score!, like: minus.score) }
        if dClean.score != nil { prepare(&dClean.score!, like: clean.score) }
        let weight = scale / (2 * Double(rows))
        let s2 = 1 / (sigma * sigma)
        var negated = z
        negated.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = -p[i] } }
        var work = Workspace(dimension: dimension, structure: structure)
        var total = 0.0
        for r in 0..<rows {
            // ½ ℓ at x + σz (noise +z) and at x − σz (noise −z; T is even, e₋ uses −z).
            work.load(head: plus.head, score: plus.score, noise: z, row: r, form: form, sigma: sigma)
            total += form == .a ? work.evaluate(q: 0.5, a: -s2, b: s2, vector: .noise, weight: weight)
                                : work.evaluate(q: 0.5, a: -1, b: s2, vector: .e, weight: weight)
            work.store(dHead: &dPlus.head, dScore: &dPlus.score, row: r, form: form)
            work.load(head: minus.head, score: minus.score, noise: negated, row: r, form: form, sigma: sigma)
            total += form == .a ? work.evaluate(q: 0.5, a: -s2, b: s2, vector: .noise, weight: weight)
                                : work.evaluate(q: 0.5, a: -1, b: s2, vector: .e, weight: weight)
            work.store(dHead: &dMinus.head, dScore: &dMinus.score, row: r, form: form)
            // + 2⟨T, ψ₀⟩ (form A: ψ₀ = s̃₂(x) + s̃₁(x)s̃₁(x)ᵀ; form B: s̃₂(x) only).
            work.load(head: clean.head, score: clean.score, noise: z, row: r, form: form, sigma: sigma)
            total += work.evaluate(q: 0, a: 2 * s2, b: -2 * s2, vector: .noise, weight: weight)
            work.store(dHead: &dClean.head, dScore: &dClean.score, row: r, form: form)
        }
        return total * weight
    }

    /// Dense [B, D, D] s̃₂ matrices from head outputs (for error metrics and Ozaki steps).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func matrices<S: TensorScalar>(head: Tensor<S>) -> Tensor<Double> {
        let d = dimension, w = structure.width(dimension: d)
        precondition(head.rank == 2 && head.columns == w, "D2SM head has shape \(head.shape), expected [B, \(w)]")
        let rows = head.rows
        var out = Tensor<Double>(shape: [rows, d, d])
        head.withUnsafeBufferPointer { h in
            out.withUnsafeMutableBufferPointer { o in
                for b in 0..<rows {
                    let hb = h.baseAddress! + b * w, ob = o.baseAddress! + b * d * d
                    switch structure {
                    case .full:
                        for i in 0..<d { for j in 0..<d { ob[i * d + j] = 0.5 * (Double(hb[i * d + j]) + Double(hb[j * d + i])) } }
                    case .diagonal:
                        for i in 0..<d { ob[i * d + i] = Double(hb[i]) }
                    case .lowRank(let r):
                        for i in 0..<d {
                            for j in 0...i {
                                var s = 0.0
                                for k in 0..<r { s += Double(hb[k * d + i]) * Double(hb[k * d + j]) }
                                ob[i * d + j] = s
                                ob[j * d + i] = s
                            }
                            ob[i * d + i] += Double(hb[d * r + i])
                        }
                    }
                }
            }
        }
        return out
    }

    /// The diagonals [B, D] of the s̃₂ matrices (d_i + ‖U_i‖² for low-rank heads), in O(D r).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func diagonals<S: TensorScalar>(head: Tensor<S>) -> Tensor<Double> {
        let d = dimension, w = structure.width(dimension: d)
        precondition(head.rank == 2 && head.columns == w, "D2SM head has shape \(head.shape), expected [B, \(w)]")
        var out = Tensor<Double>(shape: [head.rows, d])
        for b in 0..<head.rows {
            for i in 0..<d {
                switch structure {
                case .full: out.scalars[b * d + i] = Double(head.scalars[b * w + i * d + i])
                case .diagonal: out.scalars[b * d + i] = Double(head.scalars[b * w + i])
                case .lowRank(let r):
                    var s = Double(head.scalars[b * w + d * r + i])
                    for k in 0..<r { let u = Double(head.scalars[b * w + k * d + i]); s += u * u }
                    out.scalars[b * d + i] = s
                }
            }
        }
        return out
    }

    // MARK: - Internals

    private func checkShapes<S: TensorScalar>(head: Tensor<S>, score: Tensor<S>, noise: Tensor<S>) -> Int {
        let d = dimension, w = structure.width(dimension: d)
        precondition(head.rank == 2 && head.columns == w, "D2SM head has shape \(head.shape), expected [B, \(w)] for a \(structure) head in D = \(d)")
        precondition(score.shape == [head.rows, d], "D2SM score has shape \(score.shape), expected [\(head.rows), \(d)]")
        precondition(noise.shape == [head.rows, d], "D2SM noise has shape \(noise.shape), expected [\(head.rows), \(d)]")
        return head.rows
    }

    private func prepare<S: TensorScalar>(_ t: inout Tensor<S>, like x: Tensor<S>) {
        if t.shape != x.shape { t = Tensor(shape: x.shape) } else { t.fill(0) }
    }
}

/// Per-sample scratch of the D2SM kernel (Double): the factor A = [U | s̃₁] (or U), d or the dense
/// ψ, the vector v, and their gradients.
private struct Workspace {
    enum Vector { case noise, e }
    let d: Int
    let structure: SecondOrderStructure
    let r: Int
    var k = 0                 // columns of A in use
    var a: [Double]           // [d, k] row-major
    var diag: [Double]        // [d]
    var dense: [Double]       // [d, d] (full structure)
    var s1: [Double]          // [d]
    var z: [Double]           // [d]
    var e: [Double]           // [d]
    var useScoreInA = false
    var gA: [Double]
    var gDiag: [Double]
    var gDense: [Double]
    var gram: [Double]        // [k, k]
    var projection: [Double]  // Aᵀv [k]

    init(dimension: Int, structure: SecondOrderStructure) {
        d = dimension
        self.structure = structure
        r = structure.rank
        let kMax = r + 1
        a = [Double](repeating: 0, count: d * kMax)
        gA = a
        diag = [Double](repeating: 0, count: d)
        gDiag = diag
        s1 = diag; z = diag; e = diag
        dense = structure == .full ? [Double](repeating: 0, count: d * d) : []
        gDense = dense
        gram = [Double](repeating: 0, count: kMax * kMax)
        projection = [Double](repeating: 0, count: kMax)
    }

    mutating func load<S: TensorScalar>(head: Tensor<S>, score: Tensor<S>, noise: Tensor<S>, row b: Int, form: SecondOrderForm, sigma: Double) {
        let w = structure.width(dimension: d)
        useScoreInA = form == .a
        for i in 0..<d {
            s1[i] = Double(score.scalars[b * d + i])
            z[i] = Double(noise.scalars[b * d + i])
            e[i] = z[i] / sigma + s1[i]
        }
        switch structure {
        case .full:
            for i in 0..<d { for j in 0..<d { dense[i * d + j] = 0.5 * (Double(head.scalars[b * w + i * d + j]) + Double(head.scalars[b * w + j * d + i])) } }
            k = useScoreInA ? 1 : 0  // the dense branch of `evaluate` reads s̃₁ directly
        case .diagonal, .lowRank:
            k = r + (useScoreInA ? 1 : 0)
            for i in 0..<d {
                for c in 0..<r { a[i * k + c] = Double(head.scalars[b * w + c * d + i]) }
                if useScoreInA { a[i * k + r] = s1[i] }
                diag[i] = Double(head.scalars[b * w + d * r + i])
            }
        }
    }

    /// Value of q‖ψ‖² + a⟨ψ, vvᵀ⟩ + b⟨ψ, I⟩ for the loaded sample; gradients (times `weight`) are
    /// left in gA / gDiag / gDense for `store`.
    mutating func evaluate(q: Double, a ca: Double, b cb: Double, vector: Vector, weight: Double) -> Double {
        let v = vector == .noise ? z : e
        if structure == .full {
            // ψ = S + s̃₁s̃₁ᵀ (form A) or S (form B); G = 2qψ + a vvᵀ + bI.
            var value = 0.0
            for i in 0..<d {
                for j in 0..<d {
                    var psi = dense[i * d + j]
                    if k == 1 { psi += s1[i] * s1[j] }
                    let g = 2 * q * psi + ca * v[i] * v[j] + (i == j ? cb : 0)
                    value += q * psi * psi + ca * psi * v[i] * v[j] + (i == j ? cb * psi : 0)
                    gDense[i * d + j] = weight * g
                }
            }
            if k == 1 {
                for i in 0..<d {
                    var s = 0.0
                    for j in 0..<d { s += gDense[i * d + j] * s1[j] }
                    gA[i] = 2 * s
                }
            }
            return value
        }
        // Low-rank / diagonal: A [d, k], ψ = AAᵀ + diag.
        for p in 0..<k { for c in 0..<k { gram[p * k + c] = 0 }; projection[p] = 0 }
        var rowSq = 0.0, diagTerm = 0.0, diagSq = 0.0, diagV = 0.0, sumDiag = 0.0
        for i in 0..<d {
            var rs = 0.0
            for p in 0..<k {
                let ap = a[i * k + p]
                rs += ap * ap
                projection[p] += ap * v[i]
                for c in 0...p { gram[p * k + c] += ap * a[i * k + c] }
            }
            rowSq += rs
            diagTerm += diag[i] * rs
            diagSq += diag[i] * diag[i]
            diagV += diag[i] * v[i] * v[i]
            sumDiag += diag[i]
        }
        var gramSq = 0.0, projSq = 0.0
        for p in 0..<k {
            for c in 0..<p { gram[c * k + p] = gram[p * k + c]; gramSq += 2 * gram[p * k + c] * gram[p * k + c] }
            gramSq += gram[p * k + p] * gram[p * k + p]
            projSq += projection[p] * projection[p]
        }
        let value = q * (gramSq + 2 * diagTerm + diagSq) + ca * (projSq + diagV) + cb * (rowSq + sumDiag)
        for i in 0..<d {
            var rs = 0.0
            for p in 0..<k {
                var ag = 0.0
                for c in 0..<k { ag += a[i * k + c] * gram[c * k + p] }
                let aip = a[i * k + p]
                rs += aip * aip
                gA[i * k + p] = weight * (q * (4 * ag + 4 * diag[i] * aip) + 2 * ca * v[i] * projection[p] + 2 * cb * aip)
            }
            gDiag[i] = weight * (q * (2 * rs + 2 * diag[i]) + ca * v[i] * v[i] + cb)
        }
        return value
    }

    /// §1.10 diagonal-only form A: Σ_i (d_i + s̃₁,i² − (z_i² − 1)/σ²)².
    mutating func diagonalOnly(sigmaSquaredInverse s2: Double, weight: Double) -> Double {
        var value = 0.0
        for i in 0..<d {
            let res = diag[i] + s1[i] * s1[i] - (z[i] * z[i] - 1) * s2
            value += res * res
            gDiag[i] = weight * 2 * res
            gA[i * k + r] = weight * 2 * res * 2 * s1[i]
        }
        return value
    }

    /// Adds the last gradients into the caller's buffers at row b.
    func store<S: TensorScalar>(dHead: inout Tensor<S>, dScore: inout Tensor<S>?, row b: Int, form: SecondOrderForm) {
        let w = structure.width(dimension: d)
        dHead.withUnsafeMutableBufferPointer { g in
            let gb = g.baseAddress! + b * w
            switch structure {
            case .full:
                for i in 0..<(d * d) { gb[i] += S(gDense[i]) }
            case .diagonal, .lowRank:
                for i in 0..<d {
                    for c in 0..<r { gb[c * d + i] += S(gA[i * k + c]) }
                    gb[d * r + i] += S(gDiag[i])
                }
            }
        }
        guard useScoreInA, dScore != nil else { return }
        let stride = structure == .full ? 1 : k
        let column = structure == .full ? 0 : r
        dScore!.withUnsafeMutableBufferPointer { g in
            for i in 0..<d { g[b * d + i] += S(gA[i * stride + column]) }
        }
    }
}
