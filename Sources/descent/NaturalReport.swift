import Descent
import DescentProblems
import Foundation

/// `train` that also hands back the optimizer after the run (to report what it chose, e.g.
/// the natural gradient's solver).
func trainKeepingOptimizer<S: BLASScalar>(
    _ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>, options: TrainingOptions<S>,
    callback: ((TrainingRecord<S>) -> TrainingControl)? = nil
) throws -> (TrainingResult<S>, any Optimizer<S>) {
    func withObjective<F: Objective>(_ f: F) throws -> (TrainingResult<S>, any Optimizer<S>) where F.Scalar == S {
        func withOptimizer<O: Optimizer>(_ o: O) throws -> (TrainingResult<S>, any Optimizer<S>) where O.Scalar == S {
            var o = o
            let result = try minimize(f, from: start, optimizer: &o, options: options, callback: callback)
            return (result, o)
        }
        return try withOptimizer(optimizer)
    }
    return try withObjective(objective)
}

/// The summary line naming the natural gradient's solver (nil for other optimizers or before
/// any factorization).
func naturalSolverLine<S: BLASScalar>(_ optimizer: any Optimizer<S>) -> String? {
    guard let natural = optimizer as? NaturalGradient<S>, let solver = natural.activeSolver else { return nil }
    let refinement = natural.activeCholeskyPrecision == .mixed ? ", \(natural.lastRefinementIterations) refinement iteration(s) in the last solve" : ""
    return "solver:     \(solver) (\(natural.solver.rawValue)\(refinement))"
}
