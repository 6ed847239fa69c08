import Descent
import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// Every error path: a thrown error names the offending value, and a refused step leaves the
/// parameters and the optimizer's checkpoint bytes exactly as they were.
@Suite("Errors")
struct ErrorTests {
    typealias Support = OptimizerTestSupport

    static let n = 29

    static func stepped<O: Optimizer>(_ o: O, _ x: inout [O.Scalar], steps: Int = 2) throws -> O {
        var o = o
        var rng = SplitMix64(seed: 3)
        for _ in 0..<steps { try o.step(&x, gradient: rng.vector(x.count)) }
        return o
    }

    /// Expects `step` to throw `expected` and to leave parameters and checkpoint unchanged.
    static func expectRefused<O: Optimizer>(_ o: inout O, _ x: inout [O.Scalar], gradient g: [O.Scalar],
                                            _ expected: OptimizerError,
                                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = x, state = try o.checkpoint()
        #expect(throws: expected, sourceLocation: sourceLocation) { try o.step(&x, gradient: g) }
        #expect(Support.bitIdentical(x, before), "\(O.kind): parameters touched", sourceLocation: sourceLocation)
        #expect(try o.checkpoint() == state, "\(O.kind): state touched", sourceLocation: sourceLocation)
    }

    static func inputErrors<O: Optimizer>(_ fresh: O) throws {
        typealias S = O.Scalar
        var rng = SplitMix64(seed: 9)
        var x: [S] = rng.vector(n)
        var o = try stepped(fresh, &x)
        let ok: [S] = rng.vector(n)

        // Gradient of the wrong length, both ways; parameters of the wrong length for the state.
        try expectRefused(&o, &x, gradient: rng.vector(n + 1), .gradientCountMismatch(parameters: n, gradient: n + 1))
        try expectRefused(&o, &x, gradient: rng.vector(n - 1), .gradientCountMismatch(parameters: n, gradient: n - 1))
        if o.stateCount != nil {
            var y: [S] = rng.vector(n + 2)
            try expectRefused(&o, &y, gradient: rng.vector(n + 2), .stateCountMismatch(state: n, parameters: n + 2))
        }

        // Non-finite gradients, default policy: the first bad index is named.
        #expect(o.nonFiniteGradientPolicy == .throwError)
        var bad = ok
        bad[5] = .infinity
        bad[3] = .nan
        try expectRefused(&o, &x, gradient: bad, .nonFiniteGradient(index: 3, value: "\(S.nan)"))
        var negInf = ok
        negInf[n - 1] = -.infinity
        try expectRefused(&o, &x, gradient: negInf, .nonFiniteGradient(index: n - 1, value: "\(-S.infinity)"))
        #expect(OptimizerError.nonFiniteGradient(index: 3, value: "nan").description.contains("element 3 is nan"))

        // .skipStep: nothing changes but the skip counter.
        o.nonFiniteGradientPolicy = .skipStep
        let before = x, state = try Support.checkpointObject(o, dropping: ["skipped"])
        let (t0, s0) = (o.stepCount, o.skippedSteps)
        try o.step(&x, gradient: bad)
        #expect(Support.bitIdentical(x, before))
        #expect(try Support.checkpointObject(o, dropping: ["skipped"]) == state)
        #expect(o.stepCount == t0 && o.skippedSteps == s0 + 1)
        try o.step(&x, gradient: ok) // a finite gradient still steps
        #expect(o.stepCount == t0 + 1 && !Support.bitIdentical(x, before))

        // .unchecked: the NaN goes through, as in PyTorch.
        o.nonFiniteGradientPolicy = .unchecked
        let unchecked = x[3]
        try o.step(&x, gradient: bad)
        // Rprop moves by torch's sign, which is 0 for a NaN: θ stays, the NaN goes into g₋.
        #expect(O.kind == "rprop" ? x[3] == unchecked : x[3].isNaN)
        #expect(o.stepCount == t0 + 2)

        // An empty parameter vector is a valid (empty) step.
        var empty: [S] = []
        var e = fresh
        try e.step(&empty, gradient: [])
        #expect(e.stepCount == 1)
    }

