import Foundation
import Testing

/// Options the command line reads from the optimizer registry rather than declares: they set
/// their hyperparameter (the trajectory changes), take negative values as typed (reaching the
/// library's validation), and are refused for optimizers without them.
@Suite struct RegistryOptionTests {
    static let quadratic = ["run", "--problem", "quadratic", "--steps", "20"]

    func finalLoss(_ arguments: [String]) throws -> String {
        let r = try descent(arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        return r.stdout.split(separator: "\n").first { $0.hasPrefix("final loss:") }.map(String.init) ?? ""
    }

    @Test func registryOptionsSetTheirHyperparameter() throws {
        let plain = try finalLoss(Self.quadratic + ["--optimizer", "adagrad", "--lr", "0.5"])
        let decayed = try finalLoss(Self.quadratic + ["--optimizer", "adagrad", "--lr", "0.5", "--lr-decay", "0.5"])
        let inline = try finalLoss(Self.quadratic + ["--optimizer", "adagrad", "--lr", "0.5", "--lr-decay=0.5"])
        #expect(!plain.isEmpty && plain != decayed && decayed == inline)
    }

    /// `--rho` with the natural gradient is its curvature decay, spelled `--curvature-decay`.
    @Test func rhoIsTheNaturalGradientsCurvatureDecay() throws {
        let base = ["run", "--problem", "logistic", "--optimizer", "natural", "--steps", "6"]
        #expect(try finalLoss(base + ["--rho", "0.5"]) == finalLoss(base + ["--curvature-decay", "0.5"]))
    }

    @Test func badRegistryOptionsAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            (Self.quadratic + ["--optimizer", "adagrad", "--lr-decay", "-1"], "invalid learningRateDecay = -1.0"),
            (Self.quadratic + ["--optimizer", "adam", "--lr-decay", "0.1"], "--lr-decay does not apply to adam (it applies to adagrad)"),
            (Self.quadratic + ["--optimizer", "adagrad", "--lr-decay", "fast"], "--lr-decay 'fast' is not a number"),
            (Self.quadratic + ["--optimizer", "adagrad", "--no-such-option"], "Unknown option '--no-such-option'"),
            (["run", "--problem", "logistic", "--optimizer", "natural", "--solver", "qr"], "--solver 'qr': expected one of auto, cholesky, mixed, woodbury"),
        ]
        for (arguments, message) in cases {
            let r = try descent(arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        }
    }
}
