// Issue 26, part 0: every number is the same at any thread count. The thread count only changes
// who computes a piece of work, never the pieces: the loss's partial sums are cut by size, and
// OpenBLAS and oneDNN run with a team size that does not follow `Parallel.threads`. Each test
// computes the same thing at 1, 2 and 3 threads and compares the bits.
import NeuralNet
import TensorCore
import Testing
import TestSupport

@Suite(.serialized) struct ThreadInvarianceTests {
    /// Runs `body` once per thread count and returns the results; restores the thread count.
    func atThreadCounts<T>(_ counts: [Int] = [1, 2, 3], _ body: () -> T) -> [T] {
        restoringParallelSettings {
            return counts.map { t in
                Parallel.configure(threads: t)
                return body()
            }
        }
    }

    /// The loss over 470,400 elements: before the fix it was cut into `Parallel.threads` partial
    /// sums (and into 2 even inside a work unit), so its last bits followed the thread count.
    @Test func weightedSquaredErrorIsTheSameAtEveryThreadCount() {
        var rng = Xoshiro256(seed: 11)
        let prediction = Tensor<Float>.randomNormal([600, 784], using: &rng)
        let target = Tensor<Float>.randomNormal([600, 784], using: &rng)
        let weights = Tensor<Float>.randomUniform([600], lower: 0.1, upper: 2, using: &rng)
        let results = atThreadCounts { () -> (Double, [Float]) in
            var grad = Tensor<Float>(shape: [0])
            let value = weightedSquaredError(prediction: prediction, target: target, rowWeights: weights, dPrediction: &grad)
            return (value, grad.scalars)
        }
        for r in results.dropFirst() {
            #expect(r.0.bitPattern == results[0].0.bitPattern, "loss \(r.0) vs \(results[0].0)")
            #expect(r.1 == results[0].1, "gradients differ")
        }
    }

    /// Float64 GEMMs of the shapes under the exact scores (a long inner dimension, a thin
    /// output): OpenBLAS's team size used to follow `--threads`.
    @Test func doubleGEMMIsTheSameAtEveryThreadCount() {
        var rng = Xoshiro256(seed: 12)
        let a = Tensor<Double>.randomNormal([257, 4099], using: &rng)
        let b = Tensor<Double>.randomNormal([4099, 3], using: &rng)
        let c = Tensor<Double>.randomNormal([301, 2], using: &rng)
        let d = Tensor<Double>.randomNormal([5003, 2], using: &rng)
        let results = atThreadCounts { [matmul(a, b).scalars, matmul(c, d, transposeB: true).scalars] }
        for r in results.dropFirst() { #expect(r == results[0]) }
    }

    /// A U-Net training step (forward, backward, Adam, EMA) on 28×28 images: oneDNN convolutions
    /// and GEMMs, GroupNorm, SiLU and the optimiser's chunked passes.
    /// 40 images: three training pieces (16, 16 and 8) on the workers and their replicas.
    @Test func unetTrainingStepIsTheSameAtEveryThreadCount() {
        let results = atThreadCounts { () -> [Float] in
            var rng = Xoshiro256(seed: 13)
            let net = UNet<Float>(baseChannels: 8, outputChannels: 1, using: &rng)
            let adam = Adam<Float>(learningRate: 1e-3)
            let ema = ExponentialMovingAverage<Float>(decay: 0.99, of: net)
            let x = Tensor<Float>.randomNormal([40, 1, 28, 28], using: &rng)
            let sigmas = Tensor<Float>.randomUniform([40], lower: 0.1, upper: 1, using: &rng)
            let target = Tensor<Float>.randomNormal([40, 784], using: &rng)
            var y = Tensor<Float>(shape: [0]), dy = Tensor<Float>(shape: [0]), dx = Tensor<Float>(shape: [0])
            for _ in 0..<2 {
                net.forward(x, sigmas: sigmas, into: &y)
                let flat = Tensor<Float>(shape: [40, 784], scalars: y.scalars)
                weightedSquaredError(prediction: flat, target: target, dPrediction: &dy)
                net.zeroGradients()
                net.backward(input: x, dOutput: Tensor(shape: y.shape, scalars: dy.scalars), into: &dx)
                adam.step(net)
                ema.update(from: net)
            }
            var out: [Float] = []
            for name in net.parameterNames { out += net.parameter(named: name)!.scalars }
            for s in ema.shadow { out += s.scalars }
            return out + y.scalars + dx.scalars
        }
        for r in results.dropFirst() { #expect(r == results[0], "U-Net step differs between thread counts") }
    }
}
