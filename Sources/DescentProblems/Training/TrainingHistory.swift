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
    /// L(θ_t) over the validation objective, at the steps it was evaluated (nil otherwise).
    public var validationLoss: Scalar?
    /// The validation accuracy at θ_t for classifiers, when evaluated.
    public var validationAccuracy: Double?

    public init(step: Int, loss: Scalar, gradientNorm: Scalar, learningRate: Scalar, elapsed: Double,
                parameters: [Scalar] = [], validationLoss: Scalar? = nil, validationAccuracy: Double? = nil) {
        self.step = step
        self.loss = loss
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
        self.elapsed = elapsed
        self.parameters = parameters
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
    }
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
    /// ``TrainingOptions/stopAfter`` steps were taken in this call; the state continues.
    case paused
    /// ``TrainingOptions/earlyStopping`` saw no improvement for its patience.
    case earlyStopping
}

/// What the per-step callback decides.
public enum TrainingControl: Sendable { case `continue`, stop }

/// The outcome of ``minimize(_:from:optimizer:options:callback:)``.
///
/// `history` has one record per step taken plus a final record at the returned parameters
/// (evaluated on the full data): t = 0, 1, …, T — every k-th step only beyond
/// ``TrainingOptions/historyLimit`` records. When the run stopped on a tolerance or divergence,
/// the final record is the evaluation that triggered it (on the batch it was computed on).
public struct TrainingResult<Scalar: BLASScalar>: Sendable, Equatable {
    /// θ_T.
    public var parameters: [Scalar]
    public var history: [TrainingRecord<Scalar>]
    public var stopReason: StopReason
    /// T, the optimizer steps applied (skipped steps included).
    public var steps: Int { history.last?.step ?? 0 }
    /// The loss of the final record (NaN for an empty history, which `minimize` never returns).
    public var finalLoss: Scalar { history.last?.loss ?? .nan }
}

/// The records a bounded history keeps (see ``TrainingOptions/historyLimit``).
enum HistoryThinning {
    /// k for T recorded steps: 1 up to the limit, else the smallest power of two with
    /// ⌈T/k⌉ ≤ limit. - Complexity: O(log(T/limit)).
    static func stride(steps: Int, limit: Int?) -> Int {
        guard let limit, steps > limit else { return 1 }
        var k = 1
        while k < Int.max / 2, (steps - 1) / k + 1 > limit { k <<= 1 }
        return k
    }

    /// Keeps the records the stride for `steps` keeps (a history written without a limit, or
    /// under a larger one). - Complexity: O(history).
    static func thin<Scalar>(_ history: inout [TrainingRecord<Scalar>], steps: Int, limit: Int?) {
        let k = stride(steps: steps, limit: limit)
        if k > 1 { history.removeAll { $0.step % k != 0 } }
    }

    /// Appends the record of step t (the history holding steps < t) and drops the records the
    /// stride for t + 1 steps no longer keeps. - Complexity: amortized O(1); O(limit) when the
    /// stride doubles (about log₂(T/limit) times in a run).
    static func append<Scalar>(_ record: TrainingRecord<Scalar>, to history: inout [TrainingRecord<Scalar>], limit: Int?) {
        let t = record.step
        let k = stride(steps: t + 1, limit: limit)
        if k != stride(steps: t, limit: limit) {
            history.removeAll { $0.step % k != 0 }
        }
        if t % k == 0 { history.append(record) }
    }
}
