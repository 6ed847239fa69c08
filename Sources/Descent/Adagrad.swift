/// Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps scaled by the accumulated
/// squared gradients.
///
///     g ← (maximize ? −∇L : ∇L) + λθ
///     G ← G + g²                                  (G starts at initialAccumulatorValue)
///     θ ← θ − η_t g / (√G + ε),   η_t = η / (1 + (t − 1) · learningRateDecay)
///
/// t counts steps from 1. Defaults η = 1e-2, ε = 1e-10, learningRateDecay = 0,
/// initialAccumulatorValue = 0, λ = 0: the same as PyTorch's `torch.optim.Adagrad(lr:,
/// lr_decay:, weight_decay:, initial_accumulator_value:, eps:, maximize:)`, whose
/// single-tensor implementation it matches. η_t is computed in `Double` and rounded once.
///
/// Kernel: one fused pass that reads θ, g, G and writes θ, G (40 bytes per Double parameter),
/// split across the cores for large n; no allocation after the first step.
/// - Complexity: O(n) per step.
public struct Adagrad<Scalar: BLASScalar>: Optimizer {
    public static var kind: String { "adagrad" }

    /// η ≥ 0. Default 1e-2.
    public var learningRate: Scalar
    /// ≥ 0: η_t = η / (1 + (t − 1) · learningRateDecay), PyTorch's `lr_decay`. Default 0.
    public var learningRateDecay: Scalar
    /// ≥ 0: the value G starts from, PyTorch's `initial_accumulator_value`. Read when the
    /// state is allocated (the first step, or the first after ``reset()``). Default 0.
    public var initialAccumulatorValue: Scalar
    /// ε > 0, added to √G. Default 1e-10.
    public var epsilon: Scalar
    /// λ ≥ 0, the L2 penalty added to the gradient. Default 0.
    public var weightDecay: Scalar
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// The accumulated squared gradients G (PyTorch's `sum`).
    public var sumOfSquares: [Scalar] { G }
    @usableFromInline var G: [Scalar] = []

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 1e-2, learningRateDecay: Scalar = 0, initialAccumulatorValue: Scalar = 0,
                epsilon: Scalar = 1e-10, weightDecay: Scalar = 0, maximize: Bool = false,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.maximize = maximize
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try Hyperparameter.nonNegative("learningRateDecay", learningRateDecay)
        try Hyperparameter.nonNegative("initialAccumulatorValue", initialAccumulatorValue)
        try Hyperparameter.positive("epsilon", epsilon)
        try Hyperparameter.nonNegative("weightDecay", weightDecay)
    }

    public func validateState() throws {
        try checkState(stepCount: t, skippedSteps: skipped, count: stateCount, required: ["G": G.count])
    }

    public var stateCount: Int? { t == 0 && G.isEmpty ? nil : G.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        G = []
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        let n = parameters.count
        if stateCount == nil { G = Array(repeating: initialAccumulatorValue, count: n) }
        t += 1
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }
        let clr = Scalar(Double(learningRate) / (1 + Double(t - 1) * Double(learningRateDecay)))
        let eps = epsilon, wd = weightDecay
        let sign: Scalar = maximize ? -1 : 1
        G.withUnsafeMutableBufferPointer { sb in
            let s = sb.baseAddress!
            parallelChunks(count: n) { r in
                for i in r {
                    let gi = sign * g[i] + wd * p[i]
                    let si = s[i] + gi * gi
                    s[i] = si
                    p[i] = p[i] - clr * gi / (si.nonNegativeSquareRoot + eps)
                }
            }
        }
    }
}
