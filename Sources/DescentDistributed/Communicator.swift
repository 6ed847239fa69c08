internal import CMPI
import Foundation

/// A scalar type the collectives move: Float, Double (reductions), UInt64 and Int64 (checksums, counts).
public protocol MPIScalar: Sendable {}
extension Float: MPIScalar {}
extension Double: MPIScalar {}
extension UInt64: MPIScalar {}
extension Int64: MPIScalar {}

/// The MPI datatype of `S`.
@inline(__always)
func mpiDatatype<S: MPIScalar>(_: S.Type) -> MPI_Datatype {
    if S.self == Double.self { return cmpi_double() }
    if S.self == Float.self { return cmpi_float() }
    if S.self == UInt64.self { return cmpi_uint64() }
    return cmpi_int64()
}

/// A reduction of ``Communicator/allreduce(_:_:)``.
public enum ReductionOperation: String, Sendable, CaseIterable {
    case sum, max, min
    var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_op_sum()
        case .max: return cmpi_op_max()
        case .min: return cmpi_op_min()
        }
    }
}

/// An MPI communicator: a group of ranks 0..<size that run collectives together.
///
/// Every collective works in place or zero-copy on unsafe buffers, checks its sizes before it
/// calls MPI (throwing ``MPIError`` that names the value), and turns MPI's error codes into
/// thrown ``MPIError/call(function:code:message:)`` (the communicators use `MPI_ERRORS_RETURN`).
/// Collectives must be called by every rank of the communicator in the same order.
///
/// Not thread-safe per instance (MPI runs `MPI_THREAD_SERIALIZED`): call it from one thread at a
/// time. The handle is immutable, hence `Sendable`.
public final class Communicator: @unchecked Sendable {
    let handle: MPI_Comm
    /// This process's rank, 0..<size.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    private let owned: Bool

