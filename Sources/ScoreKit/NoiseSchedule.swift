// Geometric noise-level schedules σ_1 > σ_2 > … > σ_L shared by both papers: the NCSN/NCSNv2
// form used by the released configs (heavy-tailed spec §1.6) and the ratio-driven form produced
// by the iterative noise-scaling algorithm (heavy-tailed spec §3, step 6).

/// Constructors for descending, geometric noise schedules.
public enum NoiseSchedule {
    /// Relative slack when deciding whether σ_max/γ^i is still ≥ σ_min, so that a level equal to
    /// σ_min up to round-off (e.g. 1 → 0.01 with γ = 10^{1/9}) is kept.
    public static let inclusionSlack = 1e-12

    /// σ_i = exp(linspace(log σ_max, log σ_min, L))[i], i = 0..<L, descending (heavy-tailed spec
    /// §1.6). The endpoints are exactly σ_max and σ_min; L = 1 gives [σ_max].
    /// Preconditions: σ_min > 0, L ≥ 1, and σ_max > σ_min when L > 1 (σ_max ≥ σ_min when L = 1).
    public static func geometric(sigmaMax: Double, sigmaMin: Double, levels: Int) -> [Double] {
        precondition(levels >= 1, "a schedule needs at least one level, got \(levels)")
        precondition(sigmaMin > 0 && sigmaMin.isFinite, "sigmaMin must be finite and positive, got \(sigmaMin)")
        precondition(sigmaMax.isFinite, "sigmaMax must be finite, got \(sigmaMax)")
        if levels == 1 {
            precondition(sigmaMax >= sigmaMin, "sigmaMax (\(sigmaMax)) must be at least sigmaMin (\(sigmaMin))")
            return [sigmaMax]
        }
        precondition(sigmaMax > sigmaMin, "a descending schedule needs sigmaMax (\(sigmaMax)) > sigmaMin (\(sigmaMin))")
        let logMax = ScalarMath.log(sigmaMax)
        let logMin = ScalarMath.log(sigmaMin)
        let step = (logMin - logMax) / Double(levels - 1)
        var out = (0..<levels).map { i in ScalarMath.exp(logMax + Double(i) * step) }
        out[0] = sigmaMax
        out[levels - 1] = sigmaMin
        return out
    }

    /// σ_i = σ_max / γ^(i−1) for i = 1, 2, …, keeping every level with σ_i ≥ σ_min (heavy-tailed
    /// spec §3, step 6: stop before the first level that would fall below σ_min). The rule is
    /// inclusive: a level equal to σ_min within a relative `inclusionSlack` is kept. Each level is
    /// computed as σ_max·γ^−(i−1) directly, so round-off does not accumulate. The result always
    /// contains σ_max, and its last entry is the smallest level ≥ σ_min.
    /// Preconditions: γ > 1, 0 < σ_min ≤ σ_max.
    public static func geometric(sigmaMax: Double, ratio: Double, sigmaMin: Double) -> [Double] {
        precondition(ratio > 1 && ratio.isFinite, "the schedule ratio must be finite and > 1, got \(ratio)")
        precondition(sigmaMin > 0 && sigmaMin.isFinite, "sigmaMin must be finite and positive, got \(sigmaMin)")
        precondition(sigmaMax >= sigmaMin && sigmaMax.isFinite, "sigmaMax (\(sigmaMax)) must be finite and at least sigmaMin (\(sigmaMin))")
        let floor = sigmaMin * (1 - inclusionSlack)
        let logRatio = ScalarMath.log(ratio)
        var out: [Double] = [sigmaMax]
        var i = 1
        while true {
            let next = sigmaMax * ScalarMath.exp(-Double(i) * logRatio)
            if next < floor { break }
            out.append(next)
            i += 1
        }
        return out
    }
}
