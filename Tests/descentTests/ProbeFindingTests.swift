import Foundation
import Testing

/// The reliability probe's command-line findings: each bad input is a one-line error
/// that names it, never "Fatal error: failed to allocate", never a silent acceptance.
@Suite struct ProbeFindingTests {
    static let base = ["run", "--steps", "2", "--optimizer", "sgd"]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var expected: [String]
        var testDescription: String { name }
    }

    /// Sizes the machine cannot hold are refused before anything is allocated.
    static let sizeCases: [Case] = [
        Case(name: "samples 1e10", arguments: base + ["--problem", "linear", "--samples", "1e10"],
             expected: ["--samples 10000000000", "memory"]),
        Case(name: "samples as digits", arguments: base + ["--problem", "logistic", "--samples", "10000000000"],
             expected: ["--samples 10000000000", "memory"]),
        Case(name: "features 1e9", arguments: base + ["--problem", "linear", "--features", "1e9"],
             expected: ["--features 1000000000", "memory"]),
        Case(name: "classes 1e9", arguments: base + ["--problem", "softmax", "--classes", "1e9"],
             expected: ["--classes", "1000000000", "65536"]),
        Case(name: "hidden 1e9", arguments: base + ["--problem", "mlp", "--hidden", "1e9"],
             expected: ["--hidden 1e9", "memory"]),
        Case(name: "hidden overflow", arguments: base + ["--problem", "mlp", "--hidden", "4000000000000000000,4000000000000000000"],
             expected: ["--hidden", "overflow"]),
        Case(name: "trace of a huge run", arguments: ["run", "--steps", "1000000000", "--optimizer", "sgd", "--problem", "linear",
                                                       "--features", "1000", "--trace", "/tmp/descent-never-written.csv"],
             expected: ["--trace", "memory"]),
        Case(name: "a nan", arguments: base + ["--problem", "quadratic", "--a", "nan"], expected: ["--a", "nan", "finite"]),
        Case(name: "b inf", arguments: base + ["--problem", "quadratic", "--b", "inf"], expected: ["--b", "inf", "finite"]),
        Case(name: "compare --out empty", arguments: ["compare", "--out", "", "--steps", "1", "--quiet"], expected: ["--out", "empty"]),
        Case(name: "long value clipped", arguments: base + ["--problem", "beale", "--lr", String(repeating: "7", count: 5000) + "x"],
             expected: ["--lr", "(5001 characters)"]),
    ]

    @Test(arguments: sizeCases) func refused(_ c: Case) throws {
        let result = try descent(c.arguments)
        expectOneLineError(result, c.expected, c.name)
        #expect(!result.stderr.contains("Fatal error"))
    }

    func expectOneLineError(_ result: Execution, _ expected: [String], _ name: String) {
        #expect(result.status != 0, "\(name): exit status \(result.status)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(name): stderr is not one line: \(result.stderr.prefix(500))")
        #expect(result.stderr.hasPrefix("descent: error: "), "\(name): \(result.stderr.prefix(500))")
        #expect(result.stderr.count < 400, "\(name): \(result.stderr.count) characters")
        for text in expected { #expect(result.stderr.contains(text), "\(name): '\(text)' not in \(result.stderr.prefix(500))") }
        #expect(result.stdout.isEmpty, "\(name): \(result.stdout.prefix(200))")
    }

    /// CSV inputs: a label that would make 3·10⁸ classes, a cell cut at a NUL byte, a cell that
    /// overflows Float, a 1 MB cell, a missing target among 200 000 columns, a directory, /dev/null.
    @Test func csvFindings() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let label = try file("label.csv", "a,b,target\n1,2,300000000\n3,4,1\n")
        expectOneLineError(try descent(Self.base + ["--problem", "softmax", "--data", label]),
                           ["300000001 classes", "65536"], "huge label")
        let nul = try file("nul.csv", "a,b,target\n1\u{0}9,2,0\n3,4,1\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", nul]),
                           ["nul.csv:2", "column 1", "\\u{0}", "not a finite number"], "NUL byte")
        let overflow = try file("overflow.csv", "a,b,target\n1e300,2,0\n3,4,1\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", overflow, "--precision", "float"]),
                           ["overflow.csv:2", "1e300", "out of the range of Float"], "Float overflow")
        let fine = try descent(Self.base + ["--problem", "logistic", "--data", overflow, "--precision", "double"])
        #expect(fine.status == 0, "1e300 fits a Double: \(fine.stderr)")
        let cell = try file("cell.csv", "a,target\n" + String(repeating: "9", count: 1_000_000) + "x,1\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", cell]),
                           ["cell.csv:2", "(1000001 characters)"], "1 MB cell")
        let names = (0..<200_000).map { "c\($0)" }
        let wide = try file("wide.csv", names.joined(separator: ",") + "\n" + names.map { _ in "1" }.joined(separator: ",") + "\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", wide]),
                           ["no target column 'target'", "200000 columns", "'c0', 'c1'", "and 199980 more"], "wide header")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", dir.path]),
                           [dir.path, "is a directory"], "directory as data")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", "/dev/null"]),
                           ["/dev/null", "a character device, not a regular file"], "/dev/null as data")
        let devNull = try descent(Self.base + ["--problem", "logistic", "--data", "/dev/null"])
        #expect(!devNull.stderr.contains("permission"))
    }

    /// Inputs that are not regular files end at once with their kind named: a FIFO without a
    /// writer (it blocked forever), /dev/urandom (never ended), /dev/zero (allocated 4 GB, then
    /// trapped), as `--data` and as `--resume` (which said "You don't have permission").
    @Test(.timeLimit(.minutes(1))) func inputsThatAreNotRegularFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe.csv").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let cases: [(String, String)] = [(fifo, "a named pipe (FIFO), not a regular file"),
                                         ("/dev/urandom", "a character device, not a regular file"),
                                         ("/dev/zero", "a character device, not a regular file")]
        for (path, kind) in cases {
            let started = Date()
            expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--data", path]), [path, kind], "--data \(path)")
            expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--resume", path]), ["--resume", path, kind], "--resume \(path)")
            #expect(Date().timeIntervalSince(started) < 20, "\(path) took \(Date().timeIntervalSince(started)) s")
            let resumed = try descent(Self.base + ["--problem", "logistic", "--resume", path])
            #expect(!resumed.stderr.contains("permission"))
        }
    }

    /// Trace targets that cannot be replaced are refused before the run, by their kind.
    @Test func traceTargets() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        expectOneLineError(try descent(Self.base + ["--problem", "beale", "--trace", dir.path]),
                           ["--trace", "is a directory"], "directory as trace")
        expectOneLineError(try descent(Self.base + ["--problem", "beale", "--trace", "/dev/null"]),
                           ["--trace /dev/null", "not a regular file"], "/dev/null as trace")
    }

    /// A trace leaves no temporary beside it, and a stale temporary of a dead process is removed
    /// by the next write into the folder.
    @Test func traceCleansStaleTemporaries() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // PID 2^22 + 1 is above Linux's pid_max limit (2^22), so no process has it.
        let stale = dir.appendingPathComponent(".trace.csv.descent-tmp-4194305")
        try Data("partial".utf8).write(to: stale)
        let trace = dir.appendingPathComponent("trace.csv")
        let result = try descent(Self.base + ["--problem", "beale", "--trace", trace.path])
        #expect(result.status == 0, "\(result.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["trace.csv"])
    }

    /// `descent run` never has its allocator replaced; `descent bench` counts allocations in its
    /// own re-executed process (when the counter library is built beside the executable).
    @Test func allocationCounterOnlyInBench() throws {
        let result = try descent(["bench", "--optimizer", "sgd", "--sizes", "1e3", "--precision", "double",
                                  "--seconds", "0.01", "--rounds", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let library = try descentExecutable().deletingLastPathComponent().appendingPathComponent("libDescentMallocCounter.so")
        if FileManager.default.fileExists(atPath: library.path) && ProcessInfo.processInfo.environment["LD_PRELOAD"] == nil
            && !result.stdout.contains("sanitizer") {
            #expect(result.stdout.contains("libDescentMallocCounter preloaded"), "\(result.stdout.prefix(600))")
        }
        #expect(!result.stdout.contains("\"allocation_method\":\"not counted (the preloaded counter did not load)\""))
    }
}
