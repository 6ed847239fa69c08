import Foundation
import Testing

/// `descent run --optimizer kfac --adaptive`: the adaptive optimizer runs with kfac-jax's
/// defaults, its options change the run, options that do not apply are refused by name, and
/// `--optimizer kfac` is adaptive unless --lr, --kl-clip or --no-adaptive asks for the fixed step.
@Suite struct AdaptiveKFACRunTests {
    static let base = ["run", "--problem", "mlp", "--data", "digits", "--standardize", "--hidden", "8", "--optimizer", "kfac",
                       "--steps", "12"]

    func line(_ stdout: String, _ prefix: String) -> String {
        stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init) ?? ""
    }

    @Test func adaptiveRunsAndItsOptionsApply() throws {
        let r = try descent(Self.base + ["--adaptive"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(line(r.stdout, "optimizer:").contains("adaptive"), "\(r.stdout)")
        let loss = line(r.stdout, "final loss:")
        let value = Double(loss.split(separator: " ").last ?? "") ?? .nan
        #expect(value < 1.0, "\(loss)")  // from log 10 ≈ 2.30
        let other = try descent(Self.base + ["--adaptive", "--damping", "0.1", "--damping-interval", "2", "--damping-decay", "0.5",
                                             "--min-damping", "1e-4", "--max-damping", "10", "--kfac-decay", "0.9", "--inverse-interval", "1"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(line(other.stdout, "final loss:") != loss)
    }

    @Test func kfacIsAdaptiveUnlessAFixedStepIsAsked() throws {
        let plain = try descent(Self.base)
        #expect(plain.status == 0 && line(plain.stdout, "optimizer:").contains("adaptive"), "\(plain.stdout)\(plain.stderr)")
        let fixed = try descent(Self.base + ["--lr", "0.1"])
        #expect(fixed.status == 0 && !line(fixed.stdout, "optimizer:").contains("adaptive"), "\(fixed.stdout)\(fixed.stderr)")
        let off = try descent(Self.base + ["--no-adaptive"])
        #expect(off.status == 0 && !line(off.stdout, "optimizer:").contains("adaptive"), "\(off.stdout)\(off.stderr)")
    }

    @Test func optionsThatDoNotApplyAreRefused() throws {
        let lr = try descent(Self.base + ["--adaptive", "--lr", "0.1"])
        #expect(lr.status != 0 && lr.stderr.contains("--lr"), "\(lr.stderr)")
        let interval = try descent(Self.base + ["--no-adaptive", "--damping-interval", "3"])
        #expect(interval.status != 0 && interval.stderr.contains("adaptive"), "\(interval.stderr)")
        let decay = try descent(Self.base + ["--adaptive", "--damping-decay", "1.5"])
        #expect(decay.status != 0 && decay.stderr.contains("dampingDecay"), "\(decay.stderr)")
    }
}
