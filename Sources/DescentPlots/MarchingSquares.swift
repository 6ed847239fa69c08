/// Values of a function of two variables on a regular grid.
public struct Grid: Sendable {
    public var x: ClosedRange<Double>
    public var y: ClosedRange<Double>
    /// Points per axis (≥ 2).
    public var columns: Int, rows: Int
    /// Row-major: `values[j * columns + i]` is f(xᵢ, yⱼ), with y₀ = y.lowerBound.
    public var values: [Double]

    /// - Throws: ``PlotError/gridSize(columns:rows:values:)`` for fewer than 2 × 2 points or a
    ///   value count other than columns · rows (checked without overflow).
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>, columns: Int, rows: Int, values: [Double]) throws {
        let (size, overflow) = columns.multipliedReportingOverflow(by: rows)
        guard columns >= 2, rows >= 2, !overflow, values.count == size else {
            throw PlotError.gridSize(columns: columns, rows: rows, values: values.count)
        }
        self.x = x
        self.y = y
        self.columns = columns
        self.rows = rows
        self.values = values
    }

    /// Samples `f` at `columns × rows` evenly spaced points including the corners.
    /// - Throws: ``PlotError/gridSize(columns:rows:values:)`` for fewer than 2 × 2 points or a
    ///   size whose product overflows, before sampling anything.
    /// - Complexity: `columns · rows` evaluations of `f`.
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>, columns: Int = 121, rows: Int = 121,
                _ f: (Double, Double) -> Double) throws {
        guard columns >= 2, rows >= 2, !columns.multipliedReportingOverflow(by: rows).overflow else {
            throw PlotError.gridSize(columns: columns, rows: rows, values: 0)
        }
        var values: [Double] = []
        values.reserveCapacity(columns * rows)
        for j in 0..<rows {
            let yj = y.lowerBound + (y.upperBound - y.lowerBound) * Double(j) / Double(rows - 1)
            for i in 0..<columns {
                let xi = x.lowerBound + (x.upperBound - x.lowerBound) * Double(i) / Double(columns - 1)
                values.append(f(xi, yj))
            }
        }
        try self.init(x: x, y: y, columns: columns, rows: rows, values: values)
    }

    public func xValue(_ i: Double) -> Double { x.lowerBound + (x.upperBound - x.lowerBound) * i / Double(columns - 1) }
    public func yValue(_ j: Double) -> Double { y.lowerBound + (y.upperBound - y.lowerBound) * j / Double(rows - 1) }
}

/// Contour lines of a ``Grid`` by marching squares.
///
/// In each cell the corners above and below the level select one of 16 cases; each crossing of
/// a cell edge is placed by linear interpolation between the two corner values. The two
/// ambiguous (saddle) cases are resolved by the mean of the four corners. Segments are then
/// chained through the edges they share into polylines (closed ones end at their first point).
/// Cells with a non-finite corner are skipped.
public enum MarchingSquares {
    /// The contour lines of `grid` at `level`, in data coordinates.
    /// - Complexity: O(columns · rows).
    public static func contours(_ grid: Grid, level: Double) -> [[(x: Double, y: Double)]] {
        let nx = grid.columns, ny = grid.rows
        let v = grid.values
        // Edge ids: horizontal edge from (i, j) to (i+1, j) is 2(j·nx + i); vertical edge from
        // (i, j) to (i, j+1) is 2(j·nx + i) + 1.
        var segments: [(Int, Int)] = []
        var crossing: [Int: (Double, Double)] = [:]   // edge id → point in grid units

        func point(_ edge: Int) -> (Double, Double) {
            if let p = crossing[edge] { return p }
            let cell = edge / 2
            let i = cell % nx, j = cell / nx
            let a = v[cell]
            let (b, di, dj) = edge % 2 == 0 ? (v[cell + 1], 1.0, 0.0) : (v[cell + nx], 0.0, 1.0)
            var t = (level - a) / (b - a)
            if !t.isFinite { t = 0.5 }
            t = min(max(t, 0), 1)
            let p = (Double(i) + t * di, Double(j) + t * dj)
            crossing[edge] = p
            return p
        }

        for j in 0..<(ny - 1) {
            for i in 0..<(nx - 1) {
                let c = j * nx + i
                let v00 = v[c], v10 = v[c + 1], v01 = v[c + nx], v11 = v[c + nx + 1]
                guard v00.isFinite, v10.isFinite, v01.isFinite, v11.isFinite else { continue }
                let caseIndex = (v00 > level ? 1 : 0) | (v10 > level ? 2 : 0) | (v11 > level ? 4 : 0) | (v01 > level ? 8 : 0)
                if caseIndex == 0 || caseIndex == 15 { continue }
                let bottom = 2 * c, left = 2 * c + 1, top = 2 * (c + nx), right = 2 * (c + 1) + 1
                switch caseIndex {
                case 1, 14: segments.append((left, bottom))
                case 2, 13: segments.append((bottom, right))
                case 3, 12: segments.append((left, right))
                case 4, 11: segments.append((right, top))
                case 6, 9: segments.append((bottom, top))
                case 7, 8: segments.append((left, top))
                case 5, 10:
                    // Saddle: corners 00 and 11 on one side, 10 and 01 on the other.
                    let centerAbove = (v00 + v10 + v01 + v11) / 4 > level
                    let diagonalAbove = caseIndex == 5   // 00 and 11 above
                    if centerAbove == diagonalAbove {
                        // The high diagonal is connected through the center: cut off the low corners.
                        segments.append((left, top)); segments.append((bottom, right))
                    } else {
                        segments.append((left, bottom)); segments.append((right, top))
                    }
                default: break
                }
            }
        }

        // Chain segments through shared edges.
        var byEdge: [Int: [Int]] = [:]
        for (k, s) in segments.enumerated() {
            byEdge[s.0, default: []].append(k)
            byEdge[s.1, default: []].append(k)
        }
        var used = [Bool](repeating: false, count: segments.count)
        var lines: [[(x: Double, y: Double)]] = []
        func other(_ k: Int, _ edge: Int) -> Int { segments[k].0 == edge ? segments[k].1 : segments[k].0 }
        func next(from edge: Int) -> Int? { byEdge[edge]?.first { !used[$0] } }

        // Start open chains at edges touched by a single segment (the grid's border), then the
        // remaining closed loops anywhere.
        let starts = segments.indices.sorted { a, b in
            let ea = min(byEdge[segments[a].0]!.count, byEdge[segments[a].1]!.count)
            let eb = min(byEdge[segments[b].0]!.count, byEdge[segments[b].1]!.count)
            return ea < eb
        }
        for k in starts where !used[k] {
            used[k] = true
            var (startEdge, endEdge) = segments[k]
            if byEdge[startEdge]!.count > 1 && byEdge[endEdge]!.count == 1 { swap(&startEdge, &endEdge) }
            var edges = [startEdge, endEdge]
            var edge = endEdge
            while let n = next(from: edge) {
                used[n] = true
                edge = other(n, edge)
                edges.append(edge)
            }
            lines.append(edges.map { e in
                let p = point(e)
                return (grid.xValue(p.0), grid.yValue(p.1))
            })
        }
        return lines
    }
}
