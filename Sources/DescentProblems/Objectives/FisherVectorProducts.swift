// Fisher-vector products F_B v = (1/|B|) Σᵢ Jᵢᵀ Hᵢ Jᵢ v of the models with an output
// distribution (see `FisherVectorProducing`): the linear models by two passes over their design
// matrix, the perceptron by the R-operator and one backward pass (`DenseLayers`), the small
// analytic objectives from their explicit output Jacobian. The L2 terms of the regressions are
// not part of F (as in their `outputJacobian`).

extension OutputJacobian {
    /// F v = (1/m) Σᵢ Jᵢᵀ Hᵢ Jᵢ v from the explicit Jacobian (m·k × n): t = J v, tᵢ ← Hᵢ tᵢ / m,
    /// F v = Jᵀ t. - Complexity: two gemv, O(m·k·n), plus O(m·k²) for a categorical Hᵢ.
    @inlinable
    func fisherVectorProduct(_ v: UnsafeBufferPointer<Scalar>, into product: UnsafeMutableBufferPointer<Scalar>) {
        let rowsJ = jacobian.rows, n = jacobian.columns, k = outputs
        precondition(v.count == n && product.count == n, "OutputJacobian: the vector and product need \(n) elements")
        let inv = 1 / Scalar(samples)
        var t = [Scalar](repeating: 0, count: rowsJ)
        jacobian.elements.withUnsafeBufferPointer { jp in
            t.withUnsafeMutableBufferPointer { tp in
                let t = tp.baseAddress!
                if n > 0 {
                    Scalar.gemv(transpose: .none, rows: rowsJ, columns: n, alpha: 1, a: jp.baseAddress!, lda: n,
                                x: v.baseAddress!, incx: 1, beta: 0, y: t, incy: 1)
                }
                switch distribution {
                case let .gaussian(beta):
                    for r in 0..<rowsJ { t[r] *= beta * beta * inv }
                case let .bernoulli(p):
                    for r in 0..<rowsJ { t[r] *= p[r] * (1 - p[r]) * inv }
                case let .poisson(rates):
                    for r in 0..<rowsJ { t[r] *= rates[r / k] * inv }
                case let .categorical(p):
                    for i in 0..<samples { categoricalHessianProduct(p.elements, row: i, classes: k, t + i * k, scale: inv) }
                }
                if n > 0 {
                    Scalar.gemv(transpose: .transpose, rows: rowsJ, columns: n, alpha: 1, a: jp.baseAddress!, lda: n,
                                x: t, incx: 1, beta: 0, y: product.baseAddress!, incy: 1)
                }
            }
        }
    }
}

/// t ← s·(diag(p) − ppᵀ) t for row `row` of the m × k probabilities: s·(p ⊙ t − p (pᵀt)).
/// - Complexity: O(k).
@inlinable @inline(__always)
func categoricalHessianProduct<S: BLASScalar>(_ p: [S], row: Int, classes k: Int, _ t: UnsafeMutablePointer<S>, scale: S) {
    p.withUnsafeBufferPointer { pb in categoricalHessianProduct(pb.baseAddress! + row * k, classes: k, t, scale: scale) }
}

/// Row by row, tᵢ ← s·(diag(pᵢ) − pᵢpᵢᵀ) tᵢ with pᵢ = softmax(zᵢ) of the rows × k logits.
/// - Complexity: O(rows·k).
@inlinable
func categoricalHessianRows<S: BLASScalar>(logits z: UnsafePointer<S>, rows: Int, classes k: Int, _ t: UnsafeMutablePointer<S>, scale: S) {
    withUnsafeTemporaryAllocation(of: S.self, capacity: k) { pb in
        let p = pb.baseAddress!
        for i in 0..<rows {
            MultilayerPerceptron<S>.probabilities(z + i * k, count: k, into: p)
            categoricalHessianProduct(UnsafePointer(p), classes: k, t + i * k, scale: scale)
        }
    }
}

/// t ← s·(diag(p) − ppᵀ) t for k probabilities p. - Complexity: O(k).
@inlinable @inline(__always)
func categoricalHessianProduct<S: BLASScalar>(_ p: UnsafePointer<S>, classes k: Int, _ t: UnsafeMutablePointer<S>, scale: S) {
    var dot: S = 0
    for c in 0..<k { dot += p[c] * t[c] }
    for c in 0..<k { t[c] = scale * p[c] * (t[c] - dot) }
}

extension LinearRegression: FisherVectorProducing {
    /// F v = (1/|B|) X̄ᵀ X̄ v with X̄ = [X_B | 1] (Gaussian, β = 1). - Complexity: two gemv, O(|B|·d).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(θ.count == dimension && vector.count == dimension && product.count == dimension,
                     "linear: θ, vector and product need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        augmentedDesignProduct(features: data.features, batch: batch, rows: rows, vector: vector.baseAddress!,
                               product: product.baseAddress!) { _, _ in 1 / Scalar(rows) }
    }
}

extension LogisticRegression: FisherVectorProducing {
    /// F v = (1/|B|) X̄ᵀ diag(p(1 − p)) X̄ v with X̄ = [X_B | 1], p = σ(X̄θ).
    /// - Complexity: three gemv, O(|B|·d).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(θ.count == dimension && vector.count == dimension && product.count == dimension,
                     "logistic: θ, vector and product need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        let inv = 1 / Scalar(rows)
        augmentedDesignProduct(features: data.features, batch: batch, rows: rows, vector: vector.baseAddress!,
                               product: product.baseAddress!) { x, weights in
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows) { zb -> Scalar in
                let z = zb.baseAddress!
                logits(x, rows: rows, θ: θ.baseAddress!, into: z)
                for i in 0..<rows { let p = sigmoid(z[i]); weights[i] *= p * (1 - p) * inv }
                return 1
            }
        }
    }
}

