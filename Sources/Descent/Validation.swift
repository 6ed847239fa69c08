/// Hyperparameter checks shared by the optimizers. Each throws
/// ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` naming the value.
public enum Hyperparameter {
    @inlinable public static func nonNegative<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and ≥ 0") }
    }
    @inlinable public static func positive<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v > 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and > 0") }
    }
    /// 0 ≤ v < 1.
    @inlinable public static func halfOpenUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v < 1 else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "in [0, 1)") }
    }
    /// 0 ≤ v ≤ 1.
    @inlinable public static func closedUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v <= 1 else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "in [0, 1]") }
    }
}

import DescentLinearAlgebra

/// Checks before a step: the gradient's count, the state's count, and (by `policy`) that
/// every gradient element is finite. Returns `false` when the step must be skipped.
///
/// - Complexity: O(n) reads of the gradient when the policy looks at it, O(1) otherwise.
@inlinable
public func checkStepInputs<S: BLASScalar>(
    parameters: Int, gradient: UnsafeBufferPointer<S>, stateCount: Int?, policy: NonFiniteGradientPolicy
) throws -> Bool {
    guard gradient.count == parameters else {
        throw OptimizerError.gradientCountMismatch(parameters: parameters, gradient: gradient.count)
    }
    if let stateCount, stateCount != parameters {
        throw OptimizerError.stateCountMismatch(state: stateCount, parameters: parameters)
    }
    if policy == .unchecked { return true }
    guard let index = firstNonFinite(gradient) else { return true }
    if policy == .skipStep { return false }
    throw OptimizerError.nonFiniteGradient(index: index, value: "\(gradient[index])")
}

/// The index of the first NaN or infinity in `x`, or nil. A branch-free vectorizable scan
/// first, and a scalar search only when something was found.
@inlinable
public func firstNonFinite<S: BLASScalar>(_ x: UnsafeBufferPointer<S>) -> Int? {
    guard let base = x.baseAddress else { return nil }
    let n = x.count
    var found: UInt8 = 0
    for i in 0..<n { found |= base[i].isFinite ? 0 : 1 }
    guard found != 0 else { return nil }
    for i in 0..<n where !base[i].isFinite { return i }
    return nil
}
