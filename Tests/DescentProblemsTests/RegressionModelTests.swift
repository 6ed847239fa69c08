import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// Plain scalar references (Double loops, no BLAS) of the three regression models.
enum Reference {
    static func row(_ data: Dataset<Double>, _ i: Int) -> [Double] {
        Array(data.features.elements[(i * data.featureCount)..<((i + 1) * data.featureCount)])
    }

    /// Returns (loss, gradient) of model `kind` with θ, L2 λ, over `batch`.
    static func evaluate(_ kind: String, _ data: Dataset<Double>, _ θ: [Double], l2: Double, k: Int = 0, batch: [Int]?) -> (Double, [Double]) {
        let d = data.featureCount
        let idx = batch ?? Array(0..<data.sampleCount)
        var loss = 0.0
        var g = [Double](repeating: 0, count: θ.count)
        for i in idx {
            let x = row(data, i), y = data.targets[i]
            switch kind {
            case "linear", "logistic":
                var z = θ[d]
                for j in 0..<d { z += θ[j] * x[j] }
                let r: Double
                if kind == "linear" {
                    loss += 0.5 * (y - z) * (y - z)
                    r = z - y
                } else {
                    loss += log(1 + exp(z)) - y * z
                    r = 1 / (1 + exp(-z)) - y
                }
                for j in 0..<d { g[j] += r * x[j] }
                g[d] += r
            default:  // softmax
                let z = (0..<k).map { c in (0..<d).reduce(θ[c * (d + 1) + d]) { $0 + θ[c * (d + 1) + $1] * x[$1] } }
                let s = z.map { exp($0) }.reduce(0, +)
                loss += log(s) - z[Int(y)]
                for c in 0..<k {
                    let r = exp(z[c]) / s - (c == Int(y) ? 1 : 0)
                    for j in 0..<d { g[c * (d + 1) + j] += r * x[j] }
                    g[c * (d + 1) + d] += r
                }
            }
        }
        let b = Double(idx.count)
        loss /= b
        for j in g.indices { g[j] /= b }
        // L2 on the weights only.
        let blocks = kind == "softmax" ? k : 1
        for c in 0..<blocks {
            for j in 0..<d {
                let w = θ[c * (d + 1) + j]
                loss += l2 / 2 * w * w
                g[c * (d + 1) + j] += l2 * w
            }
        }
        return (loss, g)
    }
}

/// The three regression models on small seeded data, in both precisions.
func regressionModels<S: BLASScalar>(_: S.Type, l2: Double) throws -> [(kind: String, objective: any Objective<S>, data: Dataset<Double>, k: Int)] {
    let linear = randomData(m: 23, d: 4, seed: 1) { rng, _ in rng.nextNormal() }
    let logistic = randomData(m: 29, d: 3, seed: 2) { rng, _ in rng.nextUniform() < 0.4 ? 1 : 0 }
    let softmax = randomData(m: 31, d: 3, seed: 3) { rng, _ in Double(rng.nextInt(below: 4)) }
    return [
        ("linear", try LinearRegression(data: linear.converted(to: S.self), l2: S(l2)), linear, 0),
        ("logistic", try LogisticRegression(data: logistic.converted(to: S.self), l2: S(l2)), logistic, 0),
        ("softmax", try SoftmaxRegression(data: softmax.converted(to: S.self), classCount: 4, l2: S(l2)), softmax, 4),
    ]
}

struct RegressionModelTests {
    func checkAgainstReference<S: BLASScalar>(_: S.Type) throws {
        for l2 in [0.0, 0.3] {
            for (kind, objective, data, k) in try regressionModels(S.self, l2: l2) {
                let θd = randomVector(objective.dimension, seed: 7)
                let θ = θd.map { S($0) }
                for batch in [nil, [3, 0, 5, 5, 11]] as [[Int]?] {
                    let (refLoss, refGrad) = Reference.evaluate(kind, data, θd, l2: l2, k: k, batch: batch)
                    let (loss, grad) = try objective.lossAndGradient(at: θ, batch: batch)
                    let onlyLoss = try objective.loss(at: θ, batch: batch)
                    // Float: the inputs are rounded to Float, so compare at Float's tolerance scaled by the sizes.
                    let tol = S.self == Double.self ? 1e-12 : 1e-5
                    #expect(relativeError(loss, S(refLoss)) <= tol, "\(kind) loss, l2 \(l2), batch \(String(describing: batch))")
                    #expect(relativeError(onlyLoss, S(refLoss)) <= tol, "\(kind) loss(at:)")
                    #expect(relativeError(grad, refGrad.map { S($0) }) <= tol, "\(kind) gradient, l2 \(l2)")
                }
            }
        }
    }

    @Test("regression losses and gradients match a plain scalar reference", arguments: Precision.allCases)
    func matchesReference(_ p: Precision) throws {
        try checkAgainstReference(p.scalarType)
    }

    @Test("regression gradients match central finite differences (Double)")
    func finiteDifferences() throws {
        for (kind, objective, _, _) in try regressionModels(Double.self, l2: 0.2) {
            let θ = randomVector(objective.dimension, seed: 11)
            let g = try objective.gradient(at: θ, batch: [1, 2, 2, 8])
            let fd = finiteDifferenceGradient(θ) { try! objective.loss(at: $0, batch: [1, 2, 2, 8]) }
            #expect(relativeError(g, fd) <= 1e-8, "\(kind)")
        }
    }

