import ArgumentParser
import Descent
import DescentProblems

/// An optimizer the tool knows: a name of the ``OptimizerRegistry``.
struct OptimizerName: RawRepresentable, Hashable, CaseIterable, ExpressibleByArgument, Sendable {
    let rawValue: String

    init?(rawValue: String) {
        guard OptimizerRegistry.named(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    private init(registered name: String) { rawValue = name }

    static var allCases: [OptimizerName] { OptimizerRegistry.names.map(OptimizerName.init(registered:)) }

    /// The registry's entry.
    var descriptor: OptimizerDescriptor { OptimizerRegistry.named(rawValue)! }

    static let sgd = OptimizerName(registered: "sgd"), momentum = OptimizerName(registered: "momentum")
    static let nesterov = OptimizerName(registered: "nesterov"), adagrad = OptimizerName(registered: "adagrad")
    static let rmsprop = OptimizerName(registered: "rmsprop"), adadelta = OptimizerName(registered: "adadelta")
    static let adam = OptimizerName(registered: "adam"), adamw = OptimizerName(registered: "adamw")
    static let natural = OptimizerName(registered: "natural"), kfac = OptimizerName(registered: "kfac")
}

/// Which Fisher information the natural gradient uses (the training loop supplies it):
/// empirical F = SᵀS/m from per-sample gradients, or exact E[Jᵀ H J] from the output Jacobian.
extension FisherKind: ExpressibleByArgument {}

/// Hyperparameters as the user gave them, by command-line option: an unset option keeps the
/// library's default (the tool never restates a default). ``make(_:)`` builds the optimizer
/// through its ``OptimizerDescriptor``: defaults, then the values that were set.
struct OptimizerSettings: Sendable {
    var name: OptimizerName
    /// The values set, by option (`--lr`, `--rho`, …), each option once, in the order set.
    private(set) var values: [(option: String, value: GroupValue)] = []
    /// `--fisher`: read by the training loop, not by the optimizer.
    var fisher: FisherKind?
    /// `--group NAME:key=value[,…]` values, in order (first-order optimizers only).
    var groups: [String] = []

    init(_ name: OptimizerName, learningRate: Double? = nil) {
        self.name = name
        set("--lr", learningRate.map(GroupValue.number))
    }

    /// Sets `option` to `value` (nil: unset).
    mutating func set(_ option: String, _ value: GroupValue?) {
        values.removeAll { $0.option == option }
        if let value { values.append((option, value)) }
    }

    /// A numeric option (nil: unset).
    mutating func set(_ option: String, number: Double?) { set(option, number.map(GroupValue.number)) }

    /// `--lr`.
    var learningRate: Double? {
        get { values.first { $0.option == "--lr" }?.value.scalar(Double.self) }
        set { set("--lr", number: newValue) }
    }

    /// The options that were set.
    var setOptions: [String] { values.map(\.option) + (fisher != nil ? ["--fisher"] : []) }

    /// Throws for an option that does not apply to the chosen optimizer, naming the optimizers it
    /// applies to.
    func checkApplicable() throws {
        let applicable = name.descriptor.flags
        for option in setOptions where !applicable.contains(option) {
            let users = OptimizerRegistry.all.filter { $0.flags.contains(option) }.map(\.name)
            throw CLIError("\(option) does not apply to \(name.rawValue) (it applies to \(users.joined(separator: ", ")))")
        }
    }

    /// A short description of the set values, e.g. "lr=0.01 momentum=0.9".
    var summary: String {
        let descriptor = name.descriptor
        var parts: [String] = values.map { option, value in
            let key = option.dropFirst(2)
            switch value {
            case let .flag(on): return on ? String(key) : "\(key)=false"
            case let .number(v) where descriptor.hyperparameter(flag: option)?.domain == .positiveInteger: return "\(key)=\(Int(v))"
            default: return "\(key)=\(value)"
            }
        }
        if let fisher { parts.append("fisher=\(fisher.rawValue)") }
        parts += groups.map { "group \($0)" }
        return parts.isEmpty ? "defaults" : parts.joined(separator: " ")
    }

    /// The optimizer with the library's defaults, overridden by the set values, validated.
    func make<S: BLASScalar>(_: S.Type) throws -> any RegisteredOptimizer<S> {
        if values.contains(where: { $0.option == "--adaptive" }) { return try makeAdaptiveKFAC(S.self) }
        let adaptiveOnly = Set(AdaptiveKFAC<Double>.hyperparameterDescriptors.flatMap(\.flags)).subtracting(name.descriptor.flags)
        if let option = setOptions.first(where: adaptiveOnly.contains) {
            throw CLIError("\(option) applies to adaptive K-FAC only (--optimizer kfac --adaptive)")
        }
        try checkApplicable()
        let descriptor = name.descriptor
        let named = values.compactMap { option, value in descriptor.hyperparameter(flag: option).map { ($0.name, value) } }
        do {
            return try descriptor.make(S.self, values: named)
        } catch let error as ParameterLayoutError {
            throw CLIError("\(name.rawValue): \(error)")
        }
    }

    /// `--optimizer kfac --adaptive`: ``AdaptiveKFAC`` with the set options (its hyperparameters'
    /// flags and `--fisher`); the learning rate and KL clipping do not apply (the quadratic model
    /// chooses the step).
    func makeAdaptiveKFAC<S: BLASScalar>(_: S.Type) throws -> any RegisteredOptimizer<S> {
        guard name == .kfac else { throw CLIError("--adaptive applies to kfac only, not \(name.rawValue)") }
        let specs = AdaptiveKFAC<S>.hyperparameterDescriptors
        var o = try AdaptiveKFAC<S>()
        for (option, value) in values where option != "--adaptive" {
            guard let spec = specs.first(where: { $0.flags.contains(option) }) else {
                throw CLIError("\(option) does not apply to adaptive K-FAC (the quadratic model chooses the step; options: \(specs.flatMap(\.flags).joined(separator: ", ")), --fisher)")
            }
            do { try o.setHyperparameter(spec.name, to: value) } catch { throw CLIError("kfac --adaptive: \(error)") }
        }
        try o.validate()
        return o
    }
}
