// A small convolutional image classifier (for the sample-quality metrics of the image
// experiments: class labels of generated images and penultimate-layer features for FD, KID and
// PRDC). Built only from existing layers: Conv2D (oneDNN for Float32), pointwise activations and
// Linear; flattening is a view change (NCHW rows are contiguous), so no new differentiable layer
// is involved.
//
//   x [B, C, H, W] → for each i: conv3×3 (stride s_i, padding 1) → act      (feature maps)
//     → flatten [B, C_last·H_last·W_last] → Linear → act = features f [B, F]   (penultimate)
//     → Linear → logits [B, K]
//
// Parameters are enumerated conv0.weight, conv0.bias, …, hidden.weight, hidden.bias,
// output.weight, output.bias; initialisation is PyTorch's default from one generator in that
// order.
import TensorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shape of a `ConvClassifier`: conv channels and strides, hidden width, class count.
public struct ConvClassifierArchitecture: Codable, Sendable, Equatable {
    /// Image height H.
    public var height: Int
    /// Image width W.
    public var width: Int
    /// Input channels C (1 for the gray images).
    public var inputChannels: Int
    /// Output channels of each 3×3 convolution, in order.
    public var convolutionChannels: [Int]
    /// Stride of each convolution (1 or 2), in order.
    public var convolutionStrides: [Int]
    /// Width F of the penultimate (feature) layer.
    public var hidden: Int
    /// Number of classes K.
    public var classes: Int
    /// The nonlinearity after every convolution and after the hidden layer.
    public var activation: ActivationKind

    /// An architecture; see the properties.
    public init(height: Int, width: Int, inputChannels: Int = 1, convolutionChannels: [Int], convolutionStrides: [Int],
                hidden: Int, classes: Int, activation: ActivationKind = .relu) {
        self.height = height
        self.width = width
        self.inputChannels = inputChannels
        self.convolutionChannels = convolutionChannels
        self.convolutionStrides = convolutionStrides
        self.hidden = hidden
        self.classes = classes
        self.activation = activation
    }

    /// Why this architecture cannot be built, or nil when it can.
    public var problem: String? {
        if height < 1 || width < 1 || inputChannels < 1 { return "image size and input channels must be positive" }
        if convolutionChannels.isEmpty || convolutionChannels.count != convolutionStrides.count {
            return "need one stride per convolution (\(convolutionChannels.count) channel counts, \(convolutionStrides.count) strides)"
        }
        if convolutionChannels.contains(where: { $0 < 1 }) || convolutionStrides.contains(where: { $0 < 1 || $0 > 2 }) {
            return "convolution channels must be positive and strides 1 or 2"
        }
        if hidden < 1 || classes < 2 { return "need a positive hidden width and at least 2 classes" }
        return nil
    }

    /// [C_last, H_last, W_last] after the convolutions (3×3, padding 1: n → (n − 1)/s + 1).
    public var featureMapShape: [Int] {
        var (h, w) = (height, width)
        for s in convolutionStrides {
            h = (h - 1) / s + 1
            w = (w - 1) / s + 1
        }
        return [convolutionChannels.last ?? inputChannels, h, w]
    }
}

/// The classifier described in the file header.
public final class ConvClassifier<Scalar: TensorScalar>: Layer {
    /// The architecture it was built with.
    public let architecture: ConvClassifierArchitecture
    let convolutions: [Conv2D<Scalar>]
    let convolutionActivations: [Activation<Scalar>]
    let hiddenLayer: Linear<Scalar>
    let hiddenActivation: Activation<Scalar>
    let outputLayer: Linear<Scalar>

    // Activations of the last forward: pre-activations c_i and activations a_i of each conv, the
    // hidden pre-activation h and the features f.
    private var preActivations: [Tensor<Scalar>]
    private var activations: [Tensor<Scalar>]
    private var hiddenPre = Tensor<Scalar>(shape: [0])
    private var featureValues = Tensor<Scalar>(shape: [0])
    private var gA = Tensor<Scalar>(shape: [0]), gB = Tensor<Scalar>(shape: [0])

    /// A classifier with PyTorch's default initialisation from `rng` (convolutions in order, then
    /// the hidden and output layers).
    /// - Precondition: `architecture.problem == nil`.
    public init<G: RandomNumberGenerator>(_ architecture: ConvClassifierArchitecture, using rng: inout G) {
        precondition(architecture.problem == nil, "ConvClassifier: \(architecture.problem ?? "")")
        self.architecture = architecture
        var convs: [Conv2D<Scalar>] = []
        var channels = architecture.inputChannels
        for (i, (c, s)) in zip(architecture.convolutionChannels, architecture.convolutionStrides).enumerated() {
            convs.append(Conv2D(inputChannels: channels, outputChannels: c, kernelSize: 3, stride: s, padding: 1,
                                name: "conv\(i)", using: &rng))
            channels = c
        }
        convolutions = convs
        convolutionActivations = convs.map { _ in Activation(architecture.activation) }
        hiddenLayer = Linear(inputSize: architecture.featureMapShape.reduce(1, *), outputSize: architecture.hidden,
                             name: "hidden", using: &rng)
        hiddenActivation = Activation(architecture.activation)
        outputLayer = Linear(inputSize: architecture.hidden, outputSize: architecture.classes, name: "output", using: &rng)
        preActivations = convs.map { _ in Tensor(shape: [0]) }
        activations = convs.map { _ in Tensor(shape: [0]) }
    }

