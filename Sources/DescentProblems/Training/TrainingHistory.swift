/// One evaluation of the training loop, at θ_t (after t optimizer steps).
public struct TrainingRecord<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    /// t, the number of optimizer steps taken before this evaluation.
    public var step: Int
    /// L_B(θ_t) on the batch of the coming step (the full data for the final record).
    public var loss: Scalar
    /// ‖∇L_B(θ_t)‖₂ before clipping.
    public var gradientNorm: Scalar
    /// The learning rate of the coming step (the optimizer's after the last step for the final record).
    public var learningRate: Scalar
    /// Seconds since the run started.
    public var elapsed: Double
    /// θ_t when ``TrainingOptions/recordParameters`` is on, else empty.
    public var parameters: [Scalar]
}

/// Why a run ended.
public enum StopReason: String, Sendable, Equatable, Codable {
    case maxSteps
    case lossTolerance
    case gradientTolerance
    case wallTime
    /// The callback returned ``TrainingControl/stop``.
    case callback
    /// The loss became NaN or infinite; the parameters are those of the non-finite evaluation.
    case diverged
}

/// What the per-step callback decides.
public enum TrainingControl: Sendable { case `continue`, stop }

/// The outcome of ``minimize(_:from:optimizer:options:callback:)``.
///
/// `history` has one record per step taken plus a final record at the returned parameters
/// (evaluated on the full data): t = 0, 1, …, T. When the run stopped on a tolerance or divergence,
/// the final record is the evaluation that triggered it (on the batch it was computed on).
public struct TrainingResult<Scalar: BLASScalar>: Sendable, Equatable {
    /// θ_T.
    public var parameters: [Scalar]
    public var history: [TrainingRecord<Scalar>]
    public var stopReason: StopReason
    /// T, the optimizer steps applied (skipped steps included).
    public var steps: Int { history.last?.step ?? 0 }
    /// The loss of the final record.
    public var finalLoss: Scalar { history.last!.loss }
}
