import Descent
import DescentProblems

/// Makes any ``Objective`` data-parallel, so that the ordinary `minimize` trains on P ranks.
///
/// The samples 0..<m are split into contiguous row shards by a ``BlockPartition`` (sizes differ
/// by at most one); rank r owns rows `shard = rows.range(of: r)`. Every rank runs the same
/// `minimize` with the same seed, so every rank draws the same global minibatch B; rank r
/// evaluates the base objective on its part B_r = B ∩ shard (in B's order), and one allreduce sums
/// the weighted partial results:
///
///     ∇L_B(θ) = Σ_r (|B_r|/|B|) ∇L_{B_r}(θ),      L_B(θ) = Σ_r (|B_r|/|B|) L_{B_r}(θ)
///
/// which is the single-process mean over B up to summation order. The gradient (n scalars) is
/// reduced in place by `MPI_Allreduce`; the loss (1 scalar) rides along in an `MPI_Iallreduce`
/// started just before it, so a step moves (n + 1) scalars and costs one allreduce's latency.
/// Every rank then holds the same gradient, so every optimizer steps identically.
///
/// An objective without samples (m = 0: the plane problems, the quadratic) is evaluated whole on
/// every rank, without communication.
///
/// Collective: every method that evaluates must be called on every rank in the same order (the
/// training loop does so). ``bytesCommunicated`` and ``communicationSeconds`` count the traffic.
///
/// - Complexity: per gradient O(|B|/P · cost per sample) compute plus one allreduce of n + 1
///   scalars: 2(P−1)/P · (n+1) · size(Scalar) bytes per rank in the ring model.
public struct DistributedObjective<Base: Objective>: Objective where Base.Scalar: MPIScalar {
    public typealias Scalar = Base.Scalar
    public let base: Base
    public let communicator: Communicator
    /// The row shards of the samples over the ranks.
    public let rows: BlockPartition
    /// Traffic counters (shared by copies of this value).
    public let statistics: CommunicationStatistics
    /// ZeRO-1 gradient traffic: when set (by ``minimizeDistributed(_:from:optimizer:options:statistics:callback:)``
    /// for a sharded ``DistributedOptimizer``), the gradient is reduce-scattered over these slices
    /// of 0..<n instead of allreduced, and the returned buffer is a *norm carrier*: this rank's
    /// slice holds the summed gradient, the rest is zero except one element outside the slice
    /// that holds √(‖g‖² − ‖g_slice‖²), so that ‖buffer‖₂ = ‖g‖₂ (the loop's record, tolerance
    /// and clipping see the global norm, and clipping scales the slice by the global factor).
    /// Only a sharded optimizer, which steps the slice alone, may consume such a gradient.
    public var gradientSlices: BlockPartition?
    /// Always gather the curvature's rows, never sum a dense Fisher: set it when the natural
    /// gradient's solver is forced to ``NaturalGradientSolver/woodbury`` (which needs the rows)
    /// although n ≤ |B|·k would make the dense allreduce the cheaper transport. Default false.
    public var gathersCurvatureRows = false

    /// Sets ``gathersCurvatureRows`` when `optimizer` needs the curvature's rows: a natural
    /// gradient whose solver is forced to ``NaturalGradientSolver/woodbury``.
    public mutating func prepareCurvature<O: Optimizer>(for optimizer: O) where O.Scalar == Scalar {
        if let natural = optimizer as? NaturalGradient<Scalar>, natural.solver == .woodbury { gathersCurvatureRows = true }
    }

    /// - Throws: ``MPIError`` when the sample count does not fit MPI's counts.
    public init(_ base: Base, communicator: Communicator, statistics: CommunicationStatistics = CommunicationStatistics()) throws {
        self.base = base
        self.communicator = communicator
        self.rows = try BlockPartition(count: base.sampleCount, parts: communicator.size)
        self.statistics = statistics
    }

