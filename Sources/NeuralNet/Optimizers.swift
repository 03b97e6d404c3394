// Adam/AMSGrad and an exponential moving average (EMA) of weights.
//
// Adam follows Kingma & Ba (2015, Alg. 1) with PyTorch's placement of epsilon: after step t,
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  θ ← θ − lr/(1−β1^t) · m / (sqrt(v/(1−β2^t)) + ε),
// and AMSGrad (Reddi et al. 2018, PyTorch variant) replaces v in the denominator by the running
// maximum vmax of v. The bias corrections are computed once per step in Double and passed to the
// fused C kernel `adamUpdate` as stepSize and vScale; each parameter tensor is split over
// `Parallel.threads` with `Parallel.forEachChunk`. State tensors are allocated on the first step
// and reused, so a step allocates nothing afterwards.
//
// The EMA keeps shadow = decay·shadow + (1−decay)·θ after each optimiser step (as in NCSN/score
// SDE training), starting from a copy of the parameters, and can copy or swap its weights into
// the model for evaluation.
import TensorCore

/// The Adam optimiser (optionally AMSGrad) over the parameters of a `ParameterContainer`.
public final class Adam<Scalar: TensorScalar> {
    /// Learning rate lr.
    public var learningRate: Double
    /// Decay of the first moment, β1.
    public var beta1: Double
    /// Decay of the second moment, β2.
    public var beta2: Double
    /// Denominator offset ε.
    public var epsilon: Double
    /// Use the AMSGrad maximum of the second moment.
    public let amsgrad: Bool
    /// Number of steps taken (t after the latest step).
    public var stepCount: Int = 0

    /// First moments m, one per parameter in enumeration order (empty before the first step).
    public var firstMoments: [Tensor<Scalar>] = []
    /// Second moments v, one per parameter in enumeration order.
    public var secondMoments: [Tensor<Scalar>] = []
    /// AMSGrad running maxima of v (empty unless `amsgrad`).
    public var maxSecondMoments: [Tensor<Scalar>] = []

    /// An Adam optimiser with PyTorch's defaults.
    public init(
        learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
        amsgrad: Bool = false
    ) {
        precondition(learningRate >= 0, "learning rate must be non-negative")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must lie in [0, 1)")
        precondition(epsilon >= 0, "epsilon must be non-negative")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
    }

    /// Forgets the moments and the step count.
    public func reset() {
        stepCount = 0
        firstMoments = []
        secondMoments = []
        maxSecondMoments = []
    }

    /// One update of every parameter of `model` from its accumulated gradients (which are left
    /// as they are: call `zeroGradients()` before the next backward).
    public func step<Model: ParameterContainer>(_ model: Model) where Model.Scalar == Scalar {
        if firstMoments.isEmpty {
            model.forEachParameter { _, value, _ in
                firstMoments.append(Tensor(shape: value.shape))
                secondMoments.append(Tensor(shape: value.shape))
                if amsgrad { maxSecondMoments.append(Tensor(shape: value.shape)) }
            }
        }
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = Scalar(learningRate / (1 - _pow(beta1, t)))
        let vScale = Scalar(1 / (1 - _pow(beta2, t)))
        let (b1, b2, eps) = (Scalar(beta1), Scalar(beta2), Scalar(epsilon))
        var index = 0
        model.forEachParameter { name, value, gradient in
            precondition(index < firstMoments.count && firstMoments[index].count == value.count,
                         "Adam.step: parameter \(name) does not match the optimiser state (different model?)")
            precondition(gradient.count == value.count, "Adam.step: gradient of \(name) has the wrong size")
            let n = value.count
            value.withUnsafeMutableBufferPointer { p in
                gradient.withUnsafeBufferPointer { g in
                    firstMoments[index].withUnsafeMutableBufferPointer { m in
                        secondMoments[index].withUnsafeMutableBufferPointer { v in
                            let (pp, gp, mp, vp) = (p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
                            if amsgrad {
                                maxSecondMoments[index].withUnsafeMutableBufferPointer { vm in
                                    let vmp = vm.baseAddress!
                                    Parallel.forEachChunk(count: n) { r in
                                        let o = r.lowerBound
                                        TrainingKernels<Scalar>.adamUpdate(
                                            p: pp + o, g: gp + o, m: mp + o, v: vp + o, vmax: vmp + o, n: r.count,
                                            beta1: b1, beta2: b2, eps: eps, stepSize: stepSize, vScale: vScale)
                                    }
                                }
                            } else {
                                Parallel.forEachChunk(count: n) { r in
                                    let o = r.lowerBound
                                    TrainingKernels<Scalar>.adamUpdate(
                                        p: pp + o, g: gp + o, m: mp + o, v: vp + o, vmax: nil, n: r.count,
                                        beta1: b1, beta2: b2, eps: eps, stepSize: stepSize, vScale: vScale)
                                }
                            }
                        }
                    }
                }
            }
            index += 1
        }
        precondition(index == firstMoments.count, "Adam.step: the model has fewer parameters than the optimiser state")
    }
}

/// An exponential moving average of a model's parameters.
public final class ExponentialMovingAverage<Scalar: TensorScalar> {
    /// The decay d in shadow ← d·shadow + (1−d)·θ.
    public let decay: Double
    /// The averaged parameters, in the model's enumeration order.
    public var shadow: [Tensor<Scalar>]
    /// The parameter names, in the model's enumeration order.
    public let names: [String]
    /// Number of updates applied.
    public internal(set) var updateCount = 0
    /// Whether the average is bias-corrected (issue 27): the weights' average s_t normalised by
    /// 1 − d^t, where s_0 = 0. The initial (random) weights then carry no weight once one update
    /// has been made, instead of d^t of it (13.5 % after 2000 steps at d = 0.999).
    public let biasCorrected: Bool