    private init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        try MPIEnvironment.check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try MPIEnvironment.check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if owned && !MPIEnvironment.isFinalized {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    /// `MPI_COMM_WORLD`, initializing MPI on first use. Without `mpirun`: one rank.
    public static func world() throws -> Communicator {
        try MPIEnvironment.initialize()
        return try Communicator(handle: cmpi_comm_world(), owned: false)
    }

    /// Splits the ranks by `color` (≥ 0), ordered by `key` within a color (`MPI_Comm_split`);
    /// a rank passing a nil color gets nil (`MPI_UNDEFINED`). Collective.
    public func split(color: Int?, key: Int = 0) throws -> Communicator? {
        if let color, !(0...Int(Int32.max)).contains(color) {
            throw MPIError.invalidArgument(name: "color", value: "\(color)", requirement: "in 0...\(Int32.max) or nil")
        }
        guard let k = Int32(exactly: key) else { throw MPIError.invalidArgument(name: "key", value: "\(key)", requirement: "an Int32") }
        var newComm: MPI_Comm? = cmpi_comm_null()
        try MPIEnvironment.check(MPI_Comm_split(handle, color.map { Int32($0) } ?? cmpi_undefined(), k, &newComm), "MPI_Comm_split")
        guard let newComm, newComm != cmpi_comm_null() else { return nil }
        try MPIEnvironment.check(MPI_Comm_set_errhandler(newComm, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        return try Communicator(handle: newComm, owned: true)
    }

    /// Waits until every rank arrives. - Complexity: O(log P) latencies.
    public func barrier() throws {
        try MPIEnvironment.check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// Replaces `buffer` on every rank with the element-wise reduction over the ranks (in place:
    /// `MPI_IN_PLACE`), e.g. x ← Σ_r x_r for `.sum`.
    /// - Complexity: ring model 2(P−1)/P · count · size(S) bytes sent per rank.
    public func allreduce<S: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<S>, _ operation: ReductionOperation = .sum) throws {
        guard let count = Int32(exactly: buffer.count) else { throw MPIError.countTooLarge(name: "allreduce count", value: buffer.count) }
        guard count > 0 else { return }
        try MPIEnvironment.check(MPI_Allreduce(UnsafeRawPointer(cmpi_in_place()), buffer.baseAddress, count, mpiDatatype(S.self),
                                               operation.handle, handle), "MPI_Allreduce")
    }

    /// Allreduces `large` (blocking) while a small `companion` buffer (e.g. the loss) is reduced
    /// by a nonblocking `MPI_Iallreduce` started first: two reductions for the latency of one.
    public func allreduce<S: MPIScalar>(_ large: UnsafeMutableBufferPointer<S>, with companion: UnsafeMutableBufferPointer<S>,
                                        _ operation: ReductionOperation = .sum) throws {
        guard let small = Int32(exactly: companion.count) else { throw MPIError.countTooLarge(name: "allreduce count", value: companion.count) }
        guard small > 0 else { return try allreduce(large, operation) }
        var request: MPI_Request? = cmpi_request_null()
        try MPIEnvironment.check(MPI_Iallreduce(UnsafeRawPointer(cmpi_in_place()), companion.baseAddress, small, mpiDatatype(S.self),
                                                operation.handle, handle, &request), "MPI_Iallreduce")
        let largeError: Error?
        do { try allreduce(large, operation); largeError = nil } catch { largeError = error }
        try MPIEnvironment.check(MPI_Wait(&request, cmpi_status_ignore()), "MPI_Wait")
        if let largeError { throw largeError }
    }

    /// A scalar reduced over the ranks.
    public func allreduce<S: MPIScalar>(_ value: S, _ operation: ReductionOperation = .sum) throws -> S {
        var v = value
        try withUnsafeMutablePointer(to: &v) { try allreduce(UnsafeMutableBufferPointer(start: $0, count: 1), operation) }
        return v
    }

    /// Copies `buffer` of rank `root` into `buffer` of every rank (`MPI_Bcast`); all ranks pass
    /// the same count. - Complexity: O(log P) latencies + count · size(S) bytes per rank.
    public func broadcast<S: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<S>, root: Int = 0) throws {
        let r = try checkedRoot(root)
        guard let count = Int32(exactly: buffer.count) else { throw MPIError.countTooLarge(name: "broadcast count", value: buffer.count) }
        guard count > 0 else { return }
        try MPIEnvironment.check(MPI_Bcast(buffer.baseAddress, count, mpiDatatype(S.self), r, handle), "MPI_Bcast")
    }

    /// Gathers equal blocks: `output[r·k ..< (r+1)·k]` ← `input` of rank r, k = input.count.
    public func allgather<S: MPIScalar>(_ input: UnsafeBufferPointer<S>, into output: UnsafeMutableBufferPointer<S>) throws {
        let (total, overflow) = input.count.multipliedReportingOverflow(by: size)
        guard !overflow, output.count == total else {
            throw MPIError.bufferSizeMismatch(name: "allgather output", expected: overflow ? Int.max : total, found: output.count)
        }
        guard let count = Int32(exactly: input.count) else { throw MPIError.countTooLarge(name: "allgather count", value: input.count) }
        guard count > 0 else { return }
        try MPIEnvironment.check(MPI_Allgather(UnsafeRawPointer(input.baseAddress), count, mpiDatatype(S.self),
                                               output.baseAddress, count, mpiDatatype(S.self), handle), "MPI_Allgather")
    }

    /// In-place gather of the blocks of `partition` (`MPI_Allgatherv` with `MPI_IN_PLACE`): each
    /// rank's block `buffer[partition.range(of: rank)]` is copied into every rank's buffer.
    /// - Complexity: ring model (P−1)/P · count · size(S) bytes received per rank.
    public func allgather<S: MPIScalar>(inPlace buffer: UnsafeMutableBufferPointer<S>, partition: BlockPartition) throws {
        try checkPartition(partition, buffer.count, "allgather buffer")
        guard buffer.count > 0 else { return }
        try partition.counts32.withUnsafeBufferPointer { c in
            try partition.displacements32.withUnsafeBufferPointer { d in
                try MPIEnvironment.check(MPI_Allgatherv(UnsafeRawPointer(cmpi_in_place()), 0, mpiDatatype(S.self), buffer.baseAddress,
                                                        c.baseAddress, d.baseAddress, mpiDatatype(S.self), handle), "MPI_Allgatherv")
            }
        }
    }

    /// In-place gather of blocks of arbitrary sizes: rank r's block has `counts[r]` elements and
    /// starts after the blocks of the ranks before it (`MPI_Allgatherv` with `MPI_IN_PLACE`).
    public func allgather<S: MPIScalar>(inPlace buffer: UnsafeMutableBufferPointer<S>, counts: [Int]) throws {
        guard counts.count == size else { throw MPIError.bufferSizeMismatch(name: "allgather counts", expected: size, found: counts.count) }
        var total = 0
        for c in counts {
            guard c >= 0 else { throw MPIError.invalidArgument(name: "allgather count", value: "\(c)", requirement: "≥ 0") }
            total += c
            guard total <= Int(Int32.max) else { throw MPIError.countTooLarge(name: "allgather total", value: total) }
        }
        guard buffer.count == total else { throw MPIError.bufferSizeMismatch(name: "allgather buffer", expected: total, found: buffer.count) }
        guard total > 0 else { return }
        let c32 = counts.map { Int32($0) }
        var d32 = [Int32](repeating: 0, count: size)
        for r in 1..<Swift.max(size, 1) { d32[r] = d32[r - 1] + c32[r - 1] }
        try MPIEnvironment.check(MPI_Allgatherv(UnsafeRawPointer(cmpi_in_place()), 0, mpiDatatype(S.self), buffer.baseAddress,
                                                c32, d32, mpiDatatype(S.self), handle), "MPI_Allgatherv")
    }

    /// Reduce-scatter over `partition` (`MPI_Reduce_scatter`): `output` (rank r's block length)
    /// ← Σ_ranks `input[partition.range(of: r)]`.
    /// - Complexity: ring model (P−1)/P · count · size(S) bytes sent per rank.
    public func reduceScatter<S: MPIScalar>(_ input: UnsafeBufferPointer<S>, into output: UnsafeMutableBufferPointer<S>,
                                            partition: BlockPartition, _ operation: ReductionOperation = .sum) throws {
        try checkPartition(partition, input.count, "reduce-scatter input")
        let mine = partition.range(of: rank).count
        guard output.count == mine else { throw MPIError.bufferSizeMismatch(name: "reduce-scatter output", expected: mine, found: output.count) }
        guard input.count > 0 else { return }
        try partition.counts32.withUnsafeBufferPointer { c in
            try MPIEnvironment.check(MPI_Reduce_scatter(UnsafeRawPointer(input.baseAddress), output.baseAddress, c.baseAddress,
                                                        mpiDatatype(S.self), operation.handle, handle), "MPI_Reduce_scatter")
        }
    }

    /// In-place reduce-scatter: afterwards `buffer[partition.range(of: rank)]` holds the sum over
    /// the ranks of that block (the rest of `buffer` is unspecified).
    public func reduceScatter<S: MPIScalar>(inPlace buffer: UnsafeMutableBufferPointer<S>, partition: BlockPartition,
                                            _ operation: ReductionOperation = .sum) throws {
        try checkPartition(partition, buffer.count, "reduce-scatter buffer")
        guard buffer.count > 0 else { return }
        let mine = partition.range(of: rank)
        try partition.counts32.withUnsafeBufferPointer { c in
            // MPI_IN_PLACE puts the result at the start of the buffer; move it to the rank's block.
            try MPIEnvironment.check(MPI_Reduce_scatter(UnsafeRawPointer(cmpi_in_place()), buffer.baseAddress, c.baseAddress,
                                                        mpiDatatype(S.self), operation.handle, handle), "MPI_Reduce_scatter")
        }
        if mine.lowerBound > 0 && !mine.isEmpty {
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            memmove(base + mine.lowerBound * MemoryLayout<S>.stride, base, mine.count * MemoryLayout<S>.stride)
        }
    }

    /// True when `value` is bit-identical on every rank (one allreduce of two UInt64: max of v and of ¬v).
    public func agrees(on value: UInt64) throws -> Bool {
        var pair: (UInt64, UInt64) = (value, ~value)
        try withUnsafeMutableBytes(of: &pair) { raw in
            try allreduce(raw.bindMemory(to: UInt64.self), .max)
        }
        return pair.0 == value && pair.1 == ~value
    }

    private func checkedRoot(_ root: Int) throws -> Int32 {
        guard (0..<size).contains(root) else { throw MPIError.invalidArgument(name: "root", value: "\(root)", requirement: "in 0..<\(size)") }
        return Int32(root)
    }

    private func checkPartition(_ partition: BlockPartition, _ count: Int, _ name: String) throws {
        guard partition.parts == size else {
            throw MPIError.invalidArgument(name: "partition parts", value: "\(partition.parts)", requirement: "the communicator size \(size)")
        }
        guard partition.count == count else { throw MPIError.bufferSizeMismatch(name: name, expected: partition.count, found: count) }
    }
}