    @Test(arguments: OptimizerTestSupport.precisions) func stepInputErrors(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Support.everyOptimizer(S.self) { try Self.inputErrors(o) }
        }
        try run(p)
    }

    /// Expects an `invalidHyperparameter` naming `name` and `value`.
    static func expectInvalid(_ name: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected invalid \(name) = \(value)", sourceLocation: sourceLocation)
        } catch let error as OptimizerError {
            guard case let .invalidHyperparameter(n, v, _) = error else {
                Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(n == name && v == value, "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(name) && error.description.contains(value), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: OptimizerTestSupport.precisions) func invalidHyperparametersAtConstruction(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            func s(_ v: S) -> String { "\(v)" }
            for lr in [S(-1), .nan, .infinity] {
                Self.expectInvalid("learningRate", s(lr)) { _ = try SGD<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try Momentum<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try Adagrad<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try RMSProp<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try Adadelta<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try Adam<S>(learningRate: lr) }
                Self.expectInvalid("learningRate", s(lr)) { _ = try AdamW<S>(learningRate: lr) }
            }
            for wd in [S(-0.1), .nan] {
                Self.expectInvalid("weightDecay", s(wd)) { _ = try SGD<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try Momentum<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try Adagrad<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try RMSProp<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try Adadelta<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try Adam<S>(weightDecay: wd) }
                Self.expectInvalid("weightDecay", s(wd)) { _ = try AdamW<S>(weightDecay: wd) }
            }
            for eps in [S(0), S(-1e-8), .nan] {
                Self.expectInvalid("epsilon", s(eps)) { _ = try Adagrad<S>(epsilon: eps) }
                Self.expectInvalid("epsilon", s(eps)) { _ = try RMSProp<S>(epsilon: eps) }
                Self.expectInvalid("epsilon", s(eps)) { _ = try Adadelta<S>(epsilon: eps) }
                Self.expectInvalid("epsilon", s(eps)) { _ = try Adam<S>(epsilon: eps) }
                Self.expectInvalid("epsilon", s(eps)) { _ = try AdamW<S>(epsilon: eps) }
            }
            for mu in [S(1), S(-0.1), S(1.5), .nan] {
                Self.expectInvalid("momentum", s(mu)) { _ = try Momentum<S>(momentum: mu) }
                Self.expectInvalid("momentum", s(mu)) { _ = try RMSProp<S>(momentum: mu) }
            }
            Self.expectInvalid("momentum", s(0)) { _ = try Momentum<S>(momentum: 0, nesterov: true) }
            for beta in [S(1), S(-0.1), .nan] {
                Self.expectInvalid("beta1", s(beta)) { _ = try Adam<S>(beta1: beta) }
                Self.expectInvalid("beta2", s(beta)) { _ = try Adam<S>(beta2: beta) }
                Self.expectInvalid("beta1", s(beta)) { _ = try AdamW<S>(beta1: beta) }
                Self.expectInvalid("beta2", s(beta)) { _ = try AdamW<S>(beta2: beta) }
            }
            for rho in [S(1.01), S(-0.1), .nan] {
                Self.expectInvalid("rho", s(rho)) { _ = try RMSProp<S>(rho: rho) }
                Self.expectInvalid("rho", s(rho)) { _ = try Adadelta<S>(rho: rho) }
            }
            Self.expectInvalid("learningRateDecay", s(-1)) { _ = try Adagrad<S>(learningRateDecay: -1) }
            Self.expectInvalid("initialAccumulatorValue", s(-1)) { _ = try Adagrad<S>(initialAccumulatorValue: -1) }

            // The boundaries that are allowed.
            _ = try SGD<S>(learningRate: 0)
            _ = try Momentum<S>(momentum: 0)
            _ = try RMSProp<S>(rho: 0)
            _ = try RMSProp<S>(rho: 1)
            _ = try Adadelta<S>(rho: 0)
            _ = try Adadelta<S>(rho: 1)
            _ = try Adam<S>(beta1: 0, beta2: 0)
            _ = try AdamW<S>(weightDecay: 0)
        }
        try run(p)
    }

    /// Hyperparameters are mutable (a schedule may set them), so each step validates them too;
    /// a refused step touches nothing.
    static func mutationRefused<O: Optimizer>(_ fresh: O, _ name: String, _ value: String,
                                              sourceLocation: SourceLocation = #_sourceLocation,
                                              _ mutate: (inout O) -> Void) throws {
        var rng = SplitMix64(seed: 4)
        var x: [O.Scalar] = rng.vector(n)
        var o = try stepped(fresh, &x)
        mutate(&o)
        let before = x, state = try o.checkpoint()
        expectInvalid(name, value, sourceLocation: sourceLocation) { try o.step(&x, gradient: rng.vector(n)) }
        #expect(Support.bitIdentical(x, before), sourceLocation: sourceLocation)
        #expect(try o.checkpoint() == state, sourceLocation: sourceLocation)
    }

    @Test(arguments: OptimizerTestSupport.precisions) func invalidHyperparametersAtStep(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let minus: S = -1
            let m = "\(minus)"
            try Self.mutationRefused(SGD<S>(), "learningRate", m) { $0.learningRate = minus }
            try Self.mutationRefused(SGD<S>(), "weightDecay", m) { $0.weightDecay = minus }
            try Self.mutationRefused(Momentum<S>(), "momentum", "\(S(1))") { $0.momentum = 1 }
            try Self.mutationRefused(Momentum<S>(momentum: 0), "momentum", "\(S(0))") { $0.nesterov = true }
            try Self.mutationRefused(Momentum<S>(), "weightDecay", m) { $0.weightDecay = minus }
            try Self.mutationRefused(Adagrad<S>(), "learningRateDecay", m) { $0.learningRateDecay = minus }
            try Self.mutationRefused(Adagrad<S>(), "epsilon", "\(S(0))") { $0.epsilon = 0 }
            try Self.mutationRefused(RMSProp<S>(), "rho", "\(S(2))") { $0.rho = 2 }
            try Self.mutationRefused(RMSProp<S>(), "momentum", m) { $0.momentum = minus }
            try Self.mutationRefused(Adadelta<S>(), "rho", m) { $0.rho = minus }
            try Self.mutationRefused(Adadelta<S>(), "learningRate", "\(S.infinity)") { $0.learningRate = .infinity }
            try Self.mutationRefused(Adam<S>(), "beta2", "\(S(1))") { $0.beta2 = 1 }
            try Self.mutationRefused(Adam<S>(), "epsilon", m) { $0.epsilon = minus }
            try Self.mutationRefused(AdamW<S>(), "beta1", m) { $0.beta1 = minus }
            try Self.mutationRefused(AdamW<S>(), "weightDecay", m) { $0.weightDecay = minus }
        }
        try run(p)
    }

    /// The non-finite scan on a vector large enough to be split across threads finds the first
    /// bad element in any chunk, and nothing in a finite vector (subnormals, ±0, huge values).
    @Test(arguments: OptimizerTestSupport.precisions) func nonFiniteScanOnLargeVectors(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let n = 300_000
            var x = [S](repeating: 1, count: n)
            x[7] = .greatestFiniteMagnitude; x[8] = -.leastNonzeroMagnitude; x[9] = -0.0
            #expect(x.withUnsafeBufferPointer { firstNonFinite($0) } == nil)
            for (index, value) in [(0, S.nan), (149_999, -S.infinity), (250_001, S.infinity), (n - 1, -S.nan)] {
                var y = x
                y[index] = value
                if index + 5 < n { y[index + 5] = .nan }
                #expect(y.withUnsafeBufferPointer { firstNonFinite($0) } == index)
            }
        }
        try run(p)
    }
}