    /// Starts the average at a copy of the current parameters of `model`.
    /// - Parameter biasCorrected: normalise by 1 − d^t (Adam's correction applied to the
    ///   average; the same as the decay schedule d_t = d (1 − d^(t−1)) / (1 − d^t), which `update`
    ///   uses so that the shadow is always the corrected average itself).
    public init<Model: ParameterContainer>(decay: Double, of model: Model, biasCorrected: Bool = false) where Model.Scalar == Scalar {
        precondition(decay >= 0 && decay <= 1, "EMA decay must lie in [0, 1], got \(decay)")
        self.decay = decay
        self.biasCorrected = biasCorrected
        var shadow: [Tensor<Scalar>] = []
        var names: [String] = []
        model.forEachParameter { name, value, _ in
            shadow.append(value)
            names.append(name)
        }
        self.shadow = shadow
        self.names = names
    }

    /// The decay applied by update number `t` (1-based): d, or for the bias-corrected average
    /// d (1 − d^(t−1)) / (1 − d^t), which is 0 at t = 1 (the average starts at the first trained
    /// weights) and tends to d.
    public static func effectiveDecay(_ d: Double, update t: Int, biasCorrected: Bool) -> Double {
        guard biasCorrected, d < 1 else { return d }
        return d * (1 - _pow(d, Double(t - 1))) / (1 - _pow(d, Double(t)))
    }

    /// The share of the initial weights in an average after `updates` updates: d^updates for
    /// the plain average started at the initial weights, 0 for the bias-corrected one (once it
    /// has been updated). Recorded in the image experiments' config.json.
    public static func initialWeightShare(decay d: Double, updates: Int, biasCorrected: Bool) -> Double {
        if biasCorrected && updates >= 1 { return 0 }
        return _pow(d, Double(updates))
    }

    /// The share of the initial weights in the current average.
    public var initialWeightShare: Double {
        Self.initialWeightShare(decay: decay, updates: updateCount, biasCorrected: biasCorrected)
    }

    private func check(_ index: Int, _ name: String, _ count: Int) {
        precondition(index < shadow.count && shadow[index].count == count && names[index] == name,
                     "EMA: parameter \(name) does not match the averaged model")
    }

    /// shadow ← d_t·shadow + (1−d_t)·θ for every parameter (call after each optimiser step), with
    /// d_t = `effectiveDecay(decay, update: t, biasCorrected:)`.
    public func update<Model: ParameterContainer>(from model: Model) where Model.Scalar == Scalar {
        let d = Scalar(Self.effectiveDecay(decay, update: updateCount + 1, biasCorrected: biasCorrected))
        var index = 0
        model.forEachParameter { name, value, _ in
            check(index, name, value.count)
            let n = value.count
            value.withUnsafeBufferPointer { p in
                shadow[index].withUnsafeMutableBufferPointer { s in
                    let (pp, sp) = (p.baseAddress!, s.baseAddress!)
                    Parallel.forEachChunk(count: n) { r in
                        TrainingKernels<Scalar>.emaUpdate(shadow: sp + r.lowerBound, p: pp + r.lowerBound, n: r.count, decay: d)
                    }
                }
            }
            index += 1
        }
        updateCount += 1
    }

    /// Overwrites the model's parameters with the averaged ones.
    public func copy<Model: ParameterContainer>(to model: Model) where Model.Scalar == Scalar {
        var index = 0
        model.forEachParameter { name, value, _ in
            check(index, name, value.count)
            value.scalars = shadow[index].scalars
            index += 1
        }
    }

    /// Exchanges the model's parameters with the averaged ones (O(1) per tensor); call again to
    /// swap back, e.g. `ema.swap(with: model); evaluate(model); ema.swap(with: model)`. Between
    /// the two calls the EMA holds the training weights, so do not `update` in between.
    public func swap<Model: ParameterContainer>(with model: Model) where Model.Scalar == Scalar {
        var index = 0
        model.forEachParameter { name, value, _ in
            check(index, name, value.count)
            Swift.swap(&value, &shadow[index])
            index += 1
        }
    }
}

extension ExponentialMovingAverage {
    /// Restores a saved state (checkpoint resume): the averaged tensors in enumeration order and
    /// the number of updates applied.
    /// - Precondition: as many tensors as parameters, each with the element count of its parameter.
    public func restore(shadow saved: [Tensor<Scalar>], updateCount count: Int) {
        precondition(saved.count == shadow.count, "EMA.restore: \(saved.count) tensors for \(shadow.count) parameters")
        for (i, t) in saved.enumerated() {
            precondition(t.count == shadow[i].count, "EMA.restore: parameter \(names[i]) has \(shadow[i].count) values, got \(t.count)")
            shadow[i].scalars = t.scalars
        }
        updateCount = count
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) private func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
