import Descent
import DescentLinearAlgebra
import DescentProblems
import Foundation
import Testing
import DescentTestSupport

/// The precondition sweep: every public DescentProblems entry point that
/// takes user-supplied sizes throws a named error instead of stopping the process; error messages
/// reach `localizedDescription`.
@Suite struct PublicEntryPointTests {

    func dimensionMismatch(_ body: () throws -> Void, expected: Int, found: Int) {
        #expect {
            try body()
        } throws: { error in
            guard case let .dimensionMismatch(_, e, f) = error as? DataError else { return false }
            return e == expected && f == found
        }
    }

    func check<S: BLASScalar>(_: S.Type) throws {
        let r = Rosenbrock<S>()
        dimensionMismatch({ _ = try r.loss(at: [1, 2, 3]) }, expected: 2, found: 3)
        dimensionMismatch({ _ = try r.gradient(at: [1]) }, expected: 2, found: 1)
        dimensionMismatch({ _ = try r.lossAndGradient(at: []) }, expected: 2, found: 0)
        dimensionMismatch({ _ = try r.outputJacobian(at: [1, 2, 3]) }, expected: 2, found: 3)
        dimensionMismatch({ _ = try r.perSampleGradients(at: [1, 2, 3]) }, expected: 2, found: 3)
        dimensionMismatch({ _ = try r.accuracy(at: [1, 2, 3]) }, expected: 2, found: 3)
        dimensionMismatch({ _ = try Rosenbrock<S>(start: [1, 2, 3]) }, expected: 2, found: 3)
        dimensionMismatch({ _ = try Beale<S>(start: [1]) }, expected: 2, found: 1)
        dimensionMismatch({ _ = try Saddle<S>(start: []) }, expected: 2, found: 0)
        dimensionMismatch({ _ = try IllConditionedQuadratic<S>(a: 1, b: 2, start: [1, 2, 3]) }, expected: 2, found: 3)
        // The right count still evaluates, as the unsafe-buffer form does.
        let loss = try r.loss(at: [1, 1])
        #expect(loss == 0)

        let data = try SyntheticData.logisticRegression(samples: 20, features: 3, seed: 1, as: S.self).data
        let logistic = try LogisticRegression(data: data)
        dimensionMismatch({ _ = try logistic.loss(at: [0, 0]) }, expected: 4, found: 2)
        #expect(throws: DataError.self) { _ = try logistic.loss(at: [0, 0, 0, 0], batch: [0, 20]) }
        #expect(throws: DataError.self) { _ = try logistic.loss(at: [0, 0, 0, 0], batch: [-1]) }
        #expect(throws: DataError.self) { _ = try logistic.gradient(at: [0, 0, 0, 0], batch: []) }
        dimensionMismatch({ _ = try logistic.probabilities([0], features: data.features) }, expected: 4, found: 1)
        #expect(throws: DataError.self) {
            _ = try logistic.probabilities([0, 0, 0, 0], features: try Matrix<S>(rows: 1, columns: 2, elements: [1, 2]))
        }
        let linear = try LinearRegression(data: data)
        dimensionMismatch({ _ = try linear.predict([1, 2], features: data.features) }, expected: 4, found: 2)
        let mlp = try MultilayerPerceptron(data: data, hiddenLayers: [2], outputLayer: .sigmoid)
        dimensionMismatch({ _ = try mlp.outputs([1], features: data.features) }, expected: mlp.dimension, found: 1)
        #expect(throws: DataError.self) {
            _ = try MultilayerPerceptron(data: data, hiddenLayers: [Int.max / 2, Int.max / 2], outputLayer: .sigmoid)
        }

        // Data sets and generators.
        #expect(throws: DataError.self) { _ = try Dataset(features: try Matrix<S>(rows: 2, columns: 1, elements: [1, 2]), targets: [1]) }
        #expect(throws: DataError.self) {
            _ = try Dataset(features: try Matrix<S>(rows: 1, columns: 2, elements: [1, 2]), targets: [1], featureNames: ["a"])
        }
        #expect(throws: DataError.self) { _ = try data.subset([0, 20]) }
        #expect(throws: DataError.self) { _ = try Standardization<S>(means: [0], stds: []) }
        var x = data.features
        let before = x
        #expect(throws: DataError.self) { try Standardization<S>(means: [0], stds: [1]).apply(to: &x) }
        #expect(x == before)
        #expect(throws: DataError.self) { _ = try SyntheticData.softmaxRegression(samples: 10, features: 2, classes: 1, as: S.self) }
        #expect(throws: DataError.self) { _ = try SyntheticData.linearRegression(samples: -1, features: 2, as: S.self) }
        #expect(throws: DataError.self) { _ = try SyntheticData.logisticRegression(samples: Int.max, features: 2, as: S.self) }
        #expect(throws: DataError.self) { _ = try SyntheticData.moons(samples: 0, as: S.self) }

        // Class counts: a stray label is a named error, not a K·(d + 1) allocation.
        let stray = try Dataset(features: try Matrix<S>(rows: 2, columns: 1, elements: [1, 2]), targets: [0, S(300_000_000)])
        #expect(throws: DataError.tooManyClasses(found: 300_000_001, limit: 65_536)) { _ = try SoftmaxRegression(data: stray) }
        #expect(throws: DataError.self) { _ = try MultilayerPerceptron(data: stray, hiddenLayers: [2], outputLayer: .softmax) }
        #expect(throws: DataError.self) { _ = try SoftmaxRegression(data: data, classCount: 1 << 20) }
    }

    @Test(arguments: Precision.allCases) func throwsInsteadOfStopping(_ p: Precision) throws {
        try check(p.scalarType)
    }

    /// CSV cells: a NUL byte inside a number, a value beyond Float, a long cell echoed in short.
    @Test func csvCells() throws {
        #expect(throws: DataError.self) { _ = try CSVLoader.parse("a,target\n1\u{0}5,1\n", as: Double.self) }
        #expect(throws: DataError.self) { _ = try CSVLoader.parse("a,target\n1e300,1\n", as: Float.self) }
        let d = try CSVLoader.parse("a,target\n1e300,1\n", as: Double.self)
        #expect(d.features.elements == [1e300])
        do {
            _ = try CSVLoader.parse("a,target\n" + String(repeating: "1", count: 10_000) + "x,1\n", as: Double.self)
            Issue.record("a bad cell was accepted")
        } catch let error as DataError {
            #expect(error.description.count < 200)
            #expect(error.description.contains("(10001 characters)"))
        }
        let url = FileManager.default.temporaryDirectory
        #expect(throws: DataError.isDirectory(path: url.path)) { _ = try CSVLoader.load(url, as: Double.self) }
    }

    /// `localizedDescription` is the message for every DescentProblems error.
    @Test func localizedDescriptions() {
        let data: any Error = DataError.dimensionMismatch(objective: "rosenbrock", expected: 2, found: 3)
        #expect(data.localizedDescription == "rosenbrock: θ has 3 values, expected 2")
        let training: any Error = TrainingError.parameterCountMismatch(expected: 2, found: 3)
        #expect(training.localizedDescription == "\(TrainingError.parameterCountMismatch(expected: 2, found: 3))")
        #expect(!training.localizedDescription.contains("could not be completed"))
    }
}
