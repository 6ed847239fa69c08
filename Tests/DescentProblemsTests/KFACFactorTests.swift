import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// A plain scalar tanh perceptron in Double: the reference for K-FAC's factors.
private typealias ScalarNetwork = ScalarDenseNetwork

extension ScalarDenseNetwork {
    /// The tanh perceptron of `sizes` (every layer but the last activated).
    fileprivate init(sizes: [Int], θ: [Double]) {
        self.init(sizes: sizes, activated: (1..<sizes.count).map { $0 < sizes.count - 1 }, activation: .tanh, θ: θ)
    }
}

/// m × d standard-normal features with targets for `output`: normal values (linear), labels
/// alternating 0/1 (sigmoid) or cycling 0/1/2 (softmax, three classes).
private func labelledData(m: Int, d: Int, seed: UInt64, output: OutputLayer) -> Dataset<Double> {
    randomData(m: m, d: d, seed: seed) { rng, i in
        switch output {
        case .linear: return rng.nextNormal()
        case .sigmoid: return Double(i % 2)
        case .softmax: return Double(i % 3)
        }
    }
}

private func softmax(_ z: [Double]) -> [Double] {
    let m = z.max()!
    let e = z.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

private func sigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

/// The reference factors: A_l = mean āāᵀ, G_l = mean Σ_s δδᵀ for the output seeds of `fisher`
/// (exact or empirical).
private func referenceFactors(_ net: ScalarNetwork, x: [[Double]], y: [Double], batch: [Int], output: OutputLayer,
                              fisher: FisherKind) -> (a: [[Double]], g: [[Double]]) {
    let m = Double(batch.count)
    var a = (1..<net.sizes.count).map { [Double](repeating: 0, count: (net.sizes[$0 - 1] + 1) * (net.sizes[$0 - 1] + 1)) }
    var g = (1..<net.sizes.count).map { [Double](repeating: 0, count: net.sizes[$0] * net.sizes[$0]) }
    for idx in batch {
        let acts = net.forward(x[idx])
        for l in a.indices {
            let bar = acts[l] + [1]
            for i in bar.indices { for j in bar.indices { a[l][i * bar.count + j] += bar[i] * bar[j] / m } }
        }
        let z = acts.last!
        var seeds: [[Double]]
        switch (fisher, output) {
        case (.empirical, .linear): seeds = [[z[0] - y[idx]]]
        case (.empirical, .sigmoid): seeds = [[sigmoid(z[0]) - y[idx]]]
        case (.empirical, .softmax): seeds = [softmax(z).enumerated().map { $0.element - ($0.offset == Int(y[idx]) ? 1 : 0) }]
        case (_, .linear): seeds = [[1]]
        case (_, .sigmoid): let p = sigmoid(z[0]); seeds = [[(p * (1 - p)).squareRoot()]]
        case (_, .softmax):
            let p = softmax(z)
            seeds = p.indices.map { s in p.indices.map { c in p[s].squareRoot() * ((c == s ? 1 : 0) - p[c]) } }
        }
        for u in seeds {
            let deltas = net.backward(acts, seed: u)
            for l in g.indices {
                let d = deltas[l]
                for i in d.indices { for j in d.indices { g[l][i * d.count + j] += d[i] * d[j] / m } }
            }
        }
    }
    return (a, g)
}

@Suite("K-FAC factors and steps on the models")
struct KFACFactorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var output: OutputLayer
        var fisher: FisherKind
        var precision: Precision
        var testDescription: String { "\(output.rawValue)/\(fisher.rawValue)/\(precision)" }
    }

    static let cases: [Case] = OutputLayer.allCases.flatMap { o in
        [FisherKind.exact, .sampled, .empirical].flatMap { f in Precision.allCases.map { Case(output: o, fisher: f, precision: $0) } }
    }

    static func fixtureData(_ f: [String: Any], output: OutputLayer) throws -> Dataset<Double> {
        let x = try matrixRows(f["features"])
        let targets = try #require(f["targets"] as? [String: Any])
        let y = try doubles(targets[output.rawValue])
        return try Dataset(features: try Matrix(rows: x.count, columns: x[0].count, elements: x.flatMap { $0 }), targets: y)
    }

    @Test("factors and two steps (EMA, refactoring) against the NumPy reference", arguments: cases)
    func againstFixture(_ c: Case) throws {
        let f = try fixture("kfac.json")
        let caseList = try #require(f["cases"] as? [[String: Any]])
        let entry = try #require(caseList.first { ($0["output"] as? String) == c.output.rawValue && ($0["fisher"] as? String) == c.fisher.rawValue })
        let batch = try #require(f["batch"] as? [Int])
        let step = try #require(f["step"] as? Int), seed = UInt64(try #require(f["seed"] as? Int))
        let lr = try #require(f["learningRate"] as? Double), lambda = try #require(f["damping"] as? Double)
        let beta = try #require(f["factorDecay"] as? Double)
        let data = try Self.fixtureData(f, output: c.output)
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [4], hiddenActivation: .tanh,
                                                  outputLayer: c.output, classCount: c.output == .softmax ? 3 : nil)
            let θ0 = try doubles(entry["theta"]).map { S($0) }
            let blocks = try #require(θ0.withUnsafeBufferPointer { t in
                batch.withUnsafeBufferPointer { net.kroneckerFactors(at: t, batch: $0, fisher: c.fisher, step: step, seed: seed) }
            })
            let a = try #require(entry["A"] as? [[Double]]), g = try #require(entry["G"] as? [[Double]])
            let tol = S.self == Double.self ? 1e-12 : 2e-5
            #expect(blocks.count == 2)
            for l in 0..<2 {
                #expect(relativeError(blocks[l].activations.map(Double.init), a[l]) < tol, "A_\(l)")
                #expect(relativeError(blocks[l].preactivationGradients.map(Double.init), g[l]) < tol, "G_\(l)")
            }
            var opt = try KFAC<S>(learningRate: S(lr), damping: .fixed(S(lambda)), factorDecay: S(beta), inverseUpdateInterval: 1)
            var θ = θ0
            try opt.updateCurvature(.kronecker(blocks))
            try opt.step(&θ, gradient: net.gradient(at: θ, batch: batch))
            let stepTol = S.self == Double.self ? 1e-10 : 2e-3
            #expect(relativeError(θ.map(Double.init), try doubles(entry["theta1"])) < stepTol, "θ₁")
            let blocks2 = try #require(θ.withUnsafeBufferPointer { t in
                batch.withUnsafeBufferPointer { net.kroneckerFactors(at: t, batch: $0, fisher: c.fisher, step: step + 1, seed: seed) }
            })
            try opt.updateCurvature(.kronecker(blocks2))
            try opt.step(&θ, gradient: net.gradient(at: θ, batch: batch))
            #expect(relativeError(θ.map(Double.init), try doubles(entry["theta2"])) < stepTol, "θ₂")
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("exact and empirical factors against the plain scalar reference", arguments: cases.filter { $0.fisher != .sampled })
    func againstScalarReference(_ c: Case) throws {
        let m = 7, d = 3
        let k = c.output == .softmax ? 3 : 1
        let data = labelledData(m: m, d: d, seed: 77, output: c.output)
        let sizes = [d, 5, 2, k]
        let n = (1..<sizes.count).reduce(0) { $0 + sizes[$1] * (sizes[$1 - 1] + 1) }
        let θd = randomVector(n, seed: 78, scale: 0.7)
        let batch = [6, 1, 1, 3, 0]
        let ref = referenceFactors(ScalarNetwork(sizes: sizes, θ: θd), x: (0..<m).map { Array(data.features.elements[($0 * d)..<(($0 + 1) * d)]) },
                                   y: data.targets, batch: batch, output: c.output, fisher: c.fisher)
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [5, 2], hiddenActivation: .tanh,
                                                  outputLayer: c.output, classCount: c.output == .softmax ? 3 : nil)
            let θ = θd.map { S($0) }
            let blocks = try #require(θ.withUnsafeBufferPointer { t in
                batch.withUnsafeBufferPointer { net.kroneckerFactors(at: t, batch: $0, fisher: c.fisher, step: 0, seed: 1) }
            })
            let tol = S.self == Double.self ? 1e-12 : 2e-5
            #expect(blocks.map(\.parameterOffset) == [0, 20, 32])
            for l in 0..<3 {
                #expect(relativeError(blocks[l].activations.map(Double.init), ref.a[l]) < tol, "A_\(l)")
                #expect(relativeError(blocks[l].preactivationGradients.map(Double.init), ref.g[l]) < tol, "G_\(l)")
            }
            if c.fisher == .empirical {
                // The empirical G's seeds are the loss gradient: Σ_l of ⟨δ, ā⟩ rows gives back the batch gradient
                // through the same deltas (checked indirectly: G_L's trace = mean ‖∂ℓ/∂z‖²).
                let grads = try #require(θ.withUnsafeBufferPointer { t in batch.withUnsafeBufferPointer { net.perSampleGradients(at: t, batch: $0) } })
                var trace = 0.0
                for r in 0..<batch.count {
                    for o in 0..<k { let v = Double(grads.elements[r * n + 32 + o * 3 + 2]); trace += v * v / Double(batch.count) }
                }
                let gl = blocks[2].preactivationGradients.map(Double.init)
                #expect(abs((0..<k).reduce(0) { $0 + gl[$1 * k + $1] } - trace) < (S.self == Double.self ? 1e-12 : 1e-5))
            }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    /// Layers wider than one 32 × 32 tile of the mirrored factors (and of the bias row), a batch
    /// of 37 (not a power of two, so the empirical G's 1/m and m do not cancel exactly), through
    /// `kroneckerFactors` and through the fused gradient-and-factors call (which reuses the
    /// gradient's deltas for the empirical G).
    @Test("wide layers and an odd batch: factors against the scalar reference, fused and separate", arguments: cases.filter { $0.fisher != .sampled })
    func wideLayersAgainstScalarReference(_ c: Case) throws {
        let m = 41, d = 34
        let k = c.output == .softmax ? 3 : 1
        let data = labelledData(m: m, d: d, seed: 91, output: c.output)
        let sizes = [d, 70, 33, k]
        let n = (1..<sizes.count).reduce(0) { $0 + sizes[$1] * (sizes[$1 - 1] + 1) }
        let θd = randomVector(n, seed: 92, scale: 0.3)
        let batch = (0..<37).map { ($0 * 7) % m }
        let ref = referenceFactors(ScalarNetwork(sizes: sizes, θ: θd), x: (0..<m).map { Array(data.features.elements[($0 * d)..<(($0 + 1) * d)]) },
                                   y: data.targets, batch: batch, output: c.output, fisher: c.fisher)
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [70, 33], hiddenActivation: .tanh,
                                                  outputLayer: c.output, classCount: c.output == .softmax ? 3 : nil)
            let θ = θd.map { S($0) }
            let separate = try #require(θ.withUnsafeBufferPointer { t in
                batch.withUnsafeBufferPointer { net.kroneckerFactors(at: t, batch: $0, fisher: c.fisher, step: 0, seed: 1) }
            })
            var fused: [KroneckerBlock<S>] = []
            var gradient = [S](repeating: 0, count: n)
            _ = θ.withUnsafeBufferPointer { t in
                batch.withUnsafeBufferPointer { b in
                    gradient.withUnsafeMutableBufferPointer { g in
                        net.lossGradientAndKroneckerFactors(at: t, batch: b, fisher: c.fisher, step: 0, seed: 1, gradient: g, factors: &fused)
                    }
                }
            }
            let tol = S.self == Double.self ? 1e-12 : 2e-5
            for l in 0..<3 {
                #expect(relativeError(separate[l].activations.map(Double.init), ref.a[l]) < tol, "A_\(l)")
                #expect(relativeError(separate[l].preactivationGradients.map(Double.init), ref.g[l]) < tol, "G_\(l)")
                #expect(fused[l].activations == separate[l].activations, "fused A_\(l)")
                #expect(fused[l].preactivationGradients == separate[l].preactivationGradients, "fused G_\(l)")
            }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    /// Regression (the subnormal deltas that slowed OpenBLAS 2–4×): with large weights the class
    /// probabilities fall below Float's least normal magnitude and saturated tanh units give
    /// tiny 1 − a². The backward pass now flushes subnormal deltas to zero (and the curvature
    /// seeds everything below √(least normal)); the Float gradient and factors must still match
    /// the Double scalar reference.
    @Test("saturated network: flushing subnormal deltas keeps the Float gradient and factors on the Double reference",
          arguments: [FisherKind.exact, .empirical])
    func saturatedNetworkAgainstScalarReference(_ fisher: FisherKind) throws {
        let m = 24, d = 6, k = 4
        let data = randomData(m: m, d: d, seed: 123) { _, i in Double(i % k) }
        let sizes = [d, 20, 12, k]
        let n = (1..<sizes.count).reduce(0) { $0 + sizes[$1] * (sizes[$1 - 1] + 1) }
        let θd = randomVector(n, seed: 124, scale: 12)
        let reference = ScalarNetwork(sizes: sizes, θ: θd)
        let rows = (0..<m).map { Array(data.features.elements[($0 * d)..<(($0 + 1) * d)]) }
        // The case must reach the subnormal range (else it tests nothing).
        var smallest = Double.infinity
        var gradient = [Double](repeating: 0, count: n)
        for (i, x) in rows.enumerated() {
            let acts = reference.forward(x)
            let p = softmax(acts.last!)
            smallest = min(smallest, p.min()!)
            let seed = (0..<k).map { (p[$0] - ($0 == Int(data.targets[i]) ? 1 : 0)) / Double(m) }
            let deltas = reference.backward(acts, seed: seed)
            var offset = 0
            for l in 0..<deltas.count {
                let input = acts[l] + [1]
                for o in 0..<sizes[l + 1] { for j in 0..<input.count { gradient[offset + o * input.count + j] += deltas[l][o] * input[j] } }
                offset += sizes[l + 1] * input.count
            }
        }
        #expect(smallest < Double(Float.leastNormalMagnitude))
        let ref = referenceFactors(reference, x: rows, y: data.targets, batch: Array(0..<m), output: .softmax, fisher: fisher)
        let net = try MultilayerPerceptron<Float>(data: data.converted(to: Float.self), hiddenLayers: [20, 12], hiddenActivation: .tanh,
                                                  outputLayer: .softmax, classCount: k)
        let θ = θd.map { Float($0) }
        let batch = Array(0..<m)
        var g = [Float](repeating: 0, count: n)
        var blocks: [KroneckerBlock<Float>] = []
        _ = θ.withUnsafeBufferPointer { t in
            batch.withUnsafeBufferPointer { b in
                g.withUnsafeMutableBufferPointer { gb in
                    net.lossGradientAndKroneckerFactors(at: t, batch: b, fisher: fisher, step: 0, seed: 1, gradient: gb, factors: &blocks)
                }
            }
        }
        #expect(relativeError(g.map(Double.init), gradient) < 1e-4)
        for l in 0..<3 {
            #expect(relativeError(blocks[l].activations.map(Double.init), ref.a[l]) < 1e-4, "A_\(l)")
            #expect(relativeError(blocks[l].preactivationGradients.map(Double.init), ref.g[l]) < 1e-4, "G_\(l)")
        }
    }

    @Test("one-layer linear model: K-FAC is the exact natural gradient (λ = 0, η = 1 lands on least squares)", arguments: Precision.allCases)
    func leastSquaresInOneStep(_ precision: Precision) throws {
        let m = 40, d = 4
        let data = randomData(m: m, d: d, seed: 5) { rng, _ in rng.nextNormal() }
        // Least squares by the normal equations in Double: [X 1]ᵀ[X 1] w = [X 1]ᵀ y.
        let xa = (0..<m).map { Array(data.features.elements[($0 * d)..<(($0 + 1) * d)]) + [1] }
        var normal = [Double](repeating: 0, count: (d + 1) * (d + 1)), rhs = [Double](repeating: 0, count: d + 1)
        for (row, y) in zip(xa, data.targets) {
            for i in 0...d { rhs[i] += row[i] * y; for j in 0...d { normal[i * (d + 1) + j] += row[i] * row[j] } }
        }
        let solution = solveSymmetric(normal, rhs, order: d + 1)
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try LinearRegression<S>(data: data.converted(to: S.self))
            var θ = model.initialParameters(seed: 0)
            let blocks = try #require(θ.withUnsafeBufferPointer { model.kroneckerFactors(at: $0, batch: nil, fisher: .exact, step: 0, seed: 0) })
            #expect(blocks.count == 1 && blocks[0].outputs == 1 && blocks[0].inputs == d + 1)
            #expect(blocks[0].preactivationGradients == [1])
            var opt = try KFAC<S>(learningRate: 1, damping: .fixed(0), factorDecay: 0)
            try opt.updateCurvature(.kronecker(blocks))
            try opt.step(&θ, gradient: model.gradient(at: θ))
            #expect(relativeError(θ.map(Double.init), solution) < (S.self == Double.self ? 1e-12 : 1e-4))
            // The exact Fisher of this model is A itself (G = 1): the dense natural gradient agrees.
            let j = try #require(try model.outputJacobian(at: model.initialParameters(seed: 0)))
            var fisher = try Matrix<S>(rows: d + 1, columns: d + 1)
            try BLAS.gemm(.transpose, .none, alpha: 1 / S(m), j.jacobian, j.jacobian, &fisher)
            #expect(relativeError(fisher.elements.map(Double.init), blocks[0].activations.map(Double.init)) < (S.self == Double.self ? 1e-12 : 1e-5))
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("sampled targets are keyed by (seed, step, sample index): independent of batch order and split")
    func sampledKeying() throws {
        let data = randomData(m: 9, d: 2, seed: 3) { _, i in Double(i % 3) }
        let net = try MultilayerPerceptron<Double>(data: data, hiddenLayers: [3], outputLayer: .softmax)
        let θ = net.initialParameters(seed: 4)
        func factors(_ batch: [Int], step: Int = 2, seed: UInt64 = 9) -> [KroneckerBlock<Double>] {
            θ.withUnsafeBufferPointer { t in batch.withUnsafeBufferPointer { net.kroneckerFactors(at: t, batch: $0, fisher: .sampled, step: step, seed: seed)! } }
        }
        let whole = factors([0, 1, 2, 3, 4, 5])
        let reordered = factors([5, 3, 1, 0, 2, 4])
        let first = factors([0, 1, 2]), second = factors([3, 4, 5])
        for l in 0..<2 {
            #expect(relativeError(whole[l].preactivationGradients, reordered[l].preactivationGradients) < 1e-14)
            let halves = zip(first[l].preactivationGradients, second[l].preactivationGradients).map { ($0 + $1) / 2 }
            #expect(relativeError(whole[l].preactivationGradients, halves) < 1e-14)
        }
        #expect(factors([0, 1, 2, 3, 4, 5], step: 3)[1].preactivationGradients != whole[1].preactivationGradients)
        #expect(factors([0, 1, 2, 3, 4, 5], seed: 10)[1].preactivationGradients != whole[1].preactivationGradients)
    }

    @Test("regressions are one-layer networks; other objectives have no Kronecker factors")
    func regressionsAndOthers() throws {
        let data = randomData(m: 8, d: 3, seed: 12) { _, i in Double(i % 2) }
        let θ = randomVector(4, seed: 13)
        let logistic = try LogisticRegression<Double>(data: data)
        let blocks = try #require(θ.withUnsafeBufferPointer { logistic.kroneckerFactors(at: $0, batch: nil, fisher: .exact, step: 0, seed: 0) })
        // G = mean p(1 − p), A = mean āāᵀ.
        var g = 0.0
        for i in 0..<8 {
            let z = (0..<3).reduce(θ[3]) { $0 + θ[$1] * data.features.elements[i * 3 + $1] }
            let p = 1 / (1 + Foundation.exp(-z))
            g += p * (1 - p) / 8
        }
        #expect(abs(blocks[0].preactivationGradients[0] - g) < 1e-14)
        let softmax = try SoftmaxRegression<Double>(data: data, classCount: 3)
        let θs = randomVector(12, seed: 14)
        let sb = try #require(θs.withUnsafeBufferPointer { softmax.kroneckerFactors(at: $0, batch: nil, fisher: .exact, step: 0, seed: 0) })
        #expect(sb.count == 1 && sb[0].outputs == 3 && sb[0].inputs == 4)
        let rosenbrock = Rosenbrock<Double>()
        #expect([1.0, 2.0].withUnsafeBufferPointer { rosenbrock.kroneckerFactors(at: $0, batch: nil, fisher: .exact, step: 0, seed: 0) } == nil)
        // The dense natural gradient does not take the sampled mode.
        #expect(θ.withUnsafeBufferPointer { logistic.curvature(at: $0, batch: nil, fisher: .sampled) } == nil)
    }
}

