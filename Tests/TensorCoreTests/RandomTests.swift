import Testing
import TensorCore
import TestSupport

/// Known answers from the reference C implementations (reproduced independently in Python:
/// tools/reference/rng_known_answers.py).
@Suite struct RandomKnownAnswerTests {
    @Test func splitMix64SeedZero() {
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(g.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func xoshiro256StarStarFromState1234() {
        var g = Xoshiro256(state: (1, 2, 3, 4))
        #expect(g.next() == 11520)
        #expect(g.next() == 0)
        #expect(g.next() == 1_509_978_240)
        #expect(g.next() == 1_215_971_899_390_074_240)
    }

    @Test func xoshiroSeededThroughSplitMix() {
        var g = Xoshiro256(seed: 42)
        #expect(g.next() == 0x1578_0B2E_0C2E_C716)
        #expect(g.next() == 0x6104_D986_6D11_3A7E)
        #expect(g.next() == 0xAE17_5332_39E4_99A1)
    }

    @Test func splitGivesNonOverlappingReproducibleStreams() {
        var a = Xoshiro256(seed: 7)
        let child = a.split()
        #expect(child == Xoshiro256(seed: 7))
        #expect(a == Xoshiro256(seed: 7, stream: 1))
        var c = child
        var d = a
        let xs = (0..<64).map { _ in c.next() }
        let ys = (0..<64).map { _ in d.next() }
        #expect(Set(xs).isDisjoint(with: ys))
    }
}

@Suite struct VariateMomentTests {
    /// Sample mean and variance of n draws against the truth, within `Tolerance.monteCarloSigmas`
    /// standard errors (SE of the variance uses the fourth central moment m4).
    func checkMoments(_ draws: [Double], mean: Double, variance: Double, m4: Double, label: String) {
        let n = Double(draws.count)
        let m = draws.reduce(0, +) / n
        let v = draws.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        let seMean = (variance / n).squareRoot()
        let seVar = ((m4 - variance * variance) / n).squareRoot()
        #expect(abs(m - mean) <= Tolerance.monteCarloSigmas * seMean, "\(label) mean \(m) vs \(mean)")
        #expect(abs(v - variance) <= Tolerance.monteCarloSigmas * seVar, "\(label) variance \(v) vs \(variance)")
    }

    @Test func uniformAndNormal() {
        var g = Xoshiro256(seed: 1)
        let n = 200_000
        let u = (0..<n).map { _ in g.nextUniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        checkMoments(u, mean: 0.5, variance: 1.0 / 12, m4: 1.0 / 80, label: "uniform")
        let z = (0..<n).map { _ in g.nextNormal() }
        checkMoments(z, mean: 0, variance: 1, m4: 3, label: "normal")
        var t = Tensor<Double>(shape: [n])
        t.fillNormal(mean: 2, std: 3, using: &g)
        checkMoments(t.scalars, mean: 2, variance: 9, m4: 3 * 81, label: "fillNormal")
    }

    /// Gamma(k): mean k, variance k, fourth central moment 3k² + 6k.
    @Test(arguments: [0.3, 0.8, 1.0, 1.8, 5.0])
    func gamma(shape k: Double) {
        var g = Xoshiro256(seed: 3)
        let draws = (0..<200_000).map { _ in g.nextGamma(shape: k) }
        #expect(draws.allSatisfy { $0 > 0 })
        checkMoments(draws, mean: k, variance: k, m4: 3 * k * k + 6 * k, label: "gamma(\(k))")
    }
    /// Keyed generators: the same key gives the same stream; the key's value and order matter;
    /// an empty key is the plain seed; the first output equals the documented SplitMix64 mixing.
    @Test func keyedGenerators() {
        var a = Xoshiro256(seed: 7, key: [1, 2, 3]), b = Xoshiro256(seed: 7, key: [1, 2, 3])
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = Xoshiro256(seed: 7, key: [1, 3, 2]), d = Xoshiro256(seed: 7, key: [1, 2, 4]), e = Xoshiro256(seed: 8, key: [1, 2, 3])
        var a2 = Xoshiro256(seed: 7, key: [1, 2, 3])
        let first = a2.next()
        #expect(c.next() != first && d.next() != first && e.next() != first)
        var plain = Xoshiro256(seed: 7), empty = Xoshiro256(seed: 7, key: [])
        #expect(plain.next() == empty.next())
        var sm = SplitMix64(seed: 7 ^ (5 &* 0x9E37_79B9_7F4A_7C15))
        var manual = Xoshiro256(seed: sm.next()), keyed = Xoshiro256(seed: 7, key: [5])
        #expect(manual.next() == keyed.next())
    }
}
