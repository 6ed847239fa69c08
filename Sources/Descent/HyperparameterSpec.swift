/// The values a hyperparameter may take, as its optimizer's `validate()` checks them: the
/// requirement a ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` names.
public enum HyperparameterDomain: Sendable, Hashable, CustomStringConvertible {
    /// Finite and ≥ 0.
    case nonNegative
    /// Finite and > 0.
    case positive
    /// In [0, 1).
    case halfOpenUnit
    /// In [0, 1].
    case closedUnit
    /// An integer ≥ 1.
    case positiveInteger
    /// true or false.
    case flag
    /// One of the listed words.
    case choice([String])

    public var description: String {
        switch self {
        case .nonNegative: return "finite and ≥ 0"
        case .positive: return "finite and > 0"
        case .halfOpenUnit: return "in [0, 1)"
        case .closedUnit: return "in [0, 1]"
        case .positiveInteger: return "an integer ≥ 1"
        case .flag: return "true or false"
        case let .choice(words): return "one of " + words.joined(separator: ", ")
        }
    }

    /// Whether `value` has the type this domain needs (its range is the optimizer's to check).
    public func accepts(_ value: GroupValue) -> Bool {
        switch (self, value) {
        case (.flag, .flag), (.choice, .choice): return true
        case let (.positiveInteger, .number(v)): return v.rounded() == v && v.magnitude <= Double(Int.max / 2)
        case (.nonNegative, .number), (.positive, .number), (.halfOpenUnit, .number), (.closedUnit, .number): return true
        default: return false
        }
    }
}

/// What the registry knows about one hyperparameter of an optimizer: its Swift name (the
/// property and the key of ``ParameterGroups``), its command-line spellings, PyTorch's name,
/// its default, its domain and one line of documentation.
public struct HyperparameterDescriptor: Sendable, Hashable {
    /// The Swift property, e.g. `weightDecay`; the key a ``ParameterGroups`` override uses.
    public let name: String
    /// The command-line option, e.g. `--weight-decay`; nil when there is none.
    public let flag: String?
    /// Further options that set it (`--rho` for the natural gradient's `curvatureDecay`).
    public let aliases: [String]
    /// The key `descent run --group NAME:key=value` spells it with, e.g. `weight-decay`; nil when
    /// it cannot be overridden per group.
    public let groupKey: String?
    /// PyTorch's argument, e.g. `weight_decay`; nil when torch has none.
    public let torchName: String?
    /// The library's default, as the command line prints it (nil: none, e.g. an unset option).
    public let defaultValue: String?
    public let domain: HyperparameterDomain
    /// One line: the symbol and what it does.
    public let summary: String

    public init(name: String, flag: String?, aliases: [String] = [], groupKey: String?, torchName: String?,
                defaultValue: String?, domain: HyperparameterDomain, summary: String) {
        self.name = name; self.flag = flag; self.aliases = aliases; self.groupKey = groupKey
        self.torchName = torchName; self.defaultValue = defaultValue; self.domain = domain; self.summary = summary
    }

    /// Every option that sets it: ``flag`` then ``aliases``.
    public var flags: [String] { (flag.map { [$0] } ?? []) + aliases }
}

/// One hyperparameter of `O`: its ``HyperparameterDescriptor`` and how to read and set it on
/// a value of `O`.
///
/// A spec is built with a key path (`.number(\.rho, …)`); the descriptor's default is read from
/// the optimizer built with its initializer's defaults, so the initializer stays the one place
/// that states it.
public struct HyperparameterSpec<O: Optimizer> {
    public let name: String
    let flag: String?
    let aliases: [String]
    let groupKey: String?
    let torchName: String?
    public let domain: HyperparameterDomain
    let summary: String
    let read: (O) -> String?
    let write: (inout O, GroupValue) -> Bool

