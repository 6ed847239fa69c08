import Foundation

/// A path in the plane, e.g. an optimizer's iterates θ₀, θ₁, … of a 2-D problem.
public struct Trajectory: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var color: String?
    /// An SVG `stroke-dasharray` ("" for a solid line); nil takes the trajectory's index in ``Palette``.
    public var dashPattern: String?

    /// - Throws: ``PlotError/lengthMismatch(name:x:y:)`` when x and y differ in length.
    public init(name: String, x: [Double], y: [Double], color: String? = nil, dashPattern: String? = nil) throws {
        guard x.count == y.count else { throw PlotError.lengthMismatch(name: name, x: x.count, y: y.count) }
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashPattern = dashPattern
    }
}

/// Contour lines of a function of two variables with trajectories drawn over them: the
/// lecture's comparison figure (docs/lecture.md).
///
/// Contour lines come from ``MarchingSquares`` at ``levels`` (by default
/// ``logLevels(_:count:ratio:)``: log-spaced above the grid's minimum, so that both the
/// narrow valley and the far slopes get lines), colored by a sequential ramp. Each trajectory
/// is a polyline with a hollow circle at its start and a filled circle at its end; points
/// outside the window are clipped, and a trajectory stops at its first non-finite point.
/// `minima` are marked with a black star.
///
/// Ids are prefixed with ``identifier`` (unique per page when several plots are inlined into
/// one HTML page): trajectory i is the path `identifier-trajectory-i` with its markers
/// `…-start` and `…-end`, and its legend entry (class `legend-entry`) lists the three in
/// `data-target`, for a page script that hides or shows a trajectory on a click.
/// - Complexity: O(grid size · levels + total trajectory length).
public struct ContourPlot: Sendable {
    public var title: String
    public var grid: Grid
    public var levels: [Double]
    public var trajectories: [Trajectory]
    public var minima: [(x: Double, y: Double)]
    public var xLabel: String
    public var yLabel: String
    public var width: Double
    public var height: Double
    /// The prefix of every id in the document (letters, digits and hyphens), unique per page.
    public var identifier: String

    public init(title: String, grid: Grid, levels: [Double]? = nil, trajectories: [Trajectory],
                minima: [(x: Double, y: Double)] = [], xLabel: String = "θ₀", yLabel: String = "θ₁",
                width: Double = 760, height: Double = 560, identifier: String = "contour") {
        self.identifier = identifier
        self.title = title
        self.grid = grid
        self.levels = levels ?? Self.logLevels(grid)
        self.trajectories = trajectories
        self.minima = minima
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.width = width
        self.height = height
    }

