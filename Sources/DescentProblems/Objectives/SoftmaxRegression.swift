/// Multinomial logistic (softmax) regression: categorical output, mean cross-entropy,
///
///     zᵢ = W xᵢ + c  (K logits),   pᵢ = softmax(zᵢ),   yᵢ ∈ {0, …, K−1},
///     L_B(θ) = (1/|B|) Σ_{i∈B} [logsumexp(zᵢ) − zᵢ,yᵢ] + (λ/2)‖W‖²_F,
///     ∇_W L = (1/|B|) (P − Y)ᵀ X_B + λW,   ∇_c L = (1/|B|) Σᵢ (pᵢ − e_yᵢ),
///
/// with logsumexp(z) = max z + log Σ exp(z − max z) (stable). θ is the K × (d + 1) row-major
/// matrix [W | c]: class by class, each class's d weights then its intercept (n = K(d + 1)).
/// Unlike statsmodels' MNLogit no class is pinned to zero, so θ is determined only up to a common
/// shift of all rows unless λ > 0 (as scikit-learn's multinomial `LogisticRegression`).
/// K defaults to 1 + the largest label. Initial parameters: zeros.
///
/// Kernel: one gemm for the logits Z = X_B Wᵀ (B×K) and one for the gradient (P − Y)ᵀX_B.
/// - Complexity: O(|B|·d·K) per evaluation.
public struct SoftmaxRegression<Scalar: BLASScalar>: Objective {
    public let data: Dataset<Scalar>
    /// K ≥ 2.
    public let classCount: Int
    /// λ ≥ 0, the L2 penalty on the weights (not the intercepts).
    public let l2: Scalar

    /// The most classes a model takes (K ≤ 2¹⁶): a label beyond it is an error rather than a
    /// K·(d + 1) allocation sized by one stray number.
    public static var maximumClassCount: Int { 1 << 16 }

    /// K = 1 + the largest label, at least 2; throws ``DataError/tooManyClasses(found:limit:)``
    /// beyond ``maximumClassCount``.
    static func inferredClassCount(_ data: Dataset<Scalar>, _ classCount: Int?) throws -> Int {
        if let classCount {
            guard classCount <= maximumClassCount else { throw DataError.tooManyClasses(found: classCount, limit: maximumClassCount) }
            return classCount
        }
        var largest: Scalar = 0
        for y in data.targets where y > largest { largest = y }  // NaN never compares greater
        guard largest < Scalar(maximumClassCount) else {
            throw DataError.tooManyClasses(found: largest.isFinite ? Int(largest) + 1 : Int.max, limit: maximumClassCount)
        }
        return Swift.max(2, Int(largest) + 1)
    }

    /// Throws ``DataError/invalidTarget(sample:value:expected:)`` for a target that is not an
    /// integer in 0..<K, ``DataError/tooManyClasses(found:limit:)`` for K beyond
    /// ``maximumClassCount``.
    public init(data: Dataset<Scalar>, classCount: Int? = nil, l2: Scalar = 0) throws {
        guard l2 >= 0, l2.isFinite else { throw DataError.shapeMismatch("softmax regression: l2 = \(l2) must be finite and ≥ 0") }
        guard data.sampleCount > 0 else { throw DataError.shapeMismatch("softmax regression: the data set has no samples") }
        let k = try Self.inferredClassCount(data, classCount)
        guard k >= 2 else { throw DataError.shapeMismatch("softmax regression: classCount = \(k) must be ≥ 2") }
        for (i, y) in data.targets.enumerated() where !(y >= 0 && y < Scalar(k) && y == y.rounded()) {
            throw DataError.invalidTarget(sample: i, value: "\(y)", expected: "an integer class label in 0..<\(k)")
        }
        self.data = data
        self.classCount = k
        self.l2 = l2
    }

    public var name: String { "softmax" }
    public var dimension: Int { classCount * (data.featureCount + 1) }

    /// `weights` = every class's d weights (K runs), `biases` = the K intercepts.
    public var parameterLayout: ParameterLayout {
        .rowBlocks(rows: classCount, weightsPerRow: data.featureCount, weights: "weights", biases: "biases")
    }
    public var sampleCount: Int { data.sampleCount }
    public func initialParameters(seed: UInt64) -> [Scalar] { Array(repeating: 0, count: dimension) }

    /// Z ← X_B Wᵀ + 1cᵀ (rows × K).
    @inlinable
    func logits(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, into z: UnsafeMutablePointer<Scalar>) {
        affineRows(x, rows: rows, inputs: data.featureCount, outputs: classCount, weights: θ, into: z)
    }

    /// Turns each row of Z into softmax probabilities in place and returns Σ [lse(zᵢ) − zᵢ,yᵢ].
    @inlinable
    func softmaxRows(_ z: UnsafeMutablePointer<Scalar>, rows: Int, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        let k = classCount
        var total: Scalar = 0
        data.targets.withUnsafeBufferPointer { y in
            for i in 0..<rows {
                let row = z + i * k
                var mx = row[0]
                for c in 1..<k { mx = Swift.max(mx, row[c]) }
                let label = Int(y[sampleIndex(batch, i)])
                let shiftedLabelLogit = row[label] - mx
                var s: Scalar = 0
                for c in 0..<k { let e = scalarExp(row[c] - mx); row[c] = e; s += e }
                // lse(z) − z_y = log Σ exp(z − max) − (z_y − max).
                total += scalarLog(s) - shiftedLabelLogit
                let inv = 1 / s
                for c in 0..<k { row[c] *= inv }
            }
        }
        return total
    }

