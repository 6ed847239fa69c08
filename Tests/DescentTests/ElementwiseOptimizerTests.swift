import Descent
import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// NAdam, RAdam, Adamax, Rprop and ASGD against ``ElementwiseScalarReference`` step by step, in
/// Float and Double, on small and multi-threaded sizes; their hyperparameter errors (named, state
/// untouched); their checkpoints (bit-identical resume).
@Suite("NAdam, RAdam, Adamax, Rprop and ASGD")
struct ElementwiseOptimizerTests {
    typealias Support = OptimizerTestSupport
    typealias Reference = ElementwiseScalarReference

    /// Runs `steps` steps on random θ and g; before each, the reference evaluates the formula from
    /// the optimizer's state, and after it every element must be within `ulps` ε of the reference,
    /// relative to the element's scale (a per-step bound: the state carries no reference drift).
    static func check<O: Optimizer>(_ label: String, _ optimizer: O, n: Int = 37, steps: Int = 8, ulps: Double = 16,
                                    learningRates: [Double]? = nil,
                                    _ reference: (O, [O.Scalar], [O.Scalar]) -> Reference.Step,
                                    average: ((O) -> [O.Scalar])? = nil) throws {
        var optimizer = optimizer
        var rng = SplitMix64(seed: 11 &+ UInt64(n))
        var p: [O.Scalar] = rng.vector(n, scale: 2)
        let epsilon = Double(O.Scalar.ulpOfOne)
        for s in 0..<steps {
            if let learningRates { optimizer.learningRate = O.Scalar(learningRates[s]) }
            let g: [O.Scalar] = rng.vector(n, scale: 1.5)
            let expected = reference(optimizer, p, g)
            try optimizer.step(&p, gradient: g)
            var worst = 0.0
            for i in p.indices {
                let error = Swift.abs(Double(p[i]) - expected.theta[i]) / (epsilon * Swift.max(expected.scale[i], .leastNormalMagnitude))
                worst = Swift.max(worst, error)
            }
            #expect(worst <= ulps, "\(label) <\(O.Scalar.self)> n=\(n) step \(s + 1): \(worst) ε of the scale")
            if let average {
                let a = average(optimizer)
                let err = a.indices.map {
                    Swift.abs(Double(a[$0]) - expected.average[$0]) / (epsilon * Swift.max(expected.averageScale[$0], .leastNormalMagnitude))
                }.max() ?? 0
                #expect(err <= ulps, "\(label) <\(O.Scalar.self)> step \(s + 1): average \(err) ε")
            }
            if worst > ulps { return }
        }
        #expect(optimizer.stepCount == steps && optimizer.stateCount == n)
    }

    static let largeCount = FormulaTests.largeCount

