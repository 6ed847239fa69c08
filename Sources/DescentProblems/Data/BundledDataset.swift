import Foundation

/// The two real data sets shipped with the module (see `Resources/DATASETS.md` for provenance
/// and licences), both exported from scikit-learn 1.9.1 with a `target` column last.
public enum BundledDataset: String, Sendable, CaseIterable, Codable {
    /// Breast Cancer Wisconsin (Diagnostic): 569 × 30 real features; target 0 = malignant,
    /// 1 = benign. For ``LogisticRegression``.
    case breastCancer = "breast_cancer"
    /// Optical digits: 1797 × 64 pixel counts 0…16; target the digit 0…9. For
    /// ``SoftmaxRegression`` or a softmax ``MultilayerPerceptron``.
    case digits

    /// The bundled CSV file.
    public var url: URL {
        guard let url = Bundle.module.url(forResource: rawValue, withExtension: "csv", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: rawValue, withExtension: "csv") else {
            preconditionFailure("DescentProblems resource \(rawValue).csv is missing from the bundle")
        }
        return url
    }

    /// Loads the data, standardized by default (population std, constant columns centred only).
    public func load<Scalar: BLASScalar>(standardize: Bool = true, as: Scalar.Type = Scalar.self) throws -> Dataset<Scalar> {
        try CSVLoader.load(url, targetColumn: "target", standardize: standardize)
    }
}
