import CZlib
import Foundation

/// Reads IDX files of unsigned bytes (LeCun's MNIST format, also Fashion-MNIST's), plain or
/// gzip-compressed:
///
///     magic   0x00 0x00 0x08 D          (0x08: unsigned bytes; D: the number of dimensions)
///     sizes   D big-endian UInt32       (n₁, …, n_D)
///     data    n₁·…·n_D bytes, row-major
///
/// Only regular files are read, of at most ``maximumFileBytes`` on disk and ``maximumDataBytes``
/// of data read. A bad magic number, other dimensions than expected or a truncated file is one
/// ``DataError/unreadable(path:reason:)`` naming the file and what is wrong.
public enum IDXReader {
    /// The largest file read (1 GiB on disk).
    public static var maximumFileBytes: Int { 1 << 30 }
    /// The most data bytes read from one file (2 GiB after decompression).
    public static var maximumDataBytes: Int { 1 << 31 }

    /// The sizes of an IDX file and the bytes of its first items.
    public struct Contents: Sendable, Equatable {
        /// n₁, …, n_D as the header states them.
        public var sizes: [Int]
        /// The first ``items`` items' bytes (each n₂·…·n_D bytes), row-major.
        public var bytes: [UInt8]
        /// How many items along the first dimension `bytes` holds.
        public var items: Int
    }

    /// Reads `path`, expecting unsigned bytes in `expectedSizes.count` dimensions whose sizes
    /// equal `expectedSizes` where given (nil: any), and the first `maximumItems` items (nil: all).
    /// - Throws: ``DataError/fileNotFound(path:)``, ``DataError/isDirectory(path:)``, or
    ///   ``DataError/unreadable(path:reason:)`` for anything else that is wrong.
    /// - Complexity: O(bytes read); nothing beyond the items requested is decompressed.
    public static func read(_ path: String, expectedSizes: [Int?], maximumItems: Int? = nil) throws -> Contents {
        func failure(_ reason: String) -> DataError { .unreadable(path: path, reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { throw DataError.fileNotFound(path: path) }
            throw failure(String(cString: strerror(code)))
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw DataError.isDirectory(path: path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw failure("not a regular file") }
        guard Int(info.st_size) <= maximumFileBytes else {
            throw failure("the file has \(info.st_size) bytes, more than the limit of \(maximumFileBytes)")
        }
        guard let file = gzopen(path, "rb") else { throw failure(String(cString: strerror(errno))) }
        defer { gzclose(file) }

        /// Reads exactly `count` bytes into `buffer`, or throws naming `what` was cut short.
        func readExactly(_ buffer: UnsafeMutableRawBufferPointer, _ what: String) throws {
            var done = 0
            while done < buffer.count {
                let chunk = UInt32(Swift.min(buffer.count - done, 1 << 30))
                let n = gzread(file, buffer.baseAddress! + done, chunk)
                if n < 0 {
                    var code: Int32 = 0
                    throw failure("corrupt data: \(String(cString: gzerror(file, &code)))")
                }
                if n == 0 { throw failure("truncated: \(what) has \(done) of \(buffer.count) bytes") }
                done += Int(n)
            }
        }

        let dimensions = expectedSizes.count
        var magic = [UInt8](repeating: 0, count: 4)
        try magic.withUnsafeMutableBytes { try readExactly($0, "the magic number") }
        let expectedMagic = 0x0800 | UInt32(dimensions)
        let found = magic.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard found == expectedMagic else {
            throw failure("bad magic number 0x\(hex(found)), expected 0x\(hex(expectedMagic)) (unsigned bytes in \(dimensions) dimensions)")
        }
        var header = [UInt8](repeating: 0, count: 4 * dimensions)
        try header.withUnsafeMutableBytes { try readExactly($0, "the header") }
        let sizes = (0..<dimensions).map { d in (0..<4).reduce(0) { $0 << 8 | Int(header[4 * d + $1]) } }
        let mismatch = zip(sizes, expectedSizes).contains { size, expected in expected.map { $0 != size } ?? false }
        guard !mismatch else {
            let want = expectedSizes.map { $0.map(String.init) ?? "N" }.joined(separator: "×")
            throw failure("wrong dimensions \(sizes.map(String.init).joined(separator: "×")), expected \(want)")
        }
        let items = Swift.min(sizes.first ?? 0, maximumItems ?? Int.max)
        var itemBytes = 1
        for size in sizes.dropFirst() {
            let (product, overflow) = itemBytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maximumDataBytes else { throw failure("an item of \(sizes.dropFirst()) bytes exceeds the limit") }
            itemBytes = product
        }
        let (total, overflow) = items.multipliedReportingOverflow(by: itemBytes)
        guard !overflow, total <= maximumDataBytes else {
            throw failure("\(items) items of \(itemBytes) bytes exceed the limit of \(maximumDataBytes) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: total)
        try bytes.withUnsafeMutableBytes { try readExactly($0, "the data of \(items) items") }
        return Contents(sizes: sizes, bytes: bytes, items: items)
    }

    /// `value` as 8 hexadecimal digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: Swift.max(0, 8 - digits.count)) + digits
    }
}
