import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// Training state: T steps, save (through the binary bytes), restore, T more steps gives the same
/// θ at every step, bit for bit, as 2T steps never interrupted — for every optimizer, with
/// minibatches, schedules, clipping, plateau, validation and early stopping.
@Suite("Resumable training")
struct ResumeTests {
    static func objective<S: BLASScalar>(_: S.Type, seed: UInt64 = 5) throws -> (LogisticRegression<S>, LogisticRegression<S>) {
        let problem = try SyntheticData.logisticRegression(samples: 150, features: 4, seed: seed, as: S.self)
        let split = try problem.data.split(validationFraction: 0.2, seed: 3).standardized()
        return (try LogisticRegression(data: split.training, l2: 0.01), try LogisticRegression(data: split.validation, l2: 0.01))
    }

    static func optimizers<S: BLASScalar>(_: S.Type) throws -> [any Optimizer<S>] {
        [
            try SGD<S>(learningRate: 0.1, weightDecay: 0.01),
            try Momentum<S>(learningRate: 0.05, nesterov: true),
            try Adagrad<S>(learningRate: 0.1, learningRateDecay: 0.01),
            try RMSProp<S>(learningRate: 0.01, momentum: 0.5, centered: true),
            try Adadelta<S>(),
            try Adam<S>(learningRate: 0.05, amsgrad: true),
            try AdamW<S>(learningRate: 0.05, weightDecay: 0.1),
            try NaturalGradient<S>(learningRate: 0.5, damping: .levenbergMarquardt(initial: 1e-2), curvatureDecay: 0.9),
            try NaturalGradient<S>(damping: .fixed(1e-3), refreshInterval: 3),
            try NaturalGradient<S>(damping: .fixed(1e-2), stepLength: 0.01),
            try KFAC<S>(learningRate: 0.05, damping: .levenbergMarquardt(initial: 1e-2), inverseUpdateInterval: 3, klClip: 0.01),
        ]
    }

    /// The option sets each optimizer is checked with.
    static func optionSets<S: BLASScalar>(_: S.Type, steps: Int, learningRate: S) throws -> [(String, TrainingOptions<S>)] {
        [
            ("minibatch + warm-up/cosine + clipping",
             TrainingOptions(maxSteps: steps, batchSize: 16, seed: 9,
                             schedule: .warmup(steps: 4, startFactor: 0.2, then: .cosine(initial: learningRate, minimum: 0, period: steps)),
                             gradientClipNorm: 0.5, recordParameters: true)),
            ("full data + step schedule", TrainingOptions(maxSteps: steps, schedule: .step(initial: learningRate, every: 5, factor: 0.5), recordParameters: true)),
            ("minibatch + plateau + early stopping on validation",
             TrainingOptions(maxSteps: steps, batchSize: 32, seed: 2, recordParameters: true, validationInterval: 3,
                             plateau: try ReduceLROnPlateau(factor: 0.5, patience: 1, threshold: 1e-3),
                             earlyStopping: try EarlyStopping(patience: 1000))),
        ]
    }

    static func check<O: Optimizer>(_ optimizer: O, options: TrainingOptions<O.Scalar>, label: String, steps: Int,
                                    objective: LogisticRegression<O.Scalar>, validation: LogisticRegression<O.Scalar>) throws {
        let start = objective.initialParameters(seed: 0)
        // Uninterrupted.
        var straight = try TrainingState(parameters: start, optimizer: optimizer, options: options)
        let full = try minimize(objective, state: &straight, validation: validation)
        #expect(full.steps == steps, "\(label)")

        // T steps, pause, save through the binary bytes, restore, continue.
        var paused = options
        paused.stopAfter = steps / 2
        var first = try TrainingState(parameters: start, optimizer: optimizer, options: paused)
        let half = try minimize(objective, state: &first, validation: validation)
        #expect(half.stopReason == .paused && first.step == steps / 2, "\(label)")
        let bytes = try first.checkpoint()
        var resumed = try TrainingState<O>(checkpoint: bytes)
        #expect(try resumed.checkpoint() == bytes, "\(label): re-encoding differs")
        resumed.options.stopAfter = nil
        let rest = try minimize(objective, state: &resumed, validation: validation)

        // θ at every later step, and the final θ, bit for bit; the whole history apart from time.
        let a = full.history.map(\.parameters), b = resumed.history.map(\.parameters) + [rest.history.last!.parameters]
        #expect(a.count == b.count, "\(label)")
        for (t, (x, y)) in zip(a, b).enumerated() where !bitIdentical(x, y) {
            Issue.record("\(O.kind)<\(O.Scalar.self)> \(label): θ differs at step \(t)")
            break
        }
        #expect(bitIdentical(full.parameters, rest.parameters), "\(O.kind) \(label)")
        func strip(_ h: [TrainingRecord<O.Scalar>]) -> [TrainingRecord<O.Scalar>] { h.map { var r = $0; r.elapsed = 0; return r } }
        #expect(strip(full.history) == strip(rest.history), "\(O.kind) \(label): history differs")
        #expect(try straight.optimizer.checkpoint() == resumed.optimizer.checkpoint(), "\(O.kind) \(label): optimizer state differs")
        #expect(straight.options == resumed.options || options.stopAfter != nil, "\(O.kind) \(label): plateau/early-stopping state differs")
    }

