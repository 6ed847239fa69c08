/// Draws minibatches of sample indices without replacement, epoch by epoch: at the start of each
/// epoch the index permutation is reshuffled (Fisher–Yates with ``SplitMix64``), then consecutive
/// slices of `batchSize` are handed out; the last slice of an epoch may be shorter (PyTorch
/// `DataLoader(shuffle: true, drop_last: false)`). The order depends only on the seed.
/// - Complexity: O(1) per batch plus O(m) per epoch for the shuffle; no allocation after init.
public struct MinibatchSampler: Sendable {
    public let sampleCount: Int
    public let batchSize: Int
    @usableFromInline var rng: SplitMix64
    @usableFromInline var permutation: [Int]
    @usableFromInline var position: Int
    /// The current epoch, counted from 0 (−1 before the first batch).
    public private(set) var epoch: Int = 0

    public init(sampleCount: Int, batchSize: Int, seed: UInt64) {
        precondition(sampleCount > 0 && batchSize > 0, "MinibatchSampler needs samples and a positive batch size")
        self.sampleCount = sampleCount
        self.batchSize = Swift.min(batchSize, sampleCount)
        self.rng = SplitMix64(seed: seed)
        self.permutation = Array(0..<sampleCount)
        self.position = sampleCount  // forces a shuffle before the first batch
        self.epoch = -1
    }

    /// The next batch as a range of ``indices``.
    @inlinable
    public mutating func nextRange() -> Range<Int> {
        if position >= sampleCount {
            rng.shuffle(&permutation)
            position = 0
            advanceEpoch()
        }
        let end = Swift.min(position + batchSize, sampleCount)
        defer { position = end }
        return position..<end
    }

    @usableFromInline mutating func advanceEpoch() { epoch += 1 }

    /// The current permutation; batches are slices of it.
    public var indices: [Int] { permutation }

    /// Calls `body` with the next batch's indices.
    @inlinable
    public mutating func withNextBatch<R>(_ body: (UnsafeBufferPointer<Int>) throws -> R) rethrows -> R {
        let r = nextRange()
        return try permutation.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    /// The next batch as an array.
    public mutating func nextBatch() -> [Int] { withNextBatch { Array($0) } }
}
