/// SplitMix64 (Steele, Lea & Flood, 2014), the reproducible pseudo-random generator of this
/// module: the same seed gives the same stream on every platform and Swift version (unlike
/// `SystemRandomNumberGenerator`, and unlike `shuffle(using:)`, whose algorithm is unspecified).
///
///     state ← state + 0x9E3779B97F4A7C15
///     z ← (z ⊕ (z ≫ 30)) · 0xBF58476D1CE4E5B9;  z ← (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB;  z ⊕ (z ≫ 31)
///
/// - Complexity: O(1) per number, no allocation.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    public var state: UInt64
    /// A cached second Box–Muller normal.
    @usableFromInline var spareNormal: Double?

    public init(seed: UInt64) {
        self.state = seed
        self.spareNormal = nil
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits: (next() ≫ 11) · 2⁻⁵³.
    @inlinable
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in 0..<bound by Lemire's multiply-and-reject (unbiased).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A standard normal by the Box–Muller transform: from u₁ ∈ (0, 1], u₂ ∈ [0, 1),
    /// √(−2 ln u₁) (cos 2πu₂, sin 2πu₂); the second value is cached for the next call.
    @inlinable
    public mutating func nextNormal() -> Double {
        if let z = spareNormal {
            spareNormal = nil
            return z
        }
        let u1 = 1 - nextUniform(), u2 = nextUniform()
        let r = (-2 * _log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = r * _sin(angle)
        return r * _cos(angle)
    }

    /// Shuffles `buffer` in place by Fisher–Yates with ``nextInt(below:)``: a fixed algorithm,
    /// so a seed fixes the permutation everywhere. - Complexity: O(count).
    @inlinable
    public mutating func shuffle<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        var i = buffer.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            buffer.swapAt(i, j)
            i -= 1
        }
    }

    /// Shuffles `array` in place (Fisher–Yates, as the buffer variant).
    @inlinable
    public mutating func shuffle<T>(_ array: inout [T]) {
        array.withUnsafeMutableBufferPointer { shuffle($0) }
    }
}

import Foundation
@inlinable func _log(_ x: Double) -> Double { Foundation.log(x) }
@inlinable func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inlinable func _cos(_ x: Double) -> Double { Foundation.cos(x) }