    @inlinable
    func penalty(_ θ: UnsafePointer<Scalar>) -> Scalar {
        ridgePenalty(θ, featureCount: data.featureCount, blocks: classCount, l2: l2)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == dimension, "softmax: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * classCount) { zb -> Scalar in
                logits(x, rows: rows, θ: θ.baseAddress!, into: zb.baseAddress!)
                return softmaxRows(zb.baseAddress!, rows: rows, batch: batch) * (1 / Scalar(rows))
            }
        } + penalty(θ.baseAddress!)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "softmax: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        let d = data.featureCount, k = classCount
        let t = θ.baseAddress!, g = gradient.baseAddress!
        let loss = withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * k) { zb -> Scalar in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: t, into: z)
                let total = softmaxRows(z, rows: rows, batch: batch)
                // R = P − Y in place.
                data.targets.withUnsafeBufferPointer { y in
                    for i in 0..<rows { z[i * k + Int(y[sampleIndex(batch, i)])] -= 1 }
                }
                let scale = 1 / Scalar(rows)
                if d > 0 {
                    Scalar.gemm(transposeA: .transpose, transposeB: .none, m: k, n: d, k: rows, alpha: scale,
                                a: z, lda: k, b: x, ldb: d, beta: 0, c: g, ldc: d + 1)
                }
                for c in 0..<k {
                    var s: Scalar = 0
                    for i in 0..<rows { s += z[i * k + c] }
                    g[c * (d + 1) + d] = scale * s
                }
                return total * scale
            }
        }
        if l2 != 0 && d > 0 {
            for c in 0..<k { Scalar.axpy(count: d, alpha: l2, x: t + c * (d + 1), incx: 1, y: g + c * (d + 1), incy: 1) }
        }
        return loss + penalty(t)
    }

    /// Row i, class block c: (pᵢ,c − [yᵢ = c]) [xᵢ, 1] + [λW_c, 0].
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "softmax: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, k = classCount, n = dimension
        var s = Matrix<Scalar>(checkedRows: rows, columns: n)
        withBatchRows(data.features, batch) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * k) { zb in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: θ.baseAddress!, into: z)
                _ = softmaxRows(z, rows: rows, batch: batch)
                data.targets.withUnsafeBufferPointer { y in
                    s.elements.withUnsafeMutableBufferPointer { sp in
                        let o = sp.baseAddress!
                        for i in 0..<rows {
                            let label = Int(y[sampleIndex(batch, i)])
                            for c in 0..<k {
                                let coef = z[i * k + c] - (c == label ? 1 : 0)
                                let block = o + i * n + c * (d + 1)
                                writeAugmentedRow(block, coefficient: coef, x: x + i * d, d: d)
                                if l2 != 0 { for j in 0..<d { block[j] += l2 * θ[c * (d + 1) + j] } }
                            }
                        }
                    }
                }
            }
        }
        return s
    }

    /// ∂zᵢ,c/∂θ = [xᵢ, 1] in class block c (zeros elsewhere): (|B|·K) × n, with P (|B| × K).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        precondition(θ.count == dimension, "softmax: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), d = data.featureCount, k = classCount, n = dimension
        var j = Matrix<Scalar>(checkedRows: rows * k, columns: n)
        var p = Matrix<Scalar>(checkedRows: rows, columns: k)
        withBatchRows(data.features, batch) { x, _ in
            p.elements.withUnsafeMutableBufferPointer { pb in
                logits(x, rows: rows, θ: θ.baseAddress!, into: pb.baseAddress!)
                _ = softmaxRows(pb.baseAddress!, rows: rows, batch: batch)
            }
            j.elements.withUnsafeMutableBufferPointer { jp in
                for i in 0..<rows {
                    for c in 0..<k {
                        writeAugmentedRow(jp.baseAddress! + (i * k + c) * n + c * (d + 1), coefficient: 1, x: x + i * d, d: d)
                    }
                }
            }
        }
        return OutputJacobian(jacobian: j, samples: rows, outputs: k, distribution: .categorical(probabilities: p))
    }

    /// The fraction of samples whose largest logit (first one on ties, as numpy's argmax) is the label.
    public func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double? {
        precondition(θ.count == dimension, "softmax: θ has \(θ.count) elements, expected \(dimension)")
        let rows = sampleCount, k = classCount
        return withBatchRows(data.features, nil) { x, _ in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * k) { zb -> Double in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: θ.baseAddress!, into: z)
                var correct = 0
                for i in 0..<rows {
                    var best = 0
                    for c in 1..<k where z[i * k + c] > z[i * k + best] { best = c }
                    if Scalar(best) == data.targets[i] { correct += 1 }
                }
                return Double(correct) / Double(rows)
            }
        }
    }
}
