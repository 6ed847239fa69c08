import Foundation
import Testing
@testable import DescentDistributed

/// Runs `descent-mpi-checks` under `mpirun -np P` (P = 2, 3: uneven shards) and checks the exit
/// status and the output. Every launch is bounded by a timeout (`timeout 300`), so a hang fails
/// the test instead of blocking the suite. Skipped (with a message) when mpirun is not installed.
@Suite("Open MPI (mpirun)", .serialized)
struct MPIRunTests {
    static let checks: URL? = {
        // The test bundle lives in the build directory next to the executables.
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("descent-mpi-checks")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()

    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs mpirun with `arguments` after the rank count, returning (status, stdout + stderr).
    static func launch(ranks: Int, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["300", mpirun!, "--oversubscribe", "--mca", "btl_vader_single_copy_mechanism", "none",
                             "-np", "\(ranks)"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("collectives, data-parallel and sharded trajectories equal one process", arguments: [2, 3])
    func checksPass(ranks: Int) throws {
        guard let checks = Self.checks, Self.mpirun != nil else {
            Issue.record("descent-mpi-checks or mpirun not found (build the package; install openmpi-bin)")
            return
        }
        let (status, output) = try Self.launch(ranks: ranks, [checks.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("all checks passed on \(ranks) ranks"), "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
        // Every kind of check ran: collectives, first-order, sharded, natural gradient, checkpoints.
        for name in ["ok allreduce sum Double", "ok reduce-scatter Float", "ok data-parallel adamw logistic minibatch",
                     "ok sharded adadelta logistic minibatch", "ok data-parallel natural gradient exact Fisher",
                     "ok sharded checkpoint round trip", "ok sharded adam rosenbrock (no samples)",
                     "ok data-parallel kfac mlp sampled Fisher"] {
            #expect(output.contains(name), "missing \(name)")
        }
    }

    @Test("descent run --distributed --shard-state: paused with --checkpoint at P = 2, resumed, ends where the straight run ends")
    func checkpointResume() throws {
        guard let checks = Self.checks, Self.mpirun != nil else {
            Issue.record("descent-mpi-checks or mpirun not found")
            return
        }
        let descent = checks.deletingLastPathComponent().appendingPathComponent("descent").path
        guard FileManager.default.isExecutableFile(atPath: descent) else {
            Issue.record("the descent executable is not built next to descent-mpi-checks")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("descent-mpi-resume-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["run", "--problem", "logistic", "--optimizer", "adam", "--lr", "0.05", "--batch-size", "16",
                      "--steps", "12", "--distributed", "--shard-state", "--check-replicas"]
        let straight = try Self.launch(ranks: 2, [descent] + common + ["--checkpoint", dir.appendingPathComponent("a.ckpt").path,
                                                                        "--trace", dir.appendingPathComponent("a.csv").path])
        #expect(straight.0 == 0, "\(straight.1)")
        let paused = try Self.launch(ranks: 2, [descent] + common + ["--stop-after", "5", "--checkpoint", dir.appendingPathComponent("b.ckpt").path])
        #expect(paused.0 == 0, "\(paused.1)")
        // One file per rank: rank 0's at the given path, rank 1's beside it, named with the step.
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("b.ckpt.rank1.step5").path))
        let resumed = try Self.launch(ranks: 2, [descent, "run", "--resume", dir.appendingPathComponent("b.ckpt").path,
                                                 "--trace", dir.appendingPathComponent("b.csv").path])
        #expect(resumed.0 == 0, "\(resumed.1)")
        #expect(resumed.1.contains("resumed at 5"), "\(resumed.1)")
        let a = try String(contentsOf: dir.appendingPathComponent("a.csv"), encoding: .utf8).split(separator: "\n")
        let b = try String(contentsOf: dir.appendingPathComponent("b.csv"), encoding: .utf8).split(separator: "\n")
        // The pause is bit-identical: the resumed trace's rows are the straight run's last rows.
        #expect(a.count > 2 && b.count > 2)
        #expect(a.last == b.last, "straight \(a.last ?? ""), resumed \(b.last ?? "")")
        #expect(Array(a.suffix(b.count - 1)) == Array(b.dropFirst()))
        // A resume on another number of ranks is refused with one clear message, not a hang.
        let wrong = try Self.launch(ranks: 3, [descent, "run", "--resume", dir.appendingPathComponent("b.ckpt").path])
        #expect(wrong.0 != 0 && wrong.0 != 124, "\(wrong.1)")
        #expect(wrong.1.components(separatedBy: "descent: error").count == 2, "\(wrong.1)")
        #expect(wrong.1.contains("written by 2 ranks, this job has 3"), "\(wrong.1)")
    }

    /// The descent executable beside descent-mpi-checks, or nil (recorded as an issue).
    static func descentExecutable() -> String? {
        guard let checks = Self.checks, Self.mpirun != nil else {
            Issue.record("descent-mpi-checks or mpirun not found")
            return nil
        }
        let descent = checks.deletingLastPathComponent().appendingPathComponent("descent").path
        guard FileManager.default.isExecutableFile(atPath: descent) else {
            Issue.record("the descent executable is not built next to descent-mpi-checks")
            return nil
        }
        return descent
    }

    /// Ranks started with different flags (an MPMD launch: `--lr`, `--steps`, `--distributed` on
    /// one rank only) are refused at start with one message, instead of training inconsistently
    /// or waiting forever in collectives.
    @Test("ranks started with different arguments are refused with one message")
    func differentArgumentsAreRefused() throws {
        guard let descent = Self.descentExecutable() else { return }
        let common = ["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "6"]
        let variants: [([String], [String])] = [
            (common + ["--distributed", "--lr", "0.1"], common + ["--distributed", "--lr", "0.2"]),
            (common + ["--distributed"], ["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "7", "--distributed"]),
            (common + ["--distributed"], common),
            (common + ["--distributed", "--shard-state"], common + ["--distributed"]),
        ]
        for (first, second) in variants {
            let started = Date()
            let result = try Self.launch(ranks: 1, [descent] + first + [":", "-np", "1", descent] + second)
            #expect(result.0 != 0 && result.0 != 124, "\(second): \(result.1)")
            #expect(result.1.contains("started with different arguments"), "\(second): \(result.1)")
            #expect(result.1.components(separatedBy: "descent: error").count == 2, "\(second): \(result.1)")
            #expect(Date().timeIntervalSince(started) < 60)
        }
        let same = try Self.launch(ranks: 2, [descent] + common + ["--distributed"])
        #expect(same.0 == 0, "\(same.1)")
    }

    /// A data file present for rank 0 but missing for rank 1 (same command line, different
    /// working folders) ends the job with Descent's messages: rank 1's naming the file, rank 0's
    /// naming the step that failed there; not mpirun's generic report alone, and no hang.
    @Test("a file missing on one rank ends the job with a Descent message")
    func fileMissingOnOneRank() throws {
        guard let descent = Self.descentExecutable() else { return }
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("descent-mpi-local-\(getpid())")
        let present = root.appendingPathComponent("present"), absent = root.appendingPathComponent("absent")
        try fm.createDirectory(at: present, withIntermediateDirectories: true)
        try fm.createDirectory(at: absent, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: root) }
        let rows = (0..<40).map { i in "\(Double(i % 7) / 7),\(Double(i % 5) / 5),\(i % 2)" }
        try Data((["a,b,target"] + rows).joined(separator: "\n").utf8).write(to: present.appendingPathComponent("d.csv"))
        let run = ["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "3", "--distributed", "--data", "d.csv"]
        let result = try Self.launch(ranks: 1, ["-wdir", present.path, descent] + run + [":", "-np", "1", "-wdir", absent.path, descent] + run)
        #expect(result.0 != 0 && result.0 != 124, "\(result.1)")
        #expect(result.1.contains("descent: error (rank 1): \(absent.path)/d.csv: no such file"), "\(result.1)")
        #expect(result.1.contains("--data d.csv failed on another rank"), "\(result.1)")
    }

    /// A distributed checkpoint is one set: a rank that wrote its file of a newer step before the
    /// set was published (rank 0's file replaced) leaves the previous set complete, and the
    /// resume continues from it, at one step on every rank.
    @Test("a distributed checkpoint is published as one set; an unpublished rank file leaves the previous set")
    func checkpointSetIsAtomic() throws {
        guard let descent = Self.descentExecutable() else { return }
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("descent-mpi-set-\(getpid())")
        let published = root.appendingPathComponent("published"), crashed = root.appendingPathComponent("crashed")
        try fm.createDirectory(at: published, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: root) }
        let common = ["run", "--problem", "logistic", "--optimizer", "adam", "--lr", "0.05", "--batch-size", "16",
                      "--steps", "12", "--distributed", "--shard-state"]
        let ckpt = published.appendingPathComponent("c.ckpt").path
        let first = try Self.launch(ranks: 2, [descent] + common + ["--stop-after", "5", "--checkpoint", ckpt])
        #expect(first.0 == 0, "\(first.1)")
        try fm.copyItem(at: published, to: crashed)
        let second = try Self.launch(ranks: 2, [descent, "run", "--resume", ckpt, "--stop-after", "3", "--checkpoint", ckpt])
        #expect(second.0 == 0, "\(second.1)")
        #expect(try fm.contentsOfDirectory(atPath: published.path).sorted() == ["c.ckpt", "c.ckpt.rank1.step8"])
        // The crash: rank 1's file of step 8 written, rank 0's not yet replaced.
        try fm.copyItem(at: published.appendingPathComponent("c.ckpt.rank1.step8"), to: crashed.appendingPathComponent("c.ckpt.rank1.step8"))
        let resumed = try Self.launch(ranks: 2, [descent, "run", "--resume", crashed.appendingPathComponent("c.ckpt").path])
        #expect(resumed.0 == 0, "\(resumed.1)")
        #expect(resumed.1.contains("resumed at 5"), "\(resumed.1)")
        let latest = try Self.launch(ranks: 2, [descent, "run", "--resume", ckpt])
        #expect(latest.1.contains("resumed at 8"), "\(latest.1)")
    }

    @Test("a failing rank aborts the whole job with one clear message, no hang")
    func failingRankAborts() throws {
        guard let checks = Self.checks, Self.mpirun != nil else {
            Issue.record("descent-mpi-checks or mpirun not found")
            return
        }
        let (status, output) = try Self.launch(ranks: 3, [checks.path, "fail"])
        #expect(status != 0 && status != 124, "status \(status) (124 = timeout): \(output)")
        #expect(output.contains("deliberate failure of rank 1"), "\(output)")
        #expect(!output.contains("was not aborted"), "\(output)")
    }
}

/// The partition arithmetic needs no MPI.
@Suite("Block partition")
struct BlockPartitionTests {
    @Test("blocks are contiguous, cover 0..<count and differ by at most one", arguments: [(10, 3), (2, 3), (0, 2), (7, 1), (1_000_003, 7)])
    func blocks(count: Int, parts: Int) throws {
        let p = try BlockPartition(count: count, parts: parts)
        var next = 0
        var sizes: [Int] = []
        for r in 0..<parts {
            let range = p.range(of: r)
            #expect(range.lowerBound == next)
            next = range.upperBound
            sizes.append(range.count)
            // Plain reference: start(r) = r·⌊c/p⌋ + min(r, c mod p).
            #expect(range.lowerBound == r * (count / parts) + min(r, count % parts))
        }
        #expect(next == count)
        #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
        for i in stride(from: 0, to: count, by: max(1, count / 50)) { #expect(p.range(of: p.owner(of: i)).contains(i)) }
    }

    @Test("bad sizes are thrown, naming the value")
    func badSizes() {
        #expect(throws: MPIError.invalidArgument(name: "parts", value: "0", requirement: "≥ 1")) { try BlockPartition(count: 3, parts: 0) }
        #expect(throws: MPIError.invalidArgument(name: "count", value: "-1", requirement: "≥ 0")) { try BlockPartition(count: -1, parts: 2) }
        #expect(throws: MPIError.countTooLarge(name: "count", value: Int(Int32.max) + 1)) { try BlockPartition(count: Int(Int32.max) + 1, parts: 2) }
        #expect(MPIError.countTooLarge(name: "count", value: 5).errorDescription?.contains("5") == true)
    }

    @Test("the checksum sees one flipped bit", arguments: [false, true])
    func checksumDetectsBits(float: Bool) {
        if float {
            let a: [Float] = [1, 2, 3], b: [Float] = [1, 2, 3.0000002]
            #expect(a.withUnsafeBufferPointer { checksum($0) } != b.withUnsafeBufferPointer { checksum($0) })
            #expect(a.withUnsafeBufferPointer { checksum($0) } == a.withUnsafeBufferPointer { checksum($0) })
        } else {
            let a: [Double] = [1, 2, 3], b: [Double] = [1, 2, 3.0000000000000004]
            #expect(a.withUnsafeBufferPointer { checksum($0) } != b.withUnsafeBufferPointer { checksum($0) })
        }
    }
}
