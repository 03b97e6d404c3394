// Training of first- and second-order score networks at one noise level σ (high-order spec
// §1.4–§1.6, §6.1), shared by the high-order experiments. Networks are NeuralNet MLPs (Softplus,
// as the released MLP models); the losses are ScoreKit.SecondOrderDSM on their outputs.
//
// Evaluation points that need several network outputs per sample (DSM-VR's clean point, D2SM-VR's
// x ± σz and x) are stacked into one batch, so every step is one forward and one backward pass
// per network.
import NeuralNet
import ScoreKit
import TensorCore

/// Where clean training points come from.
public enum CleanSource {
    /// Fresh draws from a mixture every step (unlimited data).
    case mixture(GaussianMixture)
    /// Uniform draws from a fixed set of N points, [N, D] (the small-data arms).
    case points(Tensor<Double>)

    func fill(_ x: inout Tensor<Double>, using rng: inout Xoshiro256) {
        switch self {
        case .mixture(let m):
            x = m.sample(count: x.rows, using: &rng)
        case .points(let p):
            let d = p.columns
            for r in 0..<x.rows {
                let j = rng.nextIndex(p.rows)
                for c in 0..<d { x.scalars[r * d + c] = p.scalars[j * d + c] }
            }
        }
    }
}

/// How s̃₂ is trained with respect to s̃₁ (spec §1.5).
public enum SecondOrderMode: String, Codable, Sendable, CaseIterable {
    /// s̃₁ pre-trained and frozen (the synthetic accuracy study's default).
    case frozen
    /// s̃₁ and s̃₂ trained together; the D2SM term does not reach s̃₁.
    case jointDetached = "joint-detached"
    /// s̃₁ and s̃₂ trained together, D2SM gradients flowing into s̃₁ (the released code).
    case joint
}

/// Optimisation settings shared by the networks of one experiment.
public struct TrainingSettings: Codable, Sendable {
    public var hidden: [Int]
    public var learningRate: Double
    public var batchSize: Int
    /// The number of steps, or with `plateau` the most steps (the cap).
    public var steps: Int
    /// Train until the held-out loss stops improving (nil: exactly `steps` steps).
    public var plateau: PlateauRule?
    public init(hidden: [Int], learningRate: Double = 1e-3, batchSize: Int = 256, steps: Int, plateau: PlateauRule? = nil) {
        self.hidden = hidden
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.steps = steps
        self.plateau = plateau
    }
}

/// A stated convergence rule (issue 17, HO-C2: train to a plateau, not a fixed step count).
/// Every `every` steps the training objective is evaluated on `heldOutBatches` fixed held-out
/// batches (drawn once, from their own stream); training stops at the first evaluation, at or
/// after `minimumSteps`, where the best held-out loss of the last `window` evaluations is less
/// than `relativeImprovement` (relative to its magnitude) below the best of all evaluations
/// before them. The settings' `steps` caps it.
public struct PlateauRule: Codable, Sendable, Equatable {
    public var every: Int
    public var window: Int
    public var relativeImprovement: Double
    public var minimumSteps: Int
    public var heldOutBatches: Int

    public init(every: Int, window: Int, relativeImprovement: Double, minimumSteps: Int, heldOutBatches: Int = 4) {
        precondition(every >= 1 && window >= 1 && relativeImprovement >= 0 && minimumSteps >= 0 && heldOutBatches >= 1,
                     "plateau rule: every, window and held-out batches must be positive, improvement and minimum steps non-negative")
        self.every = every
        self.window = window
        self.relativeImprovement = relativeImprovement
        self.minimumSteps = minimumSteps
        self.heldOutBatches = heldOutBatches
    }

    /// One sentence for captions and notes.
    public var description: String {
        "trained until the held-out loss (\(heldOutBatches) fixed batches, every \(every) steps) improved by less than \(relativeImprovement * 100)% over \(window) evaluations, after at least \(minimumSteps) steps"
    }
}

/// The held-out losses of one training run and the plateau decision (`PlateauRule`).
public struct PlateauDetector: Sendable {
    public let rule: PlateauRule
    /// (step, held-out loss) of every evaluation so far.
    public private(set) var history: [(step: Int, loss: Double)] = []

