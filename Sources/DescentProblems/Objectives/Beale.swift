/// Beale's function,
///
///     f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²,
///
/// minimum 0 at (3, 0.5); standard start (1, 1.5); plotted on [−4.5, 4.5] × [−4.5, 4.5].
/// With rⱼ = cⱼ − x + x yʲ (c = 1.5, 2.25, 2.625): ∂rⱼ/∂x = yʲ − 1, ∂rⱼ/∂y = j x yʲ⁻¹, ∇f = 2 Jᵀr.
///
/// ``outputJacobian(at:batch:)`` gives J (3 × 2) as one Gaussian sample (β = 1): F = JᵀJ.
/// - Complexity: O(1) per evaluation.
public struct Beale<Scalar: BLASScalar>: PlaneObjective {
    public var standardStart: [Scalar]
    /// Starts at the lecture's point [1, 1.5] (docs/lecture.md).
    public init() { self.standardStart = [1, 1.5] }
    /// Starts at `start`; throws ``DataError/dimensionMismatch(objective:expected:found:)``
    /// unless it has 2 coordinates.
    public init(start: [Scalar]) throws {
        guard start.count == 2 else { throw DataError.dimensionMismatch(objective: "beale start", expected: 2, found: start.count) }
        self.standardStart = start
    }
    public var name: String { "beale" }
    public var domain: PlotDomain { PlotDomain(x: -4.5...4.5, y: -4.5...4.5) }
    public var minimum: KnownMinimum<Scalar>? { KnownMinimum(point: [3, 0.5], value: 0) }

    @inlinable func residuals(_ x: Scalar, _ y: Scalar) -> (Scalar, Scalar, Scalar) {
        (1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y)
    }

    @inlinable public func value(x: Scalar, y: Scalar) -> Scalar {
        let (r1, r2, r3) = residuals(x, y)
        return r1 * r1 + r2 * r2 + r3 * r3
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == 2 && gradient.count == 2, "beale: θ and gradient need 2 elements")
        let x = θ[0], y = θ[1]
        let (r1, r2, r3) = residuals(x, y)
        let y2 = y * y, y3 = y2 * y
        gradient[0] = 2 * (r1 * (y - 1) + r2 * (y2 - 1) + r3 * (y3 - 1))
        gradient[1] = 2 * (r1 * x + r2 * 2 * x * y + r3 * 3 * x * y2)
        return r1 * r1 + r2 * r2 + r3 * r3
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        let x = θ[0], y = θ[1]
        let j = try! Matrix<Scalar>(rows: 3, columns: 2, elements: [y - 1, x, y * y - 1, 2 * x * y, y * y * y - 1, 3 * x * y * y])
        return OutputJacobian(jacobian: j, samples: 1, outputs: 3, distribution: .gaussian(beta: 1))
    }
}
