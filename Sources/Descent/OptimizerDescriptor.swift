/// Whether an optimizer updates each parameter from its own gradient history (first order,
/// groupable per parameter) or preconditions across all parameters with curvature.
public enum OptimizerCategory: String, Sendable, Hashable {
    case firstOrder = "first-order"
    case secondOrder = "second-order"
}

/// One optimizer as the ``OptimizerRegistry`` lists it: its command-line name, its category,
/// its hyperparameters (Swift name, command-line option, group key, PyTorch's name, default,
/// domain, summary), its checkpoint kind and state version, and how to build it from values.
///
/// Two names may share a type with different presets: `nesterov` is ``Momentum`` with
/// `nesterov = true`.
public struct OptimizerDescriptor: Sendable {
    /// The command-line name, e.g. `adamw`.
    public let name: String
    public let category: OptimizerCategory
    /// One line: what it is.
    public let summary: String
    /// ``Optimizer/kind``, the kind its checkpoints carry.
    public let checkpointKind: String
    /// ``RegisteredOptimizer/stateVersion``.
    public let stateVersion: Int
    public let hyperparameters: [HyperparameterDescriptor]
    /// Values set before the caller's (by Swift name).
    public let presets: [String: GroupValue]
    /// Options of the training loop that only this kind of optimizer reads (`--fisher`).
    public let trainingFlags: [String]
    /// Arrays of n elements the default configuration keeps as state (first order: `descent
    /// bench`'s memory check and traffic model); nil for the second-order optimizers.
    public let stateArrays: Int?
    private let makeFloat: @Sendable ([(String, GroupValue)]) throws -> any RegisteredOptimizer<Float>
    private let makeDouble: @Sendable ([(String, GroupValue)]) throws -> any RegisteredOptimizer<Double>

    /// The optimizer `type` under `name`, with `presets` applied to its defaults.
    public init<O: RegisteredOptimizer>(_ name: String, _ type: O.Type, _ category: OptimizerCategory, stateArrays: Int? = nil,
                                        summary: String, presets: [String: GroupValue] = [:], trainingFlags: [String] = []) {
        self.name = name
        self.category = category
        self.summary = summary
        self.checkpointKind = O.kind
        self.stateVersion = O.stateVersion
        self.stateArrays = stateArrays
        // Only the first-order optimizers are grouped (``ParameterGroups``): no group keys otherwise.
        self.hyperparameters = O.hyperparameterDescriptors.map { h in
            category == .firstOrder ? h : HyperparameterDescriptor(
                name: h.name, flag: h.flag, aliases: h.aliases, groupKey: nil, torchName: h.torchName,
                defaultValue: h.defaultValue, domain: h.domain, summary: h.summary)
        }
        self.presets = presets
        self.trainingFlags = trainingFlags
        let preset = presets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        makeFloat = { values in try Self.build(O.withDefaults(Float.self), preset + values) }
        makeDouble = { values in try Self.build(O.withDefaults(Double.self), preset + values) }
    }

    private static func build<S>(_ fresh: any RegisteredOptimizer<S>, _ values: [(String, GroupValue)]) throws
        -> any RegisteredOptimizer<S> {
        var o = fresh
        for (name, value) in values { try o.setHyperparameter(name, to: value) }
        try o.validate()
        return o
    }

    /// The optimizer in precision `S`: its defaults, the presets, then `values` (Swift names) in order.
    /// - Throws: ``ParameterLayoutError`` for an unknown name or a value of the wrong type,
    ///   ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` for one out of range.
    public func make<S: BLASScalar>(_: S.Type, values: [(String, GroupValue)] = []) throws -> any RegisteredOptimizer<S> {
        if S.self == Double.self, let o = try makeDouble(values) as? any RegisteredOptimizer<S> { return o }
        if S.self == Float.self, let o = try makeFloat(values) as? any RegisteredOptimizer<S> { return o }
        throw OptimizerError.invalidHyperparameter(name: "scalar", value: "\(S.self)", requirement: "Float or Double")
    }

    /// The hyperparameter set by the option `flag` (its own or an alias), if any.
    public func hyperparameter(flag: String) -> HyperparameterDescriptor? {
        hyperparameters.first { $0.flags.contains(flag) }
    }

    /// The hyperparameter spelled `key` in a `--group` override, if it can be overridden per group.
    public func hyperparameter(groupKey key: String) -> HyperparameterDescriptor? {
        hyperparameters.first { $0.groupKey == key }
    }

    /// Every option that applies: the hyperparameters' and ``trainingFlags``.
    public var flags: [String] { hyperparameters.flatMap(\.flags) + trainingFlags }
}
