import Descent
import Testing
import DescentProblems
import DescentTestSupport

/// Every optimizer and every option against ``ScalarReference``: several steps on random data,
/// compared after each step, in Float (≤ 1e-5) and Double (≤ 1e-12). A large n runs every kernel
/// branch through the multi-threaded path of `parallelChunks`.
@Suite("Optimizers match their formulas")
struct FormulaTests {
    typealias Support = OptimizerTestSupport

    /// Large enough for `parallelChunks` to split the work across two threads (it needs
    /// `minimumPerThread` = 2¹⁶ elements per thread), with a ragged last chunk.
    static let largeCount = 2 * ParallelConfiguration.minimumPerThread + 4_321

    /// Runs `optimizer` and `reference` side by side on the same random parameters and
    /// gradients and expects the parameters to agree after every step.
    static func check<O: Optimizer, R: ScalarReference>(
        _ label: String, _ optimizer: O, _ reference: R, n: Int = 37, steps: Int = 6, seed: UInt64 = 1,
        learningRates: [Double]? = nil
    ) throws {
        var optimizer = optimizer, reference = reference
        var rng = SplitMix64(seed: seed &+ UInt64(n))
        var p: [O.Scalar] = rng.vector(n, scale: 2)
        var q = p.map { Double($0) }
        let tol = Support.tolerance(O.Scalar.self)
        for s in 0..<steps {
            if let learningRates {
                optimizer.learningRate = O.Scalar(learningRates[s])
                reference.lr = Double(optimizer.learningRate)
            }
            let g: [O.Scalar] = rng.vector(n, scale: 1.5)
            try optimizer.step(&p, gradient: g)
            reference.step(&q, g.map { Double($0) })
            let err = Support.relativeError(p, q)
            #expect(err <= tol, "\(label) <\(O.Scalar.self)> n=\(n) step \(s + 1): relative error \(err)")
            if err > tol { return }
        }
        #expect(optimizer.stepCount == steps)
        #expect(optimizer.stateCount == nil || optimizer.stateCount == n)
    }

    static func sgd<S: BLASScalar>(_: S.Type) throws {
        for wd in [0.0, 0.1] {
            for maximize in [false, true] {
                let o = try SGD<S>(learningRate: 0.05, weightDecay: S(wd), maximize: maximize)
                try check("sgd wd=\(wd) max=\(maximize)", o, SGDReference(o))
            }
        }
        let blas = try SGD<S>(learningRate: 0.05)
        try check("sgd axpy", blas, SGDReference(blas), n: largeCount, steps: 2)
        let fused = try SGD<S>(learningRate: 0.05, weightDecay: 0.1)
        try check("sgd fused", fused, SGDReference(fused), n: largeCount, steps: 2)
    }

    static func momentum<S: BLASScalar>(_: S.Type) throws {
        for nesterov in [false, true] {
            for (mu, wd, maximize) in [(0.9, 0.0, false), (0.5, 0.1, false), (0.9, 0.0, true), (0.0, 0.0, false)]
            where !(nesterov && mu == 0) {
                let o = try Momentum<S>(learningRate: 0.05, momentum: S(mu), nesterov: nesterov,
                                        weightDecay: S(wd), maximize: maximize)
                try check("momentum μ=\(mu) nesterov=\(nesterov) wd=\(wd) max=\(maximize)", o, MomentumReference(o))
            }
            let o = try Momentum<S>(learningRate: 0.05, nesterov: nesterov)
            try check("momentum nesterov=\(nesterov) large", o, MomentumReference(o), n: largeCount, steps: 2)
            // A schedule: v ← μ v − η_t g keeps docs/lecture.md's form when η changes.
            try check("momentum nesterov=\(nesterov) schedule", o, MomentumReference(o),
                      learningRates: [0.1, 0.05, 0.2, 0.01, 0.3, 0.02])
        }
    }

    static func adagrad<S: BLASScalar>(_: S.Type) throws {
        for (decay, initial, wd, maximize) in [(0.0, 0.0, 0.0, false), (0.01, 0.0, 0.0, false),
                                               (0.0, 0.1, 0.0, false), (0.0, 0.0, 0.1, false),
                                               (0.1, 0.5, 0.1, true)] {
            let o = try Adagrad<S>(learningRate: 0.1, learningRateDecay: S(decay), initialAccumulatorValue: S(initial),
                                   weightDecay: S(wd), maximize: maximize)
            try check("adagrad decay=\(decay) init=\(initial) wd=\(wd) max=\(maximize)", o, AdagradReference(o))
        }
        let o = try Adagrad<S>(learningRate: 0.1, learningRateDecay: 0.01)
        try check("adagrad large", o, AdagradReference(o), n: largeCount, steps: 2)
    }

