import Foundation

/// The value of a hyperparameter set by name (``RegisteredOptimizer/setHyperparameter(_:to:)``,
/// a ``ParameterGroups`` override): a number (`learningRate`, `weightDecay`, `momentum`, …), a
/// flag (`nesterov`, `amsgrad`, `centered`) or a word of a choice (the natural gradient's `solver`).
public enum GroupValue: Sendable, Hashable, Codable, CustomStringConvertible,
                        ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    case number(Double)
    case flag(Bool)
    case choice(String)

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }

    /// The number rounded once to `S`, or nil for a flag.
    @inlinable public func scalar<S: BLASScalar>(_: S.Type = S.self) -> S? {
        if case let .number(v) = self { return S(v) }
        return nil
    }
    /// The flag, or nil for a number.
    public var flag: Bool? {
        if case let .flag(v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case let .number(v): return "\(v)"
        case let .flag(v): return "\(v)"
        case let .choice(v): return v
        }
    }

    private enum CodingKeys: String, CodingKey { case number, flag, choice }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let f = try c.decodeIfPresent(Bool.self, forKey: .flag) { self = .flag(f); return }
        if let w = try c.decodeIfPresent(String.self, forKey: .choice) { self = .choice(w); return }
        self = .number(try c.decode(Double.self, forKey: .number))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .number(v): try c.encode(v, forKey: .number)
        case let .flag(v): try c.encode(v, forKey: .flag)
        case let .choice(v): try c.encode(v, forKey: .choice)
        }
    }
}
