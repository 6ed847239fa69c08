import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// The mixed-precision dense solver: Float factor, Double refinement (LAPACK's dsposv scheme).
@Suite struct NaturalGradientMixedPrecisionTests {
    /// Q diag(σ) Qᵀ with σ log-spaced from 1 down to 1/κ, Q orthonormal (Gram–Schmidt, plain).
    static func conditioned(order n: Int, condition kappa: Double, seed: UInt64) -> (q: [[Double]], sigma: [Double]) {
        var rng = SeededGenerator(seed: seed)
        var q: [[Double]] = []
        while q.count < n {
            var v = (0..<n).map { _ in rng.uniform() }
            for _ in 0..<2 {
                for u in q {
                    let d = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for i in 0..<n { v[i] -= d * u[i] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-8 { q.append(v.map { $0 / norm }) }
        }
        let sigma = (0..<n).map { pow(kappa, -Double($0) / Double(n - 1)) }
        return (q, sigma)
    }

    /// The same F as a matrix and as m = n rows S (F = SᵀS/m, rows √(mσₖ) qₖ).
    static func forms(order n: Int, condition kappa: Double, seed: UInt64) throws -> [Curvature<Double>] {
        let (q, sigma) = conditioned(order: n, condition: kappa, seed: seed)
        var f = [Double](repeating: 0, count: n * n)
        for k in 0..<n { for a in 0..<n { for b in 0..<n { f[a * n + b] += sigma[k] * q[k][a] * q[k][b] } } }
        let rows = (0..<n).flatMap { k in q[k].map { $0 * (Double(n) * sigma[k]).squareRoot() } }
        return [.fisher(try Matrix(rows: n, columns: n, elements: f)),
                .empiricalFisher(scores: try Matrix(rows: n, columns: n, elements: rows))]
    }

    func direction(_ solver: NaturalGradientSolver, _ c: Curvature<Double>, _ g: [Double]) throws -> ([Double], NaturalGradient<Double>) {
        var opt = try NaturalGradient<Double>(damping: .fixed(0), solver: solver)
        try opt.setCurvature(c)
        var theta = [Double](repeating: 0, count: g.count)
        try opt.step(&theta, gradient: g)
        return (theta, opt)
    }

    @Test(arguments: [1e2, 1e4, 1e6])
    func mixedPrecisionMatchesTheDoubleSolve(condition kappa: Double) throws {
        let n = 48
        var rng = SeededGenerator(seed: 11)
        let g = (0..<n).map { _ in rng.uniform() }
        for c in try Self.forms(order: n, condition: kappa, seed: 4) {
            let (reference, _) = try direction(.cholesky, c, g)
            let (mixed, opt) = try direction(.mixedPrecision, c, g)
            #expect(opt.activeCholeskyPrecision == .mixed, "\(c.name) κ = \(kappa)")
            #expect(opt.activeSolver == "cholesky (mixed precision)")
            #expect(opt.lastRefinementIterations >= 1)
            // Both are backward-stable Double solves of the same system (the mixed one refined to
            // Double accuracy), so each is within c·n·κ·ε of the exact solution, whatever the
            // BLAS kernels' order of summation: the bound is 2·n·κ·ε, not a measured value.
            let bound = 2 * Double(n) * kappa * Double.ulpOfOne
            #expect(relativeError(mixed, reference) <= bound, "\(c.name) κ = \(kappa): \(relativeError(mixed, reference)) > \(bound)")
            // And both against the plain reference solve.
            let plain = referenceSolve(referenceFisher(c), g).map { -$0 }
            #expect(relativeError(mixed, plain) <= bound, "\(c.name) κ = \(kappa): \(relativeError(mixed, plain)) > \(bound)")
        }
    }

    @Test func illConditionedCurvatureFallsBackToTheDoubleFactor() throws {
        let n = 48
        var rng = SeededGenerator(seed: 12)
        let g = (0..<n).map { _ in rng.uniform() }
        for c in try Self.forms(order: n, condition: 1e12, seed: 5) {
            let (reference, _) = try direction(.cholesky, c, g)
            var (mixed, opt) = try direction(.mixedPrecision, c, g)
            #expect(opt.activeCholeskyPrecision == .working, "\(c.name): the Float factor cannot hold κ = 1e12")
            #expect(mixed == reference, "\(c.name): the fallback is the Double solve")
            // The fallback factor is committed and reused by the next step (no new curvature).
            let before = mixed
            try opt.step(&mixed, gradient: g)
            #expect(relativeError(zip(mixed, before).map { $0 - $1 }, reference) <= 1e-12)
            #expect(opt.activeSolver == "cholesky")
        }
    }

    func floatIsWorking<S: BLASScalar>(_: S.Type) throws {
        // Mixed precision for Float is the Float Cholesky itself.
        var rng = SeededGenerator(seed: 13)
        let c: Curvature<S> = .empiricalFisher(scores: randomMatrix(12, 6, &rng))
        let g: [S] = randomVector(6, &rng)
        var a = try NaturalGradient<S>(solver: .mixedPrecision), b = try NaturalGradient<S>(solver: .cholesky)
        try a.setCurvature(c); try b.setCurvature(c)
        var ta = [S](repeating: 0, count: 6), tb = ta
        try a.step(&ta, gradient: g); try b.step(&tb, gradient: g)
        if S.self == Float.self {
            #expect(ta == tb && a.activeCholeskyPrecision == .working)
        } else {
            #expect(relativeError(doubles(ta), doubles(tb)) <= 1e-10 && a.activeCholeskyPrecision == .mixed)
        }
    }

    @Test func mixedPrecisionIsTheWorkingPrecisionForFloat() throws {
        try floatIsWorking(Float.self)
        try floatIsWorking(Double.self)
    }

    @Test func automaticSolverChoosesByOrderAndReportsIt() throws {
        var rng = SeededGenerator(seed: 14)
        let small: Curvature<Double> = .fisher(try Self.forms(order: 8, condition: 10, seed: 1)[0].matrix())
        var opt = try NaturalGradient<Double>()
        try opt.setCurvature(small)
        var theta = [Double](repeating: 0, count: 8)
        try opt.step(&theta, gradient: (0..<8).map { _ in rng.uniform() })
        #expect(opt.activeSolver == "cholesky" && 8 < NaturalGradient<Double>.mixedPrecisionThreshold)
        var wood = try NaturalGradient<Double>()
        try wood.setCurvature(.empiricalFisher(scores: randomMatrix(2, 8, &rng)))
        try wood.step(&theta, gradient: (0..<8).map { _ in rng.uniform() })
        #expect(wood.activeSolver == "woodbury")
        var diag = try NaturalGradient<Double>()
        try diag.setCurvature(.diagonalMetric([Double](repeating: 1, count: 8)))
        try diag.step(&theta, gradient: (0..<8).map { _ in rng.uniform() })
        #expect(diag.activeSolver == "diagonal")
    }

    @Test func mixedPrecisionCheckpointRoundTrip() throws {
        let n = 16
        let c = try Self.forms(order: n, condition: 1e3, seed: 8)
        for form in c {
            var opt = try NaturalGradient<Double>(refreshInterval: 3, solver: .mixedPrecision)
            var theta = [Double](repeating: 0.5, count: n)
            let g = (0..<n).map { Double($0 % 5) - 2 }
            try opt.setCurvature(form)
            try opt.step(&theta, gradient: g)
            let data = try opt.checkpoint()
            var restored = try NaturalGradient<Double>(checkpoint: data)
            var t2 = theta
            try opt.step(&theta, gradient: g)
            try restored.step(&t2, gradient: g)
            #expect(theta == t2, "\(form.name)")
        }
    }
}
