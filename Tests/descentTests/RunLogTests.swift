import Foundation
import Testing

/// `descent run --log`: a loss-only CSV, one row per step; progress lines on standard error;
/// a resumed run keeps checkpointing to the file it resumed from.
@Suite("descent run: log, progress, resume")
struct RunLogTests {
    static let base = ["run", "--problem", "logistic", "--data", "breast-cancer", "--standardize", "--optimizer", "adam",
                       "--lr", "0.05", "--batch-size", "64", "--steps", "30", "--quiet"]

    func rows(_ url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Row 0 at the start, one row per step; `loss` is the trace's loss (the step's batch at θ
    /// before the step), bit for bit; `seconds` never decreases.
    @Test func logHasOneRowPerStepWithTheTraceLoss() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try descent(Self.base + ["--log", "log.csv", "--trace", "trace.csv"], in: dir)
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        let log = try rows(dir.appendingPathComponent("log.csv")), trace = try rows(dir.appendingPathComponent("trace.csv"))
        #expect(log[0] == ["step", "loss", "seconds", "learning_rate"])
        #expect(log.count == 1 + 31 && trace.count == log.count)
        for i in 1..<log.count {
            #expect(log[i][0] == "\(i - 1)" && log[i][1] == trace[i][1], "row \(i)")
            #expect(log[i][3] == "0.05")
            if i > 1 { #expect(Double(log[i][2])! >= Double(log[i - 1][2])!) }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".log.csv.descent-tmp-0").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func logWithValidationHasItsColumns() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try descent(Self.base + ["--validation-split", "0.2", "--validate-every", "10", "--log", "log.csv"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let log = try rows(dir.appendingPathComponent("log.csv"))
        #expect(log[0] == ["step", "loss", "seconds", "learning_rate", "validation_loss", "validation_accuracy"])
        #expect(log.count == 32)
        #expect(!log[1][4].isEmpty && log[2][4].isEmpty && !log[11][4].isEmpty && !log[31][4].isEmpty)
    }

    /// Paused at step 12 and resumed: the first log ends at step 11, the second starts at 12,
    /// and together they are the uninterrupted run's loss column (one step, one row, one meaning).
    /// The resumed run, given no --checkpoint, keeps writing the file it resumed from, every 5
    /// steps as saved.
    @Test func pausedAndResumedLogsJoinWithoutARepeatedStep() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try descent(Self.base + ["--log", "full.csv"], in: dir).status == 0)
        let first = try descent(Self.base + ["--log", "a.csv", "--checkpoint", "run.ckpt", "--checkpoint-every", "5", "--stop-after", "12"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try descent(["run", "--resume", "run.ckpt", "--log", "b.csv", "--stop-after", "8", "--quiet"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("checkpoint: \(dir.appendingPathComponent("run.ckpt").path) (step 20"), "\(second.stdout)")
        let third = try descent(["run", "--resume", "run.ckpt", "--log", "c.csv", "--quiet"], in: dir)
        #expect(third.status == 0 && third.stdout.contains("resumed at 20"), "\(third.stdout)\(third.stderr)")
        let full = try rows(dir.appendingPathComponent("full.csv"))
        let a = try rows(dir.appendingPathComponent("a.csv")), b = try rows(dir.appendingPathComponent("b.csv")),
            c = try rows(dir.appendingPathComponent("c.csv"))
        #expect(a.last?[0] == "11" && b[1][0] == "12" && b.last?[0] == "19" && c[1][0] == "20")
        let joined = (a.dropFirst() + b.dropFirst() + c.dropFirst()).map { [$0[0], $0[1]] }
        #expect(joined == full.dropFirst().map { [$0[0], $0[1]] })
    }

    /// Without a terminal, progress comes as whole lines at the interval asked for; `--quiet`
    /// silences it (the other tests).
    @Test func progressLinesWhenStandardErrorIsAPipe() throws {
        let r = try descent(Array(Self.base.dropLast()) + ["--progress-interval", "0"])
        #expect(r.status == 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count >= 30, "\(r.stderr)")
        #expect(lines.last?.hasPrefix("step 30/30  loss ") == true && lines.last?.contains("steps/s  ETA") == true, "\(r.stderr)")
        let quiet = try descent(Self.base)
        #expect(quiet.status == 0 && quiet.stderr.isEmpty)
        let bad = try descent(Self.base + ["--progress-interval", "-1"])
        #expect(bad.status != 0 && bad.stderr.contains("--progress-interval: -1.0 must be"), "\(bad.stderr)")
    }

    /// `warmup:W+plateau:F:P`: the warm-up sets η for t ≤ W (linear from F·η, torch's LinearLR),
    /// then ReduceLROnPlateau takes over; anything else before a plateau is refused.
    @Test func warmupThenPlateau() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try descent(["run", "--problem", "logistic", "--optimizer", "sgd", "--lr", "5", "--steps", "40", "--quiet",
                             "--schedule", "warmup:4:0.5+plateau:0.5:0", "--log", "log.csv"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let rates = try rows(dir.appendingPathComponent("log.csv")).dropFirst().map { Double($0[3])! }
        #expect(Array(rates.prefix(5)) == [2.5, 3.125, 3.75, 4.375, 5])
        #expect(rates.last! < 5 && r.stdout.contains("plateau:"), "\(rates)")
        for (k, rate) in rates.enumerated().dropFirst(5) where rate != rates[k - 1] {
            #expect(rate == rates[k - 1] * 0.5, "a reduction halves η (step \(k))")
        }
        let bad = try descent(["run", "--problem", "logistic", "--optimizer", "sgd", "--steps", "4", "--schedule", "cosine+plateau:0.5:2"])
        #expect(bad.status != 0 && bad.stderr.contains("only a warm-up can come before a plateau"), "\(bad.stderr)")
        let help = try descent(["run", "--help"])
        #expect(help.stdout.contains("plateau[:FACTOR[:PATIENCE]]"))
    }
}
