@_exported import Descent
@_exported import DescentLinearAlgebra

/// A differentiable objective L(θ) over one flat parameter vector θ ∈ ℝⁿ: an analytic test
/// function, or the mean loss of a model over a data set,
///
///     L_B(θ) = (1/|B|) Σ_{i∈B} ℓᵢ(θ),
///
/// over a minibatch B of sample indices (B = all samples when `batch` is nil).
///
/// Objectives are immutable values: every method is non-mutating and thread-safe. Work
/// buffers live in scoped temporary allocations (`withUnsafeTemporaryAllocation`, on the stack
/// when small), so an evaluation holds no memory after it returns. Its heap allocations are a
/// few short-lived ones whose number does not grow with the data: the minibatch copy and the
/// workspace when they are too large for the stack, the perceptron's two layer-pointer tables
/// and one task per threaded tanh, and whatever OpenBLAS allocates inside its threaded calls
/// (`descent bench --kind kfac` counts 11 per perceptron gradient step of 256 samples).
///
/// The natural gradient needs curvature; objectives that can supply it implement
/// ``perSampleGradients(at:batch:)`` (scores, for the empirical Fisher F = SᵀS/m) and/or
/// ``outputJacobian(at:batch:)`` (the Fisher of docs/lecture.md for a model output distribution,
/// F = E[Jᵀ H J]). Both return nil when not available (the default).
public protocol Objective<Scalar>: Sendable {
    associatedtype Scalar: BLASScalar

    /// A short identifier, e.g. `"rosenbrock"` or `"logistic"`.
    var name: String { get }
    /// n, the number of parameters.
    var dimension: Int { get }
    /// m, the number of data samples; 0 for analytic test functions (batches do not apply and
    /// `batch` is ignored).
    var sampleCount: Int { get }

    /// Returns L_B(θ) and writes ∇L_B(θ) into `gradient` (n elements, overwritten).
    /// `batch` holds sample indices in 0..<sampleCount (repeats allowed); nil means all samples.
    /// - Precondition: θ and gradient have ``dimension`` elements; batch non-empty and in range.
    func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                         gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar

    /// Returns L_B(θ) without the gradient (cheaper for the data models: no backward pass).
    func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar

    /// The per-sample gradients S (|B| × n, row i = ∇ℓᵢ(θ) for the i-th index of the batch), so
    /// that the batch gradient is the mean of the rows and the empirical Fisher is SᵀS/|B|.
    /// For a likelihood model ℓᵢ = −log p_θ(yᵢ|xᵢ), so the rows are minus the scores.
    /// Nil when the objective has no samples (default).
    func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>?

    /// The Jacobian of the model's output (the logits for Bernoulli/categorical outputs) w.r.t. θ,
    /// stacked per sample, with the output distribution: the ingredients of docs/lecture.md's Fisher
    /// for neural networks. Nil when not available (default).
    func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>?

    /// A starting point: the documented standard start for test functions, zeros for the convex
    /// regression models (as scikit-learn), a seeded Glorot initialization for the perceptron.
    func initialParameters(seed: UInt64) -> [Scalar]

    /// The fraction of samples classified correctly at θ over all data, for classifiers; nil
    /// otherwise (default).
    func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double?

    /// K-FAC's Kronecker factors A_l, G_l of every fully connected layer at θ on `batch`, in the
    /// estimation mode `fisher` (``FisherKind/sampled`` draws one target per sample from a
    /// generator keyed by `seed`, `step` and the sample's index); nil when the objective is
    /// not a network of fully connected layers (default). See `KroneckerBlock`.
    func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                          step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]?
    /// The named parts of θ (slices, and the groups `weights` and `biases` at least), for
    /// per-group hyperparameters (`ParameterGroups`). Default: one slice `weights` over all of
    /// θ and an empty group `biases`.
    var parameterLayout: ParameterLayout { get }
    /// `lossAndGradient(at:batch:gradient:)` and `kroneckerFactors(at:batch:fisher:step:seed:)`
    /// in one evaluation (one forward pass where the model allows), bit for bit the two calls;
    /// the factors go into `factors` (empty when the objective supplies none), whose buffers
    /// are reused. The default calls the two.
    func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                         step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                         factors: inout [KroneckerBlock<Scalar>]) -> Scalar
    /// The objective's own curvature at θ on `batch` for the natural gradient — a Fisher matrix
    /// (e.g. the expected negative Hessian of an exponential-family model), a metric, or a
    /// sample form such as `Curvature/poisson(logJacobian:rates:)` — used in place of the
    /// Fisher derived from `outputJacobian(at:batch:)` when `minimize` asks for the exact
    /// Fisher. Nil (default) when it supplies none.
    func suppliedCurvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Curvature<Scalar>?
    /// The curvature the natural gradient gets from the training loop (default: the Fisher
    /// assembled from the parts above, ``standardCurvature(at:batch:fisher:)``); a wrapper may
    /// assemble it otherwise, e.g. the data-parallel objective sums partial n × n Fishers.
    func curvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind) -> Curvature<Scalar>?
}

