import Foundation

/// A value in a JSON line of `descent bench --json`.
enum BenchJSON {
    case string(String)
    case int(Int)
    case number(Double)
    case bool(Bool)
    case null

    var text: String {
        switch self {
        case let .string(s):
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                default:
                    if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        case let .int(i): return String(i)
        case let .number(x): return x.isFinite ? "\(x)" : "null"
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// One result row: ordered keys for the JSON line, and the cells of the readable table.
struct BenchRow {
    var fields: [(String, BenchJSON)]

    var jsonLine: String { "{" + fields.map { BenchJSON.string($0.0).text + ":" + $0.1.text }.joined(separator: ",") + "}" }

    subscript(key: String) -> BenchJSON? { fields.first { $0.0 == key }?.1 }
}

/// Formatting of the readable table.
enum BenchTable {
    /// Renders `rows` (first row is the header) with right-aligned columns except the first two.
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = Swift.max(widths[i], c.count) } }
        var lines: [String] = []
        for (k, r) in rows.enumerated() {
            let cells = r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i < 2 ? c + pad : pad + c
            }
            lines.append(cells.joined(separator: "  "))
            if k == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }

    static func fixed(_ x: Double, _ digits: Int) -> String {
        x.isFinite ? String(format: "%.\(digits)f", x) : "-"
    }

    /// 1e3 → "10^3", 20000000 → "2·10^7".
    static func size(_ n: Int) -> String {
        guard n >= 1000 else { return String(n) }
        var e = 0, m = n
        while m % 10 == 0 { m /= 10; e += 1 }
        if e < 3 { return String(n) }
        return m == 1 ? "10^\(e)" : "\(m)·10^\(e)"
    }

    static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return "-" }
        if s < 1e-3 { return String(format: "%.2f µs", s * 1e6) }
        if s < 1 { return String(format: "%.2f ms", s * 1e3) }
        return String(format: "%.3f s", s)
    }

    static func bytes(_ b: Int) -> String {
        let x = Double(b)
        if b >= 1 << 30 { return String(format: "%.2f GiB", x / Double(1 << 30)) }
        if b >= 1 << 20 { return String(format: "%.1f MiB", x / Double(1 << 20)) }
        return String(format: "%.1f KiB", x / 1024)
    }
}
