// Fully connected layer y = x W + b on a batch of row vectors.
//
// Layout: the weight is stored [inputSize, outputSize] (the transpose of PyTorch's
// [out, in]) so that every product is a plain row-major GEMM on the batch:
//   forward   y  = x W + b          (GEMM NN, after filling y's rows with b)
//   backward  dW += xᵀ dy           (GEMM TN, beta = 1: accumulates)
//             db += 1ᵀ dy           (GEMV with a ones vector)
//             dx  = dy Wᵀ           (GEMM NT)
// The pointer-level helpers below take a row range of W so that the MLP can feed the
// conditioning columns through the last rows of its first layer without concatenating them
// onto the input. Initialisation follows PyTorch: weight and bias ~ U(−1/√in, 1/√in).
import TensorCore

/// A fully connected layer: output [B, outputSize] = input [B, inputSize] · weight + bias.
public final class Linear<Scalar: TensorScalar>: Layer {
    /// Number of input features.
    public let inputSize: Int
    /// Number of output features.
    public let outputSize: Int
    /// The weight, [inputSize, outputSize] (row i holds the weights leaving input feature i).
    public var weight: Tensor<Scalar>
    /// The bias, [outputSize].
    public var bias: Tensor<Scalar>
    /// Accumulated gradient of the weight, [inputSize, outputSize].
    public var dWeight: Tensor<Scalar>
    /// Accumulated gradient of the bias, [outputSize].
    public var dBias: Tensor<Scalar>

    private let weightName: String
    private let biasName: String
    private let ones = ScratchBuffer<Scalar>()

