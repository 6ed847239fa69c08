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

extension FisherVectorProducing {
    /// F_B(θ) v as a new array (see ``fisherVectorProduct(at:batch:vector:product:)``).
    /// - Throws: ``DataError`` when θ's count or a batch index does not fit (see
    ///   ``Objective/checkArguments(_:batch:)``), ``DataError/shapeMismatch(_:)`` when `vector`
    ///   does not have ``Objective/dimension`` values; nothing is evaluated then.
    /// - Complexity: the unsafe variant's plus one n-array.
    @inlinable
    public func fisherVectorProduct(at θ: [Scalar], batch: [Int]? = nil, vector: [Scalar]) throws -> [Scalar] {
        try checkArguments(θ, batch: batch)
        guard vector.count == dimension else {
            throw DataError.shapeMismatch("\(name): the vector of the Fisher-vector product has \(vector.count) values, expected \(dimension)")
        }
        var product = [Scalar](repeating: 0, count: dimension)
        θ.withUnsafeBufferPointer { tp in
            vector.withUnsafeBufferPointer { vp in
                product.withUnsafeMutableBufferPointer { pp in
                    withOptionalBuffer(batch) { bp in fisherVectorProduct(at: tp, batch: bp, vector: vp, product: pp) }
                }
            }
        }
        return product
    }
}
