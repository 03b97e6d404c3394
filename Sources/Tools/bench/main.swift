// Times one denoising-score-matching (DSM) training step of a 784-512-512-784 Softplus MLP in
// Float32 at batch 128 with Adam, and compares its GEMM throughput with bare SGEMM at the same
// shapes.
//
// One step: sample z ~ N(0, I) and one noise level σ_b per row (geometric ladder, as in NCSN),
// x̃ = x + σ_b z, target −z/σ_b, weight λ(σ_b) = σ_b²; zero gradients; forward; weighted
// squared-error loss and its gradient; backward (parameter gradients only); Adam.
//
// Flop count (GEMMs only, 2·m·n·k each; bias GEMVs and elementwise work not counted):
//   forward  3 GEMMs: 2·B·(784·512 + 512·512 + 512·784)
//   backward 3 weight-gradient GEMMs (same count) + 2 input-gradient GEMMs for layers 2 and 3
//            (layer 1 needs no dInput): 2·B·(512·512 + 512·784).
// At B = 128 that is 715,128,832 flops per step.
//
// Noise sampling is split into a fixed number of row blocks, each with its own xoshiro stream
// (split once at start), so the noise is the same whatever the thread count.
import ArgumentParser
import Dispatch
import Foundation
import NeuralNet
import TensorCore

#if canImport(Glibc)
import Glibc
#endif

@inline(__always) func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "n/a" }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 128)
    guard fgets(&buf, 128, f) != nil else { return "n/a" }
    return String(cString: buf).split(separator: " ").prefix(3).joined(separator: " ")
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

func fmt(_ x: Double, _ digits: Int = 2) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}

/// How the bench draws standard normals.
enum NormalSampler: String, ExpressibleByArgument {
    case ziggurat, boxmuller
}

/// Standard normals by the ziggurat method (Marsaglia & Tsang 2000) with 128 layers, using
/// separate bits of one 64-bit draw for the layer index (low 7 bits) and the abscissa (high 32
/// bits), which avoids the index/value correlation of the original 32-bit version. About 99% of
/// draws cost one generator call, a table look-up and a multiply; the rest take the wedge or
/// tail branch.
struct ZigguratNormal {
    static let layers = 128
    static let r = 3.442619855899  // start of the tail
    static let v = 9.91256303526217e-3  // area of each layer
    /// |j| < kTable[i] (j a signed 32-bit integer) means the point lies in the core of layer i.
    let kTable: [Int64]
    /// Abscissa scale of layer i: x_i / 2^31.
    let wTable: [Double]
    /// f(x_i) = exp(−x_i²/2), with f(x_128) = 1.
    let fTable: [Double]

    init() {
        let n = ZigguratNormal.layers
        let r = ZigguratNormal.r, v = ZigguratNormal.v
        func f(_ x: Double) -> Double { _exp(-0.5 * x * x) }
        var x = [Double](repeating: 0, count: n + 1)
        x[0] = v / f(r)
        x[1] = r
        for i in 1..<(n - 1) { x[i + 1] = (-2 * _log(f(x[i]) + v / x[i])).squareRoot() }
        x[n] = 0
        let scale = 2147483648.0  // 2^31
        kTable = (0..<n).map { Int64((x[$0 + 1] / x[$0]) * scale) }
        wTable = (0..<n).map { x[$0] / scale }
        fTable = (0...n).map { f(x[$0]) }
    }

    /// One standard normal draw.
    @inline(__always)
    func next(_ rng: inout Xoshiro256) -> Double {
        while true {
            let u = rng.next()
            let i = Int(u & 127)
            let j = Int64(Int32(truncatingIfNeeded: u >> 32))
            let x = Double(j) * wTable[i]
            if abs(j) < kTable[i] { return x }
            if i == 0 {
                // Tail beyond r (Marsaglia 1964): r + a with a ~ Exp(r) accepted w.p. exp(−a²/2).
                let r = ZigguratNormal.r
                while true {
                    let a = -_log(rng.nextUniformOpen()) / r
                    let b = -_log(rng.nextUniformOpen())
                    if 2 * b >= a * a { return j > 0 ? r + a : -(r + a) }
                }
            }
            // Wedge of layer i: a uniform height between f(x_i) and f(x_{i+1}) under the curve.
            let y = fTable[i] + rng.nextUniform() * (fTable[i + 1] - fTable[i])
            if y < _exp(-0.5 * x * x) { return x }
        }
    }
}

