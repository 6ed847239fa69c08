import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import DescentPlots

/// Parses `text` as XML, failing the test when it is not well-formed.
func parseXML(_ text: String) throws -> XMLDocument {
    try XMLDocument(data: Data(text.utf8), options: [])
}

/// Every element named `name` below `node`, depth first.
func elements(_ node: XMLNode, named name: String) -> [XMLElement] {
    var found: [XMLElement] = []
    if let e = node as? XMLElement, e.name == name { found.append(e) }
    for child in node.children ?? [] { found += elements(child, named: name) }
    return found
}

/// An attribute's value by name (swift-corelibs-foundation's `attribute(forName:)` misses
/// attributes of elements in a default namespace, so this looks through `attributes`).
func attribute(_ e: XMLElement, _ name: String) -> String? {
    e.attributes?.first { $0.name == name }?.stringValue
}

@Suite struct SVGWriterTests {
    @Test func escapesTheFiveXMLCharactersAndDropsForbiddenControls() {
        #expect(XML.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(XML.escape("x\u{1}y\tz\n") == "xy\tz\n")
        #expect(XML.escape("θ₀ η=1e-3") == "θ₀ η=1e-3")
    }

    @Test func hostileTextSurvivesAnXMLRoundTrip() throws {
        let name = "<adam & \"friends\">'\u{7}"
        var svg = SVGDocument(width: 100, height: 50, title: name)
        svg.add(SVGElement("text", [("data-name", name)], text: name))
        let doc = try parseXML(svg.render())
        let root = try #require(doc.rootElement())
        #expect(root.name == "svg")
        #expect(root.uri == "http://www.w3.org/2000/svg" || attribute(root, "xmlns") == "http://www.w3.org/2000/svg")
        let text = try #require(elements(root, named: "text").first)
        #expect(text.stringValue == "<adam & \"friends\">'")
        #expect(attribute(text, "data-name") == "<adam & \"friends\">'")
    }

    @Test func numbersAreShortAndLocaleIndependent() {
        #expect(SVGNumber.format(12.5) == "12.5")
        #expect(SVGNumber.format(3.0) == "3")
        #expect(SVGNumber.format(-0.004) == "0")
        #expect(SVGNumber.format(-0.256) == "-0.26")
        #expect(SVGNumber.format(.nan) == "0")
    }

