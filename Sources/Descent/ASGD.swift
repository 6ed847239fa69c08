import Foundation

/// ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992) with the decaying step
/// of Bottou's schedule, in PyTorch's variant. θ is the SGD iterate; the average ā of the
/// iterates since step t₀ is kept beside it (``average``) and is the estimate to report.
///
///     g ← (maximize ? −∇L : ∇L) + λ_wd θ              (L2 weight decay, coupled)
///     θ ← θ (1 − λ ηₜ) − ηₜ g
///     ā ← ā + μₜ (θ − ā)        (ā ← θ while μₜ = 1)
///     ηₜ₊₁ = η / (1 + λ η t)^α,   μₜ₊₁ = 1 / max(1, t − t₀)
///
/// t counts steps from 1, η₁ = η and μ₁ = 1. Defaults η = 1e-2, λ = 1e-4, α = 0.75, t₀ = 1e6:
/// PyTorch's `torch.optim.ASGD`, whose single-tensor implementation it matches operation for
/// operation: θ ← θ · (1 − λ ηₜ), θ ← θ + (−ηₜ) g, ā ← ā + (θ − ā) μₜ, with ηₜ and μₜ state
/// kept in `Scalar` (torch keeps them in tensors of the default dtype, the parameters' in the
/// usual setup) and every scalar formula (1 − λ ηₜ, the next η and μ) computed in `Double` from
/// the hyperparameters' decimals and rounded once, as torch computes them in Python floats.
/// The next ηₜ₊₁ uses the current η, so a schedule acts from the following step.
///
/// Kernel: one fused pass that reads θ, g, ā and writes θ, ā (40 bytes per Double parameter),
/// split across the cores for large n; no allocation after the first step.
/// - Complexity: O(n) per step.
public struct ASGD<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "asgd" }

    /// η ≥ 0. Default 1e-2.
    public var learningRate: Scalar
    /// λ ≥ 0: the decay term of the step size and of θ (torch's `lambd`). Default 1e-4.
    public var lambda: Scalar
    /// α ≥ 0: the power of the step-size decay. Default 0.75.
    public var alpha: Scalar
    /// t₀ ≥ 0: the step from which the average starts. Default 1e6.
    public var averagingStart: Scalar
    /// λ_wd ≥ 0: L2 penalty added to the gradient (coupled, as torch's `weight_decay`). Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// The average ā of the iterates (torch's `ax`); empty before the first step.
    public var average: [Scalar] { ax }
    /// The step size ηₜ of the next step (torch's `eta`; η itself before the first step).
    public var currentStepSize: Scalar { stateCount == nil ? learningRate : eta }
    /// The averaging weight μₜ of the next step (torch's `mu`).
    public var averagingWeight: Scalar { mu }
    @usableFromInline var ax: [Scalar] = []
    @usableFromInline var eta: Scalar = 0
    @usableFromInline var mu: Scalar = 1

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, lambda: Scalar = 1e-4, alpha: Scalar = 0.75, averagingStart: Scalar = 1e6,
                weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.lambda = lambda
        self.alpha = alpha
        self.averagingStart = averagingStart
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    /// torch checks η ≥ 0 and λ_wd ≥ 0 only; a negative or non-finite λ, α or t₀ (a negative
    /// base of the power, a NaN step size) is refused here too.
    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.nonNegative("lambda", lambda)
        try Hyperparameter.nonNegative("alpha", alpha)
        try Hyperparameter.nonNegative("averagingStart", averagingStart)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    /// The core's checks, η finite and ≥ 0, and μ in (0, 1] (η = 0, μ = 1 before the first step).
    public func validateState() throws {
        try validateCoreState()
        guard eta.isFinite, eta >= 0, stateCount != nil || eta == 0 else {
            throw OptimizerError.corruptCheckpoint("eta = \(eta) is not a step size")
        }
        guard mu.isFinite, mu > 0, mu <= 1, stateCount != nil || mu == 1 else {
            throw OptimizerError.corruptCheckpoint("mu = \(mu) is not an averaging weight in (0, 1]")
        }
    }

    public var stateCount: Int? { t == 0 && ax.isEmpty ? nil : ax.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        ax = []
        eta = 0
        mu = 1
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
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("ax", ax)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            ax = Array(repeating: 0, count: n)
            eta = learningRate
            mu = 1
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        // torch: eta_value = eta.item(); the factors in Python floats (t is the new step's count).
        let etaValue = Double(eta)
        let lam = decimalDouble(lambda)
        let shrink = Scalar(1 - lam * etaValue)
        let averaging = mu != 1
        ax.withUnsafeMutableBufferPointer { ab in
            let slots = StateSlots(ab.baseAddress!)
            if averaging {
                pass.run(ASGDRule<Scalar, FlagOn>(shrink: shrink, negativeStepSize: -eta, averagingWeight: mu), slots)
            } else {
                pass.run(ASGDRule<Scalar, FlagOff>(shrink: shrink, negativeStepSize: -eta, averagingWeight: 1), slots)
            }
        }
        let step = Double(t), lr = decimalDouble(learningRate)
        eta = Scalar(lr / Foundation.pow(1 + lam * lr * step, decimalDouble(alpha)))
        mu = Scalar(1 / Swift.max(1, step - decimalDouble(averagingStart)))
    }
}

/// torch's single-tensor ASGD, per element. Slot: ā.
///
///     θ ← θ s,   θ ← θ + (−ηₜ) g,   ā ← averaging ? ā + (θ − ā) μₜ : θ
@usableFromInline
struct ASGDRule<Scalar: BLASScalar, Averaging: StaticFlag>: ElementRule {
    @usableFromInline let shrink, negativeStepSize, averagingWeight: Scalar
    @inlinable init(shrink: Scalar, negativeStepSize: Scalar, averagingWeight: Scalar) {
        self.shrink = shrink; self.negativeStepSize = negativeStepSize; self.averagingWeight = averagingWeight
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let ax = state.first
        let updated = theta * shrink + negativeStepSize * g
        theta = updated
        if Averaging.isOn {
            let a = ax[i]
            ax[i] = a + (updated - a) * averagingWeight
        } else {
            ax[i] = updated
        }
    }
}

extension ASGD: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("lambda", \.lambda, flag: "--lambd", group: "lambd", torch: "lambd", .nonNegative, "λ, the decay of the step size."),
         .number("alpha", \.alpha, flag: "--alpha", group: "alpha", torch: "alpha", .nonNegative, "α, the power of the step-size decay."),
         .number("averagingStart", \.averagingStart, flag: "--t0", group: "t0", torch: "t0", .nonNegative, "t₀, the step the averaging starts at."),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try ASGD<T>() }
}
