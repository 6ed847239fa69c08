import Descent
import Foundation

/// Wraps an ``Optimizer`` for data-parallel training with a ``DistributedObjective`` (whose
/// gradient is already the same on every rank):
///
/// - replicated (`shardState == false`): every rank steps the whole θ with the whole state, as
///   Horovod / PyTorch DDP do; nothing is communicated.
/// - sharded (`shardState == true`, ZeRO stage 1): rank r keeps the state (m, v, G, velocity, …)
///   only for its slice θ[s_r] of a ``BlockPartition`` of 0..<n, steps that slice, and an in-place
///   allgather(v) of θ brings every rank the updated whole: state memory per rank ≈ 1/P of the total,
///   traffic (P−1)/P · n scalars per rank per step. The step is element-wise for every first-order
///   optimizer, so the result equals the replicated step bit for bit. Under
///   ``minimizeDistributed(_:from:optimizer:options:statistics:callback:)`` the gradient arrives
///   reduce-scattered (only the slice summed, ``DistributedObjective/gradientSlices``).
/// - K-FAC at P > 1: KAISA, the layers' factorizations and preconditioning split round-robin
///   (``KAISAWorkSharing``), the updates shared by one allgather per step.
///
/// With `verifyChecksum`, after each step every rank hashes θ (FNV-1a over the bit patterns) and
/// one allreduce checks that all agree; a mismatch throws ``MPIError/ranksDisagree(what:detail:)``.
///
/// A non-finite gradient is detected on the whole gradient (not only the slice), so every rank
/// takes the same decision under ``NonFiniteGradientPolicy/skipStep``.
///
/// Codable: the checkpoint of a sharded optimizer holds only this rank's slice and restores onto
/// the same rank of the same number of ranks (one file per rank).
public struct DistributedOptimizer<Inner: Optimizer>: Optimizer where Inner.Scalar: MPIScalar {
    public typealias Scalar = Inner.Scalar
    public static var kind: String { "distributed-" + Inner.kind }

    /// The wrapped optimizer (for a sharded one: its state covers this rank's slice only).
    public private(set) var inner: Inner
    public let communicator: Communicator
    public let shardState: Bool
    public var verifyChecksum: Bool
    /// The slices of θ over the ranks, fixed on the first sharded step.
    public private(set) var partition: BlockPartition?
    /// Steps skipped by this wrapper because the whole gradient held a non-finite value.
    private var wrapperSkips = 0
    /// Traffic counters of the θ allgathers and checksum checks.
    public let statistics: CommunicationStatistics

    /// - Throws: ``MPIError/invalidArgument(name:value:requirement:)`` when sharding an optimizer
    ///   that needs curvature or loss reports (its step is not element-wise).
    public init(_ inner: Inner, communicator: Communicator, shardState: Bool = false, verifyChecksum: Bool = false,
                statistics: CommunicationStatistics = CommunicationStatistics()) throws {
        if shardState && Inner.self is any SecondOrderOptimizer.Type {
            throw MPIError.invalidArgument(name: "shard-state optimizer", value: Inner.kind,
                                           requirement: "a first-order optimizer (element-wise step)")
        }
        self.inner = inner
        self.communicator = communicator
        self.shardState = shardState
        self.verifyChecksum = verifyChecksum
        self.statistics = statistics
        shareKFACWork()
    }

    /// K-FAC on P > 1 ranks: KAISA's round-robin division of the factorizations and the
    /// preconditioning, the layer updates shared by one allgather per step (``KAISAWorkSharing``).
    private mutating func shareKFACWork() {
        guard communicator.size > 1, var kfac = inner as? KFAC<Scalar> else { return }
        kfac.workSharing = KAISAWorkSharing(communicator: communicator, statistics: statistics)
        if let wrapped = kfac as? Inner { inner = wrapped }
    }

    public var learningRate: Scalar {
        get { inner.learningRate }
        set { inner.learningRate = newValue }
    }
    public var stepCount: Int { inner.stepCount }
    public var skippedSteps: Int { inner.skippedSteps + wrapperSkips }
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy {
        get { inner.nonFiniteGradientPolicy }
        set { inner.nonFiniteGradientPolicy = newValue }
    }
    public func validate() throws { try inner.validate() }
    public func validateState() throws { try inner.validateState() }
    public var stateCount: Int? { shardState ? (inner.stateCount == nil ? nil : partition?.count) : inner.stateCount }

    public mutating func reset() {
        inner.reset()
        partition = nil
        wrapperSkips = 0
    }

