import DescentProblems

/// One problem of `descent compare`: the objective, the run length, what counts as "reached",
/// and the learning rate of every optimizer.
///
/// How the learning rates were chosen: `descent compare --tune` runs, for every problem and
/// optimizer, the grid η ∈ {1e-4, 3e-4, 1e-3, …, 3, 10} (Adadelta: multiples of its default 1)
/// with every other hyperparameter at the library's default, and keeps the η that reaches the
/// tolerance in the fewest steps, or, when none does, the one with the lowest final full-data
/// loss (diverged runs are out). The values below are the output of one such run
/// (docs/comparison/README.md has the grid's table); `--tune` reproduces it.
struct ProblemPlan: Sendable {
    var settings: ProblemSettings
    var title: String
    var steps: Int
    /// Minibatch size (data problems); nil: full-data gradients.
    var batchSize: Int?
    /// A run has "reached" the goal at the first step whose full-data loss is ≤ this.
    var tolerance: Double
    /// The tuned learning rate of each optimizer (nil: the library's default).
    var learningRates: [OptimizerName: Double]
    /// Loss plot: a log y axis (linear for the saddle, which is unbounded below).
    var logY = true
    var yRange: ClosedRange<Double>? = nil

    var name: ProblemName { settings.name }

    func settings(for optimizer: OptimizerName) -> OptimizerSettings {
        OptimizerSettings(optimizer, learningRate: learningRates[optimizer])
    }
}

enum ComparisonPlan {
    /// The problems in the lecture's order, with the tuned learning rates.
    static let problems: [ProblemPlan] = [
        ProblemPlan(
            settings: ProblemSettings(name: .quadratic), title: "Ill-conditioned quadratic a²x̃² + b²ỹ² (a = 1, b = 10)",
            steps: 200, tolerance: 1e-6,
            learningRates: [.sgd: 9e-3, .momentum: 3e-3, .nesterov: 3e-3, .adagrad: 0.3, .rmsprop: 3e-2,
                            .adadelta: 1, .adam: 0.1, .adamw: 0.1, .natural: 0.5]),
        ProblemPlan(
            settings: ProblemSettings(name: .rosenbrock), title: "Rosenbrock (1 − x)² + 100(y − x²)²",
            steps: 3000, tolerance: 1e-4,
            learningRates: [.sgd: 1e-3, .momentum: 3e-4, .nesterov: 3e-4, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5]),
        ProblemPlan(
            settings: ProblemSettings(name: .beale), title: "Beale function",
            steps: 2000, tolerance: 1e-4,
            learningRates: [.sgd: 1e-2, .momentum: 1e-3, .nesterov: 1e-3, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5]),
        ProblemPlan(
            settings: ProblemSettings(name: .saddle), title: "Saddle x² − y² from (1, 10⁻³)",
            steps: 200, tolerance: -1,
            learningRates: [.sgd: 0.1, .momentum: 3e-2, .nesterov: 3e-2, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5],
            logY: false, yRange: -2.5...1.1),
        ProblemPlan(
            settings: ProblemSettings(name: .logistic, data: "breast-cancer", standardize: true),
            title: "Logistic regression, breast cancer (standardized)",
            steps: 500, batchSize: 64, tolerance: 0.1,
            learningRates: [.sgd: 0.3, .momentum: 3e-2, .nesterov: 3e-2, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5]),
        ProblemPlan(
            settings: ProblemSettings(name: .softmax, data: "digits", standardize: true),
            title: "Softmax regression, digits (standardized)",
            steps: 500, batchSize: 64, tolerance: 0.2,
            learningRates: [.sgd: 0.3, .momentum: 3e-2, .nesterov: 3e-2, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5]),
        ProblemPlan(
            settings: ProblemSettings(name: .mlp, hidden: "16", data: "digits", standardize: true),
            title: "MLP 64-16-10, digits (standardized)",
            steps: 1000, batchSize: 64, tolerance: 0.2,
            learningRates: [.sgd: 0.3, .momentum: 3e-2, .nesterov: 3e-2, .adagrad: 0.3, .rmsprop: 1e-2,
                            .adadelta: 1, .adam: 3e-2, .adamw: 3e-2, .natural: 0.5]),
    ]

    /// The learning-rate grid of `--tune`.
    static func grid(_ optimizer: OptimizerName) -> [Double] {
        if optimizer == .adadelta { return [0.1, 0.3, 1, 3, 10, 30] }
        return [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10]
    }
}
