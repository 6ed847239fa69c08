import Foundation

/// Progress of `descent compare` and `--tune` on stderr: a one-line bar redrawn in place with
/// `\r` on a terminal; when stderr is not a terminal (a log, a pipe), one plain line at most every
/// `pipeInterval` seconds, so a long run shows it is alive without filling the log. Nothing
/// with `--quiet`.
final class ProgressBar {
    let total: Int
    let enabled: Bool
    let terminal: Bool
    private var done = 0
    private var lastDraw = 0.0
    private let started = Date().timeIntervalSinceReferenceDate
    private let pipeInterval: Double

    init(total: Int, quiet: Bool, pipeInterval: Double = 10) {
        self.total = max(total, 1)
        self.terminal = isatty(STDERR_FILENO) != 0
        self.enabled = !quiet
        self.pipeInterval = pipeInterval
        self.lastDraw = started
    }

    /// Marks `fraction` ∈ [0, 1] of the current unit done, redrawing at most every 50 ms (a
    /// terminal) or every `pipeInterval` seconds (otherwise).
    func update(fraction: Double = 0, label: String) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        let progress = min((Double(done) + min(max(fraction, 0), 1)) / Double(total), 1)
        if !terminal {
            guard now - lastDraw >= pipeInterval else { return }
            lastDraw = now
            let elapsed = now - started
            let eta = progress > 0 ? elapsed * (1 - progress) / progress : .infinity
            let line = "\(String(format: "%3d", Int(progress * 100)))% \(done)/\(total) \(label)  "
                + "\(RunMonitor<Double>.duration(elapsed)) elapsed, ETA \(RunMonitor<Double>.duration(eta))\n"
            FileHandle.standardError.write(Data(line.utf8))
            return
        }
        if fraction > 0 && fraction < 1 && now - lastDraw < 0.05 { return }
        lastDraw = now
        let width = 30
        let filled = Int((progress * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let text = "\r\(bar) \(String(format: "%3d", Int(progress * 100)))% \(done)/\(total) \(label)"
        FileHandle.standardError.write(Data((text.padding(toLength: 100, withPad: " ", startingAt: 0)).utf8))
    }

    /// One unit finished.
    func advance(label: String) {
        done += 1
        update(label: label)
    }

    /// Clears the line (a terminal).
    func finish() {
        guard enabled, terminal else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 100) + "\r").utf8))
    }
}
