/// How ``minimize(_:from:optimizer:options:callback:)`` runs. Every field has a default; the
/// defaults run 1000 full-data steps at the optimizer's own learning rate.
public struct TrainingOptions<Scalar: BLASScalar>: Sendable, Equatable {
    /// The number of optimizer steps at most. Default 1000.
    public var maxSteps: Int
    /// Minibatch size; nil (default) means the full-data gradient every step. Batches are drawn
    /// without replacement, epoch by epoch, from a Fisher–Yates permutation of the samples
    /// seeded by ``seed`` (PyTorch `DataLoader(shuffle: true, drop_last: false)`: the last batch
    /// of an epoch may be smaller). Ignored for objectives without samples.
    public var batchSize: Int?
    /// Seeds the batch order (SplitMix64). Same seed, same run, bit for bit.
    public var seed: UInt64
    /// Sets the optimizer's learning rate before each step; nil keeps the optimizer's.
    public var schedule: LearningRateSchedule<Scalar>?
    /// Clip the gradient to this global norm before the step (`clipGradientNorm(_:maxNorm:)`); nil: no clipping.
    public var gradientClipNorm: Scalar?
    /// Stop (before stepping) once the evaluated loss is ≤ this. Nil: never.
    public var lossTolerance: Scalar?
    /// Stop (before stepping) once the evaluated gradient norm is ≤ this. Nil: never.
    public var gradientTolerance: Scalar?
    /// Stop once this many seconds of wall time have passed. Nil: never.
    public var maxSeconds: Double?
    /// Record θ at every history entry (for trajectories). Default false: costs n scalars per step.
    public var recordParameters: Bool
    /// The Fisher information given to an optimizer that asks for curvature (the natural
    /// gradient). Default ``FisherKind/exact``.
    public var fisher: FisherKind

    public init(maxSteps: Int = 1000, batchSize: Int? = nil, seed: UInt64 = 0,
                schedule: LearningRateSchedule<Scalar>? = nil, gradientClipNorm: Scalar? = nil,
                lossTolerance: Scalar? = nil, gradientTolerance: Scalar? = nil, maxSeconds: Double? = nil,
                recordParameters: Bool = false, fisher: FisherKind = .exact) {
        self.maxSteps = maxSteps
        self.batchSize = batchSize
        self.seed = seed
        self.schedule = schedule
        self.gradientClipNorm = gradientClipNorm
        self.lossTolerance = lossTolerance
        self.gradientTolerance = gradientTolerance
        self.maxSeconds = maxSeconds
        self.recordParameters = recordParameters
        self.fisher = fisher
    }

    /// Throws ``TrainingError/invalidOption(name:value:requirement:)`` naming the first bad option.
    public func validate() throws {
        guard maxSteps >= 0 else { throw TrainingError.invalidOption(name: "maxSteps", value: "\(maxSteps)", requirement: "≥ 0") }
        if let b = batchSize, b <= 0 { throw TrainingError.invalidOption(name: "batchSize", value: "\(b)", requirement: "> 0") }
        if let c = gradientClipNorm, !(c > 0 && c.isFinite) {
            throw TrainingError.invalidOption(name: "gradientClipNorm", value: "\(c)", requirement: "finite and > 0")
        }
        if let t = gradientTolerance, !(t >= 0) { throw TrainingError.invalidOption(name: "gradientTolerance", value: "\(t)", requirement: "≥ 0") }
        if let t = lossTolerance, t.isNaN { throw TrainingError.invalidOption(name: "lossTolerance", value: "\(t)", requirement: "a number") }
        if let s = maxSeconds, !(s >= 0) { throw TrainingError.invalidOption(name: "maxSeconds", value: "\(s)", requirement: "≥ 0") }
        try schedule?.validate()
    }
}

/// Errors of the training loop (optimizer errors pass through unchanged).
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidOption(name: String, value: String, requirement: String)
    /// The initial parameters do not fit the objective.
    case parameterCountMismatch(expected: Int, found: Int)
    /// The optimizer needs curvature (the natural gradient) and the objective supplies none.
    case curvatureUnavailable(objective: String, fisher: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, requirement): return "invalid \(name) = \(value): must be \(requirement)"
        case let .parameterCountMismatch(expected, found): return "initial parameters have \(found) elements, the objective has \(expected)"
        case let .curvatureUnavailable(objective, fisher):
            return "\(objective) supplies no curvature (\(fisher) Fisher) for the natural gradient"
        }
    }
}
