import Descent

/// `--group NAME:key=value[,key=value]`: per-group hyperparameter overrides of a first-order
/// optimizer (``ParameterGroups``). NAME is a slice or group of the problem's parameter layout
/// (`weights`, `biases`, `layer1.weights`, …); keys are the group keys of the optimizer's
/// hyperparameters in the ``OptimizerRegistry`` (`lr`, `weight-decay`, `momentum`, `nesterov`,
/// `beta1`, `beta2`, `eps`, `amsgrad`, `rho`, `centered`, `lr-decay`, `initial-accumulator`);
/// values are numbers or `true`/`false`.
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
    /// ``make(_:)``, then wrapped in ``ParameterGroups`` over `layout` when `--group` was given;
    /// the keys are mapped to the library's Swift names through the optimizer's descriptor.
    func make<S: BLASScalar>(_: S.Type, layout: ParameterLayout) throws -> any Optimizer<S> {
        let base = try make(S.self)
        guard !groups.isEmpty else { return base }
        let parsed = try GroupArguments.parse(groups)
        guard let configurable = base as? any GroupConfigurable else {
            throw CLIError("--group applies to the first-order optimizers, not \(name.rawValue) (it preconditions across all parameters)")
        }
        let specs = try parsed.map { try libraryOverrides($0) }
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

    /// A group's overrides with the command line's keys (`weight-decay`) as Swift names
    /// (`weightDecay`); throws naming an unknown key (listing the valid ones) or a value of the
    /// wrong type.
    func libraryOverrides(_ spec: (name: String, overrides: [String: GroupValue])) throws
        -> (name: String, overrides: [String: GroupValue]) {
        let descriptor = name.descriptor
        var out: [String: GroupValue] = [:]
        for (key, value) in spec.overrides.sorted(by: { $0.key < $1.key }) {
            guard let h = descriptor.hyperparameter(groupKey: key) else {
                let valid = descriptor.hyperparameters.compactMap(\.groupKey)
                throw CLIError("--group: \(ParameterLayoutError.unknownKey(key, group: spec.name, optimizer: name.rawValue, valid: valid))")
            }
            let typeMatches = h.domain == .flag ? value.flag != nil : value.flag == nil
            guard typeMatches else {
                let requirement = h.domain == .flag ? "true or false" : "a number"
                throw CLIError("--group: \(ParameterLayoutError.invalidValue(key: key, group: spec.name, value: "\(value)", requirement: requirement))")
            }
            out[h.name] = value
        }
        return (spec.name, out)
    }
}
