import Descent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The training loop's side of a second-order optimizer: before a step, the curvature the
/// optimizer asks for, computed at θ on the step's own minibatch; after it, the loss on the same
/// minibatch for Levenberg–Marquardt damping. First-order optimizers pass through untouched.
///
/// The optimizer is recognized at run time (`O.self as? any SecondOrderOptimizer.Type`) and
/// used in place through a pointer rebound to its concrete type, never copied: a copy of a
/// natural gradient's n × n buffers would be duplicated by copy-on-write at its next step.

/// Supplies the curvature `optimizer` asks for before its next step (nothing for first-order
/// ones, nor when its cadence reuses what it has).
/// - Throws: ``TrainingError/curvatureUnavailable(objective:fisher:)`` when the objective cannot
///   supply the requested form; the optimizer's errors pass through.
///
/// `precomputed`: Kronecker factors already evaluated at this θ on this batch (with the
/// gradient, see ``wantsKroneckerFactors(_:)``), used in place of a new evaluation.
func supplyCurvature<F: Objective, O: Optimizer>(
    _ objective: F, at θ: UnsafeBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?,
    optimizer: inout O, options: TrainingOptions<F.Scalar>, step: Int, precomputed: [KroneckerBlock<F.Scalar>]? = nil
) throws where O.Scalar == F.Scalar {
    guard let second = O.self as? any SecondOrderOptimizer.Type else { return }
    func open<S: SecondOrderOptimizer>(_: S.Type, _ o: inout O) throws {
        try withUnsafeMutablePointer(to: &o) { raw in
            try UnsafeMutableRawPointer(raw).withMemoryRebound(to: S.self, capacity: 1) { s in
                try supply(objective, at: θ, batch: batch, optimizer: &s.pointee, options: options, step: step, precomputed: precomputed)
            }
        }
    }
    try open(second, &optimizer)
}

/// True when `optimizer` is a second-order one that asks for Kronecker factors before its next
/// step, or a model-driven one (its layer statistics): the loop then evaluates the gradient and
/// the factors together
/// (``Objective/lossGradientAndKroneckerFactors(at:batch:fisher:step:seed:gradient:factors:)``).
func wantsKroneckerFactors<O: Optimizer>(_ optimizer: inout O) -> Bool {
    if O.self is any ModelDrivenOptimizer.Type { return true }
    guard let second = O.self as? any SecondOrderOptimizer.Type else { return false }
    func open<S: SecondOrderOptimizer>(_: S.Type, _ o: inout O) -> Bool {
        withUnsafeMutablePointer(to: &o) { raw in
            UnsafeMutableRawPointer(raw).withMemoryRebound(to: S.self, capacity: 1) { $0.pointee.curvatureRequest == .kronecker }
        }
    }
    return open(second, &optimizer)
}

