import Foundation
import Testing
import Descent
@testable import DescentProblems
import DescentTestSupport

/// The loss history is bounded: beyond ``TrainingOptions/historyLimit`` records it keeps every
/// k-th step (k a power of two), so a run of any length holds a bounded history, and a paused
/// and resumed run keeps the same records as one never interrupted.
@Suite struct HistoryLimitTests {
    /// The stride against the definition: the smallest power of two k with ⌈T/k⌉ ≤ limit.
    @Test func strideIsTheSmallestPowerOfTwoThatFits() {
        for limit in [1, 2, 3, 8, 100] {
            for steps in 0...1000 {
                let k = HistoryThinning.stride(steps: steps, limit: limit)
                #expect(k > 0 && k & (k - 1) == 0)
                #expect((steps + k - 1) / k <= limit, "T = \(steps), limit \(limit)")
                if k > 1 { #expect((steps + k / 2 - 1) / (k / 2) > limit, "T = \(steps), limit \(limit): k = \(k) not the smallest") }
            }
        }
        #expect(HistoryThinning.stride(steps: Int.max, limit: 1 << 16) == 1 << 47)
        #expect(HistoryThinning.stride(steps: 10, limit: nil) == 1)
    }

    @Test(arguments: Precision.allCases) func boundedAndResumable(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let options = TrainingOptions<S>(maxSteps: 100, historyLimit: 8)
            var sgd = try SGD<S>(learningRate: 1e-3)
            let full = try minimize(Rosenbrock<S>(), from: [-1.5, 2], optimizer: &sgd, options: options)
            // k = 16: ⌈100/16⌉ = 7 ≤ 8 < ⌈100/8⌉ = 13; then the final record.
            #expect(full.history.map(\.step) == [0, 16, 32, 48, 64, 80, 96, 100])
            var unbounded = options
            unbounded.historyLimit = nil
            var sgd2 = try SGD<S>(learningRate: 1e-3)
            let every = try minimize(Rosenbrock<S>(), from: [-1.5, 2], optimizer: &sgd2, options: unbounded)
            #expect(every.history.count == 101)
            let kept = Set(full.history.map(\.step))
            #expect(every.history.filter { kept.contains($0.step) }.map(\.loss) == full.history.map(\.loss))

            var paused = options
            paused.stopAfter = 37
            var state = try TrainingState(parameters: [-1.5, 2], optimizer: try SGD<S>(learningRate: 1e-3), options: paused)
            _ = try minimize(Rosenbrock<S>(), state: &state)
            var resumed = try TrainingState<SGD<S>>(checkpoint: state.checkpoint())
            resumed.options.stopAfter = nil
            let rest = try minimize(Rosenbrock<S>(), state: &resumed)
            #expect(rest.history.map(\.step) == full.history.map(\.step))
            #expect(rest.history.map(\.loss) == full.history.map(\.loss))
            #expect(bitIdentical(rest.parameters, full.parameters))
            #expect(throws: TrainingError.self) { try TrainingOptions<S>(historyLimit: 0).validate() }
        }
        try run(p.scalarType)
    }
}