    func checkPerSample<S: BLASScalar>(_: S.Type) throws {
        for (kind, objective, _, _) in try regressionModels(S.self, l2: 0.1) {
            let θ = randomVector(objective.dimension, seed: 5).map { S($0) }
            for batch in [nil, [4, 1, 1, 7]] as [[Int]?] {
                let s = try #require(try objective.perSampleGradients(at: θ, batch: batch))
                let rows = batch?.count ?? objective.sampleCount
                #expect(s.rows == rows && s.columns == objective.dimension)
                var mean = [Double](repeating: 0, count: s.columns)
                for i in 0..<s.rows { for j in 0..<s.columns { mean[j] += Double(s[i, j]) / Double(rows) } }
                let g = try objective.gradient(at: θ, batch: batch).map { Double($0) }
                #expect(relativeError(mean, g) <= (S.self == Double.self ? 1e-13 : 1e-5), "\(kind)")
            }
        }
    }

    @Test("per-sample gradients average to the batch gradient", arguments: Precision.allCases)
    func perSampleMean(_ p: Precision) throws {
        try checkPerSample(p.scalarType)
    }

    func checkJacobian<S: BLASScalar>(_: S.Type) throws {
        for (kind, objective, data, k) in try regressionModels(S.self, l2: 0) {
            let θd = randomVector(objective.dimension, seed: 9)
            let θ = θd.map { S($0) }
            let batch = [2, 0, 6]
            let oj = try #require(try objective.outputJacobian(at: θ, batch: batch))
            let outputs = max(k, 1)
            #expect(oj.samples == 3 && oj.outputs == outputs && oj.jacobian.columns == objective.dimension)
            // The models are linear in θ: J θ reproduces the outputs (ŷ or logits) exactly.
            let d = data.featureCount
            for (r, i) in batch.enumerated() {
                let x = Reference.row(data, i)
                for c in 0..<outputs {
                    let base = kind == "softmax" ? c * (d + 1) : 0
                    let z = (0..<d).reduce(θd[base + d]) { $0 + θd[base + $1] * x[$1] }
                    var jθ = 0.0
                    for j in 0..<objective.dimension { jθ += Double(oj.jacobian[r * outputs + c, j]) * θd[j] }
                    #expect(relativeError(jθ, z) <= (S.self == Double.self ? 1e-12 : 1e-5), "\(kind) sample \(i) output \(c)")
                    switch oj.distribution {
                    case .gaussian(let beta): #expect(beta == 1)
                    case .bernoulli(let p): #expect(relativeError(Double(p[r]), 1 / (1 + exp(-z))) <= tolerance(S.self) * 10)
                    case .categorical(let p):
                        let zs = (0..<k).map { cc in (0..<d).reduce(θd[cc * (d + 1) + d]) { $0 + θd[cc * (d + 1) + $1] * x[$1] } }
                        let s = zs.map { exp($0) }.reduce(0, +)
                        #expect(relativeError(Double(p[r, c]), exp(z) / s) <= tolerance(S.self) * 10)
                    case .poisson(let mu): #expect(relativeError(Double(mu[r]), exp(z)) <= tolerance(S.self) * 10)
                    }
                }
            }
        }
    }

    @Test("output Jacobians reproduce the linear predictor and the output distribution", arguments: Precision.allCases)
    func jacobians(_ p: Precision) throws {
        try checkJacobian(p.scalarType)
    }

    @Test("losses are stable for huge logits")
    func stability() throws {
        let data = try Dataset<Double>(features: try Matrix(rows: 2, columns: 1, elements: [1, -1]), targets: [1, 1])
        let logistic = try LogisticRegression(data: data)
        // z = ±800: softplus(800) − 800 = 0 and softplus(−800) + 800 = 800 ... mean 400, no inf/NaN.
        let (loss, g) = try logistic.lossAndGradient(at: [800, 0])
        #expect(loss == 400)
        #expect(g.allSatisfy { $0.isFinite })
        let soft = try SoftmaxRegression(data: Dataset(features: try Matrix(rows: 1, columns: 1, elements: [1]), targets: [0]), classCount: 2)
        // logits (−1000, 1000): loss = 2000 exactly.
        #expect(try soft.loss(at: [-1000, 0, 1000, 0]) == 2000)
    }

    @Test("invalid targets are refused, naming the sample")
    func invalidTargets() throws {
        let data = try Dataset<Double>(features: try Matrix(rows: 3, columns: 1, elements: [0, 1, 2]), targets: [0, 2, 1])
        #expect(throws: DataError.invalidTarget(sample: 1, value: "2.0", expected: "0 or 1")) { try LogisticRegression(data: data) }
        #expect(throws: DataError.self) { try SoftmaxRegression(data: data, classCount: 2) }
        let halves = try Dataset<Double>(features: try Matrix(rows: 1, columns: 1, elements: [0]), targets: [0.5])
        #expect(throws: DataError.invalidTarget(sample: 0, value: "0.5", expected: "an integer class label in 0..<3")) {
            try SoftmaxRegression(data: halves, classCount: 3)
        }
    }
}
