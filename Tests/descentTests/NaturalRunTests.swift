import Foundation
import Testing

/// `descent run --optimizer natural`: `--rho` averages the curvature at every step (a former
/// bug: 0.5 and 0.9 printed the same loss), and the summary names the solver.
@Suite struct NaturalRunTests {
    func finalLoss(_ extra: [String]) throws -> (String, String) {
        let r = try descent(["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "natural",
                             "--steps", "6"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        let loss = r.stdout.split(separator: "\n").first { $0.hasPrefix("final loss:") }.map(String.init) ?? ""
        let solver = r.stdout.split(separator: "\n").first { $0.hasPrefix("solver:") }.map(String.init) ?? ""
        return (loss, solver)
    }

    @Test func rhoChangesTheTrajectoryAndTheSolverIsReported() throws {
        let (a, solver) = try finalLoss(["--rho", "0.5"])
        let (b, _) = try finalLoss(["--rho", "0.9"])
        let (none, _) = try finalLoss([])
        #expect(!a.isEmpty && a != b && a != none && b != none, "\(a) / \(b) / \(none)")
        #expect(solver.contains("cholesky"), "\(solver)")
    }
}
