import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// A Poisson GLM with the log link written in the test: μᵢ = exp(xᵢ·w + b), mean negative
/// log-likelihood L = (1/m) Σ (μᵢ − yᵢ log μᵢ) (the log yᵢ! term dropped), θ = (w, b).
/// It supplies its output Jacobian with the Poisson distribution; `matrixFisher` makes it
/// supply the Fisher as a matrix of its own instead (``Objective/suppliedCurvature(at:batch:)``).
struct PoissonRegression<S: BLASScalar>: Objective {
    typealias Scalar = S
    let x: [[Double]]
    let y: [Double]
    var matrixFisher = false
    var name: String { "poisson" }
    var dimension: Int { x[0].count + 1 }
    var sampleCount: Int { y.count }

    func rows(_ batch: UnsafeBufferPointer<Int>?) -> [Int] { batch.map(Array.init) ?? Array(0..<y.count) }
    func z(_ θ: UnsafeBufferPointer<S>, _ i: Int) -> Double {
        (0..<x[i].count).reduce(Double(θ[x[i].count])) { $0 + x[i][$1] * Double(θ[$1]) }
    }

    func lossAndGradient(at θ: UnsafeBufferPointer<S>, batch: UnsafeBufferPointer<Int>?, gradient: UnsafeMutableBufferPointer<S>) -> S {
        let idx = rows(batch), d = x[0].count
        var g = [Double](repeating: 0, count: d + 1), loss = 0.0
        for i in idx {
            let zi = z(θ, i), mu = exp(zi)
            loss += mu - y[i] * zi
            for j in 0..<d { g[j] += (mu - y[i]) * x[i][j] }
            g[d] += mu - y[i]
        }
        for j in 0...d { gradient[j] = S(g[j] / Double(idx.count)) }
        return S(loss / Double(idx.count))
    }

    func loss(at θ: UnsafeBufferPointer<S>, batch: UnsafeBufferPointer<Int>?) -> S {
        let idx = rows(batch)
        return S(idx.reduce(0.0) { let zi = z(θ, $1); return $0 + exp(zi) - y[$1] * zi } / Double(idx.count))
    }

    func outputJacobian(at θ: UnsafeBufferPointer<S>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<S>? {
        let idx = rows(batch)
        let j = try! Matrix<S>(idx.map { i in (x[i] + [1]).map { S($0) } })
        return OutputJacobian(jacobian: j, samples: idx.count, outputs: 1, distribution: .poisson(rates: idx.map { S(exp(z(θ, $0))) }))
    }

    func suppliedCurvature(at θ: UnsafeBufferPointer<S>, batch: UnsafeBufferPointer<Int>?) -> Curvature<S>? {
        guard matrixFisher else { return nil }
        let idx = rows(batch), n = dimension
        var f = [Double](repeating: 0, count: n * n)
        for i in idx {
            let xi = x[i] + [1], mu = exp(z(θ, i))
            for a in 0..<n { for b in 0..<n { f[a * n + b] += mu * xi[a] * xi[b] / Double(idx.count) } }
        }
        return .fisher(try! Matrix(rows: n, columns: n, elements: f.map { S($0) }))
    }

    func initialParameters(seed: UInt64) -> [S] { [S](repeating: 0, count: dimension) }
}

@Suite("Poisson output and objective-supplied curvature")
struct NaturalGradientPoissonTests {
    func problem<S: BLASScalar>(_: S.Type, matrix: Bool = false) throws -> (PoissonRegression<S>, [Double], [[Double]]) {
        let f = try fixture("poisson_glm.json")
        return (PoissonRegression<S>(x: try matrixRows(f["X"]), y: try doubles(f["y"]), matrixFisher: matrix),
                try doubles(f["params"]), try matrixRows(f["fisher_at_mle"]))
    }

    @Test("The Poisson Fisher form is (1/m) Σ μᵢ xᵢxᵢᵀ (plain reference and the statsmodels fixture)", arguments: Precision.allCases)
    func poissonFisherForm(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let (objective, mle, fisher) = try problem(S.self)
            let theta = mle.map { S($0) }
            let c = try #require(theta.withUnsafeBufferPointer { objective.curvature(at: $0, batch: nil, fisher: .exact) })
            guard case .poisson = c else { Issue.record("expected the Poisson form, got \(c.name)"); return }
            let f = try c.matrix()
            let n = objective.dimension
            // Plain reference, straight from the formula.
            var plain = [Double](repeating: 0, count: n * n)
            for i in 0..<objective.sampleCount {
                let xi = objective.x[i] + [1]
                let mu = exp((0..<n).reduce(0.0) { $0 + xi[$1] * Double(theta[$1]) })
                for a in 0..<n { for b in 0..<n { plain[a * n + b] += mu * xi[a] * xi[b] / Double(objective.sampleCount) } }
            }
            #expect(relativeError(f.elements.map { Double($0) }, plain) <= tolerance(S.self) * 10)
            #expect(relativeError(f.elements.map { Double($0) }, fisher.flatMap { $0 }) <= (S.self == Double.self ? 1e-9 : 1e-4))
        }
        precision == .double ? try run(Double.self) : try run(Float.self)
    }

    @Test("Fisher scoring with the Poisson output reaches the statsmodels GLM MLE", arguments: Precision.allCases)
    func fisherScoringReachesTheMLE(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for matrix in [false, true] {
                let (objective, mle, _) = try problem(S.self, matrix: matrix)
                var optimizer = try NaturalGradient<S>(learningRate: 1, damping: .fixed(0))
                let result = try minimize(objective, from: objective.initialParameters(seed: 0), optimizer: &optimizer,
                                          options: TrainingOptions(maxSteps: 12, fisher: .exact))
                #expect(relativeError(result.parameters.map { Double($0) }, mle) <= (S.self == Double.self ? 1e-8 : 1e-4),
                        "\(matrix ? "supplied matrix" : "Poisson form")")
            }
        }
        precision == .double ? try run(Double.self) : try run(Float.self)
    }

    @Test("Out-of-range Poisson rates are named errors")
    func badRates() throws {
        let j = try Matrix<Double>([[1, 2], [3, 4]])
        var opt = try NaturalGradient<Double>()
        #expect(throws: NaturalGradientError.invalidCurvature("rates[1] = -1.0 is not finite and ≥ 0")) {
            try opt.setCurvature(.poisson(logJacobian: j, rates: [1, -1]))
        }
        #expect(throws: NaturalGradientError.self) { try opt.setCurvature(.poisson(logJacobian: j, rates: [1])) }
        #expect(throws: NaturalGradientError.self) { try opt.setCurvature(.poisson(logJacobian: j, rates: [1, .infinity])) }
    }
}
