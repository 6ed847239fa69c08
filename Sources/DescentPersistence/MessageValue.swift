/// User-supplied values (paths, option values, keys, cells) as they appear in error messages:
/// at most ``limit`` characters, so a 100 kB argument gives a one-line message that still names it.
public enum MessageValue {
    /// The most characters of a value a message quotes.
    public static let limit = 100

    /// `text` cut to `limit` characters, followed by "… (N characters)" when longer; control
    /// characters are kept (see ``printable(_:)`` for escaping them).
    /// - Complexity: O(min(count, limit)) after counting the characters.
    public static func clip(_ text: some StringProtocol, limit: Int = limit) -> String {
        var iterator = text.makeIterator()
        var head = ""
        var taken = 0
        while taken <= limit, let c = iterator.next() { head.append(c); taken += 1 }
        guard taken > limit else { return head }
        return String(head.prefix(limit)) + "… (\(text.count) characters)"
    }

    /// Control characters (a NUL byte, …) shown as `\u{…}` escapes.
    public static func printable(_ text: some StringProtocol) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
