// `bench --gemm-shapes`: OpenBLAS `cblas_sgemm` against oneDNN `dnnl_sgemm` on every Float32
// GEMM shape class the experiments use, interleaved (OpenBLAS, oneDNN, OpenBLAS, ...) so that load
// from other processes hits both alike. These numbers are what `OneDNN.prefersOneDNN` rests on.
import TensorCore

/// One GEMM shape: op(A) is m×k, op(B) is k×n.
struct GEMMShape {
    var group: String
    var label: String
    var transA: Bool
    var transB: Bool
    var m: Int
    var n: Int
    var k: Int
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// The shape classes: MLP layers (784-512-512-784, batch 128), the D2SM networks of HO-E1
/// (D = 64, hidden 256, low-rank head 64·(8+1) = 576 wide; 3 stacked batches of 256), and the
/// per-image im2col GEMMs of the U-Net at C = 32 on 28×28 (the Float64 reference path's shapes).
let gemmShapes: [GEMMShape] = [
    GEMMShape(group: "MLP", label: "fwd 784→512", transA: false, transB: false, m: 128, n: 512, k: 784),
    GEMMShape(group: "MLP", label: "fwd 512→512", transA: false, transB: false, m: 128, n: 512, k: 512),
    GEMMShape(group: "MLP", label: "fwd 512→784", transA: false, transB: false, m: 128, n: 784, k: 512),
    GEMMShape(group: "MLP", label: "dW 512×784", transA: true, transB: false, m: 512, n: 784, k: 128),
    GEMMShape(group: "MLP", label: "dX 784→512", transA: false, transB: true, m: 128, n: 512, k: 784),
    GEMMShape(group: "D2SM", label: "fwd 64→256", transA: false, transB: false, m: 768, n: 256, k: 64),
    GEMMShape(group: "D2SM", label: "fwd 256→256", transA: false, transB: false, m: 768, n: 256, k: 256),
    GEMMShape(group: "D2SM", label: "head 256→576", transA: false, transB: false, m: 768, n: 576, k: 256),
    GEMMShape(group: "D2SM", label: "head dW", transA: true, transB: false, m: 256, n: 576, k: 768),
    GEMMShape(group: "D2SM", label: "head dX", transA: false, transB: true, m: 768, n: 256, k: 576),
    GEMMShape(group: "D2SM", label: "small 128→128", transA: false, transB: false, m: 768, n: 128, k: 128),
    GEMMShape(group: "conv", label: "fwd 28² C→C", transA: false, transB: false, m: 32, n: 784, k: 288),
    GEMMShape(group: "conv", label: "fwd 14² 2C→2C", transA: false, transB: false, m: 64, n: 196, k: 576),
    GEMMShape(group: "conv", label: "fwd 7² 2C→2C", transA: false, transB: false, m: 64, n: 49, k: 576),
    GEMMShape(group: "conv", label: "dW 28² C→C", transA: false, transB: true, m: 32, n: 288, k: 784),
    GEMMShape(group: "conv", label: "dcol 28² C→C", transA: true, transB: false, m: 288, n: 784, k: 32),
    GEMMShape(group: "tiny", label: "8×16·16×16", transA: false, transB: false, m: 8, n: 16, k: 16),
]

/// Times `body` (one GEMM) in batches of `calls` calls; returns seconds per call, one per repeat.
func timeCalls(_ calls: Int, repeats: Int, _ body: () -> Void) -> [Double] {
    var out: [Double] = []
    for _ in 0..<repeats {
        let t0 = nowNanoseconds()
        for _ in 0..<calls { body() }
        out.append(Double(nowNanoseconds() - t0) / Double(calls) / 1e9)
    }
    return out
}

/// Prints GFLOP/s (best / median) of both libraries per shape and thread count.
func runGEMMShapes(threadCounts: [Int], repeats: Int, seed: UInt64) {
    print("bench --gemm-shapes: Float32 GEMM, OpenBLAS vs oneDNN \(OneDNN.version) (JIT ISA \(OneDNN.effectiveISA))")
    print("load average before: \(loadAverage())")
    var rng = Xoshiro256(seed: seed)
    for t in threadCounts {
        Parallel.configure(threads: t, libraryThreads: t)
        print("")
        print("threads \(t)  (load average \(loadAverage()))   GFLOP/s best / median; ratio = oneDNN/OpenBLAS (medians)")
        print("  group  shape               m     n     k    OpenBLAS          oneDNN            ratio")
        for s in gemmShapes {
            let aCount = s.m * s.k, bCount = s.k * s.n, cCount = s.m * s.n
            let a = (0..<aCount).map { _ in Float(rng.nextUniform(in: -1, 1)) }
            let b = (0..<bCount).map { _ in Float(rng.nextUniform(in: -1, 1)) }
            var c = [Float](repeating: 0, count: cCount)
            let lda = s.transA ? s.m : s.k
            let ldb = s.transB ? s.k : s.n
            // About 20 ms of work per timed batch at 100 GFLOP/s.
            let calls = max(5, Int(2e9 / s.flops))
            var times: [Float32GEMMBackend: [Double]] = [.openBLAS: [], .oneDNN: []]
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        let run = {
                            Float.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1,
                                       a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: 0,
                                       c: pc.baseAddress!, ldc: s.n)
                        }
                        for backend in [Float32GEMMBackend.openBLAS, .oneDNN] {
                            OneDNN.float32GEMMBackend = backend
                            _ = timeCalls(calls, repeats: 1, run)  // warm-up (JIT, thread pools)
                        }
                        for _ in 0..<repeats {
                            for backend in [Float32GEMMBackend.openBLAS, .oneDNN] {
                                OneDNN.float32GEMMBackend = backend
                                times[backend]! += timeCalls(calls, repeats: 1, run)
                            }
                        }
                    }
                }
            }
            OneDNN.float32GEMMBackend = .automatic
            let gf = { (sec: Double) in s.flops / sec / 1e9 }
            let ob = times[.openBLAS]!, od = times[.oneDNN]!
            let cols = [
                s.group.padding(6), (s.label).padding(16),
                "\(s.m)".leftPadding(5), "\(s.n)".leftPadding(5), "\(s.k)".leftPadding(5),
                "\(fmt(gf(ob.min()!), 1)) / \(fmt(gf(median(ob)), 1))".leftPadding(16),
                "\(fmt(gf(od.min()!), 1)) / \(fmt(gf(median(od)), 1))".leftPadding(16),
                fmt(median(ob) / median(od), 2).leftPadding(6),
            ]
            print("  " + cols.joined(separator: " ") + (OneDNN.prefersOneDNN(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k) ? "  (auto: oneDNN)" : "  (auto: OpenBLAS)"))
        }
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