extension Objective {
    public var parameterLayout: ParameterLayout { .whole(count: dimension) }
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? { nil }
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? { nil }
    public func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double? { nil }
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? { nil }
    public func suppliedCurvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Curvature<Scalar>? { nil }
}

// MARK: - Array conveniences

extension Objective {
    /// Throws ``DataError/dimensionMismatch(objective:expected:found:)`` unless θ has
    /// ``dimension`` values, and ``DataError/shapeMismatch(_:)`` for a batch index outside
    /// 0..<``sampleCount`` (objectives with samples).
    @inlinable
    public func checkArguments(_ θ: [Scalar], batch: [Int]?) throws {
        guard θ.count == dimension else { throw DataError.dimensionMismatch(objective: name, expected: dimension, found: θ.count) }
        if let batch, sampleCount > 0 {
            if batch.isEmpty { throw DataError.shapeMismatch("\(name): the batch is empty") }
            if let i = batch.first(where: { $0 < 0 || $0 >= sampleCount }) {
                throw DataError.shapeMismatch("\(name): batch index \(i) is outside 0..<\(sampleCount)")
            }
        }
    }

    /// L_B(θ) and ∇L_B(θ) as a new array.
    /// - Throws: ``DataError`` when θ's count or a batch index does not fit (see ``checkArguments(_:batch:)``).
    /// - Complexity: as the unsafe variant plus one n-array.
    @inlinable
    public func lossAndGradient(at θ: [Scalar], batch: [Int]? = nil) throws -> (loss: Scalar, gradient: [Scalar]) {
        try checkArguments(θ, batch: batch)
        var g = [Scalar](repeating: 0, count: dimension)
        let loss = θ.withUnsafeBufferPointer { tp in
            g.withUnsafeMutableBufferPointer { gp in
                withOptionalBuffer(batch) { bp in lossAndGradient(at: tp, batch: bp, gradient: gp) }
            }
        }
        return (loss, g)
    }

    /// L_B(θ). - Throws: ``DataError`` when θ's count or a batch index does not fit.
    @inlinable
    public func loss(at θ: [Scalar], batch: [Int]? = nil) throws -> Scalar {
        try checkArguments(θ, batch: batch)
        return θ.withUnsafeBufferPointer { tp in withOptionalBuffer(batch) { bp in loss(at: tp, batch: bp) } }
    }

    /// ∇L_B(θ). - Throws: ``DataError`` when θ's count or a batch index does not fit.
    @inlinable
    public func gradient(at θ: [Scalar], batch: [Int]? = nil) throws -> [Scalar] {
        try lossAndGradient(at: θ, batch: batch).gradient
    }

    /// The per-sample gradients at θ, as the unsafe-buffer `perSampleGradients(at:batch:)`.
    /// - Throws: ``DataError`` when θ's count or a batch index does not fit.
    @inlinable
    public func perSampleGradients(at θ: [Scalar], batch: [Int]? = nil) throws -> Matrix<Scalar>? {
        try checkArguments(θ, batch: batch)
        return θ.withUnsafeBufferPointer { tp in withOptionalBuffer(batch) { bp in perSampleGradients(at: tp, batch: bp) } }
    }

    /// The output Jacobian at θ, as the unsafe-buffer `outputJacobian(at:batch:)`.
    /// - Throws: ``DataError`` when θ's count or a batch index does not fit.
    @inlinable
    public func outputJacobian(at θ: [Scalar], batch: [Int]? = nil) throws -> OutputJacobian<Scalar>? {
        try checkArguments(θ, batch: batch)
        return θ.withUnsafeBufferPointer { tp in withOptionalBuffer(batch) { bp in outputJacobian(at: tp, batch: bp) } }
    }

    /// The training accuracy at θ for classifiers, nil otherwise.
    /// - Throws: ``DataError/dimensionMismatch(objective:expected:found:)`` when θ's count does not fit.
    @inlinable
    public func accuracy(at θ: [Scalar]) throws -> Double? {
        try checkArguments(θ, batch: nil)
        return θ.withUnsafeBufferPointer { accuracy(at: $0) }
    }
}

/// Calls `body` with a buffer over `array`, or nil.
@inlinable
func withOptionalBuffer<R>(_ array: [Int]?, _ body: (UnsafeBufferPointer<Int>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0) }
}
