/// Least-squares linear regression with an intercept (Gaussian output, β = 1):
///
///     ŷᵢ = xᵢᵀw + b,   rᵢ = yᵢ − ŷᵢ,
///     L_B(θ) = (1/|B|) Σ_{i∈B} ½ rᵢ² + (λ/2)‖w‖²,
///     ∇_w L = −(1/|B|) X_Bᵀ r + λw,   ∂L/∂b = −(1/|B|) Σ rᵢ.
///
/// θ = (w₁, …, w_d, b): the weights, then the intercept last (n = d + 1). λ (default 0) does not
/// penalize the intercept. Initial parameters: zeros.
///
/// Kernel: one BLAS gemv for ŷ and one (transposed) for Xᵀr over the batch's rows (gathered into a
/// scoped buffer for a minibatch). - Complexity: O(|B|·d) per evaluation.
public struct LinearRegression<Scalar: BLASScalar>: Objective {
    public let data: Dataset<Scalar>
    /// λ ≥ 0, the L2 penalty on the weights.
    public let l2: Scalar

    public init(data: Dataset<Scalar>, l2: Scalar = 0) throws {
        guard l2 >= 0, l2.isFinite else { throw DataError.shapeMismatch("linear regression: l2 = \(l2) must be finite and ≥ 0") }
        guard data.sampleCount > 0 else { throw DataError.shapeMismatch("linear regression: the data set has no samples") }
        self.data = data
        self.l2 = l2
    }

    public var name: String { "linear" }
    public var dimension: Int { data.featureCount + 1 }

    /// `weights` = θ[0..<d], `biases` = the intercept θ[d].
    public var parameterLayout: ParameterLayout { .weightsThenIntercept(features: data.featureCount) }
    public var sampleCount: Int { data.sampleCount }
    public func initialParameters(seed: UInt64) -> [Scalar] { Array(repeating: 0, count: dimension) }

    /// Writes the residuals rᵢ = yᵢ − ŷᵢ of the batch into `r` and returns the data loss.
    @inlinable
    func residuals(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>,
                   batch: UnsafeBufferPointer<Int>?, into r: UnsafeMutablePointer<Scalar>) -> Scalar {
        let d = data.featureCount
        if d > 0 {
            Scalar.gemv(transpose: .none, rows: rows, columns: d, alpha: 1, a: x, lda: d, x: θ, incx: 1, beta: 0, y: r, incy: 1)
        } else {
            r.update(repeating: 0, count: rows)
        }
        let b = θ[d]
        var sum: Scalar = 0
        data.targets.withUnsafeBufferPointer { y in
            for i in 0..<rows {
                let ri = y[sampleIndex(batch, i)] - (r[i] + b)
                r[i] = ri
                sum += ri * ri
            }
        }
        return sum / (2 * Scalar(rows))
    }

    @inlinable
    func penalty(_ θ: UnsafePointer<Scalar>) -> Scalar {
        ridgePenalty(θ, featureCount: data.featureCount, blocks: 1, l2: l2)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == dimension, "linear: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { r in
                residuals(x, rows: rows, θ: θ.baseAddress!, batch: batch, into: r.baseAddress!)
            }
        } + penalty(θ.baseAddress!)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "linear: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        let d = data.featureCount
        let t = θ.baseAddress!, g = gradient.baseAddress!
        let loss = withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { rb -> Scalar in
                let r = rb.baseAddress!
                let loss = residuals(x, rows: rows, θ: t, batch: batch, into: r)
                let scale = -1 / Scalar(rows)
                if d > 0 {
                    Scalar.gemv(transpose: .transpose, rows: rows, columns: d, alpha: scale, a: x, lda: d,
                                x: r, incx: 1, beta: 0, y: g, incy: 1)
                }
                var s: Scalar = 0
                for i in 0..<rows { s += r[i] }
                g[d] = scale * s
                return loss
            }
        }
        if l2 != 0 && d > 0 { Scalar.axpy(count: d, alpha: l2, x: t, incx: 1, y: g, incy: 1) }
        return loss + penalty(t)
    }

    /// Rows −rᵢ [xᵢ, 1] + [λw, 0].
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "linear: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, n = dimension
        var s = Matrix<Scalar>(checkedRows: rows, columns: n)
        withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { rb in
                let r = rb.baseAddress!
                _ = residuals(x, rows: rows, θ: θ.baseAddress!, batch: batch, into: r)
                s.elements.withUnsafeMutableBufferPointer { sp in
                    let o = sp.baseAddress!
                    for i in 0..<rows {
                        writeAugmentedRow(o + i * n, coefficient: -r[i], x: x + i * d, d: d)
                        if l2 != 0 { for j in 0..<d { o[i * n + j] += l2 * θ[j] } }
                    }
                }
            }
        }
        return s
    }

    /// ∂ŷᵢ/∂θ = [xᵢ, 1], Gaussian with β = 1.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, n = dimension
        var j = Matrix<Scalar>(checkedRows: rows, columns: n)
        withBatchRows(data.features, batch) { x, _ in
            j.elements.withUnsafeMutableBufferPointer { jp in
                for i in 0..<rows { writeAugmentedRow(jp.baseAddress! + i * n, coefficient: 1, x: x + i * d, d: d) }
            }
        }
        return OutputJacobian(jacobian: j, samples: rows, outputs: 1, distribution: .gaussian(beta: 1))
    }

    /// Predictions ŷ = Xw + b for the rows of `features` (m × d).
    /// - Throws: ``DataError`` when θ or the feature columns do not fit the model.
    public func predict(_ θ: [Scalar], features: Matrix<Scalar>) throws -> [Scalar] {
        guard θ.count == dimension else { throw DataError.dimensionMismatch(objective: name, expected: dimension, found: θ.count) }
        guard features.columns == data.featureCount else {
            throw DataError.shapeMismatch("linear.predict: \(features.columns) feature columns, the model has \(data.featureCount)")
        }
        var y = [Scalar](repeating: θ[data.featureCount], count: features.rows)
        if data.featureCount > 0 {
            try! BLAS.gemv(.none, alpha: 1, features, Array(θ[0..<data.featureCount]), beta: 1, &y)
        }
        return y
    }
}
