import Descent
import Foundation

/// KAISA's work sharing for ``DistributedOptimizer`` wrapping `KFAC` (Pauloski et al., SC 2021):
/// layer l is factored and preconditioned by rank l mod P only (round-robin), and one in-place
/// `MPI_Allgatherv` per step shares the preconditioned layer updates x_l: rank r packs its
/// layers' blocks contiguously, every rank receives the others' and unpacks them.
///
/// Bytes per step: the allgather of n scalars ((P−1)/P · n received per rank in the ring model),
/// plus one 1-scalar allreduce per refactoring attempt (do all ranks' factorizations succeed?).
/// Factorization work per rank: Σ_{l ≡ r mod P} (i_l³ + o_l³)/3 instead of Σ_l.
/// - Complexity: per step O(n) packing and unpacking copies; no allocation after the first step.
final class KAISAWorkSharing: KFACWorkSharing, @unchecked Sendable {
    let communicator: Communicator
    let statistics: CommunicationStatistics
    /// The packing buffer (rank-major blocks); used from one thread at a time, as the optimizer.
    private var scratch: UnsafeMutableRawPointer?
    private var scratchBytes = 0

    init(communicator: Communicator, statistics: CommunicationStatistics) {
        self.communicator = communicator
        self.statistics = statistics
    }

    deinit { scratch?.deallocate() }

    func owns(layer: Int, of count: Int) -> Bool { layer % communicator.size == communicator.rank }

    func firstFailure(_ failedLayer: Int?) throws -> Int? {
        let started = statistics.clock()
        let first = try communicator.allreduce(Int64(failedLayer ?? Int.max), .min)
        statistics.record(allreduceOf: 1, scalarSize: 8, ranks: communicator.size, since: started)
        return first == Int64(Int.max) ? nil : Int(first)
    }

    func share<S: BLASScalar>(_ direction: UnsafeMutableBufferPointer<S>, layers: [KFACLayer]) throws {
        if S.self == Double.self {
            try share(UnsafeMutableRawBufferPointer(direction).bindMemory(to: Double.self), layers: layers)
        } else if S.self == Float.self {
            try share(UnsafeMutableRawBufferPointer(direction).bindMemory(to: Float.self), layers: layers)
        } else {
            throw MPIError.invalidArgument(name: "K-FAC scalar", value: "\(S.self)", requirement: "Float or Double")
        }
    }

    private func share<S: BLASScalar & MPIScalar>(_ x: UnsafeMutableBufferPointer<S>, layers: [KFACLayer]) throws {
        let P = communicator.size
        guard P > 1, let base = x.baseAddress else { return }
        // counts[r] = Σ of rank r's blocks; the packed order is rank-major, layers ascending.
        var counts = [Int](repeating: 0, count: P)
        for (l, layer) in layers.enumerated() { counts[l % P] += layer.outputs * layer.inputs }
        let total = counts.reduce(0, +)
        let bytes = total * MemoryLayout<S>.stride
        if bytes > scratchBytes {
            scratch?.deallocate()
            scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: MemoryLayout<S>.alignment)
            scratchBytes = bytes
        }
        guard let raw = scratch else { return }
        let packed = raw.bindMemory(to: S.self, capacity: total)
        var start = [Int](repeating: 0, count: P)
        for r in 1..<P { start[r] = start[r - 1] + counts[r - 1] }
        // Pack this rank's blocks into its segment.
        var cursor = start
        let me = communicator.rank
        for (l, layer) in layers.enumerated() where l % P == me {
            let size = layer.outputs * layer.inputs
            (packed + cursor[me]).update(from: base + layer.offset, count: size)
            cursor[me] += size
        }
        let started = statistics.clock()
        try communicator.allgather(inPlace: UnsafeMutableBufferPointer(start: packed, count: total), counts: counts)
        statistics.record(allgatherOf: total, scalarSize: MemoryLayout<S>.size, ranks: P, since: started)
        // Unpack the other ranks' blocks.
        cursor = start
        for (l, layer) in layers.enumerated() {
            let r = l % P, size = layer.outputs * layer.inputs
            if r != me { (base + layer.offset).update(from: packed + cursor[r], count: size) }
            cursor[r] += size
        }
    }
}
