import Foundation

/// A one-line progress bar on stderr, redrawn in place with `\r`. Silent unless stderr is a
/// terminal (so logs and pipes stay clean) and not disabled by `--quiet`.
final class ProgressBar {
    let total: Int
    let enabled: Bool
    private var done = 0
    private var lastDraw = 0.0

    init(total: Int, quiet: Bool) {
        self.total = max(total, 1)
        self.enabled = !quiet && isatty(STDERR_FILENO) != 0
    }

    /// Marks `fraction` ∈ [0, 1] of the current unit done, redrawing at most every 50 ms.
    func update(fraction: Double = 0, label: String) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        if fraction > 0 && fraction < 1 && now - lastDraw < 0.05 { return }
        lastDraw = now
        let progress = min((Double(done) + min(max(fraction, 0), 1)) / Double(total), 1)
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

    /// Clears the line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 100) + "\r").utf8))
    }
}
