/// Binary logistic regression (Bernoulli output through the sigmoid), mean negative
/// log-likelihood:
///
///     zᵢ = xᵢᵀw + b,   pᵢ = σ(zᵢ),   yᵢ ∈ {0, 1},
///     L_B(θ) = (1/|B|) Σ_{i∈B} [softplus(zᵢ) − yᵢ zᵢ] + (λ/2)‖w‖²,
///     ∇_w L = (1/|B|) X_Bᵀ (p − y) + λw,   ∂L/∂b = (1/|B|) Σ (pᵢ − yᵢ),
///
/// with softplus(z) = max(z, 0) + log1p(e^{−|z|}), exact and overflow-free for any z.
/// θ = (w₁, …, w_d, b), intercept last (n = d + 1); λ (default 0) leaves the intercept alone, so
/// λ = 1/(C·m) reproduces scikit-learn's `LogisticRegression(C:)`. Initial parameters: zeros.
///
/// Kernel: gemv for z, gemv (transposed) for Xᵀ(p − y). - Complexity: O(|B|·d) per evaluation.
public struct LogisticRegression<Scalar: BLASScalar>: Objective {
    public let data: Dataset<Scalar>
    /// λ ≥ 0, the L2 penalty on the weights.
    public let l2: Scalar

    /// Throws ``DataError/invalidTarget(sample:value:expected:)`` for a target other than 0 or 1.
    public init(data: Dataset<Scalar>, l2: Scalar = 0) throws {
        guard l2 >= 0, l2.isFinite else { throw DataError.shapeMismatch("logistic regression: l2 = \(l2) must be finite and ≥ 0") }
        guard data.sampleCount > 0 else { throw DataError.shapeMismatch("logistic regression: the data set has no samples") }
        for (i, y) in data.targets.enumerated() where y != 0 && y != 1 {
            throw DataError.invalidTarget(sample: i, value: "\(y)", expected: "0 or 1")
        }
        self.data = data
        self.l2 = l2
    }

    public var name: String { "logistic" }
    public var dimension: Int { data.featureCount + 1 }

    /// `weights` = θ[0..<d], `biases` = the intercept θ[d].
    public var parameterLayout: ParameterLayout { .weightsThenIntercept(features: data.featureCount) }
    public var sampleCount: Int { data.sampleCount }
    public func initialParameters(seed: UInt64) -> [Scalar] { Array(repeating: 0, count: dimension) }

    /// z ← X_B w + b.
    @inlinable
    func logits(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>) {
        let d = data.featureCount
        if d > 0 {
            Scalar.gemv(transpose: .none, rows: rows, columns: d, alpha: 1, a: x, lda: d, x: θ, incx: 1, beta: 0, y: z, incy: 1)
        } else {
            z.update(repeating: 0, count: rows)
        }
        let b = θ[d]
        for i in 0..<rows { z[i] += b }
    }

