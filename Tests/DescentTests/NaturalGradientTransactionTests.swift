import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// Issue 8's crash fixes: a failed step changes nothing (checkpoint bytes compared), restored
/// states are checked against their sizes, counters and values, the damping retries terminate.
@Suite struct NaturalGradientTransactionTests {
    /// Runs `body`, which must throw, and checks the checkpoint and the parameters are unchanged.
    func expectUntouched<S: BLASScalar>(_ opt: inout NaturalGradient<S>, _ theta: inout [S], _ what: String,
                                        _ body: (inout NaturalGradient<S>, inout [S]) throws -> Void) throws {
        let before = try opt.checkpoint()
        let parameters = theta
        var threw = false
        do { try body(&opt, &theta) } catch { threw = true }
        #expect(threw, "\(what): must throw")
        #expect(try opt.checkpoint() == before, "\(what): state changed")
        #expect(theta.map { $0.bitPattern } == parameters.map { $0.bitPattern }, "\(what): parameters changed")
    }

    func failedSteps<S: BLASScalar>(_: S.Type) throws {
        let n = 4
        var rng = SeededGenerator(seed: 3)
        let good: [Curvature<S>] = [
            .fisher(try .identity(n)),
            .diagonalMetric([1, 2, 3, 4]),
            .empiricalFisher(scores: randomMatrix(2, n, &rng)),
        ]
        let indefinite = try Matrix<S>(rows: n, columns: n, elements: (0..<n * n).map { $0 % (n + 1) == 0 ? -1 : 0 })
        var nanMatrix = try Matrix<S>.identity(n)
        nanMatrix[2, 2] = .nan
        var infMatrix = try Matrix<S>.identity(n)
        infMatrix[1, 0] = .infinity; infMatrix[0, 1] = .infinity
        let bad: [(String, Curvature<S>)] = [
            ("not positive definite", .fisher(indefinite)),
            ("NaN entry", .metric(nanMatrix)),
            ("infinite entry", .fisher(infMatrix)),
            ("negative diagonal", .diagonalMetric([1, -5, 1, 1])),
            ("NaN diagonal", .diagonalMetric([1, .nan, 1, 1])),
        ]
        for solver in [NaturalGradientSolver.automatic, .cholesky, .mixedPrecision] {
            for first in good {
                for (what, c) in bad {
                    var opt = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1e-3), solver: solver, maximumDampingRetries: 2)
                    var theta: [S] = randomVector(n, &rng)
                    try opt.setCurvature(first)
                    try opt.step(&theta, gradient: randomVector(n, &rng))
                    try opt.reportLoss(before: 1, after: 2)
                    try opt.setCurvature(c)
                    let g: [S] = randomVector(n, &rng)
                    try expectUntouched(&opt, &theta, "\(solver) \(first.name) then \(what)") { o, t in try o.step(&t, gradient: g) }
                    // The previous factor is intact: a good curvature steps again.
                    try opt.setCurvature(first)
                    try opt.step(&theta, gradient: g)
                    #expect(theta.allSatisfy { $0.isFinite })
                }
            }
        }
        // A gradient of another length, a non-finite gradient, an invalid hyperparameter.
        var opt = try NaturalGradient<S>()
        var theta: [S] = [1, 2, 3, 4]
        try opt.setCurvature(good[0])
        try opt.step(&theta, gradient: [1, 1, 1, 1])
        try expectUntouched(&opt, &theta, "gradient count") { o, t in try o.step(&t, gradient: [1, 1, 1]) }
        try expectUntouched(&opt, &theta, "NaN gradient") { o, t in try o.step(&t, gradient: [1, .nan, 1, 1]) }
        try expectUntouched(&opt, &theta, "inf gradient overflows the direction") { o, t in
            try o.step(&t, gradient: [S.greatestFiniteMagnitude, S.greatestFiniteMagnitude, 1, 1])
        }
        var badRate = opt
        badRate.learningRate = -1
        var t2 = theta
        #expect(throws: OptimizerError.self) { try badRate.step(&t2, gradient: [1, 1, 1, 1]) }
        #expect(t2 == theta)
        // A curvature of the wrong size is refused before anything changes.
        try expectUntouched(&opt, &theta, "curvature size") { o, _ in try o.setCurvature(.diagonalMetric([1, 2])) }
    }

    @Test func aFailedStepLeavesParametersAndStateBitIdentical() throws {
        try failedSteps(Double.self)
        try failedSteps(Float.self)
    }

    func retriesTerminate<S: BLASScalar>(_: S.Type) throws {
        // A NaN diagonal with (practically) unlimited retries: refused at once.
        var opt = try NaturalGradient<S>(maximumDampingRetries: Int.max)
        try opt.setCurvature(.diagonalMetric([1, .nan]))
        var theta: [S] = [1, 1]
        #expect(throws: NaturalGradientError.self) { try opt.step(&theta, gradient: [1, 1]) }
        // A finite but hopeless curvature: λ grows tenfold until it would be infinite.
        var big = try NaturalGradient<S>(damping: .fixed(1), maximumDampingRetries: Int.max)
        try big.setCurvature(.diagonalMetric([-S.greatestFiniteMagnitude, 1]))
        do {
            try big.step(&theta, gradient: [1, 1])
            Issue.record("a curvature of −greatestFiniteMagnitude must fail")
        } catch let NaturalGradientError.notPositiveDefinite(order, lastDamping, attempts) {
            #expect(order == 1 && lastDamping.isFinite && attempts > 30 && attempts < 400)
        }
        #expect(theta == [1, 1])
    }

    @Test func dampingRetriesTerminate() throws {
        try retriesTerminate(Double.self)
        try retriesTerminate(Float.self)
    }

    func emptyParameters<S: BLASScalar>(_: S.Type) throws {
        var opt = try NaturalGradient<S>(solver: .cholesky)
        try opt.setCurvature(.metric(Matrix(rows: 0, columns: 0)))
        var theta: [S] = []
        try opt.step(&theta, gradient: [])   // never reaches LAPACK
        #expect(opt.stepCount == 1)
        var diag = try NaturalGradient<S>()
        try diag.setCurvature(.diagonalMetric([]))
        try diag.step(&theta, gradient: [])
        #expect(diag.stepCount == 1)
    }

    @Test func zeroParametersNeverReachLAPACK() throws {
        try emptyParameters(Double.self)
        try emptyParameters(Float.self)
    }

    /// Decodes `data` after `edit` on the optimizer's JSON object; must be refused.
    func expectRefused<S: BLASScalar>(_: S.Type, _ data: Data, _ what: String, _ edit: (inout [String: Any]) -> Void) throws {
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var state = try #require(json["optimizer"] as? [String: Any])
        edit(&state)
        json["optimizer"] = state
        let changed = try JSONSerialization.data(withJSONObject: json)
        #expect(throws: (any Error).self, "\(what)") { _ = try NaturalGradient<S>(checkpoint: changed) }
    }

    func restoredStates<S: BLASScalar>(_: S.Type) throws {
        let n = 5
        var rng = SeededGenerator(seed: 9)
        let cases: [(NaturalGradientSolver, Curvature<S>, String)] = [
            (.cholesky, .fisher(try .identity(n)), "dense"),
            (.mixedPrecision, .empiricalFisher(scores: randomMatrix(7, n, &rng)), "dense"),
            (.woodbury, .bernoulli(logitJacobian: randomMatrix(3, n, &rng), probabilities: [0.2, 0.5, 0.9]), "lowRank"),
            (.automatic, .diagonalMetric([1, 2, 3, 4, 5]), "diagonal"),
        ]
        for (solver, c, key) in cases {
            var opt = try NaturalGradient<S>(solver: solver)
            var theta: [S] = randomVector(n, &rng)
            try opt.setCurvature(c)
            try opt.step(&theta, gradient: randomVector(n, &rng))
            let data = try opt.checkpoint(format: .json)
            _ = try NaturalGradient<S>(checkpoint: data)
            try expectRefused(S.self, data, "\(key): count deleted") { $0["count"] = nil }
            try expectRefused(S.self, data, "\(key): count changed") { $0["count"] = n - 1 }
            try expectRefused(S.self, data, "\(key): t = Int.max") { $0["t"] = Int.max }
            try expectRefused(S.self, data, "\(key): skipped = Int.max") { $0["skipped"] = Int.max }
            try expectRefused(S.self, data, "\(key): solver deleted") { $0[key] = nil }
            try expectRefused(S.self, data, "\(key): factor path changed") { $0["factorPath"] = key == "diagonal" ? "dense" : "diagonal" }
            try expectRefused(S.self, data, "\(key): factor NaN") { state in
                guard var s = state[key] as? [String: Any] else { return }
                let field = (s["single"] as? [Any])?.isEmpty == false ? "single" : "factor"
                var f = s[field] as? [Any] ?? []
                if !f.isEmpty { f[0] = "nan" }
                s[field] = f
                state[key] = s
            }
            try expectRefused(S.self, data, "\(key): factor truncated") { state in
                guard var s = state[key] as? [String: Any] else { return }
                let field = (s["single"] as? [Any])?.isEmpty == false ? "single" : "factor"
                s[field] = Array((s[field] as? [Any] ?? []).dropLast())
                state[key] = s
            }
            try expectRefused(S.self, data, "\(key): future format") { $0["format"] = 99 }
        }
    }

    @Test func restoredStatesAreCheckedAgainstCountPathCountersAndValues() throws {
        try restoredStates(Double.self)
        try restoredStates(Float.self)
    }

    func legacyCheckpoint<S: BLASScalar>(_: S.Type) throws {
        // A format-1 checkpoint (before the curvature layer): dense path with a moving average,
        // M = [[2, 0.5], [0.5, 1]] in the strictly lower triangle and `diagonal`, a factor above.
        let json = """
        {"kind":"natural","scalar":"\(S.self)","optimizer":{"learningRate":1,"damping":{"fixed":{"_0":0.25}},
        "refreshInterval":1,"curvatureDecay":0.5,"solver":"automatic","maximumDampingRetries":8,
        "nonFiniteGradientPolicy":"throwError","t":3,"skipped":0,"count":2,"path":"dense",
        "buffer":[1.5,0.3,0.5,1.1],"diagonal":[2,1],"rows":{"rows":0,"columns":0,"elements":[]},"rowsScale":0,
        "rowsOwned":false,"factorValid":true,"factorDamping":0.25,"factorRequest":0.25,"dirty":false,
        "hasCurvature":true,"sinceRefresh":1}}
        """
        var opt = try NaturalGradient<S>(checkpoint: Data(json.utf8), parameterCount: 2)
        #expect(opt.stepCount == 3 && opt.curvatureDecay == 0.5 && opt.currentDamping == 0.25)
        // The next curvature folds into the restored average: F̄ = ½M + ½I.
        try opt.setCurvature(.fisher(.identity(2)))
        var theta: [S] = [0, 0]
        try opt.step(&theta, gradient: [1, 1])
        let average = [[1.5 + 0.25, 0.25], [0.25, 1 + 0.25]]
        let expected = referenceSolve(average, [1, 1]).map { -$0 }
        #expect(relativeError(doubles(theta), expected) <= ngTolerance(S.self))
    }

    @Test func formatOneCheckpointsStillLoad() throws {
        try legacyCheckpoint(Double.self)
        try legacyCheckpoint(Float.self)
    }
}
