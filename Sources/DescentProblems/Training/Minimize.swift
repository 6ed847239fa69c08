import Dispatch

/// Minimizes `objective` from `initial` with any `Optimizer`:
///
///     for t = 0, 1, …:
///         B_t ← next minibatch (all data without a batch size)
///         ℓ_t, g_t ← L_{B_t}(θ_t), ∇L_{B_t}(θ_t);   record (t, ℓ_t, ‖g_t‖, η_t, time[, θ_t])
///         stop if ℓ_t is not finite, ℓ_t ≤ lossTolerance, ‖g_t‖ ≤ gradientTolerance,
///              the callback says stop, t = maxSteps or the wall time is up
///         g_t ← clip(g_t);   η ← schedule(t);   θ_{t+1} ← optimizer.step(θ_t, g_t)
///
/// The last evaluation — at t = maxSteps or when the time is up — uses the full data, so the
/// final record is the true loss at the returned parameters. The optimizer is `inout`: it keeps
/// its state (and step count) afterwards, and a schedule leaves its last rate in it.
///
/// Reproducible: the same objective, initial point, optimizer, options (seed) and callback
/// decisions give an identical history (apart from `elapsed`).
///
/// - Throws: ``TrainingError`` for bad options or initial parameters; an optimizer's
///   `OptimizerError` (e.g. a non-finite gradient under `.throwError`) passes through, and
///   the partial history is lost — use `.skipStep` or stop on ``StopReason/diverged``.
/// - Complexity: per step one gradient evaluation (O(|B|·n) for the linear models), one nrm2,
///   the optimizer's step; O(n) memory, no allocation per step unless parameters are recorded.
public func minimize<F: Objective, O: Optimizer>(
    _ objective: F, from initial: [F.Scalar], optimizer: inout O,
    options: TrainingOptions<F.Scalar> = TrainingOptions(),
    callback: ((TrainingRecord<F.Scalar>) -> TrainingControl)? = nil
) throws -> TrainingResult<F.Scalar> where O.Scalar == F.Scalar {
    try minimize(objective, from: initial, optimizer: &optimizer, options: options, validation: nil,
                 control: callback.map { c in { record, _, _ in c(record) } })
}

/// A per-step callback with mutable access to the optimizer and θ: it may change learning rates
/// or any hyperparameter, keep or restore parameters, and stop. Called for every record (the final
/// one included, as the read-only callback), after the record of step t is made and before the
/// step (so a change applies to that step); θ must keep its length. As in PyTorch when `p.data` is
/// edited between `backward()` and `step()`, the step applies g_t, computed at the θ of the record,
/// to the θ the callback leaves.
public typealias TrainingCallback<O: Optimizer> = (_ record: TrainingRecord<O.Scalar>, _ optimizer: inout O,
                                                   _ parameters: inout [O.Scalar]) throws -> TrainingControl

/// ``minimize(_:from:optimizer:options:callback:)`` with a validation objective (evaluated every
/// ``TrainingOptions/validationInterval`` steps, monitored by the plateau and early stopping)
/// and a callback that may change the optimizer and θ:
///
///     var adam = try Adam<Double>(learningRate: 0.1)
///     let result = try minimize(model, from: start, optimizer: &adam, options: options) { record, optimizer, θ in
///         if record.step == 100 { optimizer.learningRate *= 0.5 }
///         return .continue
///     }
///
/// - Throws: as ``minimize(_:state:validation:control:)``; on a throw `optimizer` is unchanged.
public func minimize<F: Objective, O: Optimizer>(
    _ objective: F, from initial: [F.Scalar], optimizer: inout O,
    options: TrainingOptions<F.Scalar> = TrainingOptions(), validation: F? = nil,
    control: TrainingCallback<O>?
) throws -> TrainingResult<F.Scalar> where O.Scalar == F.Scalar {
    var state = try TrainingState(parameters: initial, optimizer: optimizer, options: options)
    let result = try minimize(objective, state: &state, validation: validation, control: control)
    optimizer = state.optimizer
    return result
}

