/// The training loop's side of a second-order optimizer: before a step, the curvature the
/// optimizer asks for, computed at θ on the step's own minibatch; after it, the loss on the same
/// minibatch for Levenberg–Marquardt damping. First-order optimizers pass through untouched.

/// Supplies the curvature `optimizer` needs for its next step (nothing for first-order ones).
/// - Throws: ``TrainingError/curvatureUnavailable(objective:fisher:)`` when the objective cannot
///   supply the requested form; the optimizer's errors pass through.
func supplyCurvature<F: Objective, O: Optimizer>(
    _ objective: F, at θ: UnsafeBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?,
    optimizer: inout O, options: TrainingOptions<F.Scalar>, step: Int
) throws where O.Scalar == F.Scalar {
    guard optimizer.needsCurvature else { return }
    guard let curvature = objective.curvature(at: θ, batch: batch, fisher: options.fisher) else {
        throw TrainingError.curvatureUnavailable(objective: objective.name, fisher: options.fisher.rawValue)
    }
    try optimizer.setCurvature(curvature)
}

/// Reports the loss before the step and at the new θ (same minibatch) when `optimizer` adapts
/// from it.
func reportLossIfWanted<F: Objective, O: Optimizer>(
    _ objective: F, at θ: UnsafeBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?,
    lossBefore: F.Scalar, optimizer: inout O
) throws where O.Scalar == F.Scalar {
    guard optimizer.wantsLossReports else { return }
    let after = objective.loss(at: θ, batch: batch)
    try optimizer.reportLoss(before: lossBefore, after: after)
}