    public var name: String { base.name }
    public var dimension: Int { base.dimension }
    public var sampleCount: Int { base.sampleCount }
    /// The base's named parts of θ (the same on every rank: θ is replicated).
    public var parameterLayout: ParameterLayout { base.parameterLayout }
    /// This rank's rows.
    public var shard: Range<Int> { rows.range(of: communicator.rank) }

    public func initialParameters(seed: UInt64) -> [Scalar] { base.initialParameters(seed: seed) }

    /// The whole-data accuracy (evaluated on every rank, no communication).
    public func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double? { base.accuracy(at: θ) }

    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        guard sampleCount > 0 else { return base.lossAndGradient(at: θ, batch: batch, gradient: gradient) }
        let total = batch?.count ?? sampleCount
        return withLocalPart(of: batch) { local in
            var loss: Scalar = 0
            if local.count > 0 {
                let w = Scalar(local.count) / Scalar(total)
                loss = w * base.lossAndGradient(at: θ, batch: local, gradient: gradient)
                if gradient.count > 0 && w != 1 { Scalar.scal(count: gradient.count, alpha: w, x: gradient.baseAddress!, incx: 1) }
            } else if gradient.count > 0 {
                UnsafeMutableRawBufferPointer(gradient).initializeMemory(as: UInt8.self, repeating: 0)
            }
            if let slices = gradientSlices, slices.count == gradient.count, slices.parts == communicator.size {
                return reduceScatter(gradient, loss: loss, slices: slices)
            }
            let started = statistics.clock()
            withUnsafeMutablePointer(to: &loss) { lp in
                collective { try communicator.allreduce(gradient, with: UnsafeMutableBufferPointer(start: lp, count: 1)) }
            }
            statistics.record(allreduceOf: gradient.count + 1, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
            return loss
        }
    }

    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        guard sampleCount > 0 else { return base.loss(at: θ, batch: batch) }
        let total = batch?.count ?? sampleCount
        return withLocalPart(of: batch) { local in
            var loss: Scalar = local.count > 0 ? Scalar(local.count) / Scalar(total) * base.loss(at: θ, batch: local) : 0
            let started = statistics.clock()
            withUnsafeMutablePointer(to: &loss) { lp in
                collective { try communicator.allreduce(UnsafeMutableBufferPointer(start: lp, count: 1)) }
            }
            statistics.record(allreduceOf: 1, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
            return loss
        }
    }