    public init(rule: PlateauRule) { self.rule = rule }

    /// Records the held-out loss after `step` steps; true when training should stop.
    public mutating func record(step: Int, loss: Double) -> Bool {
        history.append((step, loss))
        guard step >= rule.minimumSteps, history.count > rule.window else { return false }
        let split = history.count - rule.window
        let before = history[..<split].map(\.loss).min()!
        let recent = history[split...].map(\.loss).min()!
        guard before.isFinite, recent.isFinite else { return !recent.isFinite }
        return before - recent < rule.relativeImprovement * max(abs(before), 1e-12)
    }
}

/// One σ, one data source: trains s̃₁, s̃₂ and a direct regression of x on x̃.
public struct SecondOrderTraining {
    public let sigma: Double
    public let dimension: Int
    public let settings: TrainingSettings

    public init(sigma: Double, dimension: Int, settings: TrainingSettings) {
        precondition(sigma > 0, "σ must be positive, got \(sigma)")
        self.sigma = sigma
        self.dimension = dimension
        self.settings = settings
    }

    /// A fresh Softplus MLP D → hidden → width, in Float64.
    public func network(width: Int, using rng: inout Xoshiro256) -> MLP<Double> {
        network(width: width, scalar: Double.self, using: &rng)
    }

    /// A fresh Softplus MLP D → hidden → width with elements of type `S`. Float32 and Float64
    /// networks drawn from the same generator state start from the same weights (up to rounding).
    public func network<S: TensorScalar>(width: Int, scalar: S.Type, using rng: inout Xoshiro256) -> MLP<S> {
        MLP<S>(sizes: [dimension] + settings.hidden + [width], activation: .softplus, using: &rng)
    }

    /// Draws a clean batch x, noise z and x̃ = x + σz. The draws are made in Float64 and rounded
    /// to `S`, so Float32 and Float64 training see the same random numbers.
    func batch<S: TensorScalar>(_ source: CleanSource, x: inout Tensor<S>, z: inout Tensor<S>, noisy: inout Tensor<S>,
                                workspace w: inout BatchWorkspace, using rng: inout Xoshiro256) {
        source.fill(&w.x, using: &rng)
        w.z.fillNormal(using: &rng)
        for i in 0..<w.x.count {
            let (xi, zi) = (w.x.scalars[i], w.z.scalars[i])
            x.scalars[i] = S(xi)
            z.scalars[i] = S(zi)
            noisy.scalars[i] = S(xi + sigma * zi)
        }
    }

    /// The plateau rule's fixed held-out batches (none without a rule), drawn from their own
    /// stream seeded by one draw of `rng`, so the training stream is shifted by one draw only
    /// when a rule is set.
    func heldOutBatches<S: TensorScalar>(_ source: CleanSource, scalar: S.Type, using rng: inout Xoshiro256)
        -> [(x: Tensor<S>, z: Tensor<S>, noisy: Tensor<S>)] {
        guard let rule = settings.plateau else { return [] }
        let (b, d) = (settings.batchSize, dimension)
        var x = Tensor<S>(shape: [b, d]), z = x, noisy = x
        var draws = BatchWorkspace(rows: b, columns: d)
        var heldRNG = Xoshiro256(seed: rng.next(), key: [0x686F_6C64])
        return (0..<rule.heldOutBatches).map { _ in
            batch(source, x: &x, z: &z, noisy: &noisy, workspace: &draws, using: &heldRNG)
            return (x, z, noisy)
        }
    }

    /// Float64 draws of one batch, reused across steps.
    struct BatchWorkspace {
        var x: Tensor<Double>, z: Tensor<Double>
        init(rows: Int, columns: Int) { x = Tensor(shape: [rows, columns]); z = x }
    }

