import Foundation

/// Errors specific to ``NaturalGradient`` and ``Curvature``. Whenever a call throws one, the
/// parameters, the hyperparameters, λ and all state are bit-identical to before the call.
public enum NaturalGradientError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// F + λI was not positive definite for any λ tried: `order` is the order of the first
    /// leading minor LAPACK `potrf` found not positive definite in the last attempt (of the
    /// r × r matrix λI + UUᵀ on the Woodbury path, of the diagonal element for a diagonal
    /// metric), `lastDamping` the last λ tried, `attempts` the number of factorizations.
    case notPositiveDefinite(order: Int, lastDamping: Double, attempts: Int)
    /// A step must factor the curvature but none is held: call ``NaturalGradient/setCurvature(_:)``
    /// (or ``NaturalGradient/updateCurvature(_:)``) first.
    case missingCurvature(step: Int)
    /// The curvature's shape does not fit the parameters or itself.
    case curvatureShapeMismatch(expected: String, found: String)
    /// A curvature value is out of range, e.g. a probability outside [0, 1].
    case invalidCurvature(String)
    /// The chosen solver cannot handle this curvature.
    case solverUnavailable(solver: String, reason: String)
    /// The Cholesky path would need an n × n matrix beyond 32-bit LAPACK indexing.
    case curvatureTooLarge(parameters: Int)
    /// ``NaturalGradient/reportLoss(before:after:)`` was called without a step to evaluate.
    case noStepToEvaluate
    /// The loss before the step given to ``NaturalGradient/reportLoss(before:after:)`` is NaN or infinite.
    case nonFiniteLoss(String)
    /// The solved direction holds a NaN or infinity (e.g. an infinite curvature entry);
    /// nothing was applied.
    case nonFiniteStep

    public var errorDescription: String? { description }

    public var description: String {
        switch self {
        case let .notPositiveDefinite(order, lastDamping, attempts):
            return "curvature + λI is not positive definite: leading minor of order \(order) failed after \(attempts) factorization attempt(s), last λ = \(lastDamping); parameters and state unchanged"
        case let .missingCurvature(step):
            return "step \(step) needs a curvature and none is held: call setCurvature(_:) first (needsCurvature is true)"
        case let .curvatureShapeMismatch(expected, found):
            return "curvature shape mismatch: expected \(expected), found \(found)"
        case let .invalidCurvature(reason):
            return "invalid curvature: \(reason)"
        case let .solverUnavailable(solver, reason):
            return "solver \(solver) unavailable: \(reason)"
        case let .curvatureTooLarge(parameters):
            return "a dense \(parameters) × \(parameters) curvature exceeds LAPACK's 32-bit indexing; use a low-rank curvature with the Woodbury solver"
        case .noStepToEvaluate:
            return "reportLoss(before:after:) called but no step was taken since the last report"
        case let .nonFiniteLoss(value):
            return "the loss before the step is \(value); it must be finite"
        case .nonFiniteStep:
            return "the natural-gradient direction is not finite; step refused, parameters unchanged"
        }
    }
}
