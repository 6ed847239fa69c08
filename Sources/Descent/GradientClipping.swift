/// Clips a gradient by its global Euclidean norm, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_(max_norm:)`:
///
///     N = ‖g‖₂;   if N > c:  g ← g · c/(N + 10⁻⁶)
///
/// Returns N, the norm before clipping (as PyTorch). A non-finite N leaves g alone.
/// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` for c < 0 or NaN
///   (a negative c would flip the gradient's sign), with g unchanged; c = +∞ never clips.
/// - Complexity: one BLAS nrm2 and, when clipping, one scal: one pass over the gradient's
///   memory (read), plus one read-write pass when it clips; O(n), no allocation.
@inlinable
@discardableResult
public func clipGradientNorm<Scalar: BLASScalar>(_ gradient: UnsafeMutableBufferPointer<Scalar>, maxNorm: Scalar) throws -> Scalar {
    guard maxNorm >= 0 else {
        throw OptimizerError.invalidHyperparameter(name: "maxNorm", value: "\(maxNorm)", requirement: "≥ 0 (+∞: no clipping)")
    }
    guard let g = gradient.baseAddress, gradient.count > 0 else { return 0 }
    let norm = Scalar.nrm2(count: gradient.count, x: g, incx: 1)
    if norm.isFinite && norm > maxNorm {
        Scalar.scal(count: gradient.count, alpha: maxNorm / (norm + Scalar(1e-6)), x: g, incx: 1)
    }
    return norm
}

/// Array form of ``clipGradientNorm(_:maxNorm:)-(UnsafeMutableBufferPointer<Scalar>,_)``.
@inlinable
@discardableResult
public func clipGradientNorm<Scalar: BLASScalar>(_ gradient: inout [Scalar], maxNorm: Scalar) throws -> Scalar {
    try gradient.withUnsafeMutableBufferPointer { try clipGradientNorm($0, maxNorm: maxNorm) }
}