    /// Trains s̃₁ with DSM (or DSM-VR) for `settings.steps` steps, or until `settings.plateau`
    /// says the held-out loss has stopped improving; `checkpoint(step, net)` is called at step 0,
    /// at each multiple of `every` and at the end.
    /// - Returns: the number of steps trained.
    @discardableResult
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func trainFirstOrder<S: TensorScalar>(_ net: MLP<S>, source: CleanSource, varianceReduced: Bool, every: Int = 0,
                                                 using rng: inout Xoshiro256, checkpoint: ((Int, MLP<S>) -> Void)? = nil) -> Int {
        let (b, d) = (settings.batchSize, dimension)
        let adam = Adam<S>(learningRate: settings.learningRate)
        var x = Tensor<S>(shape: [b, d]), z = x, noisy = x
        var draws = BatchWorkspace(rows: b, columns: d)
        var stacked = Tensor<S>(shape: [varianceReduced ? 2 * b : b, d])
        var dOut = stacked, g = x, gc = x
        /// The loss of the batch (x, z, x̃) in the buffers; gradients into dOut.
        func lossAndGradient() -> Double {
            if varianceReduced {
                stacked.scalars.replaceSubrange(0..<(b * d), with: noisy.scalars)
                stacked.scalars.replaceSubrange((b * d)..<(2 * b * d), with: x.scalars)
                let out = net.forward(stacked)
                let s = Tensor(shape: [b, d], scalars: Array(out.scalars[0..<(b * d)]))
                let c = Tensor(shape: [b, d], scalars: Array(out.scalars[(b * d)..<(2 * b * d)]))
                let l = SecondOrderDSM.firstOrderLossVR(score: s, cleanScore: c, noise: z, sigma: sigma, dScore: &g, dCleanScore: &gc)
                dOut.scalars.replaceSubrange(0..<(b * d), with: g.scalars)
                dOut.scalars.replaceSubrange((b * d)..<(2 * b * d), with: gc.scalars)
                return Double(l)
            } else {
                let out = net.forward(noisy)
                return Double(SecondOrderDSM.firstOrderLoss(score: Tensor(shape: out.shape, scalars: out.scalars), noise: z, sigma: sigma, dScore: &dOut))
            }
        }
        let heldOut = heldOutBatches(source, scalar: S.self, using: &rng)
        var detector = settings.plateau.map(PlateauDetector.init)
        var done = settings.steps
        for step in 0..<settings.steps {
            if let checkpoint, step == 0 || (every > 0 && step % every == 0) { checkpoint(step, net) }
            if let rule = settings.plateau, step > 0, step % rule.every == 0 {
                var total = 0.0
                for h in heldOut { (x, z, noisy) = h; total += lossAndGradient() }
                if detector!.record(step: step, loss: total / Double(heldOut.count)) { done = step; break }
            }
            batch(source, x: &x, z: &z, noisy: &noisy, workspace: &draws, using: &rng)
            net.zeroGradients()
            _ = lossAndGradient()
            net.backwardParameters(dOut)
            adam.step(net)
        }
        checkpoint?(done, net)
        return done
    }

