import Foundation
import DescentPersistence

/// An `index.html` that shows a set of plots, grouped in sections, each with an optional
/// preformatted table (e.g. the comparison's results) and its figures in two columns (one on
/// a narrow window).
///
/// Self-contained and offline (it works from `file://`): inline CSS and one inline script, no
/// network. A figure given as an SVG document is inlined, with a link to its file; clicking a
/// legend entry of an inlined plot (an element of class `legend-entry`, see ``LinePlot`` and
/// ``ContourPlot``) hides or shows the elements whose ids its `data-target` lists, and dims the
/// entry. Other figures are `<img>` elements referencing their file. Every text is escaped.
public struct IndexPage: Sendable {
    public struct Figure: Sendable {
        /// The image's file name relative to the page, e.g. "rosenbrock-loss.svg".
        public var file: String
        public var caption: String
        /// The plot to inline (its ids must be unique on the page); nil shows `file` as an image.
        public var inline: SVGDocument?
        public init(file: String, caption: String, inline: SVGDocument? = nil) {
            self.file = file
            self.caption = caption
            self.inline = inline
        }
    }

    /// The page's script: a click on a legend entry toggles the visibility of the elements its
    /// `data-target` names and dims the entry. No `<` or `&` (it is written verbatim).
    public static let toggleScript = """
        document.addEventListener('click', function (event) {
          var entry = event.target.closest('.legend-entry');
          if (!entry) { return; }
          var hide = entry.getAttribute('data-hidden') !== 'true';
          entry.setAttribute('data-hidden', hide ? 'true' : 'false');
          entry.setAttribute('opacity', hide ? '0.35' : '1');
          entry.getAttribute('data-target').split(' ').forEach(function (id) {
            var element = document.getElementById(id);
            if (element) { element.setAttribute('visibility', hide ? 'hidden' : 'visible'); }
          });
        });
        """

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
                guard let inline = figure.inline else {
                    return SVGElement("figure", children: [
                        SVGElement("a", [("href", figure.file)], children: [
                            SVGElement("img", [("src", figure.file), ("alt", figure.caption)]),
                        ]),
                        SVGElement("figcaption", text: figure.caption),
                    ])
                }
                return SVGElement("figure", children: [
                    inline.root(),
                    SVGElement("figcaption", children: [
                        SVGElement("span", text: figure.caption + " · "),
                        SVGElement("a", [("href", figure.file)], text: figure.file),
                    ]),
                ])
            }))
            body.append(SVGElement("section", children: children))
        }
        let css = """
            body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1600px; }
            h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
            pre { background: #f6f6f6; padding: 8px 12px; font-size: 13px; overflow-x: auto; }
            .figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px 24px; align-items: start; }
            @media (max-width: 1100px) { .figures { grid-template-columns: minmax(0, 1fr); } }
            figure { margin: 0; }
            figure img, figure svg { display: block; width: 100%; height: auto; border: 1px solid #e5e5e5; }
            .legend-entry:hover text { text-decoration: underline; }
            figcaption { font-size: 13px; color: #555; }
            .note { font-size: 13px; color: #555; }
            """
        let root = SVGElement("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en")], children: [
            SVGElement("head", children: [
                SVGElement("meta", [("charset", "utf-8")]),
                SVGElement("title", text: title),
                SVGElement("style", text: css),
            ]),
            SVGElement("body", children: body + [SVGElement("script", text: Self.toggleScript)]),
        ])
        var out = "<!DOCTYPE html>\n"
        root.render(into: &out)
        return out
    }

    /// Writes ``html()`` to `url` atomically.
    public func write(to url: URL) throws { try AtomicFile.write(html(), to: url) }
}
