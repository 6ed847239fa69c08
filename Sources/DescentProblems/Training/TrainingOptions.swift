import Foundation

/// How ``minimize(_:from:optimizer:options:callback:)`` runs. Every field has a default; the
/// defaults run 1000 full-data steps at the optimizer's own learning rate.
public struct TrainingOptions<Scalar: BLASScalar>: Sendable, Equatable, Codable {
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
    /// Pause after this many steps of one call (``StopReason/paused``): the run's
    /// ``TrainingState`` continues from there as if never interrupted. Nil: never.
    public var stopAfter: Int?
    /// Evaluate the validation objective every this many steps (and at the end), when
    /// ``minimize(_:state:validation:control:)`` is given one. Default 1.
    public var validationInterval: Int
    /// Reduce the learning rate on a plateau of the monitored loss (the validation loss when a
    /// validation objective is given, else each step's training loss). With a ``schedule`` it
    /// must be a warm-up ending in a constant rate (`warmup(steps: W, startFactor:, then: .constant(η))`):
    /// the warm-up sets the rate for t ≤ W and the plateau takes over from t = W, as PyTorch
    /// users chain a `LinearLR` warm-up before `ReduceLROnPlateau`.
    /// validation objective is given, else each step's training loss). Replaces ``schedule``.
    public var plateau: ReduceLROnPlateau<Scalar>?
    /// Stop when the monitored loss (as for ``plateau``) stops improving; restores θ_best.
    public var earlyStopping: EarlyStopping<Scalar>?
    /// The most records ``TrainingState/history`` keeps (≥ 1): after T steps it holds the steps
    /// t < T with t mod k = 0, k the smallest power of two with ⌈T/k⌉ ≤ the limit, so its memory
    /// (about 140 bytes per record without θ) stays bounded however long the run; a function of T
    /// alone, so a paused and resumed run keeps the same records. Nil: every step. Default
    /// ``defaultHistoryLimit``.
    public var historyLimit: Int?

    /// 65 536 records: about 9 MB of history without θ.
    public static var defaultHistoryLimit: Int { 1 << 16 }

    public init(maxSteps: Int = 1000, batchSize: Int? = nil, seed: UInt64 = 0,
                schedule: LearningRateSchedule<Scalar>? = nil, gradientClipNorm: Scalar? = nil,
                lossTolerance: Scalar? = nil, gradientTolerance: Scalar? = nil, maxSeconds: Double? = nil,
                recordParameters: Bool = false, fisher: FisherKind = .exact, stopAfter: Int? = nil,
                validationInterval: Int = 1, plateau: ReduceLROnPlateau<Scalar>? = nil, earlyStopping: EarlyStopping<Scalar>? = nil,
                historyLimit: Int? = defaultHistoryLimit) {
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
        self.stopAfter = stopAfter
        self.validationInterval = validationInterval
        self.plateau = plateau
        self.earlyStopping = earlyStopping
        self.historyLimit = historyLimit
    }

    private enum CodingKeys: String, CodingKey {
        case maxSteps, batchSize, seed, schedule, gradientClipNorm, lossTolerance, gradientTolerance, maxSeconds
        case recordParameters, fisher, stopAfter, validationInterval, plateau, earlyStopping, historyLimit
    }

    /// Decodes options; fields added after the first format version take their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(maxSteps: try c.decode(Int.self, forKey: .maxSteps),
                  batchSize: try c.decodeIfPresent(Int.self, forKey: .batchSize),
                  seed: try c.decode(UInt64.self, forKey: .seed),
                  schedule: try c.decodeIfPresent(LearningRateSchedule<Scalar>.self, forKey: .schedule),
                  gradientClipNorm: try c.decodeIfPresent(Scalar.self, forKey: .gradientClipNorm),
                  lossTolerance: try c.decodeIfPresent(Scalar.self, forKey: .lossTolerance),
                  gradientTolerance: try c.decodeIfPresent(Scalar.self, forKey: .gradientTolerance),
                  maxSeconds: try c.decodeIfPresent(Double.self, forKey: .maxSeconds),
                  recordParameters: try c.decodeIfPresent(Bool.self, forKey: .recordParameters) ?? false,
                  fisher: try c.decodeIfPresent(FisherKind.self, forKey: .fisher) ?? .exact,
                  stopAfter: try c.decodeIfPresent(Int.self, forKey: .stopAfter),
                  validationInterval: try c.decodeIfPresent(Int.self, forKey: .validationInterval) ?? 1,
                  plateau: try c.decodeIfPresent(ReduceLROnPlateau<Scalar>.self, forKey: .plateau),
                  earlyStopping: try c.decodeIfPresent(EarlyStopping<Scalar>.self, forKey: .earlyStopping))
        // Written before the limit existed: every record was kept, and is.
        historyLimit = c.contains(.historyLimit) ? try c.decodeIfPresent(Int.self, forKey: .historyLimit) : nil
        try validate()
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
        if let k = stopAfter, k < 0 { throw TrainingError.invalidOption(name: "stopAfter", value: "\(k)", requirement: "≥ 0") }
        guard validationInterval >= 1 else {
            throw TrainingError.invalidOption(name: "validationInterval", value: "\(validationInterval)", requirement: "≥ 1")
        }
        try plateau?.validate()
        try earlyStopping?.validate()
        if let h = historyLimit, h < 1 { throw TrainingError.invalidOption(name: "historyLimit", value: "\(h)", requirement: "≥ 1") }
        if plateau != nil, let schedule, plateauWarmup == nil {
            throw TrainingError.invalidOption(name: "plateau", value: "with the schedule \(schedule)",
                                              requirement: "used alone or after a warm-up to a constant rate (it sets the learning rate itself, as the schedule would)")
        }
    }

    /// W when a ``plateau`` follows a warm-up schedule to a constant rate; nil otherwise.
    var plateauWarmup: Int? {
        guard plateau != nil, case let .warmup(w, _, then)? = schedule, case .constant = then else { return nil }
        return w
    }

    /// The rate the schedule sets before step t, or nil when the schedule does not set it (none,
    /// or a plateau has taken over after its warm-up).
    func scheduledRate(at t: Int) -> Scalar? {
        guard let schedule else { return nil }
        if plateau != nil, let w = plateauWarmup, t > w { return nil }
        return schedule.rate(at: t)
    }

    /// Whether the plateau watches the monitored loss at step t (from the end of a warm-up on).
    func plateauActive(at t: Int) -> Bool {
        guard plateau != nil else { return false }
        return t >= (plateauWarmup ?? 0)
    }
}

/// Errors of the training loop (optimizer errors pass through unchanged).
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case invalidOption(name: String, value: String, requirement: String)
    /// The initial parameters do not fit the objective.
    case parameterCountMismatch(expected: Int, found: Int)
    /// The optimizer needs curvature (the natural gradient) and the objective supplies none.
    case curvatureUnavailable(objective: String, fisher: String)
    /// A saved training state does not fit (another objective, data or sampler) or is inconsistent.
    case corruptState(String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, requirement): return "invalid \(name) = \(value): must be \(requirement)"
        case let .parameterCountMismatch(expected, found): return "initial parameters have \(found) elements, the objective has \(expected)"
        case let .curvatureUnavailable(objective, fisher):
            return "\(objective) supplies no curvature (\(fisher) Fisher) for the natural gradient"
        case let .corruptState(why): return "training state does not fit: \(why)"
        }
    }
    public var errorDescription: String? { description }
}
