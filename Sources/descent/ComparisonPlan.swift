import DescentProblems

/// One problem of `descent compare`: the objective, the run length, what counts as "reached",
/// and the learning rate of every optimizer.
///
/// How the learning rates were chosen: `descent compare --tune` runs, for every problem and
/// optimizer, the grid η ∈ {1e-4, 3e-4, 1e-3, …, 3, 10} (Adadelta: multiples of its default 1)
/// with every other hyperparameter at the library's default, and keeps the η that reaches the
/// tolerance in the fewest steps, or, when none does, the one with the lowest final full-data
/// loss (diverged runs are out). "Reaches" means the loss stays ≤ the tolerance from that step
/// on. The quadratic starts at (0.9, 0.7) rather than its standard (1, 1), where sign-like
/// first steps (Adam, Adagrad, RMSProp: ≈ η·sign g) with η = 1 land exactly on the optimum. The values below are the output of one such run
/// (docs/comparison/README.md has the grid's table); `--tune` reproduces it.
///
/// Exception: on the saddle every η escapes and the largest escapes fastest, so the grid would
/// pick the largest; there all optimizers use the same η = 0.01 (Adadelta its default 1) and
/// the comparison shows how fast each amplifies the escaping coordinate.
///
/// The natural gradient runs wherever the problem supplies curvature. On the 2-D problems and
/// logistic regression it uses the exact Fisher (the Gauss–Newton matrix JᵀJ for the test
/// functions; on the quadratic that is the metric G = diag(a², b²) of docs/lecture.md, and η = ½ is the
/// step that lands on the minimum). On softmax regression and the MLP, the exact
/// (categorical) Fisher of a 64-sample batch has 640 rows: a 640 × 640 factorization per step,
/// ~40 ms here with Debian's OpenBLAS, so those two use the empirical Fisher (64 rows, Woodbury
/// path, ~1 ms) with η = 1, λ = 0.1, picked by hand from η ∈ {0.5, 1}, λ ∈ {0.01, 0.1};
/// `descent run --optimizer natural --fisher exact` runs the exact one.
struct ProblemPlan: Sendable {
    var settings: ProblemSettings
    var title: String
    var steps: Int
    /// A start other than the problem's standard one.
    var start: [Double]? = nil
    /// Minibatch size (data problems); nil: full-data gradients.
    var batchSize: Int?
    /// A run has "reached" the goal at the first step whose full-data loss is ≤ this.
    var tolerance: Double
    /// The tuned learning rate of each optimizer (nil: the library's default). NAdam, RAdam,
    /// Adamax, Rprop (its initial step size) and ASGD are tuned with `--tune` on the plane problems
    /// (the saddle: 0.01 as the others); on the data problems they run at Adam's rate (NAdam,
    /// RAdam, Adamax), SGD's (ASGD) or as tuned where stated in the plan.
    var learningRates: [OptimizerName: Double]
    /// Loss plot: a log y axis (linear for the saddle, which is unbounded below).
    var logY = true
    var yRange: ClosedRange<Double>? = nil
    /// The natural gradient's Fisher and damping on this problem (nil damping: the library's).
    var naturalFisher: FisherKind = .exact
    var naturalDamping: Double? = nil
    /// K-FAC's estimation mode on this problem (sampled: one backward pass per batch).
    var kfacFisher: FisherKind = .sampled
    /// K-FAC's KL clipping κ (kfac-pytorch's default 10⁻³; with λ = 10⁻³ and no clipping the
    /// 64-256-256-10 network diverges, as kfac-jax does with the same fixed settings).
    var kfacClip: Double? = 1e-3
    /// K-FAC's fixed λ and refactoring interval T on this problem (nil: the library's 10⁻³ and 10).
    var kfacDamping: Double? = nil
    var kfacInterval: Int? = nil
    /// K-FAC as kfac-jax's adaptive optimizer (`--adaptive`: learning rate, momentum and damping
    /// chosen by the quadratic model with the exact Fisher on the step's batch), as `descent run
    /// --optimizer kfac` runs it by default; the fixed-η settings above apply when false.
    var kfacAdaptive = true
    /// Optimizers left out of this section, with the reason printed in its notes.
    var leftOut: [OptimizerName: String] = [:]
    /// The section's own name when two sections share a problem (the perceptrons); nil: the
    /// problem's name.
    var label: String? = nil

    var name: ProblemName { settings.name }
    /// The section's name in `--problems`, tables and file names (`<identifier>-loss.svg`):
    /// unique across ``ComparisonPlan/problems``.
    var identifier: String { label ?? settings.name.rawValue }

    func settings(for optimizer: OptimizerName) -> OptimizerSettings {
        var s = OptimizerSettings(optimizer, learningRate: learningRates[optimizer])
        if optimizer == .natural {
            s.fisher = naturalFisher
            s.set("--damping", number: naturalDamping)
        }
        if optimizer == .kfac, kfacAdaptive {
            s.fisher = kfacFisher
            s.set("--lr", nil)
            s.set("--adaptive", .flag(true))  // λ₀ the adaptive default: the fixed-step λ would be too small
            return s
        }
        if optimizer == .kfac {
            s.fisher = kfacFisher; s.set("--kl-clip", number: kfacClip)
            s.set("--damping", number: kfacDamping); s.set("--inverse-interval", number: kfacInterval.map(Double.init))
        }
        return s
    }
}

