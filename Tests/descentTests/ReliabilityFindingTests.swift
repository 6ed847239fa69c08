import Foundation
import Testing

/// The reliability probe's later command-line findings: silent accepts, messages that echoed
/// whole 100 kB values, valid long file names refused, outputs checked only after training,
/// allocations under an address-space limit, and a forged checkpoint that crashed `--resume`.
/// Each bad input is one error line naming it.
@Suite struct ReliabilityFindingTests {
    static let base = ["run", "--steps", "2", "--optimizer", "sgd"]

    func expectOneLineError(_ result: Execution, _ expected: [String], _ name: String, limit: Int = 400) {
        #expect(result.status == 1, "\(name): exit status \(result.status)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(name): stderr is not one line: \(result.stderr.prefix(500))")
        #expect(result.stderr.hasPrefix("descent: error: "), "\(name): \(result.stderr.prefix(500))")
        #expect(result.stderr.count < limit, "\(name): \(result.stderr.count) characters")
        for text in expected { #expect(result.stderr.contains(text), "\(name): '\(text)' not in \(result.stderr.prefix(500))") }
        #expect(!result.stderr.contains("Fatal error"), "\(name)")
    }

    /// Schedules and size lists that were accepted and then ignored.
    @Test func silentAcceptsAreRefused() throws {
        expectOneLineError(try descent(Self.base + ["--problem", "beale", "--schedule", "warmup:10+"]),
                           ["--schedule 'warmup:10+'", "nothing follows '+'"], "warmup:10+")
        expectOneLineError(try descent(Self.base + ["--problem", "beale", "--schedule", "plateaux:0.5"]),
                           ["--schedule 'plateaux:0.5'", "plateau[:FACTOR[:PATIENCE]]"], "plateaux")
        let bench = try descent(["bench", "--sizes", "", "--optimizer", "sgd"])
        #expect(bench.status != 0, "bench --sizes '' ran: \(bench.stdout.prefix(300))")
        #expect(bench.stderr.contains("--sizes"), "\(bench.stderr)")
        #expect(bench.stdout.isEmpty)
    }

    /// A 100 kB `--group` spec, key or value and a 5 kB path are quoted in at most ~100
    /// characters (with their length), so every message stays one short line.
    @Test func longValuesAreClipped() throws {
        let long = String(repeating: "w", count: 100_000)
        let mlp = Self.base + ["--problem", "mlp"]
        let groups: [(String, String)] = [(long, "(100000 characters)"), ("weights:\(long)=1", "(100000 characters)"),
                                          ("weights:lr=\(long)", "characters)"), ("\(long):lr=1", "(100000 characters)")]
        for (spec, length) in groups {
            expectOneLineError(try descent(mlp + ["--group", spec]), ["--group", length], "--group of \(spec.count) characters")
        }
        let path = "/tmp/" + String(repeating: "d/", count: 2500) + "x.csv"
        for option in ["--data", "--trace", "--checkpoint", "--resume"] {
            expectOneLineError(try descent(mlp + [option, path]), ["/tmp/d/d/", "(5010 characters)"], "\(option) of a 5 kB path")
        }
    }

    /// A 250-byte name (the limit is 255) works for checkpoints and traces: the temporary beside
    /// it stays within the limit, and nothing is left over.
    @Test func fileNamesUpToTheLimit() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = String(repeating: "c", count: 250)
        let result = try descent(Self.base + ["--problem", "beale", "--checkpoint", name, "--trace", "t" + name], in: dir)
        #expect(result.status == 0, "\(result.stderr.prefix(500))")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == [name, "t" + name])
        let resumed = try descent(["run", "--resume", name, "--steps", "4"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr.prefix(500))")
    }

    /// An output that cannot be written fails before training (it failed after the whole run).
    @Test(.timeLimit(.minutes(1))) func outputsCheckedBeforeTraining() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = ["run", "--steps", "1000000000", "--optimizer", "sgd", "--problem", "beale"]
        for (option, path) in [("--checkpoint", "/nonexistent-folder/x.ckpt"), ("--checkpoint", dir.path),
                               ("--checkpoint", "/dev/null"), ("--trace", "/nonexistent-folder/t.csv")] {
            let started = Date()
            // A trace of 10⁹ steps would not fit in memory: 10⁵ steps check the path alone.
            let arguments = option == "--trace" ? ["run", "--steps", "100000", "--optimizer", "sgd", "--problem", "beale"] : long
            expectOneLineError(try descent(arguments + [option, path]), [option, path], "\(option) \(path)")
            #expect(Date().timeIntervalSince(started) < 20, "\(option) \(path): \(Date().timeIntervalSince(started)) s")
        }
    }

