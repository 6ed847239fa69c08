import Foundation

/// Adamax (Kingma & Ba, 2015, §7.1): Adam with the second moment replaced by an exponentially
/// weighted infinity norm, with PyTorch's options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ                 (L2 weight decay, coupled)
///     m ← β₁ m + (1 − β₁) g
///     u ← max(β₂ u, |g| + ε)
///     θ ← θ − η / (1 − β₁ᵗ) · m / u
///
/// t counts steps from 1. Defaults η = 2e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8: PyTorch's
/// `torch.optim.Adamax`, whose single-tensor implementation it matches operation for operation:
/// m ← lerp(m, g, 1 − β₁), u ← maximum(u β₂, |g| + ε) (a NaN in either propagates, as
/// `torch.maximum`), θ ← θ + (−s m) / u with s = η / (1 − β₁ᵗ) computed in `Double` from the
/// hyperparameters' decimals and rounded once, as torch computes it in Python floats.
/// u ≥ ε > 0 after the first step, so the quotient is always defined (torch also accepts ε = 0,
/// where a zero gradient coordinate on the first step gives 0/0).
///
/// Kernel: one fused pass that reads θ, g, m, u and writes θ, m, u (48 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step.
/// - Complexity: O(n) per step.
public struct Adamax<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "adamax" }

    /// η ≥ 0. Default 2e-3.
    public var learningRate: Scalar
    /// β₁ ∈ [0, 1): decay of the first moment m. Default 0.9.
    public var beta1: Scalar
    /// β₂ ∈ [0, 1): decay of the infinity norm u. Default 0.999.
    public var beta2: Scalar
    /// ε > 0, added to |g| before the maximum. Default 1e-8.
    public var epsilon: Scalar
    /// λ ≥ 0: L2 penalty added to the gradient (coupled, as torch's `weight_decay`). Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// First moment m.
    public var firstMoment: [Scalar] { m }
    /// Exponentially weighted infinity norm u (torch's `exp_inf`).
    public var infinityNorm: [Scalar] { u }
    @usableFromInline var m: [Scalar] = []
    @usableFromInline var u: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 2e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
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
        u = []
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
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("m", m), StateBuffer("u", u)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            m = Array(repeating: 0, count: n)
            u = Array(repeating: 0, count: n)
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // clr = lr / (1 - beta1 ** step) in Python floats (t is the new step's count).
        let b1 = decimalDouble(beta1)
        let stepSize = Scalar(decimalDouble(learningRate) / (1 - Foundation.pow(b1, Double(t))))
        let rule = AdamaxRule<Scalar>(weight1: Scalar(1 - b1), beta2: beta2, epsilon: epsilon, stepSize: stepSize)
        m.withUnsafeMutableBufferPointer { mb in
            u.withUnsafeMutableBufferPointer { ub in
                pass.run(rule, StateSlots(mb.baseAddress!, ub.baseAddress!))
            }
        }
    }
}

/// torch's single-tensor Adamax, per element. Slots: m, u.
///
///     m ← lerp(m, g, w₁),   u ← maximum(u β₂, |g| + ε),   θ ← θ − s m / u
@usableFromInline
struct AdamaxRule<Scalar: BLASScalar>: ElementRule {
    @usableFromInline let weight1, beta2, epsilon, stepSize: Scalar
    @inlinable init(weight1: Scalar, beta2: Scalar, epsilon: Scalar, stepSize: Scalar) {
        self.weight1 = weight1; self.beta2 = beta2; self.epsilon = epsilon; self.stepSize = stepSize
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let m = state.first, u = state.second
        let mi = torchLerp(m[i], g, weight: weight1)
        let decayed = u[i] * beta2, bound = Swift.abs(g) + epsilon
        // torch.maximum: the larger, or NaN when either is NaN.
        let ui = decayed > bound || decayed.isNaN ? decayed : bound
        m[i] = mi
        u[i] = ui
        theta = theta - stepSize * mi / ui
    }
}

extension Adamax: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("beta1", \.beta1, flag: "--beta1", group: "beta1", torch: "betas[0]", .halfOpenUnit, "β₁, decay of the first moment."),
         .number("beta2", \.beta2, flag: "--beta2", group: "beta2", torch: "betas[1]", .halfOpenUnit, "β₂, decay of the infinity norm u."),
         .epsilon(\.epsilon, "ε added to |g| in u ← max(β₂u, |g| + ε)."),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Adamax<T>() }
}
