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
/// centered:, maximize:)`, whose single-tensor implementation it matches. PyTorch updates a
/// with `lerp`, the same value up to rounding.
///
/// Kernel: one fused pass over θ, g, G (and a, b when their options are on), split across the
/// cores for large n; no allocation after the first step (a and b are allocated on the first
/// step that uses them).
/// - Complexity: O(n) per step.
public struct RMSProp<Scalar: BLASScalar>: Optimizer {
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

    public func validateState() throws {
        try checkState(stepCount: t, skippedSteps: skipped, count: stateCount,
                       required: ["G": G.count], optional: ["a": a.count, "b": b.count])
    }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
        a = []
        b = []
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        let n = parameters.count
        if stateCount == nil { G = Array(repeating: 0, count: n) }
        if centered && a.count != n { a = Array(repeating: 0, count: n) }
        if momentum > 0 && b.count != n { b = Array(repeating: 0, count: n) }
        t += 1
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }
        let lr = learningRate, r = rho, eps = epsilon, mu = momentum, wd = weightDecay
        let sign: Scalar = maximize ? -1 : 1
        let isCentered = centered, hasMomentum = momentum > 0
        G.withUnsafeMutableBufferPointer { Gb in
            a.withUnsafeMutableBufferPointer { ab in
                b.withUnsafeMutableBufferPointer { bb in
                    let G = Gb.baseAddress!
                    switch (isCentered, hasMomentum) {
                    case (false, false):
                        parallelChunks(count: n) { range in
                            for i in range {
                                let gi = sign * g[i] + wd * p[i]
                                let Gi = r * G[i] + (1 - r) * gi * gi
                                G[i] = Gi
                                p[i] = p[i] - lr * gi / (Gi.nonNegativeSquareRoot + eps)
                            }
                        }
                    case (true, false):
                        let a = ab.baseAddress!
                        parallelChunks(count: n) { range in
                            for i in range {
                                let gi = sign * g[i] + wd * p[i]
                                let Gi = r * G[i] + (1 - r) * gi * gi
                                let ai = r * a[i] + (1 - r) * gi
                                G[i] = Gi; a[i] = ai
                                p[i] = p[i] - lr * gi / ((Gi - ai * ai).squareRoot() + eps)
                            }
                        }
                    case (false, true):
                        let b = bb.baseAddress!
                        parallelChunks(count: n) { range in
                            for i in range {
                                let gi = sign * g[i] + wd * p[i]
                                let Gi = r * G[i] + (1 - r) * gi * gi
                                let bi = mu * b[i] + gi / (Gi.nonNegativeSquareRoot + eps)
                                G[i] = Gi; b[i] = bi
                                p[i] = p[i] - lr * bi
                            }
                        }
                    case (true, true):
                        let a = ab.baseAddress!, b = bb.baseAddress!
                        parallelChunks(count: n) { range in
                            for i in range {
                                let gi = sign * g[i] + wd * p[i]
                                let Gi = r * G[i] + (1 - r) * gi * gi
                                let ai = r * a[i] + (1 - r) * gi
                                let bi = mu * b[i] + gi / ((Gi - ai * ai).squareRoot() + eps)
                                G[i] = Gi; a[i] = ai; b[i] = bi
                                p[i] = p[i] - lr * bi
                            }
                        }
                    }
                }
            }
        }
    }
}
