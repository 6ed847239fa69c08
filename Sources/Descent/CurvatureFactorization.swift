// The solver state of ``NaturalGradient``: one type per factorization, each with the same
// three operations,
//
//     absorb(F, decay)    F̄ ← F, or F̄ ← βF̄ + (1 − β)F (the first curvature initializes F̄)
//     factor(damping: λ)  a candidate factor of F̄ + λI, built beside the committed one
//     solve(g)            x = (F̄ + λI)⁻¹ g with the candidate or the committed factor
//     commit()            the candidate becomes the factor
//
// so that a step that fails anywhere leaves the committed factor (and everything a checkpoint
// holds) as it was. The Levenberg–Marquardt policy (raise λ after a failed factorization, adapt
// it from the reduction ratio) lives in ``NaturalGradient``, outside them.

/// The outcome of one factorization attempt.
@usableFromInline
enum FactorOutcome: Equatable, Sendable {
    case success
    /// The leading minor of this order is not positive definite; `finitePivot` is false when
    /// its pivot was NaN or infinite (raising λ cannot help then).
    case notPositiveDefinite(order: Int, finitePivot: Bool)
}

/// Σᵢ |aᵢⱼ| maximized over i for the symmetric row-major n × n matrix whose lower triangle is
/// read (LAPACK's `lansy('I')`); `sums` is an n-vector of scratch.
/// - Complexity: n²/2 reads.
@inlinable
func symmetricInfinityNorm<T: BinaryFloatingPoint>(lower a: UnsafePointer<T>, order n: Int, sums: UnsafeMutablePointer<T>) -> T {
    for i in 0..<n { sums[i] = 0 }
    for i in 0..<n {
        let row = a + i * n
        var s: T = 0
        for j in 0..<i {
            let v = abs(row[j])
            s += v
            sums[j] += v
        }
        sums[i] += s + abs(row[i])
    }
    var m: T = 0
    for i in 0..<n where !(sums[i] <= m) { m = sums[i] }
    return m
}

