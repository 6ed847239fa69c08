import Foundation
import DescentProblems

/// Where a data problem's samples come from: a CSV file, a bundled set (`breast-cancer`,
/// `digits`), or synthetic data drawn from the seed.
///
/// `--data breast-cancer` and `--data digits` name the sets shipped with DescentProblems
/// (Wisconsin breast cancer, 569 × 30, binary target; UCI digits 8×8, 1797 × 64, ten classes);
/// any other value is a file path (write `./digits` for a file of that name).
struct DataSource {
    enum Kind { case file(String), bundled(String), synthetic }
    var kind: Kind
    var target: String
    var standardize: Bool
    var samples: Int
    var problem: ProblemName

    static let bundledNames = ["breast-cancer", "digits"]

    init(spec: ProblemSettings) {
        if let data = spec.data {
            kind = Self.bundledNames.contains(data) ? .bundled(data) : .file(data)
        } else {
            kind = .synthetic
        }
        target = spec.target ?? "target"
        standardize = spec.standardize
        samples = spec.samples ?? 500
        problem = spec.name
    }

    func load<S: BLASScalar>(_: S.Type, seed: UInt64) throws -> Dataset<S> {
        let data: Dataset<S>
        switch kind {
        case .file(let path):
            data = try Self.readCSV(path: path, target: target)
        case .bundled(let name):
            data = try Self.bundled(name)
        case .synthetic:
            data = try Self.synthetic(problem: problem, samples: samples, seed: seed)
        }
        return standardize ? data.standardized() : data
    }

    static func readCSV<S: BLASScalar>(path: String, target: String) throws -> Dataset<S> {
        throw CLIError("\(path): reading CSV files is not available in this build yet")
    }

    static func bundled<S: BLASScalar>(_ name: String) throws -> Dataset<S> {
        throw CLIError("the bundled data set \(name) is not available in this build yet")
    }

    static func synthetic<S: BLASScalar>(problem: ProblemName, samples: Int, seed: UInt64) throws -> Dataset<S> {
        throw CLIError("synthetic data is not available in this build yet")
    }
}