/// x with M x = b for a small SPD M (Gaussian elimination without pivoting), Double.
private func solveSymmetric(_ m: [Double], _ b: [Double], order n: Int) -> [Double] {
    var a = m, x = b
    for k in 0..<n {
        for r in (k + 1)..<n {
            let f = a[r * n + k] / a[k * n + k]
            for j in k..<n { a[r * n + j] -= f * a[k * n + j] }
            x[r] -= f * x[k]
        }
    }
    for k in stride(from: n - 1, through: 0, by: -1) {
        var s = x[k]
        for j in (k + 1)..<n { s -= a[k * n + j] * x[j] }
        x[k] = s / a[k * n + k]
    }
    return x
}

@Suite("K-FAC through minimize")
struct KFACTrainingTests {
    @Test("minimize supplies the Kronecker factors every step: same iterates as the manual loop", arguments: Precision.allCases)
    func minimizeMatchesManualLoop(_ precision: Precision) throws {
        let data = randomData(m: 30, d: 4, seed: 21) { _, i in Double(i % 3) }
        func run<S: BLASScalar>(_: S.Type) throws {
            let net = try MultilayerPerceptron<S>(data: data.converted(to: S.self), hiddenLayers: [5], outputLayer: .softmax)
            let start = net.initialParameters(seed: 3)
            let make = { try KFAC<S>(learningRate: 0.5, damping: .fixed(0.01), factorDecay: 0.9, inverseUpdateInterval: 3) }
            var trained = try make()
            let result = try minimize(net, from: start, optimizer: &trained,
                                      options: TrainingOptions(maxSteps: 7, fisher: .exact))
            var manual = try make()
            var θ = start
            for _ in 0..<7 {
                let blocks = try #require(θ.withUnsafeBufferPointer { net.kroneckerFactors(at: $0, batch: nil, fisher: .exact, step: 0, seed: 0) })
                try manual.updateCurvature(.kronecker(blocks))
                try manual.step(&θ, gradient: try net.gradient(at: θ))
            }
            #expect(trained.stepCount == 7 && trained.curvatureUpdates == 7)
            #expect(relativeError(result.parameters.map(Double.init), θ.map(Double.init)) < (S.self == Double.self ? 1e-12 : 1e-5))
            #expect(try net.loss(at: θ) < net.loss(at: start))
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }
}
