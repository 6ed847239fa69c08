/// How ``NaturalGradient`` solves (F + λI) x = ∇L.
///
/// - ``cholesky``: form the n × n matrix F + λI and factor it (LAPACK `potrf`, n³/3 flops),
///   then `potrs` (2n² flops). Needs n² scalars of memory.
/// - ``woodbury``: for a curvature given by r < n rows U (F = UᵀU: per-sample scores or
///   Jacobians), factor the r × r matrix λI + UUᵀ (r²n + r³/3 flops) and apply
///   (λI + UᵀU)⁻¹g = (g − Uᵀ(λI + UUᵀ)⁻¹Ug)/λ with two `gemv`s; never forms an n × n matrix.
///   Needs λ > 0 (a requested λ = 0 starts at 10⁻⁶·tr(F)/n instead) and no curvature
///   moving average.
/// - ``mixedPrecision``: Cholesky with the factor in Float (`ssyrk`/`spotrf`, about twice as
///   fast as Double) and Double accuracy by iterative refinement against the exact F̃ (LAPACK's
///   `dsposv` scheme); falls back to the Double factor when refinement does not converge
///   (cond(F̃) beyond ~10⁷). The same as ``cholesky`` for `Float`.
/// - ``automatic``: Woodbury when the curvature has fewer rows than parameters and no moving
///   average is kept; otherwise Cholesky, in mixed precision for Double from
///   ``NaturalGradient/mixedPrecisionThreshold`` parameters. A diagonal metric is always
///   solved element-wise. ``NaturalGradient/activeSolver`` reports the choice.
public enum NaturalGradientSolver: String, Codable, Sendable, CaseIterable {
    case automatic
    case cholesky
    case woodbury
    case mixedPrecision
}
