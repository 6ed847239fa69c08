/// A supervised data set: m samples of d features and one target each.
///
/// Targets are numbers: the response for regression, the class label 0, 1, …, K−1 (stored as a
/// scalar) for classification.
public struct Dataset<Scalar: BLASScalar>: Sendable, Equatable {
    /// m × d, row i = sample i.
    public var features: Matrix<Scalar>
    /// m targets.
    public var targets: [Scalar]
    /// d feature names (e.g. the CSV header); `x0, x1, …` when none were given.
    public var featureNames: [String]
    /// The name of the target column.
    public var targetName: String
    /// The standardization applied to `features`, if any (to apply to other data).
    public var standardization: Standardization<Scalar>?

    /// - Throws: ``DataError/shapeMismatch(_:)`` when the rows, targets, names or the
    ///   standardization's length disagree.
    public init(features: Matrix<Scalar>, targets: [Scalar], featureNames: [String]? = nil,
                targetName: String = "target", standardization: Standardization<Scalar>? = nil) throws {
        guard features.rows == targets.count else {
            throw DataError.shapeMismatch("Dataset: \(features.rows) feature rows but \(targets.count) targets")
        }
        if let featureNames, featureNames.count != features.columns {
            throw DataError.shapeMismatch("Dataset: \(featureNames.count) names for \(features.columns) features")
        }
        if let standardization, standardization.means.count != features.columns {
            throw DataError.shapeMismatch("Dataset: a standardization of \(standardization.means.count) features for \(features.columns)")
        }
        self.features = features
        self.targets = targets
        self.featureNames = featureNames ?? (0..<features.columns).map { "x\($0)" }
        self.targetName = targetName
        self.standardization = standardization
    }

    /// m.
    public var sampleCount: Int { features.rows }
    /// d.
    public var featureCount: Int { features.columns }

    /// K = 1 + the largest target when every target is a non-negative integer, else nil.
    public var classCount: Int? {
        var k = -1
        for t in targets {
            guard t >= 0, t == t.rounded(), t < Scalar(1 << 24) else { return nil }
            k = Swift.max(k, Int(t))
        }
        return k + 1
    }

    /// The same data with features standardized column by column, z = (x − mean)/std with the
    /// population std (ddof = 0, as scikit-learn's `StandardScaler`). A constant column
    /// (std = 0) is centred but not scaled (its std is recorded as 1), as scikit-learn does.
    /// - Complexity: O(m·d), two passes.
    public func standardized() -> Dataset {
        let s = Standardization.fit(features)
        var copy = self
        try! s.apply(to: &copy.features)  // fitted on these very columns
        copy.standardization = s
        return copy
    }

    /// The data converted to another precision (rounding to nearest).
    public func converted<T: BLASScalar>(to: T.Type = T.self) -> Dataset<T> {
        // Same shapes as self, which its initializer checked.
        try! Dataset<T>(features: try! Matrix<T>(rows: features.rows, columns: features.columns, elements: features.elements.map { T($0) }),
                   targets: targets.map { T($0) }, featureNames: featureNames, targetName: targetName,
                   standardization: standardization.map {
                       try! Standardization<T>(means: $0.means.map { T($0) }, stds: $0.stds.map { T($0) })
                   })
    }

    /// The rows at `indices`, in that order (e.g. a train/test split).
    /// - Throws: ``DataError/shapeMismatch(_:)`` for an index outside 0..<``sampleCount``.
    public func subset(_ indices: [Int]) throws -> Dataset {
        if let i = indices.first(where: { $0 < 0 || $0 >= sampleCount }) {
            throw DataError.shapeMismatch("Dataset.subset: index \(i) is outside 0..<\(sampleCount)")
        }
        let d = featureCount
        var e = [Scalar]()
        e.reserveCapacity(indices.count * d)
        for i in indices {
            e.append(contentsOf: features.elements[(i * d)..<((i + 1) * d)])
        }
        return try Dataset(features: try Matrix(rows: indices.count, columns: d, elements: e), targets: indices.map { targets[$0] },
                       featureNames: featureNames, targetName: targetName, standardization: standardization)
    }
}

/// Per-feature means and (population) standard deviations; a zero std is stored as 1.
public struct Standardization<Scalar: BLASScalar>: Sendable, Equatable, Codable {
    public var means: [Scalar]
    public var stds: [Scalar]

    /// - Throws: ``DataError/shapeMismatch(_:)`` when the counts differ, a mean is not finite,
    ///   or a std is not finite and > 0 (dividing by it would write ±∞ or NaN into the data).
    public init(means: [Scalar], stds: [Scalar]) throws {
        guard means.count == stds.count else { throw DataError.shapeMismatch("Standardization: \(means.count) means but \(stds.count) stds") }
        if let j = means.firstIndex(where: { !$0.isFinite }) {
            throw DataError.shapeMismatch("Standardization: mean \(j) is \(means[j]), expected a finite number")
        }
        if let j = stds.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw DataError.shapeMismatch("Standardization: std \(j) is \(stds[j]), expected finite and > 0")
        }
        self.means = means
        self.stds = stds
    }

    /// Decodes through ``init(means:stds:)``: a stored std of 0 or NaN is refused as there.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(means: c.decode([Scalar].self, forKey: .means), stds: c.decode([Scalar].self, forKey: .stds))
    }

    /// Means and population stds of the columns of `x`, accumulated in Double.
    /// - Complexity: O(m·d).
    public static func fit(_ x: Matrix<Scalar>) -> Standardization {
        let m = x.rows, d = x.columns
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<m { for j in 0..<d { mean[j] += Double(x.elements[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(Swift.max(m, 1)) }
        for i in 0..<m { for j in 0..<d { let c = Double(x.elements[i * d + j]) - mean[j]; sq[j] += c * c } }
        let std = (0..<d).map { j -> Double in
            let s = (sq[j] / Double(Swift.max(m, 1))).squareRoot()
            return s > 0 && s.isFinite ? s : 1
        }
        return try! Standardization(means: mean.map { Scalar($0) }, stds: std.map { Scalar($0) })
    }

    /// x ← (x − mean)/std, column by column. - Complexity: O(m·d).
    /// - Throws: ``DataError/shapeMismatch(_:)`` when x has another number of columns; x unchanged.
    public func apply(to x: inout Matrix<Scalar>) throws {
        let d = x.columns
        guard d == means.count else { throw DataError.shapeMismatch("Standardization for \(means.count) features applied to \(d)") }
        for i in 0..<x.rows { for j in 0..<d { x.elements[i * d + j] = (x.elements[i * d + j] - means[j]) / stds[j] } }
    }
}
