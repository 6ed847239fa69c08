import Foundation
import Testing
import DescentLinearAlgebra
import DescentTestSupport
@testable import Descent

/// Forged or extreme values given to the second-order optimizers and the gradient clip: each is
/// a thrown error naming the value, with parameters and state unchanged, never a trap or a hang.
@Suite struct ExtremeValueTests {
    /// `optimizer`'s JSON checkpoint with the counter `key` set to `value`, decoded again.
    static func forged(_ data: Data, _ key: String, _ value: Int) throws -> Data {
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var state = try #require(json["optimizer"] as? [String: Any])
        state[key] = value
        json["optimizer"] = state
        return try JSONSerialization.data(withJSONObject: json)
    }

    /// A natural gradient restored with `skipped` = Int.max − 1 counts one more skipped step,
    /// then refuses the next with ``OptimizerError/counterOverflow(name:)`` (it trapped).
    @Test(arguments: Precision.allCases) func naturalGradientSkippedCounterNearIntMax(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var opt = try NaturalGradient<S>(nonFiniteGradientPolicy: .skipStep)
            try opt.setCurvature(.diagonalMetric([1, 2]))
            var θ: [S] = [1, 1]
            try opt.step(&θ, gradient: [1, 1])
            let data = try Self.forged(opt.checkpoint(format: .json), "skipped", Int.max - 1)
            var restored = try NaturalGradient<S>(checkpoint: data)
            try restored.step(&θ, gradient: [.nan, 1])
            #expect(restored.skippedSteps == Int.max)
            let before = try restored.checkpoint(), θBefore = θ
            #expect(throws: OptimizerError.counterOverflow(name: "skipped")) { try restored.step(&θ, gradient: [.nan, 1]) }
            #expect(try restored.checkpoint() == before)
            #expect(θ == θBefore)
        }
        try run(p.scalarType)
    }

    /// A natural gradient at t = Int.max (set in memory; a checkpoint is refused) throws before
    /// it solves anything.
    @Test(arguments: Precision.allCases) func naturalGradientStepCounterAtIntMax(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var opt = try NaturalGradient<S>()
            try opt.setCurvature(.diagonalMetric([1, 2]))
            opt.t = Int.max
            var θ: [S] = [1, 1]
            #expect(throws: OptimizerError.counterOverflow(name: "t")) { try opt.step(&θ, gradient: [1, 1]) }
            #expect(θ == [1, 1])
        }
        try run(p.scalarType)
    }

    static func kfacBlock<S: BLASScalar>(_: S.Type, activation: S = 2) -> KroneckerBlock<S> {
        KroneckerBlock(parameterOffset: 0, outputs: 1, inputs: 2, activations: [activation, 0, 0, activation], preactivationGradients: [1])
    }

    /// K-FAC restored from a checkpoint whose `t` (or `skipped`) is Int.max refuses the next step
    /// with ``OptimizerError/counterOverflow(name:)`` and leaves θ and the state alone (it trapped).
    @Test(arguments: Precision.allCases) func kfacCountersAtIntMax(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var opt = try KFAC<S>(nonFiniteGradientPolicy: .skipStep)
            try opt.updateCurvature(.kronecker([Self.kfacBlock(S.self)]))
            var θ: [S] = [1, 1]
            try opt.step(&θ, gradient: [1, 1])
            let data = try opt.checkpoint(format: .json)
            for key in ["t", "skipped"] {
                var restored = try KFAC<S>(checkpoint: Self.forged(data, key, Int.max))
                let before = try restored.checkpoint(), θBefore = θ
                let gradient: [S] = key == "t" ? [1, 1] : [.nan, 1]
                #expect(throws: OptimizerError.counterOverflow(name: key), "\(key)") { try restored.step(&θ, gradient: gradient) }
                #expect(try restored.checkpoint() == before, "\(key)")
                #expect(θ == θBefore, "\(key)")
            }
            var updates = try KFAC<S>(checkpoint: Self.forged(data, "updates", Int.max))
            #expect(throws: OptimizerError.counterOverflow(name: "updates")) {
                try updates.updateCurvature(.kronecker([Self.kfacBlock(S.self)]))
            }
        }
        try run(p.scalarType)
    }

    /// An indefinite factor (diagonal −max/2: no finite λ makes A + √λ I positive definite)
    /// with an unbounded retry count: the retries stop once λ·10 overflows, after at most
    /// log₁₀(largest finite) − log₁₀(λ₀) + 2 attempts (313 Double, 43 Float); it looped forever.
    @Test(arguments: Precision.allCases) func kfacRetriesEndWhenDampingOverflows(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var opt = try KFAC<S>(damping: .fixed(1e-3), maximumDampingRetries: Int.max)
            try opt.updateCurvature(.kronecker([Self.kfacBlock(S.self, activation: -S.greatestFiniteMagnitude / 2)]))
            var θ: [S] = [1, 1]
            let bound = Int(Foundation.log10(Double(S.greatestFiniteMagnitude)).rounded(.up)) + 3 + 2
            do {
                try opt.step(&θ, gradient: [1, 1])
                Issue.record("an indefinite factor was accepted")
            } catch let KFACError.notPositiveDefinite(_, _, _, lastDamping, attempts) {
                #expect(attempts <= bound, "\(attempts) attempts, bound \(bound)")
                #expect(lastDamping.isFinite)
            }
            #expect(θ == [1, 1])
            #expect(opt.stepCount == 0)
        }
        try run(p.scalarType)
    }

    /// A negative or NaN clip norm would flip or poison the gradient: refused, gradient unchanged;
    /// +∞ never clips, 0 clips to zero.
    @Test(arguments: Precision.allCases) func clipNormMustBeNonNegative(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for bad in [S(-1), -.infinity, .nan] {
                var g: [S] = [3, -4]
                #expect(throws: OptimizerError.self, "\(bad)") { try clipGradientNorm(&g, maxNorm: bad) }
                #expect(g == [3, -4])
            }
            var g: [S] = [3, -4]
            #expect(try clipGradientNorm(&g, maxNorm: .infinity) == 5)
            #expect(g == [3, -4])
            #expect(try clipGradientNorm(&g, maxNorm: 0) == 5)
            #expect(g == [0, -0])
        }
        try run(p.scalarType)
    }
}
