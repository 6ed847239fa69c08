/// What a second-order optimizer asks of the model before its next step.
public enum CurvatureRequest: String, Sendable, Codable, Equatable {
    /// A ``Curvature`` (a metric, a Fisher matrix, its rows or its Jacobian form) at θ on the
    /// step's minibatch.
    case matrix
    /// Kronecker factors A_l, G_l per layer (K-FAC), see ``KroneckerBlock``.
    case kronecker
}

/// A curvature estimate handed to a ``SecondOrderOptimizer``.
public enum CurvatureEstimate<Scalar: BLASScalar> {
    case matrix(Curvature<Scalar>)
    case kronecker([KroneckerBlock<Scalar>])
}

/// One fully connected layer's Kronecker-factored Fisher block F_l ≈ A_l ⊗ G_l (K-FAC) over
/// the parameters `parameterOffset ..< parameterOffset + outputs · inputs`, laid out row-major
/// as [W | b] (`outputs` rows of `inputs` = fan-in + 1 entries, the bias last).
///
///     A_l = (1/m) Σᵢ āᵢ āᵢᵀ        (inputs × inputs,  ā = [a; 1])
///     G_l = (1/m) Σᵢ Bᵢᵀ Λᵢ Bᵢ     (outputs × outputs)
///
/// Both are dense, symmetric, row-major.
public struct KroneckerBlock<Scalar: BLASScalar>: Sendable {
    public var parameterOffset: Int
    public var outputs: Int
    public var inputs: Int
    /// A_l, inputs × inputs.
    public var activations: [Scalar]
    /// G_l, outputs × outputs.
    public var preactivationGradients: [Scalar]

    public init(parameterOffset: Int, outputs: Int, inputs: Int, activations: [Scalar], preactivationGradients: [Scalar]) {
        self.parameterOffset = parameterOffset
        self.outputs = outputs
        self.inputs = inputs
        self.activations = activations
        self.preactivationGradients = preactivationGradients
    }
}

/// An optimizer that needs curvature from the model (the natural gradient, K-FAC): the training
/// loop asks ``curvatureRequest`` before every step and, when it is not nil, supplies the
/// estimate on the step's own minibatch with ``updateCurvature(_:)``; after the step it reports
/// the loss on the same minibatch when ``wantsLossReports`` (Levenberg–Marquardt damping).
/// First-order optimizers know nothing of this.
public protocol SecondOrderOptimizer<Scalar>: Optimizer {
    /// What the next step needs, or nil when it reuses what it has (its cadence).
    var curvatureRequest: CurvatureRequest? { get }
    /// Absorbs a curvature estimate (into its moving average, when it keeps one).
    mutating func updateCurvature(_ estimate: CurvatureEstimate<Scalar>) throws
    /// True when the optimizer adapts from the loss after each step.
    var wantsLossReports: Bool { get }
    /// Reports the loss before and after the last step, on the same data.
    mutating func reportLoss(before: Scalar, after: Scalar) throws
}
