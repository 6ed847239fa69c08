import Foundation
import Testing
@testable import Descent
import DescentTestSupport

/// The ``OptimizerRegistry``: every descriptor builds its optimizer in both precisions with the
/// initializer's defaults, sets every hyperparameter by its Swift name (and only with a value of
/// its type), and its names, options and group keys are unambiguous.
@Suite("Optimizer registry")
struct OptimizerRegistryTests {
    @Test func namesAreUniqueAndKindsAreTheTypes() {
        #expect(Set(OptimizerRegistry.names).count == OptimizerRegistry.all.count)
        #expect(OptimizerRegistry.names.starts(with: ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw"]))
        #expect(OptimizerRegistry.named("nesterov")?.checkpointKind == Momentum<Double>.kind)
        #expect(OptimizerRegistry.names(checkpointKind: "momentum") == ["momentum", "nesterov"])
        #expect(OptimizerRegistry.names(checkpointKind: "adamw+groups") == ["adamw"])
        #expect(OptimizerRegistry.named("natural")?.stateVersion == NaturalGradient<Double>.checkpointFormat)
    }

    @Test(arguments: OptimizerRegistry.names) func optionsAndGroupKeysAreUnambiguous(_ name: String) throws {
        let d = try #require(OptimizerRegistry.named(name))
        #expect(Set(d.hyperparameters.map(\.name)).count == d.hyperparameters.count)
        #expect(Set(d.flags).count == d.flags.count)
        let keys = d.hyperparameters.compactMap(\.groupKey)
        #expect(Set(keys).count == keys.count)
        #expect(d.hyperparameters.first?.name == "learningRate" && d.hyperparameters.first?.flag == "--lr")
        // A group key is only offered where ParameterGroups can use it.
        if d.category == .secondOrder { #expect(keys.isEmpty) }
        #expect((d.stateArrays != nil) == (d.category == .firstOrder))
    }

    /// The defaults printed by the descriptor are the initializer's, in the optimizer's own type.
    @Test func defaultsAreTheInitializers() throws {
        let adam = try #require(OptimizerRegistry.named("adam"))
        #expect(adam.hyperparameters.map(\.defaultValue) == ["0.001", "0.9", "0.999", "1e-08", "0.0", "false"])
        let natural = try #require(OptimizerRegistry.named("natural"))
        #expect(natural.hyperparameter(flag: "--rho")?.name == "curvatureDecay")
        #expect(natural.hyperparameter(flag: "--curvature-decay")?.defaultValue == nil)
        #expect(natural.hyperparameter(flag: "--solver")?.defaultValue == "auto")
    }

    static func built<S: BLASScalar>(_ name: String, _: S.Type, _ values: [(String, GroupValue)]) throws -> any RegisteredOptimizer<S> {
        try #require(OptimizerRegistry.named(name)).make(S.self, values: values)
    }

    /// Building by name gives the value the initializer gives, checkpoint for checkpoint.
    @Test(arguments: [Precision.float, .double]) func buildsWhatTheInitializerBuilds(_ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            func same(_ a: any Optimizer<S>, _ b: any Optimizer<S>) throws -> Bool {
                try a.checkpoint(format: .json) == b.checkpoint(format: .json)
            }
            #expect(try same(Self.built("sgd", S.self, []), SGD<S>()))
            #expect(try same(Self.built("nesterov", S.self, [("learningRate", 0.05)]), Momentum<S>(learningRate: 0.05, nesterov: true)))
            #expect(try same(Self.built("adagrad", S.self, [("learningRateDecay", 0.01), ("initialAccumulatorValue", 0.1)]),
                             Adagrad<S>(learningRateDecay: 0.01, initialAccumulatorValue: 0.1)))
            #expect(try same(Self.built("rmsprop", S.self, [("rho", 0.9), ("centered", true), ("momentum", 0.5)]),
                             RMSProp<S>(rho: 0.9, momentum: 0.5, centered: true)))
            #expect(try same(Self.built("adadelta", S.self, [("epsilonOutsideSquareRoot", true)]),
                             Adadelta<S>(epsilonPlacement: .outsideSquareRoot)))
            #expect(try same(Self.built("adamw", S.self, [("beta2", 0.99), ("weightDecay", 0.1), ("amsgrad", true)]),
                             AdamW<S>(beta2: 0.99, weightDecay: 0.1, amsgrad: true)))
            #expect(try same(Self.built("natural", S.self, [("damping", 0.1), ("curvatureDecay", 0.5), ("solver", .choice("cholesky"))]),
                             NaturalGradient<S>(damping: .fixed(0.1), curvatureDecay: 0.5, solver: .cholesky)))
            #expect(try same(Self.built("kfac", S.self, [("factorDecay", 0.9), ("inverseUpdateInterval", 3), ("klClip", 1e-3)]),
                             KFAC<S>(factorDecay: 0.9, inverseUpdateInterval: 3, klClip: 1e-3)))
        }
        switch p {
        case .float: try check(Float.self)
        case .double: try check(Double.self)
        }
    }

    @Test func wrongNamesTypesAndRangesThrow() throws {
        #expect(throws: ParameterLayoutError.unknownKey("momentum", group: "", optimizer: "adam",
                                                        valid: ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "amsgrad"])) {
            try Self.built("adam", Double.self, [("momentum", 0.9)])
        }
        #expect(throws: ParameterLayoutError.invalidValue(key: "amsgrad", group: "", value: "1.0", requirement: "true or false")) {
            try Self.built("adam", Double.self, [("amsgrad", 1.0)])
        }
        #expect(throws: ParameterLayoutError.invalidValue(key: "inverseUpdateInterval", group: "", value: "2.5",
                                                          requirement: "an integer ≥ 1")) {
            try Self.built("kfac", Double.self, [("inverseUpdateInterval", 2.5)])
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "beta1", value: "1.5", requirement: "in [0, 1)")) {
            try Self.built("adam", Float.self, [("beta1", 1.5)])
        }
    }

    /// Group keys: the library's are Swift names; the spellings of earlier versions still work.
    @Test func groupKeysAreSwiftNames() throws {
        #expect(Adam<Double>.groupKeys == ["beta1", "beta2", "epsilon", "weightDecay", "amsgrad"])
        #expect(Adagrad<Double>.groupKeys == ["learningRateDecay", "initialAccumulatorValue", "epsilon", "weightDecay"])
        #expect(DecoupledWeightDecay<SGD<Double>>.groupKeys == ["weightDecay"])
        var a = try Adagrad<Double>(), b = try Adagrad<Double>()
        let setA = a.setGroupHyperparameter("learningRateDecay", to: 0.5), setB = b.setGroupHyperparameter("lr-decay", to: 0.5)
        let setRate = a.setGroupHyperparameter("learningRate", to: 0.5)
        #expect(setA && setB && !setRate)
        #expect(a.learningRateDecay == 0.5 && b.learningRateDecay == 0.5 && a.learningRate == 1e-2)
    }

    /// A checkpoint written when group keys were command-line spellings (`"weight-decay"`) loads
    /// with its keys as Swift names and continues bit-identically.
    @Test func groupCheckpointsWithEarlierKeysLoad() throws {
        var layout = try ParameterLayout(count: 5, slices: [("W", 0..<4), ("b", 4..<5)])
        try layout.addGroup("all", slices: ["W", "b"])
        var groups = try ParameterGroups(AdamW<Double>(learningRate: 0.01, weightDecay: 0.1), layout: layout,
                                         groups: [("b", ["weightDecay": 0, "learningRate": 0.02])])
        var θ: [Double] = [0.5, -0.25, 1, 2, -1]
        try groups.step(&θ, gradient: [0.1, 0.2, -0.3, 0.4, 0.5])
        let current = String(decoding: try groups.checkpoint(format: .json), as: UTF8.self)
        #expect(current.contains(#""key":"weightDecay""#) && current.contains(#""key":"learningRate""#))
        let earlier = current.replacingOccurrences(of: #""key":"weightDecay""#, with: #""key":"weight-decay""#)
            .replacingOccurrences(of: #""key":"learningRate""#, with: #""key":"lr""#)
        #expect(earlier != current)
        var restored = try ParameterGroups<AdamW<Double>>(checkpoint: Data(earlier.utf8))
        #expect(restored.groups == groups.groups)
        var θ2 = θ
        try groups.step(&θ, gradient: [0.3, -0.1, 0.2, 0.0, 0.7])
        try restored.step(&θ2, gradient: [0.3, -0.1, 0.2, 0.0, 0.7])
        #expect(θ == θ2)
    }
}
