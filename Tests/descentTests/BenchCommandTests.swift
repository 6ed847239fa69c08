import Foundation
import Testing

/// Runs the built `descent bench` on tiny sizes and checks its JSON lines. Times nothing:
/// the values are only checked to be present, finite and positive.
@Suite struct BenchCommandTests {
    /// The `descent` executable in the build products directory (next to the test bundle).
    static func executable() throws -> URL {
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("descent"))
            dir = dir.deletingLastPathComponent()
        }
        for bundle in Bundle.allBundles {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("descent"))
        }
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) && !$0.hasDirectoryPath }
        return try #require(found, "descent executable not found near \(argv0.path)")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func firstOrderJSONLines() throws {
        let (status, out) = try Self.run(["bench", "--optimizer", "sgd,adam", "--sizes", "1000,3000", "--precision", "both",
                                          "--json", "--seconds", "0.001", "--rounds", "1"])
        #expect(status == 0)
        let rows = try Self.objects(out)
        #expect(rows.count == 8)  // 2 optimizers × 2 sizes × 2 precisions
        for row in rows {
            #expect(row["kind"] as? String == "first-order")
            #expect(["sgd", "adam"].contains(row["optimizer"] as? String))
            #expect(["float", "double"].contains(row["precision"] as? String))
            #expect([1000, 3000].contains(row["n"] as? Int))
            for key in ["ns_per_element", "gbps", "limit_gbps", "checked_ns_per_element"] {
                let value = try #require(row[key] as? Double, "\(key) missing in \(row)")
                #expect(value > 0 && value.isFinite, "\(key) = \(value)")
            }
        }
    }

    @Test func exactlyOneRowForOneCase() throws {
        let (status, out) = try Self.run(["bench", "--optimizer", "adam", "--sizes", "2000", "--precision", "double",
                                          "--json", "--seconds", "0.001", "--rounds", "1"])
        #expect(status == 0)
        let rows = try Self.objects(out)
        #expect(rows.count == 1)
        #expect(rows.first?["optimizer"] as? String == "adam")
        #expect(rows.first?["precision"] as? String == "double")
        #expect(rows.first?["n"] as? Int == 2000)
    }

    @Test func naturalJSONLines() throws {
        let (status, out) = try Self.run(["bench", "--kind", "natural", "--cholesky-sizes", "16", "--woodbury-sizes", "100",
                                          "--woodbury-ranks", "4", "--json", "--seconds", "0.001", "--rounds", "1"])
        #expect(status == 0)
        let rows = try Self.objects(out)
        #expect(rows.map { $0["solver"] as? String } == ["cholesky", "cholesky", "woodbury"])
        #expect(rows.map { $0["precision"] as? String } == ["double", "mixed", "double"])
        for row in rows {
            #expect(row["kind"] as? String == "natural")
            #expect(row["n"] is Int && row["m"] is Int)
            for key in ["seconds", "raw_seconds"] {
                let value = try #require(row[key] as? Double, "\(key) missing in \(row)")
                #expect(value > 0 && value.isFinite)
            }
        }
    }

    @Test func unknownOptimizerIsNamed() throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["bench", "--optimizer", "no-such-optimizer", "--json"]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("no-such-optimizer"))
    }
}
