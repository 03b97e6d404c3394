// Precision, recall, density and coverage (Naeem, Oh, Uh, Choi & Yoo 2020, "Reliable fidelity
// and diversity metrics for generative models", Eqs. 1–4, and their released `compute_prdc`)
// for real vectors X_1..X_N and generated vectors Y_1..Y_M, with B(c, r) the open ball and
// NND_k(·) the distance to the k-th nearest neighbour within the same set (the point itself
// counted as the 0-th):
//
//     precision = (1/M) Σ_j 1[∃ i: Y_j ∈ B(X_i, NND_k(X_i))]
//     recall    = (1/N) Σ_i 1[∃ j: X_i ∈ B(Y_j, NND_k(Y_j))]
//     density   = (1/(kM)) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))]
//     coverage  = (1/N) Σ_i 1[∃ j: Y_j ∈ B(X_i, NND_k(X_i))]
//
// "In the ball" is the strict d < r of the reference code. The features may be anything:
// flattened pixels or a classifier's penultimate layer. Distances are Euclidean, Float64,
// computed blockwise (`PairwiseDistances`), so large sets never hold a full N × M matrix.
import TensorCore

/// PRDC values.
public struct PRDC: Codable, Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var density: Double
    public var coverage: Double
    /// The neighbour count k used.
    public var k: Int

    /// Creates a result from its four values.
    public init(precision: Double, recall: Double, density: Double, coverage: Double, k: Int) {
        self.precision = precision
        self.recall = recall
        self.density = density
        self.coverage = coverage
        self.k = k
    }

    /// PRDC of generated vectors `generated` [M, D] against real vectors `real` [N, D].
    /// - Precondition: k < N and k < M (each set needs k neighbours).
    public static func evaluate(real: Tensor<Double>, generated: Tensor<Double>, k: Int = 5) -> PRDC {
        let (n, m) = (real.rows, generated.rows)
        precondition(real.columns == generated.columns, "PRDC: feature sizes differ (\(real.shape) vs \(generated.shape))")
        precondition(k >= 1 && k < n && k < m, "PRDC: need 1 ≤ k < both set sizes, got k = \(k), \(n) real, \(m) generated")
        let realRadii = PairwiseDistances.kthNeighbourRadii(real, k: k)
        let fakeRadii = PairwiseDistances.kthNeighbourRadii(generated, k: k)
        var precisionHits = 0, densityCount = 0
        var recalled = [Bool](repeating: false, count: n)
        var covered = [Bool](repeating: false, count: n)
        // Rows: generated j; columns: real i.
        PairwiseDistances.forEachBlock(generated, real) { range, block in
            block.withUnsafeBufferPointer { b in
                for r in 0..<range.count {
                    let j = range.lowerBound + r
                    var inside = 0
                    for i in 0..<n {
                        let dist = b[r * n + i]
                        if dist < realRadii[i] {
                            inside += 1
                            covered[i] = true
                        }
                        if dist < fakeRadii[j] { recalled[i] = true }
                    }
                    if inside > 0 { precisionHits += 1 }
                    densityCount += inside
                }
            }
        }
        // Coverage: the nearest generated vector inside the real ball ⇔ some generated vector is.
        return PRDC(
            precision: Double(precisionHits) / Double(m),
            recall: Double(recalled.filter { $0 }.count) / Double(n),
            density: Double(densityCount) / Double(k * m),
            coverage: Double(covered.filter { $0 }.count) / Double(n),
            k: k)
    }
}

/// The memorisation check: for each generated vector, its nearest training vector.
public struct NearestNeighbours: Codable, Sendable, Equatable {
    /// Euclidean distance of each generated vector to its nearest training vector, [M].
    public var distances: [Double]
    /// Index of that training vector (the first one on ties), [M].
    public var indices: [Int]

    /// Nearest rows of `training` [N, D] to each row of `samples` [M, D].
    public static func search(samples: Tensor<Double>, training: Tensor<Double>) -> NearestNeighbours {
        let (m, n) = (samples.rows, training.rows)
        precondition(n >= 1, "nearest neighbours: the training set is empty")
        var distances = [Double](repeating: .infinity, count: m)
        var indices = [Int](repeating: -1, count: m)
        PairwiseDistances.forEachBlock(samples, training) { range, block in
            block.withUnsafeBufferPointer { b in
                for r in 0..<range.count {
                    var best = Double.infinity, bestIndex = 0
                    for i in 0..<n where b[r * n + i] < best { best = b[r * n + i]; bestIndex = i }
                    distances[range.lowerBound + r] = best
                    indices[range.lowerBound + r] = bestIndex
                }
            }
        }
        return NearestNeighbours(distances: distances, indices: indices)
    }
}
