/// The model as a curvature driver sees it during one step: what an optimizer that builds its
/// own quadratic model (``AdaptiveKFAC``) may ask for, on the step's own minibatch B, without
/// knowing the objective. kfac-jax passes its optimizer a `value_and_grad` function; Descent
/// passes a value of this protocol, built by the training loop from the objective (see
/// DescentProblems' `ObjectiveCurvatureModel`).
///
///     loss(at: θ')                     L_B(θ') at any θ' (the reduction ratio's L(θ + δ))
///     layerStatistics(at: θ)           one ``KroneckerBlock`` (A_l, G_l) per layer, at the step's θ
///     fisherVectorProduct(at: θ, v)    F_B(θ) v, the exact Fisher (= Gauss–Newton) times v
///
/// The loss and gradient at the step's θ are handed to the step directly (the loop has them).
/// Every method may throw (a model that cannot supply a form says so); a driver that catches
/// nothing leaves θ and its state as they were.
public protocol CurvatureModel<Scalar> {
    associatedtype Scalar: BLASScalar
    /// L_B(θ) on the step's minibatch. - Precondition: θ has the model's dimension.
    func loss(at θ: UnsafeBufferPointer<Scalar>) throws -> Scalar
    /// The layer statistics (Kronecker factors) at θ on the step's minibatch.
    func layerStatistics(at θ: UnsafeBufferPointer<Scalar>) throws -> [KroneckerBlock<Scalar>]
    /// Writes F_B(θ) v into `product` (n elements, overwritten).
    func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, vector: UnsafeBufferPointer<Scalar>,
                             product: UnsafeMutableBufferPointer<Scalar>) throws
    /// The Fisher's quadratic forms over `first` (u) and `second` (v, may be absent):
    /// (uᵀFu, ½(uᵀFv + vᵀFu), vᵀFv), zeros for the absent v. `scratch` and `scratch2` hold n
    /// elements each. The default takes two ``fisherVectorProduct(at:vector:product:)``; a
    /// data-parallel model computes them on its part of the batch and allreduces the three scalars.
    func fisherQuadraticForms(at θ: UnsafeBufferPointer<Scalar>, first: UnsafeBufferPointer<Scalar>, second: UnsafeBufferPointer<Scalar>?,
                              scratch: UnsafeMutableBufferPointer<Scalar>, scratch2: UnsafeMutableBufferPointer<Scalar>) throws
        -> (Scalar, Scalar, Scalar)
}

extension CurvatureModel {
    public func fisherQuadraticForms(at θ: UnsafeBufferPointer<Scalar>, first: UnsafeBufferPointer<Scalar>, second: UnsafeBufferPointer<Scalar>?,
                                     scratch: UnsafeMutableBufferPointer<Scalar>, scratch2: UnsafeMutableBufferPointer<Scalar>) throws
        -> (Scalar, Scalar, Scalar) {
        try fisherVectorProduct(at: θ, vector: first, product: scratch)
        return try fisherQuadraticForms(θ: θ, first: first, second: second, firstProduct: UnsafeBufferPointer(scratch), scratch2: scratch2) {
            try fisherVectorProduct(at: θ, vector: $0, product: $1)
        }
    }

    /// The forms from F·u (given) and F·v (from `product`, into `scratch2`).
    @inlinable
    public func fisherQuadraticForms(θ: UnsafeBufferPointer<Scalar>, first u: UnsafeBufferPointer<Scalar>, second v: UnsafeBufferPointer<Scalar>?,
                                     firstProduct fu: UnsafeBufferPointer<Scalar>, scratch2: UnsafeMutableBufferPointer<Scalar>,
                                     product: (UnsafeBufferPointer<Scalar>, UnsafeMutableBufferPointer<Scalar>) throws -> Void) throws
        -> (Scalar, Scalar, Scalar) {
        let n = u.count
        let c00 = Scalar.dot(count: n, x: u.baseAddress!, incx: 1, y: fu.baseAddress!, incy: 1)
        guard let v else { return (c00, 0, 0) }
        try product(v, scratch2)
        let fv = scratch2.baseAddress!
        let c01 = (Scalar.dot(count: n, x: u.baseAddress!, incx: 1, y: fv, incy: 1) + Scalar.dot(count: n, x: v.baseAddress!, incx: 1, y: fu.baseAddress!, incy: 1)) / 2
        return (c00, c01, Scalar.dot(count: n, x: v.baseAddress!, incx: 1, y: fv, incy: 1))
    }
}

/// An optimizer that asks the model itself for what its step needs (loss at a trial point,
/// layer statistics, Fisher-vector products) through a ``CurvatureModel``, instead of being
/// fed a curvature before the step. The training loop calls
/// ``step(_:loss:gradient:model:)``; the plain ``Optimizer/step(_:gradient:)`` throws, since
/// such a step cannot be taken without the model.
public protocol ModelDrivenOptimizer<Scalar>: Optimizer {
    /// One step from θ (updated in place) with the loss and gradient at θ on the step's batch.
    /// After a throw θ and the state are bit-identical to before.
    mutating func step<Model: CurvatureModel>(_ parameters: UnsafeMutableBufferPointer<Scalar>, loss: Scalar,
                                              gradient: UnsafeBufferPointer<Scalar>, model: Model) throws
        where Model.Scalar == Scalar
}
