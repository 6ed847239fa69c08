/// AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.
///
///     θ ← θ (1 − ηλ)                                   (decoupled weight decay, first)
///     g ← maximize ? −∇L : ∇L
///     m ← lerp(m, g, 1 − β₁)
///     G ← β₂ G + (1 − β₂) g²
///     Ĝ ← amsgrad ? (Gmax ← max(Gmax, G)) : G
///     θ ← θ − η m̂ / (√Ĝ' + ε),   m̂ = m / (1 − β₁ᵗ),  Ĝ' = Ĝ / (1 − β₂ᵗ)
///
/// t counts steps from 1. Defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 1e-2: PyTorch's
/// `torch.optim.AdamW`, whose single-tensor implementation it matches. The decay is scaled by
/// η (PyTorch's convention), not by η / η₀ as in the paper's schedule multiplier.
///
/// Built from ``Adam`` (without its coupled decay) and the ``DecoupledWeightDecay`` modifier,
/// whose shrink by 1 − ηλ is folded into Adam's fused pass: it costs exactly what Adam costs.
/// Its checkpoint holds the same fields as Adam's (`weightDecay` being the decoupled λ) under
/// the kind `"adamw"`.
/// - Complexity: O(n) per step.
public struct AdamW<Scalar: BLASScalar>: FirstOrderOptimizer {
    public static var kind: String { "adamw" }

    /// Adam with no coupled decay, inside the modifier.
    @usableFromInline var core: DecoupledWeightDecay<Adam<Scalar>>

    /// η ≥ 0. Default 1e-3.
    public var learningRate: Scalar {
        get { core.base.learningRate }
        set { core.base.learningRate = newValue }
    }
    /// β₁ ∈ [0, 1). Default 0.9.
    public var beta1: Scalar {
        get { core.base.beta1 }
        set { core.base.beta1 = newValue }
    }
    /// β₂ ∈ [0, 1). Default 0.999.
    public var beta2: Scalar {
        get { core.base.beta2 }
        set { core.base.beta2 = newValue }
    }
    /// ε > 0. Default 1e-8.
    public var epsilon: Scalar {
        get { core.base.epsilon }
        set { core.base.epsilon = newValue }
    }
    /// λ ≥ 0: θ ← θ(1 − ηλ) each step. Default 1e-2.
    public var weightDecay: Scalar {
        get { core.weightDecay }
        set { core.weightDecay = newValue }
    }
    /// Use the running maximum of G, as PyTorch's `amsgrad`. Default false.
    public var amsgrad: Bool {
        get { core.base.amsgrad }
        set { core.base.amsgrad = newValue }
    }
    /// Ascend instead of descend (the decay still shrinks θ toward 0).
    public var maximize: Bool {
        get { core.base.maximize }
        set { core.base.maximize = newValue }
    }
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy {
        get { core.nonFiniteGradientPolicy }
        set { core.nonFiniteGradientPolicy = newValue }
    }

    public var stepCount: Int { core.stepCount }
    public var skippedSteps: Int { core.skippedSteps }
    /// First moment m.
    public var firstMoment: [Scalar] { core.base.firstMoment }
    /// Second moment G.
    public var secondMoment: [Scalar] { core.base.secondMoment }
    /// Running maximum of G (AMSGrad only; empty otherwise).
    public var maxSecondMoment: [Scalar] { core.base.maxSecondMoment }

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 1e-2, amsgrad: Bool = false, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        core = try DecoupledWeightDecay(
            Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0,
                 amsgrad: amsgrad, maximize: maximize, nonFiniteGradientPolicy: nonFiniteGradientPolicy),
            weightDecay: weightDecay)
    }

    /// Decodes Adam's fields, `weightDecay` being the decoupled λ (the checkpoint's kind,
    /// checked by ``Checkpoint``, says "adamw").
    public init(from decoder: Decoder) throws {
        var adam = try Adam<Scalar>(from: decoder)
        let decay = adam.weightDecay
        adam.weightDecay = 0
        core = try DecoupledWeightDecay(adam, weightDecay: decay)
    }

    public func encode(to encoder: Encoder) throws {
        var adam = core.base
        adam.weightDecay = core.weightDecay
        try adam.encode(to: encoder)
    }

    @inlinable public func validate() throws { try core.validate() }
    public func validateState() throws { try core.validateState() }
    public var stateCount: Int? { core.stateCount }
    public mutating func reset() { core.reset() }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try core.step(parameters, gradient: gradient)
    }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                              parameterScale: Scalar) throws {
        try core.step(parameters, gradient: gradient, parameterScale: parameterScale)
    }
}

extension AdamW: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        Adam<Scalar>.adamHyperparameters(\.beta1, \.beta2, \.epsilon, \.amsgrad, learningRate: \.learningRate,
                                         weightDecay: .weightDecay(\.weightDecay, "Decoupled weight decay λ: θ ← θ (1 − ηλ)."))
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try AdamW<T>() }
}
