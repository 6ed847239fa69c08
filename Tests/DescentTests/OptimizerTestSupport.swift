import Descent
import Foundation
import Testing

/// Shared helpers of the first-order optimizer tests.
enum OptimizerTestSupport {
    /// The two precisions every generic test runs in.
    enum Precision: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case float, double
        var testDescription: String { rawValue }
    }

    /// Relative tolerance against a scalar reference computed in Double.
    static func tolerance<S: BLASScalar>(_: S.Type) -> Double { S.self == Double.self ? 1e-12 : 1e-5 }

    /// Normwise relative error ‖x − r‖∞ / ‖r‖∞ (0 when both are zero).
    static func relativeError<S: BLASScalar>(_ x: [S], _ r: [Double]) -> Double {
        precondition(x.count == r.count)
        var num = 0.0, den = 0.0
        for i in r.indices {
            let d = abs(Double(x[i]) - r[i])
            num = Swift.max(num, d.isNaN ? .infinity : d)
            den = Swift.max(den, abs(r[i]))
        }
        return num == 0 ? 0 : num / den
    }

    /// Bitwise equality (NaN-safe, distinguishes ±0).
    static func bitIdentical<S: BLASScalar>(_ a: [S], _ b: [S]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// SplitMix64: a small deterministic generator so every run sees the same data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// n values uniform in [−scale, scale], rounded to S.
    mutating func vector<S: BLASScalar>(_ n: Int, scale: Double = 1, as _: S.Type = S.self) -> [S] {
        (0..<n).map { _ in S(Double.random(in: -scale...scale, using: &self)) }
    }
}

extension BLASScalar {
    var bitPattern: UInt64 {
        if let f = self as? Float { return UInt64(f.bitPattern) }
        return (self as! Double).bitPattern
    }
}