    /// Runs `descent` under `ulimit -v` (KiB) through the shell, so only the child is limited.
    func descentUnderAddressLimit(_ kilobytes: Int, _ arguments: [String]) throws -> Execution {
        let exe = try descentExecutable().path
        let script = "ulimit -v \(kilobytes) && exec \"$0\" \"$@\""
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, exe] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Execution(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Under a 1.5 GiB address-space limit, sizes that fit the machine but not the limit are
    /// refused against the limit ("ulimit -v") instead of aborting on allocation.
    @Test func sizesCheckedAgainstTheAddressSpaceLimit() throws {
        #if os(Linux)
        let limit = 1_536 * 1024
        let fine = try descentUnderAddressLimit(limit, Self.base + ["--problem", "beale"])
        guard fine.status == 0 else {
            // The runtime itself needs more than the limit here: nothing to learn.
            return
        }
        expectOneLineError(try descentUnderAddressLimit(limit, Self.base + ["--problem", "linear", "--samples", "5e7"]),
                           ["--samples 50000000", "memory", "ulimit -v"], "--samples 5e7")
        expectOneLineError(try descentUnderAddressLimit(limit, Self.base + ["--problem", "mlp", "--hidden", "20000,20000"]),
                           ["--hidden", "memory"], "--hidden 20000,20000")
        expectOneLineError(try descentUnderAddressLimit(limit, ["bench", "--kind", "checkpoint", "--sizes", "1e9"]),
                           ["--sizes 1000000000", "memory"], "bench --kind checkpoint --sizes 1e9")
        expectOneLineError(try descentUnderAddressLimit(limit, ["run", "--steps", "2", "--optimizer", "adam", "--problem", "quadratic", "--dimension", "1000000000"]),
                           ["--dimension 1000000000", "memory"], "--dimension 10⁹")
        #endif
    }

    /// `bench --kind checkpoint --sizes 1e12` is refused before its header (it aborted on allocation).
    @Test func benchCheckpointBeyondMemory() throws {
        expectOneLineError(try descent(["bench", "--kind", "checkpoint", "--sizes", "1e12"]), ["1000000000000", "memory"], "1e12")
    }

    /// A JSON checkpoint whose history counts wrap around Int (so that they seem to add up) is
    /// refused by `--resume`; it indexed out of range.
    @Test func forgedJSONCheckpointIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("run.json")
        let made = try descent(["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "6", "--stop-after", "3",
                                "--checkpoint", file.path, "--checkpoint-format", "json"])
        #expect(made.status == 0, "\(made.stderr)")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var history = try #require(json["history"] as? [String: Any])
        let counts = try #require(history["parameterCounts"] as? [Int])
        #expect(counts.count == 3)
        history["parameterCounts"] = [Int.max, Int.max, 2 + counts.reduce(0, +)]
        json["history"] = history
        let forged = dir.appendingPathComponent("forged.json")
        try JSONSerialization.data(withJSONObject: json).write(to: forged)
        expectOneLineError(try descent(["run", "--resume", forged.path]), ["--resume", "forged.json", "history"], "forged history")
    }
}