/// product = X̄ᵀ (w ⊙ X̄ v) with X̄ = [X_B | 1] (intercept last), where `weigh(x, t)` may scale t
/// (the |B| values X̄v) in place and returns a factor applied to all of them.
/// - Complexity: two gemv over the batch rows, O(|B|·d).
@inlinable
func augmentedDesignProduct<S: BLASScalar>(features: Matrix<S>, batch: UnsafeBufferPointer<Int>?, rows: Int,
                                           vector v: UnsafePointer<S>, product: UnsafeMutablePointer<S>,
                                           weigh: (UnsafePointer<S>, UnsafeMutablePointer<S>) -> S) {
    let d = features.columns
    withBatchRows(features, batch) { x, _ in
        withUnsafeTemporaryAllocation(of: S.self, capacity: rows) { tb in
            let t = tb.baseAddress!
            if d > 0 {
                S.gemv(transpose: .none, rows: rows, columns: d, alpha: 1, a: x, lda: d, x: v, incx: 1, beta: 0, y: t, incy: 1)
            } else {
                t.update(repeating: 0, count: rows)
            }
            for i in 0..<rows { t[i] += v[d] }
            let factor = weigh(x, t)
            if factor != 1 { for i in 0..<rows { t[i] *= factor } }
            if d > 0 {
                S.gemv(transpose: .transpose, rows: rows, columns: d, alpha: 1, a: x, lda: d, x: t, incx: 1, beta: 0, y: product, incy: 1)
            }
            var s: S = 0
            for i in 0..<rows { s += t[i] }
            product[d] = s
        }
    }
}

extension SoftmaxRegression: FisherVectorProducing {
    /// F v = (1/|B|) Σᵢ (Hᵢ V x̄ᵢ) x̄ᵢᵀ in θ's K × (d + 1) layout, Hᵢ = diag(pᵢ) − pᵢpᵢᵀ: T = X̄ Vᵀ
    /// (one gemm), each row by its Hᵢ, then Tᵀ X̄ (one gemm). - Complexity: O(|B|·d·K).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(θ.count == dimension && vector.count == dimension && product.count == dimension,
                     "softmax: θ, vector and product need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount), k = classCount
        let inv = 1 / Scalar(rows)
        guard let layers = try? DenseLayers<Scalar>(sizes: [data.featureCount, k], activation: .tanh, model: name) else { return }
        withBatchRows(data.features, batch) { x, _ in
            layers.fisherVectorProduct(x, rows: rows, θ: θ.baseAddress!, direction: vector.baseAddress!, product: product.baseAddress!) { z, t in
                categoricalHessianRows(logits: z, rows: rows, classes: k, t, scale: inv)
            }
        }
    }
}

extension MultilayerPerceptron: FisherVectorProducing {
    /// F v = (1/|B|) Σᵢ Jᵢᵀ Hᵢ Jᵢ v by the R-operator (J v for the whole batch, two gemm per
    /// layer) and one backward pass (see `DenseLayers`), with Hᵢ of the output layer: 1 (linear,
    /// Gaussian β = 1), p(1 − p) (sigmoid), diag(p) − ppᵀ (softmax).
    /// - Complexity: five gemm per layer, O(|B|·n) (plus O(|B|·K) for Hᵢ).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(θ.count == dimension && vector.count == dimension && product.count == dimension,
                     "mlp: θ, vector and product need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount), k = outputCount
        let inv = 1 / Scalar(rows)
        withBatchRows(data.features, batch) { x, _ in
            layers.fisherVectorProduct(x, rows: rows, θ: θ.baseAddress!, direction: vector.baseAddress!, product: product.baseAddress!) { z, t in
                switch outputLayer {
                case .linear:
                    for i in 0..<rows { t[i] *= inv }
                case .sigmoid:
                    for i in 0..<rows { let p = sigmoid(z[i]); t[i] *= p * (1 - p) * inv }
                case .softmax:
                    categoricalHessianRows(logits: z, rows: rows, classes: k, t, scale: inv)
                }
            }
        }
    }
}

extension Rosenbrock: FisherVectorProducing {
    /// F v = Jᵀ J v with Rosenbrock's residual Jacobian (Gaussian, β = 1). - Complexity: O(1).
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        outputJacobian(at: θ, batch: batch)!.fisherVectorProduct(vector, into: product)
    }
}

extension IllConditionedQuadratic: FisherVectorProducing {
    /// F v = diag(a², b²) v, the quadratic's Hessian. - Complexity: O(1).
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        outputJacobian(at: θ, batch: batch)!.fisherVectorProduct(vector, into: product)
    }
}

extension IllConditionedQuadraticND: FisherVectorProducing {
    /// F v = diag(c) v, the curvatures cᵢ (its output Jacobian is diag(√cᵢ)), for any n.
    /// - Complexity: O(n).
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(vector.count == dimension && product.count == dimension, "quadratic: vector and product need \(dimension) elements")
        forEachCurvature(in: 0..<dimension) { i, c in product[i] = c * vector[i] }
    }
}
