// Weighted squared-error loss with its gradient, fused into one parallel pass.
//
//   L = (1/B) Σ_b w_b · ½ Σ_d (pred_bd − target_bd)²,    ∂L/∂pred_bd = w_b (pred_bd − target_bd) / B.
//
// This is the denoising-score-matching objective when pred = s(x̃), target = −z/σ and
// w_b = λ(σ_b) (e.g. σ_b²). The pass is split into `Parallel.fixedChunkCount(total)` contiguous
// element ranges, a number that depends on the size only; each writes its part of dPred and a
// partial sum (accumulated in Double) into a stack buffer, and the partial sums are added in index
// order, so the value is the same at every thread count (issue 26; the ranges used to follow
// `Parallel.threads`, which changed the last bits between 1 and 2 threads).
import TensorCore

/// The weighted squared error ½·mean_b(w_b · ‖pred_b − target_b‖²) and its gradient.
/// - Parameters:
///   - prediction: [B, D].
///   - target: [B, D].
///   - rowWeights: optional [B] (any shape with B elements); nil means every w_b = 1.
///   - dPrediction: receives ∂L/∂prediction, [B, D] (reshaped if needed; no allocation when it
///     already has the shape).
/// - Returns: the loss value.
@discardableResult
public func weightedSquaredError<Scalar: TensorScalar>(
    prediction: Tensor<Scalar>, target: Tensor<Scalar>, rowWeights: Tensor<Scalar>? = nil,
    dPrediction: inout Tensor<Scalar>
) -> Double {
    let rows = prediction.rows
    let cols = prediction.columns
    precondition(target.rows == rows && target.columns == cols,
                 "weightedSquaredError: target \(target.shape) does not match prediction \(prediction.shape)")
    if let rowWeights {
        precondition(rowWeights.count == rows, "weightedSquaredError: \(rowWeights.count) row weights for \(rows) rows")
    }
    ensureMatrix(&dPrediction, rows: rows, columns: cols)
    let total = rows * cols
    guard total > 0 else { return 0 }
    let invB = 1 / Scalar(rows)
    let chunks = Parallel.fixedChunkCount(total)
    let per = (total + chunks - 1) / chunks
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { partial in
        prediction.withUnsafeBufferPointer { pb in
            target.withUnsafeBufferPointer { tb in
                withOptionalPointer(rowWeights) { wp in
                    dPrediction.withUnsafeMutableBufferPointer { db in
                        let (p, t, g) = (pb.baseAddress!, tb.baseAddress!, db.baseAddress!)
                        let partialBase = partial.baseAddress!
                        Parallel.forEachPiece(chunks) { chunk in
                                let lo = chunk * per
                                let hi = Swift.min(lo + per, total)
                                let sum = squaredErrorRange(p, t, wp, g, lo: lo, hi: hi, columns: cols, invB: invB)
                                (partialBase + chunk).initialize(to: sum)
                        }
                    }
                }
            }
        }
        var value = 0.0
        for c in 0..<chunks { value += partial[c] }
        return 0.5 * value / Double(rows)
    }
}