/// Whether two matrices share their element storage (a weighted scratch handed out as a candidate).
@inlinable
func sameStorage<S>(_ a: Matrix<S>, _ b: Matrix<S>) -> Bool {
    guard !a.elements.isEmpty else { return false }
    return a.elements.withUnsafeBufferPointer { x in b.elements.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
}

/// The first diagonal element of the row-major n × n `a` that is not finite, 1-based, or 0.
@inlinable
func firstNonFinitePivot<T: BinaryFloatingPoint>(_ a: UnsafePointer<T>, order n: Int) -> Int {
    for i in 0..<n where !a[i * n + i].isFinite { return i + 1 }
    return 0
}

/// Interprets `potrf`'s info on `a` (row-major, pivots on the diagonal).
@inlinable
func factorOutcome<T: BinaryFloatingPoint>(info: Int, _ a: UnsafePointer<T>, order n: Int) -> FactorOutcome {
    if info > 0 {
        let pivot = a[(info - 1) * n + (info - 1)]
        return .notPositiveDefinite(order: info, finitePivot: pivot.isFinite)
    }
    if info < 0 { return .notPositiveDefinite(order: 0, finitePivot: false) }
    // OpenBLAS passes a NaN pivot (NaN ≤ 0 is false): a NaN or infinity anywhere in the
    // matrix reaches the pivot of its column.
    let bad = firstNonFinitePivot(a, order: n)
    return bad == 0 ? .success : .notPositiveDefinite(order: bad, finitePivot: false)
}

// MARK: - Diagonal

/// A diagonal metric G = diag(d) (or its moving average): F̃ = diag(d + λ), solved element-wise.
/// - Complexity: O(n) per operation.
@usableFromInline
struct DiagonalFactorization<Scalar: BLASScalar>: Codable, Sendable, Equatable {
    /// d, or its moving average.
    @usableFromInline var curvature: [Scalar]
    /// d + λ of the committed factor, empty before the first.
    @usableFromInline var factor: [Scalar] = []
    /// The candidate (scratch, not part of the state).
    @usableFromInline var candidate: [Scalar] = []

    @usableFromInline enum CodingKeys: String, CodingKey { case curvature, factor }

    @usableFromInline init(curvature: [Scalar]) { self.curvature = curvature }

    @usableFromInline var order: Int { curvature.count }

    @usableFromInline static func == (a: Self, b: Self) -> Bool { a.curvature == b.curvature && a.factor == b.factor }

    /// d̄ ← d (decay nil) or βd̄ + (1 − β)d.
    @inlinable mutating func absorb(_ d: [Scalar], decay: Scalar?) {
        guard let beta = decay else { curvature = d; return }
        let alpha = 1 - beta
        curvature.withUnsafeMutableBufferPointer { c in
            d.withUnsafeBufferPointer { s in
                for i in 0..<c.count { c[i] = beta * c[i] + alpha * s[i] }
            }
        }
    }

    @inlinable var trace: Scalar { curvature.reduce(0, +) }

    /// candidate ← d̄ + λ, every element required positive and finite.
    @inlinable mutating func factor(damping lambda: Scalar) -> FactorOutcome {
        let n = curvature.count
        if candidate.count != n { candidate = Array(repeating: 0, count: n) }
        var bad: (Int, Bool)? = nil
        curvature.withUnsafeBufferPointer { d in
            candidate.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    let v = d[i] + lambda
                    out[i] = v
                    if bad == nil, !(v > 0 && v.isFinite) { bad = (i + 1, d[i].isFinite) }
                }
            }
        }
        guard let (order, finite) = bad else { return .success }
        return .notPositiveDefinite(order: order, finitePivot: finite)
    }

    /// x ← g ⊘ (d̄ + λ).
    @inlinable func solve(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int, candidate useCandidate: Bool) {
        (useCandidate ? candidate : factor).withUnsafeBufferPointer { f in
            for i in 0..<n { x[i] = g[i] / f[i] }
        }
    }

    @inlinable mutating func commit() { swap(&factor, &candidate) }

    func validate(count n: Int) throws {
        guard curvature.count == n, factor.isEmpty || factor.count == n else {
            throw OptimizerError.corruptCheckpoint("diagonal curvature has \(curvature.count) elements and its factor \(factor.count), expected \(n)")
        }
        if let i = curvature.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            throw OptimizerError.corruptCheckpoint("diagonal curvature element \(i) is \(curvature[i])")
        }
        for (i, v) in factor.enumerated() where !(v > 0 && v.isFinite) {
            throw OptimizerError.corruptCheckpoint("diagonal factor element \(i) is \(v), not positive and finite")
        }
    }
}

// MARK: - Dense Cholesky

/// The precision a dense factor was computed in.
public enum CholeskyPrecision: String, Codable, Sendable, Equatable {
    /// The optimizer's own scalar type (`potrf` in Double for Double).
    case working
    /// A Float factor (`spotrf`) with iterative refinement in the working precision.
    case mixed
}

/// A dense n × n F̄ + λI factored by Cholesky, F̃ = LLᵀ (L in the lower triangle of a row-major
/// buffer = LAPACK's column-major upper one, no transposition).
///
/// The estimate F̄ is either a matrix (`matrix`: the caller's metric or Fisher by reference, or
/// the moving average, lower triangle read) or a sample form F = UᵀU (`source`, by reference,
/// formed with one `syrk` at factor time).
///
/// Mixed precision (Double only): the candidate F̃ is formed and factored in Float (`ssyrk` from
/// Float rows, or the matrix rounded to Float; `spotrf`), and every solve refines in Double as
/// LAPACK's `dsposv` does: x ← F̃_f⁻¹g, then while ‖r‖∞ > √n·ε·‖F̃‖∞·‖x‖∞ with r = g − F̃x
/// (in Double: Sᵀ(Sx)·s² + λx by two `gemv`, or `symv` on the matrix), x ← x + F̃_f⁻¹r, at
/// most 30 corrections; if it does not converge (or `spotrf` fails) the caller falls back to
/// the working-precision factor.
///
/// - Complexity: factor n³/3 flops (+ rn² for the `syrk` of a sample form), in Float for the
///   mixed precision; solve 2n² (working) or (2n² in Float + 4rn or 2n² in Double) per
///   refinement iteration. Memory: n² scalars per factor (committed and candidate), Float n²
///   each in mixed precision, plus the n × n average when one is kept.
@usableFromInline
struct DenseCholeskyFactorization<Scalar: BLASScalar>: Codable, Sendable {
    @usableFromInline var order: Int
    /// F̄ as a matrix (lower triangle read), or nil when `source` holds a sample form.
    @usableFromInline var matrix: Matrix<Scalar>?
    /// F̄ = UᵀU as a sample form, kept by reference.
    @usableFromInline var source: Curvature<Scalar>?

