import ArgumentParser
import DescentDistributed
import DescentProblems
import Foundation

/// `descent run --distributed [--shard-state] [--check-replicas]`: the same run data-parallel over
/// the ranks of `mpirun` (one rank without it). Rank 0 writes the trace and prints the summary.
struct DistributedArguments: ParsableArguments {
    @Flag(help: "Data-parallel over the ranks of mpirun (one rank without mpirun): rows sharded, one gradient allreduce per step.")
    var distributed = false
    @Flag(help: "With --distributed: ZeRO-1, each rank keeps the optimizer state of its slice of θ (first-order optimizers).")
    var shardState = false
    @Flag(help: "With --distributed: compare a checksum of θ across the ranks after every step (debug).")
    var checkReplicas = false

    func validate() throws {
        if !distributed && (shardState || checkReplicas) {
            throw ValidationError("--\(shardState ? "shard-state" : "check-replicas") needs --distributed")
        }
    }

    /// True on the rank that writes files and prints (rank 0, or any process when not distributed).
    var isPrimary: Bool { !distributed || ((try? Communicator.world().rank) ?? 0) == 0 }

    /// Trains as `train` does, data-parallel when `--distributed` is set.
    func train<S: BLASScalar>(_ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>,
                              options: TrainingOptions<S>) throws -> TrainingResult<S> {
        guard distributed else { return try DescentCLI.train(objective, from: start, optimizer: optimizer, options: options) }
        guard let result = try trainDistributed(objective, from: start, optimizer: optimizer, options: options) else {
            throw CLIError("--distributed supports float and double precision only")
        }
        return result
    }

    private func trainDistributed<S: BLASScalar>(_ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>,
                                                 options: TrainingOptions<S>) throws -> TrainingResult<S>? {
        if S.self == Double.self {
            return try trainMPI(objective as! any Objective<Double>, start as! [Double], optimizer as! any Optimizer<Double>,
                                options as! TrainingOptions<Double>) as? TrainingResult<S>
        }
        if S.self == Float.self {
            return try trainMPI(objective as! any Objective<Float>, start as! [Float], optimizer as! any Optimizer<Float>,
                                options as! TrainingOptions<Float>) as? TrainingResult<S>
        }
        return nil
    }

    private func trainMPI<S: BLASScalar & MPIScalar>(_ objective: any Objective<S>, _ start: [S], _ optimizer: any Optimizer<S>,
                                                     _ options: TrainingOptions<S>) throws -> TrainingResult<S> {
        let world = try Communicator.world()
        func withObjective<F: Objective>(_ f: F) throws -> TrainingResult<S> where F.Scalar == S {
            func withOptimizer<O: Optimizer>(_ o: O) throws -> TrainingResult<S> where O.Scalar == S {
                var wrapped: DistributedOptimizer<O>
                do {
                    wrapped = try DistributedOptimizer(o, communicator: world, shardState: shardState, verifyChecksum: checkReplicas)
                } catch let error as MPIError {
                    throw CLIError("--shard-state: \(error)")
                }
                return try minimizeDistributed(f, from: start, optimizer: &wrapped, options: options)
            }
            return try withOptimizer(optimizer)
        }
        return try withObjective(objective)
    }

    /// The summary line: ranks and sharding.
    var summaryLines: [String] {
        guard distributed, let world = try? Communicator.world() else { return [] }
        return ["ranks:      \(world.size) (data-parallel\(shardState ? ", optimizer state sharded" : "")\(checkReplicas ? ", θ checksums compared" : ""))"]
    }
}

/// The module's own `train` (the name is shadowed inside ``DistributedArguments``).
enum DescentCLI {
    static func train<S: BLASScalar>(_ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>,
                                     options: TrainingOptions<S>) throws -> TrainingResult<S> {
        try descent.train(objective, from: start, optimizer: optimizer, options: options)
    }
}

/// What `mpirun` tells a process before MPI starts.
enum DistributedLaunch {
    /// A rank other than 0 of an mpirun job: it stays silent so that an error appears once.
    static var isSecondaryRank: Bool { MPIEnvironment.isSecondaryRank }
}
