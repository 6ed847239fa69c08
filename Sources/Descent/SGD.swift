/// Stochastic gradient descent.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     θ ← θ − η g
///
/// Identical to PyTorch's `torch.optim.SGD(lr: η, weight_decay: λ, maximize:)` without momentum,
/// defaults included (η = 1e-3, λ = 0).
/// For momentum see ``Momentum``.
///
/// Kernel: without weight decay, maximize or a parameter scale the whole update is one BLAS
/// `axpy` (θ ← −η g + θ, threaded by OpenBLAS on large vectors; 2.5× faster than the fused loop
/// at n = 1e3). OpenBLAS fuses the multiply-add, so θ may differ from torch's θ + (−η g) by
/// 1 ulp per step. Otherwise one fused pass, torch's formula.
/// - Complexity: O(n) per step, reading θ and g and writing θ; no allocation.
public struct SGD<Scalar: BLASScalar>: FirstOrderOptimizer, FirstOrderCore {
    public static var kind: String { "sgd" }

    /// η ≥ 0. Default 1e-3, PyTorch's default since 2.2 (optax's `sgd` takes it as an argument).
    public var learningRate: Scalar
    /// λ ≥ 0, the L2 penalty added to the gradient.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy
    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0

    public init(learningRate: Scalar = 1e-3, weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws { try validateCoreState() }

    public var stateCount: Int? { nil }

    public mutating func reset() {
        t = 0
        skipped = 0
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
    @inlinable mutating func prepareState(count: Int) {}
    @usableFromInline var stateBuffers: [StateBuffer<Scalar>] { [] }

    @inlinable
    mutating func run(_ pass: ElementPass<Scalar>) {
        if pass.coupledDecay == 0 && pass.sign == 1 && pass.scale == 1 {
            Scalar.axpy(count: pass.count, alpha: -learningRate, x: pass.gradient, incx: 1, y: pass.parameters, incy: 1)
            return
        }
        pass.run(SGDRule(learningRate: learningRate), StateSlots(pass.parameters))
    }
}

/// θ ← θ − η g.
@usableFromInline
struct SGDRule<Scalar: BLASScalar>: ElementRule {
    @usableFromInline let learningRate: Scalar
    @inlinable init(learningRate: Scalar) { self.learningRate = learningRate }
    @inlinable
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int) {
        theta = theta - learningRate * g
    }
}

extension SGD: RegisteredOptimizer, GroupConfigurable {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate), .weightDecay(\.weightDecay)]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try SGD<T>() }
}