    /// `count` levels m + δₖ with δₖ log-spaced from `ratio`·(M − m) to (M − m), where m and M
    /// are the smallest and largest finite values of the grid. Works for functions with negative
    /// values (a saddle) as well as for those with a minimum of 0.
    public static func logLevels(_ grid: Grid, count: Int = 18, ratio: Double = 1e-4) -> [Double] {
        let finite = grid.values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), hi > lo, count >= 2 else { return [] }
        let span = hi - lo
        let a = Foundation.log(ratio * span), b = Foundation.log(span)
        return (0..<count).map { k in lo + Foundation.exp(a + (b - a) * Double(k) / Double(count - 1)) }
    }

    public func document() -> SVGDocument {
        let legendWidth = Axes.legendWidth(trajectories.map(\.name))
        // Keep the data area's aspect ratio equal to the window's, so circles look round.
        let availableWidth = width - 80 - legendWidth - 30, availableHeight = height - 40 - 58
        let dx = grid.x.upperBound - grid.x.lowerBound, dy = grid.y.upperBound - grid.y.lowerBound
        let scale = min(availableWidth / dx, availableHeight / dy)
        let axes = Axes(left: 80, top: 40, width: dx * scale, height: dy * scale)
        let xScale = LinearScale(domain: grid.x, range: (axes.left, axes.right))
        let yScale = LinearScale(domain: grid.y, range: (axes.bottom, axes.top))
        var svg = SVGDocument(width: min(width, axes.right + legendWidth + 30), height: axes.bottom + 58, title: title)

        let clipIdentifier = "\(identifier)-data-area"
        svg.add(SVGElement("defs", children: [axes.clipPath(id: clipIdentifier)]))
        svg.add(axes.decorations(xTicks: xScale.ticks().map { (xScale($0.value), $0) },
                                 yTicks: yScale.ticks().map { (yScale($0.value), $0) }, grid: false))

        var contourPaths: [SVGElement] = []
        for (k, level) in levels.enumerated() {
            let lines = MarchingSquares.contours(grid, level: level)
            guard !lines.isEmpty else { continue }
            var d = ""
            for line in lines {
                for (n, p) in line.enumerated() {
                    d += (n == 0 ? (d.isEmpty ? "M" : " M") : " L") + f(xScale(p.x)) + " " + f(yScale(p.y))
                }
            }
            let t = levels.count > 1 ? Double(k) / Double(levels.count - 1) : 0
            contourPaths.append(SVGElement("path", [("class", "contour"), ("data-level", String(level)), ("d", d),
                                                    ("fill", "none"), ("stroke", Palette.sequential(t)),
                                                    ("stroke-width", "1"), ("stroke-opacity", "0.75")]))
        }

        var paths: [SVGElement] = []
        var markers: [SVGElement] = []
        var entries: [Axes.LegendEntry] = []
        for (index, trajectory) in trajectories.enumerated() {
            let color = trajectory.color ?? Palette.color(index)
            let dash = trajectory.dashPattern ?? Palette.dashPattern(index)
            let id = trajectoryIdentifier(index)
            var points: [(Double, Double)] = []
            let (xl, xh) = (axes.left - 200, axes.right + 200), (yl, yh) = (axes.top - 200, axes.bottom + 200)
            for (x, y) in zip(trajectory.x, trajectory.y) {
                guard x.isFinite, y.isFinite else { break }
                let p = (min(max(xScale(x), xl), xh), min(max(yScale(y), yl), yh))
                // Keep a point when it moved at least half a pixel from the last kept one.
                if let last = points.last, abs(p.0 - last.0) < 0.5 && abs(p.1 - last.1) < 0.5 { continue }
                points.append(p)
            }
            if let lastFinite = zip(trajectory.x, trajectory.y).prefix(while: { $0.isFinite && $1.isFinite }).last {
                let p = (min(max(xScale(lastFinite.0), xl), xh), min(max(yScale(lastFinite.1), yl), yh))
                if points.last.map({ $0 != p }) ?? true { points.append(p) }
            }
            guard let first = points.first, let last = points.last else {
                // Nothing to draw (no finite point): listed, but with nothing to toggle.
                entries.append(Axes.LegendEntry(name: trajectory.name, color: color, dashPattern: dash, targets: []))
                continue
            }
            entries.append(Axes.LegendEntry(name: trajectory.name, color: color, dashPattern: dash, targets: [id, id + "-start", id + "-end"]))
            let d = points.enumerated().map { ($0 == 0 ? "M" : "L") + f($1.0) + " " + f($1.1) }.joined(separator: " ")
            var attributes = [("id", id), ("class", "trajectory"), ("data-name", trajectory.name), ("d", d),
                              ("fill", "none"), ("stroke", color), ("stroke-width", "1.8"),
                              ("stroke-linejoin", "round"), ("stroke-opacity", "0.9")]
            if !dash.isEmpty { attributes.append(("stroke-dasharray", dash)) }
            paths.append(SVGElement("path", attributes))
            markers.append(SVGElement("circle", [("id", id + "-start"), ("class", "start"), ("data-name", trajectory.name),
                                                 ("cx", f(first.0)), ("cy", f(first.1)), ("r", "5"),
                                                 ("fill", "white"), ("stroke", color), ("stroke-width", "2")]))
            markers.append(SVGElement("circle", [("id", id + "-end"), ("class", "end"), ("data-name", trajectory.name),
                                                 ("cx", f(last.0)), ("cy", f(last.1)), ("r", "4"),
                                                 ("fill", color), ("stroke", "white"), ("stroke-width", "1")]))
        }
        for m in minima {
            markers.append(Self.star(x: xScale(m.x), y: yScale(m.y)))
        }

        svg.add(SVGElement("g", [("clip-path", "url(#\(clipIdentifier))")], children: [
            SVGElement("g", [("class", "contours")], children: contourPaths),
            SVGElement("g", [("class", "trajectories")], children: paths),
            SVGElement("g", [("class", "markers")], children: markers),
        ]))
        svg.add(axes.titles(title: title, xLabel: xLabel, yLabel: yLabel))
        if !minima.isEmpty { entries.append(Axes.LegendEntry(name: "minimum", color: "#000", dashPattern: "", targets: [], star: true)) }
        svg.add(Axes.legend(entries: entries, x: axes.right + 15, y: axes.top))
        svg.add(SVGElement("text", [("x", f(axes.right + 15)), ("y", f(axes.top + Double(entries.count) * 18 + 30)),
                                    ("font-size", "11"), ("fill", "#555")], text: "○ start  ● end"))
        return svg
    }

    /// The id of trajectory `index`'s path (its markers append `-start` and `-end`).
    public func trajectoryIdentifier(_ index: Int) -> String { "\(identifier)-trajectory-\(index)" }

    public func svg() -> String { document().render() }

    public func write(to url: URL) throws { try document().write(to: url) }

    static func star(x: Double, y: Double) -> SVGElement {
        let points = (0..<10).map { k -> String in
            let r = k % 2 == 0 ? 8.0 : 3.5
            let a = Double.pi / 2 + Double(k) * Double.pi / 5
            return f(x + r * Foundation.cos(a)) + "," + f(y - r * Foundation.sin(a))
        }.joined(separator: " ")
        return SVGElement("polygon", [("class", "minimum"), ("points", points), ("fill", "black")])
    }
}
