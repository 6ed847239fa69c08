import Descent
import DescentProblems

/// Adaptive K-FAC's quadratic model, data-parallel: each rank multiplies by the Fisher of its
/// part B_r of the batch and the weighted forms are summed, so only three scalars travel:
///
///     (uᵀF_Bu, ½(uᵀF_Bv + vᵀF_Bu), vᵀF_Bv) = Σ_r (|B_r|/|B|) (uᵀF_{B_r}u, …)     (one allreduce of 3)
///
/// (F_B = Σ_r (|B_r|/|B|) F_{B_r}, the batch mean). Equal to the single-process forms up to the
/// rounding of the sum's order (relative ε·P).
extension DistributedObjective: FisherQuadraticFormProducing where Base: FisherVectorProducing {
    public func fisherQuadraticForms(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, first: UnsafeBufferPointer<Scalar>,
                                     second: UnsafeBufferPointer<Scalar>?, scratch: UnsafeMutableBufferPointer<Scalar>,
                                     scratch2: UnsafeMutableBufferPointer<Scalar>) throws -> (Scalar, Scalar, Scalar) {
        let n = first.count
        func dot(_ a: UnsafeBufferPointer<Scalar>, _ b: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
            Scalar.dot(count: n, x: a.baseAddress!, incx: 1, y: b.baseAddress!, incy: 1)
        }
        func forms(_ part: UnsafeBufferPointer<Int>?) -> (Scalar, Scalar, Scalar) {
            base.fisherVectorProduct(at: θ, batch: part, vector: first, product: scratch)
            let c00 = dot(first, scratch)
            guard let second else { return (c00, 0, 0) }
            base.fisherVectorProduct(at: θ, batch: part, vector: second, product: scratch2)
            return (c00, (dot(first, scratch2) + dot(second, scratch)) / 2, dot(second, scratch2))
        }
        guard sampleCount > 0 else { return forms(batch) }
        let total = batch?.count ?? sampleCount
        var local: [Scalar] = withLocalPart(of: batch) { part in
            guard part.count > 0 else { return [0, 0, 0] }
            let w = Scalar(part.count) / Scalar(total)
            let f = forms(part)
            return [w * f.0, w * f.1, w * f.2]
        }
        let started = statistics.clock()
        try local.withUnsafeMutableBufferPointer { try communicator.allreduce($0) }
        statistics.record(allreduceOf: 3, scalarSize: MemoryLayout<Scalar>.size, ranks: communicator.size, since: started)
        return (local[0], local[1], local[2])
    }
}

/// A wrapped model-driven optimizer (adaptive K-FAC) stays one: every rank steps the whole θ
/// with the distributed objective's model (its loss, factors and quadratic forms are the same on
/// every rank), so the ranks take identical steps; with `verifyChecksum` one allreduce checks it.
extension DistributedOptimizer: ModelDrivenOptimizer where Inner: ModelDrivenOptimizer {
    public mutating func step<Model: CurvatureModel>(_ parameters: UnsafeMutableBufferPointer<Scalar>, loss: Scalar,
                                                     gradient: UnsafeBufferPointer<Scalar>, model: Model) throws
        where Model.Scalar == Scalar {
        guard !shardState else {
            throw MPIError.invalidArgument(name: "shard-state optimizer", value: Inner.kind, requirement: "a first-order optimizer (element-wise step)")
        }
        try replicatedModelStep(parameters, loss: loss, gradient: gradient, model: model)
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
}
