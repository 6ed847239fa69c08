import DescentLinearAlgebra
import DescentProblems

// What every test target shares, written once: the precisions, the tolerances against a Double
// scalar reference, the error measures, bitwise comparison and the seeded generator's helpers.
// A target of its own (not a product), so test targets depend on it and users never see it.

/// The two precisions every generic test runs in (`@Test(arguments: Precision.allCases)`).
public enum Precision: String, CaseIterable, Sendable, CustomStringConvertible {
    case float, double
    public var description: String { rawValue }
    /// `Float.self` or `Double.self`: pass it to a generic `check<S: BLASScalar>(_: S.Type)`,
    /// which opens it, so a test is written once for both precisions.
    public var scalarType: any BLASScalar.Type { self == .float ? Float.self : Double.self }
}

/// The two precisions as metatypes, for tests that open `any BLASScalar.Type` generically.
public let precisions: [any BLASScalar.Type] = [Float.self, Double.self]

/// Relative tolerance of a result against a scalar reference computed in Double:
/// 1e-12 for Double, 1e-5 for Float.
public func tolerance<S: BLASScalar>(_: S.Type) -> Double { S.self == Double.self ? 1e-12 : 1e-5 }

/// Normwise relative error ‖x − r‖∞ / max(‖r‖∞, floor); 0 when x = r, +∞ for a NaN in x.
/// `floor: 1` gives the mixed measure (absolute below 1, relative above) for references near 0.
public func relativeError<S: BinaryFloatingPoint, T: BinaryFloatingPoint>(_ x: [S], _ r: [T], floor: Double = 0) -> Double {
    precondition(x.count == r.count, "relativeError: \(x.count) vs \(r.count) elements")
    var num = 0.0, den = floor
    for (a, b) in zip(x, r) {
        let d = Swift.abs(Double(a) - Double(b))
        num = Swift.max(num, d.isNaN ? .infinity : d)
        den = Swift.max(den, Swift.abs(Double(b)))
    }
    return num == 0 ? 0 : num / den
}

/// |x − r| / max(|r|, floor) for one value (0 when equal, +∞ for NaN).
public func relativeError<S: BinaryFloatingPoint>(_ x: S, _ r: S, floor: Double = 0) -> Double {
    relativeError([x], [r], floor: floor)
}

/// Bitwise equality (NaN-safe, distinguishes ±0).
public func bitIdentical<S: BLASScalar>(_ a: [S], _ b: [S]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

extension BLASScalar {
    /// The value's bits, widened: for bitwise comparisons and ulp distances.
    public var bitPattern: UInt64 {
        if let f = self as? Float { return UInt64(f.bitPattern) }
        return (self as! Double).bitPattern
    }
}

/// The tests' generator is the library's `SplitMix64` (DescentProblems), written once.
extension SplitMix64 {
    /// Uniform in [−1, 1) from 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }

    /// n values uniform in [−scale, scale], rounded to S.
    public mutating func vector<S: BLASScalar>(_ n: Int, scale: Double = 1, as _: S.Type = S.self) -> [S] {
        (0..<n).map { _ in S(Double.random(in: -scale...scale, using: &self)) }
    }
}
