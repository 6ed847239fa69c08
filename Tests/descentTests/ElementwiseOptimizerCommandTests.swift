import Foundation
import Testing

/// `descent run` with the torch.optim optimizers that come through the registry: their flags
/// (torch's names), Rprop's pairs, ASGD's averaged θ, and one-line errors for misuse.
@Suite struct ElementwiseOptimizerCommandTests {
    @Test(arguments: [
        ["--optimizer", "nadam", "--lr", "0.01", "--momentum-decay", "0.005", "--decoupled-weight-decay", "--weight-decay", "0.01"],
        ["--optimizer", "radam", "--beta2", "0.99", "--decoupled-weight-decay"],
        ["--optimizer", "adamax", "--lr", "0.01", "--eps", "1e-6"],
        ["--optimizer", "rprop", "--etas", "0.4,1.3", "--step-sizes", "1e-5,10"],
        ["--optimizer", "asgd", "--lambd", "0.001", "--alpha", "0.5", "--t0", "3", "--use-average"],
    ])
    func runsWithTorchFlags(_ arguments: [String]) throws {
        let r = try descent(["run", "--problem", "rosenbrock", "--steps", "20", "--quiet"] + arguments)
        #expect(r.status == 0 && r.stderr.isEmpty, "\(arguments): \(r.stderr)")
        #expect(r.stdout.contains("optimizer:  \(arguments[1])"), "\(r.stdout)")
    }

    @Test func misuseIsOneLineError() throws {
        let cases: [([String], String)] = [
            (["--optimizer", "adam", "--use-average"], "--use-average applies to asgd only"),
            (["--optimizer", "rprop", "--etas", "0.5"], "expected two numbers"),
            (["--optimizer", "nadam", "--etas", "0.5,1.2"], "does not apply to nadam"),
            (["--optimizer", "asgd", "--lambd", "-1"], "lambda"),
        ]
        for (arguments, message) in cases {
            let r = try descent(["run", "--problem", "rosenbrock", "--steps", "5"] + arguments)
            #expect(r.status != 0 && r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        }
    }
}
