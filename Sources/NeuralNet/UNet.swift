// The image score network: a small U-Net with residual blocks, GroupNorm and SiLU, conditioned
// on the noise level by dividing its output by σ (NCSNv2, Song & Ermon 2020, §3.3).
//
// Architecture (C base channels; every conv 3×3 with padding 1 unless said; GN = GroupNorm with
// 8 groups and affine parameters; input side S divisible by 4):
//   RB(cin→cout): h = conv(SiLU(GN(x))); h = conv(SiLU(GN(h))); out = h + (x or conv1×1(x)).
//   x [B, 1, S, S] → conv 1→C → RB(C→C) = h1 → conv s2 C→2C (S/2) → RB(2C→2C) = h2
//   → conv s2 2C→2C (S/4) → RB(2C→2C) → RB(2C→2C) → nearest ×2 → conv 2C→2C → concat h2
//   → RB(4C→2C) → nearest ×2 → conv 2C→C → concat h1 → RB(2C→C) → GN → SiLU → conv C→out
//   → divide example b by σ_b.
// At C = 32 with one input and one output channel it has 501,793 parameters (PyTorch's count
// for the same net). Parameters are enumerated in the order above with dotted names
// ("rb1.conv1.weight"). Every layer object is used once per forward, so each keeps what its own
// backward needs; the network keeps the intermediate activations.
//
// Threads (issue 32): a batch of more than `trainingPieceImages` images is cut into pieces of that
// many, a number that never depends on the thread count. Piece p runs its forward and its
// backward whole on one thread (oneDNN's team size 1), on replica p, a network that shares this
// one's parameters and keeps that piece's activations; workers take pieces as they finish them.
// Each replica's parameter gradients are computed on their own and added to this network's in
// piece order, so the result is the same at any thread count (the sums over a batch run piece by
// piece, in another order than one whole-batch call's: the two agree to Float32 rounding).
import TensorCore

/// RB(cin→cout): GN → SiLU → conv → GN → SiLU → conv, plus the identity or a 1×1 conv skip.
public final class ResidualBlock<Scalar: TensorScalar>: Layer {
    let norm1: GroupNorm<Scalar>, act1 = Activation<Scalar>(.silu), conv1: Conv2D<Scalar>
    let norm2: GroupNorm<Scalar>, act2 = Activation<Scalar>(.silu), conv2: Conv2D<Scalar>
    let skip: Conv2D<Scalar>?
    // Activations of the last forward: n1 = GN(x), a1 = SiLU(n1), c1 = conv(a1), n2, a2.
    var n1 = Tensor<Scalar>(shape: [0]), a1 = Tensor<Scalar>(shape: [0]), c1 = Tensor<Scalar>(shape: [0])
    var n2 = Tensor<Scalar>(shape: [0]), a2 = Tensor<Scalar>(shape: [0])
    var g1 = Tensor<Scalar>(shape: [0]), g2 = Tensor<Scalar>(shape: [0]), gSkip = Tensor<Scalar>(shape: [0])

    /// A residual block with 8-group norms, initialised from `rng` (conv1, conv2, then the skip).
    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, groups: Int = 8, name: String, using rng: inout G) {
        norm1 = GroupNorm(groups: groups, channels: inputChannels, name: name + ".norm1")
        conv1 = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, name: name + ".conv1", using: &rng)
        norm2 = GroupNorm(groups: groups, channels: outputChannels, name: name + ".norm2")
        conv2 = Conv2D(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, name: name + ".conv2", using: &rng)
        skip = inputChannels == outputChannels ? nil
            : Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, name: name + ".skip", using: &rng)
    }

    public func forEachParameter(_ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void) rethrows {
        try norm1.forEachParameter(body)
        try conv1.forEachParameter(body)
        try norm2.forEachParameter(body)
        try conv2.forEachParameter(body)
        try skip?.forEachParameter(body)
    }

    public func outputShape(forInputShape s: [Int]) -> [Int] { conv2.outputShape(forInputShape: conv1.outputShape(forInputShape: s)) }

    public func forward(_ x: Tensor<Scalar>, into out: inout Tensor<Scalar>) {
        norm1.forward(x, into: &n1)
        act1.forward(n1, into: &a1)
        conv1.forward(a1, into: &c1)
        norm2.forward(c1, into: &n2)
        act2.forward(n2, into: &a2)
        conv2.forward(a2, into: &out)
        if let skip {
            skip.forward(x, into: &gSkip)
            out.add(gSkip)
        } else {
            out.add(x)
        }
    }

    public func backward(input x: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dx: inout Tensor<Scalar>,
                         accumulateParameterGradients: Bool = true) {
        let acc = accumulateParameterGradients
        conv2.backward(input: a2, dOutput: dOutput, into: &g1, accumulateParameterGradients: acc)
        act2.backward(input: n2, dOutput: g1, into: &g2, accumulateParameterGradients: acc)
        norm2.backward(input: c1, dOutput: g2, into: &g1, accumulateParameterGradients: acc)
        conv1.backward(input: a1, dOutput: g1, into: &g2, accumulateParameterGradients: acc)
        act1.backward(input: n1, dOutput: g2, into: &g1, accumulateParameterGradients: acc)
        norm1.backward(input: x, dOutput: g1, into: &dx, accumulateParameterGradients: acc)
        if let skip {
            skip.backward(input: x, dOutput: dOutput, into: &gSkip, accumulateParameterGradients: acc)
            dx.add(gSkip)
        } else {
            dx.add(dOutput)
        }
    }
}

