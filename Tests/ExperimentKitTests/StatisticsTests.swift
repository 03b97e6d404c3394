import Foundation
import TensorCore
import ScoreKit
import Testing
import TestSupport
@testable import ExperimentKit

@Suite struct StatisticsTests {
    /// Hand-computable values: mean 5, sample variance 32/7 for this classic data set.
    @Test func meanVarianceOnKnownData() {
        let x: [Double] = [2, 4, 4, 4, 5, 5, 7, 9]
        #expect(Stats.mean(x) == 5)
        #expect(abs(Stats.variance(x) - 32.0 / 7.0) < Tolerance.float64Ops)
        #expect(abs(Stats.skewness([1, 2, 3])) < Tolerance.float64Ops)  // symmetric data
    }

    /// t quantiles against published table values (df = 1, 10, 30) and the normal limit.
    @Test func studentTQuantiles() {
        let tableTolerance = 1e-3  // the table and the expansion are given to 3 decimals
        #expect(abs(Stats.tQuantile975(df: 1) - 12.706) < tableTolerance)
        #expect(abs(Stats.tQuantile975(df: 10) - 2.228) < tableTolerance)
        #expect(abs(Stats.tQuantile975(df: 40) - 2.021) < tableTolerance)
        #expect(abs(Stats.tQuantile975(df: 120) - 1.980) < tableTolerance)
    }

    /// The Wilson interval for 0/10 and 10/10 stays inside [0, 1] and excludes the far end.
    @Test func wilsonInterval() {
        let none = Stats.proportionCI(successes: 0, trials: 10)
        #expect(none.low == 0 && none.high < 0.35 && none.high > 0.25)
        let half = Stats.proportionCI(successes: 50, trials: 100)
        #expect(abs(half.mean - 0.5) < Tolerance.float64Ops)
        #expect(abs((half.high - half.low) / 2 - 0.0962) < 1e-3)  // Wilson half-width, 3-decimal table value
    }

    /// A linear fit recovers an exact line, and the bootstrap is reproducible for a fixed seed.
    @Test func linearFitAndBootstrap() {
        let x: [Double] = [1, 2, 3, 4, 5]
        let fit = Stats.linearFit(x: x, y: x.map { 3 - 0.5 * $0 })
        #expect(abs(fit.slope + 0.5) < Tolerance.float64Ops && abs(fit.intercept - 3) < Tolerance.float64Ops)
        let a = Stats.bootstrapCI(x, seed: 1), b = Stats.bootstrapCI(x, seed: 1)
        #expect(a == b)
        #expect(a.low <= 3 && a.high >= 3)
    }
}

@Suite struct ClaimVerdictTests {
    func estimate(_ lo: Double, _ hi: Double) -> Estimate { Estimate(mean: (lo + hi) / 2, low: lo, high: hi, n: 3) }

    @Test func greaterThanVerdicts() {
        #expect(ClaimCheck(statistic: "s", estimate: estimate(0.1, 0.3), direction: .greaterThan, threshold: 0).verdict == .supported)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(-0.3, -0.1), direction: .greaterThan, threshold: 0).verdict == .notSupported)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(-0.1, 0.1), direction: .greaterThan, threshold: 0).verdict == .inconclusive)
    }

    @Test func withinAndLessThanVerdicts() {
        #expect(ClaimCheck(statistic: "s", estimate: estimate(1.56, 1.60), direction: .within, threshold: 1.58, tolerance: 0.05).verdict == .supported)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(1.70, 1.80), direction: .within, threshold: 1.58, tolerance: 0.05).verdict == .notSupported)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(1.60, 1.70), direction: .within, threshold: 1.58, tolerance: 0.05).verdict == .inconclusive)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(0.1, 0.2), direction: .lessThan, threshold: 0.5).verdict == .supported)
        #expect(ClaimCheck(statistic: "s", estimate: estimate(.nan, 0.2), direction: .lessThan, threshold: 0.5).verdict == .inconclusive)
    }

