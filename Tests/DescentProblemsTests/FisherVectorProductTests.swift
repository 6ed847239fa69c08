import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// F v against the explicit Fisher F = (1/m) Σᵢ Jᵢᵀ Hᵢ Jᵢ formed in the test: Jᵢ from the
/// closed form of the linear models or the scalar network's backpropagation, Hᵢ from the
/// output distribution (β²I, diag(p(1 − p)), diag(p) − ppᵀ) computed in the test.
@Suite("Fisher-vector products against the explicit Fisher")
struct FisherVectorProductTests {
    static let batches: [[Int]?] = [nil, [2, 0, 2, 3]]

    /// The bound a product computed in precision S may miss the Double reference by: every
    /// stage is an inner product over at most `length` terms, so c·ε·length·‖F‖_F·‖v‖₂.
    static func bound<S: BLASScalar>(_: S.Type, length: Int, fisher f: [[Double]], vector v: [Double]) -> Double {
        8 * Double(S.ulpOfOne) * Double(length) * frobenius(f) * norm2(v) + 1e-300
    }

    /// Rounds to S and back, so the reference sees exactly the model's data and parameters.
    static func rounded<S: BLASScalar>(_ x: [Double], _: S.Type) -> [Double] { x.map { Double(S($0)) } }

    static func data(m: Int, d: Int, seed: UInt64, labels: (Int) -> Double) -> Dataset<Double> {
        randomData(m: m, d: d, seed: seed) { _, i in labels(i) }
    }

    /// Checks `objective`'s F v for every batch against `reference(rows)` = (per-sample
    /// Jacobians, per-sample Hessians) in Double.
    static func check<O: FisherVectorProducing>(_ objective: O, θ: [Double], seed: UInt64, length: Int,
                                                 reference: ([Int], [Double]) -> (jacobians: [[[Double]]], hessians: [[[Double]]])) throws {
        typealias S = O.Scalar
        let n = objective.dimension
        let θs = θ.map { S($0) }
        let v = randomVector(n, seed: seed).map { S($0) }
        for batch in batches {
            let rows = batch ?? Array(0..<objective.sampleCount)
            let (jacobians, hessians) = reference(rows, rounded(θ, S.self))
            let f = explicitFisher(jacobians: jacobians, hessians: hessians)
            let vd = v.map(Double.init)
            let expected = fisherTimes(f, vd)
            let product = try objective.fisherVectorProduct(at: θs, batch: batch, vector: v)
            let error = maxAbsDifference(product, expected)
            let limit = bound(S.self, length: length + rows.count, fisher: f, vector: vd)
            #expect(error <= limit, "\(objective.name) \(S.self) batch \(String(describing: batch)): |Δ| = \(error) > \(limit)")
            #expect(norm2(expected) > 0, "a vacuous case")
        }
    }

