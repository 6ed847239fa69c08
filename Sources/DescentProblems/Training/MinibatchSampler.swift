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

    /// - Throws: ``TrainingError/invalidOption(name:value:requirement:)`` naming `sampleCount`
    ///   or `batchSize` when it is not positive.
    /// - Complexity: O(m) for the identity permutation.
    public init(sampleCount: Int, batchSize: Int, seed: UInt64) throws {
        guard sampleCount > 0 else {
            throw TrainingError.invalidOption(name: "sampleCount", value: "\(sampleCount)", requirement: "> 0 (the sampler needs samples)")
        }
        guard batchSize > 0 else {
            throw TrainingError.invalidOption(name: "batchSize", value: "\(batchSize)", requirement: "> 0")
        }
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

extension MinibatchSampler: Codable, Equatable {
    private enum CodingKeys: String, CodingKey { case sampleCount, batchSize, rng, permutation, position, epoch }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sampleCount, forKey: .sampleCount)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(rng, forKey: .rng)
        try c.encode(permutation, forKey: .permutation)
        try c.encode(position, forKey: .position)
        try c.encode(epoch, forKey: .epoch)
    }

    /// Restores a sampler mid-epoch. Refuses (``TrainingError/corruptState(_:)``) a permutation
    /// that is not one of 0..<sampleCount, a position outside it, or a batch size out of range.
    /// - Complexity: O(m) to check the permutation.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let m = try c.decode(Int.self, forKey: .sampleCount)
        let b = try c.decode(Int.self, forKey: .batchSize)
        let permutation = try c.decode([Int].self, forKey: .permutation)
        let position = try c.decode(Int.self, forKey: .position)
        guard m > 0, b > 0, b <= m, permutation.count == m, (0...m).contains(position) else {
            throw TrainingError.corruptState("sampler of \(m) samples, batch \(b), position \(position), permutation of \(permutation.count)")
        }
        var seen = [Bool](repeating: false, count: m)
        for i in permutation {
            guard i >= 0, i < m, !seen[i] else { throw TrainingError.corruptState("sampler permutation holds \(i) twice or out of 0..<\(m)") }
            seen[i] = true
        }
        self.sampleCount = m
        self.batchSize = b
        self.rng = try c.decode(SplitMix64.self, forKey: .rng)
        self.permutation = permutation
        self.position = position
        self.epoch = try c.decode(Int.self, forKey: .epoch)
    }
}