/// The NCSNv2-style image score network described in the file header.
public final class UNet<Scalar: TensorScalar>: Layer {
    /// Base channel count C.
    public let baseChannels: Int
    /// Input channels (1 for the gray images).
    public let inputChannels: Int
    /// Output channels (1 for a score; 1 + r + 1 for the high-order heads).
    public let outputChannels: Int

    let convIn: Conv2D<Scalar>, rb1: ResidualBlock<Scalar>, down1: Conv2D<Scalar>, rb2: ResidualBlock<Scalar>
    let down2: Conv2D<Scalar>, rb3: ResidualBlock<Scalar>, rb4: ResidualBlock<Scalar>
    let up1 = Upsample2D<Scalar>(factor: 2), upConv1: Conv2D<Scalar>, rb5: ResidualBlock<Scalar>
    let up2 = Upsample2D<Scalar>(factor: 2), upConv2: Conv2D<Scalar>, rb6: ResidualBlock<Scalar>
    let normOut: GroupNorm<Scalar>, actOut = Activation<Scalar>(.silu), convOut: Conv2D<Scalar>

    // Activations of the last forward (names as in the backward below).
    var t0 = Tensor<Scalar>(shape: [0]), h1 = Tensor<Scalar>(shape: [0]), t1 = Tensor<Scalar>(shape: [0])
    var h2 = Tensor<Scalar>(shape: [0]), t2 = Tensor<Scalar>(shape: [0]), t3 = Tensor<Scalar>(shape: [0])
    var t4 = Tensor<Scalar>(shape: [0]), u1 = Tensor<Scalar>(shape: [0]), t5 = Tensor<Scalar>(shape: [0])
    var k1 = Tensor<Scalar>(shape: [0]), t6 = Tensor<Scalar>(shape: [0]), u2 = Tensor<Scalar>(shape: [0])
    var t7 = Tensor<Scalar>(shape: [0]), k2 = Tensor<Scalar>(shape: [0]), t8 = Tensor<Scalar>(shape: [0])
    var nOut = Tensor<Scalar>(shape: [0]), aOut = Tensor<Scalar>(shape: [0])
    var inverseSigma = Tensor<Scalar>(shape: [0])  // [B], 1/σ_b of the last forward
    // Backward workspaces.
    var gA = Tensor<Scalar>(shape: [0]), gB = Tensor<Scalar>(shape: [0]), gSkip1 = Tensor<Scalar>(shape: [0])
    var gSkip2 = Tensor<Scalar>(shape: [0]), gOut = Tensor<Scalar>(shape: [0])
    /// Working tensors of `forwardInference` (BlockedInference.swift), allocated on first use.
    let blockedBuffers = BlockedUNetBuffers()
    /// Images per piece of the training forward and backward (file header): the unit of work
    /// their threads take, never dependent on the thread count.
    public var trainingPieceImages = 16 {
        didSet { precondition(trainingPieceImages >= 1, "UNet: trainingPieceImages must be positive, got \(trainingPieceImages)") }
    }
    /// Whether the Float32 training forward and backward keep their activations in oneDNN's
    /// channel-blocked layout when they can (`trainingBlock`; UNet+BlockedTraining.swift). Off,
    /// they use NCHW, the layout of the Float64 reference; the two agree to Float32 rounding.
    public var blockedTraining = true
    /// The channel block the last whole-piece forward used (nil: NCHW), for its backward.
    var lastTrainingBlock: Int?
    /// Replica p ran piece p of the last forward (kept for its backward); made on first use.
    private var pieceReplicas: [UNet<Scalar>] = []
    /// Pieces of the last forward (0: it ran whole) and its batch size.
    private var lastPieces = 0, lastPieceBatch = 0
    // The piece this network runs for a piece-parallel call: input, noise levels, output, and the
    // backward's dOutput and dInput.
    var pieceInput = Tensor<Scalar>(shape: [0]), pieceSigmas = Tensor<Scalar>(shape: [0])
    var pieceOutput = Tensor<Scalar>(shape: [0])
    private var pieceDOutput = Tensor<Scalar>(shape: [0]), pieceDInput = Tensor<Scalar>(shape: [0])
    /// Images per piece of `forwardInference` (BlockedInference.swift): the unit of work its
    /// threads take, never dependent on the thread count. Per image at one thread (AVX-512 host),
    /// 16 was the fastest of 8, 16, 32 and 64 at width 16 and within 1 % of the fastest (8) at
    /// width 32; pieces of 8 did not balance better under a competing process (README).
    public var inferencePieceImages = 16 {
        didSet { precondition(inferencePieceImages >= 1, "UNet: inferencePieceImages must be positive, got \(inferencePieceImages)") }
    }

