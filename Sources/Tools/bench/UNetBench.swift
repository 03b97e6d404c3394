// The U-Net DSM step: UNet<Float> (C = 32 by default) on 28×28 images at batch 128, σ per example
// from the 10-level geometric ladder, loss ½·mean_b‖σ_b s(x̃_b) + z_b‖², Adam. Convolutions run on
// oneDNN primitives. Each phase's convolution GFLOP/s is printed against the rate of oneDNN's
// SGEMM at 128×784·784×512 at the same thread count, the machine's practical Float32 peak.
//
// Flop count: 2·B·O·C·k²·Ho·Wo per convolution for forward, the same for backward-data and for
// backward-weights (the first convolution's backward-data included, as the step computes it);
// GroupNorm, SiLU, upsampling, concatenation and Adam are not counted.
import NeuralNet
import Foundation
import TensorCore

/// Forward convolution flops of `net` on a batch of `batch` images of side `side`: the shapes of a
/// one-image forward (which runs whole, on `net`'s own layers) times the batch.
func convolutionFlops(_ net: UNet<Float>, batch: Int, side: Int) -> Double {
    var y = Tensor<Float>(shape: [0])
    net.forward(Tensor<Float>(shape: [1, net.inputChannels, side, side]), sigmas: Tensor(shape: [1], repeating: 1), into: &y)
    return Double(batch) * net.convolutions.reduce(0) { total, conv in
        let s = conv.lastInputShape
        let out = conv.outputShape(forInputShape: s)
        return total + 2 * Double(s[0]) * Double(conv.outputChannels) * Double(conv.inputChannels)
            * Double(conv.kernelSize * conv.kernelSize) * Double(out[2] * out[3])
    }
}

/// oneDNN SGEMM GFLOP/s at 128×784·784×512 (best of `repeats` batches) at the current threads.
func sgemmReferenceRate(repeats: Int) -> Double {
    let (m, n, k) = (128, 512, 784)
    var rng = Xoshiro256(seed: 1)
    let a = (0..<(m * k)).map { _ in Float(rng.nextUniform(in: -1, 1)) }
    let b = (0..<(k * n)).map { _ in Float(rng.nextUniform(in: -1, 1)) }
    var c = [Float](repeating: 0, count: m * n)
    let calls = 20
    var best = Double.infinity
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                for _ in 0..<(repeats + 1) {
                    let t = timeCalls(calls, repeats: 1) {
                        OneDNN.dnnlSGEMM(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: k,
                                         b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                    }[0]
                    best = min(best, t)
                }
            }
        }
    }
    return 2 * Double(m * n * k) / best / 1e9
}

/// Prints where `calls` profiled passes that took `totalMs` in all spent their time, by kind of
/// layer work (`LayerProfile`), per pass and as a share of the pass; "other" is the rest
/// (residual adds, σ scaling, Swift glue, and the loss and Adam when a training step is profiled).
func printLayerProfile(totalMs: Double, calls: Int, indent: String) {
    let perCall = totalMs / Double(calls)
    var accounted = 0.0
    for kind in LayerProfile.Kind.allCases {
        let ms = Double(LayerProfile.nanoseconds(kind)) / 1e6 / Double(calls)
        accounted += ms
        print("\(indent)\(kind.label.padding(20)) \(fmt(ms, 2).leftPadding(8)) ms  \(fmt(100 * ms / perCall, 1).leftPadding(5))%")
    }
    let other = perCall - accounted
    print("\(indent)\("other".padding(20)) \(fmt(other, 2).leftPadding(8)) ms  \(fmt(100 * other / perCall, 1).leftPadding(5))%")
}

