/// RMSProp (Hinton, 2012): steps scaled by a running average of squared gradients, with
/// PyTorch's `centered` and `momentum` options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     G ← ρ G + (1 − ρ) g²
///     a ← ρ a + (1 − ρ) g,   D = √(G − a²) + ε       (centered)
///                            D = √G + ε              (otherwise)
///     b ← μ b + g / D,  θ ← θ − η b                  (momentum μ > 0)
///     θ ← θ − η g / D                                (μ = 0)
///
/// G, a and b start at 0. Defaults η = 1e-2, ρ = 0.99, ε = 1e-8, μ = 0, centered false,
/// λ = 0: PyTorch's `torch.optim.RMSprop(lr:, alpha: ρ, eps:, weight_decay:, momentum:,
/// centered:, maximize:)`, whose single-tensor implementation it matches formula for formula:
/// a is updated with torch's `lerp` (a + (1 − ρ)(g − a)), and 1 − ρ is computed in `Double` and
/// rounded once, as torch computes it on the Python float.
///
/// Kernel: one fused pass over θ, g, G (and a, b when their options are on), split across the
/// cores for large n, one loop specialized per combination of options; no allocation after the
/// first step (a and b are allocated on the first step that uses them).
/// - Complexity: O(n) per step.
public struct RMSProp<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "rmsprop" }

    /// η ≥ 0. Default 1e-2.
    public var learningRate: Scalar
    /// ρ ∈ [0, 1]: decay of the averages, PyTorch's `alpha`. Default 0.99.
    public var rho: Scalar
    /// ε > 0, added to the root. Default 1e-8.
    public var epsilon: Scalar
    /// μ ∈ [0, 1): momentum of the scaled step. Default 0.
    public var momentum: Scalar
    /// Divide by the root of the estimated variance G − a² instead of √G. Default false.
    public var centered: Bool
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
    /// Running average of gradients a (centered only; empty otherwise; PyTorch's `grad_avg`).
    public var gradientAverage: [Scalar] { a }
    /// Momentum buffer b (μ > 0 only; empty otherwise; PyTorch's `momentum_buffer`).
    public var momentumBuffer: [Scalar] { b }
    @usableFromInline var G: [Scalar] = []
    @usableFromInline var a: [Scalar] = []
    @usableFromInline var b: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, rho: Scalar = 0.99, epsilon: Scalar = 1e-8, momentum: Scalar = 0,
                centered: Bool = false, weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
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
        try Hyperparameter.halfOpenUnit("momentum", momentum)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
        a = []
        b = []
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
        [StateBuffer("G", G), StateBuffer("a", a, required: false), StateBuffer("b", b, required: false)]
    }

    @inlinable
    mutating func prepareState(count n: Int) {
        if stateCount == nil { G = Array(repeating: 0, count: n) }
        if centered && a.count != n { a = Array(repeating: 0, count: n) }
        if momentum > 0 && b.count != n { b = Array(repeating: 0, count: n) }
    }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        let lr = learningRate, r = rho, w = oneMinus(rho), eps = epsilon, mu = momentum
        let isCentered = centered, hasMomentum = momentum > 0
        G.withUnsafeMutableBufferPointer { Gb in
            a.withUnsafeMutableBufferPointer { ab in
                b.withUnsafeMutableBufferPointer { bb in
                    let slots = StateSlots(Gb.baseAddress!, ab.baseAddress, bb.baseAddress)
                    switch (isCentered, hasMomentum) {
                    case (false, false):
                        pass.run(RMSPropRule<Scalar, FlagOff, FlagOff>(lr, r, w, eps, mu), slots)
                    case (true, false):
                        pass.run(RMSPropRule<Scalar, FlagOn, FlagOff>(lr, r, w, eps, mu), slots)
                    case (false, true):
                        pass.run(RMSPropRule<Scalar, FlagOff, FlagOn>(lr, r, w, eps, mu), slots)
                    case (true, true):
                        pass.run(RMSPropRule<Scalar, FlagOn, FlagOn>(lr, r, w, eps, mu), slots)
                    }
                }
            }
        }
    }
}

/// torch's single-tensor RMSprop, per element. Slots: G, a (centered), b (momentum).
///
///     G ← ρ G + w g²                     (w = 1 − ρ)
///     a ← lerp(a, g, w),  D = √(G − a²) + ε   (centered)
///                         D = √G + ε          (otherwise)
///     b ← μ b + g / D,  θ ← θ − η b          (momentum)
///     θ ← θ − η g / D                         (otherwise)
@usableFromInline
struct RMSPropRule<Scalar: BLASScalar, Centered: StaticFlag, WithMomentum: StaticFlag>: ElementRule {
    @usableFromInline let learningRate, rho, weight, epsilon, momentum: Scalar
    @inlinable init(_ learningRate: Scalar, _ rho: Scalar, _ weight: Scalar, _ epsilon: Scalar, _ momentum: Scalar) {
        self.learningRate = learningRate; self.rho = rho; self.weight = weight
        self.epsilon = epsilon; self.momentum = momentum
    }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        let G = state.first
        let Gi = rho * G[i] + weight * g * g
        G[i] = Gi
        let denominator: Scalar
        if Centered.isOn {
            let a = state.second
            let ai = torchLerp(a[i], g, weight: weight)
            a[i] = ai
            // Not nonNegativeSquareRoot: G − a² < 0 by rounding gives NaN, as in torch.
            denominator = (Gi - ai * ai).squareRoot() + epsilon
        } else {
            denominator = Gi.nonNegativeSquareRoot + epsilon
        }
        if WithMomentum.isOn {
            let b = state.third
            let bi = momentum * b[i] + g / denominator
            b[i] = bi
            theta = theta - learningRate * bi
        } else {
            theta = theta - learningRate * g / denominator
        }
    }
}

extension RMSProp: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .number("rho", \.rho, flag: "--rho", group: "rho", torch: "alpha", .closedUnit, "Decay ρ of the running average of g²."),
         .epsilon(\.epsilon, "ε of the denominator √G + ε."),
         .number("momentum", \.momentum, flag: "--momentum", group: "momentum", torch: "momentum", .halfOpenUnit, "Momentum μ of the update."),
         .flag("centered", \.centered, flag: "--centered", group: "centered", torch: "centered", "Centered: divide by √(G − a²) + ε."),
         .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try RMSProp<T>() }
}
