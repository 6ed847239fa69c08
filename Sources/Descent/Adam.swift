import Foundation

/// Adam (Kingma & Ba, 2015), the lecture's form, with PyTorch's options.
///
///     g ← (maximize ? −∇L : ∇L) + λθ                 (L2 weight decay, coupled)
///     m ← β₁ m + (1 − β₁) g
///     G ← β₂ G + (1 − β₂) g²
///     Ĝ ← amsgrad ? (Gmax ← max(Gmax, G)) : G          (the max is of the raw G)
///     θ ← θ − η m̂ / (√Ĝ' + ε),   m̂ = m / (1 − β₁ᵗ),  Ĝ' = Ĝ / (1 − β₂ᵗ)
///
/// t counts steps from 1. Defaults η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, as in PyTorch's
/// `torch.optim.Adam`, whose single-tensor implementation it matches (ε outside the square
/// root, added after the bias correction of G). For decoupled weight decay use ``AdamW``.
///
/// The bias corrections η / (1 − β₁ᵗ) and √(1 − β₂ᵗ) are computed in `Double` and rounded
/// once to `Scalar`, as PyTorch computes them in Python floats; in `Float` this keeps
/// 1 − β₂ᵗ accurate for small t (β₂ᵗ rounded to `Float` first would lose most of its digits).
///
/// Kernel: one fused pass that reads θ, g, m, G (and Gmax) and writes θ, m, G (and Gmax):
/// 56 bytes per Double parameter, split across the cores for large n; no allocation after
/// the first step.
/// - Complexity: O(n) per step.
public struct Adam<Scalar: BLASScalar>: Optimizer {
    public static var kind: String { "adam" }

    /// η ≥ 0. Default 1e-3.
    public var learningRate: Scalar
    /// β₁ ∈ [0, 1): decay of the first moment m. Default 0.9.
    public var beta1: Scalar
    /// β₂ ∈ [0, 1): decay of the second moment G. Default 0.999.
    public var beta2: Scalar
    /// ε > 0, added to √Ĝ'. Default 1e-8.
    public var epsilon: Scalar
    /// λ ≥ 0: L2 penalty added to the gradient (coupled, as PyTorch's Adam `weight_decay`);
    /// in ``AdamW`` the decoupled decay θ ← θ(1 − ηλ).
    public var weightDecay: Scalar
    /// Use the running maximum of G (Reddi et al., 2018), as PyTorch's `amsgrad`.
    public var amsgrad: Bool
    /// Ascend instead of descend.
    public var maximize: Bool
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy
    /// Decoupled weight decay θ ← θ(1 − ηλ) before the step (AdamW) instead of g ← g + λθ.
    /// Not encoded: ``AdamW`` sets it, and its checkpoint kind tells the two apart.
    @usableFromInline var decoupledWeightDecay: Bool = false

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

    @usableFromInline enum CodingKeys: String, CodingKey {
        case learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, maximize, nonFiniteGradientPolicy
        case t, skipped, m, G, Gmax
    }

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

    public func validateState() throws {
        try checkState(stepCount: t, skippedSteps: skipped, count: stateCount,
                       required: ["m": m.count, "G": G.count], optional: ["Gmax": Gmax.count])
    }

    public var stateCount: Int? { t == 0 && m.isEmpty ? nil : m.count }

    public mutating func reset() {
        t = 0
        skipped = 0
        m = []
        G = []
        Gmax = []
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        let n = parameters.count
        if stateCount == nil {
            m = Array(repeating: 0, count: n)
            G = Array(repeating: 0, count: n)
        }
        if amsgrad && Gmax.count != n { Gmax = Array(repeating: 0, count: n) }
        t += 1
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }

        let b1 = beta1, b2 = beta2, eps = epsilon, lr = learningRate
        let td = Double(self.t)
        let stepSize = Scalar(Double(lr) / (1 - Foundation.pow(Double(b1), td)))
        // √Ĝ' = √G · (1/√(1 − β₂ᵗ)): a multiplication instead of a second division per element
        // (the divider bounds this loop on x86); within 1 ulp of PyTorch's √G / √(1 − β₂ᵗ).
        let inverseCorrection2Root = Scalar(1 / (1 - Foundation.pow(Double(b2), td)).squareRoot())
        let sign: Scalar = maximize ? -1 : 1
        let coupled: Scalar = decoupledWeightDecay ? 0 : weightDecay
        let shrink: Scalar = decoupledWeightDecay ? Scalar(1 - Double(lr) * Double(weightDecay)) : 1
        let ams = amsgrad
        m.withUnsafeMutableBufferPointer { mb in
            G.withUnsafeMutableBufferPointer { vb in
                Gmax.withUnsafeMutableBufferPointer { xb in
                    let m = mb.baseAddress!, v = vb.baseAddress!
                    if ams {
                        let vmax = xb.baseAddress!
                        parallelChunks(count: n) { r in
                            for i in r {
                                let gi = sign * g[i] + coupled * p[i]
                                let mi = b1 * m[i] + (1 - b1) * gi
                                let vi = b2 * v[i] + (1 - b2) * gi * gi
                                let vm = Swift.max(vmax[i], vi)
                                m[i] = mi; v[i] = vi; vmax[i] = vm
                                p[i] = p[i] * shrink - stepSize * mi / (vm.nonNegativeSquareRoot * inverseCorrection2Root + eps)
                            }
                        }
                    } else {
                        parallelChunks(count: n) { r in
                            for i in r {
                                let gi = sign * g[i] + coupled * p[i]
                                let mi = b1 * m[i] + (1 - b1) * gi
                                let vi = b2 * v[i] + (1 - b2) * gi * gi
                                m[i] = mi; v[i] = vi
                                p[i] = p[i] * shrink - stepSize * mi / (vi.nonNegativeSquareRoot * inverseCorrection2Root + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}