/// Times the U-Net DSM step at each thread count and prints best / median and a phase breakdown.
func runUNet(threadCounts: [Int], channels: Int, side: Int, batch: Int, steps: Int, warmup: Int, repeats: Int,
             seed: UInt64, sampler: NormalSampler, backend: ConvolutionBackend, pieceImages: Int?) {
    print("")
    print("bench: U-Net DSM step, C = \(channels), \(side)×\(side), float32, batch \(batch), σ per example, Adam; convolutions \(backend.rawValue); oneDNN \(OneDNN.version) (JIT ISA \(OneDNN.effectiveISA))")
    for t in threadCounts {
        // The network runs its batch in pieces on t threads with oneDNN's team size 1 in each (as
        // experiments run it; the same results at any t), so the library team stays 1.
        Parallel.configure(threads: t, libraryThreads: 1)
        let problem = DSMStep(sizes: [side * side], batch: batch, seed: seed, sampler: sampler, unetChannels: channels)
        guard case .unet(let net) = problem.network else { fatalError("U-Net bench without a U-Net") }
        for conv in net.convolutions { conv.backend = backend }
        if let pieceImages { net.trainingPieceImages = pieceImages }
        for _ in 0..<max(1, warmup) { problem.step() }
        let forwardFlops = convolutionFlops(net, batch: batch, side: side)
        // The same step with NCHW activations (UNet.blockedTraining off), timed in turn with the
        // blocked one when that is in use: the gain of the blocked layout, side by side.
        var plain: DSMStep?
        if net.trainingBlock != nil {
            let p = DSMStep(sizes: [side * side], batch: batch, seed: seed, sampler: sampler, unetChannels: channels)
            guard case .unet(let plainNet) = p.network else { fatalError("U-Net bench without a U-Net") }
            for conv in plainNet.convolutions { conv.backend = backend }
            if let pieceImages { plainNet.trainingPieceImages = pieceImages }
            plainNet.blockedTraining = false
            for _ in 0..<max(1, warmup) { p.step() }
            plain = p
        }
        var stepTimes: [Double] = [], plainTimes: [Double] = []
        for _ in 0..<repeats {
            let t0 = nowNanoseconds()
            for _ in 0..<steps { problem.step() }
            stepTimes.append(Double(nowNanoseconds() - t0) / Double(steps) / 1e6)
            if let plain {
                let t1 = nowNanoseconds()
                for _ in 0..<steps { plain.step() }
                plainTimes.append(Double(nowNanoseconds() - t1) / Double(steps) / 1e6)
            }
        }
        var phases = [Double](repeating: 0, count: 6)
        let breakdownSteps = max(1, steps * repeats / 2)
        LayerProfile.reset()
        LayerProfile.isEnabled = true
        for _ in 0..<breakdownSteps { problem.timedStep(&phases) }
        LayerProfile.isEnabled = false
        let ms = phases.map { $0 / Double(breakdownSteps) / 1e6 }
        Parallel.configure(threads: t, libraryThreads: t)  // the machine's t-thread SGEMM rate
        let peak = sgemmReferenceRate(repeats: 5)
        Parallel.configure(threads: t, libraryThreads: 1)
        let gf = { (flops: Double, milliseconds: Double) in flops / (milliseconds * 1e-3) / 1e9 }
        let implementations = Set(net.convolutions.compactMap { $0.oneDNNImplementations?.joined(separator: "/") })
        print("")
        print("threads \(t)  (load average \(loadAverage()))")
        print("  oneDNN implementations (fwd/bwd-data/bwd-weights): \(implementations.sorted().joined(separator: ", "))")
        print("  oneDNN SGEMM 128×784·784×512 (reference rate): \(fmt(peak, 1)) GFLOP/s")
        print("  pieces of \(net.trainingPieceImages) images; activations \(net.trainingBlock.map { "channel-blocked (nChw\($0)c)" } ?? "NCHW")")
        print("  U-Net DSM step: best \(fmt(stepTimes.min()!, 1)) ms  median \(fmt(median(stepTimes), 1)) ms  (\(repeats) repeats × \(steps) steps)  -> \(fmt(gf(3 * forwardFlops, stepTimes.min()!), 1)) GFLOP/s conv-only")
        if !plainTimes.isEmpty {
            print("  the same step in NCHW (timed in turn): best \(fmt(plainTimes.min()!, 1)) ms  median \(fmt(median(plainTimes), 1)) ms  -> blocked / NCHW \(fmt(median(stepTimes) / median(plainTimes), 3)) (medians)")
        }
        print("  breakdown (mean over \(breakdownSteps) instrumented steps):")
        let rows: [(String, Double, Double)] = [
            ("noise sampling", ms[0], 0), ("zero gradients", ms[1], 0), ("forward", ms[2], forwardFlops),
            ("loss + dPred", ms[3], 0), ("backward", ms[4], 2 * forwardFlops), ("Adam", ms[5], 0),
        ]
        for (name, time, flops) in rows {
            let rate = flops > 0 ? "   \(fmt(gf(flops, time), 1)) GFLOP/s = \(fmt(100 * gf(flops, time) / peak, 1))% of SGEMM" : ""
            print("    \(name.padding(16)) \(fmt(time, 2).leftPadding(8)) ms\(rate)")
        }
        print("    total            \(fmt(ms.reduce(0, +), 2).leftPadding(8)) ms   (conv flops per step \(fmt(3 * forwardFlops / 1e9, 2)) GFLOP)")
        let workers = min(t, (batch + net.trainingPieceImages - 1) / net.trainingPieceImages)
        print("  by kind of layer work (forward + backward of the same instrumented steps\(workers > 1 ? "; times summed over the \(workers) worker threads, shares of \(workers) × the wall time" : "")):")
        printLayerProfile(totalMs: ms.reduce(0, +) * Double(breakdownSteps * workers), calls: breakdownSteps, indent: "    ")
        print("  final loss \(fmt(problem.lastLoss, 4))")
        print("RESULT unet-ours \(t) \(fmt(stepTimes.min()!, 3)) \(fmt(median(stepTimes), 3))")
    }
}

/// Best-of-each-repeat times (ms per call) of `body` after `warmup` untimed calls.
func timeForward(repeats: Int, steps: Int, warmup: Int, _ body: () -> Void) -> [Double] {
    for _ in 0..<max(1, warmup) { body() }
    return (0..<repeats).map { _ in
        let t0 = nowNanoseconds()
        for _ in 0..<steps { body() }
        return Double(nowNanoseconds() - t0) / Double(steps) / 1e6
    }
}