    /// A layer with PyTorch's default initialisation U(−1/√inputSize, 1/√inputSize) for weight
    /// and bias, drawn from `rng` (weight first, row-major, then bias).
    /// - Parameter name: prefix for the parameter names ("weight", "bias" or "<name>.weight").
    public init<G: RandomNumberGenerator>(
        inputSize: Int, outputSize: Int, name: String = "", using rng: inout G
    ) {
        precondition(inputSize > 0 && outputSize > 0, "Linear needs positive sizes, got \(inputSize)→\(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Tensor(shape: [inputSize, outputSize])
        bias = Tensor(shape: [outputSize])
        dWeight = Tensor(shape: [inputSize, outputSize])
        dBias = Tensor(shape: [outputSize])
        weightName = name.isEmpty ? "weight" : name + ".weight"
        biasName = name.isEmpty ? "bias" : name + ".bias"
        uniformInit(&weight, fanIn: inputSize, using: &rng)
        uniformInit(&bias, fanIn: inputSize, using: &rng)
    }

    /// Enumerates "weight" then "bias" (with the name prefix given at initialisation).
    public func forEachParameter(
        _ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void
    ) rethrows {
        try body(weightName, &weight, &dWeight)
        try body(biasName, &bias, &dBias)
    }

    /// [B, inputSize] → [B, outputSize].
    public func outputShape(forInputShape inputShape: [Int]) -> [Int] { [inputShape[0], outputSize] }

    /// output [B, outputSize] = input [B, inputSize] · weight + bias.
    public func forward(_ input: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        precondition(input.columns == inputSize, "Linear.forward: input has \(input.columns) features, expected \(inputSize)")
        let b = input.rows
        ensureMatrix(&output, rows: b, columns: outputSize)
        guard b > 0 else { return }
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                fillBias(y.baseAddress!, rows: b)
                addProduct(x.baseAddress!, ldx: inputSize, rows: b, weightRows: 0..<inputSize, into: y.baseAddress!)
            }
        }
    }

    /// dInput [B, inputSize] = dOutput · weightᵀ; accumulates dWeight += inputᵀ dOutput and
    /// dBias += column sums of dOutput when `accumulateParameterGradients`.
    public func backward(
        input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
        accumulateParameterGradients: Bool = true
    ) {
        let b = input.rows
        precondition(input.columns == inputSize, "Linear.backward: input has \(input.columns) features, expected \(inputSize)")
        precondition(dOutput.rows == b && dOutput.columns == outputSize, "Linear.backward: dOutput \(dOutput.shape) does not match [\(b), \(outputSize)]")
        ensureMatrix(&dInput, rows: b, columns: inputSize)
        guard b > 0 else { return }
        input.withUnsafeBufferPointer { x in
            dOutput.withUnsafeBufferPointer { g in
                if accumulateParameterGradients {
                    accumulateWeightGradient(x.baseAddress!, ldx: inputSize, rows: b, weightRows: 0..<inputSize, dOutput: g.baseAddress!)
                    accumulateBiasGradient(g.baseAddress!, rows: b)
                }
                dInput.withUnsafeMutableBufferPointer { dx in
                    inputGradient(g.baseAddress!, rows: b, weightRows: 0..<inputSize, into: dx.baseAddress!, ldx: inputSize)
                }
            }
        }
    }

    // MARK: Pointer-level kernels (shared with MLP)

    /// Writes the bias into every row of y [rows, outputSize] (parallel).
    func fillBias(_ y: UnsafeMutablePointer<Scalar>, rows: Int) {
        bias.withUnsafeBufferPointer { bp in fillRows(y, rows: rows, columns: outputSize, with: bp.baseAddress!) }
    }

    /// y [rows, outputSize] += x [rows, |weightRows|] (row stride ldx) · weight[weightRows, :].
    func addProduct(
        _ x: UnsafePointer<Scalar>, ldx: Int, rows: Int, weightRows: Range<Int>, into y: UnsafeMutablePointer<Scalar>
    ) {
        let n = outputSize
        weight.withUnsafeBufferPointer { w in
            Scalar.gemm(
                transA: false, transB: false, m: rows, n: n, k: weightRows.count, alpha: 1,
                a: x, lda: ldx, b: w.baseAddress! + weightRows.lowerBound * n, ldb: n, beta: 1,
                c: y, ldc: n)
        }
    }

    /// dWeight[weightRows, :] += xᵀ (x is [rows, |weightRows|], row stride ldx) · dOutput [rows, outputSize].
    func accumulateWeightGradient(
        _ x: UnsafePointer<Scalar>, ldx: Int, rows: Int, weightRows: Range<Int>, dOutput: UnsafePointer<Scalar>
    ) {
        let n = outputSize
        dWeight.withUnsafeMutableBufferPointer { dw in
            Scalar.gemm(
                transA: true, transB: false, m: weightRows.count, n: n, k: rows, alpha: 1,
                a: x, lda: ldx, b: dOutput, ldb: n, beta: 1,
                c: dw.baseAddress! + weightRows.lowerBound * n, ldc: n)
        }
    }

    /// dBias += column sums of dOutput [rows, outputSize] (GEMV against a ones vector).
    func accumulateBiasGradient(_ dOutput: UnsafePointer<Scalar>, rows: Int) {
        if ones.capacity < rows {
            ones.reserve(rows)
            fillOnes(ones.pointer, ones.capacity)
        }
        let n = outputSize
        dBias.withUnsafeMutableBufferPointer { db in
            Scalar.gemv(
                trans: true, m: rows, n: n, alpha: 1, a: dOutput, lda: n, x: ones.pointer, beta: 1,
                y: db.baseAddress!)
        }
    }

    /// dx [rows, |weightRows|] (row stride ldx) = dOutput [rows, outputSize] · weight[weightRows, :]ᵀ.
    func inputGradient(
        _ dOutput: UnsafePointer<Scalar>, rows: Int, weightRows: Range<Int>,
        into dx: UnsafeMutablePointer<Scalar>, ldx: Int
    ) {
        let n = outputSize
        weight.withUnsafeBufferPointer { w in
            Scalar.gemm(
                transA: false, transB: true, m: rows, n: weightRows.count, k: n, alpha: 1,
                a: dOutput, lda: n, b: w.baseAddress! + weightRows.lowerBound * n, ldb: n, beta: 0,
                c: dx, ldc: ldx)
        }
    }
}
