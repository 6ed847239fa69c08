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

    /// The number of ranks with `--distributed`, nil without.
    var rankCount: Int? { distributed ? (try? Communicator.world().size) : nil }

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

    /// Runs `body`, a step that reads rank-local files (a CSV, a checkpoint's summary), and under
    /// `mpirun` agrees on its outcome across the ranks, as ``DistributedArguments/agreeing(_:_:)``:
    /// a rank that failed prints its own message (rank 0's is printed by `main`), the others
    /// throw naming the step, so the job ends with a Descent message instead of mpirun's generic
    /// report or a hang. Every rank of the job reaches it, since every rank runs the same
    /// command line (``requireSameArguments(_:)``). `body` alone outside `mpirun`.
    static func agreeing<R>(_ what: String, _ body: () throws -> R) throws -> R {
        guard MPIEnvironment.launcherRank != nil, MPIEnvironment.isInitialized, !MPIEnvironment.isFinalized,
              let world = try? Communicator.world(), world.size > 1 else { return try body() }
        var outcome: Result<R, Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        let failed: Int64
        if case .failure = outcome { failed = 1 } else { failed = 0 }
        let anyFailed = try world.allreduce(failed, .max)
        switch outcome {
        case let .failure(error):
            if world.rank > 0 {
                FileHandle.standardError.write(Data("descent: error (rank \(world.rank)): \(DescentCommand.oneLine("\(error)"))\n".utf8))
            }
            throw error
        case let .success(value):
            guard anyFailed == 0 else { throw CLIError("\(what) failed on another rank (its message is printed above)") }
            return value
        }
    }

    /// FNV-1a (64-bit) of the arguments, each followed by a NUL byte.
    static func digest(_ arguments: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for argument in arguments {
            for byte in argument.utf8 + [0] { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        return hash
    }

    /// Under `mpirun`, before anything else: every rank's command line must be the same (a
    /// digest compared in one collective), since ranks that disagree on the run's settings
    /// (an MPMD launch, `--distributed` on one rank only) would train inconsistently or wait
    /// forever in collectives the others never reach. Every rank learns the outcome, so every
    /// rank stops; rank 0 alone prints the message. Does nothing outside `mpirun`.
    /// - Complexity: MPI's start plus one allreduce of two integers.
    static func requireSameArguments(_ arguments: [String]) throws {
        guard MPIEnvironment.launcherRank != nil, !arguments.isEmpty,
              !arguments.contains(where: { ["--help", "-h", "--version", "help"].contains($0) }) else { return }
        let world = try Communicator.world()
        guard world.size > 1 else { return }
        let mine = digest(arguments)
        guard try world.agrees(on: mine) else {
            var differing: Int64 = 0
            var rankZero = mine
            try withUnsafeMutablePointer(to: &rankZero) { try world.broadcast(UnsafeMutableBufferPointer(start: $0, count: 1), root: 0) }
            differing = try world.allreduce(mine == rankZero ? 0 : 1, .sum)
            throw CLIError("the \(world.size) ranks of this mpirun job were started with different arguments (\(differing) of them differ from rank 0); "
                           + "start every rank with the same command line (an MPMD launch with different flags is not supported)")
        }
    }
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

    /// Rank r's file of the checkpoint set at `step`: rank 0's is `path` itself (its replacement
    /// publishes the set), rank r > 0's `path.rank<r>.step<step>`.
    func rankPath(_ path: String, step: Int) -> String {
        guard distributed, let world = try? Communicator.world(), world.rank > 0 else { return path }
        return path + ".rank\(world.rank).step\(step)"
    }

    /// Writes one distributed checkpoint as an atomic set: every rank > 0 writes its file of this
    /// step (new names, the previous set untouched) and the ranks agree; then rank 0 replaces
    /// `path`, which publishes the set (it names the step); then each rank removes its files of
    /// other steps. A crash before the publication leaves the previous complete set (rank 0's
    /// `path` and the rank files of its step); after it, the new one. Collective with
    /// `--distributed`; `write(path)` alone otherwise.
    func writeCheckpointSet(_ path: String, step: Int, _ write: (String) throws -> Void) throws {
        guard distributed, let world = try? Communicator.world(), world.size > 1 else { return try write(path) }
        try agreeing("writing the checkpoint") { if world.rank > 0 { try write(rankPath(path, step: step)) } }
        try agreeing("publishing the checkpoint") { if world.rank == 0 { try write(path) } }
        if world.rank > 0 { removeRankFiles(path, rank: world.rank, except: step) }
    }

    /// Removes rank `rank`'s files of `path` at steps other than `step` (and the unversioned
    /// `path.rank<r>` of earlier versions). Errors are ignored.
    func removeRankFiles(_ path: String, rank: Int, except step: Int) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let prefix = url.lastPathComponent + ".rank\(rank)"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name == prefix || (name.hasPrefix(prefix + ".step") && name != prefix + ".step\(step)") {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// The file this rank resumes from: rank 0's `path`, rank r's file of the step `path` names
    /// (`path.rank<r>` for checkpoints written before sets were versioned). Refuses, on every
    /// rank alike (so the message appears once), a checkpoint written by another number of ranks.
    func resumePath(_ path: String) throws -> String {
        guard distributed, let world = try? Communicator.world() else { return path }
        let summary = try? TrainingStateSummary(contentsOf: URL(fileURLWithPath: path))
        if let saved = summary?.metadata["ranks"], let ranks = Int(saved), ranks != world.size {
            throw CLIError("--resume \(Message.clip(path)): the checkpoint was written by \(ranks) ranks, this job has \(world.size); "
                           + "resume with mpirun -np \(ranks)")
        }
        guard world.rank > 0, let step = summary?.step else { return rankPath(path) }
        let versioned = rankPath(path, step: step)
        return FileManager.default.fileExists(atPath: versioned) || !FileManager.default.fileExists(atPath: rankPath(path)) ? versioned : rankPath(path)
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
            throw CLIError("--resume \(Message.clip(path)): the ranks' files are at steps \(low)…\(high), not one checkpoint (rank \(world.rank): step \(step))")
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
