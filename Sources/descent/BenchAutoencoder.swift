import ArgumentParser
import Descent
import DescentProblems
import Foundation

/// `descent bench --kind autoencoder`: the time of the autoencoder's evaluations, full batch —
/// loss and gradient, the Fisher-vector product F·v, and loss, gradient and K-FAC's sampled
/// Kronecker factors from one evaluation — as the median over timed rounds after one warm-up,
/// on the first `--ae-samples` Fashion-MNIST training images (seeded uniform pixels when the
/// data set is not installed).
struct BenchAutoencoderOptions: ParsableArguments {
    @Option(name: .customLong("ae-hidden"), help: "Autoencoder bench: the encoder's widths (default 256,64,16: 784-256-64-16-64-256-784).")
    var hidden: String = "256,64,16"
    @Option(name: .customLong("ae-samples"), help: "Autoencoder bench: samples in the full batch (default 2000).")
    var samples: Int = 2000
}

enum BenchAutoencoder {
    struct Row: Encodable {
        var benchmark = "autoencoder"
        var network: String
        var samples: Int
        var data: String
        var precision: String
        var operation: String
        var milliseconds: Double
        var rounds: Int
    }

    static func run(options: BenchAutoencoderOptions, precisions: [String], rounds: Int, seconds: Double, json: Bool) throws {
        let widths = try ListParser.integers(options.hidden, option: "--ae-hidden")
        guard options.samples >= 1 else { throw CLIError("--ae-samples must be ≥ 1, got \(options.samples)") }
        var rows: [Row] = []
        for precision in precisions {
            if precision == "float" {
                rows += try measure(Float.self, widths: widths, samples: options.samples, rounds: rounds, seconds: seconds)
            } else {
                rows += try measure(Double.self, widths: widths, samples: options.samples, rounds: rounds, seconds: seconds)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for row in rows { print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
        } else {
            print("network                         samples  data           precision  operation                      ms")
            for r in rows {
                print([r.network.padding(toLength: 31, withPad: " ", startingAt: 0), String(r.samples).padding(toLength: 8, withPad: " ", startingAt: 0),
                       r.data.padding(toLength: 14, withPad: " ", startingAt: 0), r.precision.padding(toLength: 10, withPad: " ", startingAt: 0),
                       r.operation.padding(toLength: 30, withPad: " ", startingAt: 0), String(format: "%.2f", r.milliseconds)].joined(separator: " "))
            }
        }
    }

    static func measure<S: BLASScalar>(_: S.Type, widths: [Int], samples: Int, rounds: Int, seconds: Double) throws -> [Row] {
        let inputs: Matrix<S>
        let source: String
        if FashionMNIST.isInstalled() {
            inputs = try FashionMNIST.load(samples: samples, as: S.self).features
            source = "fashion-mnist"
        } else {
            var rng = SplitMix64(seed: 1)
            inputs = try Matrix(rows: samples, columns: 784, elements: (0..<(samples * 784)).map { _ in S(rng.nextUniform()) })
            source = "uniform"
        }
        let model = try Autoencoder(inputs: inputs, encoderWidths: widths, hiddenActivation: .tanh)
        let θ = model.initialParameters(seed: 0)
        var rng = SplitMix64(seed: 2)
        let v = (0..<model.dimension).map { _ in S(rng.nextNormal()) }
        var gradient = [S](repeating: 0, count: model.dimension), product = gradient
        var factors: [KroneckerBlock<S>] = []
        var step = 0
        let operations: [(String, () -> Void)] = [
            ("loss+gradient", {
                _ = θ.withUnsafeBufferPointer { t in gradient.withUnsafeMutableBufferPointer { model.lossAndGradient(at: t, batch: nil, gradient: $0) } }
            }),
            ("fisher-vector product", {
                θ.withUnsafeBufferPointer { t in
                    v.withUnsafeBufferPointer { vp in product.withUnsafeMutableBufferPointer { model.fisherVectorProduct(at: t, batch: nil, vector: vp, product: $0) } }
                }
            }),
            ("loss+gradient+factors(sampled)", {
                step += 1
                _ = θ.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer {
                        model.lossGradientAndKroneckerFactors(at: t, batch: nil, fisher: .sampled, step: step, seed: 3, gradient: $0, factors: &factors)
                    }
                }
            }),
        ]
        let label = model.layerSizes.map(String.init).joined(separator: "-")
        return operations.map { name, body in
            body()  // warm-up
            var times: [Double] = []
            let start = DispatchTime.now().uptimeNanoseconds
            while times.count < rounds || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < seconds {
                let t0 = DispatchTime.now().uptimeNanoseconds
                body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                if times.count >= 1000 { break }
            }
            times.sort()
            return Row(network: label, samples: samples, data: source, precision: S.self == Float.self ? "float" : "double",
                       operation: name, milliseconds: times[times.count / 2], rounds: times.count)
        }
    }
}
