import Descent
import Testing
import DescentProblems
import DescentTestSupport

/// Every optimizer drives a convex quadratic f(θ) = ½ Σ dᵢ (θᵢ − cᵢ)², dᵢ ∈ [0.5, 2], toward its
/// minimum from a random start.
@Suite("Convergence on a convex quadratic")
struct ConvergenceTests {

    struct Quadratic<S: BLASScalar> {
        var d: [S], c: [S]
        init(n: Int, seed: UInt64) {
            var rng = SplitMix64(seed: seed)
            d = (0..<n).map { _ in S(Double.random(in: 0.5...2, using: &rng)) }
            c = rng.vector(n, scale: 3)
        }
        func value(_ x: [S]) -> Double {
            x.indices.reduce(0) { $0 + 0.5 * Double(d[$1]) * pow2(Double(x[$1] - c[$1])) }
        }
        func gradient(_ x: [S]) -> [S] { x.indices.map { d[$0] * (x[$0] - c[$0]) } }
        func pow2(_ v: Double) -> Double { v * v }
    }

    /// Runs `steps` steps and expects f to fall below `ratio` times its starting value.
    static func converges<O: Optimizer>(_ o: O, steps: Int, ratio: Double,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        var o = o
        let q = Quadratic<O.Scalar>(n: 20, seed: 21)
        var rng = SplitMix64(seed: 22)
        var x: [O.Scalar] = rng.vector(20, scale: 3)
        let f0 = q.value(x)
        for _ in 0..<steps { try o.step(&x, gradient: q.gradient(x)) }
        let f = q.value(x)
        #expect(f <= ratio * f0, "\(O.kind)<\(O.Scalar.self)>: f went from \(f0) to \(f)", sourceLocation: sourceLocation)
    }

    @Test(arguments: OptimizerTestSupport.precisions) func everyOptimizerConverges(_ p: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            try Self.converges(SGD<S>(learningRate: 0.5), steps: 200, ratio: 1e-8)
            try Self.converges(Momentum<S>(learningRate: 0.1, momentum: 0.8), steps: 300, ratio: 1e-8)
            try Self.converges(Momentum<S>(learningRate: 0.1, momentum: 0.8, nesterov: true), steps: 300, ratio: 1e-8)
            try Self.converges(Adagrad<S>(learningRate: 1), steps: 300, ratio: 1e-8)
            try Self.converges(RMSProp<S>(learningRate: 0.01), steps: 1000, ratio: 1e-4)
            try Self.converges(RMSProp<S>(learningRate: 0.01, momentum: 0.5, centered: true), steps: 1000, ratio: 1e-4)
            try Self.converges(Adadelta<S>(), steps: 3000, ratio: 1e-3)
            try Self.converges(Adadelta<S>(epsilonPlacement: .outsideSquareRoot), steps: 3000, ratio: 1e-3)
            try Self.converges(Adam<S>(learningRate: 0.05), steps: 1000, ratio: 1e-6)
            try Self.converges(Adam<S>(learningRate: 0.05, amsgrad: true), steps: 1000, ratio: 1e-6)
            try Self.converges(AdamW<S>(learningRate: 0.05, weightDecay: 1e-4), steps: 1000, ratio: 1e-4)
        }
        try run(p)
    }
}
