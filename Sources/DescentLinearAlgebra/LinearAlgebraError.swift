/// Errors of the linear-algebra layer. Each names the values that were wrong.
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two operands do not fit together, e.g. a 3 × 4 matrix times a vector of 5.
    case dimensionMismatch(operation: String, expected: String, actual: String)
    /// `potrf` found that the leading minor of this order is not positive definite.
    case notPositiveDefinite(order: Int)
    /// LAPACK reported an illegal value in the argument of this (1-based) position.
    case illegalArgument(routine: String, position: Int)
    /// A matrix dimension is negative or a buffer's count disagrees with rows × columns.
    case invalidShape(rows: Int, columns: Int, count: Int)
    /// A dimension exceeds what 32-bit BLAS/LAPACK indices can address.
    case dimensionTooLarge(Int)
    /// An allocation of `bytes` (nil: beyond 64-bit arithmetic) exceeds the `limit` bytes this
    /// process can allocate (see ``MemoryLimit``).
    case allocationTooLarge(what: String, bytes: Int?, limit: Int)

    public var description: String {
        switch self {
        case let .dimensionMismatch(operation, expected, actual):
            return "\(operation): dimension mismatch, expected \(expected), got \(actual)"
        case let .notPositiveDefinite(order):
            return "matrix is not positive definite: the leading minor of order \(order) is not positive"
        case let .illegalArgument(routine, position):
            return "\(routine): illegal value in argument \(position)"
        case let .invalidShape(rows, columns, count):
            return "invalid matrix shape \(rows) × \(columns) for \(count) elements"
        case let .dimensionTooLarge(n):
            return "dimension \(n) exceeds the 32-bit index range of BLAS/LAPACK (\(Int32.max))"
        case let .allocationTooLarge(what, bytes, limit):
            let size = bytes.map { "about \(MemoryLimit.format($0))" } ?? "a size that overflows 64-bit arithmetic"
            return "\(what) needs \(size) of memory, more than the \(MemoryLimit.format(limit)) this process can allocate"
        }
    }
}
