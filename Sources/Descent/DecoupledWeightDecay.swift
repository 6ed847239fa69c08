/// Decoupled weight decay (Loshchilov & Hutter, 2019) around any first-order optimizer:
///
///     θ ← θ (1 − ηλ)          (first, at the optimizer's current η)
///     θ ← base's update of θ   (its gradient taken at the θ before the decay)
///
/// the form of PyTorch's `AdamW` and of optax's `add_decayed_weights` chained after a
/// transformation. 1 − ηλ is computed in `Double` and rounded once, as torch computes it on
/// Python floats. ``AdamW`` is `DecoupledWeightDecay<Adam>` under its own checkpoint kind.
///
/// Cost: none beyond the base optimizer's. The shrink is folded into the base's fused pass
/// (``FirstOrderOptimizer/step(_:gradient:parameterScale:)``), one multiplication per element,
/// no extra pass over memory.
/// - Complexity: the base optimizer's.
public struct DecoupledWeightDecay<Base: FirstOrderOptimizer>: FirstOrderOptimizer {
    public typealias Scalar = Base.Scalar

    /// `"<base kind>+decoupled_weight_decay"`, e.g. `"sgd+decoupled_weight_decay"`.
    public static var kind: String { Base.kind + "+decoupled_weight_decay" }

    /// The optimizer whose update runs after the decay.
    public var base: Base
    /// λ ≥ 0: θ ← θ(1 − ηλ) each step.
    public var weightDecay: Scalar

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(_ base: Base, weightDecay: Scalar) throws {
        self.base = base
        self.weightDecay = weightDecay
        try validate()
    }

    /// η of the base optimizer (it also scales the decay).
    public var learningRate: Scalar {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }
    public var stepCount: Int { base.stepCount }
    public var skippedSteps: Int { base.skippedSteps }
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy {
        get { base.nonFiniteGradientPolicy }
        set { base.nonFiniteGradientPolicy = newValue }
    }
    public var stateCount: Int? { base.stateCount }

    @inlinable
    public func validate() throws {
        try base.validate()
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try base.validateState() }

    public mutating func reset() { base.reset() }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try step(parameters, gradient: gradient, parameterScale: 1)
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                              parameterScale: Scalar) throws {
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
        let shrink = Scalar(1 - decimalDouble(base.learningRate) * decimalDouble(weightDecay))
        try base.step(parameters, gradient: gradient, parameterScale: parameterScale * shrink)
    }
}
