/// The natural gradient (Amari, 1998), the lecture's steepest descent in the metric of a
/// curvature F (a metric G or a Fisher information matrix):
///
///     F̃ = F̄ + λI                                     (F̄: the curvature, or its moving average)
///     δθ = −η F̃⁻¹ ∇L                                  (default)
///     δθ = −√(ε / (∇Lᵀ F̃⁻¹ ∇L)) F̃⁻¹ ∇L                (with `stepLength` ε: δθᵀF̃δθ = ε)
///
/// The second form solves the lecture's constrained problem min ∇Lᵀδθ s.t. ‖δθ‖²_F̃ = ε; for a
/// KL radius δ, KL ≈ ½ δθᵀFδθ gives ε = 2δ. With it, `learningRate` is not used.
///
/// The caller supplies F through ``setCurvature(_:)`` (see ``Curvature`` for the forms) before a
/// step that needs it (``needsCurvature``): every step by default, or every `refreshInterval`
/// steps, the factor being reused in between. With `curvatureDecay` β the curvatures are
/// averaged, F̄ ← βF̄ + (1 − β)F at each ``setCurvature(_:)`` (the first one initializes F̄),
/// as in K-FAC.
///
/// Solve: Cholesky (LAPACK `potrf` + `potrs`) of the n × n F̃, or, for a curvature F = UᵀU of
/// r < n rows, the Woodbury identity (λI + UᵀU)⁻¹g = (g − Uᵀ(λI + UUᵀ)⁻¹Ug)/λ with one r × r
/// Cholesky and two `gemv`s (see ``NaturalGradientSolver``). If `potrf` finds F̃ not positive
/// definite, λ is raised tenfold (from 10⁻⁶·tr(F)/n when λ = 0) up to `maximumDampingRetries`
/// times; then the step throws ``NaturalGradientError/notPositiveDefinite(order:lastDamping:attempts:)``
/// with the parameters untouched. A new λ (Levenberg–Marquardt, or a changed ``damping``)
/// refactors the kept curvature without a new ``setCurvature(_:)``.
///
/// Damping: ``Damping/fixed(_:)`` or ``Damping/levenbergMarquardt(initial:factor:minimum:maximum:)``
/// adapted from ``reportLoss(before:after:)``.
///
/// Defaults: η = 1, λ = 10⁻³ fixed, no step length, refresh every step, no averaging,
/// automatic solver, 8 damping retries. PyTorch has no natural-gradient optimizer; the
/// closest peers (K-FAC implementations) differ in how the curvature is estimated, not in
/// this update.
///
/// Memory: the Cholesky path keeps one n × n buffer (the factor in its upper triangle, F̄ in
/// its lower one) and n-vectors; the Woodbury path keeps an r × r buffer, a reference to the
/// caller's r × n matrix (a weighted copy for the Bernoulli and categorical forms) and
/// n-vectors. After the first step of a given shape a step allocates nothing (the Cholesky
/// calls go to LAPACK's column-major routines on the symmetric buffer, avoiding LAPACKE's
/// transposed row-major copy; see `NaturalGradientCholesky`).
/// A checkpoint holds all of this state, so it is O(n²) or O(rn) scalars.
///
/// - Complexity: per (re)factoring step, Cholesky O(rn² + n³/3) (r the rows of U, or a copy of
///   an n × n matrix), Woodbury O(r²n + r³/3); per step 2n² (Cholesky) or 4rn (Woodbury) flops
///   for the solve, O(n) for a diagonal metric.
public struct NaturalGradient<Scalar: BLASScalar>: Optimizer {
    public static var kind: String { "natural" }

