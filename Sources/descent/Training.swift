import Foundation
import DescentProblems

/// Runs ``minimize(_:from:optimizer:options:callback:)`` with an objective and an optimizer whose
/// concrete types are only known at run time (opened existentials).
func train<S: BLASScalar>(
    _ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>, options: TrainingOptions<S>,
    callback: ((TrainingRecord<S>) -> TrainingControl)? = nil
) throws -> TrainingResult<S> {
    func withObjective<F: Objective>(_ f: F) throws -> TrainingResult<S> where F.Scalar == S {
        func withOptimizer<O: Optimizer>(_ o: O) throws -> TrainingResult<S> where O.Scalar == S {
            var o = o
            return try minimize(f, from: start, optimizer: &o, options: options, callback: callback)
        }
        return try withOptimizer(optimizer)
    }
    return try withObjective(objective)
}

/// The full-data loss at θ (for the loss curves of minibatch runs, whose recorded losses are
/// batch losses).
func fullLoss<S: BLASScalar>(_ objective: any Objective<S>, at θ: [S]) -> S {
    func open<F: Objective>(_ f: F) -> S where F.Scalar == S { θ.withUnsafeBufferPointer { f.loss(at: $0, batch: nil) } }
    return open(objective)
}

/// Wall-clock seconds of `body`.
func timed<R>(_ body: () throws -> R) rethrows -> (R, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
}
