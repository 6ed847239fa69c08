import Foundation
import Testing

/// `descent run --checkpoint/--stop-after/--resume`: a paused and resumed run writes the same
/// trace rows as an uninterrupted one; contradictions and bad values are one-line errors.
@Suite("descent run: checkpoints and resume")
struct ResumeCommandTests {
    static let base = ["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "adam",
                       "--lr", "0.05", "--batch-size", "64", "--steps", "60", "--schedule", "warmup:5+cosine", "--clip-norm", "1"]

    func rows(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test(arguments: ["double", "float"]) func resumedTraceEqualsUninterrupted(_ precision: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = try descent(Self.base + ["--precision", precision, "--trace", "full.csv"], in: dir)
        #expect(full.status == 0, "\(full.stderr)")
        let first = try descent(Self.base + ["--precision", precision, "--checkpoint", "run.ckpt", "--checkpoint-every", "7", "--stop-after", "25"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("stopped: paused") && first.stdout.contains("--resume"))
        let second = try descent(["run", "--resume", "run.ckpt", "--trace", "rest.csv", "--checkpoint", "run.ckpt"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("resumed at 25"))
        let a = try rows(dir.appendingPathComponent("full.csv")), b = try rows(dir.appendingPathComponent("rest.csv"))
        // Rows t = 25 … 60 (header first): every number, θ included, bit for bit.
        #expect(b.count == 1 + 36 && a.count == 1 + 61)
        #expect(Array(a[26...]) == Array(b[1...]))
        #expect(a[0] == b[0])
        // Raising --steps continues the ended run.
        let third = try descent(["run", "--resume", "run.ckpt", "--steps", "70"], in: dir)
        #expect(third.status == 0 && third.stdout.contains("steps:      70 (resumed at 60)"), "\(third.stdout)\(third.stderr)")
    }

    @Test func badResumesAreOneLineErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try descent(Self.base + ["--checkpoint", "run.ckpt", "--stop-after", "10"], in: dir).status == 0)
        let cases: [([String], String)] = [
            (["run", "--resume", "run.ckpt", "--lr", "0.1"], "--lr 0.1 contradicts the checkpoint (--lr 0.05)"),
            (["run", "--resume", "run.ckpt", "--momentum", "0.9"], "--momentum 0.9 contradicts the checkpoint (not set)"),
            (["run", "--resume", "run.ckpt", "--steps", "5"], "--steps may only raise the total"),
            (["run", "--resume", "missing.ckpt"], "--resume missing.ckpt: no such file"),
            (["run", "--resume", "full.csv"], "not a Descent checkpoint"),
            (Self.base + ["--checkpoint-every", "3"], "--checkpoint-every needs --checkpoint FILE"),
            (Self.base + ["--validation-split", "1.5"], "--validation-split: 1.5 must be in (0, 1)"),
            (Self.base + ["--schedule", "plateau:2:3"], "FACTOR '2' must be a number in (0, 1)"),
            (["run", "--problem", "rosenbrock", "--optimizer", "adam", "--dimension", "5"], "--dimension applies to the quadratic problem only"),
            (["run", "--problem", "quadratic", "--optimizer", "adam", "--dimension", "4000000000000000000"], "needed for double θ"),
        ]
        try "step,loss\n".write(to: dir.appendingPathComponent("full.csv"), atomically: true, encoding: .utf8)
        for (arguments, message) in cases {
            let r = try descent(arguments, in: dir)
            #expect(r.status != 0, "\(arguments)")
            #expect(r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(arguments): \(r.stderr)")
        }
        // A truncated checkpoint is refused with the byte counts.
        let data = try Data(contentsOf: dir.appendingPathComponent("run.ckpt"))
        try data.prefix(data.count - 8).write(to: dir.appendingPathComponent("cut.ckpt"))
        let cut = try descent(["run", "--resume", "cut.ckpt"], in: dir)
        #expect(cut.status != 0 && cut.stderr.contains("truncated checkpoint"), "\(cut.stderr)")
    }

    @Test func validationPlateauAndEarlyStoppingInTheSummary() throws {
        let r = try descent(["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "sgd", "--lr", "0.5",
                             "--batch-size", "32", "--steps", "400", "--validation-split", "0.2", "--validate-every", "10",
                             "--patience", "5", "--schedule", "plateau:0.5:2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("455 training + 114 validation samples"))
        #expect(r.stdout.contains("validation: loss") && r.stdout.contains("accuracy") && r.stdout.contains("plateau:"))
    }

    @Test func quadraticInNDimensions() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try descent(["run", "--problem", "quadratic", "--dimension", "20000", "--optimizer", "adam", "--lr", "0.05", "--steps", "10",
                             "--checkpoint", "q.ckpt"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("quadratic (20000 parameters)"))
        // θ, m and G of 20000 Doubles plus a small header.
        let size = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("q.ckpt").path)[.size] as! Int
        #expect(size >= 3 * 20000 * 8 && size <= 3 * 20000 * 8 + 4096, "\(size)")
        // N = 2 is the default quadratic.
        let two = try descent(["run", "--problem", "quadratic", "--dimension", "2", "--optimizer", "sgd", "--lr", "0.01", "--steps", "5"])
        let plain = try descent(["run", "--problem", "quadratic", "--optimizer", "sgd", "--lr", "0.01", "--steps", "5"])
        func theta(_ s: String) -> String? { s.split(separator: "\n").first { $0.hasPrefix("θ:") }.map(String.init) }
        #expect(theta(two.stdout) != nil && theta(two.stdout) == theta(plain.stdout))
    }
}
