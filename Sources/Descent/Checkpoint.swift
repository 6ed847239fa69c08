import Foundation

// MARK: - Checkpoints

/// The on-disk form of an optimizer: its kind and scalar type next to its hyperparameters and
/// state, so that a checkpoint of another optimizer or precision is refused.
public struct Checkpoint<O: Optimizer>: Codable {
    public var kind: String
    public var scalar: String
    public var optimizer: O

    public init(_ optimizer: O) {
        self.kind = O.kind
        self.scalar = String(describing: O.Scalar.self)
        self.optimizer = optimizer
    }

    private enum CodingKeys: String, CodingKey { case kind, scalar, optimizer }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        let scalar = try c.decode(String.self, forKey: .scalar)
        let expected = "\(O.kind)<\(O.Scalar.self)>"
        guard kind == O.kind, scalar == String(describing: O.Scalar.self) else {
            throw OptimizerError.checkpointMismatch(expected: expected, found: "\(kind)<\(scalar)>")
        }
        self.kind = kind
        self.scalar = scalar
        self.optimizer = try c.decode(O.self, forKey: .optimizer)
        try optimizer.validate()
        try optimizer.validateState()
    }
}

extension Optimizer {
    /// The optimizer's hyperparameters and state as JSON; numbers round-trip exactly, so an
    /// optimizer restored with ``init(checkpoint:parameterCount:)`` continues bit-identically.
    public func checkpoint() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Checkpoint(self))
    }

    /// Restores an optimizer from ``checkpoint()``'s output. Refuses a checkpoint of another
    /// optimizer or scalar type and, when `parameterCount` is given, one whose state was built
    /// for another number of parameters.
    public init(checkpoint data: Data, parameterCount: Int? = nil) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let restored = try decoder.decode(Checkpoint<Self>.self, from: data).optimizer
        if let parameterCount, let state = restored.stateCount, state != parameterCount {
            throw OptimizerError.stateCountMismatch(state: state, parameters: parameterCount)
        }
        self = restored
    }

    /// Writes ``checkpoint()`` to `url` atomically: to a temporary name beside it, then renamed,
    /// so a failure never leaves a half-written file.
    public func writeCheckpoint(to url: URL) throws {
        try checkpoint().write(to: url, options: .atomic)
    }

    /// Reads a checkpoint written by ``writeCheckpoint(to:)``.
    public init(contentsOf url: URL, parameterCount: Int? = nil) throws {
        try self.init(checkpoint: try Data(contentsOf: url), parameterCount: parameterCount)
    }
}

/// Checks a decoded state: step counters non-negative; with no state (`count == nil`) every
/// buffer empty; otherwise each `required` buffer holds exactly `count` elements and each
/// `optional` one (allocated lazily when its option is on) either `count` or none.
/// Throws ``OptimizerError/corruptCheckpoint(_:)`` naming the buffer and its length.
public func checkState(stepCount: Int, skippedSteps: Int, count: Int?,
                       required: KeyValuePairs<String, Int>, optional: KeyValuePairs<String, Int> = [:]) throws {
    guard stepCount >= 0, skippedSteps >= 0 else {
        throw OptimizerError.corruptCheckpoint("negative step count (t = \(stepCount), skipped = \(skippedSteps))")
    }
    guard let count else {
        for (name, n) in required where n != 0 {
            throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements but no state was allocated")
        }
        for (name, n) in optional where n != 0 {
            throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements but no state was allocated")
        }
        return
    }
    for (name, n) in required where n != count {
        throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements, expected \(count)")
    }
    for (name, n) in optional where n != count && n != 0 {
        throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements, expected \(count) or none")
    }
}

/// Checks that every non-empty state buffer has `count` elements (used when decoding).
/// Prefer ``checkState(stepCount:skippedSteps:count:required:optional:)``, which also refuses
/// a required buffer that is missing.
@inlinable
public func checkStateBuffers(_ buffers: [(String, Int)], count: Int?) throws {
    guard let count else {
        if let (name, n) = buffers.first(where: { $0.1 != 0 }) {
            throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements but no state was allocated")
        }
        return
    }
    for (name, n) in buffers where n != count && n != 0 {
        throw OptimizerError.corruptCheckpoint("buffer \(name) has \(n) elements, expected \(count)")
    }
}
