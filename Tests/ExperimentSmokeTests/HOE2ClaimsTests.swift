// HO-E2's verdict (HO-C3) on hand-made timings (issue 30): one test per way it can go.
import ExperimentKit
import Foundation
import Testing
@testable import ho_e2_cost

@Suite struct HOE2ClaimsTests {
    typealias E = HOE2Cost
    static let dims = [10, 20, 50, 100, 200, 500, 784]

    /// Timings: autodiff ∝ D^autodiffPower, the heads ∝ D^headPower (seconds at D = 1 given),
    /// each repeat scaled by (1 + scatter·r) with r cycling through ±1, ±0.5, 0.
    static func results(autodiffPower: Double = 1, headPower: Double = 0, autodiff: Double = 1e-3, head: Double = 1e-4, scatter: Double = 0.01) -> E.Results {
        let wobble = [1.0, -1, 0.5, -0.5, 0]
        var rows: [E.TimingRow] = []
        for (i, d) in dims.enumerated() {
            let x = Double(d)
            // A small D-dependent wobble so that the fitted slopes have a non-zero standard error.
            let w = 1 + 0.02 * wobble[i % wobble.count]
            for r in 0..<5 {
                let s = 1 + scatter * wobble[r]
                rows.append(E.TimingRow(method: "autodiff full (batched)", dimension: d, repeat: r, seconds: autodiff * pow(x, autodiffPower) * w * s))
                rows.append(E.TimingRow(method: "autodiff diagonal (D VJPs)", dimension: d, repeat: r, seconds: autodiff * pow(x, autodiffPower) * w * s))
                rows.append(E.TimingRow(method: "D2SM low-rank head", dimension: d, repeat: r, seconds: head * pow(x, headPower) / w * s))
                rows.append(E.TimingRow(method: "D2SM diagonal head", dimension: d, repeat: r, seconds: head * pow(x, headPower) / w * s))
            }
        }
        return E.Results(timings: rows, seed: 0, threads: 1)
    }

    static func claim(_ r: E.Results) -> ClaimResult { E.claims(r, config: E.Config.full, seeds: 1, scale: .full)[0] }

    /// Autodiff ∝ D, the heads flat, 784× faster at D = 784: every check supported.
    @Test func supported() {
        let c = Self.claim(Self.results())
        #expect(c.checks.count == 4)
        #expect(c.checks.allSatisfy { $0.verdict == .supported }, "\(c.checks.map { ($0.statistic, $0.verdict) })")
        #expect(c.verdict == .supported && c.seeds == 1 && c.command == "make ho-e2-cost SCALE=full")
    }

    /// Autodiff as flat as the heads: the slope checks are not supported.
    @Test func notSupported() {
        let c = Self.claim(Self.results(autodiffPower: 0, autodiff: 1e-1))
        #expect(c.checks[0].verdict == .notSupported)
        #expect(c.verdict == .notSupported)
    }

    /// A speed-up near 50× with scattered repeats: the speed-up check straddles 50, inconclusive.
    @Test func inconclusive() {
        // 50 × 784^0 / 784^1 · ... : autodiff ∝ D, head ∝ D as well with the ratio 50 at every D.
        let c = Self.claim(Self.results(autodiffPower: 1, headPower: 1, autodiff: 50e-4, head: 1e-4, scatter: 0.3))
        let speedup = c.checks.first { $0.statistic.hasPrefix("speed-up") }!
        #expect(speedup.estimate.low < 50 && speedup.estimate.high > 50)
        #expect(speedup.verdict == .inconclusive)
        #expect(c.verdict != .supported)
    }
}
