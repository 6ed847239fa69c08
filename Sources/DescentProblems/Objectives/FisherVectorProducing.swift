/// An objective whose model has an output distribution can multiply its Fisher matrix by a
/// vector without forming it: the Gauss–Newton product
///
///     F_B(θ) v = (1/|B|) Σ_{i∈B} Jᵢᵀ Hᵢ (Jᵢ v),
///
/// with Jᵢ the Jacobian of sample i's output (logits, or the mean of a Gaussian output) and Hᵢ
/// the Hessian of the loss in that output (see ``OutputDistribution``): one forward-mode pass
/// (the R-operator) for Jᵢ v, then one backward pass. For these losses the generalized
/// Gauss–Newton matrix and the Fisher coincide. See docs/lecture.md, "Fisher information".
public protocol FisherVectorProducing<Scalar>: Objective {
    /// Writes F_B(θ) v into `product` (n elements, overwritten); `batch` nil means all samples.
    /// - Precondition: θ, `vector` and `product` have ``Objective/dimension`` elements; the batch
    ///   is non-empty and in range.
    func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                             vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>)
}