    @Test func writesAtomicallyAndReplacesAnOldFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.svg")
        try "old".write(to: url, atomically: false, encoding: .utf8)
        try SVGDocument(width: 10, height: 10).write(to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix("<?xml"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.svg"])
    }
}

@Suite struct ScaleTests {
    @Test func logTicksArePowersOfTenAndPlacedLogarithmically() throws {
        let scale = try LogScale(domain: 1e-3...1e3, range: (400, 0))
        let ticks = scale.ticks()
        #expect(ticks.map(\.exponent) == ["-3", "-2", "-1", "0", "1", "2", "3"])
        #expect(ticks.map(\.label).allSatisfy { $0 == "10" })
        for tick in ticks {
            let e = Double(try #require(tick.exponent.flatMap(Int.init)))
            #expect(tick.value == Foundation.pow(10, e))
            // Equal steps per decade: pixel = 400 − (e + 3)·400/6.
            #expect(abs(scale(tick.value) - (400 - (e + 3) * 400 / 6)) < 1e-9)
        }
    }

    @Test func manyDecadesAreThinnedButKeepTenToTheZero() throws {
        let ticks = try LogScale(domain: 1e-16...1e4, range: (0, 1)).ticks(maximumCount: 8)
        #expect(ticks.count <= 8 && ticks.count >= 4)
        #expect(ticks.contains { $0.exponent == "0" })
        let exponents = ticks.compactMap { $0.exponent.flatMap(Int.init) }
        #expect(Set(zip(exponents, exponents.dropFirst()).map { $1 - $0 }).count == 1)
    }

    @Test func narrowLogDomainUsesOneTwoFive() throws {
        let ticks = try LogScale(domain: 2...60, range: (0, 1)).ticks()
        #expect(ticks.map(\.value) == [2, 5, 10, 20, 50])
    }

    @Test func decadesWidenToPowersOfTen() {
        let d = LogScale.decades(around: 0.003...47)
        #expect(abs(d.lowerBound - 1e-3) < 1e-18 && d.upperBound == 100)
    }

    @Test func linearTicksAreNice() {
        let scale = LinearScale(domain: 0...1000, range: (0, 500))
        #expect(scale.ticks().map(\.value) == [0, 200, 400, 600, 800, 1000])
        #expect(scale(250) == 125)
        #expect(LinearScale(domain: -1.5...2, range: (0, 1)).ticks().map(\.label) == ["-1.5", "-1.0", "-0.5", "0.0", "0.5", "1.0", "1.5", "2.0"])
    }
}

@Suite struct LinePlotTests {
    @Test func onePathPerSeriesWithLogTicks() throws {
        let steps = 0..<200
        let plot = LinePlot(title: "loss <quadratic>", series: [
            LineSeries(name: "sgd", values: steps.map { Foundation.pow(0.9, Double($0)) }),
            LineSeries(name: "adam & co", values: steps.map { 1 / Double($0 + 1) }),
        ])
        let doc = try parseXML(plot.svg())
        let root = try #require(doc.rootElement())
        let series = elements(root, named: "path").filter { attribute($0, "class") == "series" }
        #expect(series.compactMap { attribute($0, "data-name") } == ["sgd", "adam & co"])
        // 0.9^199 ≈ 7.8e-10 to 1, widened to 1e-10…1: eleven decades, every second labelled,
        // as powers of ten with superscript exponents.
        let exponents = elements(root, named: "tspan").filter { attribute($0, "dy") != nil }
            .compactMap(\.stringValue).compactMap(Int.init)
        #expect(exponents == [-10, -8, -6, -4, -2, 0])
        // Legend names both series.
        let texts = elements(root, named: "text").compactMap(\.stringValue)
        #expect(texts.contains("sgd") && texts.contains("adam & co"))
        #expect(texts.contains("loss <quadratic>"))
    }

    @Test func nonPositiveAndNonFiniteValuesBreakTheLine() throws {
        let plot = LinePlot(title: "t", series: [LineSeries(name: "s", values: [1, 0.5, 0, 0.25, .nan, 0.1, 0.05])])
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let d = try #require(elements(root, named: "path").first { attribute($0, "class") == "series" }.flatMap { attribute($0, "d") })
        // Three pieces: [1, 0.5], [0.25], [0.1, 0.05].
        #expect(d.filter { $0 == "M" }.count == 3)
        #expect(d.filter { $0 == "L" }.count == 2)
    }

    @Test func longSeriesAreDecimatedPerPixelColumn() throws {
        let values = (0..<100_000).map { 1 + 0.5 * Foundation.sin(Double($0)) }
        let plot = LinePlot(title: "t", series: [LineSeries(name: "s", values: values)], logY: false)
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let d = try #require(elements(root, named: "path").first.flatMap { attribute($0, "d") })
        let points = d.filter { $0 == "M" || $0 == "L" }.count
        #expect(points <= 4 * 800)
        #expect(points >= 2 * 300)
    }
}

@Suite struct ContourTests {
    @Test func circleContoursOfASquaredNorm() throws {
        let grid = try Grid(x: -2...2, y: -2...2, columns: 81, rows: 81) { x, y in x * x + y * y }
        for r in [0.5, 1.0, 1.7] {
            let lines = MarchingSquares.contours(grid, level: r * r)
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line.count > 20)
            // Closed: ends where it starts.
            #expect(line.first!.x == line.last!.x && line.first!.y == line.last!.y)
            // Linear interpolation on a 0.05 grid: within 0.05²/(8r)-ish of the circle.
            for p in line {
                #expect(abs((p.x * p.x + p.y * p.y).squareRoot() - r) < 2e-3)
            }
        }
    }

