@_exported import DescentLinearAlgebra
@_exported import DescentPersistence
import Foundation

/// A first-order (or natural-gradient) optimizer: hyperparameters, a state, and an update rule
/// applied to one flat contiguous parameter vector.
///
/// Models with several tensors flatten them into one vector, as PyTorch's
/// `parameters_to_vector` does. The state is allocated on the first step, sized to the
/// parameters; afterwards a step allocates nothing (the first-order optimizers' threaded pass
/// included: see `parallelChunks(count:minimumPerThread:_:)`).
///
/// Every step checks its inputs first and throws ``OptimizerError`` before it touches anything:
/// a gradient of the wrong length, a state built for another length, an invalid
/// hyperparameter (they are mutable, so a schedule may set one), and, by
/// ``nonFiniteGradientPolicy``, a NaN or infinite gradient.
public protocol Optimizer<Scalar>: Codable, Sendable {
    associatedtype Scalar: BLASScalar

    /// The name used in checkpoints and on the command line, e.g. `"adam"`.
    static var kind: String { get }

    /// η; a schedule may change it between steps.
    var learningRate: Scalar { get set }
    /// Steps applied so far (skipped steps do not count): t of the formulas after the step.
    var stepCount: Int { get }
    /// Steps skipped because of a non-finite gradient under ``NonFiniteGradientPolicy/skipStep``.
    var skippedSteps: Int { get }
    /// What a step does with a NaN or infinite gradient.
    var nonFiniteGradientPolicy: NonFiniteGradientPolicy { get set }

    /// Throws ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` for the first
    /// hyperparameter out of range, naming it and its value. Called at construction and at the
    /// start of every step; it allocates nothing.
    func validate() throws

    /// Throws ``OptimizerError/corruptCheckpoint(_:)`` when the state is inconsistent (buffers
    /// of different lengths, a negative step count): called after decoding a checkpoint, so a
    /// hand-edited or truncated file is refused instead of crashing a later step.
    /// The default implementation accepts everything (for stateless optimizers).
    func validateState() throws

    /// The number of parameters the state was built for, or nil before the first step.
    var stateCount: Int? { get }

    /// Applies one update to `parameters` in place, zero-copy.
    mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws

    /// Forgets the state (buffers and step count); hyperparameters stay.
    mutating func reset()
}

extension Optimizer {
    public func validateState() throws {}

    /// Applies one update to `parameters` in place.
    @inlinable
    public mutating func step(_ parameters: inout [Scalar], gradient: [Scalar]) throws {
        try gradient.withUnsafeBufferPointer { g in
            try parameters.withUnsafeMutableBufferPointer { p in
                try step(p, gradient: g)
            }
        }
    }
}