    @Test("linear regression: F v = X̄ᵀX̄v/m", arguments: Precision.allCases)
    func linear(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = randomData(m: 5, d: 3, seed: 11) { rng, _ in rng.nextNormal() }
            let model = try LinearRegression<S>(data: data.converted(to: S.self), l2: 0.5)
            let x = data.features.elements.map { Double(S($0)) }
            try Self.check(model, θ: randomVector(4, seed: 12), seed: 13, length: 4) { rows, _ in
                (rows.map { i in [Array(x[(i * 3)..<(i * 3 + 3)]) + [1]] }, rows.map { _ in [[1]] })
            }
        }
        if precision == .float { try run(Float.self) } else { try run(Double.self) }
    }

    @Test("logistic regression: Hᵢ = p(1 − p)", arguments: Precision.allCases)
    func logistic(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = randomData(m: 5, d: 3, seed: 21) { _, i in Double(i % 2) }
            let model = try LogisticRegression<S>(data: data.converted(to: S.self))
            let x = data.features.elements.map { Double(S($0)) }
            try Self.check(model, θ: randomVector(4, seed: 22), seed: 23, length: 4) { rows, θ in
                let bars = rows.map { i in Array(x[(i * 3)..<(i * 3 + 3)]) + [1] }
                let p = bars.map { scalarSigmoid(zip($0, θ).reduce(0) { $0 + $1.0 * $1.1 }) }
                return (bars.map { [$0] }, p.map { [[$0 * (1 - $0)]] })
            }
        }
        if precision == .float { try run(Float.self) } else { try run(Double.self) }
    }

    @Test("softmax regression: Hᵢ = diag(p) − ppᵀ", arguments: Precision.allCases)
    func softmax(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let d = 3, k = 3
            let data = randomData(m: 5, d: d, seed: 31) { _, i in Double(i % 3) }
            let model = try SoftmaxRegression<S>(data: data.converted(to: S.self))
            let x = data.features.elements.map { Double(S($0)) }
            try Self.check(model, θ: randomVector(k * (d + 1), seed: 32), seed: 33, length: k * (d + 1)) { rows, θ in
                var jacobians: [[[Double]]] = [], hessians: [[[Double]]] = []
                for i in rows {
                    let bar = Array(x[(i * d)..<(i * d + d)]) + [1]
                    let z = (0..<k).map { c in zip(bar, θ[(c * (d + 1))..<((c + 1) * (d + 1))]).reduce(0) { $0 + $1.0 * $1.1 } }
                    let p = scalarSoftmax(z)
                    jacobians.append((0..<k).map { c in
                        (0..<(k * (d + 1))).map { j in j / (d + 1) == c ? bar[j % (d + 1)] : 0 }
                    })
                    hessians.append((0..<k).map { a in (0..<k).map { b in (a == b ? p[a] : 0) - p[a] * p[b] } })
                }
                return (jacobians, hessians)
            }
        }
        if precision == .float { try run(Float.self) } else { try run(Double.self) }
    }

    struct PerceptronCase: Sendable, CustomTestStringConvertible {
        var output: OutputLayer
        var activation: HiddenActivation
        var precision: Precision
        var testDescription: String { "\(output.rawValue)/\(activation.rawValue)/\(precision)" }
    }

    static let perceptronCases: [PerceptronCase] = OutputLayer.allCases.flatMap { o in
        HiddenActivation.allCases.flatMap { a in Precision.allCases.map { PerceptronCase(output: o, activation: a, precision: $0) } }
    }

    @Test("perceptron: R-operator and one backward pass", arguments: perceptronCases)
    func perceptron(_ c: PerceptronCase) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let d = 3, hidden = [4, 3]
            let data = randomData(m: 5, d: d, seed: 41) { rng, i in
                switch c.output {
                case .linear: return rng.nextNormal()
                case .sigmoid: return Double(i % 2)
                case .softmax: return Double(i % 3)
                }
            }
            let model = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: hidden,
                                                    hiddenActivation: c.activation, outputLayer: c.output)
            let θ = randomVector(model.dimension, seed: 42, scale: 0.8)
            let x = data.features.elements.map { Double(S($0)) }
            try Self.check(model, θ: θ, seed: 43, length: model.dimension) { rows, θr in
                let net = ScalarDenseNetwork(sizes: model.layerSizes, activated: [true, true, false], activation: c.activation, θ: θr)
                var jacobians: [[[Double]]] = [], hessians: [[[Double]]] = []
                for i in rows {
                    let xi = Array(x[(i * d)..<(i * d + d)])
                    jacobians.append(net.outputJacobian(xi))
                    let z = net.forward(xi).last!
                    switch c.output {
                    case .linear: hessians.append([[1]])
                    case .sigmoid: let p = scalarSigmoid(z[0]); hessians.append([[p * (1 - p)]])
                    case .softmax:
                        let p = scalarSoftmax(z)
                        hessians.append(p.indices.map { a in p.indices.map { b in (a == b ? p[a] : 0) - p[a] * p[b] } })
                    }
                }
                return (jacobians, hessians)
            }
        }
        if c.precision == .float { try run(Float.self) } else { try run(Double.self) }
    }

    @Test("Rosenbrock and the quadratics: Jᵀ J v from their Jacobians", arguments: Precision.allCases)
    func analytic(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let rosenbrock = Rosenbrock<S>()
            let θ: [S] = [S(-1.5), S(2)], v: [S] = [S(0.3), S(-0.7)]
            let x = Double(θ[0]), vd = v.map(Double.init)
            // J = [[−1, 0], [−20x, 10]]: Jᵀ J v.
            let jv = [-vd[0], -20 * x * vd[0] + 10 * vd[1]]
            let expected = [-jv[0] - 20 * x * jv[1], 10 * jv[1]]
            let product = try rosenbrock.fisherVectorProduct(at: θ, vector: v)
            #expect(maxAbsDifference(product, expected) <= 8 * Double(S.ulpOfOne) * 1e3)
            let quadratic = IllConditionedQuadratic<S>()
            let q = try quadratic.fisherVectorProduct(at: θ, vector: v)
            let a = Double(quadratic.a), b = Double(quadratic.b)
            #expect(maxAbsDifference(q, [a * a * vd[0], b * b * vd[1]]) <= 4 * Double(S.ulpOfOne) * b * b)
            let nd = try IllConditionedQuadraticND<S>(dimension: 6)
            let w = (0..<6).map { S(Double($0) - 2.5) }
            let r = try nd.fisherVectorProduct(at: [S](repeating: 0, count: 6), vector: w)
            let curvatures = (0..<6).map { Double(nd.curvature($0)) }
            #expect(maxAbsDifference(r, zip(curvatures, w).map { $0 * Double($1) }) <= 4 * Double(S.ulpOfOne) * curvatures.max()! * 3)
        }
        if precision == .float { try run(Float.self) } else { try run(Double.self) }
    }

    @Test("the array convenience checks θ, the batch and the vector before evaluating")
    func arrayChecks() throws {
        let data = randomData(m: 4, d: 2, seed: 51) { _, i in Double(i % 2) }
        let model = try LogisticRegression<Double>(data: data)
        let θ = [0.1, 0.2, 0.3]
        #expect(throws: DataError.shapeMismatch("logistic: the vector of the Fisher-vector product has 2 values, expected 3")) {
            try model.fisherVectorProduct(at: θ, vector: [1, 2])
        }
        #expect(throws: DataError.dimensionMismatch(objective: "logistic", expected: 3, found: 2)) {
            try model.fisherVectorProduct(at: [1, 2], vector: θ)
        }
        #expect(throws: DataError.shapeMismatch("logistic: batch index 4 is outside 0..<4")) {
            try model.fisherVectorProduct(at: θ, batch: [0, 4], vector: θ)
        }
    }
}
