/// Rosenbrock's banana valley,
///
///     f(x, y) = (1 − x)² + 100 (y − x²)²,
///     ∇f = (−2(1 − x) − 400 x (y − x²),  200 (y − x²)),
///
/// minimum 0 at (1, 1); standard start (−1.5, 2); plotted on [−2, 2] × [−1, 3].
///
/// ``outputJacobian(at:batch:)`` writes f = ‖r‖² with r = (1 − x, 10(y − x²)) as one Gaussian
/// sample (β = 1): J = [[−1, 0], [−20x, 10]], F = JᵀJ, the Gauss–Newton matrix (half the
/// Gauss–Newton Hessian approximation 2JᵀJ).
/// - Complexity: O(1) per evaluation.
public struct Rosenbrock<Scalar: BLASScalar>: PlaneObjective {
    public var standardStart: [Scalar]
    /// Starts at the lecture's point [-1.5, 2] (docs/lecture.md).
    public init() { self.standardStart = [-1.5, 2] }
    /// Starts at `start`; throws ``DataError/dimensionMismatch(objective:expected:found:)``
    /// unless it has 2 coordinates.
    public init(start: [Scalar]) throws {
        guard start.count == 2 else { throw DataError.dimensionMismatch(objective: "rosenbrock start", expected: 2, found: start.count) }
        self.standardStart = start
    }
    public var name: String { "rosenbrock" }
    public var domain: PlotDomain { PlotDomain(x: -2...2, y: -1...3) }
    public var minimum: KnownMinimum<Scalar>? { KnownMinimum(point: [1, 1], value: 0) }

    @inlinable public func value(x: Scalar, y: Scalar) -> Scalar {
        let u = 1 - x, v = y - x * x
        return u * u + 100 * v * v
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == 2 && gradient.count == 2, "rosenbrock: θ and gradient need 2 elements")
        let x = θ[0], y = θ[1]
        let u = 1 - x, v = y - x * x
        gradient[0] = -2 * u - 400 * x * v
        gradient[1] = 200 * v
        return u * u + 100 * v * v
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        let j = try! Matrix<Scalar>(rows: 2, columns: 2, elements: [-1, 0, -20 * θ[0], 10])
        return OutputJacobian(jacobian: j, samples: 1, outputs: 2, distribution: .gaussian(beta: 1))
    }
}
