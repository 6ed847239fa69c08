import Foundation

/// Errors of the distributed layer. Every MPI call runs under `MPI_ERRORS_RETURN`, so a failing
/// call comes back here with Open MPI's own message instead of aborting the process.
public enum MPIError: Error, Equatable, Sendable, LocalizedError, CustomStringConvertible {
    /// An MPI call returned an error code; `message` is `MPI_Error_string` of it.
    case call(function: String, code: Int32, message: String)
    /// A count does not fit MPI's `int` counts (2³¹ − 1 elements per call).
    case countTooLarge(name: String, value: Int)
    /// A buffer has the wrong number of elements for the collective.
    case bufferSizeMismatch(name: String, expected: Int, found: Int)
    /// An argument is out of range (a root rank, a split color, a partition size).
    case invalidArgument(name: String, value: String, requirement: String)
    /// MPI was already finalized: no further communication is possible.
    case finalized
    /// The ranks disagree (the θ checksum after a step, a configuration value).
    case ranksDisagree(what: String, detail: String)

    public var description: String {
        switch self {
        case let .call(function, code, message): return "\(function) failed (MPI error \(code)): \(message)"
        case let .countTooLarge(name, value): return "\(name) = \(value) exceeds MPI's limit of \(Int32.max) elements per call"
        case let .bufferSizeMismatch(name, expected, found): return "\(name) has \(found) elements, expected \(expected)"
        case let .invalidArgument(name, value, requirement): return "invalid \(name) = \(value): must be \(requirement)"
        case .finalized: return "MPI is already finalized"
        case let .ranksDisagree(what, detail): return "ranks disagree on \(what): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
