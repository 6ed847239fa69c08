/// The Jacobian of a model's output w.r.t. the parameters, for m samples with k outputs each,
/// and the distribution the output parameterizes: what the Fisher of docs/lecture.md needs,
///
///     F = (1/m) Σᵢ Jᵢᵀ Hᵢ Jᵢ,
///
/// where Jᵢ (k × n) is rows i·k ..< (i+1)·k of ``jacobian`` and Hᵢ depends on the distribution
/// (see ``OutputDistribution``).
public struct OutputJacobian<Scalar: BLASScalar>: Sendable, Equatable {
    /// (m·k) × n, row i·k + c = ∂(output c of sample i)/∂θ.
    public var jacobian: Matrix<Scalar>
    /// m, the number of samples stacked.
    public var samples: Int
    /// k, outputs per sample.
    public var outputs: Int
    /// The output distribution, fixing Hᵢ.
    public var distribution: OutputDistribution<Scalar>

    public init(jacobian: Matrix<Scalar>, samples: Int, outputs: Int, distribution: OutputDistribution<Scalar>) {
        precondition(jacobian.rows == samples * outputs, "OutputJacobian: \(jacobian.rows) rows for \(samples) samples × \(outputs) outputs")
        self.jacobian = jacobian
        self.samples = samples
        self.outputs = outputs
        self.distribution = distribution
    }
}

/// The distribution of a model output, which fixes the Fisher's middle factor Hᵢ.
public enum OutputDistribution<Scalar: BLASScalar>: Sendable, Equatable {
    /// Gaussian output y ~ N(ŷ, β⁻²I): the Jacobian is of ŷ and Hᵢ = β² I, docs/lecture.md's
    /// F_linear = β² E[J_yᵀ J_y]. β = 1 for the loss ½‖y − ŷ‖².
    case gaussian(beta: Scalar)
    /// Independent Bernoulli outputs p = σ(z): the Jacobian is of the logits z and
    /// Hᵢ = diag(p(1 − p)) — docs/lecture.md's F_sigmoid = E[J_pᵀ diag(1/(p(1−p))) J_p] with
    /// J_p = diag(p(1−p)) J_z. `probabilities` has m·k entries, sample-major.
    case bernoulli(probabilities: [Scalar])
    /// Categorical output p = softmax(z): the Jacobian is of the logits z and
    /// Hᵢ = diag(pᵢ) − pᵢpᵢᵀ. `probabilities` is m × k.
    case categorical(probabilities: Matrix<Scalar>)
    /// Poisson counts with the log link, μ = exp(z): the Jacobian is of the log-rates z and
    /// Hᵢ = μᵢ (the variance; the Fisher of a Poisson GLM, E[−∇² log p] = Σ μᵢ xᵢxᵢᵀ).
    /// `rates` has m entries.
    case poisson(rates: [Scalar])
}
