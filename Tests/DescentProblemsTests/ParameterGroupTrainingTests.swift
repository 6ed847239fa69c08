import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// ``ParameterGroups`` in the training loop: resumable bit for bit through ``TrainingState``
/// for every first-order optimizer (minibatches, schedules, clipping, plateau, early stopping),
/// and a perceptron trained with groups against a hand loop of one optimizer per run.
@Suite("Parameter groups in training")
struct ParameterGroupTrainingTests {
    /// One grouped optimizer per first-order kind over the logistic layout (`weights`, `biases`).
    static func grouped<S: BLASScalar>(_: S.Type, layout: ParameterLayout) throws -> [any Optimizer<S>] {
        [
            try ParameterGroups(SGD<S>(learningRate: 0.1, weightDecay: 0.01), layout: layout, groups: [("biases", ["weight-decay": 0, "lr": 0.2])]),
            try ParameterGroups(Momentum<S>(learningRate: 0.05), layout: layout, groups: [("weights", ["nesterov": true]), ("biases", ["momentum": 0.5])]),
            try ParameterGroups(Adagrad<S>(learningRate: 0.1), layout: layout, groups: [("biases", ["lr-decay": 0.01])]),
            try ParameterGroups(RMSProp<S>(learningRate: 0.01), layout: layout, groups: [("weights", ["centered": true, "momentum": 0.5])]),
            try ParameterGroups(Adadelta<S>(), layout: layout, groups: [("biases", ["rho": 0.95])]),
            try ParameterGroups(Adam<S>(learningRate: 0.05), layout: layout, groups: [("biases", ["amsgrad": true, "lr": 0.01])]),
            try ParameterGroups(AdamW<S>(learningRate: 0.05, weightDecay: 0.1), layout: layout, groups: [("biases", ["weight-decay": 0])]),
        ]
    }

    @Test(arguments: Precision.allCases) func resumedGroupedRunsAreBitIdentical(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let (objective, validation) = try ResumeTests.objective(S.self)
            for optimizer in try Self.grouped(S.self, layout: objective.parameterLayout) {
                for (label, options) in try ResumeTests.optionSets(S.self, steps: 24, learningRate: optimizer.learningRate) {
                    func open<O: Optimizer>(_ o: O) throws where O.Scalar == S {
                        try ResumeTests.check(o, options: options, label: "groups " + label, steps: 24, objective: objective, validation: validation)
                    }
                    try open(optimizer)
                }
            }
        }
        switch p {
        case .float: try run(Float.self)
        case .double: try run(Double.self)
        }
    }

    /// A 4-5-3 perceptron, AdamW with no decay on the biases and a smaller rate on the first
    /// layer's weights, under an exponential schedule: `minimize` with ``ParameterGroups``
    /// equals a hand loop that steps one AdamW per contiguous run of θ (rates scaled by the
    /// schedule's factor), bit for bit, and the loss falls.
    @Test(arguments: Precision.allCases) func perceptronWithGroupsEqualsOneOptimizerPerRun(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let problem = try SyntheticData.logisticRegression(samples: 60, features: 4, seed: 2, as: S.self)
            let mlp = try MultilayerPerceptron(data: problem.data, hiddenLayers: [5], outputLayer: .sigmoid)
            let layout = mlp.parameterLayout
            let base = try AdamW<S>(learningRate: 0.02, weightDecay: 0.1)
            var grouped = try ParameterGroups(base, layout: layout, groups: [("biases", ["weight-decay": 0]), ("layer1.weights", ["lr": 0.01])])
            let start = mlp.initialParameters(seed: 1)
            let steps = 25
            let result = try minimize(mlp, from: start, optimizer: &grouped,
                                      options: TrainingOptions(maxSteps: steps, schedule: .exponential(initial: S(0.02), factor: S(0.95))))

            // The hand loop: every run of `biases`, `layer1.weights` and the rest (layer2.weights).
            var runs: [(range: Range<Int>, optimizer: AdamW<S>, initialRate: S)] = []
            var noDecay = base
            noDecay.weightDecay = 0
            var slower = base
            slower.learningRate = S(0.01)
            for r in try layout.ranges(of: "biases") { runs.append((r, noDecay, S(0.02))) }
            for r in try layout.ranges(of: "layer1.weights") { runs.append((r, slower, S(0.01))) }
            for r in try layout.ranges(of: "layer2.weights") { runs.append((r, base, S(0.02))) }
            runs.sort { $0.range.lowerBound < $1.range.lowerBound }
            #expect(runs.map(\.range.count).reduce(0, +) == mlp.dimension)
            let schedule = LearningRateSchedule<S>.exponential(initial: S(0.02), factor: S(0.95))
            var θ = start
            for t in 0..<steps {
                let (_, g) = try mlp.lossAndGradient(at: θ)
                let η = schedule.rate(at: t)
                for k in runs.indices {
                    let r = runs[k].range, initial = runs[k].initialRate
                    runs[k].optimizer.learningRate = initial == S(0.02) ? η : S(Double(initial) * (Double(η) / Double(S(0.02))))
                    var slice = Array(θ[r])
                    try runs[k].optimizer.step(&slice, gradient: Array(g[r]))
                    θ.replaceSubrange(r, with: slice)
                }
            }
            #expect(bitIdentical(result.parameters, θ))
            #expect(result.finalLoss < (try mlp.loss(at: start)))
            // The biases were not decayed: the same run without the override differs.
            var uniform = try ParameterGroups(base, layout: layout, groups: [])
            let plain = try minimize(mlp, from: start, optimizer: &uniform, options: TrainingOptions(maxSteps: steps))
            #expect(!bitIdentical(plain.parameters, result.parameters))
        }
        switch p {
        case .float: try run(Float.self)
        case .double: try run(Double.self)
        }
    }
}
