import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// The loop the user controls: a callback that changes the optimizer and θ, reduce-on-plateau
/// (against a plain reference and PyTorch), early stopping with best-θ restore (against a plain
/// reference), validation records, and the seeded split with training-only standardization.
@Suite("Training control")
struct TrainingControlTests {
    /// PyTorch's ReduceLROnPlateau.step, transcribed plainly (min mode), for the reference.
    struct PlateauReference {
        var factor, threshold, minLR, eps: Double
        var patience, cooldown: Int
        var relative: Bool
        var best = Double.infinity, bad = 0, cooldownCounter = 0
        mutating func step(_ v: Double, lr: inout Double) {
            let better = relative ? v < best * (1 - threshold) : v < best - threshold
            if better { best = v; bad = 0 } else { bad += 1 }
            if cooldownCounter > 0 { cooldownCounter -= 1; bad = 0 }
            if bad > patience {
                let new = max(lr * factor, minLR)
                if lr - new > eps { lr = new }
                cooldownCounter = cooldown
                bad = 0
            }
        }
    }

    @Test("reduce-on-plateau equals PyTorch's ReduceLROnPlateau (fixture) and the plain reference")
    func plateauMatchesTorch() throws {
        // JSONDecoder (JSONSerialization on Linux rounds some decimals to a neighbouring double).
        struct Case: Decodable {
            var name: String, factor: Double, patience: Int, threshold: Double, threshold_mode: String, cooldown: Int
            var min_lr: Double, eps: Double, initial_lr: Double, metrics: [Double], learning_rates: [Double], best: [Double], bad_epochs: [Int]
        }
        struct Fixture: Decodable { var cases: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/torch_plateau.json")
        let cases = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
        #expect(cases.count >= 6)
        for c in cases {
            let name = c.name, factor = c.factor, threshold = c.threshold, minLR = c.min_lr
            let eps = c.eps, patience = c.patience, cooldown = c.cooldown
            let relative = c.threshold_mode == "rel"
            let metrics = c.metrics, expected = c.learning_rates, best = c.best, bad = c.bad_epochs
            var plateau = try ReduceLROnPlateau<Double>(factor: factor, patience: patience, threshold: threshold,
                                                        thresholdMode: relative ? .relative : .absolute, cooldown: cooldown,
                                                        minimumLearningRate: minLR, epsilon: eps)
            var reference = PlateauReference(factor: factor, threshold: threshold, minLR: minLR, eps: eps,
                                             patience: patience, cooldown: cooldown, relative: relative)
            var lr = c.initial_lr, referenceLR = lr
            for (i, m) in metrics.enumerated() {
                lr = plateau.update(metric: m, learningRate: lr)
                reference.step(m, lr: &referenceLR)
                #expect(lr == expected[i], "\(name) step \(i): \(lr) vs torch \(expected[i])")
                #expect(lr == referenceLR, "\(name) step \(i)")
                #expect(plateau.best == best[i] && plateau.badEvaluations == bad[i], "\(name) step \(i)")
            }
            #expect(Set(expected).count > 1 || name == "default", "\(name): the case never reduces")
        }
    }

    @Test("plateau in the loop: the learning rate follows the reference over the monitored losses", arguments: Precision.allCases)
    func plateauInTheLoop(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = try SyntheticData.logisticRegression(samples: 200, features: 5, seed: 2, as: S.self).data
            let split = try data.split(validationFraction: 0.25, seed: 1).standardized()
            let model = try LogisticRegression(data: split.training), validation = try LogisticRegression(data: split.validation)
            var adam = try Adam<S>(learningRate: 0.5)
            let options = TrainingOptions<S>(maxSteps: 60, batchSize: 32, seed: 3, validationInterval: 2,
                                             plateau: try ReduceLROnPlateau(factor: 0.5, patience: 1, threshold: 1e-3))
            let result = try minimize(model, from: model.initialParameters(seed: 0), optimizer: &adam, options: options, validation: validation, control: nil)
            var reference = PlateauReference(factor: 0.5, threshold: 1e-3, minLR: 0, eps: 1e-8, patience: 1, cooldown: 0, relative: true)
            var lr = 0.5
            for record in result.history.dropLast() {
                if record.step % 2 == 0 {
                    let v = try #require(record.validationLoss)
                    #expect(record.validationAccuracy != nil)
                    reference.step(Double(v), lr: &lr)
                } else {
                    #expect(record.validationLoss == nil)
                }
                #expect(record.learningRate == S(lr), "step \(record.step)")
            }
            #expect(Set(result.history.map(\.learningRate)).count > 2, "the plateau never reduced")
            #expect(result.history.last!.validationLoss != nil)
            #expect(throws: TrainingError.self) {
                var o = options
                o.schedule = .constant(0.1)
                try o.validate()
            }
        }
        try run(p.scalarType)
    }

    @Test("a warm-up before the plateau: the schedule's rates for t ≤ W, then the reference plateau from t = W", arguments: Precision.allCases)
    func warmupBeforePlateau(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let data = try SyntheticData.logisticRegression(samples: 200, features: 5, seed: 2, as: S.self).data
            let model = try LogisticRegression(data: data)
            var sgd = try SGD<S>(learningRate: 3)
            let w = 6
            let warmup = LearningRateSchedule<S>.warmup(steps: w, startFactor: 0.25, then: .constant(3))
            let options = TrainingOptions<S>(maxSteps: 50, batchSize: 16, seed: 3, schedule: warmup,
                                             plateau: try ReduceLROnPlateau(factor: 0.5, patience: 0, threshold: 1e-3))
            let result = try minimize(model, from: model.initialParameters(seed: 0), optimizer: &sgd, options: options, validation: nil, control: nil)
            var reference = PlateauReference(factor: 0.5, threshold: 1e-3, minLR: 0, eps: 1e-8, patience: 0, cooldown: 0, relative: true)
            var lr = 3.0
            for record in result.history.dropLast() {
                if record.step < w {
                    #expect(record.learningRate == warmup.rate(at: record.step), "warm-up step \(record.step)")
                } else {
                    reference.step(Double(record.loss), lr: &lr)
                    #expect(record.learningRate == S(lr), "plateau step \(record.step)")
                }
            }
            #expect(Set(result.history.map(\.learningRate)).count > w + 1, "the plateau never reduced")
            // Only a warm-up to a constant rate may precede a plateau.
            for schedule: LearningRateSchedule<S> in [.cosine(initial: 1, minimum: 0, period: 10),
                                                      .warmup(steps: 3, startFactor: 0.1, then: .cosine(initial: 1, minimum: 0, period: 10))] {
                var o = options
                o.schedule = schedule
                #expect(throws: TrainingError.self) { try o.validate() }
            }
        }
        try run(p.scalarType)
    }

    @Test("early stopping stops after `patience` evaluations without improvement and restores θ_best", arguments: Precision.allCases)
    func earlyStopping(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            // Over-fitting setup: few training samples, many features, a large constant rate.
            let data = try SyntheticData.logisticRegression(samples: 60, features: 20, seed: 11, as: S.self).data
            let split = try data.split(validationFraction: 0.5, seed: 2)
            let model = try LogisticRegression(data: split.training), validation = try LogisticRegression(data: split.validation)
            var sgd = try SGD<S>(learningRate: 2)
            let options = TrainingOptions<S>(maxSteps: 2000, recordParameters: true, validationInterval: 5,
                                             earlyStopping: try EarlyStopping(patience: 3, minimumDelta: 1e-4))
            let result = try minimize(model, from: model.initialParameters(seed: 0), optimizer: &sgd, options: options, validation: validation, control: nil)
            #expect(result.stopReason == .earlyStopping)
            // Plain reference over the recorded validation losses.
            var best = Double.infinity, bestStep = -1, bad = 0, stopStep = -1
            for r in result.history.dropLast() {
                guard let v = r.validationLoss else { continue }
                if Double(v) < best - Double(S(1e-4)) { best = Double(v); bestStep = r.step; bad = 0 } else { bad += 1 }
                if bad >= 3 { stopStep = r.step; break }
            }
            #expect(stopStep == result.history[result.history.count - 2].step)
            let bestRecord = try #require(result.history.first { $0.step == bestStep })
            #expect(result.parameters == bestRecord.parameters)
            // The final record is the full-data loss at θ_best, with its validation loss.
            #expect(try result.finalLoss == model.loss(at: result.parameters))
            #expect(result.history.last!.validationLoss == bestRecord.validationLoss)
        }
        try run(p.scalarType)
    }

    /// The callback changes the optimizer (no exclusivity trap) and θ; the old signature still works.
    /// As in PyTorch when `p.data` is edited between `backward()` and `step()`, the step applies
    /// g_t (computed at the θ of the record) to the θ the callback leaves.
    @Test("the callback gets mutable access to the optimizer and θ")
    func mutableCallback() throws {
        let q = IllConditionedQuadratic<Double>(a: 1, b: 3)
        var sgd = try SGD<Double>(learningRate: 0.05)
        let result = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 6, recordParameters: true)) { record, optimizer, θ in
            if record.step == 2 { optimizer.learningRate *= 0.5 }
            if record.step == 4 { θ = [0.5, 0.5] }
            return .continue
        }
        #expect(sgd.learningRate == 0.025)
        var θ = [1.0, 1.0], lr = 0.05
        for record in result.history {
            if record.step == 2 { lr *= 0.5 }
            #expect(relativeError(record.parameters, θ) <= 1e-15, "step \(record.step)")
            let g = [2 * θ[0], 18 * θ[1]]
            if record.step == 4 { θ = [0.5, 0.5] }
            θ = [θ[0] - lr * g[0], θ[1] - lr * g[1]]
        }
        // Changing θ's length is refused.
        #expect(throws: TrainingError.parameterCountMismatch(expected: 2, found: 3)) {
            _ = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 3)) { _, _, θ in θ = [1, 2, 3]; return .continue }
        }
        // Stop from the new callback.
        let stopped = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 30)) { r, _, _ in r.step == 5 ? .stop : .continue }
        #expect(stopped.stopReason == .callback && stopped.steps == 5)
    }

    @Test("the seeded split: disjoint parts covering the data, reproducible, training-only standardization")
    func split() throws {
        let data = randomData(m: 103, d: 3, seed: 4) { rng, _ in rng.nextUniform() < 0.5 ? 0 : 1 }
        let s = try data.split(validationFraction: 0.2, testFraction: 0.1, seed: 7)
        #expect(s.validation.sampleCount == 21 && s.test.sampleCount == 10 && s.training.sampleCount == 72)
        #expect((s.trainingIndices + s.validationIndices + s.testIndices).sorted() == Array(0..<103))
        #expect(try s.training == data.subset(s.trainingIndices) && s.test == data.subset(s.testIndices))
        #expect(try data.split(validationFraction: 0.2, testFraction: 0.1, seed: 7) == s)
        #expect(try data.split(validationFraction: 0.2, testFraction: 0.1, seed: 8).validationIndices != s.validationIndices)
        // The permutation is SplitMix64's Fisher–Yates, as the sampler's.
        var rng = SplitMix64(seed: 7)
        var order = Array(0..<103)
        rng.shuffle(&order)
        #expect(s.validationIndices == Array(order[0..<21]))

        // Standardization fitted on the training part only (plain reference), applied to all parts.
        let z = try s.standardized()
        let d = 3, m = s.training.sampleCount
        for j in 0..<d {
            let column = (0..<m).map { s.training.features.elements[$0 * d + j] }
            let mean = column.reduce(0, +) / Double(m)
            let std = (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m)).squareRoot()
            for (part, standardized) in [(s.training, z.training), (s.validation, z.validation), (s.test, z.test)] {
                for i in 0..<part.sampleCount {
                    let expected = (part.features.elements[i * d + j] - mean) / std
                    #expect(abs(standardized.features.elements[i * d + j] - expected) <= 1e-12 * max(1, abs(expected)))
                }
            }
        }
        #expect(z.validation.standardization == z.training.standardization)
        // Bad fractions name the value.
        #expect(throws: TrainingError.invalidOption(name: "validationFraction", value: "1.5", requirement: "in [0, 1)")) {
            _ = try data.split(validationFraction: 1.5, seed: 0)
        }
        #expect(throws: TrainingError.self) { _ = try data.split(validationFraction: 0.6, testFraction: 0.4, seed: 0) }
        #expect(throws: TrainingError.self) { _ = try data.subset([0, 1]).split(validationFraction: 0.5, testFraction: 0.4, seed: 0) }
    }
}
