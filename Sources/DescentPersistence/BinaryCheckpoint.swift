import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which encoding ``Optimizer/checkpoint(format:)`` writes. Reading detects it.
public enum CheckpointFormat: String, Sendable, CaseIterable, Codable {
    /// The compact binary format of ``BinaryCheckpoint`` (the default).
    case binary
    /// Human-readable JSON, about 26 bytes per scalar (the format before version 1).
    case json
}

/// Errors reading a checkpoint. Nothing is changed when one is thrown.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The bytes are neither a binary checkpoint nor JSON.
    case notACheckpoint(String)
    /// The file is shorter than its header says (an interrupted copy or write).
    case truncated(expectedBytes: Int, foundBytes: Int)
    /// The file is longer than its header says.
    case trailingBytes(expectedBytes: Int, foundBytes: Int)
    /// The stored checksum differs from the one computed over the contents.
    case checksumMismatch(stored: UInt64, computed: UInt64)
    /// Written by a newer version of the format than this library reads.
    case unsupportedVersion(found: Int, supported: Int)
    /// The contents do not describe a value of the requested type.
    case malformed(String)
    /// A checkpoint of another kind (e.g. an optimizer where a training state was expected).
    case kindMismatch(expected: String, found: String)

    public var description: String {
        switch self {
        case let .notACheckpoint(why): return "not a Descent checkpoint: \(why)"
        case let .truncated(expected, found):
            return "truncated checkpoint: \(found) bytes, the header announces \(expected)"
        case let .trailingBytes(expected, found):
            return "corrupt checkpoint: \(found) bytes, the header announces \(expected)"
        case let .checksumMismatch(stored, computed):
            return "corrupt checkpoint: checksum \(String(stored, radix: 16)) stored, \(String(computed, radix: 16)) computed"
        case let .unsupportedVersion(found, supported):
            return "checkpoint format version \(found) is newer than this library's (\(supported)); update Descent to read it"
        case let .malformed(why): return "corrupt checkpoint: \(why)"
        case let .kindMismatch(expected, found): return "checkpoint of kind '\(found)', expected '\(expected)'"
        }
    }
    public var errorDescription: String? { description }
}

extension CodingUserInfoKey {
    /// The format version of the checkpoint being decoded (an `Int`; 0 for JSON checkpoints
    /// written before the format was versioned), so that `init(from:)` can supply defaults for
    /// fields an older version did not have.
    package static let checkpointFormatVersion = CodingUserInfoKey(rawValue: "descent.checkpointFormatVersion")!
}

