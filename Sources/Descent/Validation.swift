/// Hyperparameter checks shared by the optimizers and the training loop's schedules (in this
/// package only). Each throws ``OptimizerError/invalidHyperparameter(name:value:requirement:)``
/// naming the value.
@usableFromInline
package enum Hyperparameter {
    @inlinable package static func nonNegative<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and ≥ 0") }
    }
    @inlinable package static func positive<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v > 0, v.isFinite else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "finite and > 0") }
    }
    /// 0 ≤ v < 1.
    @inlinable package static func halfOpenUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
        guard v >= 0, v < 1 else { throw OptimizerError.invalidHyperparameter(name: name, value: "\(v)", requirement: "in [0, 1)") }
    }
    /// 0 ≤ v ≤ 1.
    @inlinable package static func closedUnit<S: BLASScalar>(_ name: String, _ v: S) throws {
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
func checkStepInputs<S: BLASScalar>(
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
package func firstNonFinite<S: BLASScalar>(_ x: UnsafeBufferPointer<S>) -> Int? {
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
        // The pool behind parallelChunks (concurrentPerform made 3 heap allocations per call).
        let scan = ExponentScan(words: p, count: n, chunk: (n + chunks - 1) / chunks, mask: mask, found: found.baseAddress!)
        if !ChunkWorkerPool.shared.run(tasks: chunks, threads: chunks, kernel: scan) {
            for w in 0..<chunks { scan(task: w) }
        }
        return found.contains(true)
    }
}

/// Task w scans chunk w of the words and stores whether it found a non-finite one.
@usableFromInline
struct ExponentScan<W: FixedWidthInteger & UnsignedInteger>: TaskKernel {
    @usableFromInline let words: UnsafePointer<W>
    @usableFromInline let count: Int
    @usableFromInline let chunk: Int
    @usableFromInline let mask: W
    @usableFromInline let found: UnsafeMutablePointer<Bool>
    @inlinable init(words: UnsafePointer<W>, count: Int, chunk: Int, mask: W, found: UnsafeMutablePointer<Bool>) {
        self.words = words; self.count = count; self.chunk = chunk; self.mask = mask; self.found = found
    }
    @inlinable func callAsFunction(task w: Int) {
        let r = (w * chunk)..<Swift.min(count, (w + 1) * chunk)
        found[w] = r.isEmpty ? false : anyExponentAllOnes(words, r, mask: mask)
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
    func admitsStep(parameterCount: Int, gradient: UnsafeBufferPointer<Scalar>) throws -> Bool {
        try validate()
        return try checkStepInputs(parameters: parameterCount, gradient: gradient, stateCount: stateCount,
                                   policy: nonFiniteGradientPolicy)
    }
}
