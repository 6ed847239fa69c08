/// Gradient descent with momentum (Polyak's heavy ball), docs/lecture.md's form, with an optional
/// Nesterov look-ahead.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     v ← μ v − η g
///     θ ← θ + v                  (heavy ball)
///     θ ← θ + μ v − η g          (nesterov, with the new v)
///
/// v starts at 0. Defaults η = 1e-2, μ = 0.9, λ = 0 (docs/lecture.md's; PyTorch's SGD defaults to
/// η = 1e-3 and no momentum).
///
/// PyTorch: at a constant η this is exactly `torch.optim.SGD(lr: η, momentum: μ,
/// dampening: 0, weight_decay: λ, nesterov:, maximize:)`. PyTorch keeps the buffer
/// b ← μ b + g and steps θ ← θ − η b (nesterov: θ ← θ − η (g + μ b)), so its buffer is −v/η.
/// The two differ only when η changes between steps (a schedule): here a new η scales only
/// the new gradient's contribution, in PyTorch it rescales the whole accumulated buffer.
/// PyTorch's `dampening` is not offered. Unlike PyTorch, μ must be in [0, 1) and `nesterov`
/// requires μ > 0 (PyTorch also refuses Nesterov without momentum).
///
/// Kernel: one fused pass that reads θ, g, v and writes θ, v (40 bytes per Double parameter),
/// split across the cores for large n; no allocation after the first step (which allocates v).
/// - Complexity: O(n) per step.
public struct Momentum<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "momentum" }

    /// η ≥ 0. Default 1e-2.
    public var learningRate: Scalar
    /// μ ∈ [0, 1): the fraction of the velocity kept each step. Default 0.9.
    public var momentum: Scalar
    /// Nesterov's accelerated gradient: θ ← θ + μ v − η g. Requires μ > 0. Default false.
    public var nesterov: Bool
    /// λ ≥ 0, the L2 penalty added to the gradient. Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// The velocity v (docs/lecture.md's form: −η times PyTorch's momentum buffer at constant η).
    public var velocity: [Scalar] { v }
    @usableFromInline var v: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, momentum: Scalar = 0.9, nesterov: Bool = false,
                weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.halfOpenUnit("momentum", momentum)
        if nesterov && momentum == 0 {
            throw OptimizerError.invalidHyperparameter(name: "momentum", value: "\(momentum)",
                                                       requirement: "> 0 when nesterov is true")
        }
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { t == 0 && v.isEmpty ? nil : v.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        v = []
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
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("v", v)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil { v = Array(repeating: 0, count: n) }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        let lr = learningRate, mu = momentum
        v.withUnsafeMutableBufferPointer { vb in
            let slots = StateSlots(vb.baseAddress!)
            if nesterov {
                pass.run(MomentumRule<Scalar, FlagOn>(learningRate: lr, momentum: mu), slots)
            } else {
                pass.run(MomentumRule<Scalar, FlagOff>(learningRate: lr, momentum: mu), slots)
            }
        }
    }
}

/// v ← μ v − η g;  θ ← θ + v, or θ + μ v − η g with Nesterov. Slot: v.
@usableFromInline
struct MomentumRule<Scalar: BLASScalar, Nesterov: StaticFlag>: ElementRule {
    @usableFromInline let learningRate: Scalar
    @usableFromInline let momentum: Scalar
    @inlinable init(learningRate: Scalar, momentum: Scalar) { self.learningRate = learningRate; self.momentum = momentum }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let v = state.first
        let vi = momentum * v[i] - learningRate * g
        v[i] = vi
        theta = Nesterov.isOn ? theta + (momentum * vi - learningRate * g) : theta + vi
    }
}

extension Momentum: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("momentum", \.momentum, flag: "--momentum", group: "momentum", torch: "momentum", .halfOpenUnit, "Momentum μ: v ← μ v + g."),
         .flag("nesterov", \.nesterov, group: "nesterov", torch: "nesterov", "Nesterov's look-ahead: θ ← θ − η (g + μ v)."),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Momentum<T>() }
}
