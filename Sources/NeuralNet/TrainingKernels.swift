// The training kernels of NeuralNet: activations (with their derivatives), the fused Adam update
// and the EMA of weights, each a C kernel in CKernels (libmvec-vectorised, see ckernels.h) for
// Float and for Double. They used to be `TensorScalar` requirements in TensorCore; they live here
// so that TensorCore is only tensors, BLAS/LAPACK and oneDNN. Each entry point checks the metatype
// once and calls the kernel of that type (callers split ranges across threads).
import CKernels
import TensorCore

/// The C kernels for one element type.
enum TrainingKernels<S: TensorScalar> {
    @inline(__always) private static var isFloat: Bool { S.self == Float.self }
    @inline(__always) private static func f(_ p: UnsafePointer<S>) -> UnsafePointer<Float> { rebound(p, Float.self) }
    @inline(__always) private static func f(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> { rebound(p, Float.self) }
    @inline(__always) private static func d(_ p: UnsafePointer<S>) -> UnsafePointer<Double> { rebound(p, Double.self) }
    @inline(__always) private static func d(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Double> { rebound(p, Double.self) }

    private static func checkType() {
        precondition(S.self == Float.self || S.self == Double.self, "NeuralNet kernels support Float and Double, not \(S.self)")
    }

    /// y = softplus(x); dydx = sigmoid(x) when not nil.
    static func softplus(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ dydx: UnsafeMutablePointer<S>?, _ n: Int) {
        checkType()
        if isFloat { ck_softplus_f32(f(x), f(y), dydx.map { f($0) }, n) } else { ck_softplus_f64(d(x), d(y), dydx.map { d($0) }, n) }
    }

    /// y = sigmoid(x).
    static func sigmoid(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        checkType()
        if isFloat { ck_sigmoid_f32(f(x), f(y), n) } else { ck_sigmoid_f64(d(x), d(y), n) }
    }

    /// y = x·sigmoid(x) (SiLU); its derivative into dydx when not nil.
    static func silu(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ dydx: UnsafeMutablePointer<S>?, _ n: Int) {
        checkType()
        if isFloat { ck_silu_f32(f(x), f(y), dydx.map { f($0) }, n) } else { ck_silu_f64(d(x), d(y), dydx.map { d($0) }, n) }
    }

    /// y = ELU(x) (alpha = 1); its derivative into dydx when not nil.
    static func elu(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ dydx: UnsafeMutablePointer<S>?, _ n: Int) {
        checkType()
        if isFloat { ck_elu_f32(f(x), f(y), dydx.map { f($0) }, n) } else { ck_elu_f64(d(x), d(y), dydx.map { d($0) }, n) }
    }

    /// One Adam/AMSGrad update over n parameters (formula in ckernels.h).
    static func adamUpdate(
        p: UnsafeMutablePointer<S>, g: UnsafePointer<S>, m: UnsafeMutablePointer<S>, v: UnsafeMutablePointer<S>,
        vmax: UnsafeMutablePointer<S>?, n: Int, beta1: S, beta2: S, eps: S, stepSize: S, vScale: S
    ) {
        checkType()
        if isFloat {
            ck_adam_f32(f(p), f(g), f(m), f(v), vmax.map { f($0) }, n, Float(beta1), Float(beta2), Float(eps), Float(stepSize), Float(vScale))
        } else {
            ck_adam_f64(d(p), d(g), d(m), d(v), vmax.map { d($0) }, n, Double(beta1), Double(beta2), Double(eps), Double(stepSize), Double(vScale))
        }
    }

    /// shadow = decay·shadow + (1 − decay)·p over n elements.
    static func emaUpdate(shadow: UnsafeMutablePointer<S>, p: UnsafePointer<S>, n: Int, decay: S) {
        checkType()
        if isFloat { ck_ema_f32(f(shadow), f(p), n, Float(decay)) } else { ck_ema_f64(d(shadow), d(p), n, Double(decay)) }
    }
}
