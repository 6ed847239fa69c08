import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// The examples of docs/lecture.md and the regression problems.
@Suite struct NaturalGradientTests {
    // MARK: Lecture: L = a²x̃² + b²ỹ² in squeezed coordinates, G = diag(a², b²).

    func lectureGradient<S: BLASScalar>(_ theta: [S], a: S, b: S) -> [S] { [2 * a * a * theta[0], 2 * b * b * theta[1]] }

    func lectureOneStep<S: BLASScalar>(_: S.Type) throws {
        for (a, b) in [(1e3, 1.0), (1.0, 1e3), (2.5, 0.1), (1.0, 1.0), (7.0, 3.0)] {
            let a = S(a), b = S(b)
            let start: [S] = [S(0.75), S(-1.25)]
            for curvature in [Curvature<S>.diagonalMetric([a * a, b * b]),
                              .metric(try Matrix([[a * a, 0], [0, b * b]]))] {
                var opt = try NaturalGradient<S>(learningRate: 0.5, damping: .fixed(0))
                #expect(opt.needsCurvature)
                try opt.setCurvature(curvature)
                var theta = start
                try opt.step(&theta, gradient: lectureGradient(theta, a: a, b: b))
                // Natural gradient G⁻¹∇L = 2(x̃, ỹ): η = ½ lands on the minimum (0, 0).
                for i in 0..<2 {
                    #expect(abs(Double(theta[i])) <= 4 * Double(S.ulpOfOne) * abs(Double(start[i])),
                            "a = \(a), b = \(b), \(curvature.name): θ = \(theta)")
                }
            }
        }
    }

    @Test func lectureExampleLandsOnTheMinimumInOneStep() throws {
        try lectureOneStep(Double.self)
        try lectureOneStep(Float.self)
    }

    /// Plain gradient descent with the largest stable-and-best step η = 1/(2a²) (the x̃
    /// direction in one step) contracts ỹ by 1 − (b/a)² per step.
    func gradientDescentSteps<S: BLASScalar>(_: S.Type, ratio: Double) throws -> Int {
        let a = S(ratio), b = S(1)
        var sgd = try SGD<S>(learningRate: 1 / (2 * a * a))
        var theta: [S] = [1, 1]
        // Distance to the minimum (0, 0); x̃ is exact after one step, ỹ shrinks by 1 − (b/a)².
        func distance(_ t: [S]) -> Double { max(abs(Double(t[0])), abs(Double(t[1]))) }
        var steps = 0
        while distance(theta) > 1e-4 {
            try sgd.step(&theta, gradient: lectureGradient(theta, a: a, b: b))
            steps += 1
            if steps > 1_000_000 { break }
        }
        return steps
    }

    func gradientDescentGrowth<S: BLASScalar>(_: S.Type) throws {
        let ratios = [4.0, 8.0, 16.0, 32.0]
        let steps = try ratios.map { try gradientDescentSteps(S.self, ratio: $0) }
        // steps ≈ ln(10⁴) / (b/a)²: steps / (a/b)² is the same constant for every ratio.
        let normalized = zip(steps, ratios).map { Double($0) / ($1 * $1) }
        let expected = log(1e4)
        for (r, v) in zip(ratios, normalized) {
            #expect(abs(v - expected) / expected < 0.1, "a/b = \(r): \(v) vs \(expected)")
        }
        for i in 1..<steps.count {
            let growth = Double(steps[i]) / Double(steps[i - 1])
            #expect(growth > 3.6 && growth < 4.4, "doubling a/b multiplies the steps by \(growth)")
        }
        print("gradient descent steps for a/b = \(ratios): \(steps) (natural gradient: 1)")
        // a/b = 10³ (the natural gradient's one step above): 10⁴ plain steps barely move ỹ.
        let a = S(1e3)
        var sgd = try SGD<S>(learningRate: 1 / (2 * a * a))
        var theta: [S] = [1, 1]
        for _ in 0..<10_000 { try sgd.step(&theta, gradient: lectureGradient(theta, a: a, b: 1)) }
        #expect(Double(theta[1]) > 0.98, "ỹ after 10⁴ steps: \(theta[1])")
    }

    @Test func gradientDescentNeedsStepsGrowingWithTheSquaredRatio() throws {
        try gradientDescentGrowth(Double.self)
        try gradientDescentGrowth(Float.self)
    }

    // MARK: Logistic regression: Fisher scoring with the exact Fisher (F_sigmoid, logit form).

    func fisherScoring<S: BLASScalar>(_: S.Type, fisherForm: Bool) throws {
        let fixture = try RegressionFixture.load()
        let problem = LogisticProblem<S>(fixture.logistic)
        var opt = try NaturalGradient<S>(learningRate: 1, damping: .fixed(0))
        var theta = [S](repeating: 0, count: problem.n)
        var converged: Int? = nil
        for k in 1...10 {
            let p = problem.probabilities(theta)
            if fisherForm {
                // E[−∇² log p] of the GLM, written out: (1/m) Σ pᵢ(1 − pᵢ) xᵢxᵢᵀ.
                var f = try Matrix<S>(rows: problem.n, columns: problem.n)
                for i in 0..<problem.m { for a in 0..<problem.n { for b in 0..<problem.n {
                    f[a, b] += p[i] * (1 - p[i]) * problem.design[i, a] * problem.design[i, b] / S(problem.m)
                } } }
                try opt.setCurvature(.fisher(f))
            } else {
                try opt.setCurvature(.bernoulli(logitJacobian: problem.design, probabilities: p))
            }
            try opt.step(&theta, gradient: problem.gradient(theta))
            if converged == nil, relativeError(doubles(theta), fixture.logistic.params) < (S.self == Double.self ? 1e-10 : 1e-5) {
                converged = k
            }
        }
        #expect(!opt.usesWoodbury)
        let tolerance = S.self == Double.self ? 1e-8 : 1e-5
        #expect(relativeError(doubles(theta), fixture.logistic.params) < tolerance, "θ = \(theta) vs \(fixture.logistic.params)")
        let maxGradient = problem.gradient(theta).map { abs(Double($0)) }.max()!
        #expect(maxGradient < (S.self == Double.self ? 1e-12 : 1e-5))
        #expect(converged != nil && converged! <= 10)
        print("Fisher scoring (\(S.self), \(fisherForm ? "fisher" : "bernoulli")) matched statsmodels at step \(converged ?? -1)")
    }

    @Test func fisherScoringConvergesToTheStatsmodelsMLE() throws {
        try fisherScoring(Double.self, fisherForm: false)
        try fisherScoring(Float.self, fisherForm: false)
        try fisherScoring(Double.self, fisherForm: true)
        try fisherScoring(Float.self, fisherForm: true)
    }

    // MARK: Linear regression: the Gaussian Fisher (F_linear) gives least squares in one step.

    func linearOneStep<S: BLASScalar>(_: S.Type, solver: NaturalGradientSolver) throws {
        let fixture = try RegressionFixture.load()
        let lin = fixture.linear
        let design = try Matrix<S>(lin.X.map { $0.map { S($0) } + [1] })
        let y = lin.y.map { S($0) }
        let m = design.rows, n = design.columns
        var theta = [S](repeating: 0, count: n)
        // ∇L for L = (1/(2m))‖X̃θ − y‖² at θ = 0: −(1/m) X̃ᵀy.
        var g = [S](repeating: 0, count: n)
        for i in 0..<m { for j in 0..<n { g[j] -= design[i, j] * y[i] / S(m) } }
        var opt = try NaturalGradient<S>(learningRate: 1, damping: .fixed(0), solver: solver)
        try opt.setCurvature(.gaussian(jacobian: design, samples: m, beta: 1))
        try opt.step(&theta, gradient: g)
        let tolerance = S.self == Double.self ? 1e-8 : 1e-5
        #expect(relativeError(doubles(theta), lin.params) < tolerance, "θ = \(theta) vs \(lin.params)")
    }

    @Test func gaussianFisherSolvesLeastSquaresInOneStep() throws {
        try linearOneStep(Double.self, solver: .automatic)
        try linearOneStep(Float.self, solver: .automatic)
        try linearOneStep(Double.self, solver: .cholesky)
    }

    // MARK: Empirical vs exact Fisher on the same logistic problem.

    func stepsToConverge<S: BLASScalar>(_: S.Type, empirical: Bool, limit: Int) throws -> Int? {
        let fixture = try RegressionFixture.load()
        let problem = LogisticProblem<S>(fixture.logistic)
        var opt = try NaturalGradient<S>(learningRate: 1, damping: .fixed(0))
        var theta = [S](repeating: 0, count: problem.n)
        let tolerance = S.self == Double.self ? 1e-8 : 1e-4
        for k in 1...limit {
            if empirical {
                try opt.setCurvature(.empiricalFisher(scores: problem.scores(theta)))
            } else {
                try opt.setCurvature(.bernoulli(logitJacobian: problem.design, probabilities: problem.probabilities(theta)))
            }
            try opt.step(&theta, gradient: problem.gradient(theta))
            if relativeError(doubles(theta), fixture.logistic.params) < tolerance { return k }
        }
        return nil
    }

    func empiricalVersusExact<S: BLASScalar>(_: S.Type) throws {
        let exact = try stepsToConverge(S.self, empirical: false, limit: 50)
        let empirical = try stepsToConverge(S.self, empirical: true, limit: 500)
        #expect(exact != nil)
        #expect(empirical != nil)
        if let exact, let empirical {
            #expect(exact < empirical)
            print("logistic regression (\(S.self)), steps to the MLE: exact Fisher \(exact), empirical Fisher \(empirical)")
        }
    }

    @Test func empiricalFisherConvergesButNeedsMoreSteps() throws {
        try empiricalVersusExact(Double.self)
        try empiricalVersusExact(Float.self)
    }

    // MARK: The example of docs/natural-gradient.md, verbatim, against statsmodels.

    @Test func documentationExampleReachesTheStatsmodelsMLE() throws {
        struct Golden: Decodable { var params: [Double] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/natural_doc_example.json")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))

        let x = try Matrix<Double>([[0.5, 1.2, 1], [-1.0, 0.3, 1], [1.5, -0.7, 1], [0.2, 0.1, 1],
                                    [-0.4, -1.1, 1], [1.1, 0.9, 1], [-0.8, 0.6, 1], [0.9, -0.2, 1]])
        let y: [Double] = [1, 0, 1, 0, 0, 0, 1, 1]
        var theta = [Double](repeating: 0, count: 3)
        var optimizer = try NaturalGradient<Double>(learningRate: 1, damping: .fixed(0))   // Fisher scoring
        for _ in 0..<10 {
            let p = (0..<x.rows).map { i in 1 / (1 + exp(-(0..<3).reduce(0) { $0 + x[i, $1] * theta[$1] })) }
            let gradient = (0..<3).map { j in (0..<x.rows).reduce(0) { $0 + (p[$1] - y[$1]) * x[$1, j] } / Double(x.rows) }
            try optimizer.setCurvature(.bernoulli(logitJacobian: x, probabilities: p))      // exact Fisher, logit form
            try optimizer.step(&theta, gradient: gradient)
        }
        #expect(relativeError(theta, golden.params) < 1e-10, "θ = \(theta) vs \(golden.params)")
    }
}
