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

// MARK: - Decoder

/// The raw arrays of a checkpoint being decoded: offsets into the file's bytes.
struct CheckpointPayload {
    struct Entry { var type: UInt8; var count: Int; var offset: Int }
    let bytes: UnsafeRawBufferPointer
    let entries: [Entry]

    func array<T: BitwiseCopyable>(_ index: Int, type: UInt8, as: T.Type, path: [CodingKey]) throws -> [T] {
        guard index >= 0, index < entries.count else {
            throw CheckpointError.malformed("block \(index) of \(pathString(path)) does not exist")
        }
        let e = entries[index]
        guard e.type == type else {
            throw CheckpointError.malformed("block \(index) of \(pathString(path)) holds another element type (\(e.type), expected \(type))")
        }
        let size = MemoryLayout<T>.stride
        // An empty block is the shared empty array: `Array(unsafeUninitializedCapacity: 0)` stores its
        // count into the process-wide empty-array singleton, a write that races (harmlessly, but
        // ThreadSanitizer reports it) with any thread reading another empty array.
        guard e.count > 0 else { return [] }
        return [T](unsafeUninitializedCapacity: e.count) { buffer, initialized in
            if e.count > 0 {
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[e.offset..<(e.offset + e.count * size)]))
            }
            initialized = e.count
        }
    }
}

func pathString(_ path: [CodingKey]) -> String {
    path.isEmpty ? "the root" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
}

struct NodeDecoder: Decoder {
    let node: CheckpointNode
    let payload: CheckpointPayload
    var codingPath: [CodingKey]
    var version: Int = BinaryCheckpoint.formatVersion
    var userInfo: [CodingUserInfoKey: Any] { [.checkpointFormatVersion: version] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(d) = node else { throw mismatch("an object") }
        return KeyedDecodingContainer(KeyedNodeDecoder<Key>(dictionary: d, decoder: self))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        switch node {
        case let .array(a): return UnkeyedNodeDecoder(items: a, decoder: self)
        case let .block(i):
            // A numeric array decoded element by element (e.g. by a custom init(from:)).
            let items: [CheckpointNode]
            switch payload.entries.indices.contains(i) ? payload.entries[i].type : 0 {
            case 1: items = try payload.array(i, type: 1, as: Float.self, path: codingPath).map { .float($0) }
            case 2: items = try payload.array(i, type: 2, as: Double.self, path: codingPath).map { .double($0) }
            case 3: items = try payload.array(i, type: 3, as: Int.self, path: codingPath).map { .int(Int64($0)) }
            default: throw CheckpointError.malformed("block \(i) of \(pathString(codingPath)) does not exist")
            }
            return UnkeyedNodeDecoder(items: items, decoder: self)
        default: throw mismatch("an array")
        }
    }
    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleNodeDecoder(decoder: self) }

    func mismatch(_ expected: String) -> CheckpointError {
        CheckpointError.malformed("\(pathString(codingPath)): expected \(expected), found \(describe(node))")
    }

    func child(_ node: CheckpointNode, key: CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, payload: payload, codingPath: codingPath + [key], version: version)
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if case let .block(i) = node {
            if T.self == [Double].self { return unsafeBitCast(try payload.array(i, type: 2, as: Double.self, path: codingPath), to: T.self) }
            if T.self == [Float].self { return unsafeBitCast(try payload.array(i, type: 1, as: Float.self, path: codingPath), to: T.self) }
            if T.self == [Int].self { return unsafeBitCast(try payload.array(i, type: 3, as: Int.self, path: codingPath), to: T.self) }
        }
        return try T(from: self)
    }

    // Scalars.
    func bool() throws -> Bool { if case let .bool(b) = node { return b }; throw mismatch("a Bool") }
    func string() throws -> String { if case let .string(s) = node { return s }; throw mismatch("a String") }
    func double() throws -> Double {
        switch node {
        case let .double(v): return v
        case let .float(v): return Double(v)
        case let .int(v): return Double(v)
        case let .uint(v): return Double(v)
        default: throw mismatch("a number")
        }
    }
    func float() throws -> Float {
        switch node {
        case let .float(v): return v
        case let .double(v): return Float(v)
        case let .int(v): return Float(v)
        case let .uint(v): return Float(v)
        default: throw mismatch("a number")
        }
    }
    func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        switch node {
        case let .int(v): if let r = T(exactly: v) { return r }
        case let .uint(v): if let r = T(exactly: v) { return r }
        default: throw mismatch("an integer")
        }
        throw mismatch("an integer that fits \(T.self)")
    }
}

func describe(_ node: CheckpointNode) -> String {
    switch node {
    case .null: return "null"
    case .bool: return "a Bool"
    case .int, .uint: return "an integer"
    case .double, .float: return "a number"
    case .string: return "a String"
    case .array: return "an array"
    case .object: return "an object"
    case .block: return "a raw array"
    }
}

struct KeyedNodeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let dictionary: [String: CheckpointNode]
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { dictionary.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { dictionary[key.stringValue] != nil }
    private func child(_ key: Key) throws -> NodeDecoder {
        guard let n = dictionary[key.stringValue] else {
            throw CheckpointError.malformed("\(pathString(codingPath + [key])) is missing")
        }
        return decoder.child(n, key: key)
    }
    func decodeNil(forKey key: Key) throws -> Bool { try child(key).node == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).double() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).float() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> Decoder {
        decoder.child(dictionary["super"] ?? .null, key: Key(stringValue: "super") ?? AnyKey("super"))
    }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(dictionary[key.stringValue] ?? .null, key: key) }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

struct UnkeyedNodeDecoder: UnkeyedDecodingContainer {
    let items: [CheckpointNode]
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    var currentIndex = 0

    init(items: [CheckpointNode], decoder: NodeDecoder) {
        self.items = items
        self.decoder = decoder
    }

    private mutating func next() throws -> NodeDecoder {
        guard currentIndex < items.count else {
            throw CheckpointError.malformed("\(pathString(codingPath)): array ends after \(items.count) elements")
        }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: AnyKey(intValue: currentIndex)!)
    }
    mutating func decodeNil() throws -> Bool {
        guard currentIndex < items.count, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().bool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().string() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().double() }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().float() }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().integer(Int.self) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().integer(Int64.self) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().integer(UInt64.self) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

struct SingleNodeDecoder: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.node == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
    func decode(_ type: String.Type) throws -> String { try decoder.string() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.double() }
    func decode(_ type: Float.Type) throws -> Float { try decoder.float() }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
}

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
