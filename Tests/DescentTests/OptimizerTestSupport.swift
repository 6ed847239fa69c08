import Descent
import DescentProblems
import Foundation
import Testing

/// Shared helpers of the first-order optimizer tests.
enum OptimizerTestSupport {
    /// The two precisions every generic test runs in.
    enum Precision: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case float, double
        var testDescription: String { rawValue }
    }

    /// The two precisions every generic test runs in, as Swift Testing arguments: a test takes
    /// `any BLASScalar.Type` and passes it to a generic function, which opens it.
    static let precisions: [any BLASScalar.Type] = [Float.self, Double.self]

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

/// The tests' generator is the library's `SplitMix64` (DescentProblems), written once.
extension SplitMix64 {
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

extension OptimizerTestSupport {
    /// One instance of every optimizer with options that allocate all of its state buffers,
    /// plus the defaults, for the checkpoint and error tests.
    static func everyOptimizer<S: BLASScalar>(_: S.Type) throws -> [any Optimizer<S>] {
        [
            try SGD<S>(),
            try SGD<S>(learningRate: 0.05, weightDecay: 0.1, maximize: true),
            try Momentum<S>(),
            try Momentum<S>(learningRate: 0.05, momentum: 0.5, nesterov: true, weightDecay: 0.1),
            try Adagrad<S>(),
            try Adagrad<S>(learningRate: 0.1, learningRateDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.1),
            try RMSProp<S>(),
            try RMSProp<S>(momentum: 0.9, centered: true, weightDecay: 0.1),
            try Adadelta<S>(),
            try Adadelta<S>(learningRate: 0.5, rho: 0.95, epsilonPlacement: .outsideSquareRoot, weightDecay: 0.1),
            try Adam<S>(),
            try Adam<S>(learningRate: 0.01, beta2: 0.9, weightDecay: 0.1, amsgrad: true),
            try AdamW<S>(),
            try AdamW<S>(learningRate: 0.01, beta2: 0.9, weightDecay: 0.1, amsgrad: true, maximize: true),
        ]
    }

    /// Runs `body` for Float or Double.
    static func withScalar(_ p: Precision, _ floatBody: () throws -> Void, _ doubleBody: () throws -> Void) rethrows {
        switch p {
        case .float: try floatBody()
        case .double: try doubleBody()
        }
    }

    /// The checkpoint's JSON object, for comparisons that ignore one counter.
    static func checkpointObject<O: Optimizer>(_ o: O, dropping keys: [String] = []) throws -> NSDictionary {
        let object = try JSONSerialization.jsonObject(with: o.checkpoint(format: .json)) as! [String: Any]
        var inner = object["optimizer"] as! [String: Any]
        for k in keys { inner[k] = nil }
        var outer = object
        outer["optimizer"] = inner
        return outer as NSDictionary
    }
}
