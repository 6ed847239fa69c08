import Foundation

/// A learning rate as a function of the step index t = 0, 1, 2, … (the number of optimizer steps
/// already taken, so step t + 1 uses rate(t)), with PyTorch's `lr_scheduler` formulas:
///
/// - ``constant(_:)``: η.
/// - ``step(initial:every:factor:)``: η₀ γ^⌊t/s⌋ (`StepLR(step_size: s, gamma: γ)`).
/// - ``exponential(initial:factor:)``: η₀ γᵗ (`ExponentialLR(gamma: γ)`).
/// - ``cosine(initial:minimum:period:)``: η_min + ½(η₀ − η_min)(1 + cos(π t/T)) for t ≤ T, and
///   η_min after T (`CosineAnnealingLR(T_max: T, eta_min:)`; PyTorch's closed form would rise
///   again after T, we hold the minimum).
/// - ``warmup(steps:startFactor:then:)``: rate_then(0) · (f + (1 − f) t/W) for t < W, then
///   rate_then(t − W): `SequentialLR([LinearLR(start_factor: f, total_iters: W), then],
///   milestones: [W])`. Composes with any schedule, including another warm-up.
///
/// - Complexity: O(1) per evaluation (O(depth) for nested warm-ups).
public indirect enum LearningRateSchedule<Scalar: BLASScalar>: Sendable, Equatable, Codable, CustomStringConvertible {
    case constant(Scalar)
    case step(initial: Scalar, every: Int, factor: Scalar)
    case exponential(initial: Scalar, factor: Scalar)
    case cosine(initial: Scalar, minimum: Scalar, period: Int)
    case warmup(steps: Int, startFactor: Scalar, then: LearningRateSchedule)

    /// η at step index t (a negative t is read as 0).
    /// - Complexity: O(1) (O(depth) for nested warm-ups); no pass over memory: the optimizer
    ///   reads the rate as a scalar, so a schedule adds nothing to a step's memory traffic.
    @inlinable
    public func rate(at step: Int) -> Scalar {
        let t = Swift.max(step, 0)
        switch self {
        case let .constant(eta):
            return eta
        case let .step(eta, every, gamma):
            return eta * Scalar(Foundation.pow(Double(gamma), Double(t / Swift.max(every, 1))))
        case let .exponential(eta, gamma):
            return eta * Scalar(Foundation.pow(Double(gamma), Double(t)))
        case let .cosine(eta, etaMin, period):
            guard period > 0, t < period else { return etaMin }
            let c = Foundation.cos(Double.pi * Double(t) / Double(period))
            return Scalar(Double(etaMin) + 0.5 * Double(eta - etaMin) * (1 + c))
        case let .warmup(w, f, then):
            guard t < w else { return then.rate(at: t - w) }
            return then.rate(at: 0) * (f + (1 - f) * Scalar(t) / Scalar(w))
        }
    }

    /// Throws ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` for a negative or
    /// non-finite rate, a non-positive period or step interval, or a factor out of range.
    public func validate() throws {
        switch self {
        case let .constant(eta): try Hyperparameter.nonNegative("learningRate", eta)
        case let .step(eta, every, gamma):
            try Hyperparameter.nonNegative("learningRate", eta)
            try Hyperparameter.nonNegative("stepFactor", gamma)
            guard every > 0 else { throw OptimizerError.invalidHyperparameter(name: "stepEvery", value: "\(every)", requirement: "> 0") }
        case let .exponential(eta, gamma):
            try Hyperparameter.nonNegative("learningRate", eta)
            try Hyperparameter.nonNegative("decayFactor", gamma)
        case let .cosine(eta, etaMin, period):
            try Hyperparameter.nonNegative("learningRate", eta)
            try Hyperparameter.nonNegative("minimumLearningRate", etaMin)
            guard period > 0 else { throw OptimizerError.invalidHyperparameter(name: "cosinePeriod", value: "\(period)", requirement: "> 0") }
        case let .warmup(w, f, then):
            guard w > 0 else { throw OptimizerError.invalidHyperparameter(name: "warmupSteps", value: "\(w)", requirement: "> 0") }
            try Hyperparameter.closedUnit("warmupStartFactor", f)
            try then.validate()
        }
    }

    public var description: String {
        switch self {
        case let .constant(eta): return "constant(\(eta))"
        case let .step(eta, every, gamma): return "step(\(eta), every: \(every), factor: \(gamma))"
        case let .exponential(eta, gamma): return "exponential(\(eta), factor: \(gamma))"
        case let .cosine(eta, etaMin, period): return "cosine(\(eta) → \(etaMin) over \(period))"
        case let .warmup(w, f, then): return "warmup(\(w) steps from ×\(f)) then \(then)"
        }
    }
}
