import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// Curvature forms, the two solvers, the constrained step and the damping retries, each
/// against the plain scalar references of NaturalGradientTestSupport.swift.
@Suite struct NaturalGradientSolverTests {
    /// One step from θ = 0 (so θ after the step is δθ exactly).
    func oneStep<S: BLASScalar>(_ opt: inout NaturalGradient<S>, _ c: Curvature<S>, _ g: [S]) throws -> [S] {
        var theta = [S](repeating: 0, count: g.count)
        try opt.setCurvature(c)
        try opt.step(&theta, gradient: g)
        return theta
    }

    func curvatureMatrices<S: BLASScalar>(_: S.Type) throws {
        var rng = SeededGenerator(seed: 7)
        var forms: [Curvature<S>] = randomSampleCurvatures(parameters: 6, samples: 4, seed: 11)
        let g: Matrix<S> = randomMatrix(6, 6, &rng)
        forms.append(.metric(g))
        forms.append(.diagonalMetric(randomVector(6, &rng)))
        for c in forms {
            let f = try c.matrix()
            let reference = referenceFisher(c)
            let expected = c.name == "metric" ? (0..<6).map { i in (0..<6).map { j in j <= i ? reference[i][j] : reference[j][i] } } : reference
            #expect(relativeError(rowArrays(f).flatMap { $0 }, expected.flatMap { $0 }) <= ngTolerance(S.self), "\(c.name)")
        }
    }

    @Test func curvatureFormsMatchTheirFormulas() throws {
        try curvatureMatrices(Double.self)
        try curvatureMatrices(Float.self)
    }

    func solversAgree<S: BLASScalar>(_: S.Type) throws {
        for (n, m, seed) in [(9, 4, UInt64(1)), (40, 7, 2), (25, 24, 3)] {
            var rng = SeededGenerator(seed: seed + 100)
            let g: [S] = randomVector(n, &rng)
            for c in randomSampleCurvatures(parameters: n, samples: m, seed: seed) as [Curvature<S>] {
                let lambda = S(0.3)
                var chol = try NaturalGradient<S>(learningRate: 0.7, damping: .fixed(lambda), solver: .cholesky)
                var wood = try NaturalGradient<S>(learningRate: 0.7, damping: .fixed(lambda), solver: .woodbury)
                var auto = try NaturalGradient<S>(learningRate: 0.7, damping: .fixed(lambda))
                let a = try oneStep(&chol, c, g), b = try oneStep(&wood, c, g), d = try oneStep(&auto, c, g)
                #expect(!chol.usesWoodbury && wood.usesWoodbury)
                #expect(auto.usesWoodbury == ((c.rank ?? n) < n))
                let reference = referenceSolve(damped(referenceFisher(c), Double(lambda)), doubles(g)).map { -0.7 * $0 }
                let tolerance = S.self == Double.self ? 1e-12 : 1e-5
                #expect(relativeError(doubles(a), reference) <= tolerance, "cholesky \(c.name) n = \(n)")
                #expect(relativeError(doubles(b), reference) <= tolerance, "woodbury \(c.name) n = \(n)")
                #expect(relativeError(doubles(b), doubles(a)) <= (S.self == Double.self ? 1e-10 : 1e-5), "woodbury vs cholesky \(c.name)")
                #expect(doubles(d) == doubles(auto.usesWoodbury ? b : a))
            }
        }
    }

    @Test func woodburyAndCholeskyAgreeWithTheReference() throws {
        try solversAgree(Double.self)
        try solversAgree(Float.self)
    }

    func constrainedStep<S: BLASScalar>(_: S.Type) throws {
        let n = 12
        var rng = SeededGenerator(seed: 5)
        let g: [S] = randomVector(n, &rng)
        let kl = 0.01, epsilon = S(2 * kl)
        var curvatures: [Curvature<S>] = randomSampleCurvatures(parameters: n, samples: 5, seed: 9)
        curvatures.append(.diagonalMetric((0..<n).map { _ in S(1.5 + rng.uniform()) }))
        for c in curvatures {
            for solver in [NaturalGradientSolver.cholesky, .automatic] {
                let lambda = S(0.05)
                var opt = try NaturalGradient<S>(learningRate: 123, damping: .fixed(lambda), stepLength: epsilon, solver: solver)
                let delta = doubles(try oneStep(&opt, c, g))
                let fTilde = damped(referenceFisher(c), Double(lambda))
                // δθᵀ F̃ δθ = ε (learningRate is not used).
                let tolerance = S.self == Double.self ? 1e-12 : 1e-5
                #expect(abs(quadraticForm(fTilde, delta) - Double(epsilon)) / Double(epsilon) <= tolerance, "\(c.name) \(solver)")
                let x = referenceSolve(fTilde, doubles(g))
                let scale = (Double(epsilon) / dotProduct(doubles(g), x)).squareRoot()
                #expect(relativeError(delta, x.map { -scale * $0 }) <= tolerance)
            }
        }
    }

