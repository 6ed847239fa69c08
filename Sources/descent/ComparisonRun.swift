import Foundation
import DescentProblems

/// The outcome of one optimizer on one problem of the comparison.
struct Outcome {
    var optimizer: OptimizerName
    var settings: OptimizerSettings
    /// Full-data loss at θ₀, θ₁, … (for minibatch runs evaluated afterwards at the recorded iterates).
    var losses: [Double]
    /// θ₀, θ₁, … for 2-D problems; empty otherwise.
    var path: [[Double]]
    /// Wall time of the optimization itself (without the extra full-data evaluations).
    var seconds: Double
    /// The first step whose full-data loss is ≤ the plan's tolerance.
    var stepsToTolerance: Int?
    var stopReason: String
    var accuracy: Double?
    /// Set when the optimizer threw (e.g. a non-finite gradient); the curve ends before.
    var failure: String?

    var steps: Int { max(losses.count - 1, 0) }
    var finalLoss: Double { losses.last ?? .nan }
    var diverged: Bool { failure != nil || stopReason == StopReason.diverged.rawValue || !finalLoss.isFinite }
}

/// Runs one optimizer on one problem as the comparison does: recording every iterate, full-data
/// losses, the step the tolerance is reached, and the wall time.
func runComparison<S: BLASScalar>(
    _ plan: ProblemPlan, problem: Problem<S>, settings: OptimizerSettings, steps: Int,
    progress: ((Double) -> Void)? = nil
) throws -> Outcome {
    let optimizer = try settings.make(S.self)
    let options = TrainingOptions<S>(maxSteps: steps, batchSize: plan.batchSize, seed: 0, recordParameters: true)
    var records: [TrainingRecord<S>] = []
    records.reserveCapacity(steps + 1)
    var failure: String? = nil
    var stopReason = StopReason.maxSteps.rawValue
    let stride = max(steps / 100, 1)
    let (_, seconds) = timed {
        do {
            let result = try train(problem.objective, from: problem.start, optimizer: optimizer, options: options) { record in
                records.append(record)
                if let progress, record.step % stride == 0 { progress(Double(record.step) / Double(max(steps, 1))) }
                return .continue
            }
            stopReason = result.stopReason.rawValue
            // The final record is evaluated after the callback's last call when the run ends on
            // maxSteps; keep the loop's own history, which is complete.
            records = result.history
        } catch {
            failure = "\(error)"
            stopReason = "error"
        }
    }
    let minibatch = plan.batchSize != nil && problem.objective.sampleCount > 0
    let losses: [Double] = records.enumerated().map { i, r in
        // The final record of a run is on the full data already.
        if minibatch && i < records.count - 1 { return Double(fullLoss(problem.objective, at: r.parameters)) }
        return Double(r.loss)
    }
    let path = problem.objective.dimension == 2 ? records.map { $0.parameters.map { Double($0) } } : []
    let accuracy = records.last.flatMap { r in r.parameters.withUnsafeBufferPointer { problem.objective.accuracy(at: $0) } }
    return Outcome(optimizer: settings.name, settings: settings, losses: losses, path: path, seconds: seconds,
                   stepsToTolerance: losses.firstIndex { $0 <= plan.tolerance }, stopReason: stopReason,
                   accuracy: accuracy, failure: failure)
}

/// Whether the problem supplies the curvature the natural gradient needs.
func suppliesCurvature<S: BLASScalar>(_ problem: Problem<S>) -> Bool {
    let θ = problem.start
    return problem.objective.outputJacobian(at: θ) != nil || problem.objective.perSampleGradients(at: θ) != nil
}
