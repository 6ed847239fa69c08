import Foundation
import Testing

/// `descent run --group NAME:key=value[,…]`: groups that repeat the base settings give the
/// plain run's trace bit for bit; an override acts on its group only; a paused run resumes with
/// its groups; bad groups and keys are one-line errors naming them and listing the valid ones.
@Suite("descent run --group")
struct GroupCommandTests {
    static let base = ["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "adam",
                       "--lr", "0.05", "--steps", "30", "--schedule", "step:10:0.5"]

    func rows(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test(arguments: ["double", "float"]) func groupsWithTheBaseSettingsAreThePlainRun(_ precision: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try descent(Self.base + ["--precision", precision, "--trace", "plain.csv"], in: dir)
        #expect(plain.status == 0, "\(plain.stderr)")
        let grouped = try descent(Self.base + ["--precision", precision, "--trace", "grouped.csv",
                                               "--group", "weights:lr=0.05", "--group", "biases:lr=0.05,beta1=0.9"], in: dir)
        #expect(grouped.status == 0, "\(grouped.stderr)")
        #expect(grouped.stdout.contains("group biases:lr=0.05,beta1=0.9"))
        let a = try rows(dir.appendingPathComponent("plain.csv")), b = try rows(dir.appendingPathComponent("grouped.csv"))
        #expect(a.count == 32 && a == b)
        // A zero rate on the intercept (the last column) keeps it at its start; the weights move.
        let frozen = try descent(Self.base + ["--precision", precision, "--trace", "frozen.csv", "--group", "biases:lr=0"], in: dir)
        #expect(frozen.status == 0, "\(frozen.stderr)")
        let f = try rows(dir.appendingPathComponent("frozen.csv")).dropFirst().map { $0.split(separator: ",") }
        #expect(Set(f.map { $0.last! }).count == 1)
        #expect(Set(f.map { $0[2] }).count > 1)
    }

    @Test func pausedRunResumesWithItsGroups() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = Self.base + ["--optimizer", "adamw", "--weight-decay", "0.1", "--group", "biases:weight-decay=0", "--group", "weights:lr=0.02",
                               "--batch-size", "64"]
        let full = try descent(run + ["--trace", "full.csv"], in: dir)
        #expect(full.status == 0, "\(full.stderr)")
        let first = try descent(run + ["--checkpoint", "run.ckpt", "--stop-after", "12"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        // Typing a stored --group again (the second one) is not a contradiction.
        let second = try descent(["run", "--resume", "run.ckpt", "--group", "weights:lr=0.02", "--trace", "rest.csv"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        let a = try rows(dir.appendingPathComponent("full.csv")), b = try rows(dir.appendingPathComponent("rest.csv"))
        #expect(b.count == 1 + 19 && Array(a[13...]) == Array(b[1...]))
        let other = try descent(["run", "--resume", "run.ckpt", "--group", "weights:lr=0.03"], in: dir)
        #expect(other.status != 0 && other.stderr.contains("contradicts the checkpoint"), "\(other.stderr)")
    }

    @Test func badGroupsAreOneLineErrors() throws {
        let mlp = ["run", "--problem", "mlp", "--optimizer", "adamw", "--steps", "3"]
        let cases: [([String], String)] = [
            (mlp + ["--group", "bias:weight-decay=0"],
             "unknown parameter slice or group bias (valid: layer1.weights, layer1.biases, layer2.weights, layer2.biases, weights, biases)"),
            (mlp + ["--group", "biases:momentum=0.9"],
             "group biases: unknown key momentum for adamw (valid: lr, beta1, beta2, eps, weight-decay, amsgrad)"),
            (mlp + ["--group", "biases:amsgrad=2"], "group biases: invalid amsgrad = 2.0: must be true or false"),
            (mlp + ["--group", "weights:lr=0.1", "--group", "layer1.weights:lr=0.2"], "parameter groups weights and layer1.weights overlap"),
            (mlp + ["--group", "biases:beta1=1.5"], "invalid beta1 of group biases = 1.5: must be in [0, 1)"),
            (mlp + ["--group", "biases"], "--group biases: expected NAME:key=value[,key=value]"),
            (mlp + ["--group", "biases:lr=fast"], "is neither a number nor true/false"),
            (["run", "--problem", "logistic", "--optimizer", "natural", "--group", "biases:lr=0"], "--group applies to the first-order optimizers, not natural"),
        ]
        for (arguments, message) in cases {
            let r = try descent(arguments)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        }
    }
}
