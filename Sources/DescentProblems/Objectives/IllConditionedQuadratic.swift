/// The lecture's ill-conditioned quadratic, in the "squeezed" coordinates the optimizer sees:
///
///     L(x̃, ỹ) = a² x̃² + b² ỹ²,        x̃ = x / a,  ỹ = y / b,
///
/// which is the round bowl x² + y² seen through the metric G = diag(a², b²). θ = (x̃, ỹ).
///
///     ∇L = 2 (a² x̃, b² ỹ),     natural gradient G⁻¹∇L = 2 (x̃, ỹ).
///
/// The condition number of the Hessian is max(a², b²)/min(a², b²). Defaults a = 1, b = 10
/// (condition number 100), start (x̃, ỹ) = (1, 1), minimum 0 at the origin.
///
/// ``outputJacobian(at:batch:)`` writes L = ‖r‖² with residuals r = (a x̃, b ỹ) as one sample of a
/// Gaussian output (β = 1): J = diag(a, b), so F = JᵀJ = G exactly, the lecture's metric.
/// - Complexity: O(1) per evaluation.
public struct IllConditionedQuadratic<Scalar: BLASScalar>: PlaneObjective {
    public var a: Scalar
    public var b: Scalar
    public var standardStart: [Scalar]

    /// The lecture's quadratic, starting at (1, 1).
    public init(a: Scalar = 1, b: Scalar = 10) {
        self.a = a
        self.b = b
        self.standardStart = [1, 1]
    }

    /// Starts at `start`; throws ``DataError/dimensionMismatch(objective:expected:found:)``
    /// unless it has 2 coordinates.
    public init(a: Scalar = 1, b: Scalar = 10, start: [Scalar]) throws {
        guard start.count == 2 else { throw DataError.dimensionMismatch(objective: "quadratic start", expected: 2, found: start.count) }
        self.a = a
        self.b = b
        self.standardStart = start
    }

    public var name: String { "quadratic" }

    @inlinable public func value(x: Scalar, y: Scalar) -> Scalar { a * a * x * x + b * b * y * y }

    public var domain: PlotDomain {
        let s = Swift.max(1.5 * Swift.max(abs(Double(standardStart[0])), abs(Double(standardStart[1]))), 1e-3)
        return PlotDomain(x: -s...s, y: -s...s)
    }

    public var minimum: KnownMinimum<Scalar>? { KnownMinimum(point: [0, 0], value: 0) }

    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == 2 && gradient.count == 2, "quadratic: θ and gradient need 2 elements")
        let x = θ[0], y = θ[1]
        gradient[0] = 2 * a * a * x
        gradient[1] = 2 * b * b * y
        return value(x: x, y: y)
    }

    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        let j = try! Matrix<Scalar>(rows: 2, columns: 2, elements: [a, 0, 0, b])
        return OutputJacobian(jacobian: j, samples: 1, outputs: 2, distribution: .gaussian(beta: 1))
    }
}