    @Test func openContoursOfASaddleEndAtTheBorder() throws {
        let grid = try Grid(x: -2...2, y: -2...2, columns: 41, rows: 41) { x, y in x * y }
        let lines = MarchingSquares.contours(grid, level: 0.5)
        #expect(lines.count == 2)   // the hyperbola's two branches
        for line in lines {
            for p in line { #expect(abs(p.x * p.y - 0.5) < 0.02) }
            for end in [line.first!, line.last!] {
                #expect(abs(abs(end.x) - 2) < 1e-12 || abs(abs(end.y) - 2) < 1e-12)
            }
        }
    }

    @Test func levelsAreLogSpacedAboveTheMinimum() throws {
        let grid = try Grid(x: -1...1, y: -1...1, columns: 3, rows: 3) { x, y in x * x - y * y }
        let levels = ContourPlot.logLevels(grid, count: 5, ratio: 1e-4)
        #expect(levels.count == 5)
        let gaps = levels.map { $0 + 1 }   // minimum is −1, span 2
        #expect(abs(gaps.first! - 2e-4) < 1e-15 && abs(gaps.last! - 2) < 1e-12)
        for (a, b) in zip(gaps, gaps.dropFirst()) { #expect(abs(b / a - 10) < 1e-9) }
    }

    @Test func plotHasTrajectoriesMarkersAndContours() throws {
        let grid = try Grid(x: -2...2, y: -1...3) { x, y in (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x) }
        let plot = ContourPlot(title: "rosenbrock", grid: grid, trajectories: [
            try Trajectory(name: "sgd", x: [-1.5, -1, 0, 1], y: [2, 1, 0.1, 1]),
            try Trajectory(name: "adam", x: [-1.5, -1.4, .infinity, 0], y: [2, 1.9, 0, 0]),
        ], minima: [(1, 1)])
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let paths = elements(root, named: "path")
        #expect(paths.filter { attribute($0, "class") == "trajectory" }.compactMap { attribute($0, "data-name") } == ["sgd", "adam"])
        #expect(paths.filter { attribute($0, "class") == "contour" }.count >= 10)
        let circles = elements(root, named: "circle")
        #expect(circles.filter { attribute($0, "class") == "start" }.count == 2)
        #expect(circles.filter { attribute($0, "class") == "end" }.count == 2)
        // One star on the plot (the legend draws another as its sample).
        let markers = try #require(elements(root, named: "g").first { attribute($0, "class") == "markers" })
        #expect(elements(markers, named: "polygon").count == 1)
        // The second trajectory stops before its infinite point: two points.
        let adam = try #require(paths.first { attribute($0, "data-name") == "adam" }.flatMap { attribute($0, "d") })
        #expect(adam.filter { $0 == "L" }.count == 1)
    }
}

@Suite struct IndexPageTests {
    @Test func indexIsWellFormedAndShowsEveryFigure() throws {
        let page = IndexPage(title: "Comparison & co", introduction: ["<intro>"], sections: [
            .init(heading: "quadratic", table: "a | b\n1 | 2", figures: [.init(file: "quadratic-loss.svg", caption: "loss")]),
            .init(heading: "rosenbrock", figures: [.init(file: "rosenbrock-loss.svg", caption: "loss"),
                                                   .init(file: "rosenbrock-contour.svg", caption: "paths")]),
        ])
        let html = page.html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let body = String(html.dropFirst("<!DOCTYPE html>\n".count))
        let root = try #require(try parseXML(body).rootElement())
        #expect(elements(root, named: "img").compactMap { attribute($0, "src") }
            == ["quadratic-loss.svg", "rosenbrock-loss.svg", "rosenbrock-contour.svg"])
        #expect(elements(root, named: "pre").first?.stringValue == "a | b\n1 | 2")
        #expect(elements(root, named: "h1").first?.stringValue == "Comparison & co")
    }
}

/// Styles and ids for pages that inline several plots and let the reader toggle series.
@Suite struct SeriesStyleAndToggleTests {
    /// The legend entries of a plot: (name shown, ids in `data-target`).
    func legendEntries(_ root: XMLElement) -> [(name: String, targets: [String])] {
        elements(root, named: "g").filter { attribute($0, "class") == "legend-entry" }.map { entry in
            (elements(entry, named: "text").first?.stringValue ?? "",
             (attribute(entry, "data-target") ?? "").split(separator: " ").map(String.init))
        }
    }

