// The authors' 2-D imbalanced toy (heavy-tailed spec E0, from their notebook), shared by the
// experiments that use it (ht-e0-toy-balance, ht-e4-convergence): the data set and the
// notebook's training of a small score MLP with GND(β) denoising score matching.
import NeuralNet
import ScoreKit
import TensorCore

/// The 10:1 two-mode toy and the notebook's training recipe.
public struct ImbalancedToy: Codable, Sendable {
    public var majorityPoints: Int
    public var minorityPoints: Int
    /// Per-coordinate variance of each mode (modes at (5, 5) and (−5, −5)).
    public var modeVariance: Double
    public var hidden: [Int]
    public var learningRate: Double
    public var batchSize: Int
    public var iterations: Int
    public var sigmas: [Double]

    public init(majorityPoints: Int, minorityPoints: Int, modeVariance: Double, hidden: [Int], learningRate: Double,
                batchSize: Int, iterations: Int, sigmas: [Double]) {
        self.majorityPoints = majorityPoints
        self.minorityPoints = minorityPoints
        self.modeVariance = modeVariance
        self.hidden = hidden
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.iterations = iterations
        self.sigmas = sigmas
    }

    /// The notebook's settings: 10 000 + 1 000 points at (5, 5) and (−5, −5) with variance 0.2,
    /// a 16-16 ReLU MLP, Adam (AMSGrad) at 1e-3, batch 256, 1 000 iterations, σ ∈ {1, 0.25}.
    public static let notebook = ImbalancedToy(majorityPoints: 10_000, minorityPoints: 1_000, modeVariance: 0.2, hidden: [16, 16],
                                               learningRate: 1e-3, batchSize: 256, iterations: 1_000, sigmas: [1.0, 0.25])

    /// The data [majority + minority, 2]: majority points at (5, 5) first, then the minority at (−5, −5).
    public func data(using rng: inout Xoshiro256) -> Tensor<Float> {
        let n = majorityPoints + minorityPoints
        var x = Tensor<Float>(shape: [n, 2])
        let s = modeVariance.squareRoot()
        for i in 0..<n {
            let m = i < majorityPoints ? 5.0 : -5.0
            x.scalars[2 * i] = Float(m + s * rng.nextNormal())
            x.scalars[2 * i + 1] = Float(m + s * rng.nextNormal())
        }
        return x
    }

    /// Trains the notebook's MLP (ReLU, Adam with AMSGrad, loss mean(σ·(s − t)²) over levels
    /// `sigmas`); `conditioned` adds log σ as an input and divides the output by σ.
    /// - Returns: the model and its loss curve (mean over each 50 iterations).
    public func train(beta: Double, conditioned: Bool = false, data: Tensor<Float>, using rng: inout Xoshiro256) -> (MLP<Float>, [Double]) {
        let model = MLP<Float>(sizes: [2] + hidden + [2], activation: .relu, conditioningSize: conditioned ? 1 : 0, using: &rng)
        // One generator serves minibatches and noise, drawn in the notebook's order.
        let curve = withUnsafeMutablePointer(to: &rng) { p in
            trainLoop(model, beta: beta, conditioned: conditioned, data: data, minibatch: p, noise: p)
        }
        return (model, curve)
    }

    /// The notebook's training loop on `model`: each iteration draws the minibatch indices from
    /// `minibatch`, then the noise from `noise` (the two may be the same generator).
    /// - Returns: the loss curve (mean over each 50 iterations).
    func trainLoop(_ model: MLP<Float>, beta: Double, conditioned: Bool, data: Tensor<Float>,
                   minibatch: UnsafeMutablePointer<Xoshiro256>, noise: UnsafeMutablePointer<Xoshiro256>) -> [Double] {
        let adam = Adam<Float>(learningRate: learningRate, amsgrad: true)
        let dsm = GNDScoreMatching(sigmas: sigmas, beta: beta, weighting: .notebook)
        var batch = GNDDenoisingBatch<Float>()
        var clean = Tensor<Float>(shape: [batchSize, 2])
        var indices = [Int](repeating: 0, count: batchSize)
        var dPrediction = Tensor<Float>(shape: [batchSize, 2])
        var curve: [Double] = []
        var running = 0.0
        for it in 0..<iterations {
            for k in 0..<batchSize { indices[k] = minibatch.pointee.nextIndex(data.rows) }
            data.gatherRows(indices, into: &clean)
            dsm.makeBatch(clean: clean, into: &batch, using: &noise.pointee)
            model.zeroGradients()
            let prediction = conditioned
                ? model.forward(batch.noisy, condition: batch.logSigma, outputScale: batch.inverseSigma)
                : model.forward(batch.noisy)
            running += weightedSquaredError(prediction: prediction, target: batch.target, rowWeights: batch.weights, dPrediction: &dPrediction)
            model.backwardParameters(dPrediction)
            adam.step(model)
            if (it + 1) % 50 == 0 { curve.append(running / 50); running = 0 }
        }
        return curve
    }
}