    @inlinable
    func penalty(_ θ: UnsafePointer<Scalar>) -> Scalar {
        ridgePenalty(θ, featureCount: data.featureCount, blocks: 1, l2: l2)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == dimension, "logistic: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { zb -> Scalar in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: θ.baseAddress!, into: z)
                var s: Scalar = 0
                data.targets.withUnsafeBufferPointer { y in
                    for i in 0..<rows { s += softplus(z[i]) - y[sampleIndex(batch, i)] * z[i] }
                }
                return s * (1 / Scalar(rows))
            }
        } + penalty(θ.baseAddress!)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "logistic: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        let d = data.featureCount
        let t = θ.baseAddress!, g = gradient.baseAddress!
        let loss = withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { zb -> Scalar in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: t, into: z)
                var s: Scalar = 0, sr: Scalar = 0
                data.targets.withUnsafeBufferPointer { y in
                    for i in 0..<rows {
                        let zi = z[i], yi = y[sampleIndex(batch, i)]
                        s += softplus(zi) - yi * zi
                        let r = sigmoid(zi) - yi
                        z[i] = r
                        sr += r
                    }
                }
                let scale = 1 / Scalar(rows)
                if d > 0 {
                    Scalar.gemv(transpose: .transpose, rows: rows, columns: d, alpha: scale, a: x, lda: d,
                                x: z, incx: 1, beta: 0, y: g, incy: 1)
                }
                g[d] = scale * sr
                return s * scale
            }
        }
        if l2 != 0 && d > 0 { Scalar.axpy(count: d, alpha: l2, x: t, incx: 1, y: g, incy: 1) }
        return loss + penalty(t)
    }

    /// Rows (pᵢ − yᵢ)[xᵢ, 1] + [λw, 0]; their mean is the batch gradient.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "logistic: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, n = dimension
        var s = Matrix<Scalar>(checkedRows: rows, columns: n)
        withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { zb in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: θ.baseAddress!, into: z)
                data.targets.withUnsafeBufferPointer { y in
                    s.elements.withUnsafeMutableBufferPointer { sp in
                        let o = sp.baseAddress!
                        for i in 0..<rows {
                            writeAugmentedRow(o + i * n, coefficient: sigmoid(z[i]) - y[sampleIndex(batch, i)], x: x + i * d, d: d)
                            if l2 != 0 { for j in 0..<d { o[i * n + j] += l2 * θ[j] } }
                        }
                    }
                }
            }
        }
        return s
    }

    /// ∂zᵢ/∂θ = [xᵢ, 1] with the Bernoulli probabilities pᵢ = σ(zᵢ).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        precondition(θ.count == dimension, "logistic: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, n = dimension
        var j = Matrix<Scalar>(checkedRows: rows, columns: n)
        var p = [Scalar](repeating: 0, count: rows)
        withBatchRows(data.features, batch) { x, _ in
            p.withUnsafeMutableBufferPointer { pb in
                logits(x, rows: rows, θ: θ.baseAddress!, into: pb.baseAddress!)
                for i in 0..<rows { pb[i] = sigmoid(pb[i]) }
            }
            j.elements.withUnsafeMutableBufferPointer { jp in
                for i in 0..<rows { writeAugmentedRow(jp.baseAddress! + i * n, coefficient: 1, x: x + i * d, d: d) }
            }
        }
        return OutputJacobian(jacobian: j, samples: rows, outputs: 1, distribution: .bernoulli(probabilities: p))
    }

    /// P(y = 1 | x) = σ(xᵀw + b) for the rows of `features`.
    /// - Throws: ``DataError`` when θ or the feature columns do not fit the model.
    public func probabilities(_ θ: [Scalar], features: Matrix<Scalar>) throws -> [Scalar] {
        guard θ.count == dimension else { throw DataError.dimensionMismatch(objective: name, expected: dimension, found: θ.count) }
        guard features.columns == data.featureCount else {
            throw DataError.shapeMismatch("logistic.probabilities: \(features.columns) feature columns, the model has \(data.featureCount)")
        }
        var z = [Scalar](repeating: 0, count: features.rows)
        guard features.rows > 0 else { return z }
        features.elements.withUnsafeBufferPointer { xp in
            θ.withUnsafeBufferPointer { tp in
                z.withUnsafeMutableBufferPointer { zp in
                    logitsOf(xp, rows: features.rows, θ: tp.baseAddress!, into: zp.baseAddress!)
                }
            }
        }
        return z.map(sigmoid)
    }

    @inlinable
    func logitsOf(_ xp: UnsafeBufferPointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>) {
        if let base = xp.baseAddress { logits(base, rows: rows, θ: θ, into: z) }
        else { for i in 0..<rows { z[i] = θ[data.featureCount] } }
    }

    /// The fraction of samples with (zᵢ > 0) == (yᵢ = 1), as scikit-learn's `predict` (z = 0 → class 0).
    public func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double? {
        precondition(θ.count == dimension, "logistic: θ has \(θ.count) elements, expected \(dimension)")
        let rows = sampleCount
        return withBatchRows(data.features, nil) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { zb -> Double in
                logits(x, rows: rows, θ: θ.baseAddress!, into: zb.baseAddress!)
                var correct = 0
                for i in 0..<rows where (zb[i] > 0) == (data.targets[i] == 1) { correct += 1 }
                return Double(correct) / Double(rows)
            }
        }
    }
}
