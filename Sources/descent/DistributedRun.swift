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
                              options: TrainingOptions<S>, callback: ((TrainingRecord<S>) -> TrainingControl)? = nil) throws -> TrainingResult<S> {
        guard distributed else { return try DescentCLI.train(objective, from: start, optimizer: optimizer, options: options) }
        guard let result = try trainDistributed(objective, from: start, optimizer: optimizer, options: options, callback: callback) else {
            throw CLIError("--distributed supports float and double precision only")
        }
        return result
    }

    private func trainDistributed<S: BLASScalar>(_ objective: any Objective<S>, from start: [S], optimizer: any Optimizer<S>,
                                                 options: TrainingOptions<S>, callback: ((TrainingRecord<S>) -> TrainingControl)?) throws -> TrainingResult<S>? {
        if S.self == Double.self {
            return try trainMPI(objective as! any Objective<Double>, start as! [Double], optimizer as! any Optimizer<Double>,
                                options as! TrainingOptions<Double>, callback as! ((TrainingRecord<Double>) -> TrainingControl)?) as? TrainingResult<S>
        }
        if S.self == Float.self {
            return try trainMPI(objective as! any Objective<Float>, start as! [Float], optimizer as! any Optimizer<Float>,
                                options as! TrainingOptions<Float>, callback as! ((TrainingRecord<Float>) -> TrainingControl)?) as? TrainingResult<S>
        }
        return nil
    }

    private func trainMPI<S: BLASScalar & MPIScalar>(_ objective: any Objective<S>, _ start: [S], _ optimizer: any Optimizer<S>,
                                                     _ options: TrainingOptions<S>,
                                                     _ callback: ((TrainingRecord<S>) -> TrainingControl)?) throws -> TrainingResult<S> {
        let world = try Communicator.world()
        func withObjective<F: Objective>(_ f: F) throws -> TrainingResult<S> where F.Scalar == S {
            func withOptimizer<O: Optimizer>(_ o: O) throws -> TrainingResult<S> where O.Scalar == S {
                var wrapped: DistributedOptimizer<O>
                do {
                    wrapped = try DistributedOptimizer(o, communicator: world, shardState: shardState, verifyChecksum: checkReplicas)
                } catch let error as MPIError {
                    throw CLIError("--shard-state: \(error)")
                }
                return try minimizeDistributed(f, from: start, optimizer: &wrapped, options: options, callback: callback)
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

// MARK: - Checkpoints and resume (`--distributed` with `--checkpoint` / `--resume`)

extension DistributedArguments {
    /// This rank's checkpoint file: `path` on rank 0 (and without `--distributed`), `path.rank<r>`
    /// on rank r > 0. Every rank writes its own file (per-rank files: a sharded optimizer holds only
    /// its slice's state, and the state restores onto the same rank of the same number of ranks);
    /// rank 0's file also carries the run's arguments for `--resume`.
    func rankPath(_ path: String) -> String {
        guard distributed, let world = try? Communicator.world(), world.rank > 0 else { return path }
        return path + ".rank\(world.rank)"
    }

    /// Runs `body` (a step that may fail on one rank only, e.g. reading this rank's checkpoint)
    /// and agrees on the outcome: when any rank failed, every rank throws, the failed rank after
    /// printing its own error (rank 0's is printed by `main`), so the job neither hangs nor fails
    /// silently. Collective with `--distributed`; `body` alone otherwise.
    func agreeing<R>(_ what: String, _ body: () throws -> R) throws -> R {
        guard distributed else { return try body() }
        let world = try Communicator.world()
        var outcome: Result<R, Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        let failed: Int64
        if case .failure = outcome { failed = 1 } else { failed = 0 }
        let anyFailed = try world.allreduce(failed, .max)
        switch outcome {
        case let .failure(error):
            if world.rank > 0 { FileHandle.standardError.write(Data("descent: error (rank \(world.rank)): \(error)\n".utf8)) }
            throw error
        case let .success(value):
            guard anyFailed == 0 else { throw CLIError("\(what) failed on another rank (its message is printed above)") }
            return value
        }
    }

    /// Every rank must resume at the same step (the files of one checkpoint). Collective.
    func checkSameStep(_ step: Int, path: String) throws {
        guard distributed else { return }
        let world = try Communicator.world()
        let low = try world.allreduce(Int64(step), .min), high = try world.allreduce(Int64(step), .max)
        guard low == high else {
            throw CLIError("--resume \(path): the ranks' files are at steps \(low)…\(high), not one checkpoint (rank \(world.rank): step \(step))")
        }
    }
}

extension Run {
    /// `runSession` data-parallel: the objective (and the validation part) wrapped in a
    /// ``DistributedObjective`` (reduce-scattering the gradient for `--shard-state`), the optimizer in a
    /// ``DistributedOptimizer``, then the ordinary session (checkpoints per rank, `--resume`).
    /// Every rank computes the same θ₀ from the seed, and a resumed θ is the same in every rank's file.
    func runDistributedSession<F: Objective, O: Optimizer>(objective: F, validation: F?, optimizer: O, start: [F.Scalar],
                                                           options: TrainingOptions<F.Scalar>, samples: String) throws
    where O.Scalar == F.Scalar {
        if F.Scalar.self == Double.self {
            return try wrappedSession(Double.self, objective: objective, validation: validation, optimizer: optimizer, start: start,
                                      options: options, samples: samples)
        }
        if F.Scalar.self == Float.self {
            return try wrappedSession(Float.self, objective: objective, validation: validation, optimizer: optimizer, start: start,
                                      options: options, samples: samples)
        }
        throw CLIError("--distributed supports float and double precision only")
    }

    private func wrappedSession<S: BLASScalar & MPIScalar, F: Objective, O: Optimizer>(
        _: S.Type, objective: F, validation: F?, optimizer: O, start: [F.Scalar], options: TrainingOptions<F.Scalar>, samples: String
    ) throws where O.Scalar == F.Scalar {
        guard let f = objective as? any Objective<S>, let o = optimizer as? any Optimizer<S>, let start = start as? [S],
              let options = options as? TrainingOptions<S> else { throw CLIError("internal: precision mismatch") }
        let world = try Communicator.world()
        func withObjective<G: Objective>(_ g: G) throws where G.Scalar == S {
            func withOptimizer<P: Optimizer>(_ p: P) throws where P.Scalar == S {
                var d = try DistributedObjective(g, communicator: world)
                if distributed.shardState && g.sampleCount > 0 {
                    d.gradientSlices = try BlockPartition(count: g.dimension, parts: world.size)
                }
                d.prepareCurvature(for: p)
                let v = try validation.map { v -> DistributedObjective<G> in
                    guard let v = v as? G else { throw CLIError("internal: validation objective of another type") }
                    return try DistributedObjective(v, communicator: world)
                }
                let wrapped: DistributedOptimizer<P>
                do {
                    wrapped = try DistributedOptimizer(p, communicator: world, shardState: distributed.shardState,
                                                       verifyChecksum: distributed.checkReplicas)
                } catch let error as MPIError {
                    throw CLIError("--shard-state: \(error)")
                }
                try runSession(objective: d, validation: v, optimizer: wrapped, start: start, options: options, samples: samples)
            }
            try withOptimizer(o)
        }
        try withObjective(f)
    }
}
