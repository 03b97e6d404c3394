// Tests of NoiseSchedule: endpoints, strict monotonicity, constant ratio, and agreement of the
// two geometric constructors.
import Foundation
import Testing
import TestSupport
import ScoreKit

@Suite struct NoiseScheduleTests {
    @Test func geometricByLevelCount() {
        let s = NoiseSchedule.geometric(sigmaMax: 1, sigmaMin: 0.01, levels: 10)
        #expect(s.count == 10)
        #expect(s.first == 1 && s.last == 0.01)
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 > $1 })
        let ratios = zip(s, s.dropFirst()).map { $0 / $1 }
        let expected = pow(100, 1.0 / 9)
        #expect(worstMismatch(ratios, [Double](repeating: expected, count: ratios.count), rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
    }

    @Test func singleLevelIsSigmaMax() {
        #expect(NoiseSchedule.geometric(sigmaMax: 50, sigmaMin: 0.01, levels: 1) == [50])
        #expect(NoiseSchedule.geometric(sigmaMax: 0.5, sigmaMin: 0.5, levels: 1) == [0.5])
    }

    @Test func geometricByRatioIsInclusive() {
        // γ = 100^{1/9} from 1 reaches 0.01 at the tenth level (up to round-off): kept.
        let gamma = pow(100, 1.0 / 9)
        let byRatio = NoiseSchedule.geometric(sigmaMax: 1, ratio: gamma, sigmaMin: 0.01)
        let byCount = NoiseSchedule.geometric(sigmaMax: 1, sigmaMin: 0.01, levels: 10)
        #expect(byRatio.count == 10)
        #expect(worstMismatch(byRatio, byCount, rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
    }

    @Test func geometricByRatioStopsAtFirstLevelAboveSigmaMin() {
        let gamma = 1.0398
        let sigmaMin = 0.01
        let s = NoiseSchedule.geometric(sigmaMax: 50, ratio: gamma, sigmaMin: sigmaMin)
        #expect(s.first == 50)
        #expect(s.last! >= sigmaMin && s.last! / gamma < sigmaMin)
        #expect(s.count == Int(floor(log(50 / sigmaMin) / log(gamma))) + 1)
        let ratios = zip(s, s.dropFirst()).map { $0 / $1 }
        #expect(worstMismatch(ratios, [Double](repeating: gamma, count: ratios.count), rtol: Tolerance.float64Ops, atol: LocalTolerance.noAbsoluteSlack) == nil)
        // σ_max already within one ratio of σ_min: a single level.
        #expect(NoiseSchedule.geometric(sigmaMax: 0.011, ratio: 2, sigmaMin: 0.01) == [0.011])
    }
}
