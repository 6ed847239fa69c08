import Foundation

/// Errors reading or validating data. Each names the file, line (1-based, the header is line 1)
/// and column where it applies; values and column lists are echoed in short (at most ~100
/// characters of a value, a few column names and "and N more").
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// No file at this path.
    case fileNotFound(path: String)
    /// The file has no header row (or no content at all).
    case emptyFile(path: String)
    /// The file has a header but no data rows.
    case noRows(path: String)
    /// The named target column is not in the header.
    case missingTargetColumn(name: String, path: String, available: [String])
    /// A cell that is not a finite number.
    case notANumber(path: String, line: Int, column: Int, columnName: String, value: String)
    /// A row with another number of cells than the header.
    case wrongFieldCount(path: String, line: Int, expected: Int, found: Int)
    /// The file is not UTF-8 text.
    case unreadable(path: String, reason: String)
    /// A target that the model cannot use, e.g. 2 for logistic regression.
    case invalidTarget(sample: Int, value: String, expected: String)
    /// A model was given data of the wrong shape.
    case shapeMismatch(String)
    /// A class count (given, or 1 + the largest label) beyond what a model takes.
    case tooManyClasses(found: Int, limit: Int)
    /// A cell whose number does not fit the scalar type (e.g. 1e300 read as Float).
    case outOfRange(path: String, line: Int, column: Int, columnName: String, value: String, scalar: String)
    /// The path is a directory, not a file.
    case isDirectory(path: String)
    /// A θ or start point with the wrong number of values for the objective.
    case dimensionMismatch(objective: String, expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(clip(path)): no such file"
        case let .emptyFile(path): return "\(clip(path)): the file is empty (a header row is required)"
        case let .noRows(path): return "\(clip(path)): the file has a header but no data rows"
        case let .missingTargetColumn(name, path, available):
            let suggestion = closestName(to: name, in: available).map { "did you mean '\(clip($0, 40))'? " } ?? ""
            return "\(clip(path)): no target column '\(clip(name))' in the header (\(suggestion)\(available.count) columns: \(list(available, shown: 20)))"
        case let .notANumber(path, line, column, columnName, value):
            return "\(clip(path)):\(line): column \(column) ('\(clip(columnName, 40))'): '\(clip(printable(value)))' is not a finite number"
        case let .outOfRange(path, line, column, columnName, value, scalar):
            return "\(clip(path)):\(line): column \(column) ('\(clip(columnName, 40))'): \(clip(value)) is out of the range of \(scalar)"
        case let .tooManyClasses(found, limit):
            return "\(found == Int.max ? "a label beyond Int" : "\(found) classes") (1 + the largest label) exceeds the limit of \(limit) classes"
        case let .isDirectory(path): return "\(clip(path)): is a directory, not a CSV file"
        case let .dimensionMismatch(objective, expected, found):
            return "\(clip(objective)): θ has \(found) values, expected \(expected)"
        case let .wrongFieldCount(path, line, expected, found):
            return "\(clip(path)):\(line): \(found) fields, expected \(expected) as in the header"
        case let .unreadable(path, reason): return "\(clip(path)): cannot read: \(reason)"
        case let .invalidTarget(sample, value, expected):
            return "sample \(sample): target \(clip(value)) is invalid, expected \(expected)"
        case let .shapeMismatch(what): return clip(what, 400)
        }
    }

    /// The message (``description``), for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// `text` cut to `limit` characters (`MessageValue/clip(_:limit:)`).
func clip(_ text: some StringProtocol, _ limit: Int = MessageValue.limit) -> String {
    MessageValue.clip(text, limit: limit)
}

/// Control characters (a NUL byte, …) shown as \u{…} escapes.
func printable(_ text: String) -> String { MessageValue.printable(text) }

/// Up to `shown` names in quotes, then "and N more".
/// The name in `names` closest to `name` by edit distance (case-insensitive), when it is close
/// enough to be a likely typo: at most a third of the longer name's characters differ.
func closestName(to name: String, in names: [String]) -> String? {
    let target = Array(name.lowercased().prefix(200))
    var best: (String, Int)? = nil
    for candidate in names {
        let c = Array(candidate.lowercased().prefix(200))
        let d = editDistance(target, c)
        if d <= max(target.count, c.count) / 3, d < (best?.1 ?? .max) { best = (candidate, d) }
    }
    return best?.0
}

/// Levenshtein distance between two character arrays (one row of the table).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var diagonal = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
            diagonal = above
        }
    }
    return row[b.count]
}

func list(_ names: [String], shown: Int = 8) -> String {
    let head = names.prefix(shown).map { "'\(clip($0, 40))'" }.joined(separator: ", ")
    return names.count > shown ? head + " and \(names.count - shown) more" : head
}