/// The DSM training problem: model, optimiser, data and per-step buffers.
final class DSMStep {
    /// The score network being trained.
    enum Network {
        /// An MLP on flattened inputs [B, D].
        case mlp(MLP<Float>)
        /// The image U-Net on [B, 1, S, S], its output divided by σ_b.
        case unet(UNet<Float>)
    }
    let batch: Int
    let dim: Int
    let network: Network
    let adam = Adam<Float>(learningRate: 1e-4)
    let clean: Tensor<Float>
    var noisy: Tensor<Float>
    var target: Tensor<Float>
    var weights: Tensor<Float>
    var sigmaPerRow: Tensor<Float>
    var prediction = Tensor<Float>(shape: [0])
    var dPrediction: Tensor<Float>
    var dInput = Tensor<Float>(shape: [0])
    var streams: [Xoshiro256]
    let sigmas: [Double]
    let blocks = 8
    let sampler: NormalSampler
    let ziggurat = ZigguratNormal()
    var lastLoss = 0.0

    /// The MLP problem (`sizes` = layer widths), or with `unetChannels` the U-Net on
    /// sqrt(sizes[0]) × sqrt(sizes[0]) images.
    init(sizes: [Int], batch: Int, seed: UInt64, sampler: NormalSampler, unetChannels: Int? = nil) {
        self.sampler = sampler
        self.batch = batch
        dim = sizes[0]
        var rng = Xoshiro256(seed: seed)
        var sampleShape = [batch, dim]
        if let c = unetChannels {
            let side = Int(Double(dim).squareRoot())
            precondition(side * side == dim, "U-Net bench needs a square image size, got \(dim)")
            network = .unet(UNet(baseChannels: c, using: &rng))
            sampleShape = [batch, 1, side, side]
        } else {
            network = .mlp(MLP(sizes: sizes, activation: .softplus, using: &rng))
        }
        clean = Tensor.randomUniform(sampleShape, using: &rng)  // stand-in for image pixels in [0, 1)
        noisy = Tensor(shape: sampleShape)
        target = Tensor(shape: sampleShape)
        weights = Tensor(shape: [batch])
        sigmaPerRow = Tensor(shape: [batch])
        dPrediction = Tensor(shape: sampleShape)
        streams = (0..<blocks).map { _ in rng.split() }
        // 10 geometric noise levels from 1 down to 0.01.
        sigmas = (0..<10).map { i in _exp(_log(1.0) + Double(i) / 9 * (_log(0.01) - _log(1.0))) }
    }

    /// z ~ N(0, I), σ_b from the ladder; x̃ = x + σ z, target = −z/σ, weight σ².
    func sampleNoise() {
        let rowsPerBlock = (batch + blocks - 1) / blocks
        let d = dim
        let useZiggurat = sampler == .ziggurat
        let zig = ziggurat
        clean.withUnsafeBufferPointer { xb in
            noisy.withUnsafeMutableBufferPointer { nb in
                target.withUnsafeMutableBufferPointer { tb in
                    weights.withUnsafeMutableBufferPointer { wb in
                        streams.withUnsafeMutableBufferPointer { sb in
                          sigmaPerRow.withUnsafeMutableBufferPointer { sgb in
                            let (x, xt, t, w, s) = (xb.baseAddress!, nb.baseAddress!, tb.baseAddress!, wb.baseAddress!, sb.baseAddress!)
                            let sgp = sgb.baseAddress!
                            let body: (Int) -> Void = { blk in
                                var rng = s[blk]
                                let lo = blk * rowsPerBlock
                                let hi = Swift.min(lo + rowsPerBlock, self.batch)
                                if lo < hi {
                                    for r in lo..<hi {
                                        let sigma = self.sigmas[rng.nextIndex(self.sigmas.count)]
                                        let sg = Float(sigma)
                                        let inv = Float(1 / sigma)
                                        w[r] = Float(sigma * sigma)
                                        sgp[r] = sg
                                        let base = r * d
                                        if useZiggurat {
                                            for k in base..<(base + d) {
                                                let z = Float(zig.next(&rng))
                                                xt[k] = x[k] + sg * z
                                                t[k] = -inv * z
                                            }
                                        } else {
                                            var k = base
                                            let end = base + d
                                            while k < end {
                                                let (a, b) = rng.nextNormalPair()
                                                let za = Float(a)
                                                xt[k] = x[k] + sg * za
                                                t[k] = -inv * za
                                                if k + 1 < end {
                                                    let zb = Float(b)
                                                    xt[k + 1] = x[k + 1] + sg * zb
                                                    t[k + 1] = -inv * zb
                                                }
                                                k += 2
                                            }
                                        }
                                    }
                                }
                                s[blk] = rng
                            }
                            if Parallel.threads > 1 {
                                DispatchQueue.concurrentPerform(iterations: blocks, execute: body)
                            } else {
                                for blk in 0..<blocks { body(blk) }
                            }
                          }
                        }
                    }
                }
            }
        }
    }