    // The committed factor.
    @usableFromInline var precision: CholeskyPrecision? = nil
    /// L of F̃ (working precision), n × n, or empty.
    @usableFromInline var factor: [Scalar] = []
    /// L of F̃ in Float (mixed precision), n × n, or empty.
    @usableFromInline var single: [Float] = []
    /// The weighted rows U/s of the sample form the mixed factor was built from (the exact
    /// operator of the refinement), and s. Empty for the matrix form.
    @usableFromInline var rows: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var rowsScale: Scalar = 0
    /// ‖F̃‖∞ of the mixed factor (the refinement's stop rule).
    @usableFromInline var norm: Scalar = 0

    // The candidate and scratch: not part of the state.
    @usableFromInline var candidatePrecision: CholeskyPrecision? = nil
    @usableFromInline var candidateFactor: [Scalar] = []
    @usableFromInline var candidateSingle: [Float] = []
    @usableFromInline var candidateRows: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var candidateRowsScale: Scalar = 0
    @usableFromInline var candidateNorm: Scalar = 0
    @usableFromInline var weighted: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var singleRows: [Float] = []
    @usableFromInline var residual: [Scalar] = []
    @usableFromInline var correction: [Float] = []
    @usableFromInline var projection: [Scalar] = []
    /// Refinement iterations of the last mixed solve.
    @usableFromInline var lastIterations: Int = 0

    @usableFromInline enum CodingKeys: String, CodingKey { case order, matrix, source, precision, factor, single, rows, rowsScale, norm }

    @usableFromInline init(order n: Int) { order = n }

    /// tr F̄ (for the damping floor).
    @inlinable var trace: Scalar {
        let n = order
        if let m = matrix {
            return m.elements.withUnsafeBufferPointer { e in (0..<n).reduce(0) { $0 + e[$1 * n + $1] } }
        }
        guard let c = source else { return 0 }
        // tr UᵀU = s² ‖BA‖²_F, through the weighted rows.
        let u = LowRankCurvature(c)
        let a = u.weightedRows()
        return a.elements.withUnsafeBufferPointer { e in
            e.isEmpty ? 0 : u.scale * u.scale * Scalar.dot(count: e.count, x: e.baseAddress!, incx: 1, y: e.baseAddress!, incy: 1)
        }
    }

    /// F̄ ← F (decay nil) or F̄ ← βF̄ + (1 − β)F (β = `decay`, `first` initializes: F̄ ← F).
    /// A sample form without decay is kept by reference; otherwise it is folded with one `syrk`.
    /// - Complexity: O(1) by reference; O(n²) for a matrix, O(rn²) for a sample form.
    @inlinable mutating func absorb(_ c: Curvature<Scalar>, decay: Scalar?, first: Bool) {
        let n = order
        switch c {
        case let .metric(g), let .fisher(g):
            guard let beta = decay, !first else { matrix = g; source = nil; return }
            var m = matrix ?? Matrix(checkedRows: n, columns: n)
            matrix = nil
            m.elements.withUnsafeMutableBufferPointer { mb in
                g.elements.withUnsafeBufferPointer { gb in
                    let a = mb.baseAddress!, f = gb.baseAddress!
                    for i in 0..<n { Scalar.axpby(count: i + 1, alpha: 1 - beta, x: f + i * n, incx: 1, beta: beta, y: a + i * n, incy: 1) }
                }
            }
            matrix = m
        case .diagonalMetric:
            return
        default:
            guard let beta = decay else { source = c; matrix = nil; return }
            var m = matrix ?? Matrix(checkedRows: n, columns: n)
            matrix = nil
            source = nil
            let u = LowRankCurvature(c)
            let a = weightedRows(u)
            let alpha: Scalar = first ? 1 : 1 - beta
            a.elements.withUnsafeBufferPointer { ab in
                m.elements.withUnsafeMutableBufferPointer { mb in
                    Scalar.syrk(triangle: .lower, transpose: .transpose, n: n, k: a.rows, alpha: alpha * u.scale * u.scale,
                                a: ab.baseAddress!, lda: n, beta: first ? 0 : beta, c: mb.baseAddress!, ldc: n)
                }
            }
            matrix = m
        }
    }

