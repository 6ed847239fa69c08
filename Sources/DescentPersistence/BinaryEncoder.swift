import Foundation

// MARK: - The value tree of the binary checkpoint format

/// One node of a checkpoint's header: every `Codable` value becomes a tree of these, except
/// arrays of `Float`, `Double` and `Int`, which become ``block(_:)`` references to raw
/// little-endian arrays in the payload.
@usableFromInline
enum CheckpointNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case array([CheckpointNode])
    case object([String: CheckpointNode])
    /// Index into the payload's block table.
    case block(Int)
}

/// A raw array of the payload.
@usableFromInline
enum CheckpointBlock: Sendable {
    case float([Float])
    case double([Double])
    case int([Int])

    @usableFromInline var elementType: UInt8 {
        switch self { case .float: return 1; case .double: return 2; case .int: return 3 }
    }
    @usableFromInline var count: Int {
        switch self { case let .float(a): return a.count; case let .double(a): return a.count; case let .int(a): return a.count }
    }
    @usableFromInline var byteCount: Int {
        switch self { case let .float(a): return a.count * 4; case let .double(a): return a.count * 8; case let .int(a): return a.count * 8 }
    }
    /// Calls `body` with the block's raw bytes (no copy).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case let .float(a): return try a.withUnsafeBytes(body)
        case let .double(a): return try a.withUnsafeBytes(body)
        case let .int(a): return try a.withUnsafeBytes(body)
        }
    }
}

// MARK: - Encoder

/// Encodes any `Encodable` value into a ``CheckpointNode`` tree and a list of raw blocks.
final class CheckpointTreeEncoder {
    var blocks: [CheckpointBlock] = []

    func encode<T: Encodable>(_ value: T) throws -> CheckpointNode {
        if let block = Self.block(value) {
            blocks.append(block)
            return .block(blocks.count - 1)
        }
        let encoder = NodeEncoder(owner: self, codingPath: [])
        try value.encode(to: encoder)
        return encoder.storage.node
    }

    /// `[Float]`, `[Double]` and `[Int]` go to the payload (and `Matrix` storage, through them).
    static func block<T: Encodable>(_ value: T) -> CheckpointBlock? {
        // Exact type checks: `as?` would also turn an empty [Float] into a [Double].
        if T.self == [Double].self { return .double(unsafeBitCast(value, to: [Double].self)) }
        if T.self == [Float].self { return .float(unsafeBitCast(value, to: [Float].self)) }
        if T.self == [Int].self { return .int(unsafeBitCast(value, to: [Int].self)) }
        return nil
    }
}

/// Mutable storage of a node under construction (containers share it by reference).
final class NodeBox {
    enum Kind { case unset, single(CheckpointNode), keyed([String: NodeBox]), unkeyed([NodeBox]) }
    var kind: Kind = .unset
    var node: CheckpointNode {
        switch kind {
        case .unset: return .object([:])
        case let .single(n): return n
        case let .keyed(d): return .object(d.mapValues { $0.node })
        case let .unkeyed(a): return .array(a.map { $0.node })
        }
    }
}

struct NodeEncoder: Encoder {
    let owner: CheckpointTreeEncoder
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let storage: NodeBox

    init(owner: CheckpointTreeEncoder, codingPath: [CodingKey], storage: NodeBox = NodeBox()) {
        self.owner = owner
        self.codingPath = codingPath
        self.storage = storage
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = storage.kind {} else { storage.kind = .keyed([:]) }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(encoder: self))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .unkeyed = storage.kind {} else { storage.kind = .unkeyed([]) }
        return UnkeyedNodeEncoder(encoder: self)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleNodeEncoder(encoder: self) }

    /// The node of `value` (a block for numeric arrays).
    func node<T: Encodable>(_ value: T, key: CodingKey?) throws -> NodeBox {
        let box = NodeBox()
        if let block = CheckpointTreeEncoder.block(value) {
            owner.blocks.append(block)
            box.kind = .single(.block(owner.blocks.count - 1))
            return box
        }
        let child = NodeEncoder(owner: owner, codingPath: codingPath + (key.map { [$0] } ?? []), storage: box)
        try value.encode(to: child)
        return box
    }
}

struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: NodeEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    private func set(_ key: Key, _ box: NodeBox) {
        guard case var .keyed(d) = encoder.storage.kind else { return }
        encoder.storage.kind = .unset  // drop the reference so the dictionary is uniquely owned
        d[key.stringValue] = box
        encoder.storage.kind = .keyed(d)
    }
    private func set(_ key: Key, _ node: CheckpointNode) { let b = NodeBox(); b.kind = .single(node); set(key, b) }

    mutating func encodeNil(forKey key: Key) throws { set(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(key, .double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(key, .float(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, .uint(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { set(key, try encoder.node(value, key: key)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let box = NodeBox()
        set(key, box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath + [key], storage: box).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let box = NodeBox()
        set(key, box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath + [key], storage: box).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        let box = NodeBox()
        set(key, box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath + [key], storage: box)
    }
}

struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [CodingKey] { encoder.codingPath }
    var count: Int {
        if case let .unkeyed(a) = encoder.storage.kind { return a.count }
        return 0
    }

    private func append(_ box: NodeBox) {
        guard case var .unkeyed(a) = encoder.storage.kind else { return }
        encoder.storage.kind = .unset
        a.append(box)
        encoder.storage.kind = .unkeyed(a)
    }
    private func append(_ node: CheckpointNode) { let b = NodeBox(); b.kind = .single(node); append(b) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.float(value)) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt64) throws { append(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try encoder.node(value, key: nil)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let box = NodeBox()
        append(box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath, storage: box).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let box = NodeBox()
        append(box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath, storage: box).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let box = NodeBox()
        append(box)
        return NodeEncoder(owner: encoder.owner, codingPath: codingPath, storage: box)
    }
}

struct SingleNodeEncoder: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [CodingKey] { encoder.codingPath }
    private func set(_ node: CheckpointNode) { encoder.storage.kind = .single(node) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.float(value)) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let box = try encoder.node(value, key: nil)
        encoder.storage.kind = box.kind
    }
}
