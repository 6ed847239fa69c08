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

/// Checkpoint encoding shared by optimizers and training states: binary by default, JSON on
/// request; reading detects the format (JSON starts with `{`).
public enum CheckpointCoding {
    /// `value` in `format`.
    public static func encode<T: Encodable>(_ value: T, format: CheckpointFormat) throws -> Data {
        switch format {
        case .binary: return try BinaryCheckpoint.encode(value)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try encoder.encode(value)
        }
    }

    /// Decodes either format; anything else is ``CheckpointError/notACheckpoint(_:)``.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if BinaryCheckpoint.isBinary(data) { return try BinaryCheckpoint.decode(type, from: data) }
        guard data.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) == UInt8(ascii: "{") else {
            throw CheckpointError.notACheckpoint(data.isEmpty ? "the file is empty" : "it is neither the binary format nor JSON")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder.userInfo[.checkpointFormatVersion] = 0
        do {
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw CheckpointError.malformed("JSON: \(Self.describe(error))")
        }
    }

    /// Writes `value` to `url` atomically (temporary name, then rename).
    public static func write<T: Encodable>(_ value: T, format: CheckpointFormat, to url: URL) throws {
        switch format {
        case .binary: try BinaryCheckpoint.write(value, to: url)
        case .json:
            let data = try encode(value, format: .json)
            try AtomicFile.write(data, to: url)
        }
    }

    /// Reads either format from `url` (memory-mapped).
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        // A FIFO or a device would block or never end (and Foundation reports them as a
        // permission problem): only regular files are read.
        try AtomicFile.regularFileSize(url.path)
        return try decode(type, from: try Data(contentsOf: url, options: .alwaysMapped))
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context): return "\(path(context.codingPath + [key])) is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

extension Optimizer {
    /// The optimizer's hyperparameters and state as a checkpoint: the compact binary format
    /// (``BinaryCheckpoint``, default) or JSON. Numbers round-trip exactly in both, so an
    /// optimizer restored with ``init(checkpoint:parameterCount:)`` continues bit-identically.
    /// - Complexity: binary: one pass over the state (checksum) plus a copy into the `Data`.
    public func checkpoint(format: CheckpointFormat = .binary) throws -> Data {
        try CheckpointCoding.encode(Checkpoint(self), format: format)
    }

    /// Restores an optimizer from ``checkpoint(format:)``'s output, either format (old JSON
    /// checkpoints without a version included). Refuses a checkpoint of another optimizer or
    /// scalar type and, when `parameterCount` is given, one whose state was built for another
    /// number of parameters; a truncated, corrupted or newer-version file throws
    /// ``CheckpointError``.
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
