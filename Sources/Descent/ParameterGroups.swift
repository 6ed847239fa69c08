import Foundation

// MARK: - Parameter groups

/// One first-order optimizer over several parameter groups, each with its own hyperparameter
/// overrides: PyTorch's param groups (`torch.optim.Adam([{"params": …, "weight_decay": 0}, …])`),
/// optax's `multi_transform`, over one flat θ described by a ``ParameterLayout``.
///
///     var layout = try ParameterLayout(count: 7, slices: [("W", 0..<6), ("b", 6..<7)])
///     var adamw = try ParameterGroups(AdamW<Double>(learningRate: 1e-2, weightDecay: 0.1), layout: layout,
///                                     groups: [("b", ["weightDecay": 0])])
///     try adamw.step(&θ, gradient: g)        // W decays, b does not
///
/// Each group is a slice or a group of the layout (names in ``ParameterLayout/names``); its
/// optimizer is a copy of `base` with the overrides applied. Elements that no group names form
/// the group `default` with `base`'s hyperparameters (PyTorch requires every parameter in a
/// group; here the rest is gathered). Groups may not share elements.
///
/// **The update.** For every contiguous run r of a group g (adjacent runs of a group are
/// merged), one fused pass of g's optimizer over θ[r], g[r] and its own state: exactly what a
/// separate optimizer on that slice would do, bit for bit, with its own step counter t (as
/// torch keeps `state['step']` per parameter). Runs step in ascending order.
///
/// **The learning rate.** `learningRate` is η of `base` at construction, η₀, until set. Setting
/// it to η sets every group's rate to η_g = η_g,0 · (η / η₀), computed in `Double` and rounded
/// once (η_g = η exactly for groups without an `lr` override; when η₀ = 0 the groups without an
/// override get η and the others keep theirs): a schedule or a plateau written for one rate
/// scales every group's rate by the same factor, as torch's schedulers do
/// (lr_g = initial_lr_g · factor).
///
/// **Checks.** Every step checks the whole step before touching anything: the scale, the
/// gradient's and the layout's counts, every group's hyperparameters (errors name the group),
/// the counters, then the gradient's finiteness once over all of it by
/// ``nonFiniteGradientPolicy`` (a skipped step is skipped by every group). θ and every state
/// are bit-identical after any throw.
///
/// The natural gradient and K-FAC precondition across all parameters and are not
/// ``GroupConfigurable``: they cannot be grouped (a compile-time error; the command line refuses
/// `--group` with them).
///
/// Checkpoint kind `"<base kind>+groups"`, e.g. `"adamw+groups"`: the layout, the groups and
/// every run's optimizer state.
/// - Complexity: per step O(n) in one pass per run, plus O(runs) to check the groups; memory
///   the base optimizer's state for n parameters plus O(runs).
public struct ParameterGroups<Base: GroupConfigurable>: FirstOrderOptimizer {
    public typealias Scalar = Base.Scalar

    /// `"<base kind>+groups"`.
    public static var kind: String { Base.kind + "+groups" }

    /// A group as configured: its name, the overrides as given, its runs and its initial rate.
    public struct GroupSettings: Sendable, Hashable, Codable {
        public var name: String
        /// The overrides, sorted by key.
        public var overrides: [Override]
        /// The group's elements, ascending runs.
        public var ranges: [Range<Int>]
        /// η_g,0: the base's η or the `lr` override.
        public var initialLearningRate: Scalar
    }

    /// One override.
    public struct Override: Sendable, Hashable, Codable {
        public var key: String
        public var value: GroupValue
    }

    /// One contiguous run and the optimizer that steps it.
    @usableFromInline
    struct Member: Sendable, Codable {
        @usableFromInline var group: Int
        @usableFromInline var range: Range<Int>
        @usableFromInline var optimizer: Base
    }