    static func rmsprop<S: BLASScalar>(_: S.Type) throws {
        for centered in [false, true] {
            for mu in [0.0, 0.9] {
                for (wd, maximize) in [(0.0, false), (0.1, true)] {
                    let o = try RMSProp<S>(learningRate: 0.01, rho: 0.9, momentum: S(mu), centered: centered,
                                           weightDecay: S(wd), maximize: maximize)
                    try check("rmsprop centered=\(centered) μ=\(mu) wd=\(wd) max=\(maximize)", o, RMSPropReference(o))
                }
                let o = try RMSProp<S>(momentum: S(mu), centered: centered)
                try check("rmsprop centered=\(centered) μ=\(mu) large", o, RMSPropReference(o), n: largeCount, steps: 2)
            }
        }
    }

    static func adadelta<S: BLASScalar>(_: S.Type) throws {
        for placement in Adadelta<S>.EpsilonPlacement.allCases {
            for (lr, rho, wd, maximize) in [(1.0, 0.9, 0.0, false), (0.5, 0.95, 0.1, false), (1.0, 0.9, 0.0, true)] {
                let o = try Adadelta<S>(learningRate: S(lr), rho: S(rho), epsilonPlacement: placement,
                                        weightDecay: S(wd), maximize: maximize)
                try check("adadelta \(placement) lr=\(lr) ρ=\(rho) wd=\(wd) max=\(maximize)", o, AdadeltaReference(o))
            }
            let o = try Adadelta<S>(epsilonPlacement: placement)
            try check("adadelta \(placement) large", o, AdadeltaReference(o), n: largeCount, steps: 2)
        }
    }

    static func adam<S: BLASScalar>(_: S.Type) throws {
        for amsgrad in [false, true] {
            for (beta2, wd, maximize) in [(0.999, 0.0, false), (0.9, 0.1, false), (0.99, 0.0, true)] {
                let o = try Adam<S>(learningRate: 0.01, beta2: S(beta2), weightDecay: S(wd), amsgrad: amsgrad, maximize: maximize)
                try check("adam β₂=\(beta2) wd=\(wd) ams=\(amsgrad) max=\(maximize)", o, AdamReference(o), steps: 8)
                let w = try AdamW<S>(learningRate: 0.01, beta2: S(beta2), weightDecay: S(wd == 0 ? 0.01 : wd),
                                     amsgrad: amsgrad, maximize: maximize)
                try check("adamw β₂=\(beta2) wd=\(w.weightDecay) ams=\(amsgrad) max=\(maximize)", w, AdamReference(w), steps: 8)
            }
            let o = try Adam<S>(amsgrad: amsgrad)
            try check("adam ams=\(amsgrad) large", o, AdamReference(o), n: largeCount, steps: 2)
            let w = try AdamW<S>(amsgrad: amsgrad)
            try check("adamw ams=\(amsgrad) large", w, AdamReference(w), n: largeCount, steps: 2)
        }
    }

    @Test(arguments: OptimizerTestSupport.precisions) func sgd(_ p: any BLASScalar.Type) throws {
        try Self.sgd(p)
    }
    @Test(arguments: OptimizerTestSupport.precisions) func momentum(_ p: any BLASScalar.Type) throws {
        try Self.momentum(p)
    }
    @Test(arguments: OptimizerTestSupport.precisions) func adagrad(_ p: any BLASScalar.Type) throws {
        try Self.adagrad(p)
    }
    @Test(arguments: OptimizerTestSupport.precisions) func rmsprop(_ p: any BLASScalar.Type) throws {
        try Self.rmsprop(p)
    }
    @Test(arguments: OptimizerTestSupport.precisions) func adadelta(_ p: any BLASScalar.Type) throws {
        try Self.adadelta(p)
    }
    @Test(arguments: OptimizerTestSupport.precisions) func adamAndAdamW(_ p: any BLASScalar.Type) throws {
        try Self.adam(p)
    }

    /// Momentum's documented equivalence: at a constant η its velocity is −η times PyTorch's
    /// buffer b ← μ b + g (b₁ = g), and the parameters follow θ ← θ − η b.
    @Test(arguments: OptimizerTestSupport.precisions) func momentumEqualsPyTorchBufferAtConstantRate(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let lr = 0.05, mu = 0.9
            var o = try Momentum<S>(learningRate: S(lr), momentum: S(mu))
            var rng = SplitMix64(seed: 7)
            var x: [S] = rng.vector(16)
            var y = x.map { Double($0) }
            var b = [Double](repeating: 0, count: 16)
            for _ in 0..<10 {
                let g: [S] = rng.vector(16)
                try o.step(&x, gradient: g)
                for i in y.indices {
                    b[i] = Double(S(mu)) * b[i] + Double(g[i])
                    y[i] -= Double(S(lr)) * b[i]
                }
            }
            let tol = Support.tolerance(S.self) * 10
            #expect(Support.relativeError(x, y) <= tol)
            #expect(Support.relativeError(o.velocity, b.map { -Double(S(lr)) * $0 }) <= tol)
        }
        try run(p)
    }
}
