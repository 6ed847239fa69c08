import Foundation
import DescentPersistence

/// One SVG (or XHTML) element: a name, attributes in order, children, and text content.
///
/// Text and attribute values are escaped for XML when rendered (``XML/escape(_:)``), so any
/// string — an optimizer name with `<` or `&`, a file name with quotes — is safe to pass.
/// The one exception is the text of `script` and `style` elements, which HTML reads as raw
/// text (it would not decode an entity there): it is written verbatim, so it must be the
/// program's own code, free of `<` and `&` to stay well-formed XML.
public struct SVGElement: Sendable, Equatable {
    public var name: String
    public var attributes: [(String, String)]
    public var children: [SVGElement]
    public var text: String?

    public init(_ name: String, _ attributes: [(String, String)] = [], text: String? = nil, children: [SVGElement] = []) {
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }

    public static func == (a: SVGElement, b: SVGElement) -> Bool {
        a.name == b.name && a.text == b.text && a.children == b.children
            && a.attributes.map(\.0) == b.attributes.map(\.0) && a.attributes.map(\.1) == b.attributes.map(\.1)
    }

    /// Appends the element's markup to `out`, children indented by one space per level.
    public func render(into out: inout String, indent: Int = 0) {
        out += String(repeating: " ", count: indent)
        out += "<" + name
        for (key, value) in attributes {
            out += " " + key + "=\"" + XML.escape(value) + "\""
        }
        if children.isEmpty && text == nil {
            out += "/>\n"
            return
        }
        out += ">"
        if let text { out += name == "script" || name == "style" ? text : XML.escape(text) }
        if name == "text" || name == "tspan" {
            // Inside text, whitespace between children would be drawn: render them inline.
            for child in children {
                var inner = ""
                child.render(into: &inner, indent: 0)
                out += inner.hasSuffix("\n") ? String(inner.dropLast()) : inner
            }
            out += "</" + name + ">\n"
            return
        }
        if !children.isEmpty {
            out += "\n"
            for child in children { child.render(into: &out, indent: indent + 1) }
            out += String(repeating: " ", count: indent)
        }
        out += "</" + name + ">\n"
    }
}

/// A standalone SVG document of a fixed size in pixels.
///
///     var svg = SVGDocument(width: 640, height: 480)
///     svg.add(SVGElement("circle", [("cx", "10"), ("cy", "10"), ("r", "3")]))
///     try svg.write(to: URL(fileURLWithPath: "plot.svg"))
public struct SVGDocument: Sendable {
    public var width: Double
    public var height: Double
    /// Shown by viewers as a tooltip and read by screen readers.
    public var title: String?
    public var elements: [SVGElement] = []

    public init(width: Double, height: Double, title: String? = nil) {
        self.width = width
        self.height = height
        self.title = title
    }

    public mutating func add(_ element: SVGElement) { elements.append(element) }

    /// The document as text: an XML declaration and one `<svg>` root in the SVG namespace.
    /// - Complexity: O(total size of the elements).
    public func render() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        root().render(into: &out)
        return out
    }

    /// The `<svg>` root element with its namespace, title, white background and elements: what
    /// ``render()`` writes, and what an HTML page inlines.
    public func root() -> SVGElement {
        var children: [SVGElement] = []
        if let title { children.append(SVGElement("title", text: title)) }
        children.append(SVGElement("rect", [("width", "100%"), ("height", "100%"), ("fill", "white")]))
        children += elements
        return SVGElement("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", SVGNumber.format(width)), ("height", SVGNumber.format(height)),
            ("viewBox", "0 0 \(SVGNumber.format(width)) \(SVGNumber.format(height))"),
            ("font-family", "Helvetica, Arial, sans-serif"),
        ], children: children)
    }

    /// Writes ``render()`` to `url` atomically (a temporary name beside it, then renamed).
    public func write(to url: URL) throws {
        try AtomicFile.write(render(), to: url)
    }
}

/// Escaping for XML text and attribute values.
public enum XML {
    /// Replaces `&`, `<`, `>`, `"` and `'` by entities, and drops the control characters XML 1.0
    /// forbids (everything below U+0020 except tab, newline and carriage return).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Short, locale-independent number formatting for coordinates.
public enum SVGNumber {
    /// `x` rounded to `decimals` places without trailing zeros: 12.5, 3, -0.25.
    /// Non-finite values become 0 (callers clip before formatting).
    public static func format(_ x: Double, decimals: Int = 2) -> String {
        guard x.isFinite else { return "0" }
        let scale = Foundation.pow(10, Double(decimals))
        let r = (x * scale).rounded() / scale
        if r == 0 { return "0" }
        if abs(r) >= 1e15 { return String(r) }
        var s = String(format: "%.\(decimals)f", r)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
}

