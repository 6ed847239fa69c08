/// Which Fisher information the training loop gives the natural gradient.
public enum FisherKind: String, Sendable, CaseIterable, Codable {
    /// The Fisher of the model's output distribution through its Jacobian,
    /// F = (1/m) Σᵢ Jᵢᵀ Λᵢ Jᵢ (F_linear, F_sigmoid, F_softmax of docs/lecture.md).
    /// Objectives without an output Jacobian fall back to the empirical Fisher.
    case exact
    /// The empirical Fisher from per-sample gradients, F = (1/m) SᵀS.
    case empirical
    /// K-FAC only: the Fisher estimated from one target per sample drawn from the model's own
    /// output distribution (seeded, keyed by step and sample index). The dense natural gradient
    /// does not support it (``Objective/curvature(at:batch:fisher:)`` returns nil).
    case sampled
}

extension Objective {
    /// The curvature the natural gradient needs at θ on `batch` (nil: all data), in the form
    /// `fisher` asks for: for `.exact` the objective's own ``Objective/suppliedCurvature(at:batch:)``,
    /// else the Fisher of its output distribution (Gaussian, Bernoulli, categorical, Poisson),
    /// else the empirical Fisher; for `.empirical` the empirical Fisher, else its own curvature.
    /// Nil when the objective supplies none of them.
    ///
    /// - Complexity: that of ``Objective/outputJacobian(at:batch:)`` or
    ///   ``Objective/perSampleGradients(at:batch:)``: O(|B| · k · n) memory.
    public func curvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                          fisher: FisherKind) -> Curvature<Scalar>? {
        standardCurvature(at: θ, batch: batch, fisher: fisher)
    }

    /// The default ``Objective/curvature(at:batch:fisher:)``, for implementations that delegate to it.
    public func standardCurvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                  fisher: FisherKind) -> Curvature<Scalar>? {
        if fisher == .sampled { return nil }
        if fisher == .exact, let own = suppliedCurvature(at: θ, batch: batch) { return own }
        if fisher == .exact, let j = outputJacobian(at: θ, batch: batch) {
            switch j.distribution {
            case let .gaussian(beta):
                return .gaussian(jacobian: j.jacobian, samples: j.samples, beta: beta)
            case let .bernoulli(p):
                return .bernoulli(logitJacobian: j.jacobian, probabilities: p)
            case let .categorical(p):
                return .categorical(logitJacobian: j.jacobian, probabilities: p)
            case let .poisson(mu):
                return .poisson(logJacobian: j.jacobian, rates: mu)
            }
        }
        if let s = perSampleGradients(at: θ, batch: batch) { return .empiricalFisher(scores: s) }
        return suppliedCurvature(at: θ, batch: batch)
    }
}