    static func formulas<S: BLASScalar>(_: S.Type) throws {
        // NAdam: every option; beta1 = 0 (μ = 0, Π = 0).
        for (wd, decoupled, maximize, psi, b1) in [(0.0, false, false, 4e-3, 0.9), (0.1, false, true, 4e-3, 0.9),
                                                  (0.1, true, false, 1e-2, 0.8), (0.0, false, false, 0, 0)] {
            let o = try NAdam<S>(learningRate: 0.01, beta1: S(b1), beta2: 0.99, weightDecay: S(wd), momentumDecay: S(psi),
                                 decoupledWeightDecay: decoupled, maximize: maximize)
            try check("nadam wd=\(wd) decoupled=\(decoupled) max=\(maximize) ψ=\(psi) β₁=\(b1)", o, Reference.nadam)
        }
        try check("nadam large", NAdam<S>(weightDecay: 0.1, decoupledWeightDecay: true), n: largeCount, steps: 2, Reference.nadam)
        try check("nadam schedule", NAdam<S>(), learningRates: [0.1, 0.05, 0.2, 0.01, 0.3, 0.02, 0.1, 0.1], Reference.nadam)
        // RAdam: β₂ = 0.9 rectifies from step 3, the default from step 6; 8 steps see both.
        for (wd, decoupled, maximize, b2) in [(0.0, false, false, 0.999), (0.1, false, true, 0.9), (0.1, true, false, 0.9),
                                             (0.0, false, false, 0.0)] {
            let o = try RAdam<S>(learningRate: 0.01, beta2: S(b2), weightDecay: S(wd), decoupledWeightDecay: decoupled,
                                 maximize: maximize)
            try check("radam wd=\(wd) decoupled=\(decoupled) max=\(maximize) β₂=\(b2)", o, Reference.radam)
        }
        try check("radam large", RAdam<S>(beta2: 0.9), n: largeCount, steps: 4, Reference.radam)
        // Adamax: ε large enough to win the maximum.
        for (wd, maximize, eps) in [(0.0, false, 1e-8), (0.1, true, 1e-8), (0.0, false, 0.5)] {
            let o = try Adamax<S>(learningRate: 0.01, epsilon: S(eps), weightDecay: S(wd), maximize: maximize)
            try check("adamax wd=\(wd) max=\(maximize) ε=\(eps)", o, Reference.adamax)
        }
        try check("adamax large", Adamax<S>(), n: largeCount, steps: 2, Reference.adamax)
        // Rprop: both clamps bite with (0.01, 0.02).
        for (etas, sizes, maximize) in [((0.5, 1.2), (1e-6, 50.0), false), ((0.3, 1.5), (0.01, 0.02), true)] {
            let o = try Rprop<S>(learningRate: 0.015, etaMinus: S(etas.0), etaPlus: S(etas.1),
                                 minimumStepSize: S(sizes.0), maximumStepSize: S(sizes.1), maximize: maximize)
            try check("rprop η=\(etas) δ=\(sizes) max=\(maximize)", o, Reference.rprop)
        }
        try check("rprop large", Rprop<S>(), n: largeCount, steps: 3, Reference.rprop)
        // ASGD: averaging from step 3 (t₀ = 2), before it ā = θ.
        for (lambda, alpha, t0, wd, maximize) in [(1e-4, 0.75, 1e6, 0.0, false), (0.1, 0.5, 2.0, 0.1, true),
                                                  (0.0, 0.0, 0.0, 0.0, false)] {
            let o = try ASGD<S>(learningRate: 0.05, lambda: S(lambda), alpha: S(alpha), averagingStart: S(t0),
                                weightDecay: S(wd), maximize: maximize)
            try check("asgd λ=\(lambda) α=\(alpha) t₀=\(t0) wd=\(wd) max=\(maximize)", o, Reference.asgd, average: { $0.average })
        }
        try check("asgd large", ASGD<S>(averagingStart: 1), n: largeCount, steps: 3, Reference.asgd, average: { $0.average })
    }

    @Test(arguments: Support.precisions) func matchTheirFormulas(_ p: any BLASScalar.Type) throws {
        try Self.formulas(p)
    }

