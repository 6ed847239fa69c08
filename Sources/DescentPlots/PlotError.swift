/// Plot data that cannot be drawn, named with its sizes or values: thrown by the initializers of
/// ``LineSeries``, ``Trajectory``, ``Grid`` and ``LogScale`` instead of stopping the process.
public enum PlotError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `x` and `y` of a series or trajectory have different lengths.
    case lengthMismatch(name: String, x: Int, y: Int)
    /// A grid needs at least 2 × 2 points and `columns · rows` values.
    case gridSize(columns: Int, rows: Int, values: Int)
    /// A logarithmic scale needs a positive domain.
    case nonPositiveLogDomain(lowerBound: Double)

    public var description: String {
        switch self {
        case let .lengthMismatch(name, x, y):
            return "plot series \(name): x has \(x) values and y has \(y); they must be as many"
        case let .gridSize(columns, rows, values):
            return "contour grid of \(columns) × \(rows) points with \(values) values: needs at least 2 × 2 points and columns · rows values"
        case let .nonPositiveLogDomain(lowerBound):
            return "a logarithmic axis needs a positive domain, got lower bound \(lowerBound)"
        }
    }
}

#if canImport(Foundation)
import Foundation
extension PlotError: LocalizedError {
    public var errorDescription: String? { description }
}
#endif
