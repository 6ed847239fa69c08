/// Reduces the learning rate when a monitored loss stops improving, as PyTorch's
/// `torch.optim.lr_scheduler.ReduceLROnPlateau(mode: "min")`. After each evaluation of the
/// metric v (in `Double`, as PyTorch's Python floats):
///
///     better  = v < best·(1 − threshold)   (relative)   or   v < best − threshold   (absolute)
///     better: best ← v, bad ← 0;   else bad ← bad + 1
///     in cooldown (cooldownCounter > 0): cooldownCounter ← cooldownCounter − 1, bad ← 0
///     bad > patience:  η' = max(η·factor, minimumLearningRate);  η ← η' if η − η' > ε;
///                      cooldownCounter ← cooldown, bad ← 0
///
/// best starts at +∞. The value holds its configuration and its state (it is part of a
/// ``TrainingState``, so a resumed run continues the same counters).
/// - Complexity: O(1) per evaluation; no pass over memory.
public struct ReduceLROnPlateau<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    public enum ThresholdMode: String, Sendable, Codable, CaseIterable { case relative, absolute }

    /// γ ∈ (0, 1): η ← γη on a plateau. PyTorch default 0.1.
    public var factor: Scalar
    /// Evaluations without improvement tolerated before reducing (≥ 0). Default 10.
    public var patience: Int
    /// Minimum improvement that counts (≥ 0). Default 10⁻⁴.
    public var threshold: Scalar
    public var thresholdMode: ThresholdMode
    /// Evaluations to wait after a reduction before counting again (≥ 0). Default 0.
    public var cooldown: Int
    /// η never goes below this (≥ 0). Default 0.
    public var minimumLearningRate: Scalar
    /// A reduction smaller than this is ignored. Default 10⁻⁸.
    public var epsilon: Scalar

    /// The best metric so far (+∞ before the first evaluation).
    public private(set) var best: Double = .infinity
    /// Evaluations since the last improvement (PyTorch's `num_bad_epochs`).
    public private(set) var badEvaluations: Int = 0
    public private(set) var cooldownCounter: Int = 0
    /// Reductions applied so far.
    public private(set) var reductions: Int = 0

    public init(factor: Scalar = 0.1, patience: Int = 10, threshold: Scalar = 1e-4, thresholdMode: ThresholdMode = .relative,
                cooldown: Int = 0, minimumLearningRate: Scalar = 0, epsilon: Scalar = 1e-8) throws {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minimumLearningRate = minimumLearningRate
        self.epsilon = epsilon
        try validate()
    }

    /// Throws ``TrainingError/invalidOption(name:value:requirement:)`` naming the bad value.
    public func validate() throws {
        guard factor > 0, factor < 1 else { throw TrainingError.invalidOption(name: "plateau factor", value: "\(factor)", requirement: "in (0, 1)") }
        guard patience >= 0 else { throw TrainingError.invalidOption(name: "plateau patience", value: "\(patience)", requirement: "≥ 0") }
        guard threshold >= 0, threshold.isFinite else { throw TrainingError.invalidOption(name: "plateau threshold", value: "\(threshold)", requirement: "finite and ≥ 0") }
        guard cooldown >= 0 else { throw TrainingError.invalidOption(name: "plateau cooldown", value: "\(cooldown)", requirement: "≥ 0") }
        guard minimumLearningRate >= 0, minimumLearningRate.isFinite else {
            throw TrainingError.invalidOption(name: "plateau minimum learning rate", value: "\(minimumLearningRate)", requirement: "finite and ≥ 0")
        }
        guard epsilon >= 0, epsilon.isFinite else { throw TrainingError.invalidOption(name: "plateau epsilon", value: "\(epsilon)", requirement: "finite and ≥ 0") }
    }

    /// Records one evaluation of the metric and returns the learning rate to use from now on.
    public mutating func update(metric: Scalar, learningRate: Scalar) -> Scalar {
        let v = Double(metric)
        let better: Bool
        switch thresholdMode {
        case .relative: better = v < best * (1 - Double(threshold))
        case .absolute: better = v < best - Double(threshold)
        }
        if better {
            best = v
            badEvaluations = 0
        } else {
            badEvaluations += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEvaluations = 0
        }
        guard badEvaluations > patience else { return learningRate }
        cooldownCounter = cooldown
        badEvaluations = 0
        let old = Double(learningRate)
        let new = Swift.max(old * Double(factor), Double(minimumLearningRate))
        guard old - new > Double(epsilon) else { return learningRate }
        reductions += 1
        return Scalar(new)
    }
}

/// Stops training when a monitored loss has not improved for `patience` evaluations, and
/// optionally restores the parameters of the best evaluation (Keras' `EarlyStopping(mode: "min",
/// restore_best_weights:)`):
///
///     v < best − minimumDelta:  best ← v, θ_best ← θ, bad ← 0;   else bad ← bad + 1
///     stop when bad ≥ patience
///
/// - Complexity: O(1) per evaluation plus one copy of θ (n scalars, into a buffer allocated
///   once) at each improvement when `restoreBest` is on.
public struct EarlyStopping<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    /// Evaluations without improvement before stopping (≥ 1).
    public var patience: Int
    /// Minimum decrease that counts as an improvement (≥ 0). Default 0.
    public var minimumDelta: Scalar
    /// Return θ_best instead of the last θ when stopping (or at the end of the run). Default true.
    public var restoreBest: Bool

    /// The best metric so far (+∞ before the first evaluation).
    public private(set) var best: Double = .infinity
    /// The step t of the best evaluation.
    public private(set) var bestStep: Int? = nil
    public private(set) var badEvaluations: Int = 0
    /// θ at the best evaluation (empty unless `restoreBest`).
    public private(set) var bestParameters: [Scalar] = []

    public init(patience: Int, minimumDelta: Scalar = 0, restoreBest: Bool = true) throws {
        self.patience = patience
        self.minimumDelta = minimumDelta
        self.restoreBest = restoreBest
        try validate()
    }

    public func validate() throws {
        guard patience >= 1 else { throw TrainingError.invalidOption(name: "early-stopping patience", value: "\(patience)", requirement: "≥ 1") }
        guard minimumDelta >= 0, minimumDelta.isFinite else {
            throw TrainingError.invalidOption(name: "early-stopping minimum delta", value: "\(minimumDelta)", requirement: "finite and ≥ 0")
        }
    }

    /// Records one evaluation at θ (step t); returns true when training should stop.
    public mutating func update(metric: Scalar, step: Int, parameters: UnsafeBufferPointer<Scalar>) -> Bool {
        let v = Double(metric)
        if v < best - Double(minimumDelta) {
            best = v
            bestStep = step
            badEvaluations = 0
            if restoreBest {
                if bestParameters.count != parameters.count { bestParameters = Array(parameters) }
                else { bestParameters.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: parameters) } }
            }
            return false
        }
        badEvaluations += 1
        return badEvaluations >= patience
    }
}