    /// A hyperparameter of `O`'s scalar type.
    public static func number(_ name: String, _ path: WritableKeyPath<O, O.Scalar>, flag: String? = nil, aliases: [String] = [],
                              group: String? = nil, torch: String? = nil, _ domain: HyperparameterDomain,
                              _ summary: String) -> Self {
        Self(name: name, flag: flag, aliases: aliases, groupKey: group, torchName: torch, domain: domain, summary: summary,
             read: { "\($0[keyPath: path])" },
             write: { o, v in
                 guard let x = v.scalar(O.Scalar.self) else { return false }
                 o[keyPath: path] = x
                 return true
             })
    }

    /// An optional hyperparameter of `O`'s scalar type (nil: off); setting it sets a number.
    public static func optionalNumber(_ name: String, _ path: WritableKeyPath<O, O.Scalar?>, flag: String? = nil,
                                      aliases: [String] = [], group: String? = nil, torch: String? = nil,
                                      _ domain: HyperparameterDomain, _ summary: String) -> Self {
        Self(name: name, flag: flag, aliases: aliases, groupKey: group, torchName: torch, domain: domain, summary: summary,
             read: { $0[keyPath: path].map { "\($0)" } },
             write: { o, v in
                 guard let x = v.scalar(O.Scalar.self) else { return false }
                 o[keyPath: path] = x
                 return true
             })
    }

    /// A Boolean option.
    public static func flag(_ name: String, _ path: WritableKeyPath<O, Bool>, flag: String? = nil, group: String? = nil,
                            torch: String? = nil, _ summary: String) -> Self {
        Self(name: name, flag: flag, aliases: [], groupKey: group, torchName: torch, domain: .flag, summary: summary,
             read: { "\($0[keyPath: path])" },
             write: { o, v in
                 guard let f = v.flag else { return false }
                 o[keyPath: path] = f
                 return true
             })
    }

    /// An integer ≥ 1 (an interval in steps).
    public static func integer(_ name: String, _ path: WritableKeyPath<O, Int>, flag: String? = nil, group: String? = nil,
                               torch: String? = nil, _ summary: String) -> Self {
        Self(name: name, flag: flag, aliases: [], groupKey: group, torchName: torch, domain: .positiveInteger, summary: summary,
             read: { "\($0[keyPath: path])" },
             write: { o, v in
                 guard case let .number(x) = v, HyperparameterDomain.positiveInteger.accepts(v) else { return false }
                 o[keyPath: path] = Int(x)
                 return true
             })
    }

    /// Any other hyperparameter (an enumeration, a damping rule): `read` prints it, `write` sets
    /// it from a value and returns false for a value of the wrong type.
    public static func custom(_ name: String, flag: String? = nil, group: String? = nil, torch: String? = nil,
                              _ domain: HyperparameterDomain, _ summary: String,
                              read: @escaping (O) -> String?, write: @escaping (inout O, GroupValue) -> Bool) -> Self {
        Self(name: name, flag: flag, aliases: [], groupKey: group, torchName: torch, domain: domain, summary: summary,
             read: read, write: write)
    }

    /// η, as every optimizer spells it.
    public static func learningRate(_ path: WritableKeyPath<O, O.Scalar>, _ summary: String = "Learning rate η.") -> Self {
        .number("learningRate", path, flag: "--lr", group: "lr", torch: "lr", .nonNegative, summary)
    }

    /// λ of the L2 penalty added to the gradient (coupled), as the first-order optimizers spell it.
    public static func weightDecay(_ path: WritableKeyPath<O, O.Scalar>,
                                   _ summary: String = "Weight decay λ: g ← g + λθ.") -> Self {
        .number("weightDecay", path, flag: "--weight-decay", group: "weight-decay", torch: "weight_decay", .nonNegative, summary)
    }

    /// ε added to a denominator.
    public static func epsilon(_ path: WritableKeyPath<O, O.Scalar>, _ summary: String) -> Self {
        .number("epsilon", path, flag: "--eps", group: "eps", torch: "eps", .positive, summary)
    }

    /// The descriptor, with the default read from `defaults`.
    func descriptor(defaults: O?) -> HyperparameterDescriptor {
        HyperparameterDescriptor(name: name, flag: flag, aliases: aliases, groupKey: groupKey, torchName: torchName,
                                 defaultValue: defaults.flatMap(read), domain: domain, summary: summary)
    }
}
