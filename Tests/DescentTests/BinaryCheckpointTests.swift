import Descent
import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// The binary checkpoint format: exact round trips for every optimizer (the natural gradient's
/// matrices included), the size bound, old JSON checkpoints, and one clear error for a
/// truncated, corrupted, newer-version or foreign file.
@Suite("Binary checkpoints")
struct BinaryCheckpointTests {
    typealias Support = OptimizerTestSupport
    typealias Precision = OptimizerTestSupport.Precision

    static func stepped<O: Optimizer>(_ o: O, count: Int = 37, steps: Int = 3) throws -> O {
        var o = o
        var rng = SplitMix64(seed: 5)
        var x: [O.Scalar] = rng.vector(count)
        for _ in 0..<steps { try o.step(&x, gradient: rng.vector(count)) }
        return o
    }

    /// The natural gradient on the Woodbury path (a Matrix in its state) and with an averaged
    /// dense curvature.
    static func naturals<S: BLASScalar>(_: S.Type, count: Int = 37) throws -> [NaturalGradient<S>] {
        var rng = SplitMix64(seed: 9)
        var result: [NaturalGradient<S>] = []
        for decay in [nil, S(0.9)] {
            var o = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1e-2), curvatureDecay: decay)
            var x: [S] = rng.vector(count)
            for _ in 0..<3 {
                let rows = decay == nil ? 5 : 2 * count
                try o.setCurvature(.empiricalFisher(scores: try Matrix(rows: rows, columns: count, elements: rng.vector(rows * count))))
                try o.step(&x, gradient: rng.vector(count))
                try o.reportLoss(before: 1, after: 0.9)
            }
            result.append(o)
        }
        return result
    }

    /// Binary → optimizer → JSON equals the JSON written directly: every field survives exactly.
    @Test(arguments: Precision.allCases) func binaryRoundTripIsExactForEveryOptimizer(_ p: Precision) throws {
        func check<O: Optimizer>(_ o: O) throws {
            let binary = try o.checkpoint()
            #expect(BinaryCheckpoint.isBinary(binary))
            let restored = try O(checkpoint: binary)
            #expect(try restored.checkpoint(format: .json) == o.checkpoint(format: .json), "\(O.kind)")
            #expect(try restored.checkpoint() == binary, "\(O.kind)")
        }
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Support.everyOptimizer(S.self) { try check(Self.stepped(o)) }
            for o in try Self.naturals(S.self) { try check(o) }
        }
        try run(p.scalarType)
    }

    /// File size: the raw state plus at most 64 bytes of padding per array plus a small header.
    @Test(arguments: Precision.allCases) func sizeIsTheRawStatePlusAFewHundredBytes(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let n = 100_003
            let adam = try Self.stepped(Adam<S>(amsgrad: true), count: n, steps: 1)
            let raw = 3 * n * MemoryLayout<S>.stride
            let size = try adam.checkpoint().count
            #expect(size >= raw && size <= raw + 1024, "\(size) bytes for \(raw) bytes of state")
            #expect(Double(size) <= Double(raw) * 1.01 + 4096)
            // JSON, for comparison, is many times larger.
            #expect(try adam.checkpoint(format: .json).count > 2 * size)
        }
        try run(p.scalarType)
    }

    /// JSON checkpoints written before the format was versioned (no `version` field) still load.
    @Test(arguments: Precision.allCases) func oldJSONCheckpointsStillLoad(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let adam = try Self.stepped(Adam<S>(learningRate: 0.01))
            var object = try JSONSerialization.jsonObject(with: adam.checkpoint(format: .json)) as! [String: Any]
            #expect(object["version"] as? Int == BinaryCheckpoint.formatVersion)
            object["version"] = nil
            let old = try JSONSerialization.data(withJSONObject: object)
            let restored = try Adam<S>(checkpoint: old)
            #expect(try restored.checkpoint() == adam.checkpoint())
            // A JSON checkpoint from a newer version is refused with the version named.
            object["version"] = BinaryCheckpoint.formatVersion + 1
            #expect(throws: CheckpointError.unsupportedVersion(found: BinaryCheckpoint.formatVersion + 1, supported: BinaryCheckpoint.formatVersion)) {
                _ = try Adam<S>(checkpoint: JSONSerialization.data(withJSONObject: object))
            }
        }
        try run(p.scalarType)
    }

    static func expect(_ error: CheckpointError, mentioning text: String, _ body: () throws -> Void,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected \(error)", sourceLocation: sourceLocation)
        } catch let e as CheckpointError {
            #expect(e == error, sourceLocation: sourceLocation)
            #expect(e.localizedDescription.contains(text), "\(e.localizedDescription)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Precision.allCases) func damagedFilesAreRefusedWithOneClearError(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = try Self.stepped(Adam<S>(amsgrad: true)).checkpoint()
            // Truncated anywhere: the byte counts are named.
            for cut in [data.count - 1, data.count / 2, 70] {
                Self.expect(.truncated(expectedBytes: data.count, foundBytes: cut), mentioning: "truncated") {
                    _ = try Adam<S>(checkpoint: data.prefix(cut))
                }
            }
            Self.expect(.truncated(expectedBytes: 64, foundBytes: 20), mentioning: "truncated") { _ = try Adam<S>(checkpoint: data.prefix(20)) }
            // One flipped bit in the payload or the header: checksum.
            for index in [data.count - 70, 100] {
                var bad = data
                bad[index] ^= 0x10
                do {
                    _ = try Adam<S>(checkpoint: bad)
                    Issue.record("a flipped bit at \(index) was not detected")
                } catch let CheckpointError.checksumMismatch(stored, computed) {
                    #expect(stored != computed)
                }
            }
            // Extra bytes.
            Self.expect(.trailingBytes(expectedBytes: data.count, foundBytes: data.count + 1), mentioning: "announces") {
                _ = try Adam<S>(checkpoint: data + [0])
            }
            // A newer format version.
            var future = data
            future[8] = UInt8(BinaryCheckpoint.formatVersion + 1)
            Self.expect(.unsupportedVersion(found: BinaryCheckpoint.formatVersion + 1, supported: BinaryCheckpoint.formatVersion),
                        mentioning: "newer") { _ = try Adam<S>(checkpoint: future) }
            // Not a checkpoint at all; an empty file.
            Self.expect(.notACheckpoint("it is neither the binary format nor JSON"), mentioning: "not a Descent checkpoint") {
                _ = try Adam<S>(checkpoint: Data("PK\u{3}\u{4} zip file".utf8))
            }
            Self.expect(.notACheckpoint("the file is empty"), mentioning: "empty") { _ = try Adam<S>(checkpoint: Data()) }
            // Another optimizer: the kinds are named.
            #expect(throws: OptimizerError.checkpointMismatch(expected: "rmsprop<\(S.self)>", found: "adam<\(S.self)>")) {
                _ = try RMSProp<S>(checkpoint: data)
            }
        }
        try run(p.scalarType)
    }

    /// Writing goes through a temporary file: a failed write leaves the old file as it was.
    @Test func failedWriteLeavesTheOldFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("descent-binary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("adam.ckpt")
        let adam = try Self.stepped(Adam<Double>())
        try adam.writeCheckpoint(to: url)
        let before = try Data(contentsOf: url)
        #expect(try Adam<Double>(contentsOf: url).checkpoint() == before)
        // A value whose encoding fails half-way.
        struct Failing: Encodable {
            func encode(to encoder: Encoder) throws { throw CheckpointError.malformed("refused") }
        }
        #expect(throws: CheckpointError.self) { try BinaryCheckpoint.write(Failing(), to: url) }
        #expect(try Data(contentsOf: url) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["adam.ckpt"])
        // JSON still available through the same API, and read back by format detection.
        try adam.writeCheckpoint(to: url, format: .json)
        #expect(try Data(contentsOf: url).first == UInt8(ascii: "{"))
        #expect(try Adam<Double>(contentsOf: url).checkpoint() == before)
    }

    /// Any Codable value: nested optionals, enums with payloads, integer arrays, strings.
    @Test func anyCodableValueRoundTrips() throws {
        struct Inner: Codable, Equatable { var name: String; var values: [Float]; var flag: Bool? }
        enum Choice: Codable, Equatable { case a(Int), b(x: Double, y: [Double]) }
        struct Outer: Codable, Equatable {
            var inner: [Inner]; var choice: Choice; var ids: [Int]; var seed: UInt64; var nothing: Double?
            var nested: [[Double]]; var matrix: Matrix<Double>; var special: [Double]
        }
        let value = Outer(inner: [Inner(name: "ä/€", values: [1, -0.0, .nan], flag: nil), Inner(name: "", values: [], flag: true)],
                          choice: .b(x: .infinity, y: [1e-308, .leastNonzeroMagnitude]), ids: [3, -1, Int.max], seed: UInt64.max, nothing: nil,
                          nested: [[1, 2], [], [3]], matrix: try Matrix(rows: 2, columns: 2, elements: [1, 2, 3, 4]),
                          special: [.greatestFiniteMagnitude, -.infinity])
        let data = try BinaryCheckpoint.encode(value)
        let back = try BinaryCheckpoint.decode(Outer.self, from: data)
        #expect(back.inner[0].values[0] == 1 && back.inner[0].values[1].sign == .minus && back.inner[0].values[2].isNaN)
        var a = value, b = back
        a.inner[0].values[2] = 0; b.inner[0].values[2] = 0
        #expect(a == b)
        #expect(try BinaryCheckpoint.encode(back) == data)
        // Decoding as another type names the missing field.
        struct Other: Codable { var missing: Int }
        #expect(throws: CheckpointError.malformed("missing is missing")) { _ = try BinaryCheckpoint.decode(Other.self, from: data) }
    }
}
