import Foundation

/// Errors specific to ``KFAC``. Whenever ``KFAC/updateCurvature(_:)``, ``KFAC/step(_:gradient:)``
/// or ``KFAC/reportLoss(before:after:)`` throws one, the parameters, hyperparameters, λ, the
/// factor averages, the Cholesky factors and the counters are exactly as they were before.
public enum KFACError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A step came before any Kronecker factors were supplied with ``KFAC/updateCurvature(_:)``.
    case missingCurvature(step: Int)
    /// The estimate is not Kronecker-factored (K-FAC needs `.kronecker` blocks).
    case unsupportedCurvature(String)
    /// A block's sizes are inconsistent (`layer` counts from 0), e.g. an A of the wrong length.
    case blockShapeMismatch(layer: Int, reason: String)
    /// The blocks do not tile the parameters: they cover `covered` of `parameters` entries.
    case blocksDoNotTile(covered: Int, parameters: Int)
    /// The blocks' layout differs from the one the averages were built for.
    case blockLayoutChanged(layer: Int, expected: String, found: String)
    /// A factor entry is NaN or infinite: `factor` is "A" or "G", `index` the entry.
    case nonFiniteFactor(layer: Int, factor: String, index: Int, value: String)
    /// A damped factor stayed not positive definite after the damping retries: `order` is the
    /// failing leading minor of layer `layer`'s `factor` ("A" or "G"), `lastDamping` the last λ.
    case notPositiveDefinite(layer: Int, factor: String, order: Int, lastDamping: Double, attempts: Int)
    /// The preconditioned direction holds a NaN or infinity; nothing was applied.
    case nonFiniteStep
    /// ``KFAC/reportLoss(before:after:)`` without a step to evaluate.
    case noStepToEvaluate
    /// The loss before the step is NaN or infinite.
    case nonFiniteLoss(String)
    /// Sizes whose product overflows `Int`.
    case sizeOverflow(String)
    /// ``AdaptiveKFAC`` was stepped without a model (``ModelDrivenOptimizer/step(_:loss:gradient:model:)`` is its step).
    case modelRequired

    public var description: String {
        switch self {
        case let .missingCurvature(step):
            return "K-FAC step \(step) needs Kronecker factors: call updateCurvature(.kronecker(_:)) first"
        case let .unsupportedCurvature(kind):
            return "K-FAC needs Kronecker factors (.kronecker), got a \(kind) curvature"
        case let .blockShapeMismatch(layer, reason):
            return "Kronecker block \(layer): \(reason)"
        case let .blocksDoNotTile(covered, parameters):
            return "the Kronecker blocks cover \(covered) parameters but there are \(parameters): they must tile θ from offset 0"
        case let .blockLayoutChanged(layer, expected, found):
            return "Kronecker block \(layer) is \(found) but the factor averages were built for \(expected)"
        case let .nonFiniteFactor(layer, factor, index, value):
            return "Kronecker factor \(factor) of layer \(layer) has entry \(index) = \(value); curvature refused, state unchanged"
        case let .notPositiveDefinite(layer, factor, order, lastDamping, attempts):
            return "damped Kronecker factor \(factor) of layer \(layer) is not positive definite (leading minor \(order)) after \(attempts) attempt(s), last λ = \(lastDamping); parameters and state unchanged"
        case .nonFiniteStep:
            return "the K-FAC direction is not finite; step refused, parameters and state unchanged"
        case .noStepToEvaluate:
            return "reportLoss(before:after:) called but no step was taken since the last report"
        case let .nonFiniteLoss(value):
            return "the loss before the step is \(value); it must be finite"
        case let .sizeOverflow(what):
            return "size overflow: \(what)"
        case .modelRequired:
            return "adaptive K-FAC steps through step(_:loss:gradient:model:): it needs the model (loss, layer statistics, Fisher-vector products)"
        }
    }

    public var errorDescription: String? { description }

    /// The same error with its layer index (0 from a single block) set to `layer`.
    @inlinable
    func atLayer(_ layer: Int) -> KFACError {
        switch self {
        case let .blockShapeMismatch(_, reason): return .blockShapeMismatch(layer: layer, reason: reason)
        case let .blockLayoutChanged(_, expected, found): return .blockLayoutChanged(layer: layer, expected: expected, found: found)
        case let .nonFiniteFactor(_, factor, index, value): return .nonFiniteFactor(layer: layer, factor: factor, index: index, value: value)
        default: return self
        }
    }
}
