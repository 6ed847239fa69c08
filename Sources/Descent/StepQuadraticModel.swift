/// The quadratic model of the loss over the span of two directions, the preconditioned gradient
/// Δ and the previous update δ (Martens & Grosse 2015 §7; kfac-jax's `QuadModelParams`):
///
///     M(w) = ½ wᵀ (C + λ D) w + wᵀ b,   update = w₀ Δ + w₁ δ,
///     C = [vᵢᵀ F vⱼ],  D = [vᵢᵀ vⱼ],  b = [∇Lᵀ vᵢ]      (v = (Δ, δ), F the exact Fisher)
///
/// ``coefficients(damping:momentum:)`` minimizes M: the 2 × 2 solve w = −(C + λD)⁻¹ b; when the
/// second row and column of C + λD are exactly zero (δ = 0, the first step) w = (−b₀/(C+λD)₀₀, 0);
/// with a fixed momentum μ, w₁ = μ and w₀ = −(b₀ + (C+λD)₀₁ μ)/(C+λD)₀₀. The learning rate is
/// α = −w₀ and the momentum μ = w₁. ``change(_:)`` is M's predicted change without the damping
/// term, ½ wᵀ C w + wᵀ b (kfac-jax's default `include_damping_in_quad_change = False`), the
/// denominator of the reduction ratio.
///
/// - Complexity: O(1). Error: the 2 × 2 solve by Cramer's rule, relative error ≲ κ(C + λD)·ε.
public struct StepQuadraticModel<Scalar: BLASScalar>: Sendable, Equatable {
    /// C = [vᵢᵀ F vⱼ], symmetric: c00, c01 (= c10), c11.
    public var c00: Scalar, c01: Scalar, c11: Scalar
    /// D = [vᵢᵀ vⱼ].
    public var d00: Scalar, d01: Scalar, d11: Scalar
    /// b = [∇Lᵀ vᵢ].
    public var b0: Scalar, b1: Scalar

    public init(c00: Scalar, c01: Scalar, c11: Scalar, d00: Scalar, d01: Scalar, d11: Scalar, b0: Scalar, b1: Scalar) {
        self.c00 = c00; self.c01 = c01; self.c11 = c11
        self.d00 = d00; self.d01 = d01; self.d11 = d11
        self.b0 = b0; self.b1 = b1
    }

    /// The minimizing (w₀, w₁) of M for damping λ; `momentum` nil adapts w₁ as well.
    @inlinable
    public func coefficients(damping lambda: Scalar, momentum: Scalar? = nil) -> (Scalar, Scalar) {
        let a00 = c00 + lambda * d00, a01 = c01 + lambda * d01, a11 = c11 + lambda * d11
        if let mu = momentum {
            return (-(b0 + a01 * mu) / a00, mu)
        }
        if a01 == 0 && a11 == 0 {
            return (-b0 / a00, 0)
        }
        let det = a00 * a11 - a01 * a01
        return (-(a11 * b0 - a01 * b1) / det, -(a00 * b1 - a01 * b0) / det)
    }

    /// ½ wᵀ C w + wᵀ b (no damping term).
    @inlinable
    public func change(_ w: (Scalar, Scalar)) -> Scalar {
        let cw0 = c00 * w.0 + c01 * w.1, cw1 = c01 * w.0 + c11 * w.1
        return (w.0 * cw0 + w.1 * cw1) / 2 + (w.0 * b0 + w.1 * b1)
    }

    /// kfac-jax's damping rule (`_compute_new_damping_and_rho`): ρ = (L(θ + δ) − L(θ)) / M-change,
    /// NaN read as −100, then with ω = decay^interval
    ///
    ///     ρ > 3/4: λ ← λω,   ρ < 1/4: λ ← λ/ω,   else λ,   then clamped to [λmin, λmax].
    ///
    /// Returns the new λ and ρ (unclamped, NaN where the quotient is).
    @inlinable
    public static func adaptedDamping(_ lambda: Scalar, lossBefore: Scalar, lossAfter: Scalar, predictedChange: Scalar,
                                      factor omega: Scalar, minimum: Scalar, maximum: Scalar,
                                      lowerThreshold: Scalar = 0.25, upperThreshold: Scalar = 0.75) -> (damping: Scalar, rho: Scalar) {
        let rho = (lossAfter - lossBefore) / predictedChange
        let r = rho.isNaN ? -100 : rho
        var next = lambda
        if r > upperThreshold { next = lambda * omega } else if r < lowerThreshold { next = lambda / omega }
        return (Swift.min(Swift.max(next, minimum), maximum), rho)
    }
}
