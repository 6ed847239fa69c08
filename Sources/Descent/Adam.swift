import Foundation

/// Adam (Kingma & Ba, 2015), the lecture's form (docs/lecture.md), with PyTorch's options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ                 (L2 weight decay, coupled)
///     m ← β₁ m + (1 − β₁) g
///     G ← β₂ G + (1 − β₂) g²
///     Ĝ ← amsgrad ? (Gmax ← max(Gmax, G)) : G          (the max is of the raw G)
///     θ ← θ − η m̂ / (√Ĝ' + ε),   m̂ = m / (1 − β₁ᵗ),  Ĝ' = Ĝ / (1 − β₂ᵗ)
///
/// t counts steps from 1. Defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, as in PyTorch's
/// `torch.optim.Adam`, whose single-tensor implementation it matches formula for formula:
/// m ← lerp(m, g, 1 − β₁) (torch's `lerp`), G ← β₂ G + (1 − β₂) g g, 1 − β computed in `Double`
/// and rounded once, θ ← θ − (η / (1 − β₁ᵗ)) m / (√Ĝ · (1/√(1 − β₂ᵗ)) + ε) (ε outside the square
/// root, added after the bias correction of G; torch divides by √(1 − β₂ᵗ), one division more
/// per element, which costs 5–14 % at small n: the quotient differs by at most 1 ulp). For decoupled weight decay use ``AdamW`` (or
/// ``DecoupledWeightDecay`` around any first-order optimizer).
///
/// The bias corrections η / (1 − β₁ᵗ) and √(1 − β₂ᵗ) are computed in `Double` and rounded
/// once to `Scalar`, as PyTorch computes them in Python floats; in `Float` this keeps
/// 1 − β₂ᵗ accurate for small t (β₂ᵗ rounded to `Float` first would lose most of its digits).
///
/// Kernel: one fused pass that reads θ, g, m, G (and Gmax) and writes θ, m, G (and Gmax):
/// 56 bytes per Double parameter, split across the cores for large n; no allocation after
/// the first step (which allocates m and G; Gmax on the first step with `amsgrad`).
/// - Complexity: O(n) per step.
public struct Adam<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "adam" }

    /// η ≥ 0. Default 1e-3.
    public var learningRate: Scalar
    /// β₁ ∈ [0, 1): decay of the first moment m. Default 0.9.
    public var beta1: Scalar
    /// β₂ ∈ [0, 1): decay of the second moment G. Default 0.999.
    public var beta2: Scalar
    /// ε > 0, added to √Ĝ'. Default 1e-8.
    public var epsilon: Scalar
    /// λ ≥ 0: L2 penalty added to the gradient (coupled, as PyTorch's Adam `weight_decay`).
    public var weightDecay: Scalar
    /// Use the running maximum of G (Reddi et al., 2018), as PyTorch's `amsgrad`.
    public var amsgrad: Bool
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
    /// Running maximum of G (AMSGrad only; empty otherwise).
    public var maxSecondMoment: [Scalar] { Gmax }
    @usableFromInline var m: [Scalar] = []
    @usableFromInline var G: [Scalar] = []
    @usableFromInline var Gmax: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, amsgrad: Bool = false, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
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
        Gmax = []
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
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] {
        [StateBuffer("m", m), StateBuffer("G", G), StateBuffer("Gmax", Gmax, required: false)]
    }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            m = Array(repeating: 0, count: n)
            G = Array(repeating: 0, count: n)
        }
        if amsgrad && Gmax.count != n { Gmax = Array(repeating: 0, count: n) }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // Bias corrections in Double, rounded once, as torch computes them in Python floats
        // (t is already the new step's count).
        let td = Double(t)
        let beta1Decimal = decimalDouble(beta1), beta2Decimal = decimalDouble(beta2)
        let stepSize = Scalar(decimalDouble(learningRate) / (1 - Foundation.pow(beta1Decimal, td)))
        // √Ĝ / √(1 − β₂ᵗ) as √Ĝ · (1/√(1 − β₂ᵗ)): one division per element instead of torch's two
        // (faster where the divider bounds the loop, at small n; within 1 ulp of
        // torch's quotient; docs/optimizers.md, "PyTorch parity").
        let inverseCorrection2Root = Scalar(1 / Foundation.pow(1 - Foundation.pow(beta2Decimal, td), 0.5))
        let b2 = beta2, w1 = Scalar(1 - beta1Decimal), w2 = Scalar(1 - beta2Decimal), eps = epsilon
        let ams = amsgrad
        m.withUnsafeMutableBufferPointer { mb in
            G.withUnsafeMutableBufferPointer { vb in
                Gmax.withUnsafeMutableBufferPointer { xb in
                    let slots = StateSlots(mb.baseAddress!, vb.baseAddress!, xb.baseAddress)
                    if ams {
                        pass.run(AdamRule<Scalar, FlagOn>(stepSize, inverseCorrection2Root, b2, w1, w2, eps), slots)
                    } else {
                        pass.run(AdamRule<Scalar, FlagOff>(stepSize, inverseCorrection2Root, b2, w1, w2, eps), slots)
                    }
                }
            }
        }
    }
}