    /// The layout the groups were named in.
    public private(set) var layout: ParameterLayout
    /// The groups in the order given, then `default` when some elements were in no group.
    public private(set) var groups: [GroupSettings]
    @usableFromInline var members: [Member]
    /// η₀.
    public private(set) var initialLearningRate: Scalar
    @usableFromInline var rate: Scalar
    @usableFromInline var t = 0
    @usableFromInline var skipped = 0
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    /// The name of the group of the elements no group names.
    public static var defaultGroupName: String { "default" }

    /// `base` over `layout`, with `groups` (slice or group names of the layout, each with its
    /// overrides, keys `learningRate` and ``GroupConfigurable/groupKeys``; the spellings of
    /// earlier versions, `lr`, `weight-decay`, `eps`, …, are read as their Swift names).
    ///
    /// `base`'s state is not carried over: every group starts at t = 0.
    /// - Throws: ``ParameterLayoutError`` for an unknown group (listing the valid names), a
    ///   group given twice, two groups sharing elements, an unknown key (listing the valid
    ///   keys) or a value of the wrong type; ``OptimizerError/invalidHyperparameter(name:value:requirement:)``
    ///   naming the group and the hyperparameter out of range.
    /// - Complexity: O(runs log runs) plus one optimizer copy per run.
    public init(_ base: Base, layout: ParameterLayout, groups specs: [(name: String, overrides: [String: GroupValue])]) throws {
        var fresh = base
        fresh.reset()
        fresh.nonFiniteGradientPolicy = .unchecked
        var settings: [GroupSettings] = []
        var optimizers: [Base] = []
        var tagged: [(range: Range<Int>, group: String)] = []
        for spec in specs {
            guard !settings.contains(where: { $0.name == spec.name }) else { throw ParameterLayoutError.repeatedGroup(spec.name) }
            let ranges = try layout.ranges(of: spec.name)
            tagged += ranges.map { ($0, spec.name) }
            var o = fresh
            var rate = base.learningRate
            var overrides: [Override] = []
            for (key, value) in spec.overrides.sorted(by: { $0.key < $1.key }) {
                let name = GroupKeys.swiftName(key)
                if name == "learningRate" {
                    guard let v = value.scalar(Scalar.self) else {
                        throw ParameterLayoutError.invalidValue(key: key, group: spec.name, value: "\(value)", requirement: "a number")
                    }
                    rate = v
                    o.learningRate = v
                } else {
                    guard Base.groupKeys.contains(name) else {
                        throw ParameterLayoutError.unknownKey(key, group: spec.name, optimizer: Base.kind, valid: ["learningRate"] + Base.groupKeys)
                    }
                    guard o.setGroupHyperparameter(name, to: value) else {
                        throw ParameterLayoutError.invalidValue(key: key, group: spec.name, value: "\(value)",
                                                                requirement: value.flag == nil ? "true or false" : "a number")
                    }
                }
                overrides.append(Override(key: name, value: value))
            }
            overrides.sort { $0.key < $1.key }
            try Self.named(spec.name) { try o.validate() }
            settings.append(GroupSettings(name: spec.name, overrides: overrides, ranges: ranges, initialLearningRate: rate))
            optimizers.append(o)
        }
        tagged.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(tagged, tagged.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw ParameterLayoutError.overlappingGroups(a.group, b.group)
        }
        let rest = ParameterLayout.complement(of: tagged.map(\.range), count: layout.count)
        if !rest.isEmpty || specs.isEmpty {
            try Self.named(Self.defaultGroupName) { try fresh.validate() }
            settings.append(GroupSettings(name: Self.defaultGroupName, overrides: [], ranges: rest, initialLearningRate: base.learningRate))
            optimizers.append(fresh)
        }
        var members: [Member] = []
        for (g, s) in settings.enumerated() {
            members += s.ranges.map { Member(group: g, range: $0, optimizer: optimizers[g]) }
        }
        members.sort { $0.range.lowerBound < $1.range.lowerBound }
        self.layout = layout
        self.groups = settings
        self.members = members
        self.initialLearningRate = base.learningRate
        self.rate = base.learningRate
        self.nonFiniteGradientPolicy = base.nonFiniteGradientPolicy
    }