    /// The per-sample gradients of the whole batch: each rank computes the rows of its part and
    /// an allgather assembles them in the batch's order (|B| · n scalars moved), so the natural
    /// gradient's curvature equals the single-process one bit for bit.
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        guard sampleCount > 0 else { return base.perSampleGradients(at: θ, batch: batch) }
        return gatheredRows(batch: batch, columns: dimension) { local in base.perSampleGradients(at: θ, batch: local) }
    }

    /// The output Jacobian of the whole batch, rows computed where the samples live and gathered
    /// in the batch's order (|B| · k · n + |B| · k scalars moved).
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        guard sampleCount > 0 else { return base.outputJacobian(at: θ, batch: batch) }
        // Which form the base uses (the same on every rank: it does not depend on the data).
        // Which form the base uses and k, from one sample (the same on every rank).
        let first = [0]
        guard let probe = first.withUnsafeBufferPointer({ base.outputJacobian(at: θ, batch: $0) }) else { return nil }
        let perSample = probe.outputs
        guard let jacobian = gatheredRows(batch: batch, columns: dimension, rowsPerSample: perSample,
                                          { local in base.outputJacobian(at: θ, batch: local)?.jacobian }) else { return nil }
        switch probe.distribution {
        case let .gaussian(beta):
            return OutputJacobian(jacobian: jacobian, samples: batch?.count ?? sampleCount, outputs: perSample, distribution: .gaussian(beta: beta))
        case .bernoulli:
            guard let p = gatheredRows(batch: batch, columns: 1, rowsPerSample: perSample, { local in
                base.outputJacobian(at: θ, batch: local).flatMap { j -> Matrix<Scalar>? in
                    if case let .bernoulli(p) = j.distribution { return try? Matrix(rows: p.count, columns: 1, elements: p) }
                    return nil
                }
            }) else { return nil }
            return OutputJacobian(jacobian: jacobian, samples: batch?.count ?? sampleCount, outputs: perSample,
                                  distribution: .bernoulli(probabilities: p.elements))
        case let .categorical(p0):
            guard let p = gatheredRows(batch: batch, columns: p0.columns, { local in
                base.outputJacobian(at: θ, batch: local).flatMap { j -> Matrix<Scalar>? in
                    if case let .categorical(p) = j.distribution { return p }
                    return nil
                }
            }) else { return nil }
            return OutputJacobian(jacobian: jacobian, samples: batch?.count ?? sampleCount, outputs: perSample,
                                  distribution: .categorical(probabilities: p))
        case .poisson:
            guard let mu = gatheredRows(batch: batch, columns: 1, rowsPerSample: perSample, { local in
                base.outputJacobian(at: θ, batch: local).flatMap { j -> Matrix<Scalar>? in
                    if case let .poisson(mu) = j.distribution { return try? Matrix(rows: mu.count, columns: 1, elements: mu) }
                    return nil
                }
            }) else { return nil }
            return OutputJacobian(jacobian: jacobian, samples: batch?.count ?? sampleCount, outputs: perSample,
                                  distribution: .poisson(rates: mu.elements))
        }
    }

    /// The natural gradient's curvature on the whole batch. Two ways to give every rank the same F:
    ///
    /// - **dense** (when n ≤ r = |B|·k, k the rows per sample, so the rows would move at least as
    ///   many scalars as F; or when the base's form is a dense matrix):
    ///   rank r forms its partial Fisher F_r = (|B_r|/|B|) F(B_r) (n × n, one `syrk`) and one
    ///   allreduce of n² + 2 scalars (F and two flags) sums them, F = Σ_r F_r, returned as
    ///   `Curvature.fisher` (solved by Cholesky, as the single process does for r ≥ n). Bytes per
    ///   curvature update: (n² + 2) · size(Scalar) payload, 2(P−1)/P of it sent per rank.
    /// - **rows** (n > |B|·k): the score / Jacobian rows are allgathered (``perSampleGradients(at:batch:)``,
    ///   ``outputJacobian(at:batch:)``): |B| · k · n scalars (+ the probabilities), (P−1)/P of them
    ///   received per rank; the Woodbury solver needs the rows themselves (its r × r Gram UUᵀ is
    ///   not a sum of per-rank Grams), so this is also its cost.
    ///
    /// A forced `woodbury` solver needs the rows: set ``gathersCurvatureRows`` (the command does
    /// for `--solver woodbury`).
    /// - Complexity: plus one single-sample curvature (sample 0) per call, to learn k.
    public func curvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind) -> Curvature<Scalar>? {
        guard sampleCount > 0, fisher != .sampled else { return base.curvature(at: θ, batch: batch, fisher: fisher) }
        let total = batch?.count ?? sampleCount
        let (squares, overflow) = dimension.multipliedReportingOverflow(by: dimension)
        guard !overflow, squares <= Int(Int32.max) - 2, !gathersCurvatureRows else {
            return standardCurvature(at: θ, batch: batch, fisher: fisher)
        }
        // The form and its rows per sample k from sample 0 (the same on every rank: they do not
        // depend on the data). Dense when the rows r = |B|·k would be at least n (then the single
        // process solves by Cholesky too) or the form is dense already.
        let probe = [0]
        guard let form = probe.withUnsafeBufferPointer({ base.curvature(at: θ, batch: $0, fisher: fisher) }) else {
            return standardCurvature(at: θ, batch: batch, fisher: fisher)
        }
        let dense = form.rank.map { k in
            let (rows, o) = total.multipliedReportingOverflow(by: k)
            return o || dimension <= rows
        } ?? true
        if dense { return allreducedFisher(batch: batch, precheck: false) { base.curvature(at: θ, batch: $0, fisher: fisher) } }
        return standardCurvature(at: θ, batch: batch, fisher: fisher)
    }

    /// The base's own curvature on the whole batch: partial dense Fishers summed by one allreduce of
    /// n² + 2 scalars (after a 2-scalar allreduce that agrees whether any rank has one).
    public func suppliedCurvature(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Curvature<Scalar>? {
        guard sampleCount > 0 else { return base.suppliedCurvature(at: θ, batch: batch) }
        let (squares, overflow) = dimension.multipliedReportingOverflow(by: dimension)
        guard !overflow, squares <= Int(Int32.max) - 2 else { return nil }
        return allreducedFisher(batch: batch, precheck: true) { base.suppliedCurvature(at: θ, batch: $0) }
    }

    /// Σ_r (|B_r|/|B|) · dense(`local`(B_r)) over the ranks, as `Curvature.fisher`; nil when a rank
    /// with samples has none (or, with `precheck`, when no rank has one: decided by 2 scalars first).
    /// - Complexity: O(n²) memory and one allreduce of n² + 2 scalars.
    func allreducedFisher(batch: UnsafeBufferPointer<Int>?, precheck: Bool,
                          _ local: (UnsafeBufferPointer<Int>) -> Curvature<Scalar>?) -> Curvature<Scalar>? {
        let n = dimension, nn = n * n
        let total = batch?.count ?? sampleCount
        var packed = [Scalar](repeating: 0, count: nn + 2)  // F, then (ranks with F, ranks missing it)
        withLocalPart(of: batch) { part in
            guard part.count > 0 else { return }
            guard let c = local(part), let f = try? c.matrix(), f.rows == n, f.columns == n else { packed[nn + 1] = 1; return }
            let w = Scalar(part.count) / Scalar(total)
            packed.withUnsafeMutableBufferPointer { p in
                f.elements.withUnsafeBufferPointer { e in for i in 0..<nn { p[i] = w * e[i] } }
            }
            packed[nn] = 1
        }
        if precheck {
            var flags = [packed[nn], packed[nn + 1]]
            let started = statistics.clock()
            flags.withUnsafeMutableBufferPointer { p in collective { try communicator.allreduce(p, .max) } }
            statistics.record(allreduceOf: 2, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
            guard flags[0] > 0, flags[1] == 0 else { return nil }
        }
        let started = statistics.clock()
        packed.withUnsafeMutableBufferPointer { p in collective { try communicator.allreduce(p) } }
        statistics.record(allreduceOf: nn + 2, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        guard packed[nn] > 0, packed[nn + 1] == 0 else { return nil }
        packed.removeLast(2)
        return (try? Matrix(rows: n, columns: n, elements: packed)).map { .fisher($0) }
    }

    /// K-FAC's factors on the whole batch: each rank computes A_l, G_l on its part B_r (means over
    /// B_r), weights them by |B_r|/|B| and one allreduce of Σ_l (i_l² + o_l²) scalars sums them,
    ///
    ///     A_l = Σ_r (|B_r|/|B|) A_l^(r),     G_l = Σ_r (|B_r|/|B|) G_l^(r),
    ///
    /// the single-process factors up to summation order (the sampled Fisher's draws are keyed by
    /// the global sample index, so they do not depend on the split). Every rank then holds the
    /// same factors; under a ``DistributedOptimizer`` at P > 1, KAISA splits the factorizations
    /// round-robin over the ranks (``KAISAWorkSharing``).
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard sampleCount > 0 else { return base.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed) }
        let total = batch?.count ?? sampleCount
        var blocks: [KroneckerBlock<Scalar>]?
        var weight: Scalar = 0
        withLocalPart(of: batch) { local in
            if local.count > 0 {
                blocks = base.kroneckerFactors(at: θ, batch: local, fisher: fisher, step: step, seed: seed)
                weight = Scalar(local.count) / Scalar(total)
            } else {
                // The shapes only (weight 0): one sample of this rank's shard, or sample 0.
                let probe = [shard.isEmpty ? 0 : shard.lowerBound]
                blocks = probe.withUnsafeBufferPointer { base.kroneckerFactors(at: θ, batch: $0, fisher: fisher, step: step, seed: seed) }
            }
        }
        let failed = blocks == nil ? 1.0 : 0.0
        guard (collective { try communicator.allreduce(failed, .max) } ?? 1) == 0, var blocks else { return nil }
        var packed: [Scalar] = []
        packed.reserveCapacity(blocks.reduce(0) { $0 + $1.activations.count + $1.preactivationGradients.count })
        for b in blocks {
            packed.append(contentsOf: b.activations.map { weight * $0 })
            packed.append(contentsOf: b.preactivationGradients.map { weight * $0 })
        }
        let started = statistics.clock()
        packed.withUnsafeMutableBufferPointer { p in collective { try communicator.allreduce(p) } }
        statistics.record(allreduceOf: packed.count, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        var offset = 0
        for l in blocks.indices {
            let a = blocks[l].activations.count, g = blocks[l].preactivationGradients.count
            blocks[l].activations = Array(packed[offset..<(offset + a)])
            blocks[l].preactivationGradients = Array(packed[(offset + a)..<(offset + a + g)])
            offset += a + g
        }
        return blocks
    }

    /// K-FAC's fused evaluation on the whole batch: the base's one-pass loss, gradient and factors
    /// on B_r (weighted by |B_r|/|B|), then one allreduce of the n gradient scalars in place with the
    /// loss and the factors (1 + Σ_l (i_l² + o_l²) scalars, packed) in an `MPI_Iallreduce` beside it:
    /// the same bytes as ``lossAndGradient(at:batch:gradient:)`` + ``kroneckerFactors(at:batch:fisher:step:seed:)``,
    /// one forward pass and one allreduce latency fewer. A 1-scalar agreement first (every rank has
    /// factors of the same shapes, or none uses them).
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        guard sampleCount > 0, gradientSlices == nil else {
            let loss = lossAndGradient(at: θ, batch: batch, gradient: gradient)
            factors = kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed) ?? []
            return loss
        }
        let total = batch?.count ?? sampleCount
        var loss: Scalar = 0, weight: Scalar = 0
        withLocalPart(of: batch) { local in
            if local.count > 0 {
                weight = Scalar(local.count) / Scalar(total)
                loss = base.lossGradientAndKroneckerFactors(at: θ, batch: local, fisher: fisher, step: step, seed: seed,
                                                            gradient: gradient, factors: &factors)
            } else {
                // No samples here: zero gradient, and the factors' shapes (weight 0) from one sample.
                if gradient.count > 0 { UnsafeMutableRawBufferPointer(gradient).initializeMemory(as: UInt8.self, repeating: 0) }
                let probe = [shard.isEmpty ? 0 : shard.lowerBound]
                factors = probe.withUnsafeBufferPointer { base.kroneckerFactors(at: θ, batch: $0, fisher: fisher, step: step, seed: seed) } ?? []
            }
        }
        let failed = factors.isEmpty ? 1.0 : 0.0
        guard (collective { try communicator.allreduce(failed, .max) } ?? 1) == 0 else {
            // Some rank has no factors: the plain gradient (the loop then reports the curvature missing).
            factors = []
            if weight != 1 && gradient.count > 0 { Scalar.scal(count: gradient.count, alpha: weight, x: gradient.baseAddress!, incx: 1) }
            var l = weight * loss
            let started = statistics.clock()
            withUnsafeMutablePointer(to: &l) { lp in
                collective { try communicator.allreduce(gradient, with: UnsafeMutableBufferPointer(start: lp, count: 1)) }
            }
            statistics.record(allreduceOf: gradient.count + 1, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
            return l
        }
        if weight != 1 && gradient.count > 0 { Scalar.scal(count: gradient.count, alpha: weight, x: gradient.baseAddress!, incx: 1) }
        // [loss | A_1 | G_1 | A_2 | …], weighted (zeros on a rank without samples).
        // memcpy and BLAS only: this generic code runs unspecialized under `minimize`.
        let size = MemoryLayout<Scalar>.stride
        var packed = [Scalar](repeating: 0, count: 1 + factors.reduce(0) { $0 + $1.activations.count + $1.preactivationGradients.count })
        packed.withUnsafeMutableBufferPointer { p in
            p[0] = loss
            var offset = 1
            for b in factors {
                for block in [b.activations, b.preactivationGradients] {
                    block.withUnsafeBufferPointer { src in
                        if let from = src.baseAddress {
                            UnsafeMutableRawPointer(p.baseAddress! + offset).copyMemory(from: from, byteCount: src.count * size)
                        }
                        offset += src.count
                    }
                }
            }
            // weight 0 (no samples here): exact zeros, whatever the probe's values.
            if weight == 0 { UnsafeMutableRawBufferPointer(p).initializeMemory(as: UInt8.self, repeating: 0) }
            else if weight != 1 { Scalar.scal(count: p.count, alpha: weight, x: p.baseAddress!, incx: 1) }
        }
        let started = statistics.clock()
        packed.withUnsafeMutableBufferPointer { p in collective { try communicator.allreduce(gradient, with: p) } }
        statistics.record(allreduceOf: gradient.count + packed.count, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        // Back into the blocks' own buffers (no allocation).
        packed.withUnsafeBufferPointer { p in
            var offset = 1
            func unpack(_ d: UnsafeMutableBufferPointer<Scalar>) {
                if let to = d.baseAddress { UnsafeMutableRawPointer(to).copyMemory(from: p.baseAddress! + offset, byteCount: d.count * size) }
                offset += d.count
            }
            for l in factors.indices {
                factors[l].activations.withUnsafeMutableBufferPointer { unpack($0) }
                factors[l].preactivationGradients.withUnsafeMutableBufferPointer { unpack($0) }
            }
        }
        return packed[0]
    }

    // MARK: - Helpers

    /// ZeRO-1: reduce-scatters the weighted partial gradient over `slices` (each rank receives
    /// the sum of its slice only: (P−1)/P · n scalars per rank in the ring model, half an
    /// allreduce), then one allreduce of two scalars (the loss and ‖g_slice‖²) and writes the norm
    /// carrier described at ``gradientSlices``.
    /// - Complexity: O(n) (the zeroing of the other slices) + one reduce-scatter of n scalars +
    ///   one allreduce of 2 scalars; no allocation.
    func reduceScatter(_ gradient: UnsafeMutableBufferPointer<Scalar>, loss: Scalar, slices: BlockPartition) -> Scalar {
        let mine = slices.range(of: communicator.rank)
        var started = statistics.clock()
        collective { try communicator.reduceScatter(inPlace: gradient, partition: slices) }
        statistics.record(reduceScatterOf: gradient.count, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        // BLAS (this generic code runs unspecialized under `minimize`: no Swift loop over n here).
        let squares: Scalar = mine.isEmpty ? 0 : {
            let s = gradient.baseAddress! + mine.lowerBound
            return Scalar.dot(count: mine.count, x: s, incx: 1, y: s, incy: 1)
        }()
        var pair: (Scalar, Scalar) = (loss, squares)
        started = statistics.clock()
        withUnsafeMutableBytes(of: &pair) { raw in
            collective { try communicator.allreduce(raw.bindMemory(to: Scalar.self)) }
        }
        statistics.record(allreduceOf: 2, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        // The norm carrier: zeros outside the slice, and the other slices' share of ‖g‖² in one element.
        // All-zero bits are +0 in IEEE 754: memset, not an unspecialized loop.
        if mine.lowerBound > 0 { UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: gradient[..<mine.lowerBound])).initializeMemory(as: UInt8.self, repeating: 0) }
        if mine.upperBound < gradient.count { UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: gradient[mine.upperBound...])).initializeMemory(as: UInt8.self, repeating: 0) }
        let rest = pair.1 - squares
        let carrier = mine.lowerBound > 0 ? 0 : (mine.upperBound < gradient.count ? mine.upperBound : nil)
        if let carrier { gradient[carrier] = rest.isNaN || rest > 0 ? rest.squareRoot() : 0 }
        return pair.0
    }

    /// Runs `body` with this rank's part of `batch` (nil: all data): the batch's indices in this
    /// rank's shard, in the batch's order. One scoped temporary allocation of ≤ |B| indices.
    @inline(__always)
    func withLocalPart<R>(of batch: UnsafeBufferPointer<Int>?, _ body: (UnsafeBufferPointer<Int>) -> R) -> R {
        let mine = shard
        guard let batch else {
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(mine.count, 1)) { buffer in
                for (k, i) in mine.enumerated() { buffer[k] = i }
                return body(UnsafeBufferPointer(rebasing: buffer[0..<mine.count]))
            }
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(batch.count, 1)) { buffer in
            var k = 0
            for i in batch where mine.contains(i) { buffer[k] = i; k += 1 }
            return body(UnsafeBufferPointer(rebasing: buffer[0..<k]))
        }
    }

    /// The rows every rank computes for its part of `batch` (rowsPerSample rows per sample,
    /// `columns` wide), gathered on every rank in rank order: a row permutation of the
    /// single-process matrix (the Fisher SᵀS/m and JᵀHJ/m do not depend on the row order).
    func gatheredRows(batch: UnsafeBufferPointer<Int>?, columns: Int, rowsPerSample: Int = 1,
                      _ body: (UnsafeBufferPointer<Int>) -> Matrix<Scalar>?) -> Matrix<Scalar>? {
        // |B_r| for every rank, known locally from the partition (no communication).
        var samplesPerRank = [Int](repeating: 0, count: communicator.size)
        if let batch { for i in batch { samplesPerRank[rows.owner(of: i)] += 1 } }
        else { for r in 0..<communicator.size { samplesPerRank[r] = rows.range(of: r).count } }
        let local: Matrix<Scalar>? = withLocalPart(of: batch) { part in part.isEmpty ? nil : body(part) }
        let mineCount = samplesPerRank[communicator.rank] * rowsPerSample * columns
        // A rank whose part is non-empty but which cannot supply the rows poisons the result for all.
        let failed = (mineCount > 0 && (local == nil || local!.elements.count != mineCount)) ? 1.0 : 0.0
        let anyFailed = collective { try communicator.allreduce(failed, .max) } ?? 1
        guard anyFailed == 0 else { return nil }
        let counts = samplesPerRank.map { $0 * rowsPerSample * columns }
        let totalRows = samplesPerRank.reduce(0, +) * rowsPerSample
        var elements = [Scalar](repeating: 0, count: totalRows * columns)
        let offset = counts[..<communicator.rank].reduce(0, +)
        if let local, mineCount > 0 {
            elements.withUnsafeMutableBufferPointer { e in
                local.elements.withUnsafeBufferPointer { l in
                    (e.baseAddress! + offset).update(from: l.baseAddress!, count: mineCount)
                }
            }
        }
        let started = statistics.clock()
        elements.withUnsafeMutableBufferPointer { e in collective { try communicator.allgather(inPlace: e, counts: counts) } }
        statistics.record(allgatherOf: elements.count, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        return try? Matrix(rows: totalRows, columns: columns, elements: elements)
    }
}

/// Runs a collective inside a non-throwing ``Objective`` method: an MPI failure there cannot be
/// thrown, and returning would leave the other ranks waiting, so it aborts every rank with MPI's
/// message (``MPIEnvironment/abort(_:code:)``).
@discardableResult
func collective<R>(_ body: () throws -> R) -> R? {
    do { return try body() } catch { MPIEnvironment.abort("\(error)") }
}
