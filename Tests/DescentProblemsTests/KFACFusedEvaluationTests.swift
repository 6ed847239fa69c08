import Testing
@testable import DescentProblems
import DescentTestSupport

/// The bits of a value, for bit-identity checks (NaN-safe, −0 ≠ +0).
private func bits<S: BLASScalar>(_ a: [S]) -> [UInt8] { a.withUnsafeBytes { Array($0) } }

@Suite("K-FAC: gradient and factors from one evaluation")
struct KFACFusedEvaluationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var output: OutputLayer
        var fisher: FisherKind
        var precision: Precision
        var testDescription: String { "\(output.rawValue)/\(fisher.rawValue)/\(precision)" }
    }

    static let cases: [Case] = OutputLayer.allCases.flatMap { o in
        [FisherKind.exact, .sampled, .empirical].flatMap { f in Precision.allCases.map { Case(output: o, fisher: f, precision: $0) } }
    }

    static func data(_ output: OutputLayer, m: Int = 13, d: Int = 3) -> Dataset<Double> {
        randomData(m: m, d: d, seed: 91) { rng, i in
            switch output {
            case .linear: return rng.nextNormal()
            case .sigmoid: return Double(i % 2)
            case .softmax: return Double(i % 3)
            }
        }
    }

    /// The fused call against `lossAndGradient` then `kroneckerFactors`: loss, gradient and
    /// factors bit for bit, on a batch and on all data, and the factor buffers reused.
    static func checkFused<F: Objective>(_ f: F, θ: [F.Scalar], fisher: FisherKind) throws {
        for batch in [[4, 0, 0, 9, 12, 7], nil] as [[Int]?] {
            func withB<R>(_ body: (UnsafeBufferPointer<Int>?) throws -> R) rethrows -> R {
                if let batch { return try batch.withUnsafeBufferPointer { try body($0) } }
                return try body(nil)
            }
            var g1 = [F.Scalar](repeating: 0, count: f.dimension), g2 = g1
            let (l1, blocks): (F.Scalar, [KroneckerBlock<F.Scalar>]?) = θ.withUnsafeBufferPointer { t in
                withB { b in
                    let l = g1.withUnsafeMutableBufferPointer { f.lossAndGradient(at: t, batch: b, gradient: $0) }
                    return (l, f.kroneckerFactors(at: t, batch: b, fisher: fisher, step: 5, seed: 17))
                }
            }
            let expected = try #require(blocks)
            var factors: [KroneckerBlock<F.Scalar>] = []
            for round in 0..<2 {
                let addresses = factors.map { b in b.activations.withUnsafeBufferPointer { $0.baseAddress } }
                let l2 = θ.withUnsafeBufferPointer { t in
                    withB { b in
                        g2.withUnsafeMutableBufferPointer {
                            f.lossGradientAndKroneckerFactors(at: t, batch: b, fisher: fisher, step: 5, seed: 17, gradient: $0, factors: &factors)
                        }
                    }
                }
                #expect(bits([l1]) == bits([l2]), "loss")
                #expect(bits(g1) == bits(g2), "gradient")
                #expect(factors.count == expected.count)
                for (x, y) in zip(factors, expected) {
                    #expect(x.parameterOffset == y.parameterOffset && x.outputs == y.outputs && x.inputs == y.inputs)
                    #expect(bits(x.activations) == bits(y.activations), "A")
                    #expect(bits(x.preactivationGradients) == bits(y.preactivationGradients), "G")
                }
                if round == 1 {
                    // The second call wrote into the first call's buffers.
                    #expect(factors.map { b in b.activations.withUnsafeBufferPointer { $0.baseAddress } } == addresses)
                }
            }
        }
    }

    @Test("the perceptron: bit-identical to the two calls", arguments: cases)
    func perceptron(_ c: Case) throws {
        let data = Self.data(c.output)
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [5, 2], hiddenActivation: .tanh,
                                                  outputLayer: c.output, classCount: c.output == .softmax ? 3 : nil)
            try Self.checkFused(net, θ: randomVector(net.dimension, seed: 92, scale: 0.7).map { S($0) }, fisher: c.fisher)
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("the regressions as one-layer networks: bit-identical to the two calls (L2 term in the gradient)", arguments: cases)
    func regressions(_ c: Case) throws {
        let data = Self.data(c.output)
        func run<S: BLASScalar>(_: S.Type) throws {
            let d = data.converted(to: S.self)
            switch c.output {
            case .linear:
                let f = try LinearRegression<S>(data: d, l2: 0.1)
                try Self.checkFused(f, θ: randomVector(f.dimension, seed: 93).map { S($0) }, fisher: c.fisher)
            case .sigmoid:
                let f = try LogisticRegression<S>(data: d, l2: 0.1)
                try Self.checkFused(f, θ: randomVector(f.dimension, seed: 93).map { S($0) }, fisher: c.fisher)
            case .softmax:
                let f = try SoftmaxRegression<S>(data: d, classCount: 3, l2: 0.1)
                try Self.checkFused(f, θ: randomVector(f.dimension, seed: 93).map { S($0) }, fisher: c.fisher)
            }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("minimize (fused) gives the iterates of the manual loop with separate calls, bit for bit; a callback that edits θ gets factors at its θ",
          arguments: Precision.allCases, [false, true])
    func minimizeBitIdentical(_ precision: Precision, editing: Bool) throws {
        let data = Self.data(.softmax, m: 40, d: 4)
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [6], outputLayer: .softmax)
            let start = net.initialParameters(seed: 4)
            let make = { try KFAC<S>(learningRate: 0.3, damping: .levenbergMarquardt(initial: 0.05), factorDecay: 0.9, inverseUpdateInterval: 2) }
            let options = TrainingOptions<S>(maxSteps: 6, batchSize: 16, seed: 8, fisher: .sampled)
            var trained = try make()
            let result = try minimize(net, from: start, optimizer: &trained, options: options) { record, _, θ in
                if editing && record.step == 2 { θ = θ.map { $0 * S(0.5) } }
                return .continue
            }
            var manual = try make()
            var θ = start
            var sampler = try MinibatchSampler(sampleCount: net.sampleCount, batchSize: 16, seed: 8)
            for t in 0..<6 {
                var batch: [Int] = []
                sampler.withNextBatch { batch.append(contentsOf: $0) }
                var g = [S](repeating: 0, count: net.dimension)
                let before = θ.withUnsafeBufferPointer { tp in
                    batch.withUnsafeBufferPointer { b in g.withUnsafeMutableBufferPointer { net.lossAndGradient(at: tp, batch: b, gradient: $0) } }
                }
                if editing && t == 2 { θ = θ.map { $0 * S(0.5) } }
                let blocks = try #require(θ.withUnsafeBufferPointer { tp in
                    batch.withUnsafeBufferPointer { net.kroneckerFactors(at: tp, batch: $0, fisher: .sampled, step: t, seed: 8) }
                })
                try manual.updateCurvature(.kronecker(blocks))
                try manual.step(&θ, gradient: g)
                let after = θ.withUnsafeBufferPointer { tp in batch.withUnsafeBufferPointer { net.loss(at: tp, batch: $0) } }
                try manual.reportLoss(before: before, after: after)
            }
            #expect(trained.stepCount == 6 && trained.curvatureUpdates == 6)
            #expect(bits(result.parameters) == bits(θ))
            #expect(bits([trained.currentDamping]) == bits([manual.currentDamping]))
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }
}
