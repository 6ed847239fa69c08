import Descent

/// The optimizer options that ``OptimizerOptions`` does not declare, read through the
/// ``OptimizerRegistry``: `--name value`, `--name=value`, or `--name` alone for a flag.
enum RegistryOptions {
    /// The hyperparameter an option sets, in the first optimizer that has it.
    static func hyperparameter(_ option: String) -> HyperparameterDescriptor? {
        OptimizerRegistry.all.lazy.compactMap { $0.hyperparameter(flag: option) }.first
    }

    /// Every option of the registry, each once, in the registry's order.
    static var options: [String] {
        var seen: Set<String> = []
        return OptimizerRegistry.all.flatMap(\.flags).filter { seen.insert($0).inserted }
    }

    /// `text` as the value of `option`: a number, true/false for a flag, a word of a choice.
    static func value(_ text: String, option: String) throws -> GroupValue {
        guard let h = hyperparameter(option) else { throw CLIError("Unknown option '\(option)'") }
        switch h.domain {
        case .flag:
            guard let on = Bool(text.lowercased()) else { throw CLIError("\(option) '\(text)': expected true or false") }
            return .flag(on)
        case let .choice(words):
            guard words.contains(text) else {
                throw CLIError("\(option) '\(text)': expected one of \(words.joined(separator: ", "))")
            }
            return .choice(text)
        case .positiveInteger:
            guard let v = Int(text) else { throw CLIError("\(option) '\(text)' is not an integer") }
            return .number(Double(v))
        default:
            guard let v = Double(text) else { throw CLIError("\(option) '\(text)' is not a number") }
            return .number(v)
        }
    }

    /// The options in `tokens`, in order.
    static func parse(_ tokens: [String]) throws -> [(String, GroupValue)] {
        var result: [(String, GroupValue)] = []
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            guard token.hasPrefix("--") else { throw CLIError("Unexpected argument '\(token)'") }
            let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
            let option = parts[0]
            guard let h = hyperparameter(option) else { throw CLIError("Unknown option '\(option)'") }
            if parts.count == 2 {
                result.append((option, try value(parts[1], option: option)))
            } else if h.domain == .flag {
                result.append((option, .flag(true)))
            } else {
                guard i + 1 < tokens.count else { throw CLIError("Missing value for '\(option)'") }
                i += 1
                result.append((option, try value(tokens[i], option: option)))
            }
            i += 1
        }
        return result
    }

    /// Help lines for the options read from the registry: option, the optimizers, the summary.
    static func help(excluding declared: Set<String>) -> String {
        options.filter { !declared.contains($0) }.map { option in
            let users = OptimizerRegistry.all.filter { $0.flags.contains(option) }
            let summary = users.first?.hyperparameter(flag: option)?.summary ?? ""
            return "\(option) (\(users.map(\.name).joined(separator: ", "))): \(summary)"
        }.joined(separator: "\n")
    }
}