    /// Trains a direct least-squares regression h(x̃) ≈ x (the comparison of HO-C1).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func trainRegression<S: TensorScalar>(_ net: MLP<S>, source: CleanSource, using rng: inout Xoshiro256) {
        let (b, d) = (settings.batchSize, dimension)
        let adam = Adam<S>(learningRate: settings.learningRate)
        var x = Tensor<S>(shape: [b, d]), z = x, noisy = x, dOut = x
        var draws = BatchWorkspace(rows: b, columns: d)
        for _ in 0..<settings.steps {
            batch(source, x: &x, z: &z, noisy: &noisy, workspace: &draws, using: &rng)
            net.zeroGradients()
            let out = net.forward(noisy)
            weightedSquaredError(prediction: out, target: x, rowWeights: nil, dPrediction: &dOut)
            net.backwardParameters(dOut)
            adam.step(net)
        }
    }

    /// Trains the s̃₂ head `head` (and, in the joint modes, `first` as well) with D2SM.
    /// - Parameters:
    ///   - loss: the D2SM objective (structure, form, scale).
    ///   - varianceReduced: D2SM-VR (three evaluation points per sample).
    ///   - firstOrderWeight: in the joint modes, L = scale·(w·DSM-VR/σ² + D2SM) as in the released
    ///     runners (w = 10 for low-rank MNIST, 1 for CIFAR-10).
    /// - Returns: the number of steps trained (fewer than `settings.steps` when
    ///   `settings.plateau` stopped it).
    @discardableResult
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public func trainSecondOrder<S: TensorScalar>(head: MLP<S>, first: MLP<S>, loss: SecondOrderDSM, mode: SecondOrderMode,
                                                  varianceReduced: Bool, firstOrderWeight: Double = 1, source: CleanSource, every: Int = 0,
                                                  using rng: inout Xoshiro256, checkpoint: ((Int, MLP<S>) -> Void)? = nil) -> Int {
        precondition(loss.dimension == dimension && loss.sigma == sigma, "D2SM loss for D = \(loss.dimension), σ = \(loss.sigma) used at D = \(dimension), σ = \(sigma)")
        let (b, d) = (settings.batchSize, dimension)
        let headAdam = Adam<S>(learningRate: settings.learningRate)
        let firstAdam = Adam<S>(learningRate: settings.learningRate)
        var x = Tensor<S>(shape: [b, d]), z = x, noisy = x
        var draws = BatchWorkspace(rows: b, columns: d)
        var step = SecondOrderGradients<S>(batchSize: b, loss: loss, mode: mode, varianceReduced: varianceReduced, firstOrderWeight: firstOrderWeight)
        // The held-out evaluation accumulates gradients it never applies; the next step zeroes them.
        let heldOut = heldOutBatches(source, scalar: S.self, using: &rng)
        var detector = settings.plateau.map(PlateauDetector.init)
        var done = settings.steps
        for t in 0..<settings.steps {
            if let checkpoint, t == 0 || (every > 0 && t % every == 0) { checkpoint(t, head) }
            if let rule = settings.plateau, t > 0, t % rule.every == 0 {
                var total = 0.0
                for h in heldOut { total += step.accumulate(head: head, first: first, x: h.x, z: h.z, noisy: h.noisy) }
                if detector!.record(step: t, loss: total / Double(heldOut.count)) { done = t; break }
            }
            batch(source, x: &x, z: &z, noisy: &noisy, workspace: &draws, using: &rng)
            _ = step.accumulate(head: head, first: first, x: x, z: z, noisy: noisy)
            headAdam.step(head)
            if mode != .frozen { firstAdam.step(first) }
        }
        checkpoint?(done, head)
        return done
    }
}

/// One D2SM step's loss and parameter gradients for a batch (x, z, x̃ = x + σz): the work of
/// `SecondOrderTraining.trainSecondOrder` between drawing the batch and the optimiser steps.
/// Buffers are kept across calls.
struct SecondOrderGradients<S: TensorScalar> {
    let loss: SecondOrderDSM
    let mode: SecondOrderMode
    let varianceReduced: Bool
    let firstOrderWeight: Double
    let b: Int
    var inputs: Tensor<S>, firstInputs: Tensor<S>
    var dHeadAll: Tensor<S>, dFirstAll: Tensor<S>
    var dHead: Tensor<S>, dScore: Tensor<S>?
    var dp: (head: Tensor<S>, score: Tensor<S>?), dm: (head: Tensor<S>, score: Tensor<S>?), dc: (head: Tensor<S>, score: Tensor<S>?)
    var g: Tensor<S>, gc: Tensor<S>

    init(batchSize b: Int, loss: SecondOrderDSM, mode: SecondOrderMode, varianceReduced: Bool, firstOrderWeight: Double) {
        precondition(mode == .frozen || loss.form == .a, "joint training uses form A (form B detaches s̃₁)")
        let d = loss.dimension, w = loss.structure.width(dimension: d)
        self.loss = loss
        self.mode = mode
        self.varianceReduced = varianceReduced
        self.firstOrderWeight = firstOrderWeight
        self.b = b
        let joint = mode != .frozen
        let copies = varianceReduced ? 3 : 1
        inputs = Tensor(shape: [copies * b, d])
        // In the joint modes s̃₁ also sees the clean x for its DSM-VR term.
        firstInputs = Tensor(shape: [(joint && !varianceReduced ? 2 : copies) * b, d])
        dHeadAll = Tensor(shape: [copies * b, w])
        dFirstAll = Tensor(shape: [firstInputs.rows, d])
        dHead = Tensor(shape: [b, w])
        dScore = mode == .joint ? Tensor(shape: [b, d]) : nil
        dp = (Tensor(shape: [b, w]), dScore)
        dm = dp
        dc = dp
        g = Tensor(shape: [b, d])
        gc = g
    }

