/// Stochastic gradient descent.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     θ ← θ − η g
///
/// Identical to PyTorch's `torch.optim.SGD(lr: η, weight_decay: λ, maximize:)` without momentum,
/// defaults included (η = 1e-3, λ = 0).
/// For momentum see ``Momentum``.
///
/// Kernel: without weight decay and maximize the whole update is one BLAS `axpy`
/// (θ ← −η g + θ, threaded by OpenBLAS on large vectors); otherwise one fused pass.
/// - Complexity: O(n) per step, reading θ and g and writing θ; no allocation.
public struct SGD<Scalar: BLASScalar>: Optimizer {
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

    public func validateState() throws {
        try checkState(stepCount: t, skippedSteps: skipped, count: nil, required: [:])
    }

    public var stateCount: Int? { nil }

    public mutating func reset() {
        t = 0
        skipped = 0
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        t += 1
        let n = parameters.count
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }
        let lr = learningRate, wd = weightDecay
        if wd == 0 && !maximize {
            Scalar.axpy(count: n, alpha: -lr, x: g, incx: 1, y: p, incy: 1)
            return
        }
        let sign: Scalar = maximize ? -1 : 1
        parallelChunks(count: n) { r in
            for i in r {
                let d = sign * g[i] + wd * p[i]
                p[i] -= lr * d
            }
        }
    }
}
