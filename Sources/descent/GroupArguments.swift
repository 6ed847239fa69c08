import Descent

/// `--group NAME:key=value[,key=value]`: per-group hyperparameter overrides of a first-order
/// optimizer (``ParameterGroups``). NAME is a slice or group of the problem's parameter layout
/// (`weights`, `biases`, `layer1.weights`, …); keys are `lr` and the optimizer's own
/// (``GroupConfigurable/groupKeys``: `weight-decay`, `momentum`, `nesterov`, `beta1`, `beta2`,
/// `eps`, `amsgrad`, `rho`, `centered`, `lr-decay`, `initial-accumulator`); values are numbers or
/// `true`/`false`.
enum GroupArguments {
    /// Parses every `--group` value, in order.
    static func parse(_ values: [String]) throws -> [(name: String, overrides: [String: GroupValue])] {
        var result: [(name: String, overrides: [String: GroupValue])] = []
        for text in values {
            let spec = Message.clip(text)
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                throw CLIError("--group \(spec): expected NAME:key=value[,key=value]")
            }
            let name = String(text[..<colon])
            var overrides: [String: GroupValue] = [:]
            for pair in text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw CLIError("--group \(spec): '\(Message.clip(pair, limit: 40))' is not key=value")
                }
                let key = String(parts[0]), raw = parts[1].lowercased()
                let value: GroupValue
                if raw == "true" { value = .flag(true) } else if raw == "false" { value = .flag(false) } else if let v = Double(raw) {
                    value = .number(v)
                } else {
                    throw CLIError("--group \(spec): the value of \(Message.clip(key, limit: 40)) '\(Message.clip(parts[1], limit: 40))' is neither a number nor true/false")
                }
                guard overrides.updateValue(value, forKey: key) == nil else {
                    throw CLIError("--group \(spec): \(Message.clip(key, limit: 40)) is given twice")
                }
            }
            result.append((name, overrides))
        }
        return result
    }
}

extension OptimizerSettings {
    /// ``make(_:)``, then wrapped in ``ParameterGroups`` over `layout` when `--group` was given.
    func make<S: BLASScalar>(_: S.Type, layout: ParameterLayout) throws -> any Optimizer<S> {
        let base = try make(S.self)
        guard !groups.isEmpty else { return base }
        let specs = try GroupArguments.parse(groups)
        guard let configurable = base as? any GroupConfigurable else {
            throw CLIError("--group applies to the first-order optimizers, not \(name.rawValue) (it preconditions across all parameters)")
        }
        func wrap<B: GroupConfigurable>(_ b: B) throws -> any Optimizer {
            do {
                return try ParameterGroups(b, layout: layout, groups: specs)
            } catch let error as ParameterLayoutError {
                throw CLIError("--group: \(error)")
            }
        }
        guard let grouped = try wrap(configurable) as? any Optimizer<S> else {
            throw CLIError("internal: grouped optimizer of another precision")
        }
        return grouped
    }
}