    /// BA of a sample form: the caller's rows (no copy) or the weighted copy in `weighted`.
    @inlinable mutating func weightedRows(_ u: LowRankCurvature<Scalar>) -> Matrix<Scalar> {
        guard u.isWeighted else { return u.rows }
        let a = u.rows
        if weighted.rows != a.rows || weighted.columns != a.columns { weighted = Matrix(checkedRows: a.rows, columns: a.columns) }
        weighted.elements.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { u.writeWeightedRows(to: b) } }
        return weighted
    }

    /// A candidate factor of F̄ + λI in `precision` (mixed means working precision for Float).
    @inlinable mutating func factor(damping lambda: Scalar, precision wanted: CholeskyPrecision) -> FactorOutcome {
        let n = order
        if wanted == .mixed && Scalar.self == Double.self {
            return factorMixed(damping: lambda)
        }
        if candidateFactor.count != n * n { candidateFactor = Array(repeating: 0, count: n * n) }
        var out = candidateFactor; candidateFactor = []
        defer { candidateFactor = out }
        if let m = matrix {
            m.elements.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    Scalar.copy(count: n * n, x: src.baseAddress!, incx: 1, y: dst.baseAddress!, incy: 1)
                }
            }
        } else if let c = source {
            let u = LowRankCurvature(c)
            let a = weightedRows(u)
            a.elements.withUnsafeBufferPointer { ab in
                out.withUnsafeMutableBufferPointer { dst in
                    Scalar.syrk(triangle: .lower, transpose: .transpose, n: n, k: a.rows, alpha: u.scale * u.scale,
                                a: ab.baseAddress!, lda: n, beta: 0, c: dst.baseAddress!, ldc: n)
                }
            }
        }
        let outcome: FactorOutcome = out.withUnsafeMutableBufferPointer { b in
            let p = b.baseAddress!
            for i in 0..<n { p[i * n + i] += lambda }
            let info = Scalar.potrf(triangle: .lower, n: n, a: p, lda: n)
            return factorOutcome(info: info, p, order: n)
        }
        candidatePrecision = outcome == .success ? .working : nil
        return outcome
    }

    /// The Float candidate: F̃ rounded to Float (or `ssyrk` of Float rows), ‖F̃‖∞, `spotrf`.
    @inlinable mutating func factorMixed(damping lambda: Scalar) -> FactorOutcome {
        let n = order
        if candidateSingle.count != n * n { candidateSingle = Array(repeating: 0, count: n * n) }
        if residual.count < n { residual = Array(repeating: 0, count: n) }
        var out = candidateSingle; candidateSingle = []
        defer { candidateSingle = out }
        candidateRows = Matrix(checkedRows: 0, columns: 0)
        if let m = matrix {
            candidateRowsScale = 0
            m.elements.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    residual.withUnsafeMutableBufferPointer { sums in
                        let s = src.baseAddress!, d = dst.baseAddress!
                        for i in 0..<n {
                            for j in 0..<i { d[i * n + j] = Float(s[i * n + j]) }
                            d[i * n + i] = Float(s[i * n + i] + lambda)
                        }
                        candidateNorm = symmetricInfinityNorm(lower: s, order: n, sums: sums.baseAddress!) + Swift.abs(lambda)
                    }
                }
            }
        } else if let c = source {
            let u = LowRankCurvature(c)
            let a = weightedRows(u)
            // Keep the rows the refinement will apply (by reference when unweighted).
            candidateRows = a
            candidateRowsScale = u.scale
            let r = a.rows
            if singleRows.count != r * n { singleRows = Array(repeating: 0, count: r * n) }
            a.elements.withUnsafeBufferPointer { ab in
                singleRows.withUnsafeMutableBufferPointer { fb in
                    for i in 0..<(r * n) { fb[i] = Float(ab[i]) }
                }
            }
            var sums = [Float](); swap(&sums, &correction)
            if sums.count < n { sums = Array(repeating: 0, count: n) }
            defer { swap(&sums, &correction) }
            singleRows.withUnsafeBufferPointer { fb in
                out.withUnsafeMutableBufferPointer { dst in
                    sums.withUnsafeMutableBufferPointer { sb in
                        let d = dst.baseAddress!
                        Float.syrk(triangle: .lower, transpose: .transpose, n: n, k: r, alpha: Float(u.scale * u.scale),
                                   a: fb.baseAddress!, lda: n, beta: 0, c: d, ldc: n)
                        for i in 0..<n { d[i * n + i] += Float(lambda) }
                        candidateNorm = Scalar(symmetricInfinityNorm(lower: d, order: n, sums: sb.baseAddress!))
                    }
                }
            }
        }
        let outcome: FactorOutcome = out.withUnsafeMutableBufferPointer { b in
            let p = b.baseAddress!
            let info = Float.potrf(triangle: .lower, n: n, a: p, lda: n)
            return factorOutcome(info: info, p, order: n)
        }
        candidatePrecision = outcome == .success ? .mixed : nil
        return outcome
    }

    /// x ← F̃⁻¹g with the candidate or the committed factor. Returns false when the mixed
    /// refinement did not converge in 30 corrections (x then holds the last iterate): the
    /// caller factors in the working precision instead.
    @inlinable mutating func solve(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int,
                                   damping lambda: Scalar, candidate useCandidate: Bool) -> Bool {
        let p = useCandidate ? candidatePrecision : precision
        if p == .working {
            Scalar.copy(count: n, x: g, incx: 1, y: x, incy: 1)
            (useCandidate ? candidateFactor : factor).withUnsafeBufferPointer { f in
                _ = Scalar.potrs(triangle: .lower, n: n, nrhs: 1, a: f.baseAddress!, lda: n, b: x, ldb: 1)
            }
            lastIterations = 0
            return true
        }
        return refine(g, into: x, count: n, damping: lambda, candidate: useCandidate)
    }

    /// The `dsposv` iteration with the Float factor.
    @inlinable mutating func refine(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int,
                                    damping lambda: Scalar, candidate useCandidate: Bool) -> Bool {
        if residual.count < n { residual = Array(repeating: 0, count: n) }
        if correction.count < n { correction = Array(repeating: 0, count: n) }
        var l = useCandidate ? candidateSingle : single
        let a = useCandidate ? candidateRows : rows
        let s = useCandidate ? candidateRowsScale : rowsScale
        let anorm = useCandidate ? candidateNorm : norm
        if projection.count < a.rows { projection = Array(repeating: 0, count: a.rows) }
        var r = residual; residual = []
        var c = correction; correction = []
        var v = projection; projection = []
        defer { residual = r; correction = c; projection = v; if useCandidate { candidateSingle = l } else { single = l } }
        if useCandidate { candidateSingle = [] } else { single = [] }
        let matrixForm = matrix
        let threshold = Scalar(n).squareRoot() * (Scalar.ulpOfOne / 2) * anorm
        var converged = false
        var iterations = 0
        l.withUnsafeMutableBufferPointer { lb in
            r.withUnsafeMutableBufferPointer { rb in
                c.withUnsafeMutableBufferPointer { cb in
                    v.withUnsafeMutableBufferPointer { vb in
                        let lf = lb.baseAddress!, res = rb.baseAddress!, cor = cb.baseAddress!
                        // x ← F̃_f⁻¹ g.
                        for i in 0..<n { cor[i] = Float(g[i]) }
                        _ = Float.potrs(triangle: .lower, n: n, nrhs: 1, a: lf, lda: n, b: cor, ldb: 1)
                        for i in 0..<n { x[i] = Scalar(cor[i]) }
                        while true {
                            // r ← g − F̃x in the working precision.
                            Scalar.copy(count: n, x: g, incx: 1, y: res, incy: 1)
                            if let m = matrixForm {
                                m.elements.withUnsafeBufferPointer { mb in
                                    Scalar.symv(triangle: .lower, n: n, alpha: -1, a: mb.baseAddress!, lda: n, x: x, incx: 1,
                                                beta: 1, y: res, incy: 1)
                                }
                            } else if a.rows > 0 {
                                a.elements.withUnsafeBufferPointer { ab in
                                    let u = ab.baseAddress!, w = vb.baseAddress!
                                    Scalar.gemv(transpose: .none, rows: a.rows, columns: n, alpha: 1, a: u, lda: n, x: x, incx: 1,
                                                beta: 0, y: w, incy: 1)
                                    Scalar.gemv(transpose: .transpose, rows: a.rows, columns: n, alpha: -s * s, a: u, lda: n,
                                                x: w, incx: 1, beta: 1, y: res, incy: 1)
                                }
                            }
                            Scalar.axpy(count: n, alpha: -lambda, x: x, incx: 1, y: res, incy: 1)
                            var rmax: Scalar = 0, xmax: Scalar = 0
                            for i in 0..<n {
                                let ri = Swift.abs(res[i]), xi = Swift.abs(x[i])
                                if !(ri <= rmax) { rmax = ri }
                                if !(xi <= xmax) { xmax = xi }
                            }
                            if rmax <= threshold * xmax { converged = true; break }
                            if iterations == 30 || !rmax.isFinite { break }
                            iterations += 1
                            for i in 0..<n { cor[i] = Float(res[i]) }
                            _ = Float.potrs(triangle: .lower, n: n, nrhs: 1, a: lf, lda: n, b: cor, ldb: 1)
                            for i in 0..<n { x[i] += Scalar(cor[i]) }
                        }
                    }
                }
            }
        }
        lastIterations = iterations
        return converged
    }

    /// The candidate becomes the committed factor.
    @inlinable mutating func commit() {
        precision = candidatePrecision
        candidatePrecision = nil
        if precision == .mixed {
            swap(&single, &candidateSingle)
            if sameStorage(candidateRows, weighted) { swap(&rows, &weighted) } else { rows = candidateRows }
            rowsScale = candidateRowsScale
            norm = candidateNorm
            candidateRows = Matrix(checkedRows: 0, columns: 0)
            if !factor.isEmpty { factor = [] }
        } else {
            swap(&factor, &candidateFactor)
            if !single.isEmpty { single = [] }
            rows = Matrix(checkedRows: 0, columns: 0)
            rowsScale = 0
            norm = 0
        }
    }

    func validate(count n: Int) throws {
        guard order == n else { throw OptimizerError.corruptCheckpoint("dense curvature of order \(order) for \(n) parameters") }
        let n2 = n.multipliedReportingOverflow(by: n)
        guard !n2.overflow else { throw OptimizerError.corruptCheckpoint("dense curvature of order \(n) overflows") }
        if let m = matrix {
            guard m.rows == n, m.columns == n, m.elements.count == n2.partialValue else {
                throw OptimizerError.corruptCheckpoint("dense curvature is \(m.rows) × \(m.columns) with \(m.elements.count) elements, expected \(n) × \(n)")
            }
            if let i = m.elements.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("dense curvature element \(i) is \(m.elements[i])")
            }
        } else if let c = source {
            do { try c.validate(parameterCount: n) } catch {
                throw OptimizerError.corruptCheckpoint("sample-form curvature: \(error)")
            }
            guard c.rank != nil else { throw OptimizerError.corruptCheckpoint("dense source is a \(c.name), not a sample form") }
        } else if precision == nil {
            throw OptimizerError.corruptCheckpoint("dense solver without a curvature")
        }
        switch precision {
        case nil:
            guard factor.isEmpty, single.isEmpty else { throw OptimizerError.corruptCheckpoint("a dense factor is stored but no precision") }
        case .working?:
            guard factor.count == n2.partialValue, single.isEmpty else {
                throw OptimizerError.corruptCheckpoint("dense factor has \(factor.count) elements, expected \(n2.partialValue)")
            }
            if let i = factor.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("dense factor element \(i) is \(factor[i])")
            }
        case .mixed?:
            guard single.count == n2.partialValue, factor.isEmpty else {
                throw OptimizerError.corruptCheckpoint("mixed-precision factor has \(single.count) elements, expected \(n2.partialValue)")
            }
            if let i = single.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("mixed-precision factor element \(i) is \(single[i])")
            }
            guard norm.isFinite, norm >= 0, rowsScale.isFinite,
                  rows.elements.count == rows.rows * rows.columns, rows.rows == 0 || rows.columns == n else {
                throw OptimizerError.corruptCheckpoint("mixed-precision refinement rows \(rows.rows) × \(rows.columns) (\(rows.elements.count) elements), scale \(rowsScale), norm \(norm) for \(n) parameters")
            }
            guard rows.rows > 0 || matrix != nil else {
                throw OptimizerError.corruptCheckpoint("mixed-precision factor without the operator it refines against")
            }
            if let i = rows.elements.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("mixed-precision refinement row element \(i) is \(rows.elements[i])")
            }
        }
    }
}

