import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// An IDX file of unsigned bytes: magic 0x0000 08 D, D big-endian sizes, then `data`.
private func idx(sizes: [Int], data: [UInt8], magic: [UInt8]? = nil) -> [UInt8] {
    var bytes = magic ?? [0, 0, 8, UInt8(sizes.count)]
    for s in sizes { bytes += [UInt8(s >> 24 & 255), UInt8(s >> 16 & 255), UInt8(s >> 8 & 255), UInt8(s & 255)] }
    return bytes + data
}

/// A fresh temporary directory for one test.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-idx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes Fashion-MNIST-named files of `count` 28 × 28 images (pixel = (i + j) mod 256) and
/// labels i mod 10 into `directory`, uncompressed.
private func writeFashionFiles(_ directory: URL, count: Int, labelCount: Int? = nil, imageBytes: [UInt8]? = nil) throws -> [UInt8] {
    let pixels = imageBytes ?? (0..<(count * 784)).map { UInt8($0 % 251) }
    try Data(idx(sizes: [count, 28, 28], data: pixels)).write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
    let labels = (0..<(labelCount ?? count)).map { UInt8($0 % 10) }
    try Data(idx(sizes: [labelCount ?? count], data: labels)).write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
    return pixels
}

@Suite("IDX files and Fashion-MNIST")
struct IDXReaderTests {
    @Test("reads the sizes and the first items of a small file")
    func readsSmallFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("small").path
        let data: [UInt8] = (0..<24).map { UInt8($0 * 10) }
        try Data(idx(sizes: [4, 2, 3], data: data)).write(to: URL(fileURLWithPath: path))
        let all = try IDXReader.read(path, expectedSizes: [nil, 2, 3])
        #expect(all.sizes == [4, 2, 3] && all.items == 4 && all.bytes == data)
        let first = try IDXReader.read(path, expectedSizes: [nil, 2, 3], maximumItems: 2)
        #expect(first.items == 2 && first.bytes == Array(data.prefix(12)))
    }

    @Test("a bad magic number, wrong dimensions or a truncated file is one clear error naming the file")
    func refusesMalformedFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let magic = try write("magic", idx(sizes: [1, 2, 3], data: Array(repeating: 0, count: 6), magic: [0, 0, 0x0D, 3]))
        #expect(throws: DataError.unreadable(path: magic, reason: "bad magic number 0x00000d03, expected 0x00000803 (unsigned bytes in 3 dimensions)")) {
            try IDXReader.read(magic, expectedSizes: [nil, 2, 3])
        }
        let labels = try write("labels", idx(sizes: [6], data: Array(repeating: 0, count: 6)))
        #expect(throws: DataError.unreadable(path: labels, reason: "bad magic number 0x00000801, expected 0x00000803 (unsigned bytes in 3 dimensions)")) {
            try IDXReader.read(labels, expectedSizes: [nil, 28, 28])
        }
        let dims = try write("dims", idx(sizes: [1, 2, 3], data: Array(repeating: 0, count: 6)))
        #expect(throws: DataError.unreadable(path: dims, reason: "wrong dimensions 1×2×3, expected N×28×28")) {
            try IDXReader.read(dims, expectedSizes: [nil, 28, 28])
        }
        let short = try write("short", idx(sizes: [2, 2, 3], data: Array(repeating: 7, count: 9)))
        #expect(throws: DataError.unreadable(path: short, reason: "truncated: the data of 2 items has 9 of 12 bytes")) {
            try IDXReader.read(short, expectedSizes: [nil, 2, 3])
        }
        let header = try write("header", [0, 0, 8, 3, 0, 0])
        #expect(throws: DataError.unreadable(path: header, reason: "truncated: the header has 2 of 12 bytes")) {
            try IDXReader.read(header, expectedSizes: [nil, 2, 3])
        }
        let empty = try write("empty", [])
        #expect(throws: DataError.unreadable(path: empty, reason: "truncated: the magic number has 0 of 4 bytes")) {
            try IDXReader.read(empty, expectedSizes: [nil])
        }
        #expect(throws: DataError.isDirectory(path: dir.path)) { try IDXReader.read(dir.path, expectedSizes: [nil]) }
        let missing = dir.appendingPathComponent("missing").path
        #expect(throws: DataError.fileNotFound(path: missing)) { try IDXReader.read(missing, expectedSizes: [nil]) }
        #expect(throws: DataError.unreadable(path: "/dev/null", reason: "not a regular file")) {
            try IDXReader.read("/dev/null", expectedSizes: [nil])
        }
    }

    @Test("Fashion-MNIST from small files: pixels / 255, labels as targets, the first N", arguments: Precision.allCases)
    func fashionFromSmallFiles(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let pixels = try writeFashionFiles(dir, count: 5)
            let data = try FashionMNIST.load(directory: dir.path, samples: 3, as: S.self)
            #expect(data.sampleCount == 3 && data.featureCount == 784)
            #expect(data.targets == [0, 1, 2].map { S($0) })
            let expected = pixels.prefix(3 * 784).map { S(Double($0) / 255) }
            #expect(data.features.elements.elementsEqual(expected), "pixels are not byte / 255")
            #expect(try FashionMNIST.load(directory: dir.path, as: S.self).sampleCount == 5)
            #expect(throws: DataError.shapeMismatch("fashion-mnist: 6 samples asked for, \(dir.path)/train-images-idx3-ubyte has 5")) {
                try FashionMNIST.load(directory: dir.path, samples: 6, as: S.self)
            }
            #expect(throws: DataError.shapeMismatch("fashion-mnist: samples = 0 must be > 0")) {
                try FashionMNIST.load(directory: dir.path, samples: 0, as: S.self)
            }
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("Fashion-MNIST refuses files that disagree on the count")
    func fashionCountMismatch() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try writeFashionFiles(dir, count: 3, labelCount: 4)
        let images = dir.appendingPathComponent("train-images-idx3-ubyte").path, labels = dir.appendingPathComponent("train-labels-idx1-ubyte").path
        #expect(throws: DataError.shapeMismatch("fashion-mnist: \(images) has 3 images but \(labels) 4 labels")) {
            try FashionMNIST.load(directory: dir.path, as: Double.self)
        }
    }

    @Test("the installed Fashion-MNIST (Debian's dataset-fashion-mnist), gzip-compressed")
    func installedFashionMNIST() throws {
        guard FashionMNIST.isInstalled() else {
            // Skipped, not failed: the package is a system dependency (scripts/install-deps).
            print("skipped: dataset-fashion-mnist is not installed in \(FashionMNIST.standardDirectory)")
            return
        }
        let train = try FashionMNIST.load(samples: 1000, as: Float.self)
        #expect(train.sampleCount == 1000 && train.featureCount == 784)
        #expect(train.features.elements.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(train.features.elements.contains(1) && train.features.elements.contains(0))
        #expect(Set(train.targets) == Set((0..<10).map { Float($0) }))
        let full = try IDXReader.read(FashionMNIST.path(split: .test, labels: true), expectedSizes: [nil])
        #expect(full.sizes == [10_000] && full.items == 10_000)
        // A cut-short copy of the compressed file is refused as truncated or corrupt, naming it.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: FashionMNIST.path(split: .test, labels: false)))
        let cut = dir.appendingPathComponent("t10k-images-idx3-ubyte.gz")
        try whole.prefix(whole.count / 2).write(to: cut)
        do {
            _ = try IDXReader.read(cut.path, expectedSizes: [nil, 28, 28])
            Issue.record("a truncated file was read")
        } catch let DataError.unreadable(path, reason) {
            #expect(path == cut.path && (reason.hasPrefix("truncated") || reason.hasPrefix("corrupt")), "\(reason)")
        }
    }
}