    /// A U-Net with base channels C, initialised from `rng` in the order of the file header.
    public init<G: RandomNumberGenerator>(baseChannels c: Int = 32, inputChannels: Int = 1, outputChannels: Int = 1, using rng: inout G) {
        precondition(c > 0 && c % 8 == 0, "UNet: base channels must be a positive multiple of 8 (GroupNorm with 8 groups), got \(c)")
        precondition(inputChannels > 0 && outputChannels > 0, "UNet: channel counts must be positive")
        baseChannels = c
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        func conv(_ i: Int, _ o: Int, stride: Int = 1, _ name: String) -> Conv2D<Scalar> {
            Conv2D(inputChannels: i, outputChannels: o, kernelSize: 3, stride: stride, padding: 1, name: name, using: &rng)
        }
        convIn = conv(inputChannels, c, "convIn")
        rb1 = ResidualBlock(inputChannels: c, outputChannels: c, name: "rb1", using: &rng)
        down1 = conv(c, 2 * c, stride: 2, "down1")
        rb2 = ResidualBlock(inputChannels: 2 * c, outputChannels: 2 * c, name: "rb2", using: &rng)
        down2 = conv(2 * c, 2 * c, stride: 2, "down2")
        rb3 = ResidualBlock(inputChannels: 2 * c, outputChannels: 2 * c, name: "rb3", using: &rng)
        rb4 = ResidualBlock(inputChannels: 2 * c, outputChannels: 2 * c, name: "rb4", using: &rng)
        upConv1 = conv(2 * c, 2 * c, "upConv1")
        rb5 = ResidualBlock(inputChannels: 4 * c, outputChannels: 2 * c, name: "rb5", using: &rng)
        upConv2 = conv(2 * c, c, "upConv2")
        rb6 = ResidualBlock(inputChannels: 2 * c, outputChannels: c, name: "rb6", using: &rng)
        normOut = GroupNorm(groups: 8, channels: c, name: "normOut")
        convOut = conv(c, outputChannels, "convOut")
    }

    /// Every Conv2D of the network (to switch `backend` or inspect oneDNN's choices).
    public var convolutions: [Conv2D<Scalar>] {
        [convIn, down1, down2, upConv1, upConv2, convOut]
            + [rb1, rb2, rb3, rb4, rb5, rb6].flatMap { [$0.conv1, $0.conv2] + ($0.skip.map { [$0] } ?? []) }
    }

    public func forEachParameter(_ body: (String, inout Tensor<Scalar>, inout Tensor<Scalar>) throws -> Void) rethrows {
        try convIn.forEachParameter(body)
        try rb1.forEachParameter(body)
        try down1.forEachParameter(body)
        try rb2.forEachParameter(body)
        try down2.forEachParameter(body)
        try rb3.forEachParameter(body)
        try rb4.forEachParameter(body)
        try upConv1.forEachParameter(body)
        try rb5.forEachParameter(body)
        try upConv2.forEachParameter(body)
        try rb6.forEachParameter(body)
        try normOut.forEachParameter(body)
        try convOut.forEachParameter(body)
    }