/// Whether two parameter vectors are the same bits (a callback left θ as it was).
func sameBits<S>(_ a: [S], _ b: [S]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

private func supply<F: Objective, S: SecondOrderOptimizer>(
    _ objective: F, at θ: UnsafeBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?,
    optimizer: inout S, options: TrainingOptions<F.Scalar>, step: Int, precomputed: [KroneckerBlock<F.Scalar>]?
) throws {
    guard let request = optimizer.curvatureRequest else { return }
    guard S.Scalar.self == F.Scalar.self else { return }
    switch request {
    case .matrix:
        guard let curvature = objective.curvature(at: θ, batch: batch, fisher: options.fisher) else {
            throw TrainingError.curvatureUnavailable(objective: objective.name, fisher: options.fisher.rawValue)
        }
        try optimizer.updateCurvature(.matrix(unsafeBitCast(curvature, to: Curvature<S.Scalar>.self)))
    case .kronecker:
        // K-FAC: the layers' factors on the step's batch; the sampled Fisher's draws are keyed by
        // the loop's step and the seed, so a resumed or distributed run draws the same targets.
        guard let blocks = precomputed ?? objective.kroneckerFactors(at: θ, batch: batch, fisher: options.fisher,
                                                                     step: step, seed: options.seed) else {
            throw TrainingError.curvatureUnavailable(objective: objective.name, fisher: options.fisher.rawValue)
        }
        try optimizer.updateCurvature(.kronecker(unsafeBitCast(blocks, to: [KroneckerBlock<S.Scalar>].self)))
    }
}

/// Reports the loss before the step and at the new θ (same minibatch) when `optimizer` adapts
/// from it.
func reportLossIfWanted<F: Objective, O: Optimizer>(
    _ objective: F, at θ: UnsafeBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?,
    lossBefore: F.Scalar, optimizer: inout O
) throws where O.Scalar == F.Scalar {
    guard let second = O.self as? any SecondOrderOptimizer.Type else { return }
    func open<S: SecondOrderOptimizer>(_: S.Type, _ o: inout O) throws {
        try withUnsafeMutablePointer(to: &o) { raw in
            try UnsafeMutableRawPointer(raw).withMemoryRebound(to: S.self, capacity: 1) { s in
                guard s.pointee.wantsLossReports, S.Scalar.self == F.Scalar.self else { return }
                let after = objective.loss(at: θ, batch: batch)
                try s.pointee.reportLoss(before: unsafeBitCast(lossBefore, to: S.Scalar.self), after: unsafeBitCast(after, to: S.Scalar.self))
            }
        }
    }
    try open(second, &optimizer)
}

/// Steps a ``ModelDrivenOptimizer`` (adaptive K-FAC) with the objective as its model on the
/// step's batch (``ObjectiveCurvatureModel``); returns false, touching nothing, for any other
/// optimizer. `precomputed`: the factors evaluated with the gradient at this θ.
func stepModelDriven<F: Objective, O: Optimizer>(
    _ objective: F, parameters: UnsafeMutableBufferPointer<F.Scalar>, batch: UnsafeBufferPointer<Int>?, loss: F.Scalar,
    gradient: UnsafeBufferPointer<F.Scalar>, optimizer: inout O, options: TrainingOptions<F.Scalar>, step: Int,
    precomputed: [KroneckerBlock<F.Scalar>]?
) throws -> Bool where O.Scalar == F.Scalar {
    guard let driven = O.self as? any ModelDrivenOptimizer.Type else { return false }
    let model = ObjectiveCurvatureModel(objective, batch: batch.map(Array.init), fisher: options.fisher, step: step, seed: options.seed,
                                        precomputed: precomputed)
    func open<S: ModelDrivenOptimizer>(_: S.Type, _ o: inout O) throws {
        try withUnsafeMutablePointer(to: &o) { raw in
            try UnsafeMutableRawPointer(raw).withMemoryRebound(to: S.self, capacity: 1) { s in
                try parameters.withMemoryRebound(to: S.Scalar.self) { p in
                    try gradient.withMemoryRebound(to: S.Scalar.self) { g in
                        try s.pointee.step(p, loss: unsafeBitCast(loss, to: S.Scalar.self), gradient: g,
                                           model: ModelAdapter<F, S.Scalar>(model: model))
                    }
                }
            }
        }
    }
    try open(driven, &optimizer)
    return true
}

/// ``ObjectiveCurvatureModel`` seen with the optimizer's scalar type (the same type: the
/// optimizer's and the objective's scalars are equal, checked by `minimize`'s signature).
private struct ModelAdapter<F: Objective, S: BLASScalar>: CurvatureModel {
    typealias Scalar = S
    let model: ObjectiveCurvatureModel<F>
    func loss(at θ: UnsafeBufferPointer<S>) throws -> S {
        try θ.withMemoryRebound(to: F.Scalar.self) { unsafeBitCast(try model.loss(at: $0), to: S.self) }
    }
    func layerStatistics(at θ: UnsafeBufferPointer<S>) throws -> [KroneckerBlock<S>] {
        try θ.withMemoryRebound(to: F.Scalar.self) { unsafeBitCast(try model.layerStatistics(at: $0), to: [KroneckerBlock<S>].self) }
    }
    func fisherQuadraticForms(at θ: UnsafeBufferPointer<S>, first: UnsafeBufferPointer<S>, second: UnsafeBufferPointer<S>?,
                              scratch: UnsafeMutableBufferPointer<S>, scratch2: UnsafeMutableBufferPointer<S>) throws -> (S, S, S) {
        let forms = try θ.withMemoryRebound(to: F.Scalar.self) { t in
            try first.withMemoryRebound(to: F.Scalar.self) { u in
                try scratch.withMemoryRebound(to: F.Scalar.self) { s1 in
                    try scratch2.withMemoryRebound(to: F.Scalar.self) { s2 in
                        guard let second else { return try model.fisherQuadraticForms(at: t, first: u, second: nil, scratch: s1, scratch2: s2) }
                        return try second.withMemoryRebound(to: F.Scalar.self) { v in
                            try model.fisherQuadraticForms(at: t, first: u, second: v, scratch: s1, scratch2: s2)
                        }
                    }
                }
            }
        }
        return (unsafeBitCast(forms.0, to: S.self), unsafeBitCast(forms.1, to: S.self), unsafeBitCast(forms.2, to: S.self))
    }
    func fisherVectorProduct(at θ: UnsafeBufferPointer<S>, vector: UnsafeBufferPointer<S>, product: UnsafeMutableBufferPointer<S>) throws {
        try θ.withMemoryRebound(to: F.Scalar.self) { t in
            try vector.withMemoryRebound(to: F.Scalar.self) { v in
                try product.withMemoryRebound(to: F.Scalar.self) { try model.fisherVectorProduct(at: t, vector: v, product: $0) }
            }
        }
    }
}
