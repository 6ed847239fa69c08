import Foundation

/// RAdam (Liu et al., 2020): Adam whose adaptive step is switched on only once the variance of
/// the second moment's estimate is tractable, and rectified, with PyTorch's options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ                      (coupled L2; or, decoupled:
///                                                          θ ← θ (1 − ηλ) and no λθ in g)
///     m ← β₁ m + (1 − β₁) g,   G ← β₂ G + (1 − β₂) g²,   m̂ = m / (1 − β₁ᵗ)
///     ρ∞ = 2 / (1 − β₂) − 1,   ρₜ = ρ∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
///     ρₜ > 5:  θ ← θ − η m̂ · √(1 − β₂ᵗ) / (√G + ε) · r,   r = √((ρₜ − 4)(ρₜ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρₜ))
///     else:    θ ← θ − η m̂                                  (plain momentum while ρₜ ≤ 5)
///
/// t counts steps from 1. Defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8: PyTorch's
/// `torch.optim.RAdam`, whose single-tensor implementation it matches operation for operation:
/// m ← lerp(m, g, 1 − β₁), G ← β₂ G + (1 − β₂) g g, m̂ = m / c₁, and
/// θ ← θ − ((m̂ · η) · ((1 / (√G + ε)) · √c₂)) · r (left to right, as torch's expression; its
/// `float / tensor` is a reciprocal and a multiplication), where
/// 1 − β₁ᵗ, √(1 − β₂ᵗ), ρₜ and r are computed in `Double` from the hyperparameters' decimals
/// and rounded once, as torch computes them in Python floats. With the default β₂ = 0.999,
/// ρₜ > 5 from t = 6 on.
///
/// Kernel: one fused pass that reads θ, g, m, G and writes θ, m, G (48 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step.
/// - Complexity: O(n) per step.
public struct RAdam<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "radam" }

    /// η ≥ 0. Default 1e-3.
    public var learningRate: Scalar
    /// β₁ ∈ [0, 1): decay of the first moment m. Default 0.9.
    public var beta1: Scalar
    /// β₂ ∈ [0, 1): decay of the second moment G. Default 0.999.
    public var beta2: Scalar
    /// ε > 0, added to √G. Default 1e-8 (torch also accepts 0).
    public var epsilon: Scalar
    /// λ ≥ 0: the L2 penalty (coupled, added to g) or, with ``decoupledWeightDecay``, the
    /// shrink θ ← θ (1 − ηλ) before the step. Default 0.
    public var weightDecay: Scalar
    /// Decouple the weight decay from the gradient (torch's `decoupled_weight_decay`,
    /// "RAdamW"). Default false.
    public var decoupledWeightDecay: Bool
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// First moment m.
    public var firstMoment: [Scalar] { m }
    /// Second moment G.
    public var secondMoment: [Scalar] { G }
    @usableFromInline var m: [Scalar] = []
    @usableFromInline var G: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, decoupledWeightDecay: Bool = false, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.halfOpenUnit("beta1", beta1)
        try Hyperparameter.halfOpenUnit("beta2", beta2)
        try Hyperparameter.positive("epsilon", epsilon)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { t == 0 && m.isEmpty ? nil : m.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        m = []
        G = []
    }

    /// ρₜ of step `t` (t ≥ 1), computed as torch computes it; the step is rectified when it
    /// exceeds 5.
    public func rho(atStep t: Int) -> Double {
        let b2 = decimalDouble(beta2), step = Double(t)
        let rhoInfinity = 2 / (1 - b2) - 1
        return rhoInfinity - 2 * step * Foundation.pow(b2, step) / (1 - Foundation.pow(b2, step))
    }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try step(parameters, gradient: gradient, parameterScale: 1)
    }

    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                              parameterScale: Scalar) throws {
        try validate()
        // torch: param.mul_(1 - lr * weight_decay), the factor in Python floats.
        let shrink = decoupledWeightDecay && weightDecay != 0
            ? Scalar(1 - decimalDouble(learningRate) * decimalDouble(weightDecay)) : 1
        try coreStep(parameters, gradient: gradient, parameterScale: parameterScale * shrink)
    }

    // MARK: Core

    @inlinable var coupledWeightDecay: Scalar { decoupledWeightDecay ? 0 : weightDecay }
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("m", m), StateBuffer("G", G)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            m = Array(repeating: 0, count: n)
            G = Array(repeating: 0, count: n)
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // The step's scalars in Double, as torch's Python floats (t is the new step's count).
        let step = Double(t)
        let b1 = decimalDouble(beta1), b2 = decimalDouble(beta2)
        let correction1 = 1 - Foundation.pow(b1, step)
        let power2 = Foundation.pow(b2, step)
        let correction2 = 1 - power2
        let rhoInfinity = 2 / (1 - b2) - 1
        let rhoT = rhoInfinity - 2 * step * power2 / correction2
        let w1 = Scalar(1 - b1), w2 = Scalar(1 - b2), lr = learningRate
        m.withUnsafeMutableBufferPointer { mb in
            G.withUnsafeMutableBufferPointer { vb in
                let slots = StateSlots(mb.baseAddress!, vb.baseAddress!)
                if rhoT > 5.0 {
                    let rectification = Foundation.pow(
                        (rhoT - 4) * (rhoT - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rhoT), 0.5)
                    pass.run(RAdamRule<Scalar, FlagOn>(
                        weight1: w1, beta2: beta2, weight2: w2, correction1: Scalar(correction1), learningRate: lr,
                        correction2Root: Scalar(Foundation.pow(correction2, 0.5)), epsilon: epsilon,
                        rectification: Scalar(rectification)), slots)
                } else {
                    pass.run(RAdamRule<Scalar, FlagOff>(
                        weight1: w1, beta2: beta2, weight2: w2, correction1: Scalar(correction1), learningRate: lr,
                        correction2Root: 1, epsilon: epsilon, rectification: 1), slots)
                }
            }
        }
    }
}

