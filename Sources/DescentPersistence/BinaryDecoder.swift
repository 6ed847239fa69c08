import Foundation

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
