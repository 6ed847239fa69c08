import Foundation
import DescentProblems


/// Where a data problem's samples come from: a CSV file, a bundled set (`breast-cancer`,
/// `digits`), Fashion-MNIST as Debian installs it (`fashion-mnist`, the first `--samples`
/// training images), or synthetic data drawn from the seed. The autoencoder reads a CSV
/// without a target column (every column an input).
///
/// `--data breast-cancer` and `--data digits` name the sets shipped with DescentProblems
/// (Wisconsin breast cancer, 569 × 30, binary target; UCI digits 8×8, 1797 × 64, ten classes);
/// any other value is a file path (write `./digits` for a file of that name).
struct DataSource {
    enum Kind { case file(String), bundled(String), fashionMNIST, synthetic }
    var kind: Kind
    var target: String
    var standardize: Bool
    var samples: Int
    /// `--samples` as given (nil: all of Fashion-MNIST).
    var requestedSamples: Int?
    var features: Int
    var classes: Int
    var problem: ProblemName

    static let bundledNames = ["breast-cancer", "digits"]
    /// The `--data` value for Fashion-MNIST.
    static let fashionMNIST = "fashion-mnist"

    init(spec: ProblemSettings) {
        if let data = spec.data {
            kind = data == Self.fashionMNIST ? .fashionMNIST : Self.bundledNames.contains(data) ? .bundled(data) : .file(data)
        } else {
            kind = .synthetic
        }
        target = spec.target ?? "target"
        standardize = spec.standardize
        samples = spec.samples ?? 500
        requestedSamples = spec.samples
        features = spec.features ?? 5
        classes = spec.classes ?? 3
        problem = spec.name
    }

    func load<S: BLASScalar>(_: S.Type, seed: UInt64) throws -> Dataset<S> {
        let data: Dataset<S>
        switch kind {
        case .file(let path):
            data = try Self.readCSV(path: path, target: problem == .autoencoder ? nil : target)
        case .fashionMNIST:
            do {
                data = try FashionMNIST.load(samples: requestedSamples)
            } catch let error as DataError {
                let hint = FashionMNIST.isInstalled() ? "" : " (install Debian's dataset-fashion-mnist: scripts/install-deps)"
                throw CLIError("\(error)\(hint)")
            }
        case .bundled(let name):
            data = try Self.bundled(name)
        case .synthetic:
            data = try Self.synthetic(problem: problem, samples: samples, features: features, classes: classes, seed: seed)
        }
        return standardize ? data.standardized() : data
    }

    /// The CSV at `path`; `target` nil reads every column as an input.
    static func readCSV<S: BLASScalar>(path: String, target: String?) throws -> Dataset<S> {
        // Under mpirun each rank reads its own copy: a file missing on one rank ends every rank.
        try DistributedLaunch.agreeing("--data \(Message.clip(path))") {
            do {
                return try CSVLoader.load(URL(fileURLWithPath: path), targetColumn: target)
            } catch let error as DataError {
                throw CLIError("\(error)")
            }
        }
    }

    static func bundled<S: BLASScalar>(_ name: String) throws -> Dataset<S> {
        let set: BundledDataset = name == "digits" ? .digits : .breastCancer
        // Standardization is applied by `load(_:seed:)` when asked, as for files.
        return try set.load(standardize: false)
    }

    /// Seeded synthetic data: y = Xw + b + noise (linear), Bernoulli(σ(Xw + b)) (logistic),
    /// Categorical(softmax(WX + c)) with `classes` classes (softmax), two moons (mlp).
    static func synthetic<S: BLASScalar>(problem: ProblemName, samples: Int, features: Int, classes: Int,
                                         seed: UInt64) throws -> Dataset<S> {
        switch problem {
        case .linear: return try SyntheticData.linearRegression(samples: samples, features: features, seed: seed).data
        case .logistic: return try SyntheticData.logisticRegression(samples: samples, features: features, seed: seed).data
        case .softmax: return try SyntheticData.softmaxRegression(samples: samples, features: features, classes: classes, seed: seed).data
        default: return try SyntheticData.moons(samples: samples, seed: seed).data
        }
    }
}