enum ComparisonPlan {
    /// The problems in the order of docs/lecture.md, with the tuned learning rates.
    static let problems: [ProblemPlan] = [
        ProblemPlan(
            settings: ProblemSettings(name: .quadratic), title: "Ill-conditioned quadratic a²x̃² + b²ỹ² (a = 1, b = 10)",
            steps: 200, start: [0.9, 0.7], tolerance: 1e-6,
            learningRates: [.sgd: 0.003, .momentum: 0.003, .nesterov: 0.003, .adagrad: 10, .rmsprop: 10,
                            .adadelta: 3, .adam: 0.1, .adamw: 10, .natural: 0.5,
                        .nadam: 0.3, .radam: 0.03, .adamax: 0.3, .rprop: 0.1, .asgd: 0.003]),
        ProblemPlan(
            settings: ProblemSettings(name: .rosenbrock), title: "Rosenbrock (1 − x)² + 100(y − x²)²",
            steps: 3000, tolerance: 1e-4,
            learningRates: [.sgd: 0.001, .momentum: 0.001, .nesterov: 0.001, .adagrad: 1, .rmsprop: 0.003,
                            .adadelta: 0.1, .adam: 3, .adamw: 0.03, .natural: 0.3,
                        .nadam: 0.01, .radam: 0.01, .adamax: 1, .rprop: 0.1, .asgd: 0.001]),
        ProblemPlan(
            settings: ProblemSettings(name: .beale), title: "Beale function",
            steps: 2000, tolerance: 1e-4,
            learningRates: [.sgd: 0.03, .momentum: 0.003, .nesterov: 0.003, .adagrad: 1, .rmsprop: 0.003,
                            .adadelta: 0.3, .adam: 0.3, .adamw: 0.3, .natural: 0.3,
                        .nadam: 0.1, .radam: 0.01, .adamax: 1, .rprop: 0.1, .asgd: 0.03]),
        ProblemPlan(
            settings: ProblemSettings(name: .saddle), title: "Saddle x² − y² from (1, 10⁻³)",
            steps: 200, tolerance: -1,
            learningRates: [.sgd: 0.01, .momentum: 0.01, .nesterov: 0.01, .adagrad: 0.01, .rmsprop: 0.01,
                            .adam: 0.01, .adamw: 0.01,
                        .nadam: 0.01, .radam: 0.01, .adamax: 0.01, .rprop: 0.01, .asgd: 0.01],
            logY: false, yRange: -2.5...1.1),
        ProblemPlan(
            settings: ProblemSettings(name: .logistic, data: "breast-cancer", standardize: true),
            title: "Logistic regression, breast cancer (standardized)",
            steps: 500, batchSize: 64, tolerance: 0.1,
            learningRates: [.sgd: 3, .momentum: 0.3, .nesterov: 0.3, .adagrad: 1, .rmsprop: 0.1,
                            .adadelta: 30, .adam: 0.3, .adamw: 0.3, .natural: 0.03,
                        .nadam: 0.3, .radam: 0.3, .adamax: 0.3, .asgd: 3]),
        ProblemPlan(
            settings: ProblemSettings(name: .softmax, data: "digits", standardize: true),
            title: "Softmax regression, digits (standardized)",
            steps: 500, batchSize: 64, tolerance: 0.2,
            learningRates: [.sgd: 3, .momentum: 0.3, .nesterov: 0.3, .adagrad: 0.3, .rmsprop: 0.03,
                            .adadelta: 30, .adam: 0.1, .adamw: 0.1, .natural: 1,
                        .nadam: 0.1, .radam: 0.1, .adamax: 0.1, .asgd: 3],
            naturalFisher: .empirical, naturalDamping: 0.1),
        ProblemPlan(
            settings: ProblemSettings(name: .mlp, hidden: "16", data: "digits", standardize: true),
            title: "MLP 64-16-10, digits (standardized)",
            steps: 1000, batchSize: 64, tolerance: 0.2,
            learningRates: [.sgd: 3, .momentum: 0.3, .nesterov: 1, .adagrad: 0.3, .rmsprop: 0.03,
                            .adadelta: 30, .adam: 0.1, .adamw: 0.1, .natural: 1, .kfac: 0.3,
                        .nadam: 0.1, .radam: 0.1, .adamax: 0.1, .asgd: 3],
            naturalFisher: .empirical, naturalDamping: 0.1),
        ComparisonPlan.widePerceptron,
        ComparisonPlan.autoencoder,
    ]

    /// The learning-rate grid of `--tune`.
    static func grid(_ optimizer: OptimizerName) -> [Double] {
        if optimizer == .adadelta { return [0.1, 0.3, 1, 3, 10, 30] }
        return [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10]
    }
}
