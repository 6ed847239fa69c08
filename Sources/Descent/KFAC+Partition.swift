/// KAISA's division of K-FAC's work over processes (Pauloski et al., SC 2021): the damped
/// factorizations and the preconditioning of layer l are done by one process only (the
/// *owner*, round-robin: l mod P), and the preconditioned layer updates are then shared so that
/// every process holds the whole direction x and takes the same step.
///
/// The factor averages Ā_l, Ḡ_l are the same on every process (the data-parallel layer sums
/// the factors before the moving average), so the owner's x_l is bit-identical to the x_l every
/// process would compute alone, and the step equals the replicated one bit for bit.
///
/// `package`-level: set by `DescentDistributed`'s optimizer wrapper; nil (one process does
/// everything) otherwise. Not saved in checkpoints (the wrapper sets it again on restore).
@usableFromInline package protocol KFACWorkSharing: Sendable {
    /// Whether this process factors and preconditions layer `layer` (of `count` layers).
    func owns(layer: Int, of count: Int) -> Bool
    /// Collective: the lowest failing layer over the processes (a factorization of one of this
    /// process's layers failed when `failedLayer` is non-nil), nil when none failed.
    func firstFailure(_ failedLayer: Int?) throws -> Int?
    /// Collective: on entry the blocks of the owned layers of `direction` hold their x_l; on
    /// return every block holds its owner's x_l.
    func share<S: BLASScalar>(_ direction: UnsafeMutableBufferPointer<S>, layers: [KFACLayer]) throws
}

extension KFAC {
    /// Whether this process factors and preconditions layer `l` (all layers without sharing).
    @inlinable
    func ownsLayer(_ l: Int) -> Bool { workSharing?.owns(layer: l, of: layers.count) ?? true }

    /// The refactoring's outcome agreed over the processes: the first failing layer anywhere.
    @inlinable
    func agreedFailure(_ local: (layer: Int, factor: String, order: Int)?) throws -> (layer: Int, factor: String, order: Int)? {
        guard let workSharing else { return local }
        guard let layer = try workSharing.firstFailure(local?.layer) else { return nil }
        if let local, local.layer == layer { return local }
        return (layer, "A or G (factored by another process)", 0)
    }
}
