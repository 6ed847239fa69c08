import Descent
import DescentProblems
import Foundation
import Testing
import DescentTestSupport

/// ``ParameterLayout`` and ``ParameterGroups``: one optimizer over groups against separate
/// optimizers per run (bit for bit, every first-order optimizer, both precisions), the
/// learning-rate scaling, the errors (nothing changed after a throw) and checkpoints.
@Suite struct ParameterGroupTests {
    typealias Precision = OptimizerTestSupport.Precision

    /// n = 11: A = 0..<4, B = 4..<7 (no group: default), C = {7, 8, 10} (runs 7..<9, 10..<11),
    /// element 9 in no slice (default).
    static func layout() throws -> ParameterLayout {
        var l = try ParameterLayout(count: 11, multiRunSlices: [
            .init(name: "A", ranges: [0..<4]), .init(name: "B", ranges: [4..<7]), .init(name: "C", ranges: [7..<9, 10..<11]),
        ])
        try l.addGroup("AB", slices: ["A", "B"])
        return l
    }

    /// Every first-order optimizer with two sets of overrides (group A and group C) using its own keys.
    static func cases<S: BLASScalar>(_: S.Type) throws -> [(any GroupConfigurable, [String: GroupValue], [String: GroupValue])] {
        [
            (try SGD<S>(learningRate: 0.05, weightDecay: 0.1), ["lr": 0.1, "weight-decay": 0], ["weight-decay": 0.3]),
            (try Momentum<S>(learningRate: 0.05, momentum: 0.9), ["momentum": 0.5, "nesterov": true], ["lr": 0.01, "weight-decay": 0.2]),
            (try Adagrad<S>(learningRate: 0.1), ["lr-decay": 0.01, "eps": 1e-6], ["initial-accumulator": 0.1, "weight-decay": 0.1]),
            (try RMSProp<S>(learningRate: 0.01), ["centered": true, "momentum": 0.9], ["rho": 0.9, "eps": 1e-6, "weight-decay": 0.1]),
            (try Adadelta<S>(), ["rho": 0.95, "lr": 0.5], ["eps": 1e-5, "weight-decay": 0.1]),
            (try Adam<S>(learningRate: 0.01), ["amsgrad": true, "beta1": 0.8], ["beta2": 0.99, "weight-decay": 0.1, "lr": 0.02]),
            (try AdamW<S>(learningRate: 0.01, weightDecay: 0.1), ["weight-decay": 0], ["lr": 0.003, "amsgrad": true]),
            (try DecoupledWeightDecay(SGD<S>(learningRate: 0.05), weightDecay: 0.2), ["weight-decay": 0], ["lr": 0.1]),
            (try DecoupledWeightDecay(Momentum<S>(learningRate: 0.05), weightDecay: 0.2), ["momentum": 0.3], ["weight-decay": 0.5]),
        ]
    }

    @Test(arguments: Precision.allCases) func groupsEqualSeparateOptimizersBitForBit(_ p: Precision) throws {
        switch p {
        case .float: for (o, a, c) in try Self.cases(Float.self) { try Self.compareWithSeparate(o, a, c) }
        case .double: for (o, a, c) in try Self.cases(Double.self) { try Self.compareWithSeparate(o, a, c) }
        }
    }

