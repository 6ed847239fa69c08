import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// The N-dimensional ill-conditioned quadratic: N = 2 is docs/lecture.md's problem bit for bit; for
/// any N the loss and gradient equal a plain reference with cᵢ = a²(b²/a²)^{i/(N−1)} by `pow`.
@Suite("N-dimensional quadratic")
struct QuadraticNDTests {
    @Test("N = 2 is IllConditionedQuadratic exactly", arguments: Precision.allCases)
    func twoDimensionsIsTheLectureProblem(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var rng = SplitMix64(seed: 3)
            for (a, b) in [(S(1), S(10)), (S(0.3), S(7)), (S(2), S(0.5))] {
                let plane = IllConditionedQuadratic<S>(a: a, b: b), nd = try IllConditionedQuadraticND<S>(dimension: 2, a: a, b: b)
                for _ in 0..<20 {
                    let θ = [S(rng.nextNormal()), S(rng.nextNormal())]
                    let x = try plane.lossAndGradient(at: θ), y = try nd.lossAndGradient(at: θ)
                    #expect(x.loss == y.loss && x.gradient == y.gradient, "a = \(a), b = \(b), θ = \(θ)")
                }
                #expect(nd.initialParameters(seed: 0) == plane.standardStart)
            }
        }
        try run(p.scalarType)
    }

    @Test("loss and gradient equal the plain reference, across block boundaries", arguments: [1, 7, 1000, (1 << 20) + 4099])
    func matchesPlainReference(_ n: Int) throws {
        let a = 0.5, b = 20.0
        let q = try IllConditionedQuadraticND<Double>(dimension: n, a: a, b: b)
        var rng = SplitMix64(seed: UInt64(n))
        let θ = (0..<n).map { _ in rng.nextNormal() }
        let (loss, g) = try q.lossAndGradient(at: θ)
        var reference = 0.0, worst = 0.0
        for i in 0..<n {
            let c = n == 1 ? a * a : a * a * pow(b * b / (a * a), Double(i) / Double(n - 1))
            reference += c * θ[i] * θ[i]
            worst = max(worst, abs(g[i] - 2 * c * θ[i]) / max(1e-300, abs(2 * c * θ[i])))
        }
        #expect(worst <= 1e-12)
        #expect(abs(loss - reference) <= 1e-12 * reference)
        #expect(try q.loss(at: θ) == loss)
        if n > 1 {
            #expect(q.curvature(0) == a * a && q.curvature(n - 1) == b * b)
        }
    }

    @Test("bad sizes and coefficients are refused with the value named")
    func badInput() {
        #expect(throws: TrainingError.invalidOption(name: "dimension", value: "0", requirement: "≥ 1")) { _ = try IllConditionedQuadraticND<Double>(dimension: 0) }
        #expect(throws: TrainingError.self) { _ = try IllConditionedQuadraticND<Double>(dimension: 3, a: 0) }
        #expect(throws: TrainingError.self) { _ = try IllConditionedQuadraticND<Float>(dimension: 3, b: .nan) }
    }

    @Test("Adam on N = 2·10⁴ converges and resumes bit-identically")
    func trainsAndResumes() throws {
        let q = try IllConditionedQuadraticND<Float>(dimension: 20_000, a: 1, b: 10)
        let options = TrainingOptions<Float>(maxSteps: 40, schedule: .cosine(initial: 0.1, minimum: 0, period: 40))
        var straight = try TrainingState(parameters: q.initialParameters(seed: 0), optimizer: try Adam<Float>(learningRate: 0.1), options: options)
        let full = try minimize(q, state: &straight)
        #expect(full.finalLoss < full.history[0].loss / 10)
        var paused = options
        paused.stopAfter = 17
        var state = try TrainingState(parameters: q.initialParameters(seed: 0), optimizer: try Adam<Float>(learningRate: 0.1), options: paused)
        _ = try minimize(q, state: &state)
        var resumed = try TrainingState<Adam<Float>>(checkpoint: state.checkpoint())
        resumed.options.stopAfter = nil
        #expect(bitIdentical(try minimize(q, state: &resumed).parameters, full.parameters))
    }
}
