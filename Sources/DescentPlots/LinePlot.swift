import Foundation

/// One named curve of a ``LinePlot``.
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// A CSS color; nil takes the series' index in ``Palette``.
    public var color: String?
    /// An SVG `stroke-dasharray` ("" for a solid line); nil takes the series' index in ``Palette``.
    public var dashPattern: String?

    /// - Throws: ``PlotError/lengthMismatch(name:x:y:)`` when x and y differ in length.
    public init(name: String, x: [Double], y: [Double], color: String? = nil, dashPattern: String? = nil) throws {
        guard x.count == y.count else { throw PlotError.lengthMismatch(name: name, x: x.count, y: y.count) }
        self.init(checkedName: name, x: x, y: y, color: color, dashPattern: dashPattern)
    }

    private init(checkedName name: String, x: [Double], y: [Double], color: String?, dashPattern: String?) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashPattern = dashPattern
    }

    /// A series with x = 0, 1, 2, … (e.g. loss per step, row 0 at the start).
    public init(name: String, values: [Double], color: String? = nil, dashPattern: String? = nil) {
        self.init(checkedName: name, x: values.indices.map(Double.init), y: values, color: color, dashPattern: dashPattern)
    }
}

/// A line plot: one polyline per series, a legend right of the data area, ticks and labels,
/// and (by default) a base-10 logarithmic y axis, as for loss against step.
///
/// On a log axis, points with y ≤ 0, NaN or ±∞ are not drawn (the line breaks there); the y
/// range spans at most ``maximumDecades`` decades below the largest value, and never goes
/// below ``yFloor`` when set; lower points are clipped at the bottom edge. With ``logX`` (e.g.
/// loss against wall time, where runs differ in cost by orders of magnitude) the x range
/// spans at most ``maximumXDecades`` decades below the largest x; smaller positive x (the
/// first evaluations of a run, a few microseconds in) are drawn at the left edge, and x ≤ 0 is
/// not drawn.
///
/// Every series gets its own hue and dash pattern (``Palette``) unless it sets them. Ids are
/// prefixed with ``identifier``, so several plots can be inlined into one HTML page: series i
/// is the path `identifier-series-i`, and its legend entry (class `legend-entry`) names it in
/// `data-target`, for a page script that toggles a series when its legend entry is clicked.
///
/// Long series are decimated per pixel column (first, minimum, maximum and last point of
/// each column are kept), which preserves the drawn envelope of noisy curves while keeping
/// files small.
/// - Complexity: O(total number of points).
public struct LinePlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    public var logY: Bool
    public var yFloor: Double?
    public var maximumDecades: Double
    /// A fixed y range for a linear axis (values outside are clipped); nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// A base-10 logarithmic x axis.
    public var logX: Bool
    /// The x range of a log x axis spans at most this many decades below the largest x.
    public var maximumXDecades: Double
    /// Extra lines of small print under the legend (e.g. what the curve shows).
    public var notes: [String]
    public var width: Double
    public var height: Double
    /// The prefix of every id in the document (letters, digits and hyphens), unique per page.
    public var identifier: String

    public init(title: String, xLabel: String = "step", yLabel: String = "loss", series: [LineSeries],
                logY: Bool = true, yFloor: Double? = nil, maximumDecades: Double = 16,
                yRange: ClosedRange<Double>? = nil, logX: Bool = false, maximumXDecades: Double = 4,
                notes: [String] = [], width: Double = 760, height: Double = 460, identifier: String = "plot") {
        self.yRange = yRange
        self.notes = notes
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
        self.yFloor = yFloor
        self.maximumDecades = maximumDecades
        self.logX = logX
        self.maximumXDecades = maximumXDecades
        self.width = width
        self.height = height
        self.identifier = identifier
    }

    /// The id of series `index`'s path.
    public func seriesIdentifier(_ index: Int) -> String { "\(identifier)-series-\(index)" }

    /// The plot as an SVG document.
    public func document() -> SVGDocument {
        let legendWidth = Axes.legendWidth(series.map(\.name))
        let axes = Axes(left: 80, top: 40, width: max(width - 80 - legendWidth - 30, 100), height: height - 40 - 58)
        var svg = SVGDocument(width: width, height: height, title: title)

        // Domains.
        var xMin = Double.infinity, xMax = -Double.infinity
        var yMin = Double.infinity, yMax = -Double.infinity
        for s in series {
            for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite && (!logY || y > 0) && (!logX || x > 0) {
                xMin = min(xMin, x); xMax = max(xMax, x)
                yMin = min(yMin, y); yMax = max(yMax, y)
            }
        }
        if !xMin.isFinite { xMin = logX ? 0.1 : 0; xMax = logX ? 10 : 1 }
        if !yMin.isFinite { yMin = logY ? 0.1 : 0; yMax = logY ? 10 : 1 }

        let xOf: (Double) -> Double
        let xTicks: [(Double, Tick)]
        if logX {
            let low = max(xMin, xMax / Foundation.pow(10, maximumXDecades))
            // low > 0 here (positive values only on a log axis); a decade around 1 otherwise.
            let scale = (try? LogScale(domain: LogScale.decades(around: low...xMax), range: (axes.left, axes.right)))
                ?? (try! LogScale(domain: 0.1...10, range: (axes.left, axes.right)))
            // Points left of the domain are drawn at the left edge.
            xOf = { max(scale($0), axes.left) }
            xTicks = scale.ticks().map { (scale($0.value), $0) }
        } else {
            let scale = LinearScale(domain: min(xMin, 0)...xMax, range: (axes.left, axes.right))
            xOf = { scale($0) }
            xTicks = scale.ticks().map { (scale($0.value), $0) }
        }

        let yOf: (Double) -> Double
        let yTicks: [(Double, Tick)]
        if logY {
            var low = max(yMin, yMax / Foundation.pow(10, maximumDecades))
            if let yFloor, yFloor > 0 { low = max(low, min(yFloor, yMax)) }
            // low > 0 here (positive values only on a log axis); a decade around 1 otherwise.
            let scale = (try? LogScale(domain: LogScale.decades(around: low...yMax), range: (axes.bottom, axes.top)))
                ?? (try! LogScale(domain: 0.1...10, range: (axes.bottom, axes.top)))
            yOf = { scale($0) }
            yTicks = scale.ticks().map { (scale($0.value), $0) }
        } else {
            let pad = (yMax - yMin) * 0.05
            let scale = LinearScale(domain: yRange ?? (yMin - pad)...(yMax + pad), range: (axes.bottom, axes.top))
            yOf = { scale($0) }
            yTicks = scale.ticks().map { (scale($0.value), $0) }
        }

        let clipIdentifier = "\(identifier)-data-area"
        svg.add(SVGElement("defs", children: [axes.clipPath(id: clipIdentifier)]))
        svg.add(axes.decorations(xTicks: xTicks, yTicks: yTicks, grid: true))

        var lines: [SVGElement] = []
        var entries: [Axes.LegendEntry] = []
        for (index, s) in series.enumerated() {
            let color = s.color ?? Palette.color(index)
            let dash = s.dashPattern ?? Palette.dashPattern(index)
            let points = Self.decimate(s, x: xOf, y: yOf, logX: logX, logY: logY, axes: axes)
            var attributes = [("id", seriesIdentifier(index)), ("class", "series"), ("data-name", s.name), ("d", points),
                              ("fill", "none"), ("stroke", color), ("stroke-width", "1.8"),
                              ("stroke-linejoin", "round")]
            if !dash.isEmpty { attributes.append(("stroke-dasharray", dash)) }
            lines.append(SVGElement("path", attributes))
            entries.append(Axes.LegendEntry(name: s.name, color: color, dashPattern: dash, targets: [seriesIdentifier(index)]))
        }
        svg.add(SVGElement("g", [("clip-path", "url(#\(clipIdentifier))")], children: lines))
        svg.add(axes.titles(title: title, xLabel: xLabel + (logX ? " (log scale)" : ""), yLabel: yLabel + (logY ? " (log scale)" : "")))
        svg.add(Axes.legend(entries: entries, x: axes.right + 15, y: axes.top))
        for (i, note) in notes.enumerated() {
            svg.add(SVGElement("text", [("x", f(axes.right + 15)), ("y", f(axes.top + Double(series.count) * 18 + 30 + 15 * Double(i))),
                                        ("font-size", "11"), ("fill", "#555")], text: note))
        }
        return svg
    }

    public func svg() -> String { document().render() }

    public func write(to url: URL) throws { try document().write(to: url) }

    /// Path data for one series: "M x y L x y …", broken at undrawable points, keeping per pixel
    /// column the first, lowest, highest and last point in their original order.
    static func decimate(_ s: LineSeries, x xOf: (Double) -> Double, y yOf: (Double) -> Double,
                         logX: Bool = false, logY: Bool, axes: Axes) -> String {
        var d = ""
        var penDown = false
        var column = Int.min
        var bucket: [(Int, Double, Double)] = []   // (index, px, py)
        func flush() {
            guard !bucket.isEmpty else { return }
            var keep = [bucket.first!, bucket.last!]
            if let lo = bucket.min(by: { $0.2 < $1.2 }) { keep.append(lo) }
            if let hi = bucket.max(by: { $0.2 < $1.2 }) { keep.append(hi) }
            keep.sort { $0.0 < $1.0 }
            var last = -1
            for (i, px, py) in keep where i != last {
                last = i
                d += (penDown ? " L" : (d.isEmpty ? "M" : " M")) + f(px) + " " + f(py)
                penDown = true
            }
            bucket.removeAll(keepingCapacity: true)
        }
        // Clamp far-away points a little outside the data area so the numbers stay short; the
        // clip path hides them.
        let yLow = axes.top - 50, yHigh = axes.bottom + 50
        for (i, (x, y)) in zip(s.x, s.y).enumerated() {
            guard x.isFinite, y.isFinite, !logY || y > 0, !logX || x > 0 else {
                flush()
                penDown = false
                column = Int.min
                continue
            }
            let px = xOf(x), py = min(max(yOf(y), yLow), yHigh)
            let c = Int(px.rounded(.down))
            if c != column { flush(); column = c }
            bucket.append((i, px, py))
        }
        flush()
        return d
    }
}
