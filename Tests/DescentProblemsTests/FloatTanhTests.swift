import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// `floatTanh` against the `Double` tanh of libm rounded once to `Float` (an independent
/// implementation): at most one ulp anywhere, equal almost everywhere.
@Suite struct FloatTanhTests {
    static func reference(_ x: Float) -> Float { Float(Foundation.tanh(Double(x))) }

    static func ulpDistance(_ a: Float, _ b: Float) -> Int {
        if a == b { return 0 }
        func ordered(_ f: Float) -> Int64 {
            let bits = Int64(f.bitPattern)
            return f.sign == .minus ? -(bits & 0x7FFF_FFFF) : bits
        }
        return Int(abs(ordered(a) - ordered(b)))
    }

    /// Every 1024th Float with |x| ≤ 12 (about a million values, both signs), plus the boundaries of
    /// the two branches and the clamp.
    @Test func withinOneUlpOfTheRoundedDoubleTanh() {
        var worst = 0, unequal = 0, checked = 0, worstAt: Float = 0
        var values: [Float] = [0x1p-10, Float(0x1p-10).nextDown, Float(0x1p-10).nextUp, 9.01, 10, Float(10).nextDown,
                               Float(10).nextUp, 0.5, 1, 2, 1e-20, .leastNonzeroMagnitude, .leastNormalMagnitude]
        values += values.map { -$0 }
        var bits: UInt32 = 0
        while true {
            let x = Float(bitPattern: bits)
            if x > 12 { break }
            values.append(x)
            bits &+= 1024
        }
        for x in values + values.map({ -$0 }) {
            let d = Self.ulpDistance(floatTanh(x), Self.reference(x))
            checked += 1
            if d > 0 { unequal += 1 }
            if d > worst { worst = d; worstAt = x }
        }
        #expect(worst <= 1, "\(worst) ulp at x = \(worstAt)")
        print("floatTanh: \(unequal) of \(checked) one ulp from the rounded Double tanh")
        // Correctly rounded except within ~1e-12 of a rounding boundary: a handful at most.
        #expect(unequal * 100_000 <= checked, "\(unequal) of \(checked) differ by one ulp")
    }

    /// The threaded loop gives the scalar function's results bit for bit.
    @Test func threadedLoopEqualsScalar() {
        var generator = SplitMix64(seed: 11)
        var values: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1e-30, 0x1p-10, -9.5, 10, 11, 0.25]
        for _ in 0..<40_099 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))) }
        for _ in 0..<4099 { values.append(Float(12 * generator.uniform())) }
        var vector = values
        vector.withUnsafeMutableBufferPointer { floatTanh($0.baseAddress!, count: $0.count) }
        for (x, v) in zip(values, vector) {
            let s = floatTanh(x)
            #expect(s.bitPattern == v.bitPattern || (s.isNaN && v.isNaN), "x = \(x): scalar \(s), vector \(v)")
        }
    }

    @Test func specialValues() {
        #expect(floatTanh(.nan).isNaN)
        #expect(floatTanh(.infinity) == 1 && floatTanh(-.infinity) == -1)
        #expect(floatTanh(1e30) == 1 && floatTanh(-1e30) == -1)
        #expect(floatTanh(0) == 0 && floatTanh(-0.0).sign == .minus)
        #expect(floatTanh(.leastNonzeroMagnitude) == .leastNonzeroMagnitude)
        #expect(floatTanh(-1e-30) == -1e-30)
    }
}