/// torch's single-tensor Adam, per element. Slots: m, G, Gmax (AMSGrad).
///
///     m ← lerp(m, g, w₁)             (w₁ = 1 − β₁)
///     G ← β₂ G + w₂ g g              (w₂ = 1 − β₂)
///     Ĝ ← AMSGrad ? (Gmax ← max(Gmax, G)) : G
///     θ ← θ − s m / (√Ĝ · c⁻¹ + ε),   s = η / (1 − β₁ᵗ),  c⁻¹ = 1 / √(1 − β₂ᵗ)
@usableFromInline
struct AdamRule<Scalar: BLASScalar, AMSGrad: StaticFlag>: ElementRule {
    @usableFromInline let stepSize, inverseCorrection2Root, beta2, weight1, weight2, epsilon: Scalar
    @inlinable init(_ stepSize: Scalar, _ inverseCorrection2Root: Scalar, _ beta2: Scalar, _ weight1: Scalar,
                    _ weight2: Scalar, _ epsilon: Scalar) {
        self.stepSize = stepSize; self.inverseCorrection2Root = inverseCorrection2Root; self.beta2 = beta2
        self.weight1 = weight1; self.weight2 = weight2; self.epsilon = epsilon
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let m = state.first, v = state.second
        let mi = torchLerp(m[i], g, weight: weight1)
        let vi = beta2 * v[i] + weight2 * g * g
        m[i] = mi
        v[i] = vi
        var vhat = vi
        if AMSGrad.isOn {
            let vmax = state.third
            vhat = Swift.max(vmax[i], vi)
            vmax[i] = vhat
        }
        theta = theta - stepSize * mi / (vhat.nonNegativeSquareRoot * inverseCorrection2Root + epsilon)
    }
}

extension Adam: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        adamHyperparameters(\.beta1, \.beta2, \.epsilon, \.amsgrad, learningRate: \.learningRate, weightDecay: .weightDecay(\.weightDecay))
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Adam<T>() }

    /// Adam's hyperparameters for `O` (Adam or AdamW, whose properties have the same names).
    static func adamHyperparameters<O: Optimizer>(
        _ beta1: WritableKeyPath<O, O.Scalar>, _ beta2: WritableKeyPath<O, O.Scalar>, _ epsilon: WritableKeyPath<O, O.Scalar>,
        _ amsgrad: WritableKeyPath<O, Bool>, learningRate: WritableKeyPath<O, O.Scalar>, weightDecay: HyperparameterSpec<O>
    ) -> [HyperparameterSpec<O>] {
        [.learningRate(learningRate),
         .number("beta1", beta1, flag: "--beta1", group: "beta1", torch: "betas[0]", .halfOpenUnit, "β₁, decay of the first moment."),
         .number("beta2", beta2, flag: "--beta2", group: "beta2", torch: "betas[1]", .halfOpenUnit, "β₂, decay of the second moment."),
         .epsilon(epsilon, "ε of the denominator √Ĝ + ε."),
         weightDecay,
         .flag("amsgrad", amsgrad, flag: "--amsgrad", group: "amsgrad", torch: "amsgrad", "AMSGrad: the running maximum of G.")]
    }
}
