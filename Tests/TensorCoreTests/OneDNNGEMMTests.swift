// oneDNN's Float32 GEMM against a Double reference, and its run-to-run repeatability.
import Testing
import TensorCore
import TestSupport

/// A Float32 GEMM's error is bounded by about k·u·Σ_k |a_ik||b_kj| (u = 2⁻²⁴); at k ≤ 300 that is
/// below 2e-5, so errors are measured against that scale with `Tolerance.float32Ops`.
@Suite struct OneDNNGEMMTests {
    struct Case: Sendable, CustomStringConvertible {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int
        var description: String { "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)×\(n)×\(k)" }
    }

    static let cases: [Case] = [
        Case(transA: false, transB: false, m: 37, n: 53, k: 300),
        Case(transA: true, transB: false, m: 64, n: 29, k: 128),
        Case(transA: false, transB: true, m: 128, n: 96, k: 200),
        Case(transA: true, transB: true, m: 5, n: 7, k: 3),
    ]

    /// Random A (op(A) m×k) and B (op(B) k×n) in Float and their stored layouts' leading dims.
    func operands(_ c: Case, seed: UInt64) -> (a: [Float], b: [Float], lda: Int, ldb: Int) {
        var rng = Xoshiro256(seed: seed)
        let a = (0..<(c.m * c.k)).map { _ in Float(rng.nextUniform(in: -1, 1)) }
        let b = (0..<(c.k * c.n)).map { _ in Float(rng.nextUniform(in: -1, 1)) }
        return (a, b, c.transA ? c.m : c.k, c.transB ? c.k : c.n)
    }

    func run(_ c: Case, _ a: [Float], _ b: [Float], lda: Int, ldb: Int, beta: Float, c0: [Float], threads: Int) -> [Float] {
        var out = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    OneDNN.dnnlSGEMM(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k, alpha: 0.5,
                                     a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                                     c: pc.baseAddress!, ldc: c.n, threads: threads)
                }
            }
        }
        return out
    }

    @Test(arguments: cases, [1, 2])
    func agreesWithDoubleReference(_ c: Case, threads: Int) {
        let (a, b, lda, ldb) = operands(c, seed: 7)
        let c0 = (0..<(c.m * c.n)).map { Float($0 % 5) - 2 }
        let got = run(c, a, b, lda: lda, ldb: ldb, beta: 0.25, c0: c0, threads: threads)
        var worst = 0.0
        for i in 0..<c.m {
            for j in 0..<c.n {
                var s = 0.0, scale = 0.0
                for p in 0..<c.k {
                    let aip = Double(c.transA ? a[p * lda + i] : a[i * lda + p])
                    let bpj = Double(c.transB ? b[j * ldb + p] : b[p * ldb + j])
                    s += aip * bpj
                    scale += abs(aip * bpj)
                }
                let expected = 0.5 * s + 0.25 * Double(c0[i * c.n + j])
                let err = abs(Double(got[i * c.n + j]) - expected) / max(0.5 * scale + 0.25 * abs(Double(c0[i * c.n + j])), 1e-30)
                worst = max(worst, err)
            }
        }
        #expect(worst <= Tolerance.float32Ops, "\(c) at \(threads) threads: worst relative error \(worst)")
    }

    @Test(arguments: [1, 2])
    func repeatsBitForBit(threads: Int) {
        let c = Case(transA: false, transB: false, m: 128, n: 512, k: 784)
        let (a, b, lda, ldb) = operands(c, seed: 9)
        let zero = [Float](repeating: 0, count: c.m * c.n)
        let first = run(c, a, b, lda: lda, ldb: ldb, beta: 0, c0: zero, threads: threads)
        for _ in 0..<3 {
            #expect(run(c, a, b, lda: lda, ldb: ldb, beta: 0, c0: zero, threads: threads) == first)
        }
    }

    @Test func automaticRuleSendsLargeShapesToOneDNN() {
        #expect(OneDNN.prefersOneDNN(transA: false, transB: false, m: 128, n: 512, k: 784))
        #expect(!OneDNN.prefersOneDNN(transA: false, transB: false, m: 4, n: 4, k: 4))
    }
}
