import Foundation
import Testing

/// `descent run --problem autoencoder` on a CSV of inputs and on Fashion-MNIST, and
/// `--data fashion-mnist` for the classifiers.
@Suite struct AutoencoderCommandTests {
    static let fashionInstalled = FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
        || FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte")

    /// The loss printed in "final loss: …".
    func finalLoss(_ r: Execution) -> Double? {
        guard let line = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("final loss:") }) else { return nil }
        return line.split(separator: " ").dropFirst(2).first.flatMap { Double($0) }
    }

    /// A CSV of `rows` × 6 inputs in [0, 1] with a header and no target column.
    func writeInputs(rows: Int, outside: Bool = false) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-ae-\(UUID().uuidString).csv")
        var text = "p0,p1,p2,p3,p4,p5\n"
        for i in 0..<rows {
            text += (0..<6).map { j in String(Double((i * 7 + j * 3) % 11) / 10) }.joined(separator: ",") + "\n"
        }
        if outside { text += "0,0,0,1.5,0,0\n" }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func trainsOnACSVOfInputs() throws {
        let csv = try writeInputs(rows: 20)
        defer { try? FileManager.default.removeItem(at: csv) }
        for activation in ["tanh", "sigmoid"] {
            let first = try descent(["run", "--problem", "autoencoder", "--data", csv.path, "--hidden", "4,2", "--activation", activation,
                                     "--optimizer", "adam", "--lr", "0.01", "--steps", "1"])
            let r = try descent(["run", "--problem", "autoencoder", "--data", csv.path, "--hidden", "4,2", "--activation", activation,
                                 "--optimizer", "adam", "--lr", "0.01", "--steps", "60"])
            #expect(r.status == 0 && first.status == 0, "\(r.stderr)")
            let start = try #require(finalLoss(first)), end = try #require(finalLoss(r))
            #expect(end < start, "\(activation): \(start) → \(end)")
        }
    }

    @Test func kfacTrainsIt() throws {
        let csv = try writeInputs(rows: 20)
        defer { try? FileManager.default.removeItem(at: csv) }
        let r = try descent(["run", "--problem", "autoencoder", "--data", csv.path, "--hidden", "4,2", "--optimizer", "kfac",
                             "--lr", "0.1", "--damping", "0.1", "--steps", "20"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(finalLoss(r)?.isFinite == true, "\(r.stdout)")
    }

    @Test func refusesBadInputsAndOptions() throws {
        let csv = try writeInputs(rows: 3, outside: true)
        defer { try? FileManager.default.removeItem(at: csv) }
        let cases: [([String], String)] = [
            (["--data", csv.path], "input 1.5 of sample 3 (column 3, counting from 0) is outside [0, 1]"),
            ([], "the autoencoder needs --data"),
            (["--data", csv.path, "--l2", "0.1"], "--l2 does not apply to the autoencoder"),
            (["--data", csv.path, "--target", "p0"], "--target does not apply to the autoencoder"),
            (["--data", csv.path, "--standardize"], "--standardize does not apply to the autoencoder"),
            (["--data", csv.path, "--hidden", "4,0"], "--hidden: '0'"),
        ]
        for (extra, expected) in cases {
            let r = try descent(["run", "--problem", "autoencoder", "--optimizer", "adam", "--steps", "2"] + extra)
            #expect(r.status != 0, "\(extra)")
            #expect(r.stderr.contains(expected) && r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.stderr)")
        }
        let samples = try descent(["run", "--problem", "mlp", "--data", "digits", "--samples", "10", "--optimizer", "adam", "--steps", "2"])
        #expect(samples.status != 0 && samples.stderr.contains("--samples"), "\(samples.stderr)")
    }

    @Test(.enabled(if: fashionInstalled, "Debian's dataset-fashion-mnist is not installed"))
    func fashionMNIST() throws {
        let ae = try descent(["run", "--problem", "autoencoder", "--data", "fashion-mnist", "--samples", "50", "--hidden", "16,4",
                              "--optimizer", "adam", "--lr", "0.003", "--steps", "3", "--precision", "float"])
        #expect(ae.status == 0, "\(ae.stderr)")
        #expect(ae.stdout.contains("50 samples"), "\(ae.stdout)")
        let loss = try #require(finalLoss(ae))
        // 784 pixels of sigmoid cross-entropy: about 784·log 2 ≈ 543 at the start, at least the pixels' entropy.
        #expect(loss > 100 && loss < 800, "\(loss)")
        for problem in ["mlp", "softmax"] {
            let r = try descent(["run", "--problem", problem, "--data", "fashion-mnist", "--samples", "40", "--optimizer", "adam",
                                 "--steps", "3", "--precision", "float"] + (problem == "mlp" ? ["--hidden", "8"] : []))
            #expect(r.status == 0, "\(problem): \(r.stderr)")
            #expect(r.stdout.contains("40 samples") && r.stdout.contains("accuracy"), "\(problem): \(r.stdout)")
        }
    }
}
