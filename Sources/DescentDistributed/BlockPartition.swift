/// Contiguous blocks of 0..<count over `parts` ranks, sizes differing by at most one: the first
/// `count % parts` blocks have ⌈count/parts⌉ elements, the others ⌊count/parts⌋,
///
///     start(r) = r·⌊count/parts⌋ + min(r, count mod parts).
///
/// Used for the rows of a data set (sample shards) and for the slices of θ (sharded state).
/// - Complexity: O(parts) to build (the MPI count arrays); O(1) per query.
public struct BlockPartition: Sendable, Equatable {
    /// The number of elements partitioned.
    public let count: Int
    /// The number of blocks (ranks).
    public let parts: Int
    let counts32: [Int32]
    let displacements32: [Int32]

    /// - Throws: ``MPIError/invalidArgument(name:value:requirement:)`` when count < 0 or
    ///   parts < 1; ``MPIError/countTooLarge(name:value:)`` when count does not fit MPI's counts.
    public init(count: Int, parts: Int) throws {
        guard count >= 0 else { throw MPIError.invalidArgument(name: "count", value: "\(count)", requirement: "≥ 0") }
        guard parts >= 1 else { throw MPIError.invalidArgument(name: "parts", value: "\(parts)", requirement: "≥ 1") }
        guard count <= Int(Int32.max) else { throw MPIError.countTooLarge(name: "count", value: count) }
        self.count = count
        self.parts = parts
        let q = count / parts, rem = count % parts
        counts32 = (0..<parts).map { Int32(q + ($0 < rem ? 1 : 0)) }
        displacements32 = (0..<parts).map { Int32($0 * q + Swift.min($0, rem)) }
    }

    /// The block of rank `r` (empty for r out of 0..<parts).
    @inlinable
    public func range(of r: Int) -> Range<Int> {
        guard r >= 0 && r < parts else { return 0..<0 }
        let q = count / parts, rem = count % parts
        let start = r * q + Swift.min(r, rem)
        return start..<(start + q + (r < rem ? 1 : 0))
    }

    /// The rank whose block holds `index` (in 0..<count).
    @inlinable
    public func owner(of index: Int) -> Int {
        let q = count / parts, rem = count % parts
        let big = rem * (q + 1)
        return index < big ? index / (q + 1) : rem + (index - big) / Swift.max(q, 1)
    }
}
