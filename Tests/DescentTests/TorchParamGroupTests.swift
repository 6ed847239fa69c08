import Descent
import Foundation
import Testing
import DescentTestSupport

/// ``ParameterGroups`` against PyTorch param groups with a StepLR / ExponentialLR scheduler
/// (`Tests/Fixtures/torch_param_groups.json`, written by
/// `scripts/reference/torch_param_groups.py`): a 4-3-1 network as four tensors W1, b1, w2, b2,
/// groups `weights` = [W1, w2] and `biases` = [b1, b2] with their own overrides. Each step
/// feeds torch's recorded gradient, sets the rate the schedule gives, and compares θ and every
/// group's rate with torch's.
@Suite struct TorchParamGroupTests {
    enum Value: Decodable, Sendable {
        case number(Double), flag(Bool), text(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .text(try c.decode(String.self)) }
        }
        var groupValue: GroupValue? {
            switch self {
            case let .number(v): return .number(v)
            case let .flag(v): return .flag(v)
            case .text: return nil
            }
        }
        var number: Double { if case let .number(v) = self { return v }; return .nan }
    }

    struct Schedule: Decodable, Sendable {
        var kind: String
        var every: Int?
        var factor: Double
        /// The schedule's factor at step t, as Descent's schedules compute it (in Double).
        func factor(at t: Int) -> Double {
            kind == "step" ? pow(factor, Double(t / (every ?? 1))) : pow(factor, Double(t))
        }
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var base: [String: Value]
        var groups: [String: [String: Value]]
        var schedule: Schedule
        var trajectory: [[Double]]
        var gradients: [[Double]]
        var lr: [[Double]]
        var testDescription: String { name }
    }

    struct Fixture: Decodable {
        var cases: [Case]
        var floatCases: [Case]
        enum CodingKeys: String, CodingKey { case cases, floatCases = "float_cases" }
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/torch_param_groups.json")
        do { return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)) } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    static func layout() throws -> ParameterLayout {
        var l = try ParameterLayout(count: 19, slices: [("W1", 0..<12), ("b1", 12..<15), ("w2", 15..<18), ("b2", 18..<19)])
        try l.addGroup("weights", slices: ["W1", "w2"])
        try l.addGroup("biases", slices: ["b1", "b2"])
        return l
    }

    @Test(arguments: fixture.cases) func matchesPyTorchInDouble(_ c: Case) throws {
        try Self.check(c, Double.self, tolerance: 1e-12)
    }

    @Test(arguments: fixture.floatCases) func matchesPyTorchInFloat(_ c: Case) throws {
        try Self.check(c, Float.self, tolerance: 2e-5)
    }

    @Test func fixtureCoversTheRequestedOptimizers() {
        let names = Set(Self.fixture.cases.compactMap { c -> String? in
            if case let .text(n)? = c.base["optimizer"] { return n }
            return nil
        })
        #expect(names.isSuperset(of: ["momentum", "adam", "adamw", "adagrad", "rmsprop"]))
        #expect(Set(Self.fixture.cases.map(\.schedule.kind)) == ["step", "exponential"])
    }

    static func check<S: BLASScalar>(_ c: Case, _: S.Type, tolerance: Double) throws {
        func n(_ key: String) -> S? { c.base[key].map { S($0.number) } }
        guard case let .text(name)? = c.base["optimizer"] else { throw CocoaError(.coderInvalidValue) }
        switch name {
        case "momentum", "nesterov":
            try run(Momentum<S>(learningRate: n("lr")!, momentum: n("momentum")!, nesterov: name == "nesterov",
                                weightDecay: n("weight-decay") ?? 0), c, tolerance)
        case "adam": try run(Adam<S>(learningRate: n("lr")!, weightDecay: n("weight-decay") ?? 0), c, tolerance)
        case "adamw": try run(AdamW<S>(learningRate: n("lr")!, weightDecay: n("weight-decay")!), c, tolerance)
        case "adagrad": try run(Adagrad<S>(learningRate: n("lr")!), c, tolerance)
        case "rmsprop": try run(RMSProp<S>(learningRate: n("lr")!, rho: n("rho")!), c, tolerance)
        default: Issue.record("unknown optimizer \(name)")
        }
    }

    static func run<O: GroupConfigurable>(_ base: O, _ c: Case, _ tolerance: Double) throws {
        typealias S = O.Scalar
        let specs = ["weights", "biases"].map { g in
            (name: g, overrides: (c.groups[g] ?? [:]).compactMapValues(\.groupValue))
        }
        var o = try ParameterGroups(base, layout: layout(), groups: specs)
        #expect(o.groups.map(\.name) == ["weights", "biases"])
        var θ = c.trajectory[0].map { S($0) }
        let η0 = Double(base.learningRate)
        for t in c.gradients.indices {
            o.learningRate = S(η0 * c.schedule.factor(at: t))
            let rates = o.groupLearningRates.map { Double($0.learningRate) }
            for (mine, torch) in zip(rates, c.lr[t]) {
                #expect(abs(mine - torch) <= max(tolerance, S.self == Float.self ? 1e-6 : 0) * abs(torch),
                        "\(c.name) step \(t): rate \(mine) vs torch \(torch)")
            }
            try o.step(&θ, gradient: c.gradients[t].map { S($0) })
            let error = OptimizerTestSupport.relativeError(θ, c.trajectory[t + 1])
            #expect(error <= tolerance, "\(c.name)<\(S.self)> step \(t + 1): relative error \(error)")
        }
    }
}
