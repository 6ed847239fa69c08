/// AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.
///
///     θ ← θ (1 − ηλ)                                   (decoupled weight decay, first)
///     g ← maximize ? −∇L : ∇L
///     m ← β₁ m + (1 − β₁) g
///     G ← β₂ G + (1 − β₂) g²
///     Ĝ ← amsgrad ? (Gmax ← max(Gmax, G)) : G
///     θ ← θ − η m̂ / (√Ĝ' + ε),   m̂ = m / (1 − β₁ᵗ),  Ĝ' = Ĝ / (1 − β₂ᵗ)
///
/// t counts steps from 1. Defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 1e-2: PyTorch's
/// `torch.optim.AdamW`, whose single-tensor implementation it matches. The decay is scaled by
/// η (PyTorch's convention), not by η / η₀ as in the paper's schedule multiplier.
///
/// Runs ``Adam``'s fused kernel (the shrink by 1 − ηλ folded into the same pass), so it costs
/// exactly what Adam costs. Its checkpoint holds the same fields as Adam's under the kind
/// `"adamw"`.
/// - Complexity: O(n) per step.
public struct AdamW<Scalar: BLASScalar>: Optimizer {
    public static var kind: String { "adamw" }

    @usableFromInline var base: Adam<Scalar>

    /// η ≥ 0. Default 1e-3.
    public var learningRate: Scalar {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }
    /// β₁ ∈ [0, 1). Default 0.9.
    public var beta1: Scalar {
        get { base.beta1 }
        set { base.beta1 = newValue }
    }
    /// β₂ ∈ [0, 1). Default 0.999.
    public var beta2: Scalar {
        get { base.beta2 }
        set { base.beta2 = newValue }
    }
    /// ε > 0. Default 1e-8.
    public var epsilon: Scalar {
        get { base.epsilon }
        set { base.epsilon = newValue }
    }
    /// λ ≥ 0: θ ← θ(1 − ηλ) each step. Default 1e-2.
    public var weightDecay: Scalar {
        get { base.weightDecay }
        set { base.weightDecay = newValue }
    }
    /// Use the running maximum of G, as PyTorch's `amsgrad`. Default false.
    public var amsgrad: Bool {
        get { base.amsgrad }
        set { base.amsgrad = newValue }
    }
    /// Ascend instead of descend (the decay still shrinks θ toward 0).
    public var maximize: Bool {
        get { base.maximize }
        set { base.maximize = newValue }
    }
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy {
        get { base.nonFiniteGradientPolicy }
        set { base.nonFiniteGradientPolicy = newValue }
    }

    public var stepCount: Int { base.stepCount }
    public var skippedSteps: Int { base.skippedSteps }
    /// First moment m.
    public var firstMoment: [Scalar] { base.firstMoment }
    /// Second moment G.
    public var secondMoment: [Scalar] { base.secondMoment }
    /// Running maximum of G (AMSGrad only; empty otherwise).
    public var maxSecondMoment: [Scalar] { base.maxSecondMoment }

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 1e-2, amsgrad: Bool = false, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        base = try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        weightDecay: weightDecay, amsgrad: amsgrad, maximize: maximize,
                        nonFiniteGradientPolicy: nonFiniteGradientPolicy)
        base.decoupledWeightDecay = true
    }

    /// Decodes Adam's fields (the checkpoint's kind, checked by ``Checkpoint``, says "adamw").
    public init(from decoder: Decoder) throws {
        base = try Adam(from: decoder)
        base.decoupledWeightDecay = true
    }

    public func encode(to encoder: Encoder) throws {
        try base.encode(to: encoder)
    }

    @inlinable public func validate() throws { try base.validate() }
    public func validateState() throws { try base.validateState() }
    public var stateCount: Int? { base.stateCount }
    public mutating func reset() { base.reset() }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try base.step(parameters, gradient: gradient)
    }
}