    func zeroGradients() {
        switch network {
        case .mlp(let m): m.zeroGradients()
        case .unet(let u): u.zeroGradients()
        }
    }

    func forward() {
        switch network {
        case .mlp(let m): prediction = m.forward(noisy)
        case .unet(let u): u.forward(noisy, sigmas: sigmaPerRow, into: &prediction)
        }
    }

    func backward() {
        switch network {
        case .mlp(let m): m.backwardParameters(dPrediction)
        case .unet(let u): u.backward(input: noisy, dOutput: dPrediction, into: &dInput)
        }
    }

    func optimiserStep() {
        switch network {
        case .mlp(let m): adam.step(m)
        case .unet(let u): adam.step(u)
        }
    }

    /// One full training step: L = ½ mean_b σ_b² ‖s(x̃_b) + z_b/σ_b‖² = ½ mean_b ‖σ_b s(x̃_b) + z_b‖².
    func step() {
        sampleNoise()
        zeroGradients()
        forward()
        lastLoss = weightedSquaredError(prediction: prediction, target: target, rowWeights: weights, dPrediction: &dPrediction)
        backward()
        optimiserStep()
    }

    /// One step with a timestamp after each phase; adds nanoseconds into `phases`
    /// (noise, zero, forward, loss, backward, adam).
    func timedStep(_ phases: inout [Double]) {
        let t0 = nowNanoseconds()
        sampleNoise()
        let t1 = nowNanoseconds()
        zeroGradients()
        let t2 = nowNanoseconds()
        forward()
        let t3 = nowNanoseconds()
        lastLoss = weightedSquaredError(prediction: prediction, target: target, rowWeights: weights, dPrediction: &dPrediction)
        let t4 = nowNanoseconds()
        backward()
        let t5 = nowNanoseconds()
        optimiserStep()
        let t6 = nowNanoseconds()
        let ts = [t0, t1, t2, t3, t4, t5, t6]
        for i in 0..<6 { phases[i] += Double(ts[i + 1] - ts[i]) }
    }
}

/// The 8 GEMMs of one step at the same shapes, on separate buffers.
final class GEMMOnly {
    struct Op { var transA: Bool; var transB: Bool; var m: Int; var n: Int; var k: Int; var a: Int; var b: Int; var c: Int }
    let buffers: [UnsafeMutablePointer<Float>]
    var ops: [Op] = []
    let flops: Double

    init(sizes: [Int], batch: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        var buffers: [UnsafeMutablePointer<Float>] = []
        func buffer(_ n: Int) -> Int {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            for i in 0..<n { p[i] = Float(rng.nextUniform(in: -1, 1)) }
            buffers.append(p)
            return buffers.count - 1
        }
        let layers = sizes.count - 1
        let acts = sizes.map { buffer(batch * $0) }
        let ws = (0..<layers).map { buffer(sizes[$0] * sizes[$0 + 1]) }
        let dws = (0..<layers).map { buffer(sizes[$0] * sizes[$0 + 1]) }
        let grads = sizes.map { buffer(batch * $0) }
        var f = 0.0
        for i in 0..<layers {  // forward: act[i+1] = act[i] W_i
            ops.append(Op(transA: false, transB: false, m: batch, n: sizes[i + 1], k: sizes[i], a: acts[i], b: ws[i], c: acts[i + 1]))
        }
        for i in stride(from: layers - 1, through: 0, by: -1) {
            // dW_i += act[i]ᵀ g[i+1]
            ops.append(Op(transA: true, transB: false, m: sizes[i], n: sizes[i + 1], k: batch, a: acts[i], b: grads[i + 1], c: dws[i]))
            // g[i] = g[i+1] W_iᵀ (not for the first layer)
            if i > 0 {
                ops.append(Op(transA: false, transB: true, m: batch, n: sizes[i], k: sizes[i + 1], a: grads[i + 1], b: ws[i], c: grads[i]))
            }
        }
        for op in ops { f += 2 * Double(op.m) * Double(op.n) * Double(op.k) }
        flops = f
        self.buffers = buffers
    }

