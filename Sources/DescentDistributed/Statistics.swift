import Dispatch
import Synchronization

/// Counts what the distributed layer sends: collectives, payload bytes, the ring-model bytes sent
/// per rank, and the seconds spent inside MPI. Shared by reference (copies of a
/// ``DistributedObjective`` count into one instance); thread-safe.
public final class CommunicationStatistics: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Collective calls.
        public var collectives = 0
        /// Σ elements × scalar size of the buffers reduced or gathered (the payload).
        public var payloadBytes = 0
        /// Σ bytes each rank sends in the ring algorithms: allreduce 2(P−1)/P · payload,
        /// reduce-scatter and allgather (P−1)/P · payload.
        public var ringBytesPerRank = 0.0
        /// Wall seconds inside the collectives.
        public var seconds = 0.0
    }

    private let state = Mutex(Snapshot())

    public init() {}

    /// The counters so far.
    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Sets every counter to zero.
    public func reset() { state.withLock { $0 = Snapshot() } }

    func clock() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    func record(allreduceOf count: Int, scalarSize: Int, ranks: Int, since start: UInt64) {
        add(count * scalarSize, ringFactor: 2 * Double(ranks - 1) / Double(ranks), since: start)
    }

    func record(reduceScatterOf count: Int, scalarSize: Int, ranks: Int, since start: UInt64) {
        add(count * scalarSize, ringFactor: Double(ranks - 1) / Double(ranks), since: start)
    }

    func record(allgatherOf count: Int, scalarSize: Int, ranks: Int, since start: UInt64) {
        add(count * scalarSize, ringFactor: Double(ranks - 1) / Double(ranks), since: start)
    }

    private func add(_ bytes: Int, ringFactor: Double, since start: UInt64) {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        state.withLock {
            $0.collectives += 1
            $0.payloadBytes += bytes
            $0.ringBytesPerRank += ringFactor * Double(bytes)
            $0.seconds += elapsed
        }
    }
}
