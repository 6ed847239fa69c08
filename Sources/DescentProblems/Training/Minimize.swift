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
    typealias Scalar = F.Scalar
    try options.validate()
    let n = objective.dimension
    guard initial.count == n else { throw TrainingError.parameterCountMismatch(expected: n, found: initial.count) }

    var θ = initial
    var g = [Scalar](repeating: 0, count: n)
    var history: [TrainingRecord<Scalar>] = []
    history.reserveCapacity(Swift.min(options.maxSteps, 1 << 20) + 1)
    var sampler: MinibatchSampler? = nil
    // The indices of this step's minibatch, kept so that the curvature and the loss report of
    // the natural gradient see the same samples as the gradient; reused, no allocation per step.
    var batch: [Int] = []
    if let b = options.batchSize, objective.sampleCount > 0 {
        sampler = MinibatchSampler(sampleCount: objective.sampleCount, batchSize: b, seed: options.seed)
    }
    let start = DispatchTime.now().uptimeNanoseconds
    func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

    var t = 0
    var reason = StopReason.maxSteps
    while true {
        let timeUp = options.maxSeconds.map { seconds() >= $0 } ?? false
        let last = t >= options.maxSteps || timeUp
        // Evaluate on the next minibatch, or on all data for the last record.
        let batched = !last && sampler != nil
        if batched {
            batch.removeAll(keepingCapacity: true)
            sampler!.withNextBatch { batch.append(contentsOf: $0) }
        }
        let loss: Scalar = θ.withUnsafeBufferPointer { tp in
            g.withUnsafeMutableBufferPointer { gp in
                withBatch(batched, batch) { objective.lossAndGradient(at: tp, batch: $0, gradient: gp) }
            }
        }
        let norm = g.withUnsafeBufferPointer { $0.isEmpty ? 0 : Scalar.nrm2(count: n, x: $0.baseAddress!, incx: 1) }
        let rate = options.schedule?.rate(at: t) ?? optimizer.learningRate
        let record = TrainingRecord(step: t, loss: loss, gradientNorm: norm, learningRate: last ? optimizer.learningRate : rate,
                                    elapsed: seconds(), parameters: options.recordParameters ? θ : [])
        history.append(record)

        if !loss.isFinite { reason = .diverged; break }
        if let tol = options.lossTolerance, loss <= tol { reason = .lossTolerance; break }
        if let tol = options.gradientTolerance, norm <= tol { reason = .gradientTolerance; break }
        if let callback, callback(record) == .stop { reason = .callback; break }
        if last { reason = timeUp && t < options.maxSteps ? .wallTime : .maxSteps; break }

        if let c = options.gradientClipNorm {
            g.withUnsafeMutableBufferPointer { _ = clipGradientNorm($0, maxNorm: c) }
        }
        // A second-order optimizer: the curvature at θ_t on the same batch B_t as the gradient.
        try θ.withUnsafeBufferPointer { tp in
            try withBatch(batched, batch) { try supplyCurvature(objective, at: tp, batch: $0, optimizer: &optimizer, options: options, step: t) }
        }
        if options.schedule != nil { optimizer.learningRate = rate }
        try θ.withUnsafeMutableBufferPointer { tp in
            try g.withUnsafeBufferPointer { gp in try optimizer.step(tp, gradient: gp) }
        }
        // Levenberg–Marquardt damping: the loss at θ_{t+1} on the same batch.
        try θ.withUnsafeBufferPointer { tp in
            try withBatch(batched, batch) { try reportLossIfWanted(objective, at: tp, batch: $0, lossBefore: loss, optimizer: &optimizer) }
        }
        t += 1
    }
    return TrainingResult(parameters: θ, history: history, stopReason: reason)
}

/// Runs `body` with the batch's indices when `batched`, with nil (all data) otherwise.
@inline(__always)
private func withBatch<R>(_ batched: Bool, _ batch: [Int], _ body: (UnsafeBufferPointer<Int>?) throws -> R) rethrows -> R {
    try batched ? batch.withUnsafeBufferPointer { try body($0) } : body(nil)
}
