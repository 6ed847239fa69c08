import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// Issue 9's `--rho` bug: `minimize` supplies the curvature whenever the optimizer's cadence
/// asks for it, so the moving average F̄ ← βF̄ + (1 − β)F is updated at every step.
@Suite("Natural-gradient curvature cadence in the training loop")
struct NaturalGradientCadenceTests {
    func logistic<S: BLASScalar>(_: S.Type) throws -> LogisticRegression<S> {
        let f = try #require(try fixture("logistic_mle.json")["logistic"] as? [String: Any])
        let x = try Matrix<Double>(try matrixRows(f["X"]))
        let features = try Matrix<S>(rows: x.rows, columns: x.columns, elements: x.elements.map { S($0) })
        return try LogisticRegression(data: Dataset(features: features, targets: try doubles(f["y"]).map { S($0) }))
    }

    /// Solves A x = b (Gaussian elimination with partial pivoting), plain Double.
    func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = b.count
        var m = a, v = b
        for k in 0..<n {
            let p = (k..<n).max { abs(m[$0][k]) < abs(m[$1][k]) }!
            m.swapAt(k, p); v.swapAt(k, p)
            for i in (k + 1)..<max(k + 1, n) {
                let f = m[i][k] / m[k][k]
                for j in k..<n { m[i][j] -= f * m[k][j] }
                v[i] -= f * v[k]
            }
        }
        var x = Array(repeating: 0.0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = v[i]
            for j in (i + 1)..<max(i + 1, n) { s -= m[i][j] * x[j] }
            x[i] = s / m[i][i]
        }
        return x
    }

    func recursion<S: BLASScalar>(_: S.Type) throws {
        let objective = try logistic(S.self)
        let beta = 0.5, lambda = 0.01, steps = 6
        var optimizer = try NaturalGradient<S>(learningRate: 1, damping: .fixed(S(lambda)), curvatureDecay: S(beta))
        let n = objective.dimension
        let result = try minimize(objective, from: [S](repeating: 0, count: n), optimizer: &optimizer,
                                  options: TrainingOptions(maxSteps: steps, recordParameters: true, fisher: .exact))
        #expect(result.history.count == steps + 1)
        // The plain reference: F_t = (1/m) Σᵢ pᵢ(1 − pᵢ) jᵢjᵢᵀ at θ_t, F̄₀ = F₀,
        // F̄_t = βF̄_{t−1} + (1 − β)F_t, θ_{t+1} = θ_t − (F̄_t + λI)⁻¹ ∇L(θ_t).
        var average: [[Double]] = []
        for t in 0..<steps {
            let theta = result.history[t].parameters
            let g = try objective.gradient(at: theta).map { Double($0) }
            let jac = try #require(try objective.outputJacobian(at: theta))
            guard case let .bernoulli(p) = jac.distribution else { Issue.record("not Bernoulli"); return }
            let m = jac.samples
            var f = Array(repeating: Array(repeating: 0.0, count: n), count: n)
            for i in 0..<m {
                let w = Double(p[i]) * (1 - Double(p[i])) / Double(m)
                for a in 0..<n { for b in 0..<n { f[a][b] += w * Double(jac.jacobian[i, a]) * Double(jac.jacobian[i, b]) } }
            }
            average = t == 0 ? f : zip(average, f).map { zip($0, $1).map { beta * $0 + (1 - beta) * $1 } }
            var damped = average
            for i in 0..<n { damped[i][i] += lambda }
            let x = solve(damped, g)
            let expected = zip(theta, x).map { Double($0) - $1 }
            let found = result.history[t + 1].parameters.map { Double($0) }
            #expect(relativeError(found, expected) <= (S.self == Double.self ? 1e-10 : 1e-4), "step \(t + 1)")
        }
    }

    @Test("minimize with curvatureDecay follows F̄ ← βF̄ + (1 − β)F step by step", arguments: Precision.allCases)
    func movingAverageRecursion(_ precision: Precision) throws {
        precision == .double ? try recursion(Double.self) : try recursion(Float.self)
    }

    @Test("Different decays give different trajectories (the average is updated every step)")
    func decaysDiffer() throws {
        let objective = try logistic(Double.self)
        func final(_ decay: Double?) throws -> Double {
            var optimizer = try NaturalGradient<Double>(learningRate: 1, damping: .fixed(1e-3), curvatureDecay: decay)
            return try minimize(objective, from: [Double](repeating: 0, count: objective.dimension), optimizer: &optimizer,
                                options: TrainingOptions(maxSteps: 3)).finalLoss
        }
        let a = try final(0.5), b = try final(0.9), none = try final(nil)
        #expect(a != b && a != none && b != none, "losses \(a), \(b), \(none)")
    }

    @Test("Curvature and inverse intervals: minimize asks exactly when the cadence does (t = 0, 3, 6)")
    func intervals() throws {
        let objective = try logistic(Double.self)
        func make() throws -> NaturalGradient<Double> {
            try NaturalGradient<Double>(learningRate: 1, damping: .fixed(1e-3), curvatureUpdateInterval: 3, inverseUpdateInterval: 3)
        }
        var optimizer = try make()
        let start = [Double](repeating: 0, count: objective.dimension)
        let result = try minimize(objective, from: start, optimizer: &optimizer, options: TrainingOptions(maxSteps: 7))
        // By hand: a curvature only when asked for.
        var manual = try make()
        var theta = start
        var asked: [Int] = []
        for t in 0..<7 {
            let g = try objective.gradient(at: theta)
            if manual.needsCurvature {
                asked.append(t)
                let c = try #require(theta.withUnsafeBufferPointer { objective.curvature(at: $0, batch: nil, fisher: .exact) })
                try manual.setCurvature(c)
            }
            try manual.step(&theta, gradient: g)
        }
        #expect(asked == [0, 3, 6])
        #expect(result.parameters == theta)
        #expect(optimizer.stepCount == 7)
    }
}
