import Foundation
import Testing

/// Each bad input gives a one-line error on stderr that names the problem, and a non-zero status.
@Suite struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        /// Substrings the error line must contain.
        var expected: [String]
        var testDescription: String { name }
    }

    static let base = ["run", "--steps", "5"]

    static let cases: [Case] = [
        Case(name: "unknown problem", arguments: base + ["--problem", "himmelblau", "--optimizer", "adam"],
             expected: ["'himmelblau'", "quadratic, rosenbrock, beale, saddle, linear, logistic, softmax, mlp"]),
        Case(name: "unknown optimizer", arguments: base + ["--problem", "beale", "--optimizer", "lbfgs"],
             expected: ["'lbfgs'", "sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam, adamax, rprop, asgd, natural"]),
        Case(name: "malformed number", arguments: base + ["--problem", "beale", "--optimizer", "adam", "--lr", "1e-"],
             expected: ["'1e-'", "--lr"]),
        Case(name: "malformed start", arguments: base + ["--problem", "beale", "--optimizer", "adam", "--start", "1,abc"],
             expected: ["--start", "'abc'"]),
        Case(name: "start of wrong dimension", arguments: base + ["--problem", "rosenbrock", "--optimizer", "adam", "--start", "-1,2,3"],
             expected: ["--start has 3 values", "2 parameters"]),
        Case(name: "invalid hyperparameter", arguments: base + ["--problem", "beale", "--optimizer", "adam", "--beta1", "1.5"],
             expected: ["beta1", "1.5"]),
        Case(name: "option of another optimizer", arguments: base + ["--problem", "beale", "--optimizer", "sgd", "--rho", "0.9"],
             expected: ["--rho does not apply to sgd"]),
        Case(name: "missing data file", arguments: base + ["--problem", "logistic", "--optimizer", "sgd", "--data", "/nonexistent/x.csv"],
             expected: ["/nonexistent/x.csv", "no such file"]),
        Case(name: "bad schedule", arguments: base + ["--problem", "beale", "--optimizer", "sgd", "--schedule", "step:ten:0.5"],
             expected: ["--schedule", "'ten'"]),
    ]

    func expectOneLineError(_ result: Execution, _ expected: [String], _ name: String) {
        #expect(result.status != 0, "\(name): exit status \(result.status)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(name): stderr is not one line: \(result.stderr)")
        #expect(result.stderr.hasPrefix("descent: error: "), "\(name): \(result.stderr)")
        for text in expected { #expect(result.stderr.contains(text), "\(name): '\(text)' not in \(result.stderr)") }
        #expect(result.stdout.isEmpty, "\(name): \(result.stdout)")
    }

    @Test(arguments: cases) func givesItsError(_ c: Case) throws {
        expectOneLineError(try descent(c.arguments), c.expected, c.name)
    }

    /// CSV problems: a cell that is not a number (named by line and column), a missing target
    /// column, an empty file.
    @Test func csvErrorsNameTheirPlace() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let bad = try file("bad.csv", "a,b,target\n1,2,0\n3,oops,1\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--optimizer", "sgd", "--data", bad]),
                           ["bad.csv:3", "column 2", "'b'", "'oops'"], "bad cell")
        let noTarget = try file("notarget.csv", "a,b,label\n1,2,0\n")
        expectOneLineError(try descent(Self.base + ["--problem", "logistic", "--optimizer", "sgd", "--data", noTarget, "--target", "y"]),
                           ["no target column 'y'", "'a', 'b', 'label'"], "missing target")
        let empty = try file("empty.csv", "")
        expectOneLineError(try descent(Self.base + ["--problem", "softmax", "--optimizer", "sgd", "--data", empty]),
                           ["empty.csv", "empty"], "empty file")
    }

    /// A trace that cannot be written is an error, and leaves nothing behind; a failing run does
    /// not leave a partial trace.
    @Test func unwritableTraceIsAnError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("missing-folder/trace.csv").path
        expectOneLineError(try descent(Self.base + ["--problem", "beale", "--optimizer", "sgd", "--trace", trace]),
                           ["missing-folder/trace.csv"], "unwritable trace")
        let ok = dir.appendingPathComponent("t.csv").path
        _ = try descent(Self.base + ["--problem", "beale", "--optimizer", "sgd", "--beta1", "0.5", "--trace", ok])
        #expect(!FileManager.default.fileExists(atPath: ok))
    }
}
