/// Every optimizer the command line, `descent compare`, `descent bench` and the distributed
/// checks know, by name: the single list to extend. A new element-wise optimizer is its file
/// (the `ElementRule`, the optimizer and its ``RegisteredOptimizer/hyperparameters``) plus
/// one line here.
public enum OptimizerRegistry {
    public static let all: [OptimizerDescriptor] = [
        OptimizerDescriptor("sgd", SGD<Double>.self, .firstOrder, stateArrays: 0, summary: "Gradient descent θ ← θ − η g."),
        OptimizerDescriptor("momentum", Momentum<Double>.self, .firstOrder, stateArrays: 1, summary: "Heavy-ball momentum."),
        OptimizerDescriptor("nesterov", Momentum<Double>.self, .firstOrder, stateArrays: 1, summary: "Nesterov momentum.",
                            presets: ["nesterov": true]),
        OptimizerDescriptor("adagrad", Adagrad<Double>.self, .firstOrder, stateArrays: 1, summary: "Adagrad: η / √(Σ g²)."),
        OptimizerDescriptor("rmsprop", RMSProp<Double>.self, .firstOrder, stateArrays: 1, summary: "RMSProp: η / √(running average of g²)."),
        OptimizerDescriptor("adadelta", Adadelta<Double>.self, .firstOrder, stateArrays: 2, summary: "Adadelta: RMS of updates over RMS of gradients."),
        OptimizerDescriptor("adam", Adam<Double>.self, .firstOrder, stateArrays: 2, summary: "Adam: bias-corrected first and second moments."),
        OptimizerDescriptor("adamw", AdamW<Double>.self, .firstOrder, stateArrays: 2, summary: "AdamW: Adam with decoupled weight decay."),
        OptimizerDescriptor("natural", NaturalGradient<Double>.self, .secondOrder, summary: "Natural gradient (F + λI)⁻¹∇L.",
                            trainingFlags: ["--fisher"]),
        OptimizerDescriptor("kfac", KFAC<Double>.self, .secondOrder, summary: "K-FAC: Kronecker-factored natural gradient.",
                            trainingFlags: ["--fisher"]),
    ]

    /// The command-line names, in the registry's order.
    public static var names: [String] { all.map(\.name) }

    /// The optimizer called `name`, if any.
    public static func named(_ name: String) -> OptimizerDescriptor? { all.first { $0.name == name } }

    /// The first-order optimizers (those ``ParameterGroups`` can group).
    public static var firstOrder: [OptimizerDescriptor] { all.filter { $0.category == .firstOrder } }

    /// The names whose checkpoints carry `kind` (``Optimizer/kind``), e.g. `momentum` and
    /// `nesterov` for `"momentum"`; a kind with a `+groups` suffix is its base's.
    public static func names(checkpointKind kind: String) -> [String] {
        let base = kind.hasSuffix("+groups") ? String(kind.dropLast("+groups".count)) : kind
        return all.filter { $0.checkpointKind == base }.map(\.name)
    }
}