    @Test func claimCombinesChecks() {
        let yes = ClaimCheck(statistic: "a", estimate: estimate(1, 2), direction: .greaterThan, threshold: 0)
        let maybe = ClaimCheck(statistic: "b", estimate: estimate(-1, 2), direction: .greaterThan, threshold: 0)
        let no = ClaimCheck(statistic: "c", estimate: estimate(-2, -1), direction: .greaterThan, threshold: 0)
        func claim(_ c: [ClaimCheck]) -> Verdict { ClaimResult(claim: "X", statement: "", experiment: "e", command: "", checks: c, seeds: 1).verdict }
        #expect(claim([yes, yes]) == .supported)
        #expect(claim([yes, maybe]) == .inconclusive)
        #expect(claim([yes, maybe, no]) == .notSupported)
        #expect(claim([]) == .inconclusive)
        let untested = ClaimCheck.notTested(statistic: "d", direction: .greaterThan, threshold: 0, reason: "no event")
        #expect(untested.verdict == .notTested && untested.reason == "no event")
        #expect(claim([untested, untested]) == .notTested)
        #expect(claim([yes, untested]) == .inconclusive)
        #expect(claim([untested, no]) == .notSupported)
        // A proxy measurement is recorded, never judged, even when its interval excludes the
        // reference value; mixed with a judged check the claim stays open.
        let proxy = ClaimCheck.recorded(statistic: "FD ratio", estimate: Estimate(mean: 2, low: 1.5, high: 2.5, n: 5), reference: 1, reason: "worse")
        #expect(proxy.verdict == .proxyRecorded && proxy.reason == "worse" && proxy.threshold == 1)
        #expect(claim([proxy, proxy]) == .proxyRecorded)
        #expect(claim([proxy, yes]) == .inconclusive)
        #expect(Ledger.describe(proxy).contains("no verdict drawn"))
    }

    /// A zero-width interval sitting on the threshold is not evidence either way; a zero-width
    /// interval away from it (an exact value) still decides.
    @Test func collapsedIntervalIsInconclusive() {
        let onThreshold = ClaimCheck(statistic: "s", estimate: Estimate(mean: 0, low: 0, high: 0, n: 1), direction: .greaterThan, threshold: 0)
        #expect(onThreshold.verdict == .inconclusive && onThreshold.reason == "interval collapsed onto the threshold")
        let beyondEdge = ClaimCheck(statistic: "s", estimate: Estimate(mean: 0.98, low: 0.98, high: 0.98, n: 1), direction: .lessThan, threshold: 0.98)
        #expect(beyondEdge.verdict == .inconclusive)
        let exactBelow = ClaimCheck(statistic: "s", estimate: Estimate(mean: -0.5, low: -0.5, high: -0.5, n: 1), direction: .greaterThan, threshold: 0)
        #expect(exactBelow.verdict == .notSupported && exactBelow.reason == nil)
    }

    /// Power: with half-width h at z = 1.96 the 80 %-power effect is h·(1.96 + 0.8416)/1.96; a
    /// check that cannot see the claimed effect reads inconclusive instead of not supported.
    @Test func underpoweredCheckIsInconclusive() {
        let e = Estimate(mean: -0.2, low: -0.3, high: -0.1, n: 5)
        let p = CheckPower.ofInterval(e, claimedEffect: 0.05, counts: "seeds")
        #expect(abs(p.smallestDetectableEffect - 0.1 * (1.959963984540054 + 0.8416212335729143) / 1.959963984540054) < Tolerance.float64Ops)
        #expect(p.isTooLow)
        let weak = ClaimCheck(statistic: "s", estimate: e, direction: .greaterThan, threshold: 0, power: p)
        #expect(weak.verdict == .inconclusive && (weak.reason ?? "").hasPrefix("underpowered"))
        let strong = ClaimCheck(statistic: "s", estimate: e, direction: .greaterThan, threshold: 0,
                                power: CheckPower.ofInterval(e, claimedEffect: 0.5, counts: "seeds"))
        #expect(strong.verdict == .notSupported)
        let signOnly = ClaimCheck(statistic: "s", estimate: e, direction: .greaterThan, threshold: 0,
                                  power: CheckPower.ofInterval(e, counts: "seeds"))
        #expect(signOnly.verdict == .notSupported)
    }

