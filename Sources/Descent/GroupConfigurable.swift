/// A first-order optimizer whose hyperparameters can be overridden per parameter group, by
/// their Swift names (`weightDecay`, `momentum`, `beta1`, …), as PyTorch lets a param group
/// override its optimizer's options. `learningRate` is handled by ``ParameterGroups`` itself
/// and is not listed.
///
/// A ``RegisteredOptimizer`` gets both requirements from its hyperparameter list (those with a
/// group key). The spellings of earlier versions (`weight-decay`, `eps`, `lr-decay`,
/// `initial-accumulator`, `lr`) are still read, as their Swift names.
public protocol GroupConfigurable: FirstOrderOptimizer {
    /// The Swift names ``setGroupHyperparameter(_:to:)`` accepts, besides `learningRate`.
    static var groupKeys: [String] { get }
    /// Sets the hyperparameter `key` (one of ``groupKeys``); returns false when `value` has the
    /// wrong type (a flag for a number or the reverse). The range is checked by `validate()`.
    mutating func setGroupHyperparameter(_ key: String, to value: GroupValue) -> Bool
}

extension GroupConfigurable where Self: RegisteredOptimizer {
    public static var groupKeys: [String] {
        hyperparameters.filter { $0.groupKey != nil && $0.name != "learningRate" }.map(\.name)
    }

    public mutating func setGroupHyperparameter(_ key: String, to value: GroupValue) -> Bool {
        let name = GroupKeys.swiftName(key)
        guard name != "learningRate", let spec = Self.hyperparameters.first(where: { $0.name == name && $0.groupKey != nil }) else {
            return false
        }
        return spec.write(&self, value)
    }
}

/// The group keys of earlier versions, read as their Swift names (checkpoints and callers that
/// still spell them so).
enum GroupKeys {
    static let legacy: [String: String] = [
        "lr": "learningRate", "weight-decay": "weightDecay", "eps": "epsilon",
        "lr-decay": "learningRateDecay", "initial-accumulator": "initialAccumulatorValue",
    ]

    /// `key`'s Swift name.
    static func swiftName(_ key: String) -> String { legacy[key] ?? key }
}

extension DecoupledWeightDecay: GroupConfigurable where Base: GroupConfigurable {
    /// The base's keys; `weightDecay` is the decoupled λ (the base's coupled one is not settable here).
    public static var groupKeys: [String] {
        Base.groupKeys.contains("weightDecay") ? Base.groupKeys : Base.groupKeys + ["weightDecay"]
    }
    public mutating func setGroupHyperparameter(_ key: String, to value: GroupValue) -> Bool {
        if GroupKeys.swiftName(key) == "weightDecay" {
            guard let v = value.scalar(Scalar.self) else { return false }
            weightDecay = v
            return true
        }
        return base.setGroupHyperparameter(key, to: value)
    }
}