    @Test func klConstrainedStepHasTheRequestedLength() throws {
        try constrainedStep(Double.self)
        try constrainedStep(Float.self)
    }

    func saturatedSigmoid<S: BLASScalar>(_: S.Type) throws {
        var rng = SeededGenerator(seed: 3)
        let n = 5, m = 6
        let j: Matrix<S> = randomMatrix(m, n, &rng)
        let p: [S] = [0, 1, 0.3, 1, 0, 0.8]
        let g: [S] = randomVector(n, &rng)
        let c = Curvature<S>.bernoulli(logitJacobian: j, probabilities: p)
        for solver in [NaturalGradientSolver.cholesky, .woodbury] {
            var opt = try NaturalGradient<S>(damping: .fixed(1e-3), solver: solver)
            let delta = try oneStep(&opt, c, g)
            #expect(delta.allSatisfy { $0.isFinite })
            let reference = referenceSolve(damped(referenceBernoulliFisher(rowArrays(j), doubles(p)), 1e-3), doubles(g)).map { -$0 }
            // F has rank 2 here, so F + 10⁻³I has condition number ~10³.
            #expect(relativeError(doubles(delta), reference) <= (S.self == Double.self ? 1e-11 : 1e-3), "\(solver)")
        }
    }

    @Test func saturatedSigmoidOutputsGiveAFiniteStep() throws {
        try saturatedSigmoid(Double.self)
        try saturatedSigmoid(Float.self)
    }

