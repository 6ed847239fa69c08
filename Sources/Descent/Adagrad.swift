/// Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps scaled by the accumulated
/// squared gradients.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     G ← G + g²                                  (G starts at initialAccumulatorValue)
///     θ ← θ − η_t g / (√G + ε),   η_t = η / (1 + (t − 1) · learningRateDecay)
///
/// t counts steps from 1. Defaults η = 1e-2, ε = 1e-10, learningRateDecay = 0,
/// initialAccumulatorValue = 0, λ = 0: the same as PyTorch's `torch.optim.Adagrad(lr:,
/// lr_decay:, weight_decay:, initial_accumulator_value:, eps:, maximize:)`, whose
/// single-tensor implementation it matches. η_t is computed in `Double` and rounded once.
///
/// Kernel: one fused pass that reads θ, g, G and writes θ, G (40 bytes per Double parameter),
/// split across the cores for large n; no allocation after the first step (which allocates G).
/// - Complexity: O(n) per step.
public struct Adagrad<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "adagrad" }

    /// η ≥ 0. Default 1e-2.
    public var learningRate: Scalar
    /// ≥ 0: η_t = η / (1 + (t − 1) · learningRateDecay), PyTorch's `lr_decay`. Default 0.
    public var learningRateDecay: Scalar
    /// ≥ 0: the value G starts from, PyTorch's `initial_accumulator_value`. Read when the
    /// state is allocated (the first step, or the first after ``reset()``). Default 0.
    public var initialAccumulatorValue: Scalar
    /// ε > 0, added to √G. Default 1e-10.
    public var epsilon: Scalar
    /// λ ≥ 0, the L2 penalty added to the gradient. Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// The accumulated squared gradients G (PyTorch's `sum`).
    public var sumOfSquares: [Scalar] { G }
    @usableFromInline var G: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, learningRateDecay: Scalar = 0, initialAccumulatorValue: Scalar = 0,
                epsilon: Scalar = 1e-10, weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.nonNegative("learningRateDecay", learningRateDecay)
        try Hyperparameter.nonNegative("initialAccumulatorValue", initialAccumulatorValue)
        try Hyperparameter.positive("epsilon", epsilon)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
    }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try coreStep(parameters, gradient: gradient, parameterScale: 1)
    }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                              parameterScale: Scalar) throws {
        try coreStep(parameters, gradient: gradient, parameterScale: parameterScale)
    }

    // MARK: Core

    @inlinable var coupledWeightDecay: Scalar { weightDecay }
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("G", G)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil { G = Array(repeating: initialAccumulatorValue, count: n) }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // η_t in Double, rounded once (t is already the new step's count).
        let rate = Scalar(decimalDouble(learningRate) / (1 + Double(t - 1) * decimalDouble(learningRateDecay)))
        let rule = AdagradRule(rate: rate, epsilon: epsilon)
        G.withUnsafeMutableBufferPointer { pass.run(rule, StateSlots($0.baseAddress!)) }
    }
}

/// G ← G + g²;  θ ← θ − η_t g / (√G + ε). Slot: G.
@usableFromInline
struct AdagradRule<Scalar: BLASScalar>: ElementRule {
    @usableFromInline let rate: Scalar
    @usableFromInline let epsilon: Scalar
    @inlinable init(rate: Scalar, epsilon: Scalar) { self.rate = rate; self.epsilon = epsilon }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let G = state.first
        let Gi = G[i] + g * g
        G[i] = Gi
        theta = theta - rate * g / (Gi.nonNegativeSquareRoot + epsilon)
    }
}

extension Adagrad: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("learningRateDecay", \.learningRateDecay, flag: "--lr-decay", group: "lr-decay", torch: "lr_decay", .nonNegative,
                 "Decay of η: η_t = η / (1 + (t − 1) · decay)."),
         .number("initialAccumulatorValue", \.initialAccumulatorValue, flag: "--initial-accumulator", group: "initial-accumulator",
                 torch: "initial_accumulator_value", .nonNegative, "Initial value of the sum of squared gradients G."),
         .epsilon(\.epsilon, "ε of the denominator √G + ε."),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Adagrad<T>() }
}