    /// claims.json files written before the provenance/power fields decode unchanged; new ones
    /// round-trip.
    @Test func backwardCompatibleDecoding() throws {
        let old = #"{"statistic":"s","estimate":{"mean":1,"low":0.5,"high":1.5,"n":3},"direction":">","threshold":0,"verdict":"supported"}"#
        let check = try JSONDecoder().decode(ClaimCheck.self, from: Data(old.utf8))
        #expect(check.verdict == .supported && check.provenance == nil && check.power == nil && check.reason == nil)
        let new = ClaimCheck(statistic: "s", estimate: Estimate(mean: 1, low: 0.5, high: 1.5, n: 3), direction: .greaterThan, threshold: 0,
                             provenance: .ours("sign of the effect"), power: CheckPower(smallestDetectableEffect: 0.7, n: 3, counts: "seeds"))
        let back = try JSONDecoder().decode(ClaimCheck.self, from: JSONEncoder().encode(new))
        #expect(back.provenance == new.provenance && back.power == new.power && back.verdict == .supported)
        #expect(ThresholdProvenance.paper("q").summary == "paper: \"q\"")
        #expect(ThresholdProvenance.ours("x").summary == "ours (derived: x)")
    }
}

@Suite struct NormalQuantileTests {
    /// Φ⁻¹ at table points (Abramowitz & Stegun 26.2), and the Bonferroni multiplier for k = 1.
    @Test func quantiles() {
        let tableDigits = 1e-6  // the reference values are given to 7 significant digits
        #expect(abs(Stats.normalQuantile(0.975) - 1.959964) < tableDigits)
        #expect(abs(Stats.normalQuantile(0.995) - 2.575829) < tableDigits)
        #expect(abs(Stats.normalQuantile(0.5)) < tableDigits)
        #expect(abs(Stats.familyZ(1) - 1.959964) < tableDigits)
        #expect(Stats.familyZ(8) > Stats.familyZ(2))
    }
}

@Suite struct ParallelMapTests {
    struct Boom: Error {}

    @Test func resultsInOrderAndErrorsPropagate() throws {
        let squares = try parallelMap(100, threads: 3) { $0 * $0 }
        #expect(squares == (0..<100).map { $0 * $0 })
        var calls = 0
        _ = try parallelMap(5, threads: 1, progress: { calls += 1 }) { $0 }
        #expect(calls == 5)
        #expect(throws: Boom.self) { try parallelMap(10, threads: 2) { i -> Int in if i == 7 { throw Boom() }; return i } }
    }
    /// A nice'd run stays nice'd on every thread: parallelMap's pool workers (which libdispatch
    /// starts at niceness 0) take the niceness of the thread that called them (forEachChunk does
    /// the same; it is not exercised here because that needs the process-wide thread count).
    /// Run from a fresh thread that lowers its own priority by 3 (always allowed).
    @Test func workersAdoptTheCallersNiceness() throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var caller: Int32 = 0, seen: [Int32] = []
        let thread = Thread {
            caller = Parallel.niceness + 3
            Parallel.adoptNiceness(caller)
            seen = (try? parallelMap(8, threads: 4) { _ -> Int32 in usleep(2_000); return Parallel.niceness }) ?? []
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(seen.count == 8)
        #expect(seen.allSatisfy { $0 == caller }, "workers' niceness \(seen), caller \(caller)")
    }

    /// The group bootstrap of a ratio of sums: exact when every group has the same ratio, an
    /// interval that holds the point estimate otherwise, and repeatable for a fixed seed.
    @Test func groupBootstrap() {
        let a: [Double] = [2, 4, 6, 8], b: [Double] = [1, 2, 3, 4]
        let same = Stats.groupBootstrapCI(groupCount: 4, seed: 2) { p in p.reduce(0) { $0 + a[$1] } / p.reduce(0) { $0 + b[$1] } }
        #expect(abs(same.mean - 2) < Tolerance.float64Ops && abs(same.low - 2) < Tolerance.float64Ops && abs(same.high - 2) < Tolerance.float64Ops)
        let c: [Double] = [2, 5, 5, 9]
        let f = { (p: [Int]) -> Double in p.reduce(0) { $0 + c[$1] } / p.reduce(0) { $0 + b[$1] } }
        let e1 = Stats.groupBootstrapCI(groupCount: 4, seed: 2, statistic: f), e2 = Stats.groupBootstrapCI(groupCount: 4, seed: 2, statistic: f)
        #expect(e1 == e2)
        #expect(abs(e1.mean - 2.1) < Tolerance.float64Ops && e1.low <= e1.mean && e1.mean <= e1.high && e1.high > e1.low)
    }