    public func forEachParameter(_ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void) rethrows {
        for c in convolutions { try c.forEachParameter(body) }
        try hiddenLayer.forEachParameter(body)
        try outputLayer.forEachParameter(body)
    }

    /// [B, C·H·W] or [B, C, H, W] → [B, K].
    public func outputShape(forInputShape s: [Int]) -> [Int] { [s[0], architecture.classes] }

    /// The penultimate-layer features f [B, F] of the last forward.
    public var features: Tensor<Scalar> { featureValues }

    /// The convolutions (to inspect or switch their backend).
    public var convolutionLayers: [Conv2D<Scalar>] { convolutions }

    /// logits [B, K] for images [B, C·H·W] (flattened) or [B, C, H, W]; keeps the activations
    /// for `backward` and the features for `features`.
    public func forward(_ input: Tensor<Scalar>, into logits: inout Tensor<Scalar>) {
        let a = architecture
        precondition(input.columns == a.inputChannels * a.height * a.width,
                     "ConvClassifier: input \(input.shape) does not hold \(a.inputChannels)×\(a.height)×\(a.width) images")
        let x = input.rank == 4 ? input : input.reshaped([input.rows, a.inputChannels, a.height, a.width])
        for i in convolutions.indices {
            convolutions[i].forward(i == 0 ? x : activations[i - 1], into: &preActivations[i])
            convolutionActivations[i].forward(preActivations[i], into: &activations[i])
        }
        hiddenLayer.forward(activations[activations.count - 1], into: &hiddenPre)
        hiddenActivation.forward(hiddenPre, into: &featureValues)
        outputLayer.forward(featureValues, into: &logits)
    }

    /// The backward of the last forward: dInput (shape of the input) and, when asked, the
    /// parameter gradients (added to the accumulators).
    public func backward(input: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dInput: inout Tensor<Scalar>,
                         accumulateParameterGradients: Bool = true) {
        let acc = accumulateParameterGradients
        let a = architecture
        let x = input.rank == 4 ? input : input.reshaped([input.rows, a.inputChannels, a.height, a.width])
        outputLayer.backward(input: featureValues, dOutput: dOutput, into: &gA, accumulateParameterGradients: acc)
        hiddenActivation.backward(input: hiddenPre, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        let last = convolutions.count - 1
        hiddenLayer.backward(input: activations[last], dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        for i in stride(from: last, through: 0, by: -1) {
            gA.reshape(preActivations[i].shape)  // dA_i (the hidden layer's dInput is [B, F0])
            convolutionActivations[i].backward(input: preActivations[i], dOutput: gA, into: &gB, accumulateParameterGradients: acc)
            if i > 0 {
                convolutions[i].backward(input: activations[i - 1], dOutput: gB, into: &gA, accumulateParameterGradients: acc)
            } else {
                convolutions[i].backward(input: x, dOutput: gB, into: &dInput, accumulateParameterGradients: acc)
            }
        }
        if input.rank != 4 { dInput.reshape(input.shape) }
    }
}

/// Softmax cross-entropy, mean over the batch, and its gradient:
///
///     L = −(1/B) Σ_b log softmax(z_b)[y_b],      ∂L/∂z_bk = (softmax(z_b)_k − [k = y_b]) / B.
///
/// Computed per row in Double with the max subtracted (no overflow for large logits).
/// - Parameters:
///   - logits: [B, K].
///   - labels: B labels in 0..<K.
///   - dLogits: receives ∂L/∂logits, [B, K].
/// - Returns: L.
@discardableResult
public func softmaxCrossEntropy<Scalar: TensorScalar>(logits: Tensor<Scalar>, labels: [Int], dLogits: inout Tensor<Scalar>) -> Double {
    let (b, k) = (logits.rows, logits.columns)
    precondition(labels.count == b, "softmaxCrossEntropy: \(labels.count) labels for \(b) rows")
    precondition(labels.allSatisfy { $0 >= 0 && $0 < k }, "softmaxCrossEntropy: labels must lie in 0..<\(k)")
    ensureMatrix(&dLogits, rows: b, columns: k)
    var total = 0.0
    var p = [Double](repeating: 0, count: k)
    logits.withUnsafeBufferPointer { z in
        dLogits.withUnsafeMutableBufferPointer { g in
            for r in 0..<b {
                var m = -Double.infinity
                for c in 0..<k { m = Swift.max(m, Double(z[r * k + c])) }
                var sum = 0.0
                for c in 0..<k {
                    p[c] = exp(Double(z[r * k + c]) - m)
                    sum += p[c]
                }
                total -= Double(z[r * k + labels[r]]) - m - log(sum)
                for c in 0..<k {
                    let q = p[c] / sum - (c == labels[r] ? 1 : 0)
                    g[r * k + c] = Scalar(q / Double(b))
                }
            }
        }
    }
    return total / Double(b)
}

/// The index of the largest logit of each row of `logits` [B, K] (the first on ties).
public func argmaxRows<Scalar: TensorScalar>(_ logits: Tensor<Scalar>) -> [Int] {
    let (b, k) = (logits.rows, logits.columns)
    return (0..<b).map { r in
        var best = 0
        for c in 1..<k where logits.scalars[r * k + c] > logits.scalars[r * k + best] { best = c }
        return best
    }
}