/// Issue 32, part 3: the sampling forward, where the image budget goes (annealed Langevin calls
/// the network T·L times per chain batch): one U-Net forward without gradients, as the samplers
/// run it (a fresh network stands in for the EMA weights: same shapes, same work), per width and
/// batch, best and median of `repeats` × `steps` forwards. The thread count is Parallel.threads:
/// forwardInference runs pieces of `inferencePieceImages` images on that many threads, oneDNN's
/// team size 1 inside each (the way experiments run it, thread-count invariant). Prints "RESULT unetfwd-c<C>-b<B>-ours
/// <threads> <best ms> <median ms>" for tools/peers/bench-peers.sh.
func runUNetForward(threadCounts: [Int], widths: [Int], batches: [Int], side: Int, steps: Int, warmup: Int, repeats: Int, seed: UInt64,
                    backend: ConvolutionBackend, pieceImages: Int?) {
    print("")
    print("bench: U-Net sampling forward (no gradients), \(side)×\(side), float32, convolutions \(backend.rawValue); oneDNN \(OneDNN.version) (JIT ISA \(OneDNN.effectiveISA))")
    for t in threadCounts {
        Parallel.configure(threads: t, libraryThreads: t)
        let peak = sgemmReferenceRate(repeats: 5)
        print("")
        print("threads \(t)  (load average \(loadAverage())); oneDNN SGEMM 128×784·784×512 (reference rate): \(fmt(peak, 1)) GFLOP/s")
        for c in widths {
            for b in batches {
                var rng = Xoshiro256(seed: seed)
                let net = UNet<Float>(baseChannels: c, outputChannels: 1, using: &rng)
                for conv in net.convolutions { conv.backend = backend }
                if let pieceImages { (net.inferencePieceImages, net.trainingPieceImages) = (pieceImages, pieceImages) }
                let x = Tensor<Float>.randomUniform([b, 1, side, side], lower: 0, upper: 1, using: &rng)
                let ladder = (0..<10).map { Float(pow(10, -2 * Double($0) / 9)) }
                let sigmas = Tensor<Float>(shape: [b], scalars: (0..<b).map { ladder[$0 % 10] })
                var y = Tensor<Float>(shape: [0])
                // The samplers' path: forwardInference (channel-blocked layout where the width
                // allows); the training forward (which keeps its activations for a backward, in
                // the blocked layout too unless UNet.blockedTraining is off) is timed beside it.
                let blocked = net.inferenceBlock(forInputShape: x.shape)
                // Both as experiments run them: pieces on t threads, oneDNN's team size 1 in each
                // (the training forward in pieces of trainingPieceImages, forwardInference in
                // pieces of inferencePieceImages).
                Parallel.configure(threads: t, libraryThreads: 1)
                let trainingBest = timeForward(repeats: repeats, steps: steps, warmup: warmup) { net.forward(x, sigmas: sigmas, into: &y) }.min()!
                let flops = convolutionFlops(net, batch: b, side: side)
                let times = timeForward(repeats: repeats, steps: steps, warmup: warmup) { net.forwardInference(x, sigmas: sigmas, into: &y) }
                let best = times.min()!, rate = flops / (best * 1e-3) / 1e9
                print("  C = \(c), batch \(b): forwardInference (\(blocked.map { "blocked layout, block \($0)" } ?? "plain fallback"), pieces of \(net.inferencePieceImages) images) best \(fmt(best, 2)) ms  median \(fmt(median(times), 2)) ms  (\(repeats) × \(steps))  -> \(fmt(rate, 1)) GFLOP/s conv = \(fmt(100 * rate / peak, 1))% of SGEMM; \(fmt(best / Double(b), 3)) ms per image; training forward (\(net.trainingBlock.map { "blocked layout, block \($0)" } ?? "NCHW"), pieces of \(net.trainingPieceImages)) best \(fmt(trainingBest, 2)) ms")
                LayerProfile.reset()
                LayerProfile.isEnabled = true
                let t0 = nowNanoseconds()
                for _ in 0..<steps { net.forwardInference(x, sigmas: sigmas, into: &y) }
                let profiledMs = Double(nowNanoseconds() - t0) / 1e6
                LayerProfile.isEnabled = false
                print("    by kind of layer work (\(steps) instrumented forwards, \(fmt(profiledMs / Double(steps), 2)) ms each\(t > 1 ? "; times summed over the worker threads, shares of \(t) × the wall time" : "")):")
                printLayerProfile(totalMs: profiledMs * Double(min(t, (b + net.inferencePieceImages - 1) / net.inferencePieceImages)), calls: steps, indent: "      ")
                print("RESULT unetfwd-c\(c)-b\(b)-ours \(t) \(fmt(best, 3)) \(fmt(median(times), 3))")
            }
        }
    }
}
