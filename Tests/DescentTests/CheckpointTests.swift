import Descent
import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// Checkpoints: a restored optimizer continues bit-identically; a checkpoint of another
/// optimizer, precision or parameter count, or a corrupt one, is refused with a clear error.
@Suite("Checkpoints")
struct CheckpointTests {
    typealias Support = OptimizerTestSupport
    typealias Precision = OptimizerTestSupport.Precision

    static let count = 53

    /// 10 steps, checkpoint, restore, 10 more == 20 straight, bit for bit (parameters and state).
    static func roundTrip<O: Optimizer>(_ optimizer: O, throughFile: Bool) throws {
        var rng = SplitMix64(seed: 11)
        let start: [O.Scalar] = rng.vector(count)
        let gradients: [[O.Scalar]] = (0..<20).map { _ in rng.vector(count) }

        var straight = optimizer
        var x = start
        for g in gradients { try straight.step(&x, gradient: g) }

        var first = optimizer
        var y = start
        for g in gradients[..<10] { try first.step(&y, gradient: g) }
        var restored: O
        if throughFile {
            let url = FileManager.default.temporaryDirectory
                .appendingPathComponent("descent-checkpoint-\(O.kind)-\(UUID().uuidString).json")
            defer { try? FileManager.default.removeItem(at: url) }
            try first.writeCheckpoint(to: url)
            restored = try O(contentsOf: url, parameterCount: count)
        } else {
            restored = try O(checkpoint: first.checkpoint(), parameterCount: count)
        }
        #expect(try restored.checkpoint() == first.checkpoint())
        for g in gradients[10...] { try restored.step(&y, gradient: g) }

        #expect(Support.bitIdentical(x, y), "\(O.kind)<\(O.Scalar.self)> parameters differ after restore")
        #expect(try restored.checkpoint() == straight.checkpoint(), "\(O.kind)<\(O.Scalar.self)> state differs")
        #expect(restored.stepCount == 20)
    }

