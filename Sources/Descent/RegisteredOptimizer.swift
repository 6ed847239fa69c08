/// An optimizer the ``OptimizerRegistry`` can build by name: it lists its hyperparameters once
/// (``hyperparameters``), and that list sets them by name (``setHyperparameter(_:to:)``),
/// gives their defaults and documents them for the command line and ``ParameterGroups``.
public protocol RegisteredOptimizer<Scalar>: Optimizer {
    /// Every hyperparameter a user sets, η first, in the order the command line lists them.
    static var hyperparameters: [HyperparameterSpec<Self>] { get }
    /// The version of this optimizer's checkpoint state (raised when its fields change meaning).
    static var stateVersion: Int { get }
    /// The optimizer in precision `T` with its initializer's defaults.
    static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T>
}

extension RegisteredOptimizer {
    public static var stateVersion: Int { 1 }

    /// Sets the hyperparameter `name` (a Swift name of ``hyperparameters``).
    /// - Throws: ``ParameterLayoutError/unknownKey(_:group:optimizer:valid:)`` for a name the
    ///   optimizer does not have, ``ParameterLayoutError/invalidValue(key:group:value:requirement:)``
    ///   for a value of the wrong type; the optimizer is then unchanged. The range is checked by
    ///   `validate()`.
    /// - Complexity: O(number of hyperparameters).
    public mutating func setHyperparameter(_ name: String, to value: GroupValue) throws {
        let specs = Self.hyperparameters
        guard let spec = specs.first(where: { $0.name == name }) else {
            throw ParameterLayoutError.unknownKey(name, group: "", optimizer: Self.kind, valid: specs.map(\.name))
        }
        guard spec.write(&self, value) else {
            throw ParameterLayoutError.invalidValue(key: name, group: "", value: "\(value)", requirement: spec.domain.description)
        }
    }

    /// The hyperparameters' descriptors, defaults read from ``withDefaults(_:)``.
    public static var hyperparameterDescriptors: [HyperparameterDescriptor] {
        let defaults = (try? withDefaults(Scalar.self)) as? Self
        return hyperparameters.map { $0.descriptor(defaults: defaults) }
    }
}