    @Test(arguments: Precision.allCases) func resumedRunsAreBitIdentical(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let (objective, validation) = try Self.objective(S.self)
            for optimizer in try Self.optimizers(S.self) {
                var sets = try Self.optionSets(S.self, steps: 24, learningRate: optimizer.learningRate)
                if optimizer is KFAC<S> {
                    // K-FAC's sampled Fisher draws targets keyed by step and seed.
                    var sampled = sets[0].1
                    sampled.fisher = .sampled
                    sets.append(("minibatch + sampled Fisher", sampled))
                }
                for (label, options) in sets {
                    func open<O: Optimizer>(_ o: O) throws where O.Scalar == S {
                        try Self.check(o, options: options, label: label, steps: 24, objective: objective, validation: validation)
                    }
                    try open(optimizer)
                }
            }
        }
        try run(p.scalarType)
    }

    /// Pausing several times, through files, is the same as pausing once.
    @Test func repeatedPausesThroughFiles() throws {
        let (objective, validation) = try Self.objective(Double.self)
        let options = TrainingOptions<Double>(maxSteps: 30, batchSize: 16, seed: 4, schedule: .exponential(initial: 0.05, factor: 0.97))
        var straight = try TrainingState(parameters: objective.initialParameters(seed: 0), optimizer: try Adam<Double>(learningRate: 0.05), options: options)
        let full = try minimize(objective, state: &straight, validation: validation)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-resume-\(UUID().uuidString).ckpt")
        defer { try? FileManager.default.removeItem(at: url) }
        var state = try TrainingState(parameters: objective.initialParameters(seed: 0), optimizer: try Adam<Double>(learningRate: 0.05), options: options)
        state.options.stopAfter = 7
        var result: TrainingResult<Double>
        repeat {
            result = try minimize(objective, state: &state, validation: validation)
            try state.write(to: url)
            state = try TrainingState<Adam<Double>>(contentsOf: url)
        } while result.stopReason == .paused
        #expect(result.stopReason == .maxSteps && state.step == 30)
        #expect(bitIdentical(full.parameters, result.parameters))
        // A raised step count continues an ended run.
        state.options.maxSteps = 35
        straight.options.maxSteps = 35
        #expect(bitIdentical(try minimize(objective, state: &state).parameters, try minimize(objective, state: &straight).parameters))
    }

    /// A state refuses another optimizer type, other data, or a corrupt sampler — with nothing changed.
    @Test func mismatchedStatesAreRefused() throws {
        let (objective, _) = try Self.objective(Double.self)
        var state = try TrainingState(parameters: objective.initialParameters(seed: 0), optimizer: try Adam<Double>(),
                                      options: TrainingOptions(maxSteps: 10, batchSize: 16, stopAfter: 3))
        _ = try minimize(objective, state: &state)
        let bytes = try state.checkpoint()
        #expect(throws: OptimizerError.checkpointMismatch(expected: "sgd<Double>", found: "adam<Double>")) {
            _ = try TrainingState<SGD<Double>>(checkpoint: bytes)
        }
        #expect(throws: OptimizerError.checkpointMismatch(expected: "adam<Float>", found: "adam<Double>")) {
            _ = try TrainingState<Adam<Float>>(checkpoint: bytes)
        }
        #expect(throws: CheckpointError.kindMismatch(expected: "training-state", found: "adam")) {
            _ = try TrainingState<Adam<Double>>(checkpoint: try Adam<Double>().checkpoint())
        }
        // Other data: the sampler was saved for 120 samples.
        let other = try LogisticRegression(data: SyntheticData.logisticRegression(samples: 60, features: 4, seed: 1, as: Double.self).data)
        var restored = try TrainingState<Adam<Double>>(checkpoint: bytes)
        let before = try restored.checkpoint()
        #expect(throws: TrainingError.self) { _ = try minimize(other, state: &restored) }
        #expect(try restored.checkpoint() == before)
        // The summary reads the kind and metadata without knowing the optimizer type.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-summary-\(UUID().uuidString).ckpt")
        defer { try? FileManager.default.removeItem(at: url) }
        state.metadata["problem"] = "logistic"
        try state.write(to: url)
        let summary = try TrainingStateSummary(contentsOf: url)
        #expect(summary.optimizerKind == "adam" && summary.scalar == "Double" && summary.step == 3 && summary.metadata["problem"] == "logistic")
    }
}

func bitIdentical<S: BLASScalar>(_ a: [S], _ b: [S]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy {
        $0.sign == $1.sign && $0.exponentBitPattern == $1.exponentBitPattern && $0.significandBitPattern == $1.significandBitPattern
    }
}
