// Issue 32: oneDNN plans made on one thread and run on another, as the U-Net's piece replicas
// are (a worker thread takes whichever piece is next). In oneDNN's default scratchpad mode each
// thread has one scratchpad buffer of its own, sized by the primitives that thread made, so a
// GEMM-based convolution made here and run on a fresh thread found no buffer and crashed (memset
// on NULL). The shim gives every primitive a scratchpad of its own (mode `user`).
import Dispatch
import Foundation
import NeuralNet
import TensorCore
import Testing

@Suite struct OneDNNThreadTests {
    /// Forward, backward-data and backward-weights of a 3×3 convolution on the plain-layout
    /// backend (oneDNN's im2col + GEMM implementation, which needs a scratchpad) and on the
    /// default blocked backend: made and run on this thread, then run again on a thread that has
    /// never run oneDNN, they give the same bits.
    @Test(arguments: [ConvolutionBackend.oneDNNPlain, .oneDNN])
    func aPlanMadeOnOneThreadRunsOnAnother(backend: ConvolutionBackend) {
        let job = Job(backend: backend)
        let here = job.run()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            job.result = job.run()
            done.signal()
        }
        thread.start()
        done.wait()
        let there = job.result
        #expect(there == here)
    }

    /// One convolution's forward and backward (used from one thread at a time).
    final class Job: @unchecked Sendable {
        let conv: Conv2D<Float>, x: Tensor<Float>, g: Tensor<Float>
        var result: [Float] = []

        init(backend: ConvolutionBackend) {
            var rng = Xoshiro256(seed: 80)
            conv = Conv2D<Float>(inputChannels: 8, outputChannels: 8, kernelSize: 3, padding: 1, name: "c", using: &rng)
            conv.backend = backend
            x = Tensor<Float>.randomNormal([4, 8, 12, 12], using: &rng)
            g = Tensor<Float>.randomNormal([4, 8, 12, 12], using: &rng)
        }

        func run() -> [Float] {
            var y = Tensor<Float>(shape: [0]), dx = Tensor<Float>(shape: [0])
            conv.forward(x, into: &y)
            conv.zeroGradients()
            conv.backward(input: x, dOutput: g, into: &dx)
            return y.scalars + dx.scalars + conv.namedGradients().flatMap { $0.gradient.scalars }
        }
    }
}
