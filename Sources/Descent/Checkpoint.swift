import Foundation

// MARK: - Checkpoints

/// The on-disk form of an optimizer: its kind and scalar type next to its hyperparameters and
/// state, so that a checkpoint of another optimizer or precision is refused, and the version of
/// the format (absent, read as 0, in JSON checkpoints written before it was versioned).
public struct Checkpoint<O: Optimizer>: Codable {
    public var version: Int
    public var kind: String
    public var scalar: String
    public var optimizer: O

    public init(_ optimizer: O) {
        self.version = BinaryCheckpoint.formatVersion
        self.kind = O.kind
        self.scalar = String(describing: O.Scalar.self)
        self.optimizer = optimizer
    }

    private enum CodingKeys: String, CodingKey { case version, kind, scalar, optimizer }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 0
        guard version <= BinaryCheckpoint.formatVersion else {
            throw CheckpointError.unsupportedVersion(found: version, supported: BinaryCheckpoint.formatVersion)
        }
        let kind = try c.decode(String.self, forKey: .kind)
        let scalar = try c.decode(String.self, forKey: .scalar)
        let expected = "\(O.kind)<\(O.Scalar.self)>"
        guard kind == O.kind, scalar == String(describing: O.Scalar.self) else {
            throw OptimizerError.checkpointMismatch(expected: expected, found: "\(kind)<\(scalar)>")
        }
        self.version = version
        self.kind = kind
        self.scalar = scalar
        self.optimizer = try c.decode(O.self, forKey: .optimizer)
        try optimizer.validate()
        try optimizer.validateState()
    }
}

extension Optimizer {
    /// The optimizer's hyperparameters and state as a checkpoint: the compact binary format
    /// (`BinaryCheckpoint`, default) or JSON. Numbers round-trip exactly in both, so an
    /// optimizer restored with ``init(checkpoint:parameterCount:)`` continues bit-identically.
    /// - Complexity: binary: one pass over the state (checksum) plus a copy into the `Data`.
    public func checkpoint(format: CheckpointFormat = .binary) throws -> Data {
        try CheckpointCoding.encode(Checkpoint(self), format: format)
    }

    /// Restores an optimizer from ``checkpoint(format:)``'s output, either format (old JSON
    /// checkpoints without a version included). Refuses a checkpoint of another optimizer or
    /// scalar type and, when `parameterCount` is given, one whose state was built for another
    /// number of parameters; a truncated, corrupted or newer-version file throws
    /// `CheckpointError`.
    public init(checkpoint data: Data, parameterCount: Int? = nil) throws {
        let restored = try CheckpointCoding.decode(Checkpoint<Self>.self, from: data).optimizer
        if let parameterCount, let state = restored.stateCount, state != parameterCount {
            throw OptimizerError.stateCountMismatch(state: state, parameters: parameterCount)
        }
        self = restored
    }

    /// Writes a checkpoint to `url` atomically: to a temporary name beside it, then renamed, so a
    /// failure never leaves a half-written file. The binary format streams the state arrays to
    /// the file without copying them.
    public func writeCheckpoint(to url: URL, format: CheckpointFormat = .binary) throws {
        try CheckpointCoding.write(Checkpoint(self), format: format, to: url)
    }

    /// Reads a checkpoint written by ``writeCheckpoint(to:format:)`` (either format).
    public init(contentsOf url: URL, parameterCount: Int? = nil) throws {
        let restored = try CheckpointCoding.read(Checkpoint<Self>.self, from: url).optimizer
        if let parameterCount, let state = restored.stateCount, state != parameterCount {
            throw OptimizerError.stateCountMismatch(state: state, parameters: parameterCount)
        }
        self = restored
    }
}
