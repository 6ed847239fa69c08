import Foundation
import Testing
import Descent
@testable import DescentProblems
import DescentTestSupport

/// Adaptive K-FAC (learning rate, momentum and damping from the quadratic model with the exact
/// Fisher) against kfac-jax 0.0.8's `Optimizer` (Tests/Fixtures/kfac_adaptive.json, written by
/// scripts/reference/kfac_adaptive_reference.py), and its parts against scalar references.
@Suite("Adaptive K-FAC")
struct AdaptiveKFACTests {
    struct Case: Sendable, CustomStringConvertible {
        let index: Int
        var description: String { "case \(index)" }
    }
    static let cases = (0..<3).map(Case.init)

    static func entry(_ index: Int) throws -> [String: Any] {
        let f = try fixture("kfac_adaptive.json")
        let list = try #require(f["cases"] as? [[String: Any]])
        return list[index]
    }

    static func network(_ e: [String: Any]) throws -> MultilayerPerceptron<Double> {
        let x = try matrixRows(e["features"])
        let labels = try #require(e["labels"] as? [Int])
        let sizes = try #require(e["sizes"] as? [Int])
        let data = try Dataset(features: try Matrix(rows: x.count, columns: x[0].count, elements: x.flatMap { $0 }),
                               targets: labels.map(Double.init))
        return try MultilayerPerceptron<Double>(data: data, hiddenLayers: Array(sizes.dropFirst().dropLast()), hiddenActivation: .tanh,
                                                outputLayer: .softmax, classCount: sizes.last!)
    }

