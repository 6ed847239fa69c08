import Foundation

/// Checkpoint encoding shared by optimizers and training states: binary by default, JSON on
/// request; reading detects the format (JSON starts with `{`).
package enum CheckpointCoding {
    /// `value` in `format`.
    package static func encode<T: Encodable>(_ value: T, format: CheckpointFormat) throws -> Data {
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
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
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
    package static func write<T: Encodable>(_ value: T, format: CheckpointFormat, to url: URL) throws {
        switch format {
        case .binary: try BinaryCheckpoint.write(value, to: url)
        case .json:
            let data = try encode(value, format: .json)
            try AtomicFile.write(data, to: url)
        }
    }

    /// Reads either format from `url` (memory-mapped).
    package static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
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