// MARK: - Woodbury

/// A sample-form F = UᵀU of r < n rows (U = s·BA) solved through the Woodbury identity:
///
///     (λI + UᵀU)⁻¹g = (g − Uᵀ(λI + UUᵀ)⁻¹Ug)/λ
///
/// with one r × r Cholesky factor of W = λI + s²(BA)(BA)ᵀ and two `gemv`s; never forms an
/// n × n matrix. Keeps the latest sample form (`source`, by reference) and, with the factor,
/// the rows it was built from.
/// - Complexity: factor r²n + r³/3 flops, solve 4rn + 2r²; memory r² per factor and a
///   weighted copy of the rows for the Bernoulli and categorical forms.
@usableFromInline
struct WoodburyFactorization<Scalar: BLASScalar>: Codable, Sendable {
    @usableFromInline var order: Int
    @usableFromInline var source: Curvature<Scalar>?
    /// BA and s of the committed factor.
    @usableFromInline var rows: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var rowsScale: Scalar = 0
    /// L of W, r × r, or empty.
    @usableFromInline var factor: [Scalar] = []

    @usableFromInline var candidateRows: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var candidateScale: Scalar = 0
    @usableFromInline var candidateFactor: [Scalar] = []
    @usableFromInline var weighted: Matrix<Scalar> = Matrix(checkedRows: 0, columns: 0)
    @usableFromInline var projection: [Scalar] = []