    /// The paired ratio bootstrap: exact point estimate, an interval that holds it, a degenerate
    /// interval when every pair has the same ratio, and a width that shrinks with more pairs.
    @Test func pairedRatioBootstrap() {
        let constant = Stats.pairedRatioBootstrapCI([(a: [2, 4, 6], b: [1, 2, 3]), (a: [10, 20], b: [5, 10])], seed: 3)
        #expect(abs(constant.mean - 2) < Tolerance.float64Ops)
        #expect(abs(constant.low - 2) < Tolerance.float64Ops && abs(constant.high - 2) < Tolerance.float64Ops)
        var rng = Xoshiro256(seed: 5)
        func group(_ n: Int) -> (a: [Double], b: [Double]) {
            let b = (0..<n).map { _ in 1 + rng.nextUniform() }
            return (a: b.map { 0.5 * $0 + 0.2 * rng.nextNormal() }, b: b)
        }
        let small = Stats.pairedRatioBootstrapCI([group(20), group(20), group(20)], seed: 1)
        let large = Stats.pairedRatioBootstrapCI([group(2000), group(2000), group(2000)], seed: 1)
        #expect(small.low <= small.mean && small.mean <= small.high)
        #expect(large.high - large.low < small.high - small.low)
        // With 6000 pairs the ratio of means is within a few hundredths of the true 0.5.
        let samplingTolerance = 0.03
        #expect(abs(large.mean - 0.5) < samplingTolerance)
    }
}

@Suite struct PlateauRuleTests {
    /// The detector stops at the first evaluation after the minimum where the last `window`
    /// losses do not improve on the earlier best by the stated fraction, and not before.
    @Test func stopsOnlyOnAStatedPlateau() {
        let rule = PlateauRule(every: 10, window: 2, relativeImprovement: 0.01, minimumSteps: 30, heldOutBatches: 1)
        var d = PlateauDetector(rule: rule)
        let improving = [1.0, 0.9, 0.81, 0.729, 0.656].enumerated().map { i, l in d.record(step: 10 * (i + 1), loss: l) }
        #expect(improving == [false, false, false, false, false])
        // Flat after 0.5: stop at the first evaluation whose window holds no 1 % improvement.
        var e = PlateauDetector(rule: rule)
        let flat = [(10, 1.0), (20, 0.5), (30, 0.499), (40, 0.4995)].map { e.record(step: $0.0, loss: $0.1) }
        // step 30: window {0.5, 0.499} against {1.0} improves; step 40: {0.499, 0.4995} against
        // {1.0, 0.5} improves by 0.2 % < 1 %.
        #expect(flat == [false, false, false, true])
        // Before the minimum a plateau does not stop training.
        var f = PlateauDetector(rule: PlateauRule(every: 10, window: 1, relativeImprovement: 0.01, minimumSteps: 100, heldOutBatches: 1))
        let early = [10, 20, 30].map { f.record(step: $0, loss: 1) }
        #expect(early == [false, false, false])
        #expect(f.history.count == 3)
    }

    /// With the rule set, training stops before the cap when the held-out loss is flat (a
    /// learning rate of 0 keeps the network unchanged), and runs the full cap without it.
    @Test func trainingStopsAtThePlateau() {
        let mixture = GaussianMixture(weights: [1], means: [[0, 0]], covariances: [Tensor<Double>(shape: [2, 2], scalars: [1, 0, 0, 1])])
        var settings = TrainingSettings(hidden: [8], learningRate: 0, batchSize: 16, steps: 200)
        var rng = Xoshiro256(seed: 1)
        let training = SecondOrderTraining(sigma: 0.5, dimension: 2, settings: settings)
        let net = training.network(width: 2, scalar: Double.self, using: &rng)
        #expect(training.trainFirstOrder(net, source: .mixture(mixture), varianceReduced: true, using: &rng) == 200)
        settings.plateau = PlateauRule(every: 20, window: 2, relativeImprovement: 0.01, minimumSteps: 40, heldOutBatches: 2)
        let flat = SecondOrderTraining(sigma: 0.5, dimension: 2, settings: settings)
        let stopped = flat.trainFirstOrder(net, source: .mixture(mixture), varianceReduced: true, using: &rng)
        #expect(stopped >= 40 && stopped < 200)
    }
}
