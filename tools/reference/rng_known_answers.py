#!/usr/bin/env python3
"""Independent reference for the RNG known-answer tests (Tests/TensorCoreTests/RandomTests.swift).

Reimplements SplitMix64 and xoshiro256** from their published C reference code and prints the
first outputs the tests assert. Not run by CI; re-run by hand if the generators change.
"""
M = (1 << 64) - 1


def splitmix64(seed):
    s = seed
    while True:
        s = (s + 0x9E3779B97F4A7C15) & M
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        yield z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def xoshiro256ss(state):
    s = list(state)
    while True:
        r = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        yield r


if __name__ == "__main__":
    g = splitmix64(0)
    print("splitmix64(0):", [hex(next(g)) for _ in range(3)])
    g = xoshiro256ss([1, 2, 3, 4])
    print("xoshiro256**(1,2,3,4):", [next(g) for _ in range(4)])
    sm = splitmix64(42)
    g = xoshiro256ss([next(sm) for _ in range(4)])
    print("xoshiro256** seeded by splitmix64(42):", [hex(next(g)) for _ in range(3)])
