/// A user error of the command-line tool: printed as one line on stderr, exit status 1.
struct CLIError: Error, LocalizedError, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    var errorDescription: String? { description }
}

/// Parsing of the comma-separated lists the options take (`--start -1.5,2`, `--hidden 16,8`).
enum ListParser {
    /// "1.5,-2, 3e-1" → [1.5, -2, 0.3]. Throws naming the option and the bad item.
    static func numbers(_ text: String, option: String) throws -> [Double] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError("\(option): expected comma-separated numbers, got an empty value")
        }
        return try items.enumerated().map { i, item in
            guard let v = Double(item), v.isFinite else {
                throw CLIError("\(option): '\(Message.clip(item))' (item \(i + 1) of \(items.count)) is not a finite number")
            }
            return v
        }
    }

    /// "16,8" → [16, 8], each ≥ `minimum`.
    static func integers(_ text: String, option: String, minimum: Int = 1) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return try items.enumerated().map { i, item in
            guard let v = try? SizeArgument.parse(item), v >= minimum else {
                throw CLIError("\(option): '\(Message.clip(item))' (item \(i + 1) of \(items.count)) is not an integer ≥ \(minimum)")
            }
            return v
        }
    }

    /// "adam,sgd" → the named cases, in order, without repeats; an unknown name throws listing the valid ones.
    static func names<T: RawRepresentable & CaseIterable>(_ text: String, option: String, as: T.Type) throws -> [T]
    where T.RawValue == String {
        var out: [T] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !item.isEmpty {
            guard let v = T(rawValue: item) else {
                throw CLIError("\(option): unknown name '\(Message.clip(item))'; valid names: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !out.contains(where: { $0.rawValue == v.rawValue }) { out.append(v) }
        }
        guard !out.isEmpty else { throw CLIError("\(option): no names given") }
        return out
    }
}

import Foundation
