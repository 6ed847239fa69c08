import Foundation

/// NAdam (Dozat, 2016): Adam with Nesterov momentum and a warming-up momentum schedule, with
/// PyTorch's options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ                      (coupled L2; or, decoupled:
///                                                          θ ← θ (1 − ηλ) and no λθ in g)
///     μₜ = β₁ (1 − ½ · 0.96^(t ψ)),  μₜ₊₁ = β₁ (1 − ½ · 0.96^((t + 1) ψ))
///     Πₜ = Πₜ₋₁ μₜ                                          (the μ-product, Π₀ = 1)
///     m ← β₁ m + (1 − β₁) g,   G ← β₂ G + (1 − β₂) g²
///     θ ← θ − η (1 − μₜ)/(1 − Πₜ) · g / D − η μₜ₊₁/(1 − Πₜ μₜ₊₁) · m / D,
///     D = √(G / (1 − β₂ᵗ)) + ε
///
/// t counts steps from 1, ψ is the momentum decay. Defaults η = 2e-3, β₁ = 0.9, β₂ = 0.999,
/// ε = 1e-8, ψ = 4e-3: PyTorch's `torch.optim.NAdam`, whose single-tensor implementation it
/// matches operation for operation: m ← lerp(m, g, 1 − β₁), G ← β₂ G + (1 − β₂) g g,
/// D = √(G / c₂) + ε, θ ← θ + c_g g / D, then θ ← θ + c_m m / D (two rounded additions, as torch's
/// two `addcdiv_`). μₜ, μₜ₊₁, 1 − β₂ᵗ and the two coefficients c_g = −η (1 − μₜ)/(1 − Πₜ),
/// c_m = −η μₜ₊₁/(1 − Πₜ μₜ₊₁) are computed in `Double` from the hyperparameters' decimals and
/// rounded once, as torch computes them in Python floats; the μ-product Π is state kept in
/// `Scalar` (torch keeps it in a tensor of the default dtype, the parameters' in the usual
/// setup) and multiplied by μₜ rounded to `Scalar`, as torch's `mu_product *= mu`.
///
/// Kernel: one fused pass that reads θ, g, m, G and writes θ, m, G (48 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step.
/// Error: each element's update is torch's sequence of roundings; per step ≤ a few ulp from
/// the exact formula in the working precision.
/// - Complexity: O(n) per step.
public struct NAdam<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "nadam" }

    /// η ≥ 0. Default 2e-3.
    public var learningRate: Scalar
    /// β₁ ∈ [0, 1): decay of the first moment m. Default 0.9.
    public var beta1: Scalar
    /// β₂ ∈ [0, 1): decay of the second moment G. Default 0.999.
    public var beta2: Scalar
    /// ε > 0, added to √(G / (1 − β₂ᵗ)). Default 1e-8 (torch also accepts 0).
    public var epsilon: Scalar
    /// λ ≥ 0: the L2 penalty (coupled, added to g) or, with ``decoupledWeightDecay``, the
    /// shrink θ ← θ (1 − ηλ) before the step. Default 0.
    public var weightDecay: Scalar
    /// ψ ≥ 0: the momentum decay of the μ schedule. Default 4e-3.
    public var momentumDecay: Scalar
    /// Decouple the weight decay from the gradient (torch's `decoupled_weight_decay`,
    /// "NAdamW"). Default false.
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
    /// Πₜ = μ₁ ⋯ μₜ, in `Scalar` as torch's `mu_product` (1 before the first step).
    public var muProduct: Scalar { Pi }
    @usableFromInline var m: [Scalar] = []
    @usableFromInline var G: [Scalar] = []
    @usableFromInline var Pi: Scalar = 1

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 2e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, momentumDecay: Scalar = 4e-3, decoupledWeightDecay: Bool = false,
                maximize: Bool = false, nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentumDecay = momentumDecay
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
        try Hyperparameter.nonNegative("momentumDecay", momentumDecay)
    }

    /// The core's checks, and Π finite in [0, 1] (exactly 1 before the first step).
    public func validateState() throws {
        try validateCoreState()
        guard Pi.isFinite, Pi >= 0, Pi <= 1, stateCount != nil || Pi == 1 else {
            throw OptimizerError.corruptCheckpoint("muProduct = \(Pi) is not a product of momenta in [0, 1)")
        }
    }

    public var stateCount: Int? { t == 0 && m.isEmpty ? nil : m.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        m = []
        G = []
        Pi = 1
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
            Pi = 1
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // The step's scalars in Double, as torch's Python floats (t is the new step's count).
        let step = Double(t)
        let b1 = decimalDouble(beta1), b2 = decimalDouble(beta2), psi = decimalDouble(momentumDecay)
        let lr = decimalDouble(learningRate)
        let correction2 = 1 - Foundation.pow(b2, step)
        let mu = b1 * (1.0 - 0.5 * Foundation.pow(0.96, step * psi))
        let muNext = b1 * (1.0 - 0.5 * Foundation.pow(0.96, (step + 1) * psi))
        // mu_product *= mu: a Scalar tensor times the Python float rounded to Scalar.
        Pi = Pi * Scalar(mu)
        let product = Double(Pi)
        let gradientCoefficient = Scalar(-lr * (1.0 - mu) / (1.0 - product))
        let momentumCoefficient = Scalar((-lr * muNext) / (1.0 - product * muNext))
        let rule = NAdamRule<Scalar>(weight1: Scalar(1 - b1), beta2: beta2, weight2: Scalar(1 - b2),
                                     correction2: Scalar(correction2), epsilon: epsilon,
                                     gradientCoefficient: gradientCoefficient,
                                     momentumCoefficient: momentumCoefficient)
        m.withUnsafeMutableBufferPointer { mb in
            G.withUnsafeMutableBufferPointer { vb in
                pass.run(rule, StateSlots(mb.baseAddress!, vb.baseAddress!))
            }
        }
    }
}