    static func optimizer(_ e: [String: Any]) throws -> AdaptiveKFAC<Double> {
        try AdaptiveKFAC<Double>(initialDamping: try #require(e["initialDamping"] as? Double),
                                 dampingInterval: try #require(e["dampingInterval"] as? Int),
                                 dampingDecay: try #require(e["dampingDecay"] as? Double),
                                 minimumDamping: try #require(e["minimumDamping"] as? Double),
                                 maximumDamping: (e["maximumDamping"] as? Double) ?? .infinity,
                                 factorDecay: try #require(e["factorDecay"] as? Double),
                                 inverseUpdateInterval: try #require(e["inverseUpdateInterval"] as? Int))
    }

    /// One step of the training loop's shape: loss and gradient at θ, then the model-driven step.
    static func step(_ net: MultilayerPerceptron<Double>, _ θ: inout [Double], _ o: inout AdaptiveKFAC<Double>, t: Int) throws -> Double {
        var g = [Double](repeating: 0, count: θ.count)
        let loss = θ.withUnsafeBufferPointer { tp in g.withUnsafeMutableBufferPointer { net.lossAndGradient(at: tp, batch: nil, gradient: $0) } }
        let model = ObjectiveCurvatureModel(net, batch: nil, fisher: .exact, step: t, seed: 0)
        try θ.withUnsafeMutableBufferPointer { tp in try g.withUnsafeBufferPointer { try o.step(tp, loss: loss, gradient: $0, model: model) } }
        return loss
    }

    @Test("trajectory equals kfac-jax's at every step (θ, loss, α, μ, λ; float64, full batch, exact Fisher)", arguments: cases)
    func trajectoryAgainstKFACJax(_ c: Case) throws {
        let e = try Self.entry(c.index)
        let net = try Self.network(e)
        var o = try Self.optimizer(e)
        let steps = try #require(e["steps"] as? [[String: Any]])
        var θ = try doubles(steps[0]["theta"])
        #expect(θ.count == net.dimension)
        // The trajectory is a chain of solves; each step's κ·ε is far below 1e-6 on these problems.
        let tol = 1e-6
        for (t, s) in steps.enumerated() {
            let reference = try doubles(s["theta"])
            #expect(relativeError(θ, reference) < tol, "θ at step \(t): \(relativeError(θ, reference))")
            let loss = try Self.step(net, &θ, &o, t: t)
            let rl = try #require(s["loss"] as? Double), ra = try #require(s["learningRate"] as? Double)
            let rm = try #require(s["momentum"] as? Double), rd = try #require(s["damping"] as? Double)
            #expect(relativeError(loss, rl) < tol, "loss at step \(t): \(loss) vs \(rl)")
            #expect(DescentTestSupport.relativeError(o.learningRate, ra) < tol, "α at step \(t): \(o.learningRate) vs \(ra)")
            #expect(DescentTestSupport.relativeError(o.momentum, rm, floor: abs(ra)) < tol, "μ at step \(t): \(o.momentum) vs \(rm)")
            #expect(DescentTestSupport.relativeError(try #require(o.lastDamping), rd) < 1e-12, "λ at step \(t): \(o.lastDamping ?? .nan) vs \(rd)")
            if let rho = s["rho"] as? Double {
                #expect(DescentTestSupport.relativeError(try #require(o.lastReductionRatio), rho, floor: 1) < 1e-5, "ρ at step \(t)")
            }
        }
        let final = try doubles(e["finalTheta"])
        #expect(relativeError(θ, final) < tol)
        #expect(o.stepCount == steps.count)
    }

    @Test("minimize drives it through the objective: the kfac-jax trajectory, and a pause and resume changes nothing", arguments: cases)
    func throughTheTrainingLoop(_ c: Case) throws {
        let e = try Self.entry(c.index)
        let net = try Self.network(e)
        let steps = try #require(e["steps"] as? [[String: Any]])
        let θ0 = try doubles(steps[0]["theta"])
        var o = try Self.optimizer(e)
        let result = try minimize(net, from: θ0, optimizer: &o, options: TrainingOptions(maxSteps: steps.count, fisher: .exact))
        #expect(relativeError(result.parameters, try doubles(e["finalTheta"])) < 1e-6)
        for (t, s) in steps.enumerated() {
            #expect(relativeError(result.history[t].loss, try #require(s["loss"] as? Double)) < 1e-6, "loss at step \(t)")
        }
        // Paused after 3 steps, then continued: bit for bit the uninterrupted run.
        var paused = try Self.optimizer(e)
        var state = try TrainingState(parameters: θ0, optimizer: paused, options: TrainingOptions(maxSteps: steps.count, fisher: .exact, stopAfter: 3))
        _ = try minimize(net, state: &state)
        state.options.stopAfter = nil
        let resumed = try minimize(net, state: &state)
        paused = state.optimizer
        #expect(bitIdentical(resumed.parameters, result.parameters))
        #expect(paused.stepCount == steps.count)
    }

    @Test("F·v of the model access (the objective's own, and the output-Jacobian fallback) equals the explicit exact Fisher times v (scalar reference)")
    func fisherVectorProductAgainstExplicitFisher() throws {
        let net = try Self.network(try Self.entry(1))
        let θ = net.initialParameters(seed: 3)
        let v = randomVector(net.dimension, seed: 9)
        let batch = [0, 2, 5, 5, 7]
        let jac = try #require(try net.outputJacobian(at: θ, batch: batch))
        guard case let .categorical(p) = jac.distribution else { Issue.record("softmax output expected"); return }
        // F = (1/m) Σᵢ Jᵢᵀ (diag pᵢ − pᵢpᵢᵀ) Jᵢ, formed entry by entry.
        let n = net.dimension, m = jac.samples, k = jac.outputs
        var fv = [Double](repeating: 0, count: n)
        for i in 0..<m {
            for a in 0..<n {
                for b in 0..<n {
                    var s = 0.0
                    for c in 0..<k {
                        for d in 0..<k {
                            let lambda = (c == d ? p[i, c] : 0) - p[i, c] * p[i, d]
                            s += jac.jacobian[i * k + c, a] * lambda * jac.jacobian[i * k + d, b]
                        }
                    }
                    fv[a] += s * v[b] / Double(m)
                }
            }
        }
        let model = ObjectiveCurvatureModel(net, batch: batch, fisher: .exact, step: 0, seed: 0)
        var out = [Double](repeating: .nan, count: n)
        try θ.withUnsafeBufferPointer { tp in try v.withUnsafeBufferPointer { vp in try out.withUnsafeMutableBufferPointer { try model.fisherVectorProduct(at: tp, vector: vp, product: $0) } } }
        #expect(DescentTestSupport.relativeError(out, fv) < 1e-13)
        // The fallback for objectives without their own F·v: from the output Jacobian.
        var fallback = [Double](repeating: .nan, count: n)
        v.withUnsafeBufferPointer { vp in
            fallback.withUnsafeMutableBufferPointer { ObjectiveCurvatureModel<MultilayerPerceptron<Double>>.product(jac, vector: vp, into: $0) }
        }
        #expect(DescentTestSupport.relativeError(fallback, fv) < 1e-13)
    }

    @Test("a throw from the model leaves θ and the state bit-identical; the plain step refuses")
    func transactional() throws {
        struct FailingLoss: Error {}
        final class FailAfter: CurvatureModel {
            let inner: ObjectiveCurvatureModel<MultilayerPerceptron<Double>>
            init(_ inner: ObjectiveCurvatureModel<MultilayerPerceptron<Double>>) { self.inner = inner }
            func loss(at θ: UnsafeBufferPointer<Double>) throws -> Double { throw FailingLoss() }
            func layerStatistics(at θ: UnsafeBufferPointer<Double>) throws -> [KroneckerBlock<Double>] { try inner.layerStatistics(at: θ) }
            func fisherVectorProduct(at θ: UnsafeBufferPointer<Double>, vector: UnsafeBufferPointer<Double>,
                                     product: UnsafeMutableBufferPointer<Double>) throws {
                try inner.fisherVectorProduct(at: θ, vector: vector, product: product)
            }
        }
        let e = try Self.entry(0)
        let net = try Self.network(e)
        var o = try AdaptiveKFAC<Double>(dampingInterval: 3)
        var θ = net.initialParameters(seed: 1)
        for t in 0..<2 { _ = try Self.step(net, &θ, &o, t: t) }  // the third step adapts λ: it asks for the loss
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let before = try encoder.encode(o), θBefore = θ
        var g = [Double](repeating: 0, count: θ.count)
        let loss = θ.withUnsafeBufferPointer { tp in g.withUnsafeMutableBufferPointer { net.lossAndGradient(at: tp, batch: nil, gradient: $0) } }
        let failing = FailAfter(ObjectiveCurvatureModel(net, batch: nil, fisher: .exact, step: 2, seed: 0))
        #expect(throws: FailingLoss.self) {
            try θ.withUnsafeMutableBufferPointer { tp in try g.withUnsafeBufferPointer { try o.step(tp, loss: loss, gradient: $0, model: failing) } }
        }
        #expect(bitIdentical(θ, θBefore))
        #expect(try encoder.encode(o) == before)
        // The same step then succeeds as it would have.
        var fresh = try decoder.decode(AdaptiveKFAC<Double>.self, from: before)
        var θ2 = θ
        _ = try Self.step(net, &θ, &o, t: 2)
        _ = try Self.step(net, &θ2, &fresh, t: 2)
        #expect(bitIdentical(θ, θ2))
        #expect(throws: KFACError.modelRequired) {
            try θ.withUnsafeMutableBufferPointer { tp in try g.withUnsafeBufferPointer { try o.step(tp, gradient: $0) } }
        }
    }

    @Test("invalid hyperparameters are refused by name")
    func hyperparameters() {
        #expect(throws: OptimizerError.self) { try AdaptiveKFAC<Double>(initialDamping: 0) }
        #expect(throws: OptimizerError.self) { try AdaptiveKFAC<Double>(dampingDecay: 1) }
        #expect(throws: OptimizerError.self) { try AdaptiveKFAC<Double>(minimumDamping: 1, maximumDamping: 0.5) }
        #expect(throws: OptimizerError.self) { try AdaptiveKFAC<Double>(inverseUpdateInterval: 0) }
    }
}

