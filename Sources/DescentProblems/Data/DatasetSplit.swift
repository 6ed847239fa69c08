/// A data set split into training, validation and (optionally) test parts by
/// ``Dataset/split(validationFraction:testFraction:seed:)``.
public struct DatasetSplit<Scalar: BLASScalar>: Sendable, Equatable {
    public var training: Dataset<Scalar>
    public var validation: Dataset<Scalar>
    /// Empty (0 samples) when no test fraction was asked for.
    public var test: Dataset<Scalar>
    /// The original sample indices of each part, in their order.
    public var trainingIndices: [Int]
    public var validationIndices: [Int]
    public var testIndices: [Int]

    /// The split with features standardized by the training part's means and population
    /// standard deviations (``Standardization/fit(_:)``), applied unchanged to validation and
    /// test, so that nothing about them leaks into training (scikit-learn's
    /// `StandardScaler().fit(X_train)` then `transform` on the others).
    /// - Complexity: O(m·d).
    public func standardized() -> DatasetSplit {
        let s = Standardization.fit(training.features)
        var copy = self
        for keyPath in [\DatasetSplit.training, \.validation, \.test] {
            try! s.apply(to: &copy[keyPath: keyPath].features)  // same columns as training: cannot throw
            copy[keyPath: keyPath].standardization = s
        }
        return copy
    }
}

extension Dataset {
    /// A seeded random split: the samples are shuffled (Fisher–Yates with ``SplitMix64``
    /// seeded by `seed`, the same permutation on every platform), then the first
    /// round(m·validationFraction) go to validation, the next round(m·testFraction) to test and
    /// the rest to training, each part keeping the shuffled order. A positive fraction gets at
    /// least one sample.
    /// - Throws: ``TrainingError/invalidOption(name:value:requirement:)`` for a fraction outside
    ///   [0, 1), fractions summing to 1 or more, or a split that leaves training empty.
    /// - Complexity: O(m·d).
    public func split(validationFraction: Double, testFraction: Double = 0, seed: UInt64) throws -> DatasetSplit<Scalar> {
        for (name, f) in [("validationFraction", validationFraction), ("testFraction", testFraction)] {
            guard f >= 0, f < 1 else { throw TrainingError.invalidOption(name: name, value: "\(f)", requirement: "in [0, 1)") }
        }
        guard validationFraction + testFraction < 1 else {
            throw TrainingError.invalidOption(name: "validationFraction + testFraction", value: "\(validationFraction + testFraction)", requirement: "< 1")
        }
        let m = sampleCount
        func size(_ f: Double) -> Int { f > 0 ? Swift.max(1, Int((Double(m) * f).rounded())) : 0 }
        let v = size(validationFraction), t = size(testFraction)
        guard m - v - t >= 1 else {
            throw TrainingError.invalidOption(name: "split", value: "\(v) validation + \(t) test of \(m) samples", requirement: "at least one training sample")
        }
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<m)
        rng.shuffle(&order)
        let vi = Array(order[0..<v]), ti = Array(order[v..<(v + t)]), ri = Array(order[(v + t)...])
        return DatasetSplit(training: try subset(ri), validation: try subset(vi), test: try subset(ti),
                            trainingIndices: ri, validationIndices: vi, testIndices: ti)
    }
}
