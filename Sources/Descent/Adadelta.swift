/// Adadelta (Zeiler, 2012): steps whose scale is the ratio of the running RMS of past updates
/// to the running RMS of gradients, so η = 1 needs no tuning.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     G ← ρ G + (1 − ρ) g²
///     v ← −√(X + ε) g / D
///     X ← ρ X + (1 − ρ) v²
///     θ ← θ + η v
///
/// with D = √(G + ε) (``EpsilonPlacement/insideSquareRoot``, the default: Zeiler's paper,
/// PyTorch, optax) or D = √G + ε (``EpsilonPlacement/outsideSquareRoot``, docs/lecture.md's form).
/// G and X start at 0. Defaults η = 1, ρ = 0.9, ε = 1e-6, λ = 0: PyTorch's
/// `torch.optim.Adadelta(lr:, rho:, eps:, weight_decay:, maximize:)`, whose single-tensor
/// implementation the default placement matches formula for formula (√(X + ε) / √(G + ε) · g,
/// 1 − ρ computed in `Double` and rounded once).
///
/// Kernel: one fused pass that reads θ, g, G, X and writes θ, G, X (56 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step (which
/// allocates G and X).
/// - Complexity: O(n) per step.
public struct Adadelta<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "adadelta" }

    /// Where ε enters the gradient's RMS D.
    public enum EpsilonPlacement: String, Codable, Sendable, CaseIterable {
        /// D = √(G + ε): Zeiler's paper, PyTorch and optax. The default.
        case insideSquareRoot
        /// D = √G + ε: the lecture's form (docs/lecture.md).
        case outsideSquareRoot
    }

    /// η ≥ 0, a multiplier on the update. Default 1.
    public var learningRate: Scalar
    /// ρ ∈ [0, 1]: decay of both running averages. Default 0.9.
    public var rho: Scalar
    /// ε > 0. Default 1e-6.
    public var epsilon: Scalar
    /// Where ε enters the denominator. Default ``EpsilonPlacement/insideSquareRoot``.
    public var epsilonPlacement: EpsilonPlacement
    /// λ ≥ 0, the L2 penalty added to the gradient. Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// Running average of squared gradients G (PyTorch's `square_avg`).
    public var squareAverage: [Scalar] { G }
    /// Running average of squared updates X (PyTorch's `acc_delta`).
    public var updateSquareAverage: [Scalar] { X }
    @usableFromInline var G: [Scalar] = []
    @usableFromInline var X: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1, rho: Scalar = 0.9, epsilon: Scalar = 1e-6,
                epsilonPlacement: EpsilonPlacement = .insideSquareRoot, weightDecay: Scalar = 0,
                maximize: Bool = false, nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.epsilonPlacement = epsilonPlacement
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.closedUnit("rho", rho)
        try Hyperparameter.positive("epsilon", epsilon)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
        X = []
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
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [StateBuffer("G", G), StateBuffer("X", X)] }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil {
            G = Array(repeating: 0, count: n)
            X = Array(repeating: 0, count: n)
        }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        let lr = learningRate, r = rho, w = oneMinus(rho), eps = epsilon
        let inside = epsilonPlacement == .insideSquareRoot
        G.withUnsafeMutableBufferPointer { Gb in
            X.withUnsafeMutableBufferPointer { Xb in
                let slots = StateSlots(Gb.baseAddress!, Xb.baseAddress!)
                if inside {
                    pass.run(AdadeltaRule<Scalar, FlagOn>(learningRate: lr, rho: r, weight: w, epsilon: eps), slots)
                } else {
                    pass.run(AdadeltaRule<Scalar, FlagOff>(learningRate: lr, rho: r, weight: w, epsilon: eps), slots)
                }
            }
        }
    }
}

/// Slots: G, X.
///
///     G ← ρ G + w g²                      (w = 1 − ρ)
///     δ ← √(X + ε) / D · g,   D = √(G + ε) (inside, torch's) or √G + ε (outside)
///     X ← ρ X + w δ²
///     θ ← θ − η δ
@usableFromInline
struct AdadeltaRule<Scalar: BLASScalar, EpsilonInside: StaticFlag>: ElementRule {
    @usableFromInline let learningRate, rho, weight, epsilon: Scalar
    @inlinable init(learningRate: Scalar, rho: Scalar, weight: Scalar, epsilon: Scalar) {
        self.learningRate = learningRate; self.rho = rho; self.weight = weight; self.epsilon = epsilon
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let G = state.first, X = state.second
        let Gi = rho * G[i] + weight * g * g
        let D = EpsilonInside.isOn ? (Gi + epsilon).nonNegativeSquareRoot : Gi.nonNegativeSquareRoot + epsilon
        let delta = (X[i] + epsilon).nonNegativeSquareRoot / D * g
        G[i] = Gi
        X[i] = rho * X[i] + weight * delta * delta
        theta = theta - learningRate * delta
    }
}

extension Adadelta: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("rho", \.rho, flag: "--rho", group: "rho", torch: "rho", .closedUnit, "Decay ρ of both running averages."),
         .epsilon(\.epsilon, "ε of √(X + ε) and of the denominator."),
         .custom("epsilonOutsideSquareRoot", flag: "--eps-outside-sqrt", .flag,
                 "ε outside the root, √G + ε, as in docs/lecture.md (default inside, √(G + ε))",
                 read: { "\($0.epsilonPlacement == .outsideSquareRoot)" },
                 write: { o, v in
                     guard let f = v.flag else { return false }
                     o.epsilonPlacement = f ? .outsideSquareRoot : .insideSquareRoot
                     return true
                 }),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try Adadelta<T>() }
}