    @usableFromInline enum CodingKeys: String, CodingKey { case order, source, rows, rowsScale, factor }

    @usableFromInline init(order n: Int) { order = n }

    @inlinable var trace: Scalar {
        guard let c = source else { return 0 }
        let u = LowRankCurvature(c)
        let a = u.weightedRows()
        return a.elements.withUnsafeBufferPointer { e in
            e.isEmpty ? 0 : u.scale * u.scale * Scalar.dot(count: e.count, x: e.baseAddress!, incx: 1, y: e.baseAddress!, incy: 1)
        }
    }

    @inlinable mutating func absorb(_ c: Curvature<Scalar>) { source = c }

    /// A candidate factor of W = λI + s²(BA)(BA)ᵀ (λ > 0).
    @inlinable mutating func factor(damping lambda: Scalar) -> FactorOutcome {
        guard let c = source else { return .notPositiveDefinite(order: 0, finitePivot: false) }
        let n = order
        let u = LowRankCurvature(c)
        let a: Matrix<Scalar>
        candidateRows = Matrix(checkedRows: 0, columns: 0)
        if u.isWeighted {
            let src = u.rows
            if weighted.rows != src.rows || weighted.columns != src.columns { weighted = Matrix(checkedRows: src.rows, columns: src.columns) }
            weighted.elements.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { u.writeWeightedRows(to: b) } }
            a = weighted
        } else {
            a = u.rows
        }
        let r = a.rows
        candidateRows = a
        candidateScale = u.scale
        if candidateFactor.count != r * r { candidateFactor = Array(repeating: 0, count: r * r) }
        var out = candidateFactor; candidateFactor = []
        defer { candidateFactor = out }
        return a.elements.withUnsafeBufferPointer { ab in
            out.withUnsafeMutableBufferPointer { b in
                let p = b.baseAddress!
                Scalar.syrk(triangle: .lower, transpose: .none, n: r, k: n, alpha: u.scale * u.scale, a: ab.baseAddress!,
                            lda: n, beta: 0, c: p, ldc: r)
                for i in 0..<r { p[i * r + i] += lambda }
                let info = Scalar.potrf(triangle: .lower, n: r, a: p, lda: r)
                return factorOutcome(info: info, p, order: r)
            }
        }
    }

    /// x = (g − s²(BA)ᵀ W⁻¹ (BA) g)/λ.
    @inlinable mutating func solve(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int,
                                   damping lambda: Scalar, candidate useCandidate: Bool) {
        let a = useCandidate ? candidateRows : rows
        let s = useCandidate ? candidateScale : rowsScale
        let r = a.rows
        if projection.count < r { projection = Array(repeating: 0, count: r) }
        var v = projection; projection = []
        defer { projection = v }
        a.elements.withUnsafeBufferPointer { ab in
            (useCandidate ? candidateFactor : factor).withUnsafeBufferPointer { fb in
                v.withUnsafeMutableBufferPointer { vb in
                    let u = ab.baseAddress!, w = vb.baseAddress!
                    Scalar.gemv(transpose: .none, rows: r, columns: n, alpha: 1, a: u, lda: n, x: g, incx: 1, beta: 0, y: w, incy: 1)
                    _ = Scalar.potrs(triangle: .lower, n: r, nrhs: 1, a: fb.baseAddress!, lda: r, b: w, ldb: 1)
                    Scalar.copy(count: n, x: g, incx: 1, y: x, incy: 1)
                    Scalar.scal(count: n, alpha: 1 / lambda, x: x, incx: 1)
                    Scalar.gemv(transpose: .transpose, rows: r, columns: n, alpha: -s * s / lambda, a: u, lda: n, x: w, incx: 1,
                                beta: 1, y: x, incy: 1)
                }
            }
        }
    }

    @inlinable mutating func commit() {
        swap(&factor, &candidateFactor)
        // Swap the owned weighted buffer in, so that the next weighted candidate reuses the old one.
        if sameStorage(candidateRows, weighted) { swap(&rows, &weighted) } else { rows = candidateRows }
        candidateRows = Matrix(checkedRows: 0, columns: 0)
        rowsScale = candidateScale
    }

    func validate(count n: Int) throws {
        guard order == n else { throw OptimizerError.corruptCheckpoint("Woodbury curvature of order \(order) for \(n) parameters") }
        if let c = source {
            do { try c.validate(parameterCount: n) } catch {
                throw OptimizerError.corruptCheckpoint("Woodbury curvature: \(error)")
            }
            guard c.rank != nil else { throw OptimizerError.corruptCheckpoint("Woodbury source is a \(c.name), not a sample form") }
        }
        let r = rows.rows
        guard rows.elements.count == r * rows.columns, r == 0 || rows.columns == n, factor.count == r * r, rowsScale.isFinite else {
            throw OptimizerError.corruptCheckpoint("Woodbury rows \(rows.rows) × \(rows.columns) (\(rows.elements.count) elements), factor of \(factor.count) elements, scale \(rowsScale) for \(n) parameters")
        }
        guard source != nil || r > 0 else { throw OptimizerError.corruptCheckpoint("Woodbury solver without a curvature") }
        if let i = rows.elements.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            throw OptimizerError.corruptCheckpoint("Woodbury row element \(i) is \(rows.elements[i])")
        }
        if let i = factor.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            throw OptimizerError.corruptCheckpoint("Woodbury factor element \(i) is \(factor[i])")
        }
    }
}
