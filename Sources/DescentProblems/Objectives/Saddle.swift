/// The saddle f(x, y) = x² − y², ∇f = (2x, −2y): a stationary point at the origin that is not a
/// minimum; f is unbounded below, so ``minimum`` is nil. Standard start (1, 1e-3) — just off the
/// stable manifold y = 0, so a method escapes only as fast as it amplifies the y-component.
/// Plotted on [−1.5, 1.5]².
/// - Complexity: O(1) per evaluation.
public struct Saddle<Scalar: BLASScalar>: PlaneObjective {
    public var standardStart: [Scalar]
    /// Starts at the lecture's point [1, 1e-3] (docs/lecture.md).
    public init() { self.standardStart = [1, 1e-3] }
    /// Starts at `start`; throws ``DataError/dimensionMismatch(objective:expected:found:)``
    /// unless it has 2 coordinates.
    public init(start: [Scalar]) throws {
        guard start.count == 2 else { throw DataError.dimensionMismatch(objective: "saddle start", expected: 2, found: start.count) }
        self.standardStart = start
    }
    public var name: String { "saddle" }
    public var domain: PlotDomain { PlotDomain(x: -1.5...1.5, y: -1.5...1.5) }
    public var minimum: KnownMinimum<Scalar>? { nil }

    @inlinable public func value(x: Scalar, y: Scalar) -> Scalar { x * x - y * y }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == 2 && gradient.count == 2, "saddle: θ and gradient need 2 elements")
        let x = θ[0], y = θ[1]
        gradient[0] = 2 * x
        gradient[1] = -2 * y
        return x * x - y * y
    }
}
