import Foundation
import DescentPersistence

/// An `index.html` that shows a set of plots, grouped in sections, each with an optional
/// preformatted table (e.g. the comparison's results). Self-contained: inline CSS, images
/// referenced by relative file name. Every text is escaped.
public struct IndexPage: Sendable {
    public struct Figure: Sendable {
        /// The image's file name relative to the page, e.g. "rosenbrock-loss.svg".
        public var file: String
        public var caption: String
        public init(file: String, caption: String) {
            self.file = file
            self.caption = caption
        }
    }

    public struct Section: Sendable {
        public var heading: String
        /// Shown in a `<pre>` block above the figures.
        public var table: String?
        public var notes: [String]
        public var figures: [Figure]
        public init(heading: String, table: String? = nil, notes: [String] = [], figures: [Figure]) {
            self.heading = heading
            self.table = table
            self.notes = notes
            self.figures = figures
        }
    }

    public var title: String
    public var introduction: [String]
    public var sections: [Section]

    public init(title: String, introduction: [String] = [], sections: [Section]) {
        self.title = title
        self.introduction = introduction
        self.sections = sections
    }

    /// The page as XHTML-compatible HTML5 (well-formed XML, so tests can parse it).
    public func html() -> String {
        var body: [SVGElement] = [SVGElement("h1", text: title)]
        body += introduction.map { SVGElement("p", text: $0) }
        if sections.count > 1 {
            body.append(SVGElement("ul", [("class", "toc")], children: sections.enumerated().map { i, s in
                SVGElement("li", children: [SVGElement("a", [("href", "#s\(i)")], text: s.heading)])
            }))
        }
        for (i, section) in sections.enumerated() {
            var children = [SVGElement("h2", [("id", "s\(i)")], text: section.heading)]
            if let table = section.table { children.append(SVGElement("pre", text: table)) }
            children += section.notes.map { SVGElement("p", [("class", "note")], text: $0) }
            children.append(SVGElement("div", [("class", "figures")], children: section.figures.map { figure in
                SVGElement("figure", children: [
                    SVGElement("a", [("href", figure.file)], children: [
                        SVGElement("img", [("src", figure.file), ("alt", figure.caption)]),
                    ]),
                    SVGElement("figcaption", text: figure.caption),
                ])
            }))
            body.append(SVGElement("section", children: children))
        }
        let css = """
            body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1600px; }
            h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
            pre { background: #f6f6f6; padding: 8px 12px; font-size: 13px; overflow-x: auto; }
            .figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
            figure { margin: 0; }
            figure img { max-width: 100%; border: 1px solid #e5e5e5; }
            figcaption { font-size: 13px; color: #555; }
            .note { font-size: 13px; color: #555; }
            """
        let root = SVGElement("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en")], children: [
            SVGElement("head", children: [
                SVGElement("meta", [("charset", "utf-8")]),
                SVGElement("title", text: title),
                SVGElement("style", text: css),
            ]),
            SVGElement("body", children: body),
        ])
        var out = "<!DOCTYPE html>\n"
        root.render(into: &out)
        return out
    }

    /// Writes ``html()`` to `url` atomically.
    public func write(to url: URL) throws { try AtomicFile.write(html(), to: url) }
}
