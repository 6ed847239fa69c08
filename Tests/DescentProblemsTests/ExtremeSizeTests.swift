import Foundation
import Testing
import Descent
import DescentLinearAlgebra
@testable import DescentProblems
import DescentTestSupport

/// Sizes no process can hold, and forged counts in a checkpoint's history: each is a thrown
/// error naming the size, never a trap, a bad pointer or an index out of range.
@Suite struct ExtremeSizeTests {
    static func isAllocationError(_ error: any Error) -> Bool {
        if case LinearAlgebraError.allocationTooLarge = error { return true }
        return false
    }

    /// N = Int.max: 2N scalars overflow a byte count (it dereferenced a bad pointer).
    @Test(arguments: Precision.allCases) func quadraticOfIntMaxDimensions(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for n in [Int.max, Int.max / 2, 1 << 60] {
                let error = #expect(throws: LinearAlgebraError.self, "\(n)") { _ = try IllConditionedQuadraticND<S>(dimension: n) }
                #expect(error.map(Self.isAllocationError) == true)
                #expect(error.map { "\($0)".contains("\(n) parameters") } == true)
            }
            #expect(try IllConditionedQuadraticND<S>(dimension: 1000).dimension == 1000)
        }
        try run(p.scalarType)
    }

    /// A hidden width whose weights (and workspace) exceed memory is refused when the model is
    /// built, before any evaluation allocates.
    @Test(arguments: Precision.allCases) func perceptronWiderThanMemory(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = try SyntheticData.moons(samples: 20, as: S.self).data
            for width in [1 << 40, 1 << 58] {
                let error = #expect(throws: LinearAlgebraError.self, "\(width)") {
                    _ = try MultilayerPerceptron(data: data, hiddenLayers: [width], outputLayer: .sigmoid)
                }
                #expect(error.map(Self.isAllocationError) == true)
                #expect(error.map { "\($0)".contains("2-\(width)-1") } == true)
            }
            #expect(try MultilayerPerceptron(data: data, hiddenLayers: [8], outputLayer: .sigmoid).dimension == 8 * 3 + 9)
        }
        try run(p.scalarType)
    }

    /// 10¹² samples, or 10¹⁰ classes, fit an Int but not memory: refused before generating.
    @Test(arguments: Precision.allCases) func syntheticDataBeyondMemory(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let cases: [(String, () throws -> Void)] = [
                ("linear", { _ = try SyntheticData.linearRegression(samples: 1_000_000_000_000, features: 2, as: S.self) }),
                ("logistic", { _ = try SyntheticData.logisticRegression(samples: 1_000_000_000_000, features: 2, as: S.self) }),
                ("moons", { _ = try SyntheticData.moons(samples: 1_000_000_000_000, as: S.self) }),
                ("softmax classes", { _ = try SyntheticData.softmaxRegression(samples: 10, features: 2, classes: 10_000_000_000, as: S.self) }),
            ]
            for (name, make) in cases {
                let error = #expect(throws: LinearAlgebraError.self, "\(name)") { try make() }
                #expect(error.map(Self.isAllocationError) == true, "\(name)")
            }
        }
        try run(p.scalarType)
    }

    /// A std of 0, a negative, NaN or ∞ std, or a non-finite mean would write ±∞/NaN into the
    /// features: refused by the initializer and by decoding.
    @Test(arguments: Precision.allCases) func standardizationNeedsPositiveFiniteStds(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for std in [S(0), -1, .nan, .infinity] {
                #expect(throws: DataError.self, "\(std)") { _ = try Standardization<S>(means: [0], stds: [std]) }
            }
            #expect(throws: DataError.self) { _ = try Standardization<S>(means: [.nan], stds: [1]) }
            let forged = Data(#"{"means":[0,1],"stds":[2,0]}"#.utf8)
            #expect(throws: DataError.self) { _ = try JSONDecoder().decode(Standardization<S>.self, from: forged) }
            let good = try Standardization<S>(means: [1], stds: [2])
            var x = try Matrix<S>(rows: 1, columns: 1, elements: [5])
            try good.apply(to: &x)
            #expect(x.elements == [2])
        }
        try run(p.scalarType)
    }

    /// A checkpoint whose history stores θ per record, as JSON.
    static func checkpointWithRecordedParameters() throws -> [String: Any] {
        let problem = try SyntheticData.logisticRegression(samples: 30, features: 2, seed: 1, as: Double.self)
        let model = try LogisticRegression(data: problem.data)
        var state = try TrainingState(parameters: model.initialParameters(seed: 0), optimizer: try SGD<Double>(learningRate: 0.1),
                                      options: TrainingOptions(maxSteps: 4, recordParameters: true, stopAfter: 2))
        _ = try minimize(model, state: &state)
        return try #require(try JSONSerialization.jsonObject(with: state.checkpoint(format: .json)) as? [String: Any])
    }

    /// Forged history counts: parameter counts that wrap around Int to the stored total, counts
    /// beyond the stored values, negative counts, validation rows out of range. Each is a
    /// ``TrainingError/corruptState(_:)`` (the wrapping sum passed the check and indexed out of range).
    @Test func forgedHistoryCountsAreRefused() throws {
        let json = try Self.checkpointWithRecordedParameters()
        let history = try #require(json["history"] as? [String: Any])
        let counts = try #require(history["parameterCounts"] as? [Int])
        let total = counts.reduce(0, +)
        #expect(counts.count == 2 && total > 0)
        let edits: [(String, [String: Any])] = [
            ("wrapping counts", ["parameterCounts": [Int.max, Int.max, total + 2]]),
            ("counts beyond the values", ["parameterCounts": [total, total]]),
            ("negative count", ["parameterCounts": [-1, total + 1]]),
            ("validation row out of range", ["validationSteps": [5], "validationLoss": [0.5], "validationAccuracy": [0.5]]),
        ]
        for (name, edit) in edits {
            var h = history
            for (k, v) in edit { h[k] = v }
            if name == "wrapping counts" {
                // Three records: one more of every column.
                for key in ["step", "loss", "gradientNorm", "learningRate", "elapsed"] { h[key] = ((h[key] as? [Any]) ?? []) + [0] }
            }
            var forged = json
            forged["history"] = h
            var step = forged["step"] as? Int ?? 0
            step = Swift.max(step, 3)
            forged["step"] = step
            let data = try JSONSerialization.data(withJSONObject: forged)
            #expect(throws: TrainingError.self, "\(name)") { _ = try TrainingState<SGD<Double>>(checkpoint: data) }
        }
    }
}