    func run() {
        for op in ops {
            let lda = op.transA ? op.m : op.k
            let ldb = op.transB ? op.k : op.n
            Float.gemm(transA: op.transA, transB: op.transB, m: op.m, n: op.n, k: op.k, alpha: 1,
                       a: buffers[op.a], lda: lda, b: buffers[op.b], ldb: ldb, beta: op.transA ? 1 : 0,
                       c: buffers[op.c], ldc: op.n)
        }
    }

    deinit { for p in buffers { p.deallocate() } }
}

/// Starts `count` busy shell loops (the contention case: a core taken by another process, as when
/// units or Slurm tasks share a node). The caller terminates them; each also stops by itself
/// when this process is gone.
func startBusyProcesses(_ count: Int) throws -> [Process] {
    try (0..<count).map { _ in
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // Spins while the benchmark lives (kill -0 is a builtin), so an interrupted run leaves none behind.
        p.arguments = ["-c", "while kill -0 $PPID 2>/dev/null; do :; done"]
        try p.run()
        return p
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one DSM training step of the 784-512-512-784 Softplus MLP (against bare SGEMM) and of the image U-Net (Float32, batch 128, Adam).")

    @Option(help: "Comma-separated thread counts to run (Parallel.configure(threads:)).")
    var threads: String = "1,2"
    @Option(help: "Timed steps per repeat.")
    var steps: Int = 50
    @Option(help: "Untimed warm-up steps before timing.")
    var warmup: Int = 20
    @Option(help: "Number of timed repeats (best and median are reported).")
    var repeats: Int = 7
    @Option(help: "Random seed for initialisation, data and noise.")
    var seed: UInt64 = 0
    @Option(help: "Batch size.")
    var batch: Int = 128
    @Option(help: "Normal sampler for the noise: ziggurat or boxmuller (TensorCore's nextNormalPair).")
    var sampler: NormalSampler = .ziggurat

    func validate() throws {
        guard steps > 0, warmup >= 0, repeats > 0, batch > 0 else {
            throw ValidationError("steps, repeats and batch must be positive; warmup non-negative")
        }
    }

    @Flag(help: .hidden) var experiment = false
    @Flag(help: "Time Float32 GEMM shape classes on OpenBLAS and oneDNN instead of the training steps.")
    var gemmShapes = false
    @Option(help: "Comma-separated networks to time: mlp, unet (training steps), unet-forward (the sampling forward, issue 32).")
    var networks: String = "mlp,unet,unet-forward"
    @Option(help: "U-Net Float32 convolutions: oneDNN (its layouts, reorders), oneDNNPlain (NCHW) or im2col.")
    var convolution: String = "oneDNN"
    @Flag(help: "Check that two fresh runs of 2 U-Net (C = 8, batch 16) and 2 MLP steps give bit-identical parameters at each thread count, then exit.")
    var verifyDeterminism = false
    @Option(help: "Float32 GEMM library: automatic (oneDNN by the shape rule), openBLAS or oneDNN.")
    var gemmBackend: String = "automatic"
    @Option(help: "U-Net base channels C.")
    var channels: Int = 32
    @Option(help: "U-Net timed steps per repeat.")
    var unetSteps: Int = 1
    @Option(help: "U-Net untimed warm-up steps.")
    var unetWarmup: Int = 1
    @Option(help: "U-Net timed repeats (best and median are reported).")
    var unetRepeats: Int = 3
    @Option(help: "Sampling forward: comma-separated widths C.")
    var forwardWidths: String = "16,32"
    @Option(help: "Sampling forward: comma-separated batch sizes.")
    var forwardBatches: String = "64,250"
    @Option(help: "Sampling forward: timed forwards per repeat.")
    var forwardSteps: Int = 3
    @Option(help: "Images per piece, the unit of work the U-Net's threads take, for the training step and the sampling forward (default: UNet's trainingPieceImages and inferencePieceImages).")
    var pieceImages: Int?
    @Option(help: "Busy processes (shell loops at this process's niceness) to run beside the benchmark: the contention case of issue 32.")
    var busy: Int = 0

    func runExperiment() {
        for t in [1, 2, 1, 2] {
            Parallel.configure(threads: t, libraryThreads: t)
            let problem = DSMStep(sizes: [784, 512, 512, 784], batch: batch, seed: seed, sampler: sampler)
            var t0 = nowNanoseconds()
            for _ in 0..<100 { problem.sampleNoise() }
            print("threads \(t): noise before any GEMM \(fmt(Double(nowNanoseconds() - t0) / 100 / 1e6, 3)) ms")
            for _ in 0..<5 { problem.step() }
            t0 = nowNanoseconds()
            for _ in 0..<100 { problem.sampleNoise() }
            let noise = Double(nowNanoseconds() - t0) / 100 / 1e6
            t0 = nowNanoseconds()
            for _ in 0..<100 { problem.optimiserStep() }
            let adam = Double(nowNanoseconds() - t0) / 100 / 1e6
            print("threads \(t): noise alone \(fmt(noise, 3)) ms, adam alone \(fmt(adam, 3)) ms")
        }
    }

    func run() throws {
        if experiment { runExperiment(); return }
        let threadCounts = threads.split(separator: ",").compactMap { Int(String($0.filter { $0 != " " })) }
        guard !threadCounts.isEmpty, threadCounts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--threads must list positive integers, got \(threads)")
        }
        if gemmShapes { runGEMMShapes(threadCounts: threadCounts, repeats: repeats, seed: seed); return }
        guard let backend = Float32GEMMBackend(rawValue: gemmBackend) else {
            throw ValidationError("--gemm-backend must be automatic, openBLAS or oneDNN, got \(gemmBackend)")
        }
        OneDNN.float32GEMMBackend = backend
        if verifyDeterminism { try runDeterminismCheck(threadCounts); return }
        let selected = Set(networks.split(separator: ",").map { String($0.filter { $0 != " " }) })
        guard !selected.isEmpty, selected.isSubset(of: ["mlp", "unet", "unet-forward"]) else {
            throw ValidationError("--networks must list mlp, unet and/or unet-forward, got \(networks)")
        }
        let forwardWidthList = forwardWidths.split(separator: ",").compactMap { Int(String($0.filter { $0 != " " })) }
        let forwardBatchList = forwardBatches.split(separator: ",").compactMap { Int(String($0.filter { $0 != " " })) }
        guard !forwardWidthList.isEmpty, !forwardBatchList.isEmpty, (forwardWidthList + forwardBatchList).allSatisfy({ $0 >= 1 }), forwardSteps >= 1 else {
            throw ValidationError("--forward-widths and --forward-batches must list positive integers and --forward-steps be positive, got \(forwardWidths), \(forwardBatches), \(forwardSteps)")
        }
        guard let convBackend = ConvolutionBackend(rawValue: convolution) else {
            throw ValidationError("--convolution must be oneDNN, oneDNNPlain or im2col, got \(convolution)")
        }
        if let pieceImages, pieceImages < 1 { throw ValidationError("--piece-images must be positive, got \(pieceImages)") }
        guard busy >= 0 else { throw ValidationError("--busy must be 0 or more, got \(busy)") }
        let competitors = try startBusyProcesses(busy)
        defer { for p in competitors where p.isRunning { p.terminate() } }
        if busy > 0 { print("bench: \(busy) busy process(es) running beside it (contention case); load average \(loadAverage())") }
        if selected.contains("mlp") { runMLP(threadCounts) }
        if selected.contains("unet") {
            runUNet(threadCounts: threadCounts, channels: channels, side: 28, batch: batch, steps: unetSteps,
                    warmup: unetWarmup, repeats: unetRepeats, seed: seed, sampler: sampler, backend: convBackend, pieceImages: pieceImages)
        }
        if selected.contains("unet-forward") {
            runUNetForward(threadCounts: threadCounts, widths: forwardWidthList, batches: forwardBatchList, side: 28, steps: forwardSteps,
                           warmup: unetWarmup, repeats: unetRepeats, seed: seed, backend: convBackend, pieceImages: pieceImages)
        }
    }

    func runDeterminismCheck(_ threadCounts: [Int]) throws {
        func parameters(_ problem: DSMStep) -> [[Float]] {
            switch problem.network {
            case .mlp(let m): return m.namedParameters().map { $0.value.scalars }
            case .unet(let u): return u.namedParameters().map { $0.value.scalars }
            }
        }
        var failed = false
        for t in threadCounts {
            Parallel.configure(threads: t, libraryThreads: t)
            for unet in [false, true] {
                let runs: [[[Float]]] = (0..<2).map { _ in
                    let p = unet ? DSMStep(sizes: [784], batch: 16, seed: seed, sampler: sampler, unetChannels: 8)
                        : DSMStep(sizes: [784, 512, 512, 784], batch: batch, seed: seed, sampler: sampler)
                    p.step()
                    p.step()
                    return parameters(p)
                }
                let same = runs[0] == runs[1]
                failed = failed || !same
                print("threads \(t) \(unet ? "U-Net" : "MLP"): two runs \(same ? "bit-identical" : "DIFFER")")
            }
        }
        if failed { throw ExitCode.failure }
    }

    func runMLP(_ threadCounts: [Int]) {
        let sizes = [784, 512, 512, 784]
        print("bench: DSM step, MLP \(sizes.map(String.init).joined(separator: "-")) softplus, float32, batch \(batch), Adam")
        print("BLAS: \(BLAS.configuration); Float32 GEMM backend \(OneDNN.float32GEMMBackend.rawValue) (oneDNN \(OneDNN.version), JIT ISA \(OneDNN.effectiveISA))")
        print("load average before: \(loadAverage())")
        print("noise sampler: \(sampler.rawValue), \(8) row blocks with their own xoshiro streams")
        let gemm = GEMMOnly(sizes: sizes, batch: batch, seed: seed)
        print("GEMM flops per step (3 forward + 3 weight-gradient + 2 input-gradient): \(Int(gemm.flops))")
        for t in threadCounts {
            Parallel.configure(threads: t, libraryThreads: t)
            // Bare SGEMM at the step's shapes.
            for _ in 0..<warmup { gemm.run() }
            var gemmTimes: [Double] = []
            for _ in 0..<repeats {
                let t0 = nowNanoseconds()
                for _ in 0..<steps { gemm.run() }
                gemmTimes.append(Double(nowNanoseconds() - t0) / Double(steps) / 1e6)
            }
            // Full steps.
            let problem = DSMStep(sizes: sizes, batch: batch, seed: seed, sampler: sampler)
            for _ in 0..<warmup { problem.step() }
            var stepTimes: [Double] = []
            for _ in 0..<repeats {
                let t0 = nowNanoseconds()
                for _ in 0..<steps { problem.step() }
                stepTimes.append(Double(nowNanoseconds() - t0) / Double(steps) / 1e6)
            }
            // Phase breakdown (separate run with a timestamp between phases).
            var phases = [Double](repeating: 0, count: 6)
            let breakdownSteps = steps * repeats
            for _ in 0..<breakdownSteps { problem.timedStep(&phases) }
            let ms = phases.map { $0 / Double(breakdownSteps) / 1e6 }

            let gemmBest = gemmTimes.min()!, gemmMedian = median(gemmTimes)
            let stepBest = stepTimes.min()!, stepMedian = median(stepTimes)
            let gf = { (msPerStep: Double) in gemm.flops / (msPerStep * 1e-3) / 1e9 }
            print("")
            print("threads \(t)  (load average \(loadAverage()))")
            print("  SGEMM only (8 GEMMs):  best \(fmt(gemmBest, 3)) ms  median \(fmt(gemmMedian, 3)) ms   -> \(fmt(gf(gemmBest), 1)) / \(fmt(gf(gemmMedian), 1)) GFLOP/s")
            print("  DSM training step:     best \(fmt(stepBest, 3)) ms  median \(fmt(stepMedian, 3)) ms   -> \(fmt(gf(stepBest), 1)) / \(fmt(gf(stepMedian), 1)) GFLOP/s")
            print("  step GEMM-rate / SGEMM rate: best \(fmt(100 * gemmBest / stepBest, 1))%  median \(fmt(100 * gemmMedian / stepMedian, 1))%")
            let fwdBwd = ms[2] + ms[4]
            print("  breakdown (mean over \(breakdownSteps) instrumented steps, ms):")
            print("    noise sampling        \(fmt(ms[0], 3))")
            print("    zero gradients        \(fmt(ms[1], 3))")
            print("    forward               \(fmt(ms[2], 3))")
            print("    loss + dPred          \(fmt(ms[3], 3))")
            print("    backward              \(fmt(ms[4], 3))")
            print("    Adam                  \(fmt(ms[5], 3))")
            print("    total                 \(fmt(ms.reduce(0, +), 3))")
            print("    of which GEMMs (bare SGEMM median) \(fmt(gemmMedian, 3)); elementwise+bias in forward/backward ≈ \(fmt(fwdBwd - gemmMedian, 3))")
            print("  final loss \(fmt(problem.lastLoss, 4))")
            print("RESULT mlp-ours \(t) \(fmt(stepBest, 3)) \(fmt(stepMedian, 3))")
        }
    }
}

@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }

Bench.main()