/// torch's single-tensor NAdam, per element. Slots: m, G.
///
///     m ← lerp(m, g, w₁),   G ← β₂ G + w₂ g g,   D = √(G / c₂) + ε
///     θ ← θ + c_g g / D,    θ ← θ + c_m m / D
@usableFromInline
struct NAdamRule<Scalar: BLASScalar>: ElementRule {
    @usableFromInline let weight1, beta2, weight2, correction2, epsilon, gradientCoefficient, momentumCoefficient: Scalar
    @inlinable init(weight1: Scalar, beta2: Scalar, weight2: Scalar, correction2: Scalar, epsilon: Scalar,
                    gradientCoefficient: Scalar, momentumCoefficient: Scalar) {
        self.weight1 = weight1; self.beta2 = beta2; self.weight2 = weight2; self.correction2 = correction2
        self.epsilon = epsilon; self.gradientCoefficient = gradientCoefficient
        self.momentumCoefficient = momentumCoefficient
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let m = state.first, v = state.second
        let mi = torchLerp(m[i], g, weight: weight1)
        let vi = beta2 * v[i] + weight2 * g * g
        m[i] = mi
        v[i] = vi
        let denominator = (vi / correction2).nonNegativeSquareRoot + epsilon
        theta = theta + gradientCoefficient * g / denominator
        theta = theta + momentumCoefficient * mi / denominator
    }
}

extension NAdam: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("beta1", \.beta1, flag: "--beta1", group: "beta1", torch: "betas[0]", .halfOpenUnit, "β₁, decay of the first moment."),
         .number("beta2", \.beta2, flag: "--beta2", group: "beta2", torch: "betas[1]", .halfOpenUnit, "β₂, decay of the second moment."),
         .epsilon(\.epsilon, "ε of the denominator √Ĝ + ε."),
         .weightDecay(\.weightDecay),
         .number("momentumDecay", \.momentumDecay, flag: "--momentum-decay", group: "momentum-decay", torch: "momentum_decay",
                 .nonNegative, "ψ of the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ))."),
         .flag("decoupledWeightDecay", \.decoupledWeightDecay, flag: "--decoupled-weight-decay", group: "decoupled-weight-decay",
               torch: "decoupled_weight_decay", "Weight decay as θ ← θ(1 − ηλ) instead of L2 in the gradient.")]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try NAdam<T>() }
}