    /// - Complexity: replicated: the inner step. Sharded: the inner step on n/P elements, one
    ///   O(n) finiteness scan, one allgather(v) of n scalars. Checksum: O(n) + one allreduce of 2 words.
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        if shardState {
            try shardedStep(parameters, gradient: gradient)
        } else {
            try innerStep(parameters, gradient)
        }
        if verifyChecksum {
            let hash = checksum(UnsafeRawBufferPointer(UnsafeBufferPointer(parameters)))
            let started = statistics.clock()
            let same = try communicator.agrees(on: hash)
            statistics.record(allreduceOf: 2, scalarSize: 8, ranks: communicator.size, since: started)
            guard same else {
                throw MPIError.ranksDisagree(what: "θ after step \(stepCount)",
                                             detail: "rank \(communicator.rank) has checksum \(String(hash, radix: 16))")
            }
        }
    }

    private mutating func shardedStep(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard gradient.count == parameters.count else {
            throw OptimizerError.gradientCountMismatch(parameters: parameters.count, gradient: gradient.count)
        }
        let slices: BlockPartition
        if let partition {
            guard partition.count == parameters.count else {
                throw OptimizerError.stateCountMismatch(state: partition.count, parameters: parameters.count)
            }
            slices = partition
        } else {
            slices = try BlockPartition(count: parameters.count, parts: communicator.size)
        }
        try inner.validate()
        // The same decision on every rank: the gradient is identical everywhere, so scan it whole.
        if inner.nonFiniteGradientPolicy != .unchecked, let bad = firstNonFinite(gradient) {
            if inner.nonFiniteGradientPolicy == .throwError {
                throw OptimizerError.nonFiniteGradient(index: bad, value: "\(gradient[bad])")
            }
            wrapperSkips += 1
            return
        }
        let mine = slices.range(of: communicator.rank)
        try innerStep(UnsafeMutableBufferPointer(rebasing: parameters[mine]), UnsafeBufferPointer(rebasing: gradient[mine]))
        partition = slices
        let started = statistics.clock()
        try communicator.allgather(inPlace: parameters, partition: slices)
        statistics.record(allgatherOf: parameters.count, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
    }

    // MARK: Specialized inner steps

    /// The wrapped optimizer's step. `minimize` calls this wrapper generically; the library's
    /// optimizers pre-specialize their `step` for Float and Double (`@_specialize`), so the generic
    /// call still runs their specialized element loops.
    @inline(__always)
    mutating func innerStep(_ p: UnsafeMutableBufferPointer<Scalar>, _ g: UnsafeBufferPointer<Scalar>) throws {
        try inner.step(p, gradient: g)
    }

    /// The inner model-driven step (adaptive K-FAC), replicated on every rank.
    mutating func replicatedModelStep<Model: CurvatureModel>(_ p: UnsafeMutableBufferPointer<Scalar>, loss: Scalar,
                                                             gradient g: UnsafeBufferPointer<Scalar>, model: Model) throws
        where Model.Scalar == Scalar, Inner: ModelDrivenOptimizer {
        try inner.step(p, loss: loss, gradient: g, model: model)
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey { case inner, shardState, verifyChecksum, rank, ranks, count, skipped }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inner = try c.decode(Inner.self, forKey: .inner)
        shardState = try c.decode(Bool.self, forKey: .shardState)
        verifyChecksum = try c.decode(Bool.self, forKey: .verifyChecksum)
        wrapperSkips = try c.decode(Int.self, forKey: .skipped)
        statistics = CommunicationStatistics()
        communicator = try Communicator.world()
        let rank = try c.decode(Int.self, forKey: .rank), ranks = try c.decode(Int.self, forKey: .ranks)
        // Sharded state, and K-FAC's factorizations under KAISA (each rank holds its layers'), restore
        // onto the same rank of the same number of ranks only.
        let partitioned = shardState || (Inner.self == KFAC<Scalar>.self && ranks > 1)
        if partitioned && (rank != communicator.rank || ranks != communicator.size) {
            throw OptimizerError.checkpointMismatch(expected: "rank \(communicator.rank) of \(communicator.size)",
                                                    found: "rank \(rank) of \(ranks)")
        }
        let count = try c.decodeIfPresent(Int.self, forKey: .count)
        partition = try count.map { try BlockPartition(count: $0, parts: ranks) }
        if shardState, let partition, let s = inner.stateCount, s != partition.range(of: rank).count {
            throw OptimizerError.corruptCheckpoint("the state holds \(s) elements, rank \(rank)'s slice \(partition.range(of: rank).count)")
        }
        shareKFACWork()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inner, forKey: .inner)
        try c.encode(shardState, forKey: .shardState)
        try c.encode(verifyChecksum, forKey: .verifyChecksum)
        try c.encode(wrapperSkips, forKey: .skipped)
        try c.encode(communicator.rank, forKey: .rank)
        try c.encode(communicator.size, forKey: .ranks)
        try c.encodeIfPresent(partition?.count, forKey: .count)
    }
}

/// FNV-1a over the bit patterns of `values`: equal on two ranks iff (with overwhelming
/// probability) θ is bit-identical. - Complexity: O(n), no allocation.
@inlinable
public func checksum<S: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<S>) -> UInt64 {
    checksum(UnsafeRawBufferPointer(values))
}

/// FNV-1a over bytes (non-generic, so it runs specialized from generic callers).
public func checksum(_ raw: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in raw {
        h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return h
}

/// A wrapped second-order optimizer stays one: the training loop supplies its curvature (the
/// distributed objective's, identical on every rank) and loss reports through the wrapper.
extension DistributedOptimizer: SecondOrderOptimizer where Inner: SecondOrderOptimizer {
    public var curvatureRequest: CurvatureRequest? { inner.curvatureRequest }
    public mutating func updateCurvature(_ estimate: CurvatureEstimate<Scalar>) throws { try inner.updateCurvature(estimate) }
    public var wantsLossReports: Bool { inner.wantsLossReports }
    public mutating func reportLoss(before: Scalar, after: Scalar) throws { try inner.reportLoss(before: before, after: after) }
}