    /// NAdam's μ-product is torch's: Πₜ = Πₜ₋₁ · μₜ with μₜ rounded to `Scalar`, one rounding per step.
    @Test(arguments: Support.precisions) func nadamKeepsTheMuProductAsTorch(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var o = try NAdam<S>(momentumDecay: 0.01)
            #expect(o.muProduct == 1)
            var x: [S] = [1, -2, 3], product: S = 1
            for t in 1...20 {
                try o.step(&x, gradient: [0.5, 0.25, -1])
                let mu = 0.9 * (1 - 0.5 * pow(0.96, Double(t) * 0.01))
                product = product * S(mu)
                #expect(o.muProduct == product, "step \(t)")
            }
            o.reset()
            #expect(o.muProduct == 1 && o.stepCount == 0)
        }
        try run(p)
    }

    /// ASGD: ηₜ₊₁ = η / (1 + λ η t)^α and μₜ₊₁ = 1 / max(1, t − t₀), rounded once to `Scalar`; a
    /// learning-rate change acts from the following step (ηₜ is state); ā = θ until t₀ is passed.
    @Test(arguments: Support.precisions) func asgdScheduleAndAverage(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var o = try ASGD<S>(learningRate: 0.1, lambda: 0.5, alpha: 0.75, averagingStart: 3)
            #expect(o.currentStepSize == 0.1 && o.averagingWeight == 1 && o.average.isEmpty)
            var x: [S] = [1, 2]
            for t in 1...8 {
                try o.step(&x, gradient: [0.5, -0.5])
                #expect(o.currentStepSize == S(0.1 / pow(1 + 0.5 * 0.1 * Double(t), 0.75)), "η after step \(t)")
                #expect(o.averagingWeight == S(1 / Swift.max(1, Double(t) - 3)), "μ after step \(t)")
                if t <= 5 { #expect(o.average == x, "ā = θ at step \(t)") } else { #expect(o.average != x) }
            }
            let eta = o.currentStepSize
            o.learningRate = 1
            #expect(o.currentStepSize == eta)
            try o.step(&x, gradient: [0.5, -0.5])
            #expect(o.currentStepSize == S(1 / pow(1 + 0.5 * 1 * 9, 0.75)))
        }
        try run(p)
    }

    /// Rprop: the learning rate only seeds δ; δ stays within its bounds; a sign flip leaves θ
    /// where it is for that step and zeroes g₋.
    @Test(arguments: Support.precisions) func rpropStepSizes(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var o = try Rprop<S>(learningRate: 0.1, minimumStepSize: 0.02, maximumStepSize: 0.15)
            var x: [S] = [0, 0]
            try o.step(&x, gradient: [1, -1])
            #expect(x == [-0.1, 0.1] && o.stepSizes == [0.1, 0.1])
            try o.step(&x, gradient: [1, 1])
            #expect(o.stepSizes == [S(0.1) * S(1.2), S(0.1) * S(0.5)])
            #expect(x[0] == -0.1 - S(0.1) * S(1.2) && x[1] == 0.1 && o.previousGradient == [1, 0])
            o.learningRate = 5
            for _ in 0..<10 { try o.step(&x, gradient: [1, 1]) }
            #expect(o.stepSizes == [0.15, 0.15])
            for k in 0..<10 { try o.step(&x, gradient: k.isMultiple(of: 2) ? [-1, -1] : [1, 1]) }
            #expect(o.stepSizes.allSatisfy { $0 == 0.02 })
        }
        try run(p)
    }

    // MARK: Errors

    @Test(arguments: Support.precisions) func invalidHyperparametersAreNamed(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            func s(_ v: S) -> String { "\(v)" }
            for lr in [S(-1), .nan, .infinity] {
                ErrorTests.expectInvalid("learningRate", s(lr)) { _ = try NAdam<S>(learningRate: lr) }
                ErrorTests.expectInvalid("learningRate", s(lr)) { _ = try RAdam<S>(learningRate: lr) }
                ErrorTests.expectInvalid("learningRate", s(lr)) { _ = try Adamax<S>(learningRate: lr) }
                ErrorTests.expectInvalid("learningRate", s(lr)) { _ = try Rprop<S>(learningRate: lr) }
                ErrorTests.expectInvalid("learningRate", s(lr)) { _ = try ASGD<S>(learningRate: lr) }
            }
            for beta in [S(1), S(-0.1), .nan] {
                ErrorTests.expectInvalid("beta1", s(beta)) { _ = try NAdam<S>(beta1: beta) }
                ErrorTests.expectInvalid("beta2", s(beta)) { _ = try NAdam<S>(beta2: beta) }
                ErrorTests.expectInvalid("beta1", s(beta)) { _ = try RAdam<S>(beta1: beta) }
                ErrorTests.expectInvalid("beta2", s(beta)) { _ = try RAdam<S>(beta2: beta) }
                ErrorTests.expectInvalid("beta1", s(beta)) { _ = try Adamax<S>(beta1: beta) }
                ErrorTests.expectInvalid("beta2", s(beta)) { _ = try Adamax<S>(beta2: beta) }
            }
            for eps in [S(0), S(-1e-8), .nan] {
                ErrorTests.expectInvalid("epsilon", s(eps)) { _ = try NAdam<S>(epsilon: eps) }
                ErrorTests.expectInvalid("epsilon", s(eps)) { _ = try RAdam<S>(epsilon: eps) }
                ErrorTests.expectInvalid("epsilon", s(eps)) { _ = try Adamax<S>(epsilon: eps) }
            }
            for wd in [S(-0.1), .nan, .infinity] {
                ErrorTests.expectInvalid("weightDecay", s(wd)) { _ = try NAdam<S>(weightDecay: wd) }
                ErrorTests.expectInvalid("weightDecay", s(wd)) { _ = try RAdam<S>(weightDecay: wd, decoupledWeightDecay: true) }
                ErrorTests.expectInvalid("weightDecay", s(wd)) { _ = try Adamax<S>(weightDecay: wd) }
                ErrorTests.expectInvalid("weightDecay", s(wd)) { _ = try ASGD<S>(weightDecay: wd) }
            }
            for v in [S(-1), .nan, .infinity] {
                ErrorTests.expectInvalid("momentumDecay", s(v)) { _ = try NAdam<S>(momentumDecay: v) }
                ErrorTests.expectInvalid("lambda", s(v)) { _ = try ASGD<S>(lambda: v) }
                ErrorTests.expectInvalid("alpha", s(v)) { _ = try ASGD<S>(alpha: v) }
                ErrorTests.expectInvalid("averagingStart", s(v)) { _ = try ASGD<S>(averagingStart: v) }
                ErrorTests.expectInvalid("minimumStepSize", s(v)) { _ = try Rprop<S>(minimumStepSize: v) }
            }
            for eta in [S(0), S(1), S(-0.5), .nan] {
                ErrorTests.expectInvalid("etaMinus", s(eta)) { _ = try Rprop<S>(etaMinus: eta) }
            }
            for eta in [S(1), S(0.5), .infinity, .nan] {
                ErrorTests.expectInvalid("etaPlus", s(eta)) { _ = try Rprop<S>(etaPlus: eta) }
            }
            for maximum in [S(1e-7), .infinity, .nan] {
                ErrorTests.expectInvalid("maximumStepSize", s(maximum)) { _ = try Rprop<S>(maximumStepSize: maximum) }
            }
            // The boundaries that are allowed.
            _ = try NAdam<S>(beta1: 0, beta2: 0, momentumDecay: 0)
            _ = try RAdam<S>(learningRate: 0, beta1: 0, beta2: 0)
            _ = try Adamax<S>(beta1: 0, beta2: 0)
            _ = try Rprop<S>(learningRate: 0, minimumStepSize: 0, maximumStepSize: 0)
            _ = try ASGD<S>(lambda: 0, alpha: 0, averagingStart: 0)
        }
        try run(p)
    }

    /// A hyperparameter set out of range between steps (as a schedule may) is refused at the step,
    /// which touches neither θ nor the state (checkpoint bytes compared).
    @Test(arguments: Support.precisions) func invalidHyperparametersAtStepTouchNothing(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let minus: S = -1, m = "\(minus)"
            try ErrorTests.mutationRefused(NAdam<S>(), "momentumDecay", m) { $0.momentumDecay = minus }
            try ErrorTests.mutationRefused(NAdam<S>(weightDecay: 0.1, decoupledWeightDecay: true), "beta1", "\(S(1))") { $0.beta1 = 1 }
            try ErrorTests.mutationRefused(NAdam<S>(decoupledWeightDecay: true), "weightDecay", m) { $0.weightDecay = minus }
            try ErrorTests.mutationRefused(RAdam<S>(), "beta2", "\(S(1))") { $0.beta2 = 1 }
            try ErrorTests.mutationRefused(RAdam<S>(decoupledWeightDecay: true), "epsilon", "\(S(0))") { $0.epsilon = 0 }
            try ErrorTests.mutationRefused(Adamax<S>(), "epsilon", m) { $0.epsilon = minus }
            try ErrorTests.mutationRefused(Rprop<S>(), "etaPlus", "\(S(0.9))") { $0.etaPlus = 0.9 }
            try ErrorTests.mutationRefused(Rprop<S>(), "maximumStepSize", "\(S(1e-7))") { $0.maximumStepSize = 1e-7 }
            try ErrorTests.mutationRefused(ASGD<S>(), "alpha", "\(S.nan)") { $0.alpha = .nan }
            try ErrorTests.mutationRefused(ASGD<S>(), "lambda", m) { $0.lambda = minus }
            // 1 − ηλ overflowing is refused before anything moves.
            try ErrorTests.mutationRefused(NAdam<S>(weightDecay: S.greatestFiniteMagnitude, decoupledWeightDecay: true),
                                           "parameterScale", "\(-S.infinity)") { $0.learningRate = S.greatestFiniteMagnitude }
        }
        try run(p)
    }

    /// Scalar state out of range in a checkpoint is refused by name.
    @Test(arguments: Support.precisions) func corruptScalarStateIsRefused(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            func edited<O: Optimizer>(_ o: O, _ key: String, _ value: Any) throws -> Data {
                var object = try JSONSerialization.jsonObject(with: o.checkpoint(format: .json)) as! [String: Any]
                var inner = object["optimizer"] as! [String: Any]
                inner[key] = value
                object["optimizer"] = inner
                return try JSONSerialization.data(withJSONObject: object)
            }
            func expectCorrupt(_ body: () throws -> Void, _ text: String) {
                do {
                    try body()
                    Issue.record("expected a corrupt checkpoint mentioning \(text)")
                } catch let OptimizerError.corruptCheckpoint(reason) {
                    #expect(reason.contains(text), "\(reason)")
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            var x: [S] = [1, 2, 3]
            var nadam = try NAdam<S>()
            try nadam.step(&x, gradient: [1, 1, 1])
            expectCorrupt({ _ = try NAdam<S>(checkpoint: edited(nadam, "Pi", 1.5)) }, "muProduct")
            expectCorrupt({ _ = try NAdam<S>(checkpoint: edited(try NAdam<S>(), "Pi", 0.5)) }, "muProduct")
            var asgd = try ASGD<S>()
            try asgd.step(&x, gradient: [1, 1, 1])
            expectCorrupt({ _ = try ASGD<S>(checkpoint: edited(asgd, "mu", 0.0)) }, "mu = ")
            expectCorrupt({ _ = try ASGD<S>(checkpoint: edited(asgd, "eta", -1.0)) }, "eta = ")
            expectCorrupt({ _ = try ASGD<S>(checkpoint: edited(asgd, "ax", [1.0, "nan", 2.0])) }, "buffer ax element 1 is nan")
            var rprop = try Rprop<S>()
            try rprop.step(&x, gradient: [1, 1, 1])
            expectCorrupt({ _ = try Rprop<S>(checkpoint: edited(rprop, "delta", [0.1, -0.1, 0.1])) }, "delta element 1")
        }
        try run(p)
    }

    // MARK: Checkpoints

    /// Each optimizer with every option on: stopped after 7 steps, written (binary and JSON),
    /// read back and continued, it retraces the uninterrupted run bit for bit (θ, and ASGD's ā).
    @Test(arguments: Support.precisions) func checkpointsResumeBitIdentically(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            func roundTrip<O: Optimizer>(_ o: O) throws where O.Scalar == S {
                for format in [CheckpointFormat.binary, .json] {
                    var rng = SplitMix64(seed: 5)
                    var a = o, x: [S] = rng.vector(23)
                    let gradients: [[S]] = (0..<14).map { _ in rng.vector(23) }
                    for g in gradients[..<7] { try a.step(&x, gradient: g) }
                    var b = try O(checkpoint: a.checkpoint(format: format), parameterCount: 23)
                    var y = x
                    #expect(try b.checkpoint(format: .json) == a.checkpoint(format: .json), "\(O.kind) \(format)")
                    for g in gradients[7...] {
                        try a.step(&x, gradient: g)
                        try b.step(&y, gradient: g)
                    }
                    #expect(Support.bitIdentical(x, y), "\(O.kind) \(format): resumed run differs")
                    #expect(try b.checkpoint(format: .json) == a.checkpoint(format: .json), "\(O.kind) \(format): state differs")
                    #expect(throws: OptimizerError.self) { _ = try O(checkpoint: a.checkpoint(format: format), parameterCount: 24) }
                }
            }
            try roundTrip(NAdam<S>(learningRate: 0.01, weightDecay: 0.1, momentumDecay: 0.01, decoupledWeightDecay: true, maximize: true))
            try roundTrip(RAdam<S>(learningRate: 0.01, beta2: 0.9, weightDecay: 0.1, maximize: true))
            try roundTrip(Adamax<S>(learningRate: 0.01, weightDecay: 0.1, maximize: true))
            try roundTrip(Rprop<S>(learningRate: 0.05, etaMinus: 0.3, etaPlus: 1.5, minimumStepSize: 0.01, maximumStepSize: 0.1, maximize: true))
            try roundTrip(ASGD<S>(learningRate: 0.05, lambda: 0.01, alpha: 0.5, averagingStart: 3, weightDecay: 0.1, maximize: true))
            // The kinds, and another kind refused.
            #expect([NAdam<S>.kind, RAdam<S>.kind, Adamax<S>.kind, Rprop<S>.kind, ASGD<S>.kind] == ["nadam", "radam", "adamax", "rprop", "asgd"])
            #expect(throws: OptimizerError.self) { _ = try RAdam<S>(checkpoint: NAdam<S>().checkpoint()) }
        }
        try run(p)
    }

    /// The per-group keys (Swift names, as every registered optimizer's) set what they name, and a
    /// wrong type is refused.
    @Test func groupKeysSetTheirHyperparameters() throws {
        func set<O: GroupConfigurable>(_ o: inout O, _ pairs: [(String, GroupValue)]) {
            for (key, value) in pairs {
                let accepted = o.setGroupHyperparameter(key, to: value)
                #expect(accepted, "\(O.kind) \(key)")
            }
            #expect(Set(pairs.map(\.0)) == Set(O.groupKeys), "\(O.kind)")
        }
        var nadam = try NAdam<Double>()
        set(&nadam, [("beta1", 0.5), ("beta2", 0.6), ("epsilon", 1e-3), ("weightDecay", 0.2), ("momentumDecay", 0.01),
                     ("decoupledWeightDecay", true)])
        #expect([nadam.beta1, nadam.beta2, nadam.epsilon, nadam.weightDecay, nadam.momentumDecay] == [0.5, 0.6, 1e-3, 0.2, 0.01])
        let refused = nadam.setGroupHyperparameter("epsilon", to: true)
        #expect(nadam.decoupledWeightDecay && !refused)
        var radam = try RAdam<Double>()
        set(&radam, [("beta1", 0.5), ("beta2", 0.6), ("epsilon", 1e-3), ("weightDecay", 0.2), ("decoupledWeightDecay", true)])
        #expect([radam.beta1, radam.beta2, radam.epsilon, radam.weightDecay] == [0.5, 0.6, 1e-3, 0.2] && radam.decoupledWeightDecay)
        var adamax = try Adamax<Double>()
        set(&adamax, [("beta1", 0.5), ("beta2", 0.6), ("epsilon", 1e-3), ("weightDecay", 0.2)])
        #expect([adamax.beta1, adamax.beta2, adamax.epsilon, adamax.weightDecay] == [0.5, 0.6, 1e-3, 0.2])
        let unknown = adamax.setGroupHyperparameter("momentum", to: 0.5)
        #expect(!unknown)
        var rprop = try Rprop<Double>()
        set(&rprop, [("etaMinus", 0.4), ("etaPlus", 1.4), ("minimumStepSize", 0.001), ("maximumStepSize", 2.0)])
        #expect([rprop.etaMinus, rprop.etaPlus, rprop.minimumStepSize, rprop.maximumStepSize] == [0.4, 1.4, 0.001, 2])
        var asgd = try ASGD<Double>()
        set(&asgd, [("lambda", 0.1), ("alpha", 0.5), ("averagingStart", 10.0), ("weightDecay", 0.3)])
        #expect([asgd.lambda, asgd.alpha, asgd.averagingStart, asgd.weightDecay] == [0.1, 0.5, 10, 0.3])
    }
}
