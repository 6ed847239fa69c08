import Descent
import DescentProblems

/// Data-parallel ``minimize(_:from:optimizer:options:callback:)``: rank 0's `initial` is
/// broadcast, the objective is wrapped in a ``DistributedObjective`` and the ordinary training
/// loop runs on every rank, so schedules, clipping, tolerances and every optimizer work
/// unchanged. Every rank returns the same result (the same θ, up to the checksum option).
///
/// Collective: call on every rank with the same objective, options (seed) and optimizer
/// settings; a callback must take the same decision on every rank.
/// - Throws: ``MPIError`` for a failed collective or disagreeing ranks; the errors of `minimize`.
/// - Complexity: per step that of `minimize` on |B|/P samples plus one allreduce of n + 1
///   scalars; sharded state: a reduce-scatter of n, an allreduce of 2 and an allgather of n.
public func minimizeDistributed<F: Objective, O: Optimizer>(
    _ objective: F, from initial: [F.Scalar], optimizer: inout DistributedOptimizer<O>,
    options: TrainingOptions<F.Scalar> = TrainingOptions(),
    statistics: CommunicationStatistics? = nil,
    callback: ((TrainingRecord<F.Scalar>) -> TrainingControl)? = nil
) throws -> TrainingResult<F.Scalar> where O.Scalar == F.Scalar, F.Scalar: MPIScalar {
    let communicator = optimizer.communicator
    // Every rank must start from the same θ₀ (rank 0's) and agree on its size.
    let counts = try communicator.allreduce(Int64(initial.count), .max)
    guard counts == Int64(initial.count), try communicator.allreduce(Int64(initial.count), .min) == counts else {
        throw MPIError.ranksDisagree(what: "the parameter count", detail: "rank \(communicator.rank) has \(initial.count)")
    }
    var θ0 = initial
    try θ0.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
    var distributed = try DistributedObjective(objective, communicator: communicator, statistics: statistics ?? optimizer.statistics)
    if optimizer.shardState && objective.sampleCount > 0 {
        // ZeRO-1: reduce-scatter the gradient onto the slices the optimizer steps.
        distributed.gradientSlices = try BlockPartition(count: objective.dimension, parts: communicator.size)
    }
    // A forced Woodbury solve needs the curvature's rows even where a dense sum would be cheaper.
    distributed.prepareCurvature(for: optimizer.inner)
    return try minimize(distributed, from: θ0, optimizer: &optimizer, options: options, callback: callback)
}