/// The compact checkpoint format: a 64-byte prefix, a small header, then the raw arrays.
///
///     prefix  (64 bytes, little-endian)
///       0  magic 89 44 43 4B 0D 0A 1A 0A ("\x89DCK\r\n\x1a\n": never `{`, so JSON is told apart)
///       8  format version (UInt32), 12 reserved (0)
///      16  H, header bytes (multiple of 64)     24  P, payload bytes (multiple of 64)
///      32  checksum (UInt64) over header and payload
///      40  block count B                        48–63 reserved (0)
///     header (H bytes): B entries (element type 1 = Float, 2 = Double, 3 = Int64; count;
///       payload offset), then the value tree (tagged little-endian scalars, strings, arrays,
///       objects with sorted keys, block references), zero-padded
///     payload (P bytes): the arrays, each at a multiple of 64 bytes, zero-padded
///
/// Any `Codable` value can be stored: a custom `Encoder` writes `[Float]`, `[Double]` and
/// `[Int]` (and so `Matrix` storage) as raw blocks and everything else (hyperparameters,
/// counters, shapes, kinds) in the tree, so no optimizer needs code of its own. The file is
/// 64 + H + P bytes: the raw state plus at most 64 bytes per array plus the small header.
///
/// Checksum: FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the
/// little-endian 64-bit words of header and payload in four interleaved lanes (word i goes to
/// lane i mod 4; lane k starts at basis ⊕ k), then the lanes and the byte count folded into one
/// FNV-1a 64 — a 1-in-2⁶⁴ check of accidental corruption at memory speed, not a cryptographic hash.
///
/// Reading checks, before anything is decoded, the magic, the version (newer is refused), the
/// length (short: truncated), the checksum and the block table (every block inside the payload,
/// sizes overflow-checked); each check failure is one ``CheckpointError``.
///
/// - Complexity: writing: one checksum pass and one sequential write of the raw arrays (no copy
///   of them); reading: the file mapped, one checksum pass, one copy per array.
package enum BinaryCheckpoint {
    /// The version this library writes, and the newest it reads.
    package static let formatVersion = 1
    static let magic: [UInt8] = [0x89, 0x44, 0x43, 0x4B, 0x0D, 0x0A, 0x1A, 0x0A]
    static let prefixSize = 64
    static let alignment = 64

    /// True when `data` starts with the binary format's magic bytes.
    package static func isBinary(_ data: Data) -> Bool { data.count >= 8 && data.prefix(8).elementsEqual(magic) }

    // MARK: Encoding

    struct Encoded {
        var head: [UInt8]       // prefix + header, padded
        var blocks: [CheckpointBlock]
        var payloadSize: Int
    }

    static func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    static func prepare<T: Encodable>(_ value: T) throws -> Encoded {
        let tree = CheckpointTreeEncoder()
        let root = try tree.encode(value)
        var table = NodeWriter()
        var offset = 0
        for b in tree.blocks {
            table.u64(UInt64(b.elementType))
            table.u64(UInt64(b.count))
            table.u64(UInt64(offset))
            offset += padded(b.byteCount)
        }
        var writer = NodeWriter(bytes: table.bytes)
        writer.write(root)
        var header = writer.bytes
        header.append(contentsOf: repeatElement(0, count: padded(header.count) - header.count))

        var checksum = Checksum()
        header.withUnsafeBytes { checksum.update($0) }
        for b in tree.blocks {
            b.withBytes { raw in
                let whole = raw.count / 32 * 32
                checksum.update(UnsafeRawBufferPointer(rebasing: raw[0..<whole]))
                var tail = [UInt8](repeating: 0, count: padded(raw.count) - whole)
                tail.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[whole...])) }
                tail.withUnsafeBytes { checksum.update($0) }
            }
        }
        var prefix = NodeWriter()
        prefix.bytes.append(contentsOf: magic)
        prefix.u32(UInt32(formatVersion))
        prefix.u32(0)
        prefix.u64(UInt64(header.count))
        prefix.u64(UInt64(offset))
        prefix.u64(checksum.finalize(byteCount: UInt64(header.count + offset)))
        prefix.u64(UInt64(tree.blocks.count))
        prefix.u64(0)
        prefix.u64(0)
        return Encoded(head: prefix.bytes + header, blocks: tree.blocks, payloadSize: offset)
    }

    /// `value` in the binary format, in memory.
    package static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = try prepare(value)
        var data = Data(capacity: e.head.count + e.payloadSize)
        data.append(contentsOf: e.head)
        for b in e.blocks {
            b.withBytes { raw in
                if let base = raw.baseAddress { data.append(base.assumingMemoryBound(to: UInt8.self), count: raw.count) }
                data.append(contentsOf: repeatElement(0, count: padded(raw.count) - raw.count))
            }
        }
        return data
    }

    /// Writes `value` to `url` atomically (a temporary name beside it, then renamed): the header,
    /// then every array straight from its storage, in large sequential writes.
    package static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let e = try prepare(value)
        try AtomicFile.write(to: url) { sink in
            try e.head.withUnsafeBytes { try sink($0) }
            let zeros = [UInt8](repeating: 0, count: alignment)
            for b in e.blocks {
                try b.withBytes { raw in
                    try sink(raw)
                    let pad = padded(raw.count) - raw.count
                    try zeros.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<pad])) }
                }
            }
        }
    }

    // MARK: Decoding

    /// Decodes a value written by ``encode(_:)`` or ``write(_:to:)``.
    /// - Throws: ``CheckpointError`` for anything but a complete, intact file of a version this
    ///   library reads; the value's own `init(from:)` errors pass through.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, bytes: $0) }
    }

    /// Reads a file written by ``write(_:to:)`` (memory-mapped).
    package static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        // A FIFO or a device would block or never end (and Foundation reports them as a
        // permission problem): only regular files are read.
        try AtomicFile.regularFileSize(url.path)
        return try decode(type, from: try Data(contentsOf: url, options: .alwaysMapped))
    }

    static func decode<T: Decodable>(_ type: T.Type, bytes: UnsafeRawBufferPointer) throws -> T {
        let (version, root, payload) = try open(bytes)
        let decoder = NodeDecoder(node: root, payload: payload, codingPath: [], version: version)
        return try decoder.decode(type)
    }

    /// Checks the prefix, length, checksum and block table; returns the tree and the payload.
    static func open(_ bytes: UnsafeRawBufferPointer) throws -> (Int, CheckpointNode, CheckpointPayload) {
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(magic) else {
            throw CheckpointError.notACheckpoint("the file does not start with the checkpoint magic bytes")
        }
        guard bytes.count >= prefixSize else { throw CheckpointError.truncated(expectedBytes: prefixSize, foundBytes: bytes.count) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let version = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard version <= formatVersion else { throw CheckpointError.unsupportedVersion(found: version, supported: formatVersion) }
        guard version >= 1 else { throw CheckpointError.malformed("format version \(version)") }
        let h = u64(16), p = u64(24), stored = u64(32), blockCount = u64(40)
        let limit = UInt64(Int.max / 2)
        guard h <= limit, p <= limit, h % UInt64(alignment) == 0, p % UInt64(alignment) == 0 else {
            throw CheckpointError.malformed("section sizes \(h) and \(p) are invalid")
        }
        let total = prefixSize + Int(h) + Int(p)
        guard bytes.count >= total else { throw CheckpointError.truncated(expectedBytes: total, foundBytes: bytes.count) }
        guard bytes.count == total else { throw CheckpointError.trailingBytes(expectedBytes: total, foundBytes: bytes.count) }
        var checksum = Checksum()
        checksum.update(UnsafeRawBufferPointer(rebasing: bytes[prefixSize..<total]))
        let computed = checksum.finalize(byteCount: h + p)
        guard computed == stored else { throw CheckpointError.checksumMismatch(stored: stored, computed: computed) }

        let header = UnsafeRawBufferPointer(rebasing: bytes[prefixSize..<(prefixSize + Int(h))])
        let payloadBytes = UnsafeRawBufferPointer(rebasing: bytes[(prefixSize + Int(h))..<total])
        guard blockCount <= h / 24 else { throw CheckpointError.malformed("\(blockCount) blocks do not fit the header") }
        var reader = NodeReader(header)
        var entries: [CheckpointPayload.Entry] = []
        entries.reserveCapacity(Int(blockCount))
        for i in 0..<Int(blockCount) {
            let type = try reader.u64(), count = try reader.u64(), offset = try reader.u64()
            let size: UInt64 = type == 1 ? 4 : 8
            guard (1...3).contains(type), count <= p / size, offset <= p, count * size <= p - offset else {
                throw CheckpointError.malformed("block \(i) (type \(type), \(count) elements at \(offset)) lies outside the payload")
            }
            entries.append(.init(type: UInt8(type), count: Int(count), offset: Int(offset)))
        }
        let root = try reader.read()
        return (version, root, CheckpointPayload(bytes: payloadBytes, entries: entries))
    }
}

/// FNV-1a 64 over little-endian 64-bit words, four interleaved lanes (see ``BinaryCheckpoint``).
struct Checksum {
    static let basis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3
    var h0 = basis, h1 = basis ^ 1, h2 = basis ^ 2, h3 = basis ^ 3

    /// Adds `bytes`, whose count must be a multiple of 32.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let chunks = bytes.count / 32
        guard chunks > 0, let base = bytes.baseAddress else { return }
        var a = h0, b = h1, c = h2, d = h3
        let p = Self.prime
        for i in 0..<chunks {
            let q = base + 32 * i
            a = (a ^ UInt64(littleEndian: q.loadUnaligned(as: UInt64.self))) &* p
            b = (b ^ UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) &* p
            c = (c ^ UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 16, as: UInt64.self))) &* p
            d = (d ^ UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 24, as: UInt64.self))) &* p
        }
        h0 = a; h1 = b; h2 = c; h3 = d
    }

    func finalize(byteCount: UInt64) -> UInt64 {
        var h = Self.basis
        for word in [h0, h1, h2, h3, byteCount] {
            for k in 0..<8 { h = (h ^ ((word >> (8 * UInt64(k))) & 0xff)) &* Self.prime }
        }
        return h
    }
}