    /// η ≥ 0, the step size when `stepLength` is nil.
    public var learningRate: Scalar
    /// λ: fixed or Levenberg–Marquardt.
    public var damping: Damping<Scalar>
    /// ε > 0 of the constrained step δθᵀF̃δθ = ε, or nil for δθ = −ηF̃⁻¹∇L.
    public var stepLength: Scalar?
    /// Factor a new curvature every this many steps (≥ 1), reusing the factor in between.
    public var refreshInterval: Int
    /// β ∈ [0, 1) of the curvature moving average, or nil to use each curvature as given.
    public var curvatureDecay: Scalar?
    /// Cholesky, Woodbury or automatic.
    public var solver: NaturalGradientSolver
    /// How many times a failed factorization is retried with λ raised tenfold (≥ 0).
    public var maximumDampingRetries: Int
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }

    @usableFromInline enum Path: String, Codable, Sendable { case none, dense, lowRank, diagonal }

    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// n, once known.
    @usableFromInline var count: Int? = nil
    /// The adapted λ of Levenberg–Marquardt damping (nil: not yet adapted).
    @usableFromInline var lambda: Scalar? = nil
    @usableFromInline var path: Path = .none
    /// r × r: upper = Cholesky factor of M + λI, strictly lower = M; n-vector (d + λ) on the diagonal path.
    @usableFromInline var buffer: [Scalar] = []
    /// diag(M), or the diagonal metric (average).
    @usableFromInline var diagonal: [Scalar] = []
    /// Woodbury: the rows A of U = s·A (the caller's matrix, or B·A in `rowsOwned` storage).
    @usableFromInline var rows: Matrix<Scalar> = Matrix(rows: 0, columns: 0)
    @usableFromInline var rowsScale: Scalar = 0
    @usableFromInline var rowsOwned: Bool = false
    @usableFromInline var factorValid: Bool = false
    /// λ in the factor, and the λ requested when it was made.
    @usableFromInline var factorDamping: Scalar = 0
    @usableFromInline var factorRequest: Scalar = 0
    /// M changed since the factorization.
    @usableFromInline var dirty: Bool = false
    /// M holds a curvature (with a moving average: the average has been started).
    @usableFromInline var hasCurvature: Bool = false
    @usableFromInline var sinceRefresh: Int? = nil
    @usableFromInline var pending: Curvature<Scalar>? = nil
    @usableFromInline var prediction: Scalar? = nil
    @usableFromInline var ratio: Scalar? = nil
    // Scratch, not part of the state.
    @usableFromInline var direction: [Scalar] = []
    @usableFromInline var scratch: [Scalar] = []

    /// - Parameters:
    ///   - learningRate: η ≥ 0 (default 1: Fisher scoring / Gauss–Newton).
    ///   - damping: λ (default fixed 10⁻³).
    ///   - stepLength: ε > 0 of the constrained step (a KL radius δ gives ε = 2δ), or nil.
    ///   - refreshInterval: steps between factorizations (default 1).
    ///   - curvatureDecay: β ∈ [0, 1) of the curvature moving average, or nil (default).
    ///   - solver: default ``NaturalGradientSolver/automatic``.
    ///   - maximumDampingRetries: default 8.
    ///   - nonFiniteGradientPolicy: what a non-finite gradient does (default: throw).
    public init(learningRate: Scalar = 1, damping: Damping<Scalar> = .fixed(1e-3), stepLength: Scalar? = nil,
                refreshInterval: Int = 1, curvatureDecay: Scalar? = nil, solver: NaturalGradientSolver = .automatic,
                maximumDampingRetries: Int = 8, nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.damping = damping
        self.stepLength = stepLength
        self.refreshInterval = refreshInterval
        self.curvatureDecay = curvatureDecay
        self.solver = solver
        self.maximumDampingRetries = maximumDampingRetries
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @usableFromInline enum CodingKeys: String, CodingKey {
        case learningRate, damping, stepLength, refreshInterval, curvatureDecay, solver, maximumDampingRetries,
             nonFiniteGradientPolicy, t, skipped, count, lambda, path, buffer, diagonal, rows, rowsScale, rowsOwned,
             factorValid, factorDamping, factorRequest, dirty, hasCurvature, sinceRefresh, pending, prediction, ratio
    }

    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try damping.validate()
        if let stepLength { try Hyperparameter.positive("stepLength", stepLength) }
        guard refreshInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "refreshInterval", value: "\(refreshInterval)", requirement: "≥ 1")
        }
        if let curvatureDecay { try Hyperparameter.halfOpenUnit("curvatureDecay", curvatureDecay) }
        guard maximumDampingRetries >= 0 else {
            throw OptimizerError.invalidHyperparameter(name: "maximumDampingRetries", value: "\(maximumDampingRetries)", requirement: "≥ 0")
        }
        if solver == .woodbury, curvatureDecay != nil {
            throw OptimizerError.invalidHyperparameter(name: "solver", value: "woodbury", requirement: "not combined with curvatureDecay (an average of low-rank curvatures is not low rank)")
        }
    }

    /// Checks a decoded state: counters, and buffer sizes consistent with the solver path.
    public func validateState() throws {
        guard t >= 0, skipped >= 0, (sinceRefresh ?? 0) >= 0 else {
            throw OptimizerError.corruptCheckpoint("negative step count (t = \(t), skipped = \(skipped), since refresh = \(sinceRefresh ?? 0))")
        }
        if factorValid || hasCurvature, path == .none {
            throw OptimizerError.corruptCheckpoint("a factor or curvature is recorded but no solver path")
        }
        let r: Int
        switch path {
        case .none:
            guard buffer.isEmpty, diagonal.isEmpty else { throw OptimizerError.corruptCheckpoint("curvature buffers without a solver path") }
            return
        case .diagonal, .dense:
            r = diagonal.count
            if let count, count != r {
                throw OptimizerError.corruptCheckpoint("curvature for \(r) parameters, state for \(count)")
            }
            let expected = path == .diagonal ? r : r * r
            guard buffer.count == expected else {
                throw OptimizerError.corruptCheckpoint("factor buffer has \(buffer.count) elements, expected \(expected)")
            }
        case .lowRank:
            r = rows.rows
            if rows.elements.count != rows.rows * rows.columns || (count.map { $0 != rows.columns } ?? false) {
                throw OptimizerError.corruptCheckpoint("low-rank rows are \(rows.rows) × \(rows.columns) with \(rows.elements.count) elements for \(count.map(String.init) ?? "?") parameters")
            }
            guard buffer.count == r * r, diagonal.count == r else {
                throw OptimizerError.corruptCheckpoint("Woodbury buffers have \(buffer.count) and \(diagonal.count) elements for rank \(r)")
            }
        }
    }

    public var stateCount: Int? { count }

    public mutating func reset() {
        t = 0; skipped = 0; count = nil; lambda = nil; path = .none
        buffer = []; diagonal = []; rows = Matrix(rows: 0, columns: 0); rowsScale = 0; rowsOwned = false
        factorValid = false; factorDamping = 0; factorRequest = 0; dirty = false; hasCurvature = false
        sinceRefresh = nil; pending = nil; prediction = nil; ratio = nil
        direction = []; scratch = []
    }

    // MARK: - Public state

    /// The λ the next factorization asks for: the fixed λ, or the adapted Levenberg–Marquardt λ.
    @inlinable
    public var currentDamping: Scalar {
        if case .fixed(let v) = damping { return v }
        return lambda ?? damping.initial
    }

    /// The λ in the current factor (larger than requested after a retry), nil before one.
    public var factoredDamping: Scalar? { factorValid ? factorDamping : nil }

    /// Whether the current factor came from the Woodbury path.
    public var usesWoodbury: Bool { path == .lowRank }

    /// q(δθ) − q(0) = ∇Lᵀδθ + ½δθᵀF̄δθ of the last step (F̄ undamped), until reported.
    public var lastPredictedChange: Scalar? { prediction }

    /// ρ of the last ``reportLoss(before:after:)``.
    public var lastReductionRatio: Scalar? { ratio }

    /// True when the next step will (re)factor a new curvature and none has been supplied:
    /// call ``setCurvature(_:)`` first.
    public var needsCurvature: Bool {
        guard refreshDue else { return false }
        return curvatureDecay == nil ? pending == nil : !hasCurvature
    }

    /// True with Levenberg–Marquardt damping, which adapts λ from ``reportLoss(before:after:)``.
    public var wantsLossReports: Bool {
        if case .levenbergMarquardt = damping { return true }
        return false
    }

    @inlinable
    var refreshDue: Bool { sinceRefresh.map { $0 >= refreshInterval } ?? true }

    // MARK: - Curvature

    /// Supplies the curvature for the next refresh. Without `curvatureDecay` it is kept (by
    /// reference) until the next step that refreshes, a later call replacing it; with
    /// `curvatureDecay` β it is folded into the average now, F̄ ← βF̄ + (1 − β)F (a NaN or
    /// infinite entry is refused so it cannot poison the average).
    /// - Throws: ``NaturalGradientError`` for a curvature of the wrong shape, out-of-range
    ///   values, or one the solver cannot use; nothing changes then.
    /// - Complexity: O(1) without averaging (O(mk) checks of probabilities); with averaging
    ///   the fold, e.g. one `syrk` O(rn²).
    @inlinable
    public mutating func setCurvature(_ curvature: Curvature<Scalar>) throws {
        try validate()
        try curvature.validate(parameterCount: count)
        let n = curvature.parameterCount
        let target = try path(for: curvature, parameters: n)
        guard let decay = curvatureDecay else {
            pending = curvature
            return
        }
        if hasCurvature, target != path {
            throw NaturalGradientError.curvatureShapeMismatch(expected: "a \(path == .diagonal ? "diagonal" : "dense") curvature like the running average", found: curvature.name)
        }
        if let bad = Self.firstNonFiniteEntry(curvature) {
            throw NaturalGradientError.invalidCurvature("\(curvature.name) entry \(bad) is not finite; the running average would never recover")
        }
        absorb(curvature, path: target, parameters: n, beta: hasCurvature ? decay : 0)
        count = n
    }

    @inlinable
    static func firstNonFiniteEntry(_ c: Curvature<Scalar>) -> Int? {
        func scan(_ a: [Scalar]) -> Int? { a.withUnsafeBufferPointer { firstNonFinite($0) } }
        switch c {
        case let .metric(g), let .fisher(g): return scan(g.elements)
        case let .diagonalMetric(d): return scan(d)
        case let .empiricalFisher(s): return scan(s.elements)
        case let .gaussian(j, _, _), let .bernoulli(j, _), let .categorical(j, _): return scan(j.elements)
        }
    }

    /// The solver path for `curvature`, or an error when the chosen solver cannot take it.
    @inlinable
    func path(for curvature: Curvature<Scalar>, parameters n: Int) throws -> Path {
        let p: Path
        switch curvature {
        case .diagonalMetric:
            p = .diagonal
        case .metric, .fisher:
            guard solver != .woodbury else {
                throw NaturalGradientError.solverUnavailable(solver: "woodbury", reason: "a \(curvature.name) matrix has no low-rank factor U; use .cholesky or .automatic")
            }
            p = .dense
        default:
            let r = curvature.rank ?? n
            switch solver {
            case .woodbury: p = .lowRank
            case .cholesky: p = .dense
            case .automatic: p = (curvatureDecay == nil && r < n) ? .lowRank : .dense
            }
        }
        if p == .dense, n > 46_340 { throw NaturalGradientError.curvatureTooLarge(parameters: n) }
        return p
    }

    /// Writes M ← β·M + α·F (α = 1 − β, or 1 when β = 0) into the lower triangle and the
    /// diagonal vector, leaving a live factor in the upper triangle intact.
    @inlinable
    mutating func absorb(_ curvature: Curvature<Scalar>, path target: Path, parameters n: Int, beta: Scalar) {
        let alpha: Scalar = beta == 0 ? 1 : 1 - beta
        if target == .lowRank, case let r = curvature.rank!, path != .lowRank || buffer.count != r * r {
            buffer = Array(repeating: 0, count: r * r); diagonal = Array(repeating: 0, count: r); factorValid = false
        } else if target == .dense, path != .dense || buffer.count != n * n {
            buffer = Array(repeating: 0, count: n * n); diagonal = Array(repeating: 0, count: n); factorValid = false
        } else if target == .diagonal, path != .diagonal || buffer.count != n {
            buffer = Array(repeating: 0, count: n); diagonal = Array(repeating: 0, count: n); factorValid = false
        }
        path = target
        hasCurvature = true
        dirty = true
        switch target {
        case .none:
            return
        case .diagonal:
            guard case let .diagonalMetric(d) = curvature else { return }
            d.withUnsafeBufferPointer { db in
                diagonal.withUnsafeMutableBufferPointer { mb in
                    let src = db.baseAddress!, dst = mb.baseAddress!
                    for i in 0..<n { dst[i] = beta == 0 ? src[i] : beta * dst[i] + alpha * src[i] }
                }
            }
        case .lowRank:
            // M = s² (BA)(BA)ᵀ, r × r, into the lower triangle; the old factor is for another U.
            factorValid = false
            let u = LowRankCurvature(curvature)
            let a = u.rows
            if u.isWeighted {
                if !rowsOwned || rows.rows != a.rows || rows.columns != a.columns {
                    rows = Matrix(rows: a.rows, columns: a.columns)
                }
                rows.elements.withUnsafeMutableBufferPointer { u.writeWeightedRows(to: $0.baseAddress!) }
                rowsOwned = true
            } else {
                rows = a
                rowsOwned = false
            }
            rowsScale = u.scale
            let r = a.rows
            rows.elements.withUnsafeBufferPointer { ab in
                buffer.withUnsafeMutableBufferPointer { mb in
                    Scalar.syrk(triangle: .lower, transpose: .none, n: r, k: n, alpha: u.scale * u.scale, a: ab.baseAddress!,
                                lda: n, beta: 0, c: mb.baseAddress!, ldc: r)
                }
            }
            buffer.withUnsafeBufferPointer { mb in
                diagonal.withUnsafeMutableBufferPointer { db in
                    Scalar.copy(count: r, x: mb.baseAddress!, incx: r + 1, y: db.baseAddress!, incy: 1)
                }
            }
        case .dense:
            if scratch.count < n { scratch = Array(repeating: 0, count: n) }
            var m = buffer; buffer = []
            var d = diagonal; diagonal = []
            var saved = scratch; scratch = []
            defer { buffer = m; diagonal = d; scratch = saved }
            m.withUnsafeMutableBufferPointer { mb in
                d.withUnsafeMutableBufferPointer { db in
                    saved.withUnsafeMutableBufferPointer { sb in
                        let a = mb.baseAddress!, diag = db.baseAddress!, save = sb.baseAddress!
                        // Swap the factor's diagonal out and M's diagonal in.
                        Scalar.copy(count: n, x: a, incx: n + 1, y: save, incy: 1)
                        Scalar.copy(count: n, x: diag, incx: 1, y: a, incy: n + 1)
                        switch curvature {
                        case let .metric(g), let .fisher(g):
                            g.elements.withUnsafeBufferPointer { gb in
                                let f = gb.baseAddress!
                                for i in 0..<n {
                                    if beta == 0 {
                                        Scalar.copy(count: i + 1, x: f + i * n, incx: 1, y: a + i * n, incy: 1)
                                    } else {
                                        Scalar.axpby(count: i + 1, alpha: alpha, x: f + i * n, incx: 1, beta: beta, y: a + i * n, incy: 1)
                                    }
                                }
                            }
                        case .diagonalMetric:
                            break
                        default:
                            let u = LowRankCurvature(curvature)
                            let syrk = { (rowsPointer: UnsafePointer<Scalar>, r: Int) in
                                Scalar.syrk(triangle: .lower, transpose: .transpose, n: n, k: r, alpha: alpha * u.scale * u.scale,
                                            a: rowsPointer, lda: n, beta: beta, c: a, ldc: n)
                            }
                            let source = u.rows
                            if u.isWeighted {
                                if !rowsOwned || rows.rows != source.rows || rows.columns != source.columns {
                                    rows = Matrix(rows: source.rows, columns: source.columns)
                                    rowsOwned = true
                                }
                                rows.elements.withUnsafeMutableBufferPointer { wb in
                                    u.writeWeightedRows(to: wb.baseAddress!)
                                    syrk(UnsafePointer(wb.baseAddress!), source.rows)
                                }
                            } else {
                                source.elements.withUnsafeBufferPointer { syrk($0.baseAddress!, source.rows) }
                            }
                        }
                        Scalar.copy(count: n, x: a, incx: n + 1, y: diag, incy: 1)
                        Scalar.copy(count: n, x: save, incx: 1, y: a, incy: n + 1)
                    }
                }
            }
        }
    }

    // MARK: - Step

    /// Applies δθ (see the type's documentation) to `parameters` in place. Refactors first when
    /// a refresh is due, the curvature average changed, or λ changed.
    /// - Throws: ``OptimizerError`` for bad inputs, ``NaturalGradientError`` when the curvature is
    ///   missing, does not fit, or F̃ is not positive definite after the retries; the parameters,
    ///   step count, λ and curvature average are then untouched.
    @inlinable
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        let n = parameters.count
        let due = refreshDue
        if due {
            if curvatureDecay == nil {
                guard let c = pending else { throw NaturalGradientError.missingCurvature(step: t + 1) }
                try c.validate(parameterCount: n)
                let target = try path(for: c, parameters: n)
                absorb(c, path: target, parameters: n, beta: 0)
            } else if !hasCurvature {
                throw NaturalGradientError.missingCurvature(step: t + 1)
            }
        }
        let request = currentDamping
        // A new average waits for the refresh; a new λ refactors the kept curvature at once.
        if !factorValid || (due && dirty) || request != factorRequest {
            try refactor(parameters: n, damping: request)
        }
        func advance() {
            if due {
                sinceRefresh = 0
                pending = nil
            }
            count = n
            t += 1
            sinceRefresh = (sinceRefresh ?? 0) + 1
        }
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else {
            advance()
            return
        }
        if direction.count != n { direction = Array(repeating: 0, count: n) }
        var x = direction; direction = []
        defer { direction = x }
        let (gx, xx) = x.withUnsafeMutableBufferPointer { xb -> (Scalar, Scalar) in
            let x = xb.baseAddress!
            solve(g, into: x, count: n)
            return (Scalar.dot(count: n, x: g, incx: 1, y: x, incy: 1), Scalar.dot(count: n, x: x, incx: 1, y: x, incy: 1))
        }
        guard gx.isFinite, xx.isFinite else { throw NaturalGradientError.nonFiniteStep }
        let c: Scalar
        if let epsilon = stepLength {
            c = gx > 0 ? (epsilon / gx).squareRoot() : 0
        } else {
            c = learningRate
        }
        x.withUnsafeBufferPointer { xb in Scalar.axpy(count: n, alpha: -c, x: xb.baseAddress!, incx: 1, y: p, incy: 1) }
        // δ = −c x with F̃x = g: ∇Lᵀδ = −c gᵀx, δᵀF̄δ = c²(gᵀx − λ‖x‖²).
        prediction = -c * gx + c * c * (gx - factorDamping * xx) / 2
        advance()
    }

    /// Factors M + λI on the current path, retrying with a larger λ.
    @inlinable
    mutating func refactor(parameters n: Int, damping request: Scalar) throws {
        var m = buffer; buffer = []
        defer { buffer = m }
        let trace = diagonal.withUnsafeBufferPointer { b -> Scalar in
            var sum: Scalar = 0
            for v in b { sum += v }
            return sum
        }
        let floor = NaturalGradientKernels<Scalar>.dampingFloor(trace: trace, parameters: n)
        factorValid = false
        let used: Scalar = try diagonal.withUnsafeBufferPointer { db in
            try m.withUnsafeMutableBufferPointer { mb in
                switch path {
                case .none:
                    throw NaturalGradientError.missingCurvature(step: t + 1)
                case .diagonal:
                    return try NaturalGradientKernels.factorDiagonal(mb.baseAddress!, diagonal: db.baseAddress!, count: n, damping: request,
                                                                     floor: floor, retries: maximumDampingRetries)
                case .dense, .lowRank:
                    let r = db.count
                    // The Woodbury identity divides by λ: λ = 0 is never tried there.
                    let start = (path == .lowRank && request == 0) ? floor : request
                    return try NaturalGradientKernels.factor(mb.baseAddress!, diagonal: db.baseAddress!, order: r, damping: start,
                                                             floor: floor, retries: maximumDampingRetries)
                }
            }
        }
        factorValid = true
        dirty = false
        factorDamping = used
        factorRequest = request
        if used > request, case let .levenbergMarquardt(_, _, _, maximum) = damping {
            lambda = Swift.min(used, maximum)
            factorRequest = lambda!
        }
    }

    /// x ← F̃⁻¹ g with the current factor.
    @inlinable
    mutating func solve(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int) {
        switch path {
        case .none:
            return
        case .diagonal:
            buffer.withUnsafeBufferPointer { fb in
                let f = fb.baseAddress!
                for i in 0..<n { x[i] = g[i] / f[i] }
            }
        case .dense:
            Scalar.copy(count: n, x: g, incx: 1, y: x, incy: 1)
            buffer.withUnsafeBufferPointer { fb in
                _ = NaturalGradientCholesky.solve(fb.baseAddress!, order: n, x)
            }
        case .lowRank:
            // x = (g − s² Aᵀ W⁻¹ A g)/λ,  W = λI + s² AAᵀ.
            let r = rows.rows, s2 = rowsScale * rowsScale, lambda = factorDamping
            if scratch.count < r { scratch = Array(repeating: 0, count: r) }
            var w = scratch; scratch = []
            defer { scratch = w }
            rows.elements.withUnsafeBufferPointer { ab in
                buffer.withUnsafeBufferPointer { fb in
                    w.withUnsafeMutableBufferPointer { wb in
                        let a = ab.baseAddress!, v = wb.baseAddress!
                        Scalar.gemv(transpose: .none, rows: r, columns: n, alpha: 1, a: a, lda: n, x: g, incx: 1, beta: 0, y: v, incy: 1)
                        _ = NaturalGradientCholesky.solve(fb.baseAddress!, order: r, v)
                        Scalar.copy(count: n, x: g, incx: 1, y: x, incy: 1)
                        Scalar.scal(count: n, alpha: 1 / lambda, x: x, incx: 1)
                        Scalar.gemv(transpose: .transpose, rows: r, columns: n, alpha: -s2 / lambda, a: a, lda: n, x: v, incx: 1,
                                    beta: 1, y: x, incy: 1)
                    }
                }
            }
        }
    }

    // MARK: - Levenberg–Marquardt

    /// Reports the loss before and after the last step: computes
    /// ρ = (after − before) / (q(δθ) − q(0)) and, with Levenberg–Marquardt damping, adapts λ
    /// for the next factorization (λ/ω when ρ > 3/4, λω when ρ < 1/4, clamped). A NaN or
    /// infinite `after` counts as ρ = −∞. The step is not undone: rejecting it is the caller's
    /// choice. With fixed damping only ``lastReductionRatio`` is updated.
    /// - Throws: ``NaturalGradientError/noStepToEvaluate`` when no step was taken since the last
    ///   report, ``NaturalGradientError/nonFiniteLoss(_:)`` for a non-finite `before`.
    @inlinable
    public mutating func reportLoss(before: Scalar, after: Scalar) throws {
        guard let predicted = prediction else { throw NaturalGradientError.noStepToEvaluate }
        guard before.isFinite else { throw NaturalGradientError.nonFiniteLoss("\(before)") }
        let rho: Scalar
        if !after.isFinite {
            rho = -.infinity
        } else if predicted < 0 {
            rho = (after - before) / predicted
        } else {
            rho = .nan
        }
        prediction = nil
        ratio = rho
        if case .levenbergMarquardt = damping {
            lambda = damping.adapted(currentDamping, rho: rho)
        }
    }
}
