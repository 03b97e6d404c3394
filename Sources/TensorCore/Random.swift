// Seedable, splittable pseudo-random numbers and the basic variates built on them.
//
// Generator: xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64 (Steele, Lea &
// Flood 2014) as its authors recommend. `split()` hands out the current stream and jumps this
// generator 2^128 steps ahead (the reference `jump()`), so parent and child never overlap; use
// it for independent streams (per seed, per chain group, per thread) so results do not depend
// on the order in which streams are consumed.
//
// Variates: uniform doubles from the top 53 bits; normals by Box–Muller; Gamma(k) by
// Marsaglia & Tsang (2000) with the k < 1 boost G(k+1)·U^(1/k). Every variate is a pure function
// of the generator state, so a seed fixes every number downstream.

/// SplitMix64: a 64-bit generator used to expand one seed into xoshiro state.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256**: the project's random number generator.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words from SplitMix64(seed).
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        state = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// A generator for stream `stream` of seed `seed`: the seed's generator split `stream` times.
    /// Streams of one seed never overlap.
    public init(seed: UInt64, stream: Int) {
        precondition(stream >= 0, "stream index must be non-negative")
        self.init(seed: seed)
        for _ in 0..<stream { jump() }
    }

    /// A generator keyed by `seed` and a list of integers (SplitMix64 mixing of each part into
    /// the running key): generators with different keys are unrelated, and a key's stream does
    /// not depend on how many other generators were made before it (unlike `init(seed:stream:)`
    /// it costs no jumps, so keys may be large, e.g. a dimension or σ·10⁶).
    public init(seed: UInt64, key parts: [UInt64]) {
        var h = seed
        for p in parts {
            var sm = SplitMix64(seed: h ^ (p &* 0x9E37_79B9_7F4A_7C15))
            h = sm.next()
        }
        self.init(seed: h)
    }

    /// Starts from explicit state words (for known-answer tests); the state must not be all zero.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        self.state = state
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Xoshiro256.rotl(state.3, 45)
        return result
    }

    /// Advances the state by 2^128 steps (reference jump polynomial).
    public mutating func jump() {
        let poly: [UInt64] = [0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C]
        var s: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for word in poly {
            for b in 0..<64 {
                if word & (UInt64(1) << UInt64(b)) != 0 {
                    s.0 ^= state.0; s.1 ^= state.1; s.2 ^= state.2; s.3 ^= state.3
                }
                _ = next()
            }
        }
        state = s
    }

    /// Returns a generator for the current stream and moves this one 2^128 steps ahead.
    public mutating func split() -> Xoshiro256 {
        let child = self
        jump()
        return child
    }

    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool { a.state == b.state }
}

/// The project's default generator.
public typealias RNG = Xoshiro256

extension RandomNumberGenerator {
    /// Uniform on [0, 1) with 53 random bits.
    @inline(__always) public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform on the open interval (0, 1): safe under log.
    @inline(__always) public mutating func nextUniformOpen() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// Uniform on [lower, upper).
    @inline(__always) public mutating func nextUniform(in lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * nextUniform()
    }

    /// Two independent standard normals (Box–Muller).
    @inline(__always) public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = nextUniformOpen()
        let u2 = nextUniform()
        let r = (-2 * _log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * _cos(theta), r * _sin(theta))
    }

    /// One standard normal (the cosine half of a Box–Muller pair).
    @inline(__always) public mutating func nextNormal() -> Double { nextNormalPair().0 }

    /// Gamma(shape, scale 1) by Marsaglia & Tsang (2000); for shape < 1 uses
    /// Gamma(shape + 1) · U^(1/shape).
    public mutating func nextGamma(shape k: Double) -> Double {
        precondition(k > 0, "gamma shape must be positive, got \(k)")
        if k < 1 {
            let g = nextGamma(shape: k + 1)
            return g * _pow(nextUniformOpen(), 1 / k)
        }
        let d = k - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUniformOpen()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if _log(u) < 0.5 * x2 + d * (1 - v + _log(v)) { return d * v }
        }
    }

    /// A random index in 0..<n.
    @inline(__always) public mutating func nextIndex(_ n: Int) -> Int {
        precondition(n > 0, "nextIndex needs a positive bound")
        return Int(next(upperBound: UInt64(n)))
    }
}

// Thin wrappers so this file reads without Foundation; they call the C library.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

extension Tensor {
    /// A tensor of i.i.d. N(mean, std²) entries.
    public static func randomNormal<G: RandomNumberGenerator>(
        _ shape: [Int], mean: Scalar = 0, std: Scalar = 1, using rng: inout G
    ) -> Tensor {
        var t = Tensor(shape: shape)
        t.fillNormal(mean: mean, std: std, using: &rng)
        return t
    }

    /// A tensor of i.i.d. Uniform[lower, upper) entries.
    public static func randomUniform<G: RandomNumberGenerator>(
        _ shape: [Int], lower: Scalar = 0, upper: Scalar = 1, using rng: inout G
    ) -> Tensor {
        var t = Tensor(shape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Scalar(rng.nextUniform(in: Double(lower), Double(upper))) }
        }
        return t
    }

    /// Overwrites every element with an i.i.d. N(mean, std²) draw (both Box–Muller halves used).
    public mutating func fillNormal<G: RandomNumberGenerator>(mean: Scalar = 0, std: Scalar = 1, using rng: inout G) {
        withUnsafeMutableBufferPointer { p in
            var i = 0
            while i + 1 < p.count {
                let (a, b) = rng.nextNormalPair()
                p[i] = mean + std * Scalar(a)
                p[i + 1] = mean + std * Scalar(b)
                i += 2
            }
            if i < p.count { p[i] = mean + std * Scalar(rng.nextNormal()) }
        }
    }
}