    @Test(arguments: Precision.allCases) func restoredOptimizerContinuesBitIdentically(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for (i, o) in try Support.everyOptimizer(S.self).enumerated() {
                try Self.roundTrip(o, throughFile: i % 2 == 1)
            }
        }
        try run(p.scalarType)
    }

    /// Decoders for every kind, to cross-decode each checkpoint.
    static func decoders<S: BLASScalar>(_: S.Type) -> [(String, (Data) throws -> Void)] {
        [
            ("sgd", { _ = try SGD<S>(checkpoint: $0) }),
            ("momentum", { _ = try Momentum<S>(checkpoint: $0) }),
            ("adagrad", { _ = try Adagrad<S>(checkpoint: $0) }),
            ("rmsprop", { _ = try RMSProp<S>(checkpoint: $0) }),
            ("adadelta", { _ = try Adadelta<S>(checkpoint: $0) }),
            ("adam", { _ = try Adam<S>(checkpoint: $0) }),
            ("adamw", { _ = try AdamW<S>(checkpoint: $0) }),
        ]
    }

    static func stepped<O: Optimizer>(_ o: O, steps: Int = 3) throws -> O {
        var o = o
        var rng = SplitMix64(seed: 5)
        var x: [O.Scalar] = rng.vector(count)
        for _ in 0..<steps { try o.step(&x, gradient: rng.vector(count)) }
        return o
    }

    @Test(arguments: Precision.allCases) func anotherKindIsRefused(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Support.everyOptimizer(S.self) {
                let data = try Self.stepped(o).checkpoint()
                let kind = type(of: o).kind
                for (other, decode) in Self.decoders(S.self) {
                    if other == kind {
                        try decode(data)
                    } else {
                        #expect(throws: OptimizerError.checkpointMismatch(expected: "\(other)<\(S.self)>", found: "\(kind)<\(S.self)>")) {
                            try decode(data)
                        }
                    }
                }
            }
        }
        try run(p.scalarType)
    }

    @Test func anotherPrecisionIsRefused() throws {
        let d = try Self.stepped(Adam<Double>(amsgrad: true)).checkpoint()
        #expect(throws: OptimizerError.checkpointMismatch(expected: "adam<Float>", found: "adam<Double>")) {
            _ = try Adam<Float>(checkpoint: d)
        }
        let f = try Self.stepped(RMSProp<Float>()).checkpoint()
        #expect(throws: OptimizerError.checkpointMismatch(expected: "rmsprop<Double>", found: "rmsprop<Float>")) {
            _ = try RMSProp<Double>(checkpoint: f)
        }
        let error = OptimizerError.checkpointMismatch(expected: "adam<Float>", found: "adam<Double>")
        #expect(error.description == "checkpoint is for adam<Double>, expected adam<Float>")
    }

    /// A checkpoint for another parameter count is refused at restore (with a count) or at the
    /// first step (without), naming both counts; the refused step touches nothing.
    @Test(arguments: Precision.allCases) func anotherParameterCountIsRefused(_ p: Precision) throws {
        func check<O: Optimizer>(_ o: O) throws {
            let data = try Self.stepped(o).checkpoint()
            guard O.kind != "sgd" else {
                _ = try O(checkpoint: data, parameterCount: Self.count + 1) // stateless: any count fits
                return
            }
            #expect(throws: OptimizerError.stateCountMismatch(state: Self.count, parameters: Self.count + 1)) {
                _ = try O(checkpoint: data, parameterCount: Self.count + 1)
            }
            var restored = try O(checkpoint: data)
            var x = [O.Scalar](repeating: 1, count: Self.count + 1)
            let g = [O.Scalar](repeating: 0.5, count: Self.count + 1)
            #expect(throws: OptimizerError.stateCountMismatch(state: Self.count, parameters: Self.count + 1)) {
                try restored.step(&x, gradient: g)
            }
            #expect(x == [O.Scalar](repeating: 1, count: Self.count + 1))
            #expect(try restored.checkpoint() == data)
        }
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Support.everyOptimizer(S.self) { try check(o) }
        }
        try run(p.scalarType)
    }

    /// Edits one field of a checkpoint's optimizer object.
    static func edited(_ data: Data, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        var outer = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var inner = outer["optimizer"] as! [String: Any]
        edit(&inner)
        outer["optimizer"] = inner
        return try JSONSerialization.data(withJSONObject: outer)
    }

    static func expectCorrupt(_ body: () throws -> Void, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected a corrupt-checkpoint error mentioning \(text)", sourceLocation: sourceLocation)
        } catch let OptimizerError.corruptCheckpoint(reason) {
            #expect(reason.contains(text), "\(reason)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Precision.allCases) func corruptCheckpointsAreRefused(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let adam = try Self.stepped(Adam<S>(amsgrad: true)).checkpoint(format: .json)
            // A buffer one element short, a required buffer missing, an optional one short.
            Self.expectCorrupt({ _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["G"] = Array(($0["G"] as! [Any]).dropLast()) }) },
                               mentioning: "buffer G has \(Self.count - 1) elements, expected \(Self.count)")
            Self.expectCorrupt({ _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["G"] = [Any]() }) },
                               mentioning: "buffer G has 0 elements")
            Self.expectCorrupt({ _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["Gmax"] = [1.0] }) },
                               mentioning: "buffer Gmax has 1 elements")
            Self.expectCorrupt({ _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["t"] = -1 }) },
                               mentioning: "negative step count")
            let rms = try Self.stepped(RMSProp<S>(momentum: 0.9, centered: true)).checkpoint(format: .json)
            Self.expectCorrupt({ _ = try RMSProp<S>(checkpoint: Self.edited(rms) { $0["b"] = [0.0, 1.0] }) },
                               mentioning: "buffer b has 2 elements")
            let delta = try Self.stepped(Adadelta<S>()).checkpoint(format: .json)
            Self.expectCorrupt({ _ = try Adadelta<S>(checkpoint: Self.edited(delta) { $0["X"] = [0.0] }) },
                               mentioning: "buffer X has 1 elements")
            let fresh = try Adam<S>().checkpoint(format: .json)
            Self.expectCorrupt({ _ = try Adam<S>(checkpoint: Self.edited(fresh) { $0["G"] = [0.0, 0.0] }) },
                               mentioning: "no state was allocated")
            let sgd = try Self.stepped(SGD<S>()).checkpoint(format: .json)
            Self.expectCorrupt({ _ = try SGD<S>(checkpoint: Self.edited(sgd) { $0["skipped"] = -3 }) },
                               mentioning: "negative step count")
            // An invalid hyperparameter in the file is refused like one passed to init.
            #expect(throws: OptimizerError.self) {
                _ = try Adagrad<S>(checkpoint: Self.edited(try Adagrad<S>().checkpoint(format: .json)) { $0["epsilon"] = -1.0 })
            }
            // Not JSON, missing fields, wrong types: decoding errors.
            #expect(throws: (any Error).self) { _ = try Adam<S>(checkpoint: Data("not json".utf8)) }
            #expect(throws: (any Error).self) { _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["beta1"] = nil }) }
            #expect(throws: (any Error).self) { _ = try Adam<S>(checkpoint: Self.edited(adam) { $0["m"] = "zero" }) }
            #expect(throws: (any Error).self) { _ = try Adam<S>(checkpoint: adam.prefix(adam.count / 2)) }
        }
        try run(p.scalarType)
    }
}