/// Advances a ``TrainingState`` (fresh, or restored from a checkpoint):
///
///     for t = state.step, …:
///         B_t ← next minibatch (all data without a batch size, and for the last record)
///         ℓ_t, g_t ← L_{B_t}(θ_t), ∇L_{B_t}(θ_t)
///         every k steps with a validation objective V: v_t ← V(θ_t) (and its accuracy)
///         monitored m_t = v_t (or ℓ_t without V): plateau → η;  early stopping → stop, θ ← θ_best
///         record (t, ℓ_t, ‖g_t‖, η_t, time[, θ_t][, v_t])
///         stop if ℓ_t is not finite, a tolerance is met, early stopping, the callback says stop,
///              t = maxSteps, the wall time is up, or stopAfter steps were taken in this call
///         g_t ← clip(g_t);   η ← schedule(t);   θ_{t+1} ← optimizer.step(θ_t, g_t)
///
/// The last evaluation — at t = maxSteps, when the time is up or on a pause — uses the full data
/// and does not draw a minibatch, so pausing changes nothing: a paused state continued (in this
/// process, or restored from its checkpoint) gives the same θ_t, bit for bit, as a run never
/// interrupted. Early stopping with `restoreBest` returns θ_best with a final full-data record.
///
/// `state.history` keeps the records of the steps taken; the result's history adds the final
/// record. Parameters are stepped in place in `state.parameters` (no copy of θ).
///
/// - Throws: ``TrainingError`` for bad options, a θ of the wrong length or a sampler for other
///   data; an optimizer's `OptimizerError` passes through (the state then holds the steps
///   taken before it, consistent and resumable).
/// - Complexity: per step one gradient evaluation (O(|B|·n) for the linear models), one nrm2,
///   the optimizer's step, and a validation loss every k steps; O(n) memory, no allocation per
///   step unless parameters are recorded (or early stopping copies θ_best into its buffer).
public func minimize<F: Objective, O: Optimizer>(
    _ objective: F, state: inout TrainingState<O>, validation: F? = nil,
    control: TrainingCallback<O>? = nil
) throws -> TrainingResult<F.Scalar> where O.Scalar == F.Scalar {
    typealias Scalar = F.Scalar
    let options = state.options
    try options.validate()
    let n = objective.dimension
    guard state.parameters.count == n else { throw TrainingError.parameterCountMismatch(expected: n, found: state.parameters.count) }
    if let v = validation, v.dimension != n {
        throw TrainingError.invalidOption(name: "validation", value: "\(v.dimension) parameters", requirement: "the objective's \(n)")
    }
    var g = [Scalar](repeating: 0, count: n)
    // The indices of this step's minibatch, kept so that the curvature and the loss report of
    // the natural gradient see the same samples as the gradient; reused, no allocation per step.
    var batch: [Int] = []
    let batchSize = objective.sampleCount > 0 ? options.batchSize : nil
    if let b = batchSize {
        if let s = state.sampler {
            guard s.sampleCount == objective.sampleCount, s.batchSize == Swift.min(b, objective.sampleCount) else {
                throw TrainingError.corruptState("the sampler was saved for \(s.sampleCount) samples in batches of \(s.batchSize); the objective has \(objective.sampleCount) samples, batch size \(b)")
            }
        } else {
            state.sampler = try MinibatchSampler(sampleCount: objective.sampleCount, batchSize: b, seed: options.seed)
        }
        batch.reserveCapacity(Swift.min(b, objective.sampleCount))
    }
    HistoryThinning.thin(&state.history, steps: state.step, limit: options.historyLimit)
    state.history.reserveCapacity(Swift.min(state.history.count + Swift.max(options.maxSteps - state.step, 0),
                                            options.historyLimit ?? (1 << 20)) + 1)
    state.finished = nil
    let firstStep = state.step
    let elapsedBefore = state.elapsed
    let start = DispatchTime.now().uptimeNanoseconds
    func seconds() -> Double { elapsedBefore + Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
    defer { state.elapsed = seconds() }

    // K-FAC: the factors evaluated with the gradient (one forward pass), reused buffers; valid
    // for the θ of the evaluation (a callback that edits θ makes the loop evaluate them anew).
    var factors: [KroneckerBlock<Scalar>] = []
    var factorsReady = false
    var θEvaluated: [Scalar] = []

    /// Evaluates ℓ and g at θ on this step's batch (or all data), and the Kronecker factors
    /// with them when `withFactors` and the optimizer asks for them.
    func evaluate(_ state: inout TrainingState<O>, batched: Bool, withFactors: Bool = false) -> (Scalar, Scalar) {
        if batched {
            batch.removeAll(keepingCapacity: true)
            state.sampler!.withNextBatch { batch.append(contentsOf: $0) }
        }
        factorsReady = withFactors && wantsKroneckerFactors(&state.optimizer)
        let fused = factorsReady
        let loss: Scalar = state.parameters.withUnsafeBufferPointer { tp in
            g.withUnsafeMutableBufferPointer { gp in
                withBatch(batched, batch) {
                    guard fused else { return objective.lossAndGradient(at: tp, batch: $0, gradient: gp) }
                    return objective.lossGradientAndKroneckerFactors(at: tp, batch: $0, fisher: options.fisher, step: state.step,
                                                                     seed: options.seed, gradient: gp, factors: &factors)
                }
            }
        }
        if factorsReady && factors.isEmpty { factorsReady = false }
        let norm = g.withUnsafeBufferPointer { $0.isEmpty ? 0 : Scalar.nrm2(count: n, x: $0.baseAddress!, incx: 1) }
        return (loss, norm)
    }

    var reason = StopReason.maxSteps
    var final: TrainingRecord<Scalar>
    while true {
        let t = state.step
        let timeUp = options.maxSeconds.map { seconds() >= $0 } ?? false
        let pausing = options.stopAfter.map { t - firstStep >= $0 } ?? false
        let last = t >= options.maxSteps || timeUp || pausing
        let batched = !last && state.sampler != nil
        let (loss, norm) = evaluate(&state, batched: batched, withFactors: !last)

        // Validation, the monitored loss, plateau and early stopping.
        var validationLoss: Scalar? = nil, validationAccuracy: Double? = nil
        if let v = validation, last || t % options.validationInterval == 0 {
            state.parameters.withUnsafeBufferPointer { tp in
                validationLoss = v.loss(at: tp, batch: nil)
                validationAccuracy = v.accuracy(at: tp)
            }
        }
        let monitored: Scalar? = validation == nil ? loss : validationLoss
        var stopEarly = false
        if !last, let m = monitored {
            if state.options.plateauActive(at: t) {
                state.optimizer.learningRate = state.options.plateau!.update(metric: m, learningRate: state.optimizer.learningRate)
            }
            if state.options.earlyStopping != nil {
                stopEarly = state.parameters.withUnsafeBufferPointer { state.options.earlyStopping!.update(metric: m, step: t, parameters: $0) }
            }
        }
        let scheduled = last ? nil : options.scheduledRate(at: t)
        let rate = scheduled ?? state.optimizer.learningRate
        let record = TrainingRecord(step: t, loss: loss, gradientNorm: norm, learningRate: rate, elapsed: seconds(),
                                    parameters: options.recordParameters ? state.parameters : [],
                                    validationLoss: validationLoss, validationAccuracy: validationAccuracy)
        final = record

        if !loss.isFinite { reason = .diverged; break }
        if let tol = options.lossTolerance, loss <= tol { reason = .lossTolerance; break }
        if let tol = options.gradientTolerance, norm <= tol { reason = .gradientTolerance; break }
        if stopEarly { reason = .earlyStopping; break }
        if let control {
            if factorsReady { θEvaluated.removeAll(keepingCapacity: true); θEvaluated.append(contentsOf: state.parameters) }
            let decision = try control(record, &state.optimizer, &state.parameters)
            if factorsReady && !sameBits(θEvaluated, state.parameters) { factorsReady = false }
            guard state.parameters.count == n else {
                throw TrainingError.parameterCountMismatch(expected: n, found: state.parameters.count)
            }
            if decision == .stop { reason = .callback; break }
        }
        if last { reason = pausing && t < options.maxSteps && !timeUp ? .paused : (timeUp && t < options.maxSteps ? .wallTime : .maxSteps); break }

        if let c = options.gradientClipNorm {
            try g.withUnsafeMutableBufferPointer { _ = try clipGradientNorm($0, maxNorm: c) }
        }
        // A model-driven optimizer (adaptive K-FAC) asks the objective itself, on B_t.
        if options.schedule != nil { state.optimizer.learningRate = rate }
        let driven = try state.parameters.withUnsafeMutableBufferPointer { tp in
            try g.withUnsafeBufferPointer { gp in
                try withBatch(batched, batch) {
                    try stepModelDriven(objective, parameters: tp, batch: $0, loss: loss, gradient: gp, optimizer: &state.optimizer,
                                        options: options, step: t, precomputed: factorsReady ? factors : nil)
                }
            }
        }
        if driven {
            state.history.append(record)
            state.step += 1
            continue
        }
        // A second-order optimizer: the curvature at θ_t on the same batch B_t as the gradient.
        try state.parameters.withUnsafeBufferPointer { tp in
            try withBatch(batched, batch) { try supplyCurvature(objective, at: tp, batch: $0, optimizer: &state.optimizer, options: options, step: t,
                                                               precomputed: factorsReady ? factors : nil) }
        }
        if scheduled != nil { state.optimizer.learningRate = rate }
        try state.parameters.withUnsafeMutableBufferPointer { tp in
            try g.withUnsafeBufferPointer { gp in try state.optimizer.step(tp, gradient: gp) }
        }
        // Levenberg–Marquardt damping: the loss at θ_{t+1} on the same batch.
        try state.parameters.withUnsafeBufferPointer { tp in
            try withBatch(batched, batch) { try reportLossIfWanted(objective, at: tp, batch: $0, lossBefore: loss, optimizer: &state.optimizer) }
        }
        HistoryThinning.append(record, to: &state.history, limit: options.historyLimit)
        state.step += 1
    }
    var history = state.history
    history.append(final)
    if reason == .earlyStopping, let e = state.options.earlyStopping, e.restoreBest, e.bestParameters.count == n {
        // θ_best, with a final full-data record at it.
        state.parameters = e.bestParameters
        let (loss, norm) = evaluate(&state, batched: false)
        var validationLoss: Scalar? = nil, validationAccuracy: Double? = nil
        if let v = validation {
            state.parameters.withUnsafeBufferPointer { tp in
                validationLoss = v.loss(at: tp, batch: nil)
                validationAccuracy = v.accuracy(at: tp)
            }
        }
        history.append(TrainingRecord(step: state.step, loss: loss, gradientNorm: norm, learningRate: state.optimizer.learningRate,
                                      elapsed: seconds(), parameters: options.recordParameters ? state.parameters : [],
                                      validationLoss: validationLoss, validationAccuracy: validationAccuracy))
    }
    if reason != .paused && reason != .maxSteps && reason != .wallTime { state.finished = reason }
    return TrainingResult(parameters: state.parameters, history: history, stopReason: reason)
}

/// Runs `body` with the batch's indices when `batched`, with nil (all data) otherwise.
@inline(__always)
private func withBatch<R>(_ batched: Bool, _ batch: [Int], _ body: (UnsafeBufferPointer<Int>?) throws -> R) rethrows -> R {
    try batched ? batch.withUnsafeBufferPointer { try body($0) } : body(nil)
}
