import Foundation

// Internal numerical kernels shared by the data models.

/// eˣ, through libm in Double for both precisions.
@inlinable @inline(__always)
func scalarExp<S: BLASScalar>(_ x: S) -> S { S(Foundation.exp(Double(x))) }

/// x, or 0 when x is subnormal (|x| < the least normal magnitude; ±0 and normals unchanged).
///
/// The perceptron's backward pass writes its deltas through this: subnormal Floats (a class
/// probability below 1.2·10⁻³⁸, a saturated tanh's 1 − a² times a small delta) made every
/// BLAS kernel that read them take microcode assists, and the backward pass and the K-FAC
/// factors' `syrk` ran 2–4× slower (measured: 1.8 against 0.5 ms per backward pass with
/// the process's flush-to-zero mode set). A subnormal's contribution to any sum of normal
/// numbers is below half an ulp of the sum, so a flushed delta changes no normal result; the
/// process's floating-point environment is left alone.
@inlinable @inline(__always)
func flushSubnormal<S: BinaryFloatingPoint>(_ x: S) -> S { flushed(x, below: S.leastNormalMagnitude) }

/// x, or 0 when |x| < `floor`.
@inlinable @inline(__always)
func flushed<S: BinaryFloatingPoint>(_ x: S, below floor: S) -> S { x.magnitude < floor ? 0 : x }

/// log(1 + x), through libm in Double.
@inlinable @inline(__always)
func scalarLog1p<S: BLASScalar>(_ x: S) -> S { S(Foundation.log1p(Double(x))) }

/// log x, through libm in Double.
@inlinable @inline(__always)
func scalarLog<S: BLASScalar>(_ x: S) -> S { S(Foundation.log(Double(x))) }

/// tanh x, through libm in Double.
@inlinable @inline(__always)
func scalarTanh<S: BLASScalar>(_ x: S) -> S { S(Foundation.tanh(Double(x))) }

/// softplus(z) = log(1 + eᶻ) = max(z, 0) + log1p(e^{−|z|}): no overflow, full precision for
/// large negative z.
@inlinable @inline(__always)
func softplus<S: BLASScalar>(_ z: S) -> S {
    Swift.max(z, 0) + scalarLog1p(scalarExp(-abs(z)))
}

/// σ(z) = 1/(1 + e^{−z}), evaluated as e^{z}/(1 + e^{z}) for z < 0 so nothing overflows.
@inlinable @inline(__always)
func sigmoid<S: BLASScalar>(_ z: S) -> S {
    if z >= 0 { return 1 / (1 + scalarExp(-z)) }
    let e = scalarExp(z)
    return e / (1 + e)
}

/// Calls `body` with a contiguous pointer to the batch's rows of `x` (row-major, `x.columns`
/// wide) and the row count: `x` itself for a nil batch, else the rows gathered into a scoped
/// temporary buffer. - Complexity: O(|B|·d) copy for a batch, O(1) otherwise.
@inlinable
func withBatchRows<S: BLASScalar, R>(_ x: Matrix<S>, _ batch: UnsafeBufferPointer<Int>?,
                                      _ body: (UnsafePointer<S>, Int) -> R) -> R {
    let d = x.columns
    return x.elements.withUnsafeBufferPointer { xp -> R in
        guard let batch else {
            // A pointer even for an empty matrix; BLAS is never called with d = 0.
            if let base = xp.baseAddress { return body(base, x.rows) }
            return withUnsafeTemporaryAllocation(of: S.self, capacity: 1) { body(UnsafePointer($0.baseAddress!), x.rows) }
        }
        let count = batch.count
        return withUnsafeTemporaryAllocation(of: S.self, capacity: Swift.max(count * d, 1)) { tmp -> R in
            let t = tmp.baseAddress!
            if d > 0 {
                let src = xp.baseAddress!
                for (r, i) in batch.enumerated() {
                    precondition(i >= 0 && i < x.rows, "batch index \(i) out of 0..<\(x.rows)")
                    (t + r * d).update(from: src + i * d, count: d)
                }
            } else {
                for i in batch { precondition(i >= 0 && i < x.rows, "batch index \(i) out of 0..<\(x.rows)") }
            }
            return body(UnsafePointer(t), count)
        }
    }
}

/// The sample index of batch row r.
@inlinable @inline(__always)
func sampleIndex(_ batch: UnsafeBufferPointer<Int>?, _ r: Int) -> Int { batch?[r] ?? r }

/// The number of rows a batch selects.
@inlinable @inline(__always)
func batchCount(_ batch: UnsafeBufferPointer<Int>?, sampleCount: Int) -> Int {
    let b = batch?.count ?? sampleCount
    precondition(b > 0, "an empty batch has no mean loss")
    return b
}

/// Writes the per-sample rows cᵢ·[xᵢ, 1] (the gradient or Jacobian pattern of a linear predictor
/// with intercept last) into row `row` of `out`, starting at column `offset`.
@inlinable
func writeAugmentedRow<S: BLASScalar>(_ out: UnsafeMutablePointer<S>, coefficient c: S,
                                     x: UnsafePointer<S>, d: Int) {
    for j in 0..<d { out[j] = c * x[j] }
    out[d] = c
}

/// The ridge penalty (λ/2) Σ_b ‖w_b‖² of `blocks` consecutive parameter blocks, each d weights
/// followed by one intercept (which is not penalized): linear and logistic regression have one
/// block, softmax regression one per class.
/// - Complexity: O(blocks · d), one `nrm2` per block.
@inlinable
func ridgePenalty<Scalar: BLASScalar>(_ θ: UnsafePointer<Scalar>, featureCount d: Int, blocks: Int, l2: Scalar) -> Scalar {
    guard l2 != 0, d > 0 else { return 0 }
    var s: Scalar = 0
    for b in 0..<blocks {
        let w = Scalar.nrm2(count: d, x: θ + b * (d + 1), incx: 1)
        s += w * w
    }
    return l2 / 2 * s
}

/// Z ← X [W | b]ᵀ: rows × `outputs` affine outputs of rows × `inputs` X for the out × (in + 1)
/// row-major block [W | b] at `w` (unit by unit, its weights then its bias) — a fully connected
/// layer's pre-activations, softmax regression's logits.
/// - Complexity: one gemm, O(rows·in·out).
@inlinable @inline(__always)
func affineRows<S: BLASScalar>(_ x: UnsafePointer<S>, rows: Int, inputs inW: Int, outputs outW: Int, weights w: UnsafePointer<S>,
                               into z: UnsafeMutablePointer<S>) {
    if inW > 0 {
        S.gemm(transposeA: .none, transposeB: .transpose, m: rows, n: outW, k: inW, alpha: 1, a: x, lda: inW,
               b: w, ldb: inW + 1, beta: 0, c: z, ldc: outW)
    } else {
        z.update(repeating: 0, count: rows * outW)
    }
    for i in 0..<rows { for o in 0..<outW { z[i * outW + o] += w[o * (inW + 1) + inW] } }
}