    func retries<S: BLASScalar>(_: S.Type) throws {
        // Indefinite F (eigenvalues (5 ± √65)/4 ≈ −0.77, 3.27) with λ = 0: needs λ > 0.77.
        let f = try Matrix<S>([[1, 2], [2, 1.5]])
        let g: [S] = [0.5, -0.25]
        var opt = try NaturalGradient<S>(damping: .fixed(0))
        let delta = try oneStep(&opt, .fisher(f), g)
        // 10⁻⁶·tr(F)/n, then ×10 per retry: the first λ > 0.77 of the sequence.
        let floor = S(2.5) / 2 * S(1e-6)
        var expected = floor
        while expected <= 0.77 { expected *= 10 }
        #expect(opt.factoredDamping == expected)
        let reference = referenceSolve(damped(rowArrays(f), Double(expected)), doubles(g)).map { -$0 }
        #expect(relativeError(doubles(delta), reference) <= ngTolerance(S.self))

        // Singular PSD F = SᵀS/m with m < n and λ = 0 on the Cholesky path: a tiny λ rescues it.
        var rng = SeededGenerator(seed: 8)
        var singular = try NaturalGradient<S>(damping: .fixed(0), solver: .cholesky)
        let step = try oneStep(&singular, .empiricalFisher(scores: randomMatrix(2, 6, &rng)), randomVector(6, &rng))
        #expect(step.allSatisfy { $0.isFinite })
        #expect((singular.factoredDamping ?? 0) > 0)

        // Too few retries: the error names the failing minor and the last λ; nothing changes.
        var few = try NaturalGradient<S>(damping: .fixed(0), maximumDampingRetries: 2)
        try few.setCurvature(.fisher(f))
        var theta: [S] = [3, 4]
        #expect(throws: NaturalGradientError.notPositiveDefinite(order: 2, lastDamping: Double(floor * 10), attempts: 3)) {
            try few.step(&theta, gradient: g)
        }
        #expect(theta == [3, 4] && few.stepCount == 0 && few.factoredDamping == nil)
        #expect(few.needsCurvature == false, "the curvature stays pending for a retry")
    }

    @Test func notPositiveDefiniteCurvatureIsRescuedOrNamed() throws {
        try retries(Double.self)
        try retries(Float.self)
    }

    func nanCurvature<S: BLASScalar>(_: S.Type) throws {
        let n = 3
        let bad = try Matrix<S>(rows: n, columns: n, elements: Array(repeating: S.nan, count: n * n))
        var opt = try NaturalGradient<S>()
        try opt.setCurvature(.fisher(bad))
        var theta: [S] = [1, 2, 3]
        do {
            try opt.step(&theta, gradient: [1, 1, 1])
            Issue.record("a NaN curvature must not give a step")
        } catch let NaturalGradientError.notPositiveDefinite(order, lastDamping, attempts) {
            // A NaN pivot cannot be rescued by a larger λ: refused at the first attempt.
            #expect(order == 1 && attempts == 1 && lastDamping.isNaN == false)
            #expect("\(NaturalGradientError.notPositiveDefinite(order: order, lastDamping: lastDamping, attempts: attempts))".contains("order 1"))
        }
        #expect(theta == [1, 2, 3] && opt.stepCount == 0)
        // A good curvature afterwards works.
        try opt.setCurvature(.diagonalMetric([2, 2, 2]))
        try opt.step(&theta, gradient: [1, 1, 1])
        #expect(theta.allSatisfy { $0.isFinite } && opt.stepCount == 1)
    }

    @Test func nanCurvatureGivesTheErrorWithParametersUntouched() throws {
        try nanCurvature(Double.self)
        try nanCurvature(Float.self)
    }

    func refreshAndAverage<S: BLASScalar>(_: S.Type) throws {
        let n = 5
        var rng = SeededGenerator(seed: 21)
        let c1: Curvature<S> = .empiricalFisher(scores: randomMatrix(8, n, &rng))
        let c2: Curvature<S> = .empiricalFisher(scores: randomMatrix(8, n, &rng))
        let g: [S] = randomVector(n, &rng)
        let lambda = 0.2
        func expected(_ f: [[Double]]) -> [Double] { referenceSolve(damped(f, lambda), doubles(g)).map { -$0 } }
        let f1 = referenceFisher(c1), f2 = referenceFisher(c2)

        // refreshInterval 3: the factor of c1 serves steps 1–3, c2 (set at step 2) starts at step 4.
        var opt = try NaturalGradient<S>(damping: .fixed(S(lambda)), refreshInterval: 3)
        var needs: [Bool] = []
        var steps: [[Double]] = []
        for k in 1...4 {
            needs.append(opt.needsCurvature)
            if k == 1 { try opt.setCurvature(c1) }
            if k == 2 { try opt.setCurvature(c2) }
            var theta = [S](repeating: 0, count: n)
            try opt.step(&theta, gradient: g)
            steps.append(doubles(theta))
        }
        #expect(needs == [true, false, false, true], "asked for at t = 0 and 3; c2, set at step 2, is factored at step 4")
        for (k, s) in steps.enumerated() {
            #expect(relativeError(s, expected(k < 3 ? f1 : f2)) <= ngTolerance(S.self), "step \(k + 1)")
        }
        #expect(opt.needsCurvature == false)
        for _ in 0..<2 { var t = [S](repeating: 0, count: n); try opt.step(&t, gradient: g) }
        #expect(opt.needsCurvature)
        // Without a new curvature the factor of c2 is reused.
        var theta = [S](repeating: 0, count: n)
        try opt.step(&theta, gradient: g)
        #expect(relativeError(doubles(theta), expected(f2)) <= ngTolerance(S.self))

        // Moving average β = 0.75, folded at each setCurvature, refactored at the refresh (every 2 steps).
        let beta = 0.75
        var ema = try NaturalGradient<S>(damping: .fixed(S(lambda)), refreshInterval: 2, curvatureDecay: S(beta))
        try ema.setCurvature(c1)
        var t1 = [S](repeating: 0, count: n); try ema.step(&t1, gradient: g)
        try ema.setCurvature(c2)   // folded now, but the factor of c1 serves step 2
        var t2 = [S](repeating: 0, count: n); try ema.step(&t2, gradient: g)
        var t3 = [S](repeating: 0, count: n); try ema.step(&t3, gradient: g)
        let average = zip(f1, f2).map { zip($0, $1).map { beta * $0 + (1 - beta) * $1 } }
        #expect(relativeError(doubles(t1), expected(f1)) <= ngTolerance(S.self))
        #expect(relativeError(doubles(t2), expected(f1)) <= ngTolerance(S.self))
        #expect(relativeError(doubles(t3), expected(average)) <= ngTolerance(S.self))
        #expect(!ema.usesWoodbury)

        // The same with matrix and diagonal curvatures.
        let pairs: [(Curvature<S>, Curvature<S>)] = [
            (.metric(try c1.matrix()), .fisher(try c2.matrix())),
            (.diagonalMetric((0..<n).map { S(1 + $0) }), .diagonalMetric((0..<n).map { S(3 - $0 % 2) })),
        ]
        for (a, b) in pairs {
            var e = try NaturalGradient<S>(damping: .fixed(S(lambda)), curvatureDecay: S(beta))
            try e.setCurvature(a); try e.setCurvature(b)
            var t = [S](repeating: 0, count: n); try e.step(&t, gradient: g)
            let fa = referenceFisher(a), fb = referenceFisher(b)
            let avg = zip(fa, fb).map { zip($0, $1).map { beta * $0 + (1 - beta) * $1 } }
            #expect(relativeError(doubles(t), expected(avg)) <= ngTolerance(S.self), "\(a.name)")
        }
    }

    @Test func refreshIntervalReusesTheFactorAndDecayAveragesCurvatures() throws {
        try refreshAndAverage(Double.self)
        try refreshAndAverage(Float.self)
    }
}
