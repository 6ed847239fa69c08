/// One block of a block-diagonal curvature approximation C ≈ diag(C₁, …, C_L), over one slice
/// of θ (kfac-jax's `CurvatureBlock`): it keeps a moving average of its statistics and a cached
/// damped inverse, and applies that inverse to the gradient's slice.
///
/// The driver (``AdaptiveKFAC``) owns everything that is common: when statistics are absorbed
/// and with which weights, when the inverse is refreshed and with which damping λ, the retry on
/// a failed factorization and the transactional commit. A block therefore works in two phases,
/// *stage* (writes only into its spare buffers, may fail) and *commit* (swaps them in, cannot
/// fail); ``discardStaged()`` drops what was staged. A thrown error or a discarded stage leaves
/// the block bit-identical.
///
/// Kinds: Kronecker-factored (``KroneckerFactoredBlock``, dense layers); a diagonal, dense,
/// eigenbasis (EKFAC) or matrix-root (Shampoo) block is one more conforming type plus one
/// ``CurvatureBlockKind`` case — the driver and the other blocks stay as they are.
public protocol CurvatureBlock<Scalar>: Codable, Sendable {
    associatedtype Scalar: BLASScalar
    /// The parameters this block covers.
    var parameterRange: Range<Int> { get }
    /// Stages the average ← keep · average + take · statistics (kfac-jax's weighted moving
    /// average with keep = 1 − take). - Throws: ``KFACError`` for statistics of another shape
    /// or with a non-finite entry.
    mutating func stageAverage(_ statistics: KroneckerBlock<Scalar>, keep: Scalar, take: Scalar) throws
    /// Stages the damped inverse of the (staged, else committed) average for damping λ; returns
    /// nil on success, else the failing factor's name and leading-minor order.
    mutating func stageInverse(damping: Scalar) -> (factor: String, order: Int)?
    /// x ← C̃⁻¹ g on this block's slice (the staged inverse if one is staged); `work` holds
    /// ``workCount`` elements.
    func applyInverse(_ gradient: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, work: UnsafeMutablePointer<Scalar>)
    /// Scratch elements ``applyInverse(_:into:work:)`` needs.
    var workCount: Int { get }
    /// Makes the staged average and inverse the committed ones.
    mutating func commitStaged()
    /// Drops whatever was staged.
    mutating func discardStaged()
    /// Whether an inverse has been committed.
    var hasInverse: Bool { get }
    /// Checks a decoded state (buffer lengths, finiteness). - Throws: a message for
    /// ``OptimizerError/corruptCheckpoint(_:)``.
    func validateState() throws
}

/// The registry from the kind of a parameter slice to the block that approximates its
/// curvature. Layer statistics of a dense layer ([W | b], Kronecker factors A and G) map to
/// ``KroneckerFactoredBlock``.
public enum CurvatureBlockKind: String, Codable, Sendable, CaseIterable {
    /// A dense layer's [W | b] with Kronecker factors A ⊗ G.
    case kroneckerFactored

    /// The kind for a layer's statistics.
    public static func kind<Scalar>(of statistics: KroneckerBlock<Scalar>) -> CurvatureBlockKind { .kroneckerFactored }

    /// A new, empty block of this kind for the slice `statistics` describe.
    public func makeBlock<Scalar: BLASScalar>(for statistics: KroneckerBlock<Scalar>) throws -> KroneckerFactoredBlock<Scalar> {
        switch self {
        case .kroneckerFactored:
            return try KroneckerFactoredBlock(layer: KFACLayer(offset: statistics.parameterOffset, outputs: statistics.outputs,
                                                               inputs: statistics.inputs))
        }
    }
}
