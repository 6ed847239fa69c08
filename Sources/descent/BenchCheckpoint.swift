import Descent
import DescentProblems
import Foundation

/// `descent bench --kind checkpoint`: writes and reads an Adam training state (θ, m, G) of n
/// parameters in the binary format and, up to `jsonLimit` parameters, in JSON, and prints the
/// sizes, the seconds and the throughput (file bytes per second). The write is the library's
/// atomic write (temporary file, fsync, rename); the read maps the file (usually still in the
/// page cache) and copies every array once, after a checksum pass.
/// A `raw` row first writes (plain writes, fsync) and reads the same arrays with no header or
/// checksum: the disk (page-cache) reference measured in the same run.
enum BenchCheckpoint {
    struct Row: Encodable {
        var format: String, scalar: String, n: Int, bytes: Int, rawBytes: Int
        var writeSeconds: Double, readSeconds: Double
        var writeGBps: Double { Double(bytes) / writeSeconds / 1e9 }
        var readGBps: Double { Double(bytes) / readSeconds / 1e9 }
        enum CodingKeys: String, CodingKey { case format, scalar, n, bytes, rawBytes, writeSeconds, readSeconds, writeGBps, readGBps }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(format, forKey: .format)
            try c.encode(scalar, forKey: .scalar); try c.encode(n, forKey: .n); try c.encode(bytes, forKey: .bytes)
            try c.encode(rawBytes, forKey: .rawBytes); try c.encode(writeSeconds, forKey: .writeSeconds)
            try c.encode(readSeconds, forKey: .readSeconds); try c.encode(writeGBps, forKey: .writeGBps); try c.encode(readGBps, forKey: .readGBps)
        }
    }

    /// Left-aligned in |width| characters when width < 0, right-aligned otherwise.
    static func pad(_ s: String, _ width: Int) -> String {
        let fill = String(repeating: " ", count: Swift.max(0, abs(width) - s.count))
        return width < 0 ? s + fill : fill + s
    }

    /// Seven n-arrays at most at once (θ, m, G, the gradient, the restored copies): refused
    /// before allocating when the process cannot hold them.
    static func requireMemory<S: BLASScalar>(_: S.Type, n: Int) throws {
        try MemoryBudget.require(MemoryBudget.product(n, 7, MemoryLayout<S>.stride),
                                 for: "bench --kind checkpoint --sizes \(n) (state, its copy and the file)")
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// The disk reference in the same run: θ, m, G written with plain `write`s of their bytes
    /// (no header, no checksum) and read back into new arrays.
    static func measureRaw<S: BLASScalar>(_: S.Type, n: Int, directory: URL) throws -> Row {
        try requireMemory(S.self, n: n)
        let arrays = (0..<3).map { k in [S](repeating: S(k) + 0.5, count: n) }
        let url = directory.appendingPathComponent("descent-bench-\(UUID().uuidString).raw")
        defer { try? FileManager.default.removeItem(at: url) }
        let t0 = now()
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        for a in arrays { a.withUnsafeBytes { handle.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0.baseAddress!), count: $0.count, deallocator: .none)) } }
        try handle.synchronize()
        try handle.close()
        let t1 = now()
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        let back: [[S]] = (0..<3).map { k in
            [S](unsafeUninitializedCapacity: n) { buffer, count in
                data.withUnsafeBytes { raw in
                    let bytes = n * MemoryLayout<S>.stride
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(k * bytes)..<((k + 1) * bytes)]))
                }
                count = n
            }
        }
        let t2 = now()
        guard back[2][n - 1] == arrays[2][n - 1] else { throw CLIError("bench: raw round trip failed") }
        let bytes = 3 * n * MemoryLayout<S>.stride
        return Row(format: "raw", scalar: S.self == Double.self ? "double" : "float", n: n, bytes: bytes, rawBytes: bytes,
                   writeSeconds: t1 - t0, readSeconds: t2 - t1)
    }

    static func measure<S: BLASScalar>(_: S.Type, n: Int, format: CheckpointFormat, directory: URL) throws -> Row {
        try requireMemory(S.self, n: n)
        var θ = [S](repeating: 0.5, count: n)
        var adam = try Adam<S>(learningRate: 1e-3)
        let g = [S](repeating: 0.25, count: n)
        try adam.step(&θ, gradient: g)
        let state = try TrainingState(parameters: θ, optimizer: adam, options: TrainingOptions(maxSteps: 1))
        let url = directory.appendingPathComponent("descent-bench-\(UUID().uuidString).ckpt")
        defer { try? FileManager.default.removeItem(at: url) }
        let t0 = now()
        try state.write(to: url, format: format)
        let t1 = now()
        let restored = try TrainingState<Adam<S>>(contentsOf: url)
        let t2 = now()
        guard restored.parameters.count == n, restored.optimizer.stateCount == n else { throw CLIError("bench: the checkpoint did not round-trip") }
        let bytes = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return Row(format: format.rawValue, scalar: S.self == Double.self ? "double" : "float", n: n, bytes: bytes,
                   rawBytes: 3 * n * MemoryLayout<S>.stride, writeSeconds: t1 - t0, readSeconds: t2 - t1)
    }

    /// Runs every (size, precision) in binary, and in JSON up to `jsonLimit` parameters.
    static func run(sizes: [Int], precisions: [String], jsonLimit: Int, json: Bool, directory: URL) throws {
        for n in sizes { try precisions.contains("double") ? requireMemory(Double.self, n: n) : requireMemory(Float.self, n: n) }
        if !json {
            print("checkpoint write/read (Adam training state: θ, m, G; json/binary write = temporary file, fsync, rename; read = map + checksum + copy; raw = plain writes + fsync and reads of the same arrays)")
            print(["format", "scalar", "n", "bytes", "size/raw", "write s", "read s", "write GB/s", "read GB/s"]
                .enumerated().map { pad($1, [-7, -7, 12, 14, 9, 9, 9, 10, 10][$0]) }.joined(separator: " "))
        }
        for n in sizes {
            for p in precisions {
                for format in [CheckpointFormat?.none, .json, .binary] where format != .json || n <= jsonLimit {
                    let row: Row
                    if let format {
                        row = p == "float" ? try measure(Float.self, n: n, format: format, directory: directory)
                                           : try measure(Double.self, n: n, format: format, directory: directory)
                    } else {
                        row = p == "float" ? try measureRaw(Float.self, n: n, directory: directory) : try measureRaw(Double.self, n: n, directory: directory)
                    }
                    if json {
                        let data = try JSONEncoder().encode(row)
                        print(String(decoding: data, as: UTF8.self))
                    } else {
                        let cells = [row.format, row.scalar, "\(row.n)", "\(row.bytes)",
                                     String(format: "%.4f", Double(row.bytes) / Double(row.rawBytes)), String(format: "%.3f", row.writeSeconds),
                                     String(format: "%.3f", row.readSeconds), String(format: "%.2f", row.writeGBps), String(format: "%.2f", row.readGBps)]
                        print(cells.enumerated().map { pad($1, [-7, -7, 12, 14, 9, 9, 9, 10, 10][$0]) }.joined(separator: " "))
                    }
                }
            }
        }
    }
}