    /// [B, inputChannels, S, S'] → [B, outputChannels, S, S'] (S, S' divisible by 4).
    public func outputShape(forInputShape s: [Int]) -> [Int] {
        precondition(s.count == 4 && s[1] == inputChannels && s[2] % 4 == 0 && s[3] % 4 == 0 && s[2] > 0 && s[3] > 0,
                     "UNet: input shape \(s) is not [B, \(inputChannels), H, W] with H and W positive multiples of 4")
        return [s[0], outputChannels, s[2], s[3]]
    }

    /// The network at σ = 1 for every example (the `Layer` form).
    public func forward(_ x: Tensor<Scalar>, into y: inout Tensor<Scalar>) {
        forward(x, sigmas: Tensor(shape: [x.shape[0]], repeating: 1), into: &y)
    }

    /// y = s(x) / σ_b per example b, keeping what `backward` needs. A batch of more than
    /// `trainingPieceImages` images runs in pieces on up to `Parallel.threads` threads (file
    /// header); the result is the same at any thread count.
    /// - Parameters:
    ///   - x: [B, inputChannels, H, W].
    ///   - sigmas: [B], the noise level of each example (positive).
    ///   - y: [B, outputChannels, H, W].
    public func forward(_ x: Tensor<Scalar>, sigmas: Tensor<Scalar>, into y: inout Tensor<Scalar>) {
        let n = x.shape[0], per = trainingPieceImages
        let pieces = (n + per - 1) / per
        guard pieces > 1 else {
            lastPieces = 0
            forwardWhole(x, sigmas: sigmas, into: &y)
            return
        }
        let nets = pieceNetworks(pieces)
        (lastPieces, lastPieceBatch) = (pieces, n)
        runPieces(of: x, sigmas: sigmas, into: &y, per: per, workers: Parallel.workerCount(pieces: pieces), network: { _, p in nets[p] }) { r in
            r.forwardWhole(r.pieceInput, sigmas: r.pieceSigmas, into: &r.pieceOutput)
        }
    }

