import Descent
import DescentProblems

/// `--use-average`: ASGD's average ā of the iterates becomes the run's final θ, and the final
/// loss is the full-data loss there (the iterate θ itself is what the steps moved).
enum AveragedIterate {
    /// Refuses the combinations where the trained ASGD (and so ā) is not at hand in one piece.
    static func check(_ settings: OptimizerSettings, distributed: Bool, session: Bool) throws {
        guard settings.useAverage == true else { return }
        if !settings.groups.isEmpty { throw CLIError("--use-average cannot be combined with --group (each group keeps its own average)") }
        if distributed { throw CLIError("--use-average is not available in distributed runs (each rank keeps the average of its shard)") }
        if session { throw CLIError("--use-average is not available with checkpointed sessions; read ā from the checkpoint instead") }
    }

    /// `result` with its final θ and loss replaced by ā and L(ā) when `--use-average` was given.
    /// - Complexity: one full-data loss evaluation.
    static func apply<S: BLASScalar>(_ result: TrainingResult<S>, settings: OptimizerSettings, optimizer: any Optimizer<S>,
                                     objective: any Objective<S>) throws -> TrainingResult<S> {
        guard settings.useAverage == true else { return result }
        guard let asgd = optimizer as? ASGD<S> else { throw CLIError("--use-average applies to asgd only") }
        let average = asgd.average
        guard !average.isEmpty else { return result }
        var result = result
        result.parameters = average
        if !result.history.isEmpty {
            let loss = average.withUnsafeBufferPointer { objective.loss(at: $0, batch: nil) }
            result.history[result.history.count - 1].loss = loss
            if !result.history[result.history.count - 1].parameters.isEmpty {
                result.history[result.history.count - 1].parameters = average
            }
        }
        return result
    }
}