    /// Zeroes and accumulates the gradients of `head` (and, in the joint modes, of `first`) and
    /// returns the loss they belong to: D2SM (plain or VR) plus, in the joint modes,
    /// scale·w·DSM-VR/σ² on s̃₁. In the detached mode s̃₁ receives only the DSM-VR part; in the
    /// frozen mode its accumulators are left alone.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    mutating func accumulate(head: MLP<S>, first: MLP<S>, x: Tensor<S>, z: Tensor<S>, noisy: Tensor<S>) -> Double {
        let d = loss.dimension, w = loss.structure.width(dimension: d), sigma = loss.sigma
        let joint = mode != .frozen
        let b = self.b
        precondition(x.shape == [b, d] && z.shape == x.shape && noisy.shape == x.shape, "D2SM step: batch shapes \(x.shape), \(z.shape), \(noisy.shape), expected [\(b), \(d)]")
        func rows(_ t: Tensor<S>, _ k: Int, _ width: Int) -> Tensor<S> {
            Tensor(shape: [b, width], scalars: Array(t.scalars[(k * b * width)..<((k + 1) * b * width)]))
        }
        func put(_ t: Tensor<S>, into all: inout Tensor<S>, _ k: Int) {
            all.scalars.replaceSubrange((k * t.count)..<((k + 1) * t.count), with: t.scalars)
        }
        if varianceReduced {
            for i in 0..<x.count {
                inputs.scalars[i] = noisy.scalars[i]
                inputs.scalars[x.count + i] = x.scalars[i] - S(sigma) * z.scalars[i]
                inputs.scalars[2 * x.count + i] = x.scalars[i]
            }
        } else {
            inputs.scalars.replaceSubrange(0..<x.count, with: noisy.scalars)
        }
        if joint && !varianceReduced {
            firstInputs.scalars.replaceSubrange(0..<x.count, with: noisy.scalars)
            firstInputs.scalars.replaceSubrange(x.count..<(2 * x.count), with: x.scalars)
        } else {
            firstInputs.scalars = inputs.scalars
        }
        head.zeroGradients()
        if joint { first.zeroGradients() }
        let firstOut = first.forward(firstInputs, retainForBackward: joint)
        let s1All = Tensor(shape: firstOut.shape, scalars: firstOut.scalars)
        let headOut = head.forward(inputs)
        let headAll = Tensor(shape: headOut.shape, scalars: headOut.scalars)
        dFirstAll.fill(0)
        var total: Double
        if varianceReduced {
            total = Double(loss.lossVR(plus: (rows(headAll, 0, w), rows(s1All, 0, d)), minus: (rows(headAll, 1, w), rows(s1All, 1, d)),
                                       clean: (rows(headAll, 2, w), rows(s1All, 2, d)), noise: z, dPlus: &dp, dMinus: &dm, dClean: &dc))
            put(dp.head, into: &dHeadAll, 0); put(dm.head, into: &dHeadAll, 1); put(dc.head, into: &dHeadAll, 2)
            if mode == .joint {
                put(dp.score!, into: &dFirstAll, 0); put(dm.score!, into: &dFirstAll, 1); put(dc.score!, into: &dFirstAll, 2)
            }
        } else {
            total = Double(loss.loss(head: headAll, score: rows(s1All, 0, d), noise: z, dHead: &dHead, dScore: &dScore))
            dHeadAll = dHead
            if mode == .joint { put(dScore!, into: &dFirstAll, 0) }
        }
        head.backwardParameters(dHeadAll)
        if joint {
            // + scale·w·DSM-VR/σ² on s̃₁ (x̃ rows 0, clean x rows: 2 with VR, 1 without).
            let cleanBlock = varianceReduced ? 2 : 1
            let factor = loss.scale * firstOrderWeight / (sigma * sigma)
            let dsm = SecondOrderDSM.firstOrderLossVR(score: rows(s1All, 0, d), cleanScore: rows(s1All, cleanBlock, d), noise: z, sigma: sigma,
                                                      dScore: &g, dCleanScore: &gc)
            total += factor * Double(dsm)
            let f = S(factor)
            for i in 0..<g.count {
                dFirstAll.scalars[i] += f * g.scalars[i]
                dFirstAll.scalars[cleanBlock * g.count + i] += f * gc.scalars[i]
            }
            first.backwardParameters(dFirstAll)
        }
        return total
    }
}

