/// The rectangle a plot draws its data in, and the decorations around it: frame, grid lines,
/// ticks with labels, axis titles and the plot title. Shared by ``LinePlot`` and ``ContourPlot``.
struct Axes {
    /// The data area in pixels.
    var left: Double, top: Double, width: Double, height: Double
    var right: Double { left + width }
    var bottom: Double { top + height }

    static let fontSize = 12.0

    /// A clip path named `id` around the data area, to put in the document once.
    func clipPath(id: String) -> SVGElement {
        SVGElement("clipPath", [("id", id)], children: [
            SVGElement("rect", [("x", f(left)), ("y", f(top)), ("width", f(width)), ("height", f(height))]),
        ])
    }

    /// Grid lines, ticks and tick labels for an x axis at the bottom (`xTicks` as pixel
    /// positions) and a y axis at the left.
    func decorations(xTicks: [(Double, Tick)], yTicks: [(Double, Tick)], grid: Bool) -> SVGElement {
        var gridLines: [SVGElement] = []
        var marks: [SVGElement] = []
        var labels: [SVGElement] = []
        for (px, tick) in xTicks where px >= left - 0.5 && px <= right + 0.5 {
            if grid {
                gridLines.append(line(px, top, px, bottom))
            }
            marks.append(line(px, bottom, px, bottom + 5))
            labels.append(label(tick, x: px, y: bottom + 18, anchor: "middle"))
        }
        for (py, tick) in yTicks where py >= top - 0.5 && py <= bottom + 0.5 {
            if grid {
                gridLines.append(line(left, py, right, py))
            }
            marks.append(line(left - 5, py, left, py))
            labels.append(label(tick, x: left - 8, y: py + 4, anchor: "end"))
        }
        return SVGElement("g", [("class", "axes")], children: [
            SVGElement("g", [("class", "grid"), ("stroke", "#e5e5e5"), ("stroke-width", "1")], children: gridLines),
            SVGElement("rect", [("x", f(left)), ("y", f(top)), ("width", f(width)), ("height", f(height)),
                                ("fill", "none"), ("stroke", "#333"), ("stroke-width", "1")]),
            SVGElement("g", [("class", "ticks"), ("stroke", "#333"), ("stroke-width", "1")], children: marks),
            SVGElement("g", [("class", "tick-labels"), ("font-size", f(Self.fontSize)), ("fill", "#222")], children: labels),
        ])
    }

    /// Axis titles below the x axis and rotated left of the y axis, and the plot's title above.
    func titles(title: String, xLabel: String, yLabel: String) -> SVGElement {
        let cx = left + width / 2, cy = top + height / 2
        return SVGElement("g", [("class", "titles"), ("fill", "#111")], children: [
            SVGElement("text", [("x", f(cx)), ("y", f(top - 12)), ("text-anchor", "middle"),
                                ("font-size", "15"), ("font-weight", "bold")], text: title),
            SVGElement("text", [("x", f(cx)), ("y", f(bottom + 40)), ("text-anchor", "middle"),
                                ("font-size", "13")], text: xLabel),
            SVGElement("text", [("x", f(left - 58)), ("y", f(cy)), ("text-anchor", "middle"),
                                ("font-size", "13"), ("transform", "rotate(-90 \(f(left - 58)) \(f(cy)))")],
                       text: yLabel),
        ])
    }

    /// One row of a legend: a line sample in the series' style, its name, and the ids of the
    /// elements that draw the series (what a click on the row shows or hides).
    struct LegendEntry {
        var name: String
        var color: String
        /// An SVG `stroke-dasharray`; "" for a solid line.
        var dashPattern: String
        var targets: [String]
        /// Draw a star (the marker of a minimum) instead of a line sample.
        var star = false
    }

    /// A legend box of line samples with names, top-left corner at (x, y). Each row with targets
    /// is a group of class `legend-entry` whose `data-target` lists the ids of its series
    /// (space-separated), with a hit area over the whole row, a pointer cursor and a tooltip.
    static func legend(entries: [LegendEntry], x: Double, y: Double) -> SVGElement {
        let rowHeight = 18.0
        let width = legendWidth(entries.map(\.name))
        var children: [SVGElement] = [
            SVGElement("rect", [("x", f(x)), ("y", f(y)), ("width", f(width)),
                                ("height", f(Double(entries.count) * rowHeight + 8)),
                                ("fill", "white"), ("fill-opacity", "0.9"), ("stroke", "#bbb")]),
        ]
        for (i, entry) in entries.enumerated() {
            let top = y + 4 + rowHeight * Double(i), cy = top + rowHeight / 2
            var lineAttributes = [("x1", f(x + 8)), ("y1", f(cy)), ("x2", f(x + 34)), ("y2", f(cy)),
                                  ("stroke", entry.color), ("stroke-width", "2.5")]
            if !entry.dashPattern.isEmpty { lineAttributes.append(("stroke-dasharray", entry.dashPattern)) }
            var row = [
                entry.star ? ContourPlot.star(x: x + 21, y: cy) : SVGElement("line", lineAttributes),
                SVGElement("text", [("x", f(x + 40)), ("y", f(cy + 4)), ("font-size", "12"), ("fill", "#222")], text: entry.name),
            ]
            guard !entry.targets.isEmpty else {
                children += row
                continue
            }
            row.insert(SVGElement("title", text: "\(entry.name): click to hide or show"), at: 0)
            row.insert(SVGElement("rect", [("x", f(x + 1)), ("y", f(top)), ("width", f(width - 2)), ("height", f(rowHeight)),
                                           ("fill", "white"), ("fill-opacity", "0")]), at: 1)
            children.append(SVGElement("g", [("class", "legend-entry"), ("data-target", entry.targets.joined(separator: " ")),
                                             ("cursor", "pointer")], children: row))
        }
        return SVGElement("g", [("class", "legend")], children: children)
    }

    /// The width of a legend for these names: a line sample and about 7 px per character.
    static func legendWidth(_ names: [String]) -> Double {
        54 + 7.5 * Double(names.map(\.count).max() ?? 0)
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> SVGElement {
        SVGElement("line", [("x1", f(x1)), ("y1", f(y1)), ("x2", f(x2)), ("y2", f(y2))])
    }

    private func label(_ tick: Tick, x: Double, y: Double, anchor: String) -> SVGElement {
        guard let exponent = tick.exponent else {
            return SVGElement("text", [("x", f(x)), ("y", f(y)), ("text-anchor", anchor)], text: tick.label)
        }
        // 10 with the exponent raised; the whole label keeps the anchor.
        return SVGElement("text", [("x", f(x)), ("y", f(y)), ("text-anchor", anchor)], children: [
            SVGElement("tspan", text: tick.label),
            SVGElement("tspan", [("dy", "-6"), ("font-size", "9")], text: exponent),
        ])
    }
}

@inline(__always) func f(_ x: Double) -> String { SVGNumber.format(x) }
