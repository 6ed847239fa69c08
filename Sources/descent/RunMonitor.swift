import Descent
import DescentProblems
import Foundation

/// What `descent run` reports while it trains: a progress line on standard error (redrawn in
/// place on a terminal, one line every 10 s otherwise, nothing with `--quiet`) and the `--log`
/// CSV, one row per step:
///
///     step,loss,seconds,learning_rate[,validation_loss,validation_accuracy]
///
/// Row 0 is the start; `loss` is the loss of the step's batch at θ before the step (the full
/// data without a batch size, and for the last row), `seconds` the training wall time so far.
/// A step seen twice (the boundary between two chunks of a run that checkpoints every k steps)
/// gives one row, the later one: the batch the step actually used. A paused run's last row is
/// left out, so the resumed run's log starts at that step with the same meaning.
final class RunMonitor<Scalar: BLASScalar> {
    private let totalSteps: Int
    private let validating: Bool
    private let terminal: Bool
    private let quiet: Bool
    private var log: LogFile?
    private var pending: TrainingRecord<Scalar>?
    private var lastDraw = -Double.infinity
    private var firstStep: Int?
    private var firstElapsed = 0.0
    private var drew = false

    /// Opens the log's temporary file (failing before any training for a bad path).
    init(totalSteps: Int, quiet: Bool, logPath: String?, validating: Bool, pipeInterval: Double = 10) throws {
        self.totalSteps = totalSteps
        self.pipeInterval = pipeInterval
        self.validating = validating
        self.quiet = quiet
        self.terminal = isatty(STDERR_FILENO) != 0
        if let logPath {
            log = try LogFile(path: logPath)
            log!.append("step,loss,seconds,learning_rate" + (validating ? ",validation_loss,validation_accuracy" : "") + "\n")
        }
    }

    /// Seconds between progress lines when standard error is not a terminal.
    private let pipeInterval: Double

    /// Takes one record of the training loop (as its callback).
    func observe(_ record: TrainingRecord<Scalar>) {
        if let p = pending, p.step != record.step { writeRow(p) }
        pending = record
        if firstStep == nil {
            firstStep = record.step
            firstElapsed = record.elapsed
            if !terminal { lastDraw = record.elapsed }  // the first line after one interval
        }
        showProgress(record)
    }

    /// Writes the last row (unless the run paused), publishes the log and clears the progress line.
    func finish(paused: Bool) throws {
        if let p = pending, !paused { writeRow(p) }
        pending = nil
        if drew && terminal { FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 90) + "\r").utf8)) }
        try log?.publish()
        log = nil
    }

    /// Removes the log's temporary (a run that failed).
    func abandon() {
        log?.discard()
        log = nil
    }

    private func writeRow(_ r: TrainingRecord<Scalar>) {
        guard log != nil else { return }
        var row = "\(r.step),\(r.loss),\(r.elapsed),\(r.learningRate)"
        if validating {
            row += "," + (r.validationLoss.map { "\($0)" } ?? "") + "," + (r.validationAccuracy.map { "\($0)" } ?? "")
        }
        log!.append(row + "\n")
    }

    private func showProgress(_ r: TrainingRecord<Scalar>) {
        guard !quiet, !DistributedLaunch.isSecondaryRank else { return }
        let now = r.elapsed
        guard now - lastDraw >= (terminal ? 0.1 : pipeInterval) else { return }
        lastDraw = now
        let done = r.step - (firstStep ?? 0)
        let elapsed = max(now - firstElapsed, 1e-9)
        let rate = Double(done) / elapsed
        let remaining = rate > 0 ? Double(totalSteps - r.step) / rate : .infinity
        let text = "step \(r.step)/\(totalSteps)  loss \(String(format: "%.6g", Double(r.loss)))  "
            + "\(String(format: "%.1f", rate)) steps/s  ETA \(Self.duration(remaining))"
        if terminal {
            FileHandle.standardError.write(Data(("\r" + text.padding(toLength: 90, withPad: " ", startingAt: 0)).utf8))
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
        drew = true
    }

    /// "1h02m", "3m05s", "12s", "?".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}

/// The `--log` file: rows buffered in memory up to 64 kB, written to a temporary beside the
/// target and renamed over it when the run ends (``AtomicFile``'s conventions).
final class LogFile {
    let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws {
        self.path = path
        do { try AtomicFile.checkReplaceable(path) } catch { throw CLIError("--log \(error)") }
        let url = URL(fileURLWithPath: path)
        AtomicFile.removeStaleTemporaries(in: url.deletingLastPathComponent(), target: url.lastPathComponent)
        temporary = (url.deletingLastPathComponent().path as NSString).appendingPathComponent(AtomicFile.temporaryName(for: url.lastPathComponent))
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIError("--log \(Message.clip(path)): \(String(cString: strerror(errno)))") }
        // Held until the descriptor closes, as AtomicFile's writers do: marks the temporary as in use,
        // so another writer's clean-up of stale temporaries leaves it alone.
        _ = flock(fd, LOCK_EX | LOCK_NB)
        buffer.reserveCapacity(1 << 16)
    }

    deinit { if fd >= 0 { close(fd); unlink(temporary) } }

    func append(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func flush() {
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 { if errno == EINTR { continue }; break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func publish() throws {
        flush()
        let ok = fsync(fd) == 0
        close(fd)
        fd = -1
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CLIError("--log \(Message.clip(path)): \(reason)")
        }
    }

    func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }
}
