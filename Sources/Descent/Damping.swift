/// The damping λ of ``NaturalGradient``: the step solves (F + λI) x = ∇L.
///
/// - ``fixed(_:)``: a constant λ ≥ 0 (λ = 0 is allowed where F is positive definite).
/// - ``levenbergMarquardt(initial:factor:minimum:maximum:)``: λ adapted from the reduction ratio
///   ρ = (L(θ + δθ) − L(θ)) / (q(δθ) − q(0)) the caller reports through
///   ``NaturalGradient/reportLoss(before:after:)``, with the quadratic model
///   q(δ) = L(θ) + ∇Lᵀδ + ½ δᵀF̄δ (F̄ the curvature in the factor, undamped):
///
///       ρ > 3/4:  λ ← max(λ / ω, λmin)
///       ρ < 1/4:  λ ← min(λ · ω, λmax)
///
///   Defaults ω = 3/2, λmin = 1e-8, λmax = 1e8 (Martens' Hessian-free choices, 2010).
///
/// If the Cholesky factorization of F + λI fails, ``NaturalGradient`` raises λ tenfold and
/// retries (see ``NaturalGradient/maximumDampingRetries``); with Levenberg–Marquardt damping the
/// raised λ becomes the adapted value.
public enum Damping<Scalar: BLASScalar>: Codable, Sendable, Equatable {
    /// A constant λ ≥ 0.
    case fixed(Scalar)
    /// λ starts at `initial` and is divided or multiplied by `factor` (ω > 1) after each
    /// reported loss, clamped to [`minimum`, `maximum`] (0 < λmin ≤ λ₀ ≤ λmax).
    case levenbergMarquardt(initial: Scalar, factor: Scalar = 1.5, minimum: Scalar = 1e-8, maximum: Scalar = 1e8)

    /// λ before any adaptation.
    public var initial: Scalar {
        switch self {
        case let .fixed(v): return v
        case let .levenbergMarquardt(initial, _, _, _): return initial
        }
    }

    /// Throws ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` naming the first
    /// value out of range.
    public func validate() throws {
        switch self {
        case let .fixed(v):
            try Hyperparameter.nonNegative("damping", v)
        case let .levenbergMarquardt(initial, factor, minimum, maximum):
            guard factor > 1, factor.isFinite else {
                throw OptimizerError.invalidHyperparameter(name: "damping.factor", value: "\(factor)", requirement: "finite and > 1")
            }
            try Hyperparameter.positive("damping.minimum", minimum)
            try Hyperparameter.positive("damping.maximum", maximum)
            guard minimum <= maximum else {
                throw OptimizerError.invalidHyperparameter(name: "damping.minimum", value: "\(minimum)", requirement: "≤ damping.maximum = \(maximum)")
            }
            guard initial >= minimum, initial <= maximum else {
                throw OptimizerError.invalidHyperparameter(name: "damping.initial", value: "\(initial)", requirement: "in [\(minimum), \(maximum)]")
            }
        }
    }

    /// The reduction ratio ρ = (after − before) / predicted of a step whose quadratic model
    /// predicted the change `predicted` = q(δ) − q(0): −∞ when `after` is not finite (a bad
    /// step), NaN when the model predicts no decrease (`predicted` ≥ 0: nothing to compare).
    @inlinable
    public static func reductionRatio(before: Scalar, after: Scalar, predicted: Scalar) -> Scalar {
        if !after.isFinite { return -.infinity }
        if predicted < 0 { return (after - before) / predicted }
        return .nan
    }

    /// The λ to keep after a factorization that needed `used` where `requested` was asked
    /// (the retries raised it): with Levenberg–Marquardt min(used, λmax), which becomes the
    /// adapted λ; nil when nothing was raised or the damping is fixed.
    @inlinable
    public func retained(used: Scalar, requested: Scalar) -> Scalar? {
        guard used > requested, case let .levenbergMarquardt(_, _, _, maximum) = self else { return nil }
        return Swift.min(used, maximum)
    }

    /// The Levenberg–Marquardt update of `lambda` for the reduction ratio `rho`; a fixed
    /// damping returns `lambda` unchanged, and so does a NaN ρ (no predicted reduction).
    /// A ρ of −∞ (the loss became non-finite) counts as a bad step.
    @inlinable
    public func adapted(_ lambda: Scalar, rho: Scalar) -> Scalar {
        guard case let .levenbergMarquardt(_, omega, minimum, maximum) = self, !rho.isNaN else { return lambda }
        if rho > 0.75 { return Swift.max(lambda / omega, minimum) }
        if rho < 0.25 { return Swift.min(lambda * omega, maximum) }
        return lambda
    }
}
