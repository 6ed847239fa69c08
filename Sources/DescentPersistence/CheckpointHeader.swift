import Foundation

// MARK: - Header serialization (the tree as tagged little-endian bytes)

enum NodeTag: UInt8 { case null = 0, `false`, `true`, int, uint, double, float, string, array, object, block }

struct NodeWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ s: String) { let u = Array(s.utf8); u64(UInt64(u.count)); bytes.append(contentsOf: u) }

    mutating func write(_ node: CheckpointNode) {
        switch node {
        case .null: bytes.append(NodeTag.null.rawValue)
        case let .bool(b): bytes.append(b ? NodeTag.true.rawValue : NodeTag.false.rawValue)
        case let .int(v): bytes.append(NodeTag.int.rawValue); u64(UInt64(bitPattern: v))
        case let .uint(v): bytes.append(NodeTag.uint.rawValue); u64(v)
        case let .double(v): bytes.append(NodeTag.double.rawValue); u64(v.bitPattern)
        case let .float(v): bytes.append(NodeTag.float.rawValue); u32(v.bitPattern)
        case let .string(s): bytes.append(NodeTag.string.rawValue); string(s)
        case let .array(a):
            bytes.append(NodeTag.array.rawValue); u64(UInt64(a.count))
            for n in a { write(n) }
        case let .object(d):
            bytes.append(NodeTag.object.rawValue); u64(UInt64(d.count))
            for key in d.keys.sorted() { string(key); write(d[key]!) }
        case let .block(i): bytes.append(NodeTag.block.rawValue); u64(UInt64(i))
        }
    }
}

struct NodeReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - offset else { throw CheckpointError.malformed("the header ends early (at byte \(offset))") }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }
    mutating func u8() throws -> UInt8 { try take(1)[0] }
    mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
    mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    mutating func count() throws -> Int {
        let v = try u64()
        guard v <= UInt64(bytes.count - offset) else { throw CheckpointError.malformed("a length of \(v) exceeds the header (at byte \(offset))") }
        return Int(v)
    }
    mutating func string() throws -> String {
        let n = try count()
        guard let s = String(validating: try take(n), as: UTF8.self) else { throw CheckpointError.malformed("a string is not UTF-8 (at byte \(offset))") }
        return s
    }

    mutating func read() throws -> CheckpointNode {
        depth += 1
        defer { depth -= 1 }
        guard depth < 512 else { throw CheckpointError.malformed("the header nests deeper than 512 levels") }
        let raw = try u8()
        guard let tag = NodeTag(rawValue: raw) else { throw CheckpointError.malformed("unknown tag \(raw) at byte \(offset - 1)") }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .int: return .int(Int64(bitPattern: try u64()))
        case .uint: return .uint(try u64())
        case .double: return .double(Double(bitPattern: try u64()))
        case .float: return .float(Float(bitPattern: try u32()))
        case .string: return .string(try string())
        case .array:
            let n = try count()
            var a: [CheckpointNode] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try read()) }
            return .array(a)
        case .object:
            let n = try count()
            var d: [String: CheckpointNode] = [:]
            d.reserveCapacity(n)
            for _ in 0..<n { let k = try string(); d[k] = try read() }
            return .object(d)
        case .block:
            let i = try u64()
            guard i < UInt64(Int32.max) else { throw CheckpointError.malformed("block index \(i) out of range") }
            return .block(Int(i))
        }
    }
}