    /// The grouped optimizer against one optimizer per run, built by hand: A's (one run), the
    /// default group's two runs (B and element 9), C's two runs. The rate is scaled by a
    /// schedule factor from step 5 on (η_g = η_g,0 · factor) and the parameters are decayed by
    /// `parameterScale` on one step.
    static func compareWithSeparate<O: GroupConfigurable>(_ base: O, _ overridesA: [String: GroupValue],
                                                          _ overridesC: [String: GroupValue]) throws {
        typealias S = O.Scalar
        var grouped = try ParameterGroups(base, layout: layout(), groups: [("A", overridesA), ("C", overridesC)])
        func configured(_ o: [String: GroupValue]) -> O {
            var c = base
            for (k, v) in o {
                if k == "lr" { c.learningRate = v.scalar(S.self)! } else { let ok = c.setGroupHyperparameter(k, to: v); #expect(ok) }
            }
            return c
        }
        let runs: [(Range<Int>, [String: GroupValue])] = [(0..<4, overridesA), (4..<7, [:]), (7..<9, overridesC), (9..<10, [:]), (10..<11, overridesC)]
        var separate = runs.map { configured($0.1) }
        let initial = separate.map(\.learningRate)
        var rng = SplitMix64(seed: 7)
        var θ: [S] = rng.vector(11), θs = θ
        let η0 = base.learningRate
        for t in 0..<12 {
            let g: [S] = rng.vector(11)
            let factor = t < 5 ? 1.0 : 0.5
            grouped.learningRate = S(Double(η0) * factor)
            for k in separate.indices {
                separate[k].learningRate = initial[k] == η0 ? grouped.learningRate : S(Double(initial[k]) * (Double(grouped.learningRate) / Double(η0)))
            }
            let scale: S = t == 3 ? S(0.99) : 1
            try θ.withUnsafeMutableBufferPointer { tp in
                try g.withUnsafeBufferPointer { try grouped.step(tp, gradient: $0, parameterScale: scale) }
            }
            for (k, run) in runs.enumerated() {
                var slice = Array(θs[run.0])
                let gs = Array(g[run.0])
                try slice.withUnsafeMutableBufferPointer { sp in
                    try gs.withUnsafeBufferPointer { try separate[k].step(sp, gradient: $0, parameterScale: scale) }
                }
                θs.replaceSubrange(run.0, with: slice)
            }
            #expect(OptimizerTestSupport.bitIdentical(θ, θs), "\(O.kind)<\(S.self)> step \(t): \(θ) vs \(θs)")
        }
        #expect(grouped.stepCount == 12)
        #expect(grouped.stateCount == (separate[0].stateCount == nil ? nil : 11))   // SGD keeps no state
        #expect(grouped.groups.map(\.name) == ["A", "C", "default"])
        #expect(grouped.optimizers(ofGroup: "C").count == 2)
        // A checkpoint continues bit-identically.
        for format in [CheckpointFormat.binary, .json] {
            var restored = try ParameterGroups<O>(checkpoint: grouped.checkpoint(format: format), parameterCount: 11)
            var a = grouped, θa = θ, θb = θ
            let g: [S] = rng.vector(11)
            try a.step(&θa, gradient: g)
            try restored.step(&θb, gradient: g)
            #expect(OptimizerTestSupport.bitIdentical(θa, θb), "\(O.kind)<\(S.self)> \(format)")
        }
    }

    /// Without groups every element is in `default`: the wrapper equals the plain optimizer.
    @Test(arguments: Precision.allCases) func noGroupsIsThePlainOptimizer(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var plain = try Adam<S>(learningRate: 0.01)
            var grouped = try ParameterGroups(plain, layout: .whole(count: 6), groups: [])
            var rng = SplitMix64(seed: 3)
            var θ: [S] = rng.vector(6), θp = θ
            for t in 0..<8 {
                let g: [S] = rng.vector(6)
                grouped.learningRate = S(0.01 * pow(0.9, Double(t)))
                plain.learningRate = grouped.learningRate
                try grouped.step(&θ, gradient: g)
                try plain.step(&θp, gradient: g)
            }
            #expect(OptimizerTestSupport.bitIdentical(θ, θp))
            #expect(grouped.groups.map(\.name) == ["default"])
        }
        switch p { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    /// η_g = η_g,0 · (η / η₀), η_g = η for groups without an `lr` override.
    @Test(arguments: Precision.allCases) func learningRateScalesEveryGroup(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var o = try ParameterGroups(SGD<S>(learningRate: 0.1), layout: Self.layout(), groups: [("A", ["lr": 0.4]), ("C", [:])])
            o.learningRate = S(0.05)
            let rates = Dictionary(uniqueKeysWithValues: o.groupLearningRates.map { ($0.name, Double($0.learningRate)) })
            #expect(rates["C"] == Double(S(0.05)))
            #expect(rates["default"] == Double(S(0.05)))
            let expectedA = Double(S(Double(S(0.4)) * (Double(S(0.05)) / Double(S(0.1)))))
            #expect(rates["A"] == expectedA)
            #expect(abs(expectedA - 0.2) < 1e-6)
            #expect(o.optimizers(ofGroup: "A").map(\.learningRate) == [S(expectedA)])
            #expect(o.learningRate == S(0.05))
            #expect(o.initialLearningRate == S(0.1))
        }
        switch p { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    // MARK: Errors

    @Test func layoutErrorsNameTheSlice() throws {
        #expect(throws: ParameterLayoutError.negativeCount(-1)) { try ParameterLayout(count: -1) }
        #expect(throws: ParameterLayoutError.sliceOutOfRange("w", range: 2..<6, count: 5)) {
            try ParameterLayout(count: 5, slices: [("w", 2..<6)])
        }
        #expect(throws: ParameterLayoutError.overlap("a", "b")) { try ParameterLayout(count: 5, slices: [("a", 0..<3), ("b", 2..<4)]) }
        #expect(throws: ParameterLayoutError.duplicateName("a")) { try ParameterLayout(count: 5, slices: [("a", 0..<1), ("a", 2..<4)]) }
        #expect(throws: ParameterLayoutError.emptyName) { try ParameterLayout(count: 5, slices: [("", 0..<1)]) }
        var l = try ParameterLayout(count: 5, slices: [("a", 0..<2), ("b", 3..<5)])
        let before = l
        #expect(throws: ParameterLayoutError.unknownName("c", valid: ["a", "b"])) { try l.addGroup("all", slices: ["a", "c"]) }
        #expect(throws: ParameterLayoutError.duplicateName("a")) { try l.addGroup("a", slices: []) }
        #expect(l == before)
        try l.addGroup("all", slices: ["a", "b"])
        #expect(try l.ranges(of: "all") == [0..<2, 3..<5])
        #expect(l.uncovered == [2..<3])
        var θ: [Double] = [1, 2, 3, 4, 5]
        try θ.withUnsafeMutableBufferPointer { p in
            #expect(throws: ParameterLayoutError.notContiguous("all", runs: 2)) { try l.slice("all", of: p) }
            try l.withSlice("b", of: p) { b in b[0] = -4 }   // a view: writes θ
            #expect(throws: ParameterLayoutError.bufferCountMismatch(expected: 5, found: 4)) {
                try l.slice("a", of: UnsafeMutableBufferPointer(rebasing: p[0..<4]))
            }
        }
        #expect(θ == [1, 2, 3, -4, 5])
        #expect(try l.values(of: "all", in: θ) == [1, 2, -4, 5])
        let message = ParameterLayoutError.unknownName("c", valid: ["a", "b"]).localizedDescription
        #expect(message == "unknown parameter slice or group c (valid: a, b)")
        // Decoding re-validates.
        let bad = #"{"count":3,"slices":[{"name":"a","ranges":[[0,2]]},{"name":"b","ranges":[[1,3]]}],"groups":[]}"#
        #expect(throws: ParameterLayoutError.overlap("a", "b")) { try JSONDecoder().decode(ParameterLayout.self, from: Data(bad.utf8)) }
        let round = try JSONDecoder().decode(ParameterLayout.self, from: JSONEncoder().encode(l))
        #expect(round == l)
    }

    /// The non-throwing constructors objectives use clamp absurd sizes instead of trapping.
    @Test func layoutConstructorsClampExtremeSizes() throws {
        #expect(ParameterLayout.whole(count: -3).count == 0)
        #expect(ParameterLayout.weightsThenIntercept(features: Int.max).count == Int.max)
        #expect(ParameterLayout.rowBlocks(rows: Int.max, weightsPerRow: 1, weights: "w", biases: "b").count == 0)
        #expect(ParameterLayout.rowBlocks(rows: 3, weightsPerRow: Int.max, weights: "w", biases: "b").slices.allSatisfy { $0.ranges.isEmpty })
        let cut = ParameterLayout.rowBlocks(rows: 3, weightsPerRow: 2, offset: 1, count: 8, weights: "w", biases: "b")
        #expect(try cut.ranges(of: "w") == [1..<3, 4..<6])
        #expect(try cut.ranges(of: "b") == [3..<4, 6..<7])
    }

    @Test func groupErrorsNameTheGroupAndKey() throws {
        let l = try Self.layout()
        let adam = try Adam<Double>()
        #expect(throws: ParameterLayoutError.unknownName("D", valid: ["A", "B", "C", "AB"])) {
            try ParameterGroups(adam, layout: l, groups: [("D", [:])])
        }
        #expect(throws: ParameterLayoutError.unknownKey("momentum", group: "A", optimizer: "adam",
                                                        valid: ["learningRate", "beta1", "beta2", "epsilon", "weightDecay", "amsgrad"])) {
            try ParameterGroups(adam, layout: l, groups: [("A", ["momentum": 0.9])])
        }
        #expect(throws: ParameterLayoutError.overlappingGroups("AB", "A")) {
            try ParameterGroups(adam, layout: l, groups: [("AB", [:]), ("A", ["lr": 0.1])])
        }
        #expect(throws: ParameterLayoutError.repeatedGroup("A")) { try ParameterGroups(adam, layout: l, groups: [("A", [:]), ("A", [:])]) }
        #expect(throws: ParameterLayoutError.invalidValue(key: "amsgrad", group: "A", value: "1.0", requirement: "true or false")) {
            try ParameterGroups(adam, layout: l, groups: [("A", ["amsgrad": 1.0])])
        }
        #expect(throws: ParameterLayoutError.invalidValue(key: "lr", group: "C", value: "true", requirement: "a number")) {
            try ParameterGroups(adam, layout: l, groups: [("C", ["lr": true])])
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "beta1 of group C", value: "1.5", requirement: "in [0, 1)")) {
            try ParameterGroups(adam, layout: l, groups: [("C", ["beta1": 1.5])])
        }
        let e = ParameterLayoutError.unknownKey("momentum", group: "A", optimizer: "adam", valid: ["lr", "eps"])
        #expect(e.localizedDescription == "group A: unknown key momentum for adam (valid: lr, eps)")
    }

    /// Every refused step leaves θ, every group's state and the counters bit-identical.
    @Test(arguments: Precision.allCases) func refusedStepsChangeNothing(_ p: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var o = try ParameterGroups(Adam<S>(learningRate: 0.01), layout: Self.layout(), groups: [("A", ["lr": 0.1]), ("C", [:])])
            var rng = SplitMix64(seed: 5)
            var θ: [S] = rng.vector(11)
            try o.step(&θ, gradient: rng.vector(11))
            let θ0 = θ, state0 = try o.checkpoint(format: .json)
            var bad: [S] = rng.vector(11)
            bad[10] = .nan                       // in the last group: the earlier groups must not have stepped
            #expect(throws: OptimizerError.nonFiniteGradient(index: 10, value: "nan")) { try o.step(&θ, gradient: bad) }
            #expect(throws: OptimizerError.gradientCountMismatch(parameters: 11, gradient: 10)) { try o.step(&θ, gradient: Array(bad[0..<10])) }
            var short = Array(θ[0..<10])
            #expect(throws: OptimizerError.stateCountMismatch(state: 11, parameters: 10)) { try o.step(&short, gradient: Array(bad[0..<10])) }
            var negative = o
            negative.learningRate = -1
            #expect(throws: OptimizerError.invalidHyperparameter(name: "learningRate of group A", value: "\(S(-10))", requirement: "finite and ≥ 0")) {
                try negative.step(&θ, gradient: rng.vector(11))
            }
            #expect(throws: OptimizerError.invalidHyperparameter(name: "parameterScale", value: "\(S.infinity)", requirement: "finite")) {
                try θ.withUnsafeMutableBufferPointer { tp in
                    try rng.vector(11, as: S.self).withUnsafeBufferPointer { try o.step(tp, gradient: $0, parameterScale: .infinity) }
                }
            }
            #expect(OptimizerTestSupport.bitIdentical(θ, θ0))
            #expect(try o.checkpoint(format: .json) == state0)
            #expect(try negative.checkpoint(format: .json) != state0)   // only the rates differ
            var skipping = o
            skipping.nonFiniteGradientPolicy = .skipStep
            try skipping.step(&θ, gradient: bad)
            #expect(OptimizerTestSupport.bitIdentical(θ, θ0))
            #expect(skipping.skippedSteps == 1 && skipping.stepCount == 1)
        }
        switch p { case .float: try run(Float.self); case .double: try run(Double.self) }
    }

    @Test func corruptCheckpointsAreRefused() throws {
        var o = try ParameterGroups(Momentum<Double>(), layout: Self.layout(), groups: [("A", ["momentum": 0.5])])
        var θ = [Double](repeating: 1, count: 11)
        try o.step(&θ, gradient: [Double](repeating: 0.5, count: 11))
        let json = String(decoding: try o.checkpoint(format: .json), as: UTF8.self)
        #expect(Checkpoint<ParameterGroups<Momentum<Double>>>.self != Checkpoint<Momentum<Double>>.self)
        #expect(json.contains(#""kind":"momentum+groups""#))
        let overlapping = json.replacingOccurrences(of: #""memberLowerBounds":[0,4"#, with: #""memberLowerBounds":[0,3"#)
        #expect(overlapping != json)
        #expect(throws: OptimizerError.self) { try ParameterGroups<Momentum<Double>>(checkpoint: Data(overlapping.utf8)) }
        var shortState = json
        let r = try #require(shortState.range(of: "[-0.005,-0.005,-0.005,-0.005]"))
        shortState.replaceSubrange(r, with: "[-0.005,-0.005,-0.005]")
        #expect(throws: OptimizerError.corruptCheckpoint("group A: state of 3 elements for a run of 4")) {
            try ParameterGroups<Momentum<Double>>(checkpoint: Data(shortState.utf8))
        }
        #expect(throws: OptimizerError.checkpointMismatch(expected: "momentum+groups<Double>", found: "momentum<Double>")) {
            try ParameterGroups<Momentum<Double>>(checkpoint: Momentum<Double>().checkpoint())
        }
    }

    // MARK: Objectives' layouts

    @Test func objectivesExposeWeightsAndBiases() throws {
        var rng = SplitMix64(seed: 1)
        let x = try Matrix<Double>(rows: 6, columns: 3, elements: rng.vector(18))
        let data = try Dataset(features: x, targets: [0, 1, 2, 0, 1, 2])
        let mlp = try MultilayerPerceptron(data: data, hiddenLayers: [2], outputLayer: .softmax)
        let l = mlp.parameterLayout
        #expect(l.count == mlp.dimension)          // 2·(3+1) + 3·(2+1) = 17
        #expect(try l.ranges(of: "layer1.weights") == [0..<3, 4..<7])
        #expect(try l.ranges(of: "layer1.biases") == [3..<4, 7..<8])
        #expect(try l.ranges(of: "layer2.weights") == [8..<10, 11..<13, 14..<16])
        #expect(try l.ranges(of: "layer2.biases") == [10..<11, 13..<14, 16..<17])
        #expect(try l.ranges(of: "biases") == [3..<4, 7..<8, 10..<11, 13..<14, 16..<17])
        #expect(try l.ranges(of: "weights").reduce(0) { $0 + $1.count } == 12)
        #expect(l.uncovered.isEmpty)
        let softmax = try SoftmaxRegression(data: data)
        #expect(try softmax.parameterLayout.ranges(of: "biases") == [3..<4, 7..<8, 11..<12])
        let binary = try Dataset(features: x, targets: [0, 1, 1, 0, 1, 0])
        for o in [try LogisticRegression(data: binary).parameterLayout, try LinearRegression(data: binary).parameterLayout] {
            #expect(try o.ranges(of: "weights") == [0..<3])
            #expect(try o.ranges(of: "biases") == [3..<4])
        }
        let rosenbrock = Rosenbrock<Double>().parameterLayout
        #expect(try rosenbrock.ranges(of: "weights") == [0..<2])
        #expect(try rosenbrock.ranges(of: "biases") == [])
    }
}
