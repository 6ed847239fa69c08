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
/// PyTorch, optax) or D = √G + ε (``EpsilonPlacement/outsideSquareRoot``, the lecture's form).
/// G and X start at 0. Defaults η = 1, ρ = 0.9, ε = 1e-6, λ = 0: PyTorch's
/// `torch.optim.Adadelta(lr:, rho:, eps:, weight_decay:, maximize:)`, whose single-tensor
/// implementation the default placement matches.
///
/// Kernel: one fused pass that reads θ, g, G, X and writes θ, G, X (56 bytes per Double
/// parameter), split across the cores for large n; no allocation after the first step.
/// - Complexity: O(n) per step.
public struct Adadelta<Scalar: BLASScalar>: Optimizer {
    public static var kind: String { "adadelta" }

    /// Where ε enters the gradient's RMS D.
    public enum EpsilonPlacement: String, Codable, Sendable, CaseIterable {
        /// D = √(G + ε): Zeiler's paper, PyTorch and optax. The default.
        case insideSquareRoot
        /// D = √G + ε: the lecture's form.
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

    public func validateState() throws {
        try checkState(stepCount: t, skippedSteps: skipped, count: stateCount,
                       required: ["G": G.count, "X": X.count])
    }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
        X = []
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        let n = parameters.count
        if stateCount == nil {
            G = Array(repeating: 0, count: n)
            X = Array(repeating: 0, count: n)
        }
        t += 1
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }
        let lr = learningRate, r = rho, eps = epsilon, wd = weightDecay
        let sign: Scalar = maximize ? -1 : 1
        let inside = epsilonPlacement == .insideSquareRoot
        G.withUnsafeMutableBufferPointer { Gb in
            X.withUnsafeMutableBufferPointer { Xb in
                let G = Gb.baseAddress!, X = Xb.baseAddress!
                if inside {
                    parallelChunks(count: n) { range in
                        for i in range {
                            let gi = sign * g[i] + wd * p[i]
                            let Gi = r * G[i] + (1 - r) * gi * gi
                            // Δ = √((X + ε) / (G + ε)) · g: one root instead of PyTorch's two
                            // (the divider bounds this loop), within ~1 ulp of √(X + ε) / √(G + ε).
                            let delta = ((X[i] + eps) / (Gi + eps)).nonNegativeSquareRoot * gi
                            G[i] = Gi
                            X[i] = r * X[i] + (1 - r) * delta * delta
                            p[i] = p[i] - lr * delta
                        }
                    }
                } else {
                    parallelChunks(count: n) { range in
                        for i in range {
                            let gi = sign * g[i] + wd * p[i]
                            let Gi = r * G[i] + (1 - r) * gi * gi
                            let delta = (X[i] + eps).nonNegativeSquareRoot / (Gi.nonNegativeSquareRoot + eps) * gi
                            G[i] = Gi
                            X[i] = r * X[i] + (1 - r) * delta * delta
                            p[i] = p[i] - lr * delta
                        }
                    }
                }
            }
        }
    }
}
