import Foundation

/// The ill-conditioned quadratic of docs/lecture.md, in the "squeezed" coordinates the optimizer sees:
///
///     L(x̃, ỹ) = a² x̃² + b² ỹ²,        x̃ = x / a,  ỹ = y / b,
///
/// which is the round bowl x² + y² seen through the metric G = diag(a², b²). θ = (x̃, ỹ).
///
///     ∇L = 2 (a² x̃, b² ỹ),     natural gradient G⁻¹∇L = 2 (x̃, ỹ).
///
/// The condition number of the Hessian is max(a², b²)/min(a², b²). Defaults a = 1, b = 10
/// (condition number 100), start (x̃, ỹ) = (1, 1), minimum 0 at the origin.
///
/// ``outputJacobian(at:batch:)`` writes L = ‖r‖² with residuals r = (a x̃, b ỹ) as one sample of a
/// Gaussian output (β = 1): J = diag(a, b), so F = JᵀJ = G exactly, the metric of docs/lecture.md.
/// - Complexity: O(1) per evaluation.
public struct IllConditionedQuadratic<Scalar: BLASScalar>: PlaneObjective {
    public var a: Scalar
    public var b: Scalar
    public var standardStart: [Scalar]

    /// The quadratic of docs/lecture.md, starting at (1, 1).
    public init(a: Scalar = 1, b: Scalar = 10) {
        self.a = a
        self.b = b
        self.standardStart = [1, 1]
    }

    /// Starts at `start`; throws ``DataError/dimensionMismatch(objective:expected:found:)``
    /// unless it has 2 coordinates.
    public init(a: Scalar = 1, b: Scalar = 10, start: [Scalar]) throws {
        guard start.count == 2 else { throw DataError.dimensionMismatch(objective: "quadratic start", expected: 2, found: start.count) }
        self.a = a
        self.b = b
        self.standardStart = start
    }

    public var name: String { "quadratic" }

    @inlinable public func value(x: Scalar, y: Scalar) -> Scalar { a * a * x * x + b * b * y * y }

    public var domain: PlotDomain {
        let s = Swift.max(1.5 * Swift.max(abs(Double(standardStart[0])), abs(Double(standardStart[1]))), 1e-3)
        return PlotDomain(x: -s...s, y: -s...s)
    }

    public var minimum: KnownMinimum<Scalar>? { KnownMinimum(point: [0, 0], value: 0) }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == 2 && gradient.count == 2, "quadratic: θ and gradient need 2 elements")
        let x = θ[0], y = θ[1]
        gradient[0] = 2 * a * a * x
        gradient[1] = 2 * b * b * y
        return value(x: x, y: y)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        let j = try! Matrix<Scalar>(rows: 2, columns: 2, elements: [a, 0, 0, b])
        return OutputJacobian(jacobian: j, samples: 1, outputs: 2, distribution: .gaussian(beta: 1))
    }
}

/// The ill-conditioned quadratic of docs/lecture.md in N dimensions, for runs and checkpoints at
/// 10⁶–10⁹ parameters:
///
///     L(θ) = Σᵢ cᵢ θᵢ²,   cᵢ = a² q^i,  q = (b²/a²)^(1/(N−1)),  i = 0 … N−1,
///     ∇L = 2 cᵢ θᵢ,
///
/// curvatures spread geometrically from c₀ = a² to c_{N−1} = b² (both exact), so N = 2 is
/// ``IllConditionedQuadratic`` exactly (same loss and gradient, bit for bit) and the condition
/// number is b²/a² for every N ≥ 2. The start is θ = (1, …, 1), the minimum 0 at the origin.
///
/// Nothing of size N is stored: cᵢ is generated on the fly (every 4096th as a²(b²/a²)^{i/(N−1)} by `pow`,
/// the others by repeated multiplication in Double, relative drift < 10⁻¹²), blocks of 2¹⁸
/// run in parallel, and the loss is summed in Double per block, then over
/// blocks in order, so the result does not depend on the thread count.
/// ``outputJacobian(at:batch:)`` gives the Gaussian-output Fisher diag(c) only for N ≤ 4096
/// (it is an N × N matrix).
/// - Complexity: one pass over θ and g per evaluation (O(N), 16 bytes per Double parameter);
///   no allocation beyond a few kilobytes of stack for the block sums.
public struct IllConditionedQuadraticND<Scalar: BLASScalar>: Objective {
    public let dimension: Int
    public let a: Scalar
    public let b: Scalar
    /// Block length of the curvature recurrence and of the parallel split.
    @usableFromInline static var block: Int { 1 << 18 }