/// Error metrics of second-order score estimates (high-order spec §2.2) and the autodiff arm.
public enum SecondOrderMetrics {
    /// Symmetrised input Jacobians of `net` at `points`, [M, D, D], in blocks (memory).
    /// The network runs in its own precision; points and result are Float64.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func autodiffHessians<S: TensorScalar>(_ net: MLP<S>, _ points: Tensor<Double>, block: Int = 128) -> Tensor<Double> {
        let (m, d) = (points.rows, points.columns)
        var out = Tensor<Double>(shape: [m, d, d])
        var j = Tensor<S>(shape: [0])
        var start = 0
        while start < m {
            let n = min(block, m - start)
            let x = Tensor<S>(shape: [n, d], scalars: points.scalars[(start * d)..<((start + n) * d)].map { S($0) })
            net.inputJacobian(at: x, into: &j)
            for b in 0..<n {
                for r in 0..<d {
                    for c in 0..<d {
                        out.scalars[(start + b) * d * d + r * d + c] = 0.5 * (Double(j.scalars[b * d * d + r * d + c]) + Double(j.scalars[b * d * d + c * d + r]))
                    }
                }
            }
            start += n
        }
        return out
    }

    /// s̃₂ matrices of a D2SM head at `points`, [M, D, D].
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func headHessians<S: TensorScalar>(_ head: MLP<S>, _ loss: SecondOrderDSM, _ points: Tensor<Double>) -> Tensor<Double> {
        let out = head.forward(points.converted(to: S.self), retainForBackward: false)
        return loss.matrices(head: Tensor(shape: out.shape, scalars: out.scalars))
    }

    public struct PointErrors: Sendable, Codable {
        public var relativeFrobenius: [Double]
        public var mse: [Double]
        public var diagonalMSE: [Double]
    }

    /// Per-point errors of `estimate` against `truth` ([M, D, D]), over the first `rows` points.
    public static func errors(_ estimate: Tensor<Double>, _ truth: Tensor<Double>, rows: Int? = nil) -> PointErrors {
        let d = truth.shape[1], m = rows ?? truth.shape[0]
        var e = PointErrors(relativeFrobenius: [], mse: [], diagonalMSE: [])
        for b in 0..<m {
            var num = 0.0, den = 0.0, diag = 0.0
            for i in 0..<d {
                for k in 0..<d {
                    let t = truth.scalars[b * d * d + i * d + k]
                    let diff = estimate.scalars[b * d * d + i * d + k] - t
                    num += diff * diff
                    den += t * t
                    if i == k { diag += diff * diff }
                }
            }
            e.relativeFrobenius.append((num / den).squareRoot())
            e.mse.append(num / Double(d * d))
            e.diagonalMSE.append(diag / Double(d))
        }
        return e
    }

    /// Mean over points of ‖s̃₁ − s₁‖/‖s₁‖.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func firstOrderError<S: TensorScalar>(_ net: MLP<S>, _ points: Tensor<Double>, _ truth: Tensor<Double>) -> Double {
        let out = net.forward(points.converted(to: S.self), retainForBackward: false)
        let d = points.columns
        var total = 0.0
        for b in 0..<points.rows {
            var num = 0.0, den = 0.0
            for i in 0..<d {
                let t = truth.scalars[b * d + i]
                let e = Double(out.scalars[b * d + i]) - t
                num += e * e
                den += t * t
            }
            total += (num / den).squareRoot()
        }
        return total / Double(points.rows)
    }

}
