import Descent
import DescentProblems
import Foundation
import Testing
import DescentTestSupport

/// Shared helpers of the first-order optimizer tests; the generic ones come from
/// `DescentTestSupport` (written once for every test target).
enum OptimizerTestSupport {
    typealias Precision = DescentTestSupport.Precision
    static var precisions: [any BLASScalar.Type] { DescentTestSupport.precisions }
    static func tolerance<S: BLASScalar>(_ s: S.Type) -> Double { DescentTestSupport.tolerance(s) }
    /// Normwise relative error ‖x − r‖∞ / ‖r‖∞ (0 when both are zero).
    static func relativeError<S: BLASScalar>(_ x: [S], _ r: [Double]) -> Double { DescentTestSupport.relativeError(x, r) }
    static func bitIdentical<S: BLASScalar>(_ a: [S], _ b: [S]) -> Bool { DescentTestSupport.bitIdentical(a, b) }
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
            try NAdam<S>(),
            try NAdam<S>(learningRate: 0.01, weightDecay: 0.1, momentumDecay: 0.01, decoupledWeightDecay: true, maximize: true),
            try RAdam<S>(),
            try RAdam<S>(learningRate: 0.01, beta2: 0.9, weightDecay: 0.1, decoupledWeightDecay: true, maximize: true),
            try Adamax<S>(),
            try Adamax<S>(learningRate: 0.01, beta2: 0.9, weightDecay: 0.1, maximize: true),
            try Rprop<S>(),
            try Rprop<S>(learningRate: 0.05, etaMinus: 0.3, etaPlus: 1.5, minimumStepSize: 0.01, maximumStepSize: 0.1, maximize: true),
            try ASGD<S>(),
            try ASGD<S>(learningRate: 0.05, lambda: 0.01, alpha: 0.5, averagingStart: 1, weightDecay: 0.1, maximize: true),
        ]
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
