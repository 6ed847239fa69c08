import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// Levenberg–Marquardt damping, checkpoints and bad input.
@Suite struct NaturalGradientStateTests {
    func levenbergMarquardt<S: BLASScalar>(_: S.Type) throws {
        // L(θ) = ½θᵀAθ − bᵀθ with F = A: the quadratic model is exact, so ρ = 1.
        let a = try Matrix<S>([[3, 1, 0], [1, 2, 0.5], [0, 0.5, 1]])
        let b: [S] = [1, -2, 0.5]
        func loss(_ t: [S]) -> Double {
            let r = rowArrays(a), x = doubles(t)
            return 0.5 * quadraticForm(r, x) - dotProduct(doubles(b), x)
        }
        func gradient(_ t: [S]) -> [S] { (0..<3).map { i in (0..<3).reduce(S(0)) { $0 + a[i, $1] * t[$1] } - b[i] } }
        var opt = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1), refreshInterval: 100)
        try opt.setCurvature(.metric(a))
        var theta: [S] = [0, 0, 0]
        let g = gradient(theta)
        let before = loss(theta)
        try opt.step(&theta, gradient: g)
        // Predicted change q(δ) − q(0) = gᵀδ + ½δᵀFδ, by the formula.
        let delta = doubles(theta)
        let q = dotProduct(doubles(g), delta) + 0.5 * quadraticForm(rowArrays(a), delta)
        #expect(abs(Double(opt.lastPredictedChange!) - q) / abs(q) <= (S.self == Double.self ? 1e-12 : 1e-5))
        try opt.reportLoss(before: S(before), after: S(loss(theta)))
        #expect(abs(Double(opt.lastReductionRatio!) - 1) <= (S.self == Double.self ? 1e-12 : 1e-4))
        #expect(opt.currentDamping == S(1) / S(1.5))
        #expect(throws: NaturalGradientError.noStepToEvaluate) { try opt.reportLoss(before: 1, after: 0) }

        // The new λ refactors the kept curvature without a new setCurvature.
        #expect(!opt.needsCurvature)
        let g2 = gradient(theta)
        let start = theta
        try opt.step(&theta, gradient: g2)
        let step = zip(doubles(theta), doubles(start)).map { $0 - $1 }
        let reference = referenceSolve(damped(rowArrays(a), Double(S(1) / S(1.5))), doubles(g2)).map { -$0 }
        #expect(relativeError(step, reference) <= (S.self == Double.self ? 1e-12 : 1e-4))

        // A loss that went up (ρ < 0), or became NaN: λ·ω. A middling ρ: unchanged.
        try opt.reportLoss(before: 1, after: 2)
        #expect(opt.currentDamping == S(1) / S(1.5) * S(1.5))
        var t = theta
        try opt.step(&t, gradient: gradient(t))
        let predicted = opt.lastPredictedChange!
        let lambda = opt.currentDamping
        try opt.reportLoss(before: 1, after: 1 + predicted / 2)
        #expect(opt.currentDamping == lambda)
        try opt.step(&t, gradient: gradient(t))
        try opt.reportLoss(before: 1, after: .nan)
        #expect(opt.currentDamping == lambda * S(1.5))
        #expect(opt.lastReductionRatio == -.infinity)

        // Clamped to [λmin, λmax].
        var clamp = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1, factor: 4, minimum: 0.5, maximum: 2))
        for (after, expected) in [(S(-10), S(0.5)), (S(10), S(2)), (S(10), S(2))] {
            try clamp.setCurvature(.metric(a))
            var p: [S] = [0, 0, 0]
            try clamp.step(&p, gradient: b)
            try clamp.reportLoss(before: 0, after: after < 0 ? clamp.lastPredictedChange! : after)
            #expect(clamp.currentDamping == expected)
        }
    }

    @Test func levenbergMarquardtAdaptsFromTheReductionRatio() throws {
        try levenbergMarquardt(Double.self)
        try levenbergMarquardt(Float.self)
    }

    /// Runs `opt` and a copy restored from its checkpoint side by side.
    func roundTrip<S: BLASScalar>(_ make: () throws -> NaturalGradient<S>, curvatures: [Curvature<S>], n: Int) throws {
        var rng = SeededGenerator(seed: 77)
        var opt = try make()
        var theta: [S] = randomVector(n, &rng)
        func advance(_ o: inout NaturalGradient<S>, _ p: inout [S], _ k: Int) throws {
            if o.needsCurvature || o.curvatureDecay != nil { try o.setCurvature(curvatures[k % curvatures.count]) }
            let g = p.enumerated().map { S(0.1) * $0.element + S(Double($0.offset % 3) - 1) }
            try o.step(&p, gradient: g)
            if case .levenbergMarquardt = o.damping { try o.reportLoss(before: 1, after: S(k % 2 == 0 ? 0.5 : 1.5)) }
        }
        for k in 0..<3 { try advance(&opt, &theta, k) }
        let data = try opt.checkpoint()
        var restored = try NaturalGradient<S>(checkpoint: data, parameterCount: n)
        #expect(try restored.checkpoint() == data)
        var theta2 = theta
        for k in 3..<7 {
            try advance(&opt, &theta, k)
            try advance(&restored, &theta2, k)
        }
        #expect(theta == theta2, "continued bit-identically")
        #expect(try opt.checkpoint() == restored.checkpoint())
        #expect(throws: OptimizerError.stateCountMismatch(state: n, parameters: n + 1)) {
            _ = try NaturalGradient<S>(checkpoint: data, parameterCount: n + 1)
        }
        #expect(throws: OptimizerError.self) { _ = try Adam<S>(checkpoint: data) }
        // A truncated factor buffer is refused on decoding.
        var json = try #require(try JSONSerialization.jsonObject(with: NaturalGradient<S>(checkpoint: data).checkpoint(format: .json)) as? [String: Any])
        var state = try #require(json["optimizer"] as? [String: Any])
        for key in ["dense", "lowRank", "diagonal"] {
            guard var solver = state[key] as? [String: Any], let factor = solver["factor"] as? [Any], !factor.isEmpty else { continue }
            solver["factor"] = Array(factor.dropLast())
            state[key] = solver
        }
        json["optimizer"] = state
        let corrupt = try JSONSerialization.data(withJSONObject: json)
        #expect {
            _ = try NaturalGradient<S>(checkpoint: corrupt)
        } throws: { error in
            guard case OptimizerError.corruptCheckpoint = error else { return false }
            return true
        }
    }

    func checkpoints<S: BLASScalar>(_: S.Type) throws {
        let n = 7
        let sample: [Curvature<S>] = randomSampleCurvatures(parameters: n, samples: 4, seed: 5)
        // Dense path, LM damping, moving average, refresh every 2 steps.
        try roundTrip({ try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 0.1), refreshInterval: 2, curvatureDecay: 0.9) },
                      curvatures: sample, n: n)
        // Woodbury path (Bernoulli and categorical keep a weighted copy of the rows), fixed λ.
        try roundTrip({ try NaturalGradient<S>(damping: .fixed(0.05), refreshInterval: 2, solver: .woodbury) },
                      curvatures: sample, n: n)
        // Diagonal metric with a step length.
        try roundTrip({ try NaturalGradient<S>(damping: .fixed(0), stepLength: 0.02) },
                      curvatures: [.diagonalMetric((0..<n).map { S(1 + $0) })], n: n)
    }

    @Test func checkpointRoundTripIsBitIdentical() throws {
        try checkpoints(Double.self)
        try checkpoints(Float.self)
    }

    func badInput<S: BLASScalar>(_: S.Type) throws {
        #expect(throws: OptimizerError.invalidHyperparameter(name: "curvatureUpdateInterval", value: "0", requirement: "≥ 1")) {
            _ = try NaturalGradient<S>(refreshInterval: 0)
        }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(curvatureDecay: 1) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(stepLength: 0) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(damping: .fixed(-1)) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1, factor: 1)) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(damping: .levenbergMarquardt(initial: 1e9)) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(curvatureDecay: 0.9, solver: .woodbury) }
        #expect(throws: OptimizerError.self) { _ = try NaturalGradient<S>(maximumDampingRetries: -1) }

        var opt = try NaturalGradient<S>()
        var theta: [S] = [1, 2, 3]
        #expect(throws: NaturalGradientError.missingCurvature(step: 1)) { try opt.step(&theta, gradient: [1, 1, 1]) }
        try opt.setCurvature(.diagonalMetric([1, 1]))
        // A metric of the wrong size is named as the curvature it is, not as "optimizer state".
        let wrongMetric = NaturalGradientError.curvatureShapeMismatch(expected: "a curvature of order 3 (one row per parameter)",
                                                                      found: "a diagonal curvature of order 2")
        #expect(throws: wrongMetric) { try opt.step(&theta, gradient: [1, 1, 1]) }
        #expect(wrongMetric.description.contains("diagonal curvature of order 2"))
        #expect(throws: OptimizerError.gradientCountMismatch(parameters: 3, gradient: 2)) { try opt.step(&theta, gradient: [1, 1]) }
        #expect(throws: NaturalGradientError.self, "the held metric does not fit, whatever the gradient holds") { try opt.step(&theta, gradient: [1, .nan, 1]) }
        #expect(theta == [1, 2, 3] && opt.stepCount == 0)

        let j = try Matrix<S>([[1, 2, 3], [4, 5, 6]])
        #expect(throws: NaturalGradientError.invalidCurvature("probabilities[1] = 1.5 is not in [0, 1]")) {
            try opt.setCurvature(.bernoulli(logitJacobian: j, probabilities: [0.5, 1.5]))
        }
        #expect(throws: NaturalGradientError.self) {   // rows of p must sum to 1
            try opt.setCurvature(.categorical(logitJacobian: j, probabilities: try Matrix([[0.5, 0.4]])))
        }
        #expect(throws: NaturalGradientError.self) { try opt.setCurvature(.bernoulli(logitJacobian: j, probabilities: [0.5])) }
        #expect(throws: NaturalGradientError.self) { try opt.setCurvature(.gaussian(jacobian: j, samples: 3, beta: 1)) }
        #expect(throws: NaturalGradientError.self) { try opt.setCurvature(.metric(j)) }

        var wood = try NaturalGradient<S>(solver: .woodbury)
        #expect(throws: NaturalGradientError.self) { try wood.setCurvature(.fisher(.identity(3))) }
        var ema = try NaturalGradient<S>(curvatureDecay: 0.5)
        #expect(throws: NaturalGradientError.self) { try ema.setCurvature(.fisher(try Matrix([[S.nan]]))) }
        try ema.setCurvature(.diagonalMetric([1]))
        #expect(throws: NaturalGradientError.self) { try ema.setCurvature(.fisher(.identity(1))) }

        // Skip policy: a NaN gradient skips the step and keeps the pending curvature.
        var skip = try NaturalGradient<S>(nonFiniteGradientPolicy: .skipStep)
        try skip.setCurvature(.diagonalMetric([1, 1, 1]))
        try skip.step(&theta, gradient: [.nan, 1, 1])
        #expect(skip.skippedSteps == 1 && skip.stepCount == 0 && !skip.needsCurvature && theta == [1, 2, 3])
        #expect("\(NaturalGradientError.missingCurvature(step: 4))".contains("setCurvature"))
    }

    @Test func badInputThrowsNamedErrors() throws {
        try badInput(Double.self)
        try badInput(Float.self)
    }
}