    /// Runs `body`, naming `group` in a hyperparameter error it throws.
    @usableFromInline
    static func named(_ group: String, _ body: () throws -> Void) throws {
        do { try body() } catch let OptimizerError.invalidHyperparameter(name, value, requirement) {
            throw OptimizerError.invalidHyperparameter(name: "\(name) of group \(group)", value: value, requirement: requirement)
        }
    }

    /// η; setting it scales every group's rate by η / η₀ (see the type's documentation).
    public var learningRate: Scalar {
        get { rate }
        set {
            rate = newValue
            for k in members.indices {
                members[k].optimizer.learningRate = groupRate(groups[members[k].group].initialLearningRate)
            }
        }
    }

    /// η_g for the current η: η_g,0 · (η / η₀).
    func groupRate(_ initial: Scalar) -> Scalar {
        if initial == initialLearningRate { return rate }
        if initialLearningRate == 0 { return initial }
        return Scalar(Double(initial) * (Double(rate) / Double(initialLearningRate)))
    }

    /// The current rate of every group, by name.
    public var groupLearningRates: [(name: String, learningRate: Scalar)] {
        groups.map { ($0.name, groupRate($0.initialLearningRate)) }
    }

    /// The optimizers of the group `name`, one per contiguous run, in ascending order.
    public func optimizers(ofGroup name: String) -> [Base] {
        guard let g = groups.firstIndex(where: { $0.name == name }) else { return [] }
        return members.filter { $0.group == g }.map(\.optimizer)
    }

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    public var stateCount: Int? { members.contains { $0.optimizer.stateCount != nil } ? layout.count : nil }

    public func validate() throws {
        for m in members { try Self.named(groups[m.group].name) { try m.optimizer.validate() } }
    }

