import Descent

/// The training loop's `CurvatureModel`: an objective on one step's minibatch, as a model-driven
/// optimizer (`AdaptiveKFAC`) sees it.
///
///     loss(at: θ')                 objective.loss(at: θ', batch: B)
///     layerStatistics(at: θ)       the Kronecker factors at θ on B in the estimation mode `fisher`
///                                  (those evaluated with the gradient when given)
///     fisherVectorProduct(θ, v)    F_B(θ) v, the exact Fisher: the objective's own product when it
///                                  is ``FisherVectorProducing``, else (1/|B|) Σᵢ Jᵢᵀ Hᵢ (Jᵢ v)
///                                  from its ``Objective/outputJacobian(at:batch:)`` (two gemv over
///                                  the (|B|·k) × n Jacobian, formed once per θ)
///
/// - Throws: ``TrainingError/curvatureUnavailable(objective:fisher:)`` when the objective has no
///   layer statistics, or neither F·v nor an output Jacobian.
public final class ObjectiveCurvatureModel<F: Objective>: CurvatureModel {
    public typealias Scalar = F.Scalar
    public let objective: F
    public let batch: [Int]?
    public let fisher: FisherKind
    public let step: Int
    public let seed: UInt64
    /// Factors already evaluated at the step's θ (with the gradient), used for `layerStatistics`.
    public var precomputed: [KroneckerBlock<Scalar>]?
    // The output Jacobian of the last θ (fallback F·v).
    private var jacobianPoint: [Scalar] = []
    private var jacobian: OutputJacobian<Scalar>? = nil

    public init(_ objective: F, batch: [Int]?, fisher: FisherKind, step: Int, seed: UInt64,
                precomputed: [KroneckerBlock<Scalar>]? = nil) {
        self.objective = objective
        self.batch = batch
        self.fisher = fisher
        self.step = step
        self.seed = seed
        self.precomputed = precomputed
    }

    private func withBatch<R>(_ body: (UnsafeBufferPointer<Int>?) throws -> R) rethrows -> R {
        guard let batch else { return try body(nil) }
        return try batch.withUnsafeBufferPointer { try body($0) }
    }

    public func loss(at θ: UnsafeBufferPointer<Scalar>) throws -> Scalar {
        withBatch { objective.loss(at: θ, batch: $0) }
    }

    public func layerStatistics(at θ: UnsafeBufferPointer<Scalar>) throws -> [KroneckerBlock<Scalar>] {
        if let precomputed { return precomputed }
        guard let blocks = withBatch({ objective.kroneckerFactors(at: θ, batch: $0, fisher: fisher, step: step, seed: seed) }) else {
            throw TrainingError.curvatureUnavailable(objective: objective.name, fisher: fisher.rawValue)
        }
        return blocks
    }

    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, vector: UnsafeBufferPointer<Scalar>,
                                    product: UnsafeMutableBufferPointer<Scalar>) throws {
        if let fvp = objective as? any FisherVectorProducing<Scalar> {
            withBatch { fvp.fisherVectorProduct(at: θ, batch: $0, vector: vector, product: product) }
            return
        }
        if jacobian == nil || !jacobianPoint.elementsEqual(θ) {
            guard let j = withBatch({ objective.outputJacobian(at: θ, batch: $0) }) else {
                throw TrainingError.curvatureUnavailable(objective: objective.name, fisher: "exact (Fisher-vector products)")
            }
            jacobian = j
            jacobianPoint = Array(θ)
        }
        Self.product(jacobian!, vector: vector, into: product)
    }

    /// The objective's own forms when it is ``FisherQuadraticFormProducing`` (the data-parallel
    /// objective: its part of the batch, three scalars allreduced), else from two F·v.
    public func fisherQuadraticForms(at θ: UnsafeBufferPointer<Scalar>, first: UnsafeBufferPointer<Scalar>, second: UnsafeBufferPointer<Scalar>?,
                                     scratch: UnsafeMutableBufferPointer<Scalar>, scratch2: UnsafeMutableBufferPointer<Scalar>) throws
        -> (Scalar, Scalar, Scalar) {
        if let forms = objective as? any FisherQuadraticFormProducing<Scalar> {
            return try withBatch { try forms.fisherQuadraticForms(at: θ, batch: $0, first: first, second: second, scratch: scratch, scratch2: scratch2) }
        }
        try fisherVectorProduct(at: θ, vector: first, product: scratch)
        return try fisherQuadraticForms(θ: θ, first: first, second: second, firstProduct: UnsafeBufferPointer(scratch), scratch2: scratch2) {
            try fisherVectorProduct(at: θ, vector: $0, product: $1)
        }
    }

    /// (1/m) Σᵢ Jᵢᵀ Hᵢ (Jᵢ v) for an output Jacobian (Hᵢ from its distribution).
    /// - Complexity: 2·m·k·n multiply-adds plus O(m·k²).
    public static func product(_ j: OutputJacobian<Scalar>, vector: UnsafeBufferPointer<Scalar>, into out: UnsafeMutableBufferPointer<Scalar>) {
        let m = j.samples, k = j.outputs, n = j.jacobian.columns, rows = m * k
        var u = [Scalar](repeating: 0, count: rows)
        j.jacobian.elements.withUnsafeBufferPointer { a in
            u.withUnsafeMutableBufferPointer { ub in
                Scalar.gemv(transpose: .none, rows: rows, columns: n, alpha: 1, a: a.baseAddress!, lda: n, x: vector.baseAddress!, incx: 1,
                            beta: 0, y: ub.baseAddress!, incy: 1)
            }
        }
        switch j.distribution {
        case let .gaussian(beta):
            for r in 0..<rows { u[r] *= beta * beta }
        case let .bernoulli(p):
            for r in 0..<rows { u[r] *= p[r] * (1 - p[r]) }
        case let .poisson(rates):
            for r in 0..<rows { u[r] *= rates[r / k] }
        case let .categorical(probabilities):
            let p = probabilities.elements
            for i in 0..<m {
                var pu: Scalar = 0
                for c in 0..<k { pu += p[i * k + c] * u[i * k + c] }
                for c in 0..<k { u[i * k + c] = p[i * k + c] * (u[i * k + c] - pu) }
            }
        }
        j.jacobian.elements.withUnsafeBufferPointer { a in
            u.withUnsafeBufferPointer { ub in
                Scalar.gemv(transpose: .transpose, rows: rows, columns: n, alpha: 1 / Scalar(m), a: a.baseAddress!, lda: n,
                            x: ub.baseAddress!, incx: 1, beta: 0, y: out.baseAddress!, incy: 1)
            }
        }
    }
}

/// An objective that computes the Fisher's quadratic forms over two vectors itself (rather than
/// the caller forming F·u and F·v): the data-parallel objective, which evaluates them on its
/// part of the batch and allreduces three scalars instead of two n-vectors.
public protocol FisherQuadraticFormProducing<Scalar>: Objective {
    /// (uᵀF_Bu, ½(uᵀF_Bv + vᵀF_Bu), vᵀF_Bv) at θ on `batch` (zeros for an absent v); scratch of n each.
    func fisherQuadraticForms(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, first: UnsafeBufferPointer<Scalar>,
                              second: UnsafeBufferPointer<Scalar>?, scratch: UnsafeMutableBufferPointer<Scalar>,
                              scratch2: UnsafeMutableBufferPointer<Scalar>) throws -> (Scalar, Scalar, Scalar)
}
