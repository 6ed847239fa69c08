/// Hyperparameter checks shared by the optimizers. Each throws
/// ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` naming the value.
public enum Hyperparameter {
    @inlinable public static func nonNegative<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and ≥ 0") }
    }
    @inlinable public static func positive<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v > 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and > 0") }
    }
    /// 0 ≤ v < 1.
    @inlinable public static func halfOpenUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v < 1 else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "in [0, 1)") }
    }
    /// 0 ≤ v ≤ 1.
    @inlinable public static func closedUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v <= 1 else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "in [0, 1]") }
    }
}

import DescentLinearAlgebra
import Dispatch

/// Checks before a step: the gradient's count, the state's count, and (by `policy`) that
/// every gradient element is finite. Returns `false` when the step must be skipped.
///
/// - Complexity: O(n) reads of the gradient when the policy looks at it, O(1) otherwise.
@inlinable
public func checkStepInputs<S: BLASScalar>(
    parameters: Int, gradient: UnsafeBufferPointer<S>, stateCount: Int?, policy: NonFiniteGradientPolicy
) throws -> Bool {
    guard gradient.count == parameters else {
        throw OptimizerError.gradientCountMismatch(parameters: parameters, gradient: gradient.count)
    }
    if let stateCount, stateCount != parameters {
        throw OptimizerError.stateCountMismatch(state: stateCount, parameters: parameters)
    }
    if policy == .unchecked { return true }
    guard let index = firstNonFinite(gradient) else { return true }
    if policy == .skipStep { return false }
    throw OptimizerError.nonFiniteGradient(index: index, value: "\(gradient[index])")
}

/// The index of the first NaN or infinity in `x`, or nil.
///
/// A branch-free scan over the IEEE bit patterns first (an element is not finite exactly when
/// its exponent bits are all ones), which the compiler vectorizes, split across the cores for
/// large n; a scalar search only when something was found.
/// - Complexity: O(n) reads of `x`.
@inlinable
public func firstNonFinite<S: BLASScalar>(_ x: UnsafeBufferPointer<S>) -> Int? {
    guard let base = x.baseAddress else { return nil }
    let n = x.count
    let raw = UnsafeRawPointer(base)
    var anyBad = false
    if MemoryLayout<S>.size == 8 {
        anyBad = anyExponentAllOnes(raw.assumingMemoryBound(to: UInt64.self), count: n, mask: 0x7FF0_0000_0000_0000)
    } else if MemoryLayout<S>.size == 4 {
        anyBad = anyExponentAllOnes(raw.assumingMemoryBound(to: UInt32.self), count: n, mask: 0x7F80_0000)
    } else {
        for i in 0..<n where !base[i].isFinite { anyBad = true; break }
    }
    guard anyBad else { return nil }
    for i in 0..<n where !base[i].isFinite { return i }
    return nil
}

/// Whether any word has all the bits of `mask` set; chunks run on all cores for large n.
@inlinable
func anyExponentAllOnes<W: FixedWidthInteger & UnsignedInteger>(_ p: UnsafePointer<W>, count n: Int, mask: W) -> Bool {
    let chunks = Swift.max(1, Swift.min(ParallelConfiguration.threads, n / Swift.max(ParallelConfiguration.minimumPerThread, 1)))
    if chunks == 1 { return anyExponentAllOnes(p, 0..<n, mask: mask) }
    return withUnsafeTemporaryAllocation(of: Bool.self, capacity: chunks) { found in
        let chunk = (n + chunks - 1) / chunks
        let out = found.baseAddress!
        // The pool behind parallelChunks (concurrentPerform made 3 heap allocations per call).
        func scan(_ w: Int) {
            let r = (w * chunk)..<Swift.min(n, (w + 1) * chunk)
            out[w] = r.isEmpty ? false : anyExponentAllOnes(p, r, mask: mask)
        }
        if !ChunkWorkerPool.shared.run(workers: chunks, scan) {
            for w in 0..<chunks { scan(w) }
        }
        return found.contains(true)
    }
}

@inlinable
func anyExponentAllOnes<W: FixedWidthInteger & UnsignedInteger>(_ p: UnsafePointer<W>, _ r: Range<Int>, mask: W) -> Bool {
    var bad: W = 0
    for i in r {
        // All ones in the exponent ⇔ (bits & mask) == mask; accumulate branch-free.
        bad |= (p[i] & mask) ^ mask == 0 ? 1 : 0
    }
    return bad != 0
}

extension Optimizer {
    /// The checks every step makes before it touches anything: the hyperparameters
    /// (``validate()``, since a schedule may have changed one), then
    /// ``checkStepInputs(parameters:gradient:stateCount:policy:)`` with this optimizer's
    /// ``stateCount`` and ``nonFiniteGradientPolicy``. Returns `false` when the step must be
    /// skipped (a non-finite gradient under ``NonFiniteGradientPolicy/skipStep``).
    @inlinable
    public func admitsStep(parameterCount: Int, gradient: UnsafeBufferPointer<Scalar>) throws -> Bool {
        try validate()
        return try checkStepInputs(parameters: parameterCount, gradient: gradient, stateCount: stateCount,
                                   policy: nonFiniteGradientPolicy)
    }
}
