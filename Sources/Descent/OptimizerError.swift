/// Errors an optimizer throws. Whenever one is thrown, the parameters and the optimizer's
/// state are exactly as they were before the call.
import Foundation

public enum OptimizerError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The gradient's element count differs from the parameters'.
    case gradientCountMismatch(parameters: Int, gradient: Int)
    /// The optimizer's state was built for another parameter count (e.g. restored from a
    /// checkpoint of another model).
    case stateCountMismatch(state: Int, parameters: Int)
    /// A hyperparameter is outside its valid range.
    case invalidHyperparameter(name: String, value: String, requirement: String)
    /// The gradient holds a NaN or an infinity; `index` is the first such element.
    case nonFiniteGradient(index: Int, value: String)
    /// A checkpoint was written by another optimizer or for another scalar type.
    case checkpointMismatch(expected: String, found: String)
    /// A checkpoint's contents are inconsistent (e.g. buffers of different lengths).
    case corruptCheckpoint(String)
    /// The step counter `name` (`t` or `skipped`) is at `Int.max` and cannot count another step.
    case counterOverflow(name: String)

    public var description: String {
        switch self {
        case let .gradientCountMismatch(parameters, gradient):
            return "gradient has \(gradient) elements but there are \(parameters) parameters"
        case let .stateCountMismatch(state, parameters):
            return "optimizer state holds \(state) elements but there are \(parameters) parameters"
        case let .invalidHyperparameter(name, value, requirement):
            return "invalid \(name) = \(value): must be \(requirement)"
        case let .nonFiniteGradient(index, value):
            return "gradient element \(index) is \(value); step refused, parameters and state unchanged"
        case let .checkpointMismatch(expected, found):
            return "checkpoint is for \(found), expected \(expected)"
        case let .corruptCheckpoint(reason):
            return "corrupt checkpoint: \(reason)"
        case let .counterOverflow(name):
            return "step counter \(name) = \(Int.max) cannot be incremented; step refused, parameters and state unchanged"
        }
    }

    public var errorDescription: String? { description }
}

/// What a step does with a gradient that holds a NaN or an infinity.
public enum NonFiniteGradientPolicy: String, Codable, Sendable, CaseIterable {
    /// Throw ``OptimizerError/nonFiniteGradient(index:value:)`` naming the first bad element;
    /// parameters and state stay untouched. The default. Costs one extra read of the gradient.
    case throwError
    /// Leave parameters and state untouched, count the step in ``Optimizer/skippedSteps``, return.
    case skipStep
    /// Do not look: NaNs propagate into parameters and state, as in PyTorch. Saves the extra
    /// read of the gradient on memory-bound steps.
    case unchecked
}