    public mutating func reset() {
        t = 0
        skipped = 0
        for k in members.indices { members[k].optimizer.reset() }
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        try step(parameters, gradient: gradient, parameterScale: 1)
    }

    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                              parameterScale: Scalar) throws {
        guard parameterScale.isFinite else {
            throw OptimizerError.invalidHyperparameter(name: "parameterScale", value: "\(parameterScale)", requirement: "finite")
        }
        guard gradient.count == parameters.count else {
            throw OptimizerError.gradientCountMismatch(parameters: parameters.count, gradient: gradient.count)
        }
        guard parameters.count == layout.count else {
            throw OptimizerError.stateCountMismatch(state: layout.count, parameters: parameters.count)
        }
        try validate()
        guard t < Int.max else { throw OptimizerError.counterOverflow(name: "t") }
        for m in members where m.optimizer.stepCount == Int.max { throw OptimizerError.counterOverflow(name: "t") }
        if nonFiniteGradientPolicy != .unchecked, let i = firstNonFinite(gradient) {
            guard nonFiniteGradientPolicy == .skipStep else {
                throw OptimizerError.nonFiniteGradient(index: i, value: "\(gradient[i])")
            }
            guard skipped < Int.max else { throw OptimizerError.counterOverflow(name: "skipped") }
            skipped += 1
            return
        }
        t += 1
        for k in members.indices {
            let r = members[k].range
            try members[k].optimizer.step(UnsafeMutableBufferPointer(rebasing: parameters[r]),
                                          gradient: UnsafeBufferPointer(rebasing: gradient[r]), parameterScale: parameterScale)
        }
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey {
        case layout, groups, memberGroups, memberLowerBounds, memberUpperBounds, optimizers
        case initialLearningRate, learningRate, t, skipped, nonFiniteGradientPolicy
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layout, forKey: .layout)
        try c.encode(groups, forKey: .groups)
        try c.encode(members.map(\.group), forKey: .memberGroups)
        try c.encode(members.map(\.range.lowerBound), forKey: .memberLowerBounds)
        try c.encode(members.map(\.range.upperBound), forKey: .memberUpperBounds)
        try c.encode(members.map(\.optimizer), forKey: .optimizers)
        try c.encode(initialLearningRate, forKey: .initialLearningRate)
        try c.encode(rate, forKey: .learningRate)
        try c.encode(t, forKey: .t)
        try c.encode(skipped, forKey: .skipped)
        try c.encode(nonFiniteGradientPolicy, forKey: .nonFiniteGradientPolicy)
    }

    /// Decodes and checks the structure: runs inside the layout, disjoint, each of a known
    /// group and holding that group's runs exactly, each run's state of its length and its
    /// counter equal to the groups' t. Throws ``OptimizerError/corruptCheckpoint(_:)``.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layout = try c.decode(ParameterLayout.self, forKey: .layout)
        groups = try c.decode([GroupSettings].self, forKey: .groups).map { g in
            var g = g  // keys of earlier versions (`weight-decay`) read as Swift names
            g.overrides = g.overrides.map { Override(key: GroupKeys.swiftName($0.key), value: $0.value) }.sorted { $0.key < $1.key }
            return g
        }
        let g = try c.decode([Int].self, forKey: .memberGroups)
        let lo = try c.decode([Int].self, forKey: .memberLowerBounds)
        let hi = try c.decode([Int].self, forKey: .memberUpperBounds)
        let o = try c.decode([Base].self, forKey: .optimizers)
        guard g.count == lo.count, lo.count == hi.count, hi.count == o.count else {
            throw OptimizerError.corruptCheckpoint("parameter groups: \(o.count) run optimizers for \(g.count) runs")
        }
        var members: [Member] = []
        for i in g.indices {
            guard lo[i] >= 0, lo[i] <= hi[i], hi[i] <= layout.count else {
                throw OptimizerError.corruptCheckpoint("parameter groups: run \(lo[i])..<\(hi[i]) outside 0..<\(layout.count)")
            }
            guard groups.indices.contains(g[i]) else {
                throw OptimizerError.corruptCheckpoint("parameter groups: run \(i) names group \(g[i]) of \(groups.count)")
            }
            var opt = o[i]
            opt.nonFiniteGradientPolicy = .unchecked
            members.append(Member(group: g[i], range: lo[i]..<hi[i], optimizer: opt))
        }
        self.members = members
        initialLearningRate = try c.decode(Scalar.self, forKey: .initialLearningRate)
        rate = try c.decode(Scalar.self, forKey: .learningRate)
        t = try c.decode(Int.self, forKey: .t)
        skipped = try c.decode(Int.self, forKey: .skipped)
        nonFiniteGradientPolicy = try c.decode(NonFiniteGradientPolicy.self, forKey: .nonFiniteGradientPolicy)
        try validateState()
    }

    public func validateState() throws {
        guard t >= 0, skipped >= 0 else {
            throw OptimizerError.corruptCheckpoint("negative step count (t = \(t), skipped = \(skipped))")
        }
        for (a, b) in zip(members, members.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw OptimizerError.corruptCheckpoint("parameter groups: runs \(a.range) and \(b.range) overlap")
        }
        for (gi, group) in groups.enumerated() {
            let runs = members.filter { $0.group == gi }.map(\.range)
            guard runs == group.ranges else {
                throw OptimizerError.corruptCheckpoint("parameter group \(group.name): its runs do not match its optimizers")
            }
        }
        for m in members {
            let name = groups[m.group].name
            do { try m.optimizer.validateState() } catch let OptimizerError.corruptCheckpoint(why) {
                throw OptimizerError.corruptCheckpoint("group \(name): \(why)")
            }
            if let n = m.optimizer.stateCount, n != m.range.count {
                throw OptimizerError.corruptCheckpoint("group \(name): state of \(n) elements for a run of \(m.range.count)")
            }
            guard m.optimizer.stepCount == t else {
                throw OptimizerError.corruptCheckpoint("group \(name): step count \(m.optimizer.stepCount), expected \(t)")
            }
        }
    }
}