    /// - Throws: ``TrainingError/invalidOption(name:value:requirement:)`` for N < 1 or a, b not
    ///   finite and non-zero; `LinearAlgebraError/allocationTooLarge(what:bytes:limit:)` when θ
    ///   and its gradient (2N scalars) exceed what the process can allocate (see `MemoryLimit`).
    public init(dimension: Int, a: Scalar = 1, b: Scalar = 10) throws {
        guard dimension >= 1 else { throw TrainingError.invalidOption(name: "dimension", value: "\(dimension)", requirement: "≥ 1") }
        try MemoryLimit.require(MemoryLimit.product([2, dimension, MemoryLayout<Scalar>.stride]),
                                for: "θ and the gradient of \(dimension) parameters")
        for (name, v) in [("a", a), ("b", b)] where !(v.isFinite && v != 0) {
            throw TrainingError.invalidOption(name: name, value: "\(v)", requirement: "finite and non-zero")
        }
        self.dimension = dimension
        self.a = a
        self.b = b
    }

    public var name: String { "quadratic" }
    public var sampleCount: Int { 0 }
    public func initialParameters(seed: UInt64) -> [Scalar] { [Scalar](repeating: 1, count: dimension) }

    /// cᵢ for i in `range`, in Double, passed to `body` one by one.
    @inlinable
    func forEachCurvature(in range: Range<Int>, _ body: (Int, Scalar) -> Void) {
        let a2 = Double(a) * Double(a), b2 = Double(b) * Double(b)
        let n = dimension
        let r = b2 / a2, q = n > 1 ? Foundation.pow(r, 1 / Double(n - 1)) : 1
        var c = 0.0
        for i in range {
            // Re-anchored by pow every 4096 elements: the recurrence drifts < 10⁻¹² relative.
            if i == range.lowerBound || i & 4095 == 0 { c = a2 * Foundation.pow(r, Double(i) / Double(Swift.max(n - 1, 1))) }
            body(i, i == n - 1 && n > 1 ? Scalar(b2) : (i == 0 ? Scalar(a2) : Scalar(c)))
            c *= q
        }
    }

    /// The curvature cᵢ (for checks and plots). - Complexity: O(1).
    public func curvature(_ i: Int) -> Scalar {
        var result: Scalar = 0
        forEachCurvature(in: i..<(i + 1)) { _, c in result = c }
        return result
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        evaluate(θ, gradient: gradient)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        evaluate(θ, gradient: nil)
    }

    @inlinable
    func evaluate(_ θ: UnsafeBufferPointer<Scalar>, gradient: UnsafeMutableBufferPointer<Scalar>?) -> Scalar {
        let n = Swift.min(dimension, θ.count, gradient?.count ?? Int.max)
        guard n > 0, let t = θ.baseAddress else { return 0 }
        let g = gradient?.baseAddress
        let block = Self.block
        let blocks = (n + block - 1) / block
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks) { partial in
            let sums = partial.baseAddress!
            parallelChunks(count: blocks, minimumPerThread: 1) { r in
                for k in r {
                    var s = 0.0
                    forEachCurvature(in: (k * block)..<Swift.min((k + 1) * block, n)) { i, c in
                        let x = t[i]
                        s += Double(c * x * x)
                        if let g { g[i] = 2 * c * x }
                    }
                    sums[k] = s
                }
            }
            var total = 0.0
            for k in 0..<blocks { total += sums[k] }
            return Scalar(total)
        }
    }

    /// The Fisher diag(c) as the Jacobian diag(√c) of a Gaussian output, for N ≤ 4096.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        guard dimension <= 4096 else { return nil }
        var j = Matrix<Scalar>(checkedRows: dimension, columns: dimension)
        forEachCurvature(in: 0..<dimension) { i, c in j.elements[i * dimension + i] = c.squareRoot() }
        return OutputJacobian(jacobian: j, samples: 1, outputs: dimension, distribution: .gaussian(beta: 1))
    }
}