/// The 2 × 2 quadratic-model solve and kfac-jax's damping rule against plain scalar references.
@Suite("Step quadratic model")
struct StepQuadraticModelTests {
    /// w = −(C + λD)⁻¹ b by Gaussian elimination with a pivot on the first row (independent of
    /// Cramer's rule in the implementation).
    static func reference(_ c: [[Double]], _ d: [[Double]], _ b: [Double], _ lambda: Double) -> (Double, Double) {
        let a = [[c[0][0] + lambda * d[0][0], c[0][1] + lambda * d[0][1]], [c[1][0] + lambda * d[1][0], c[1][1] + lambda * d[1][1]]]
        let l = a[1][0] / a[0][0]
        let w1 = -(b[1] - l * b[0]) / (a[1][1] - l * a[0][1])
        let w0 = (-b[0] - a[0][1] * w1) / a[0][0]
        return (w0, w1)
    }

    @Test("coefficients, first step, fixed momentum and predicted change", arguments: [Float.self, Double.self] as [any BLASScalar.Type])
    func coefficients(_ type: any BLASScalar.Type) {
        func run<S: BLASScalar>(_: S.Type) {
            let c = [[2.5, 0.4], [0.4, 1.2]], d = [[3.0, -0.5], [-0.5, 0.8]], b = [-1.7, 0.3], lambda = 0.35
            let q = StepQuadraticModel<S>(c00: S(c[0][0]), c01: S(c[0][1]), c11: S(c[1][1]), d00: S(d[0][0]), d01: S(d[0][1]),
                                          d11: S(d[1][1]), b0: S(b[0]), b1: S(b[1]))
            let w = q.coefficients(damping: S(lambda))
            let r = Self.reference(c, d, b, lambda)
            let tol = S.self == Double.self ? 1e-14 : 1e-6
            #expect(DescentTestSupport.relativeError([Double(w.0), Double(w.1)], [r.0, r.1]) < tol)
            // The predicted change ½wᵀCw + wᵀb, written out.
            let change = 0.5 * (c[0][0] * r.0 * r.0 + 2 * c[0][1] * r.0 * r.1 + c[1][1] * r.1 * r.1) + b[0] * r.0 + b[1] * r.1
            #expect(DescentTestSupport.relativeError(Double(q.change(w)), change) < tol * 10)
            // δ = 0: only the first coefficient, −b₀/(C₀₀ + λD₀₀).
            let first = StepQuadraticModel<S>(c00: S(c[0][0]), c01: 0, c11: 0, d00: S(d[0][0]), d01: 0, d11: 0, b0: S(b[0]), b1: 0)
            let w1 = first.coefficients(damping: S(lambda))
            #expect(DescentTestSupport.relativeError(Double(w1.0), -b[0] / (c[0][0] + lambda * d[0][0])) < tol)
            #expect(w1.1 == 0)
            // A fixed momentum μ: w₀ = −(b₀ + (C + λD)₀₁ μ)/(C + λD)₀₀.
            let wm = q.coefficients(damping: S(lambda), momentum: S(0.9))
            let expected = -(b[0] + (c[0][1] + lambda * d[0][1]) * 0.9) / (c[0][0] + lambda * d[0][0])
            #expect(DescentTestSupport.relativeError(Double(wm.0), expected) < tol)
            #expect(wm.1 == S(0.9))
        }
        if type == Float.self { run(Float.self) } else { run(Double.self) }
    }