    func identifiers(_ root: XMLElement) -> [String] {
        var found: [String] = []
        func visit(_ node: XMLNode) {
            if let e = node as? XMLElement, let id = attribute(e, "id") { found.append(id) }
            for child in node.children ?? [] { visit(child) }
        }
        visit(root)
        return found
    }

    @Test func tenSeriesGetTenHuesAndTenDashPatterns() throws {
        let series = (0..<10).map { i in LineSeries(name: "s\(i)", values: (0..<50).map { Foundation.pow(0.9, Double($0 + i)) }) }
        let root = try #require(try parseXML(LinePlot(title: "t", series: series).svg()).rootElement())
        let paths = elements(root, named: "path").filter { attribute($0, "class") == "series" }
        #expect(paths.count == 10)
        let hues = paths.compactMap { attribute($0, "stroke") }
        let dashes = paths.map { attribute($0, "stroke-dasharray") ?? "" }
        #expect(Set(hues).count == 10, "\(hues)")
        #expect(Set(dashes).count == 10, "\(dashes)")
        // The legend draws each series' sample in the same hue and dash pattern.
        let samples = elements(root, named: "g").filter { attribute($0, "class") == "legend-entry" }
            .compactMap { elements($0, named: "line").first }
        #expect(samples.compactMap { attribute($0, "stroke") } == hues)
        #expect(samples.map { attribute($0, "stroke-dasharray") ?? "" } == dashes)
    }

    @Test func paletteStylesAreDistinctValidAndCycle() {
        #expect(Palette.categorical.count == 10 && Set(Palette.categorical.map { $0.lowercased() }).count == 10)
        #expect(Palette.dashPatterns.count == 10 && Set(Palette.dashPatterns).count == 10)
        for color in Palette.categorical {
            #expect(color.count == 7 && color.first == "#" && color.dropFirst().allSatisfy(\.isHexDigit), "\(color)")
        }
        for pattern in Palette.dashPatterns where !pattern.isEmpty {
            let lengths = pattern.split(separator: " ").compactMap { Double($0) }
            // An even number of positive lengths: the pattern repeats dash, gap as written.
            #expect(lengths.count == pattern.split(separator: " ").count && lengths.count % 2 == 0 && lengths.allSatisfy { $0 > 0 }, "\(pattern)")
        }
        #expect(Palette.color(10) == Palette.color(0) && Palette.dashPattern(-1) == Palette.dashPattern(9))
    }

    @Test func legendEntriesTargetTheirSeriesAndIdsArePrefixed() throws {
        let plot = LinePlot(title: "t", series: [LineSeries(name: "sgd", values: [1, 0.5]), LineSeries(name: "adam", values: [1, 0.1])],
                            identifier: "quadratic-loss")
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let ids = identifiers(root)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.hasPrefix("quadratic-loss-") }, "\(ids)")
        let entries = legendEntries(root)
        #expect(entries.map(\.name) == ["sgd", "adam"])
        #expect(entries.map(\.targets) == [[plot.seriesIdentifier(0)], [plot.seriesIdentifier(1)]])
        let series = elements(root, named: "path").filter { attribute($0, "class") == "series" }
        #expect(series.compactMap { attribute($0, "id") } == [plot.seriesIdentifier(0), plot.seriesIdentifier(1)])
        // The data area clips with the plot's own clip path.
        let clip = try #require(elements(root, named: "clipPath").first.flatMap { attribute($0, "id") })
        #expect(clip.hasPrefix("quadratic-loss-"))
        #expect(elements(root, named: "g").contains { attribute($0, "clip-path") == "url(#\(clip))" })
    }

