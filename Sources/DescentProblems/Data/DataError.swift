/// Errors reading or validating data. Each names the file, line (1-based, the header is line 1)
/// and column where it applies.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
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

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(path): no such file"
        case let .emptyFile(path): return "\(path): the file is empty (a header row is required)"
        case let .noRows(path): return "\(path): the file has a header but no data rows"
        case let .missingTargetColumn(name, path, available):
            return "\(path): no target column '\(name)' in the header (columns: \(available.joined(separator: ", ")))"
        case let .notANumber(path, line, column, columnName, value):
            return "\(path):\(line): column \(column) ('\(columnName)'): '\(value)' is not a finite number"
        case let .wrongFieldCount(path, line, expected, found):
            return "\(path):\(line): \(found) fields, expected \(expected) as in the header"
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .invalidTarget(sample, value, expected):
            return "sample \(sample): target \(value) is invalid, expected \(expected)"
        case let .shapeMismatch(what): return what
        }
    }
}
