import Foundation
import DescentProblems

/// The outcome of one optimizer on one problem of the comparison.
struct Outcome {
    var optimizer: OptimizerName
    var settings: OptimizerSettings
    /// Full-data loss at θ_t for t in ``lossSteps``: every step for full-data runs; for minibatch
    /// runs evaluated afterwards at the recorded iterates, every step up to 50 and then about
    /// 200 evenly spaced steps and the last (the full-data evaluations cost more than the run).
    var losses: [Double]
    var lossSteps: [Int]
    /// θ₀, θ₁, … for 2-D problems; empty otherwise.
    var path: [[Double]]
    /// Wall time of the optimization itself (without the extra full-data evaluations).
    var seconds: Double
    /// The step from which on the full-data loss stays ≤ the plan's tolerance (nil when the
    /// final loss is above it): a run that only passes through the tolerance does not count.
    var stepsToTolerance: Int?
    var stopReason: String
    var accuracy: Double?
    /// Set when the optimizer threw (e.g. a non-finite gradient); the curve ends before.
    var failure: String?
    /// Wall time of the optimization when θ_t was reached, for t in ``lossSteps`` (the clock of
    /// the training loop: without the extra full-data evaluations).
    var lossSeconds: [Double] = []

    var steps: Int { lossSteps.last ?? 0 }
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
    let problem = plan.start.map { start -> Problem<S> in
        var p = problem
        p.start = start.map { S($0) }
        return p
    } ?? problem
    let options = TrainingOptions<S>(maxSteps: steps, batchSize: plan.batchSize, seed: 0, recordParameters: true,
                                     fisher: settings.fisher ?? .exact)
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
    let every = max(records.count / 200, 1)
    let evaluated = records.indices.filter { i in !minibatch || i <= 50 || i % every == 0 || i == records.count - 1 }
    let losses: [Double] = evaluated.map { i in
        // The final record of a run is on the full data already.
        let r = records[i]
        if minibatch && i < records.count - 1 { return Double(fullLoss(problem.objective, at: r.parameters)) }
        return Double(r.loss)
    }
    let lossSteps = evaluated.map { records[$0].step }
    let lossSeconds = evaluated.map { records[$0].elapsed }
    let path = problem.objective.dimension == 2 ? records.map { $0.parameters.map { Double($0) } } : []
    let accuracy = records.last.flatMap { r in r.parameters.withUnsafeBufferPointer { problem.objective.accuracy(at: $0) } }
    let settledIndex = settled(losses, below: plan.tolerance)
    return Outcome(optimizer: settings.name, settings: settings, losses: losses, lossSteps: lossSteps, path: path, seconds: seconds,
                   stepsToTolerance: settledIndex.map { lossSteps[$0] }, stopReason: stopReason,
                   accuracy: accuracy, failure: failure, lossSeconds: lossSeconds)
}

/// Whether the problem supplies the curvature the natural gradient needs.
func suppliesCurvature<S: BLASScalar>(_ problem: Problem<S>) -> Bool {
    // The training loop's own source of curvature (the exact Fisher, its default), asked on one
    // sample: on all of the data it would form the full Jacobian (12 GB for the wide perceptron).
    func open<F: Objective>(_ f: F) -> Bool where F.Scalar == S {
        problem.start.withUnsafeBufferPointer { θ in
            guard f.sampleCount > 0 else { return f.curvature(at: θ, batch: nil, fisher: .exact) != nil }
            return [0].withUnsafeBufferPointer { f.curvature(at: θ, batch: $0, fisher: .exact) != nil }
        }
    }
    return open(problem.objective)
}

/// The first index from which every value is ≤ `tolerance`, or nil when the last one is above it.
func settled(_ losses: [Double], below tolerance: Double) -> Int? {
    guard let last = losses.last, last <= tolerance else { return nil }
    guard let above = losses.lastIndex(where: { !($0 <= tolerance) }) else { return 0 }
    return above + 1
}