    @Test func contourLegendTargetsThePathAndItsMarkers() throws {
        let grid = try Grid(x: -2...2, y: -1...3) { x, y in x * x + y * y }
        let plot = ContourPlot(title: "c", grid: grid, trajectories: [
            try Trajectory(name: "sgd", x: [1, 0.5, 0], y: [1, 0.5, 0]),
            try Trajectory(name: "broken", x: [.nan], y: [0]),
        ], minima: [(0, 0)], identifier: "bowl-paths")
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let ids = Set(identifiers(root))
        let entries = legendEntries(root)
        let id = plot.trajectoryIdentifier(0)
        #expect(entries.map(\.name) == ["sgd"])
        #expect(entries.first?.targets == [id, id + "-start", id + "-end"])
        for target in entries.flatMap(\.targets) { #expect(ids.contains(target), "\(target)") }
        // A trajectory with nothing to draw, and the minimum, are listed without a toggle.
        let texts = elements(root, named: "text").compactMap(\.stringValue)
        #expect(texts.contains("broken") && texts.contains("minimum"))
        // The minimum's legend sample is its star (class "minimum"), not a line like a trajectory's.
        #expect(elements(root, named: "polygon").filter { attribute($0, "class") == "minimum" }.count == 2)
        let trajectory = try #require(elements(root, named: "path").first { attribute($0, "id") == id })
        #expect(attribute(trajectory, "stroke-dasharray") == Palette.dashPattern(0))
    }

    @Test func logXAxisDrawsEarlyPointsAtTheLeftEdge() throws {
        // Seconds: the first evaluation after 10⁻⁹ s, the last at 0.1 s; four decades are kept.
        let plot = LinePlot(title: "t", xLabel: "wall time (s)",
                            series: [try LineSeries(name: "s", x: [0, 1e-9, 1e-3, 1e-2, 1e-1], y: [1, 0.5, 0.25, 0.125, 0.0625])],
                            logX: true, maximumXDecades: 4)
        let root = try #require(try parseXML(plot.svg()).rootElement())
        let d = try #require(elements(root, named: "path").first { attribute($0, "class") == "series" }.flatMap { attribute($0, "d") })
        // x = 0 is not drawn; 10⁻⁹ sits on the left edge (x = 80), 0.1 on the right.
        let xs = d.split(whereSeparator: { $0 == "M" || $0 == "L" }).compactMap { Double($0.split(separator: " ").first ?? "") }
        #expect(xs.count == 4)
        #expect(xs.first == 80)
        #expect(xs == xs.sorted() && Set(xs).count == 4)
        // Ticks 10⁻⁵ … 10⁻¹ as powers of ten, and the axis says it is logarithmic.
        let exponents = elements(root, named: "tspan").filter { attribute($0, "dy") != nil }.compactMap(\.stringValue).compactMap(Int.init)
        #expect(exponents.contains(-5) && exponents.contains(-1) && !exponents.contains(-6))
        #expect(elements(root, named: "text").compactMap(\.stringValue).contains("wall time (s) (log scale)"))
    }

    @Test func indexInlinesPlotsWithTheToggleScript() throws {
        let loss = LinePlot(title: "loss", series: [LineSeries(name: "sgd", values: [1, 0.5])], identifier: "a-loss")
        let time = LinePlot(title: "time", series: [LineSeries(name: "sgd", values: [1, 0.5])], logX: true, identifier: "a-loss-time")
        let page = IndexPage(title: "p", sections: [
            .init(heading: "a", table: "t", notes: ["fewest steps: sgd (1)"], figures: [
                .init(file: "a-loss.svg", caption: "loss", inline: loss.document()),
                .init(file: "a-loss-time.svg", caption: "time", inline: time.document()),
            ]),
        ])
        let html = page.html()
        let root = try #require(try parseXML(String(html.dropFirst("<!DOCTYPE html>\n".count))).rootElement())
        // Both plots inline, each linking to its file; no <img>.
        #expect(elements(root, named: "svg").count == 2)
        #expect(elements(root, named: "img").isEmpty)
        #expect(elements(root, named: "a").compactMap { attribute($0, "href") } == ["a-loss.svg", "a-loss-time.svg"])
        // Ids are unique on the page, and every legend entry's targets exist.
        let ids = identifiers(root)
        #expect(Set(ids).count == ids.count, "\(ids)")
        let targets = legendEntries(root).flatMap(\.targets)
        #expect(targets == [loss.seriesIdentifier(0), time.seriesIdentifier(0)])
        for target in targets { #expect(ids.contains(target)) }
        // One inline script, written verbatim (HTML does not decode entities in it), that toggles
        // what a legend entry's data-target names.
        let scripts = elements(root, named: "script")
        #expect(scripts.count == 1 && attribute(scripts[0], "src") == nil)
        #expect(html.contains(IndexPage.toggleScript))
        #expect(!IndexPage.toggleScript.contains("<") && !IndexPage.toggleScript.contains("&"))
        for needle in [".legend-entry", "data-target", "getElementById", "visibility"] {
            #expect(IndexPage.toggleScript.contains(needle), "\(needle)")
        }
        // Nothing is fetched from the network: every link and source is a relative file name.
        for e in elements(root, named: "a") + elements(root, named: "script") + elements(root, named: "img") {
            for name in ["href", "src"] { #expect(!(attribute(e, name) ?? "").contains("://")) }
        }
        // Two columns.
        let style = try #require(elements(root, named: "style").first?.stringValue)
        #expect(style.contains("grid-template-columns: repeat(2"))
    }
}

/// Plot data that cannot be drawn throws a named `PlotError` instead of stopping the process.
@Suite struct PlotErrorTests {
    @Test func mismatchedAndDegenerateInputsThrow() throws {
        #expect(throws: PlotError.lengthMismatch(name: "sgd", x: 3, y: 2)) {
            try LineSeries(name: "sgd", x: [0, 1, 2], y: [1, 2])
        }
        #expect(throws: PlotError.lengthMismatch(name: "adam", x: 1, y: 0)) {
            try Trajectory(name: "adam", x: [0], y: [])
        }
        #expect(throws: PlotError.gridSize(columns: 1, rows: 5, values: 5)) {
            try Grid(x: 0...1, y: 0...1, columns: 1, rows: 5, values: [0, 0, 0, 0, 0])
        }
        #expect(throws: PlotError.gridSize(columns: 3, rows: 3, values: 8)) {
            try Grid(x: 0...1, y: 0...1, columns: 3, rows: 3, values: Array(repeating: 0, count: 8))
        }
        // A product that overflows is refused before anything is sampled.
        var sampled = 0
        #expect(throws: PlotError.gridSize(columns: Int.max, rows: 2, values: 0)) {
            try Grid(x: 0...1, y: 0...1, columns: Int.max, rows: 2) { _, _ in sampled += 1; return 0 }
        }
        #expect(sampled == 0)
        #expect(throws: PlotError.nonPositiveLogDomain(lowerBound: 0)) { try LogScale(domain: 0...1, range: (0, 1)) }
        let message = PlotError.lengthMismatch(name: "sgd", x: 3, y: 2).localizedDescription
        #expect(message.contains("sgd") && message.contains("3") && message.contains("2"))
    }
}
