/// A two-parameter test function f(x, y), with what a contour plot needs: a domain, the known
/// minimum (if any) and a conventional starting point.
///
/// Parameters are θ = (x, y). `sampleCount` is 0 and batches are ignored.
public protocol PlaneObjective<Scalar>: Objective {
    /// f(x, y). - Complexity: O(1).
    func value(x: Scalar, y: Scalar) -> Scalar
    /// The rectangle to plot.
    var domain: PlotDomain { get }
    /// The global minimizer and minimum, or nil when f is unbounded below (the saddle).
    var minimum: KnownMinimum<Scalar>? { get }
    /// The conventional starting point, also returned by ``Objective/initialParameters(seed:)``.
    var standardStart: [Scalar] { get }
}

extension PlaneObjective {
    public var sampleCount: Int { 0 }
    public var dimension: Int { 2 }
    public func initialParameters(seed: UInt64) -> [Scalar] { standardStart }

    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == 2, "\(name): θ has \(θ.count) elements, expected 2")
        return value(x: θ[0], y: θ[1])
    }
}

/// The rectangle [xMin, xMax] × [yMin, yMax] of a contour plot.
public struct PlotDomain: Sendable, Equatable, Codable {
    public var x: ClosedRange<Double>
    public var y: ClosedRange<Double>
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>) {
        self.x = x
        self.y = y
    }
}

/// A known global minimizer (x*, y*) and its value f*.
public struct KnownMinimum<Scalar: BLASScalar>: Sendable, Equatable {
    public var point: [Scalar]
    public var value: Scalar
    public init(point: [Scalar], value: Scalar) {
        self.point = point
        self.value = value
    }
}