/// torch's single-tensor RAdam, per element. Slots: m, G.
///
///     m ← lerp(m, g, w₁),   G ← β₂ G + w₂ g g,   m̂ = m / c₁
///     rectified:   θ ← θ − ((m̂ η) ((1 / (√G + ε)) √c₂)) r
///     otherwise:   θ ← θ − m̂ η
@usableFromInline
struct RAdamRule<Scalar: BLASScalar, Rectified: StaticFlag>: ElementRule {
    @usableFromInline let weight1, beta2, weight2, correction1, learningRate, correction2Root, epsilon, rectification: Scalar
    @inlinable init(weight1: Scalar, beta2: Scalar, weight2: Scalar, correction1: Scalar, learningRate: Scalar,
                    correction2Root: Scalar, epsilon: Scalar, rectification: Scalar) {
        self.weight1 = weight1; self.beta2 = beta2; self.weight2 = weight2; self.correction1 = correction1
        self.learningRate = learningRate; self.correction2Root = correction2Root; self.epsilon = epsilon
        self.rectification = rectification
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let m = state.first, v = state.second
        let mi = torchLerp(m[i], g, weight: weight1)
        let vi = beta2 * v[i] + weight2 * g * g
        m[i] = mi
        v[i] = vi
        let corrected = mi / correction1
        if Rectified.isOn {
            // torch's `float / tensor` is reciprocal(tensor) · float: two roundings.
            let adaptive = 1 / (vi.nonNegativeSquareRoot + epsilon) * correction2Root
            theta = theta - corrected * learningRate * adaptive * rectification
        } else {
            theta = theta - corrected * learningRate
        }
    }
}

extension RAdam: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("beta1", \.beta1, flag: "--beta1", group: "beta1", torch: "betas[0]", .halfOpenUnit, "β₁, decay of the first moment."),
         .number("beta2", \.beta2, flag: "--beta2", group: "beta2", torch: "betas[1]", .halfOpenUnit, "β₂, decay of the second moment."),
         .epsilon(\.epsilon, "ε of the denominator √G + ε."),
         .weightDecay(\.weightDecay),
         .flag("decoupledWeightDecay", \.decoupledWeightDecay, flag: "--decoupled-weight-decay", group: "decoupled-weight-decay",
               torch: "decoupled_weight_decay", "Weight decay as θ ← θ(1 − ηλ) instead of L2 in the gradient.")]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try RAdam<T>() }
}