    /// Runs the batch x [n, …] with noise levels `sigmas` in pieces of `per` images on `workers`
    /// threads: piece p's images and σ's are copied into the piece tensors of `network(worker, p)`,
    /// `body` runs that network on them (inside `Parallel.inline`: oneDNN's team size 1), and its
    /// `pieceOutput` is copied into the piece's rows of y.
    func runPieces(of x: Tensor<Scalar>, sigmas: Tensor<Scalar>, into y: inout Tensor<Scalar>, per: Int, workers: Int,
                   network: (_ worker: Int, _ piece: Int) -> UNet<Scalar>, _ body: (UNet<Scalar>) -> Void) {
        let outShape = outputShape(forInputShape: x.shape)
        let n = x.shape[0], pieces = (n + per - 1) / per
        precondition(sigmas.count == n, "UNet: \(sigmas.count) noise levels for a batch of \(n)")
        ensureShape(&y, outShape)
        let inTail = Array(x.shape.dropFirst())
        let (inPer, outPer) = (inTail.reduce(1, *), outShape.dropFirst().reduce(1, *))
        x.withUnsafeBufferPointer { px in
            sigmas.withUnsafeBufferPointer { ps in
                y.withUnsafeMutableBufferPointer { py in
                    let (sx, ss, sy) = (px.baseAddress!, ps.baseAddress!, py.baseAddress!)
                    Parallel.forEachPiece(pieces, workers: workers) { w, p in
                        let r = network(w, p), lo = p * per, m = Swift.min(per, n - lo)
                        ensureShape(&r.pieceInput, [m] + inTail)
                        ensureShape(&r.pieceSigmas, [m])
                        r.pieceInput.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: sx + lo * inPer, count: m * inPer) }
                        r.pieceSigmas.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: ss + lo, count: m) }
                        Parallel.inline { body(r) }
                        r.pieceOutput.withUnsafeBufferPointer { (sy + lo * outPer).update(from: $0.baseAddress!, count: m * outPer) }
                    }
                }
            }
        }
    }

    /// The replicas of the first `count` pieces, given this network's parameters (shared storage,
    /// nothing copied) and convolution backends.
    private func pieceNetworks(_ count: Int) -> [UNet<Scalar>] {
        while pieceReplicas.count < count {
            var rng = Xoshiro256(seed: 0)  // the parameters are replaced below
            pieceReplicas.append(UNet(baseChannels: baseChannels, inputChannels: inputChannels, outputChannels: outputChannels, using: &rng))
        }
        let replicas = Array(pieceReplicas.prefix(count))
        shareParameters(with: replicas)
        return replicas
    }

    /// Gives every network of `replicas` this network's parameters (shared storage) and
    /// convolution backends.
    func shareParameters(with replicas: [UNet<Scalar>]) {
        var parameters: [Tensor<Scalar>] = []
        forEachParameter { _, p, _ in parameters.append(p) }
        let backends = convolutions.map(\.backend)
        for r in replicas {
            var i = 0
            r.forEachParameter { _, p, _ in
                p = parameters[i]
                i += 1
            }
            for (conv, backend) in zip(r.convolutions, backends) { conv.backend = backend }
            r.blockedTraining = blockedTraining
        }
    }

    /// `forward(_:sigmas:into:)` of the whole batch on the calling thread, keeping its
    /// activations in this network: in the channel-blocked layout when `trainingBlock` gives a
    /// block (UNet+BlockedTraining.swift), else in NCHW.
    func forwardWhole(_ x: Tensor<Scalar>, sigmas: Tensor<Scalar>, into y: inout Tensor<Scalar>) {
        lastTrainingBlock = trainingBlock
        if let block = lastTrainingBlock {
            withFloat(x, sigmas, &y) { net, x, sigmas, y in net.forwardWholeBlocked(x, sigmas: sigmas, block: block, into: &y) }
            return
        }
        let outShape = outputShape(forInputShape: x.shape)
        Self.invertSigmas(sigmas, batch: x.shape[0], into: &inverseSigma)
        convIn.forward(x, into: &t0)
        rb1.forward(t0, into: &h1)
        down1.forward(h1, into: &t1)
        rb2.forward(t1, into: &h2)
        down2.forward(h2, into: &t2)
        rb3.forward(t2, into: &t3)
        rb4.forward(t3, into: &t4)
        up1.forward(t4, into: &u1)
        upConv1.forward(u1, into: &t5)
        concatenateChannels(t5, h2, into: &k1)
        rb5.forward(k1, into: &t6)
        up2.forward(t6, into: &u2)
        upConv2.forward(u2, into: &t7)
        concatenateChannels(t7, h1, into: &k2)
        rb6.forward(k2, into: &t8)
        normOut.forward(t8, into: &nOut)
        actOut.forward(nOut, into: &aOut)
        convOut.forward(aOut, into: &y)
        precondition(y.shape == outShape, "UNet: internal shape error \(y.shape) vs \(outShape)")
        Self.divideExamples(&y, by: inverseSigma)
    }

    /// inverse[b] = 1/σ_b, after checking one positive σ per example of the batch.
    static func invertSigmas(_ sigmas: Tensor<Scalar>, batch: Int, into inverse: inout Tensor<Scalar>) {
        precondition(sigmas.count == batch, "UNet: \(sigmas.count) noise levels for a batch of \(batch)")
        ensureShape(&inverse, [batch])
        for b in 0..<batch {
            precondition(sigmas.scalars[b] > 0, "UNet: noise level \(sigmas.scalars[b]) of example \(b) is not positive")
            inverse.scalars[b] = 1 / sigmas.scalars[b]
        }
    }

    /// Multiplies example b of y [B, ...] by inverse[b] (the network's division by σ_b).
    static func divideExamples(_ y: inout Tensor<Scalar>, by inverse: Tensor<Scalar>) {
        let rows = inverse.count
        y.withUnsafeMutableBufferPointer { p in
            inverse.withUnsafeBufferPointer { s in
                scaleRows(p.baseAddress!, by: s.baseAddress!, rows: rows, columns: p.count / rows, into: p.baseAddress!)
            }
        }
    }

    /// The backward of the last forward (σ included): dInput and, when asked, parameter gradients
    /// (added to the ones held). After a forward in pieces, each piece's backward runs on its
    /// replica, and the replicas' parameter gradients are added to this network's in piece order.
    public func backward(input x: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dx: inout Tensor<Scalar>,
                         accumulateParameterGradients: Bool = true) {
        guard lastPieces > 0 else {
            backwardWhole(input: x, dOutput: dOutput, into: &dx, accumulateParameterGradients: accumulateParameterGradients)
            return
        }
        let (n, pieces, per, acc) = (lastPieceBatch, lastPieces, trainingPieceImages, accumulateParameterGradients)
        precondition(x.shape[0] == n && dOutput.shape == outputShape(forInputShape: x.shape),
                     "UNet.backward: input \(x.shape) / dOutput \(dOutput.shape) do not match the last forward (batch \(n))")
        let nets = Array(pieceReplicas.prefix(pieces))
        ensureShape(&dx, x.shape)
        let inPer = x.count / n, outPer = dOutput.count / n
        let outTail = Array(dOutput.shape.dropFirst())
        dOutput.withUnsafeBufferPointer { pg in
            dx.withUnsafeMutableBufferPointer { pdx in
                let (sg, sdx) = (pg.baseAddress!, pdx.baseAddress!)
                Parallel.forEachPiece(pieces, workers: Parallel.workerCount(pieces: pieces)) { _, p in
                    let r = nets[p], lo = p * per, m = Swift.min(per, n - lo)
                    ensureShape(&r.pieceDOutput, [m] + outTail)
                    r.pieceDOutput.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: sg + lo * outPer, count: m * outPer) }
                    Parallel.inline {
                        if acc { r.zeroGradients() }
                        r.backwardWhole(input: r.pieceInput, dOutput: r.pieceDOutput, into: &r.pieceDInput, accumulateParameterGradients: acc)
                    }
                    r.pieceDInput.withUnsafeBufferPointer { (sdx + lo * inPer).update(from: $0.baseAddress!, count: m * inPer) }
                }
            }
        }
        guard acc else { return }
        // gradient += piece 0's + piece 1's + … in that order, element by element.
        var pieceGradients: [[Tensor<Scalar>]] = []
        for r in nets {
            var g: [Tensor<Scalar>] = []
            r.forEachParameter { _, _, gradient in g.append(gradient) }
            pieceGradients.append(g)
        }
        var k = 0
        forEachParameter { _, _, gradient in
            for g in pieceGradients { gradient.add(g[k]) }
            k += 1
        }
    }

    /// gOut = dOutput with example b divided by σ_b (the backward of the output's division),
    /// after checking dOutput against the last forward.
    func scaleOutputGradient(_ dOutput: Tensor<Scalar>, input x: Tensor<Scalar>) {
        precondition(dOutput.shape == outputShape(forInputShape: x.shape) && inverseSigma.count == x.shape[0],
                     "UNet.backward: dOutput \(dOutput.shape) does not match the last forward")
        ensureShape(&gOut, dOutput.shape)
        dOutput.withUnsafeBufferPointer { g in
            gOut.withUnsafeMutableBufferPointer { o in
                inverseSigma.withUnsafeBufferPointer { s in
                    scaleRows(g.baseAddress!, by: s.baseAddress!, rows: x.shape[0], columns: dOutput.count / x.shape[0], into: o.baseAddress!)
                }
            }
        }
    }

    /// `backward` of a whole-batch forward on the calling thread, in the layout that forward used.
    func backwardWhole(input x: Tensor<Scalar>, dOutput: Tensor<Scalar>, into dx: inout Tensor<Scalar>,
                         accumulateParameterGradients: Bool = true) {
        let acc = accumulateParameterGradients
        if let block = lastTrainingBlock {
            withFloat(x, dOutput, &dx) { net, x, dOutput, dx in
                net.backwardWholeBlocked(input: x, dOutput: dOutput, block: block, into: &dx, accumulateParameterGradients: acc)
            }
            return
        }
        scaleOutputGradient(dOutput, input: x)
        convOut.backward(input: aOut, dOutput: gOut, into: &gA, accumulateParameterGradients: acc)
        actOut.backward(input: nOut, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        normOut.backward(input: t8, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        rb6.backward(input: k2, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        splitChannels(gB, firstChannels: t7.shape[1], into: &gA, &gSkip1)  // dt7, dh1 (skip part)
        upConv2.backward(input: u2, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        up2.backward(input: t6, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        rb5.backward(input: k1, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        splitChannels(gB, firstChannels: t5.shape[1], into: &gA, &gSkip2)  // dt5, dh2 (skip part)
        upConv1.backward(input: u1, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        up1.backward(input: t4, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        rb4.backward(input: t3, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        rb3.backward(input: t2, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        down2.backward(input: h2, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        gB.add(gSkip2)  // dh2
        rb2.backward(input: t1, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        down1.backward(input: h1, dOutput: gA, into: &gB, accumulateParameterGradients: acc)
        gB.add(gSkip1)  // dh1
        rb1.backward(input: t0, dOutput: gB, into: &gA, accumulateParameterGradients: acc)
        convIn.backward(input: x, dOutput: gA, into: &dx, accumulateParameterGradients: acc)
    }
}
