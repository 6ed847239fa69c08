import Foundation

/// Rprop (Riedmiller & Braun, 1993), resilient backpropagation in PyTorch's variant: a per-element
/// step size that grows while the gradient keeps its sign and shrinks when it flips; only the
/// gradient's sign moves θ.
///
///     g ← maximize ? −∇L : ∇L
///     f = η₊ if g g₋ > 0,  η₋ if g g₋ < 0,  1 otherwise      (g₋: the previous step's g)
///     δ ← clamp(δ f, δ_min, δ_max)
///     g ← 0 where f = η₋                                      (no move after a sign flip)
///     θ ← θ − sign(g) δ,   g₋ ← g
///
/// δ starts at η (the learning rate is only the initial step size: changing it after the first
/// step, by a schedule or a group override, has no effect, as in torch), g₋ at 0. Defaults
/// η = 1e-2, (η₋, η₊) = (0.5, 1.2), (δ_min, δ_max) = (1e-6, 50): PyTorch's `torch.optim.Rprop`,
/// whose single-tensor implementation it matches operation for operation (the product g g₋ in
/// the working precision, so an underflow to 0 means "no sign", as in torch; torch's sign of a
/// NaN is 0, so under ``NonFiniteGradientPolicy/unchecked`` a NaN gradient element leaves θ and
/// δ where they are and only g₋ becomes NaN, as in torch). A sign-based
/// method: meant for full batches (minibatch noise flips the signs at random).
///
/// Kernel: one fused pass that reads θ, g, g₋, δ and writes θ, g₋, δ (48 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step.
/// Exact: every operation is a multiplication by a hyperparameter, a comparison or a clamp.
/// - Complexity: O(n) per step.
public struct Rprop<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "rprop" }

    /// η ≥ 0: the initial step size δ of every element. Default 1e-2.
    public var learningRate: Scalar
    /// η₋ ∈ (0, 1): the factor applied to δ after a sign flip. Default 0.5.
    public var etaMinus: Scalar
    /// η₊ > 1 (finite): the factor applied to δ while the sign holds. Default 1.2.
    public var etaPlus: Scalar
    /// δ_min ≥ 0: the smallest step size. Default 1e-6.
    public var minimumStepSize: Scalar
    /// δ_max ≥ δ_min (finite): the largest step size. Default 50.
    public var maximumStepSize: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// The previous step's gradient g₋ (0 where it flipped sign); torch's `prev`.
    public var previousGradient: [Scalar] { previous }
    /// The per-element step sizes δ; torch's `step_size`.
    public var stepSizes: [Scalar] { delta }
    @usableFromInline var previous: [Scalar] = []
    @usableFromInline var delta: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, etaMinus: Scalar = 0.5, etaPlus: Scalar = 1.2,
                minimumStepSize: Scalar = 1e-6, maximumStepSize: Scalar = 50, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.etaMinus = etaMinus
        self.etaPlus = etaPlus
        self.minimumStepSize = minimumStepSize
        self.maximumStepSize = maximumStepSize
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    /// torch checks η ≥ 0 and 0 < η₋ < 1 < η₊; the step-size bounds it leaves unchecked
    /// (δ_min > δ_max makes its clamp return δ_max), and the infinities, are refused here too.
    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        guard etaMinus > 0, etaMinus < 1 else {
            throw OptimizerError.invalidHyperparameter(name: "etaMinus", value: "\(etaMinus)", requirement: "in (0, 1)")
        }
        guard etaPlus > 1, etaPlus.isFinite else {
            throw OptimizerError.invalidHyperparameter(name: "etaPlus", value: "\(etaPlus)", requirement: "finite and > 1")
        }
        try Hyperparameter.nonNegative("minimumStepSize", minimumStepSize)
        guard maximumStepSize >= minimumStepSize, maximumStepSize.isFinite else {
            throw OptimizerError.invalidHyperparameter(name: "maximumStepSize", value: "\(maximumStepSize)",
                                                       requirement: "finite and ≥ minimumStepSize (\(minimumStepSize))")
        }
    }

    /// The core's checks, and every step size ≥ 0.
    public func validateState() throws {
        try validateCoreState()
        if let i = delta.firstIndex(where: { $0 < 0 }) {
            throw OptimizerError.corruptCheckpoint("buffer delta element \(i) is \(delta[i]), a step size must be ≥ 0")
        }
    }

    public var stateCount: Int? { t == 0 && previous.isEmpty ? nil : previous.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        previous = []
        delta = []
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

    @inlinable var coupledWeightDecay: Scalar { 0 }
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] {
        [StateBuffer("previous", previous), StateBuffer("delta", delta)]
    }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            previous = Array(repeating: 0, count: n)
            delta = Array(repeating: learningRate, count: n)
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        let rule = RpropRule<Scalar>(etaMinus: etaMinus, etaPlus: etaPlus, minimum: minimumStepSize,
                                     maximum: maximumStepSize)
        previous.withUnsafeMutableBufferPointer { pb in
            delta.withUnsafeMutableBufferPointer { db in
                pass.run(rule, StateSlots(pb.baseAddress!, db.baseAddress!))
            }
        }
    }
}

/// torch's single-tensor Rprop, per element. Slots: g₋, δ.
///
///     s = g g₋;  f = η₊ (s > 0), η₋ (s < 0), 1 otherwise (0 or NaN)
///     δ ← min(max(δ f, δ_min), δ_max);   g ← f = η₋ ? 0 : g
///     θ ← θ − sign(g) δ;   g₋ ← g
@usableFromInline
struct RpropRule<Scalar: BLASScalar>: ElementRule {
    @usableFromInline let etaMinus, etaPlus, minimum, maximum: Scalar
    @inlinable init(etaMinus: Scalar, etaPlus: Scalar, minimum: Scalar, maximum: Scalar) {
        self.etaMinus = etaMinus; self.etaPlus = etaPlus; self.minimum = minimum; self.maximum = maximum
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let previous = state.first, delta = state.second
        let product = g * previous[i]
        // torch: sign(g g₋), then >0 → η₊, <0 → η₋, 0 → 1; torch's sign of a NaN is 0, so a NaN
        // product also gives 1.
        let factor: Scalar = product > 0 ? etaPlus : (product < 0 ? etaMinus : 1)
        let size = Swift.min(Swift.max(delta[i] * factor, minimum), maximum)
        let direction = factor == etaMinus ? 0 : g
        // torch.sign: ±1, and 0 for ±0 and NaN (a NaN gradient leaves θ where it is).
        let sign: Scalar = direction > 0 ? 1 : (direction < 0 ? -1 : 0)
        delta[i] = size
        previous[i] = direction
        theta = theta - sign * size
    }
}

extension Rprop: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate, "Initial step size δ₀ (torch's lr)."),
         .number("etaMinus", \.etaMinus, flag: "--eta-minus", group: "eta-minus", torch: "etas[0]", .positive, "η₋, the step-size factor on a sign change."),
         .number("etaPlus", \.etaPlus, flag: "--eta-plus", group: "eta-plus", torch: "etas[1]", .positive, "η₊, the step-size factor on an equal sign."),
         .number("minimumStepSize", \.minimumStepSize, flag: "--step-size-min", group: "step-size-min", torch: "step_sizes[0]",
                 .nonNegative, "δ_min, the smallest step size."),
         .number("maximumStepSize", \.maximumStepSize, flag: "--step-size-max", group: "step-size-max", torch: "step_sizes[1]",
                 .positive, "δ_max, the largest step size.")]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Rprop<T>() }
}
