import Foundation

/// Reads a numeric CSV file into a ``Dataset``.
///
/// Format: comma-separated, a header row of column names, then one sample per line; cells are
/// numbers as Swift's `Double(_:)` reads them (surrounding spaces allowed), `\n` or `\r\n` line
/// ends, blank lines skipped; no quoting. One column, named by `targetColumn`, is the target;
/// every other column is a feature, in file order; with no target column (nil) every column is
/// a feature and the targets are 0 (an autoencoder's inputs). Errors (``DataError``) name the file, the
/// 1-based line (the header is line 1) and the 1-based column with its name.
///
/// - Complexity: O(file size); values are parsed in Double and rounded once to `Scalar`.
public enum CSVLoader {
    /// Loads `url`. With `standardize`, features become (x − mean)/std (population std; see
    /// ``Dataset/standardized()``).
    public static func load<Scalar: BLASScalar>(_ url: URL, targetColumn: String? = "target", standardize: Bool = false,
                                               as: Scalar.Type = Scalar.self) throws -> Dataset<Scalar> {
        let path = url.path
        let data = try readFile(path)
        guard let text = String(data: data, encoding: .utf8) else { throw DataError.unreadable(path: path, reason: "not UTF-8 text") }
        return try parse(text, source: path, targetColumn: targetColumn, standardize: standardize)
    }

    /// The whole file, with the system's reason on failure ("Permission denied", …); a directory
    /// is ``DataError/isDirectory(path:)``. Only regular files are read (a FIFO without a writer
    /// would block, `/dev/zero` never ends), and only when parsing them fits in memory: the text,
    /// its bytes and the parsed values take about 4 bytes per byte of file (see `MemoryLimit`).
    static func readFile(_ path: String) throws -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { throw DataError.fileNotFound(path: path) }
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw DataError.isDirectory(path: path) }
        do {
            return try AtomicFile.readRegularFile(path, limit: MemoryLimit.availableBytes / 4)
        } catch let error as AtomicFileError {
            throw DataError.unreadable(path: path, reason: error.reason)
        }
    }

    /// Parses CSV text; `source` names it in errors.
    public static func parse<Scalar: BLASScalar>(_ text: String, source: String = "<csv>", targetColumn: String? = "target",
                                                standardize: Bool = false, as: Scalar.Type = Scalar.self) throws -> Dataset<Scalar> {
        // "\r\n" is one Character (a grapheme cluster), so split on any newline character.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().lazy
            .map { (number: $0.offset + 1, text: $0.element) }
            .filter { !$0.text.allSatisfy(\.isWhitespace) }
            .makeIterator()
        guard let header = lines.next() else { throw DataError.emptyFile(path: source) }
        let names = header.text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var targetIndex: Int? = nil
        if let targetColumn {
            guard let index = names.firstIndex(of: targetColumn) else {
                throw DataError.missingTargetColumn(name: targetColumn, path: source, available: names)
            }
            targetIndex = index
        }
        let d = names.count - (targetIndex == nil ? 0 : 1)
        var features: [Scalar] = []
        var targets: [Scalar] = []
        var rows = 0
        while let line = lines.next() {
            var column = 0
            for cell in line.text.split(separator: ",", omittingEmptySubsequences: false) {
                guard column < names.count else { column += 1; continue }
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                // Double(_:) reads a C string: it would stop at a NUL byte and accept "1\0garbage".
                guard !trimmed.utf8.contains(0), let v = Double(trimmed), v.isFinite else {
                    throw DataError.notANumber(path: source, line: line.number, column: column + 1, columnName: names[column], value: String(cell))
                }
                let x = Scalar(v)
                guard x.isFinite else {
                    throw DataError.outOfRange(path: source, line: line.number, column: column + 1, columnName: names[column],
                                               value: trimmed, scalar: "\(Scalar.self) (largest finite \(Scalar.greatestFiniteMagnitude))")
                }
                if column == targetIndex { targets.append(x) } else { features.append(x) }
                column += 1
            }
            guard column == names.count else {
                throw DataError.wrongFieldCount(path: source, line: line.number, expected: names.count, found: column)
            }
            rows += 1
        }
        guard rows > 0 else { throw DataError.noRows(path: source) }
        var featureNames = names
        if let targetIndex { featureNames.remove(at: targetIndex) } else { targets = Array(repeating: 0, count: rows) }
        let dataset = try Dataset(features: try Matrix(rows: rows, columns: d, elements: features), targets: targets,
                              featureNames: featureNames, targetName: targetColumn ?? "none")
        return standardize ? dataset.standardized() : dataset
    }
}