    @Test("damping rule: ρ thresholds, NaN, clamping", arguments: [Float.self, Double.self] as [any BLASScalar.Type])
    func dampingRule(_ type: any BLASScalar.Type) {
        func run<S: BLASScalar>(_: S.Type) {
            let omega = S(0.59049)  // 0.9⁵
            func adapt(_ after: S, _ predicted: S, lambda: S = 2, minimum: S = 1e-8, maximum: S = .infinity) -> (S, S) {
                let r = StepQuadraticModel<S>.adaptedDamping(lambda, lossBefore: 1, lossAfter: after, predictedChange: predicted,
                                                             factor: omega, minimum: minimum, maximum: maximum)
                return (r.damping, r.rho)
            }
            // ρ = (0.1 − 1)/(−1) = 0.9 > 3/4: λω.
            #expect(adapt(0.1, -1).0 == 2 * omega)
            #expect(adapt(0.1, -1).1 == S(0.9))
            // ρ = 0.5: unchanged.
            #expect(adapt(0.5, -1).0 == 2)
            // ρ = 0.1 < 1/4: λ/ω.
            #expect(adapt(0.9, -1).0 == 2 / omega)
            // A rise of the loss: ρ < 0, increase.
            #expect(adapt(1.5, -1).0 == 2 / omega)
            // 0/0: NaN ρ, read as −100: increase.
            let nan = adapt(1, 0)
            #expect(nan.1.isNaN && nan.0 == 2 / omega)
            // Clamped.
            #expect(adapt(0.1, -1, lambda: 1e-8).0 == 1e-8)
            #expect(adapt(0.9, -1, maximum: 3).0 == 3)
        }
        if type == Float.self { run(Float.self) } else { run(Double.self) }
    }
}
