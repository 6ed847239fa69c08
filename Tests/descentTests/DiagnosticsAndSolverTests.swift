import Foundation
import Testing

/// `descent --version` (version, compiler, OpenBLAS kernels and threads, LAPACK) and
/// `descent run --solver` (the natural gradient's `NaturalGradientSolver`, reported in the
/// `solver:` line).
@Suite struct DiagnosticsAndSolverTests {
    @Test func versionPrintsCompilerOpenBLASAndLAPACK() throws {
        let r = try descent(["--version"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("descent ") == true, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("compiler: Swift 6") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("OpenBLAS: core ") && $0.contains("thread(s)") }, "\(r.stdout)")
        #expect(lines.contains { $0.hasPrefix("LAPACK: ") && !$0.contains("unknown") }, "\(r.stdout)")
    }

    func solverLine(_ solver: String, extra: [String] = []) throws -> String {
        let r = try descent(["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "natural",
                             "--steps", "3", "--solver", solver] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").first { $0.hasPrefix("solver:") }.map(String.init) ?? ""
    }

    @Test(arguments: [("auto", "(automatic)"), ("cholesky", "(cholesky)"), ("mixed", "(mixedPrecision")])
    func solverIsUsedAndReported(_ solver: String, _ reported: String) throws {
        let line = try solverLine(solver)
        #expect(line.contains(reported), "\(line)")
        if solver == "mixed" { #expect(line.contains("mixed precision"), "\(line)") }
        if solver == "cholesky" { #expect(!line.contains("mixed"), "\(line)") }
    }

    @Test func woodburyOnMinibatchScores() throws {
        let line = try solverLine("woodbury", extra: ["--fisher", "empirical", "--batch-size", "8", "--damping", "0.1"])
        #expect(line.contains("woodbury"), "\(line)")
    }

    @Test func solverAppliesOnlyToTheNaturalGradient() throws {
        let r = try descent(["run", "--problem", "rosenbrock", "--optimizer", "adam", "--steps", "2", "--solver", "cholesky"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--solver does not apply to adam"), "\(r.stderr)")
        let bad = try descent(["run", "--problem", "rosenbrock", "--optimizer", "natural", "--steps", "2", "--solver", "qr"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("qr"), "\(bad.stderr)")
    }
}
