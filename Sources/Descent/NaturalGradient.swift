/// The natural gradient (Amari, 1998), docs/lecture.md's steepest descent in the metric of a
/// curvature F (a metric G or a Fisher information matrix):
///
///     F̃ = F̄ + λI                                     (F̄: the curvature, or its moving average)
///     δθ = −η F̃⁻¹ ∇L                                  (default)
///     δθ = −√(ε / (∇Lᵀ F̃⁻¹ ∇L)) F̃⁻¹ ∇L                (with `stepLength` ε: δθᵀF̃δθ = ε)
///
/// The second form solves the constrained problem min ∇Lᵀδθ s.t. ‖δθ‖²_F̃ = ε; for a
/// KL radius δ, KL ≈ ½ δθᵀFδθ gives ε = 2δ. With it, `learningRate` is not used.
///
/// **The curvature layer.** Estimation and solve are separate, with separate cadences, as in
/// kfac-jax (`curvature_ema`, `inverse_update_period`):
///
/// - the curvature is asked for (``curvatureRequest``) every `curvatureUpdateInterval` steps
///   (t = 0, T, 2T, …; default 1) and whenever none is held, and absorbed by
///   ``updateCurvature(_:)``: F̄ ← F, or with `curvatureDecay` β the moving average
///   F̄ ← βF̄ + (1 − β)F (the first curvature initializes F̄);
/// - the damped factor of F̄ + λI is recomputed every `inverseUpdateInterval` steps when F̄
///   changed since, when λ changes (Levenberg–Marquardt, or a new ``damping``), or when there is
///   none; in between the factor is reused with the current gradient.
///
/// `minimize` (DescentProblems) follows ``curvatureRequest``; by hand, call
/// ``setCurvature(_:)`` when ``needsCurvature``.
///
/// **Solvers** (``NaturalGradientSolver``), one type per factorization, each with absorb /
/// factor(damping:) / solve: dense Cholesky of F̃ (LAPACK `potrf` + `potrs`, in the working
/// precision or mixed: a Float factor with Double iterative refinement), Woodbury for a
/// curvature F = UᵀU of r < n rows ((λI + UᵀU)⁻¹g = (g − Uᵀ(λI + UUᵀ)⁻¹Ug)/λ, one r × r
/// Cholesky), and element-wise for a diagonal metric. ``activeSolver`` reports the choice.
///
/// **Damping** (the Levenberg–Marquardt policy, outside the factorizations): ``Damping/fixed(_:)``
/// or ``Damping/levenbergMarquardt(initial:factor:minimum:maximum:)`` adapted from
/// ``reportLoss(before:after:)``. If F̃ is not positive definite, λ is raised tenfold (from
/// 10⁻⁶·tr(F̄)/n when λ = 0) up to `maximumDampingRetries` times (never past a non-finite λ,
/// and not at all when the failing pivot is NaN or infinite); then the step throws.
///
/// **Errors leave everything as it was.** A step builds the new factor beside the committed
/// one and commits it, λ, the parameters and the counters only when the direction is finite:
/// whatever a step throws, parameters, hyperparameters, λ and all state (the checkpoint) are
/// bit-identical to before.
///
/// Defaults: η = 1, λ = 10⁻³ fixed, no step length, both intervals 1, no averaging,
/// automatic solver, 8 damping retries. PyTorch has no natural-gradient optimizer; the
/// closest peers (K-FAC implementations) differ in how the curvature is estimated.
///
/// Memory: dense, n² per factor (committed and candidate; Float for mixed precision) plus the
/// n × n average when one is kept; Woodbury r² per factor and the rows (by reference, a
/// weighted copy for the Bernoulli and categorical forms). After the first step of a given
/// shape, a step allocates nothing. A checkpoint holds the curvature and the factor.
///
/// - Complexity: per factorization, Cholesky n³/3 (+ rn² for the `syrk` of a sample form),
///   Woodbury r²n + r³/3; per step 2n² (Cholesky), 2n² Float + 4rn per refinement iteration
///   (mixed), 4rn (Woodbury) or n (diagonal) flops for the solve.
public struct NaturalGradient<Scalar: BLASScalar>: SecondOrderOptimizer {
    public static var kind: String { "natural" }

    /// η ≥ 0, the step size when `stepLength` is nil.
    public var learningRate: Scalar
    /// λ: fixed or Levenberg–Marquardt.
    public var damping: Damping<Scalar>
    /// ε > 0 of the constrained step δθᵀF̃δθ = ε, or nil for δθ = −ηF̃⁻¹∇L.
    public var stepLength: Scalar?
    /// Ask for a new curvature every this many steps (≥ 1).
    public var curvatureUpdateInterval: Int
    /// Recompute the damped factor every this many steps (≥ 1), or when λ changes.
    public var inverseUpdateInterval: Int
    /// β ∈ [0, 1) of the curvature moving average, or nil to use each curvature as given.
    public var curvatureDecay: Scalar?
    /// Cholesky (working or mixed precision), Woodbury or automatic.
    public var solver: NaturalGradientSolver
    /// How many times a failed factorization is retried with λ raised tenfold (≥ 0).
    public var maximumDampingRetries: Int
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    /// Both cadences at once (the former single refresh interval).
    public var refreshInterval: Int {
        get { inverseUpdateInterval }
        set { curvatureUpdateInterval = newValue; inverseUpdateInterval = newValue }
    }

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }

    /// Which factorization holds the curvature.
    @usableFromInline enum Path: String, Codable, Sendable { case dense, lowRank, diagonal }

    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// n, once known.
    @usableFromInline var count: Int? = nil
    /// The adapted λ of Levenberg–Marquardt damping (nil: not yet adapted).
    @usableFromInline var lambda: Scalar? = nil
    /// The factorization that absorbs curvatures, and the one holding the committed factor.
    @usableFromInline var path: Path? = nil
    @usableFromInline var factorPath: Path? = nil
    @usableFromInline var dense: DenseCholeskyFactorization<Scalar>? = nil
    @usableFromInline var lowRank: WoodburyFactorization<Scalar>? = nil
    @usableFromInline var diagonal: DiagonalFactorization<Scalar>? = nil
    /// Curvatures absorbed so far, and how many of them the factor has seen.
    @usableFromInline var curvatureUpdates: Int = 0
    @usableFromInline var factorUpdates: Int = 0
    /// t of the last absorbed curvature (the request is answered once per step).
    @usableFromInline var curvatureStep: Int? = nil
    /// λ in the factor, and the λ requested when it was made.
    @usableFromInline var factorDamping: Scalar = 0
    @usableFromInline var factorRequest: Scalar = 0
    @usableFromInline var prediction: Scalar? = nil
    @usableFromInline var ratio: Scalar? = nil
    // Scratch, not part of the state.
    @usableFromInline var direction: [Scalar] = []

    /// - Parameters:
    ///   - learningRate: η ≥ 0 (default 1: Fisher scoring / Gauss–Newton).
    ///   - damping: λ (default fixed 10⁻³).
    ///   - stepLength: ε > 0 of the constrained step (a KL radius δ gives ε = 2δ), or nil.
    ///   - curvatureUpdateInterval: steps between curvature updates (default 1).
    ///   - inverseUpdateInterval: steps between factorizations (default 1).
    ///   - refreshInterval: sets both intervals when given (the former single cadence).
    ///   - curvatureDecay: β ∈ [0, 1) of the curvature moving average, or nil (default).
    ///   - solver: default ``NaturalGradientSolver/automatic``.
    ///   - maximumDampingRetries: default 8.
    ///   - nonFiniteGradientPolicy: what a non-finite gradient does (default: throw).
    public init(learningRate: Scalar = 1, damping: Damping<Scalar> = .fixed(1e-3), stepLength: Scalar? = nil,
                curvatureUpdateInterval: Int = 1, inverseUpdateInterval: Int = 1, refreshInterval: Int? = nil,
                curvatureDecay: Scalar? = nil, solver: NaturalGradientSolver = .automatic,
                maximumDampingRetries: Int = 8, nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.damping = damping
        self.stepLength = stepLength
        self.curvatureUpdateInterval = refreshInterval ?? curvatureUpdateInterval
        self.inverseUpdateInterval = refreshInterval ?? inverseUpdateInterval
        self.curvatureDecay = curvatureDecay
        self.solver = solver
        self.maximumDampingRetries = maximumDampingRetries
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try damping.validate()
        if let stepLength { try Hyperparameter.positive("stepLength", stepLength) }
        guard curvatureUpdateInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "curvatureUpdateInterval", value: "\(curvatureUpdateInterval)", requirement: "≥ 1")
        }
        guard inverseUpdateInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "inverseUpdateInterval", value: "\(inverseUpdateInterval)", requirement: "≥ 1")
        }
        if let curvatureDecay { try Hyperparameter.halfOpenUnit("curvatureDecay", curvatureDecay) }
        guard maximumDampingRetries >= 0 else {
            throw OptimizerError.invalidHyperparameter(name: "maximumDampingRetries", value: "\(maximumDampingRetries)", requirement: "≥ 0")
        }
        if solver == .woodbury, curvatureDecay != nil {
            throw OptimizerError.invalidHyperparameter(name: "solver", value: "woodbury", requirement: "no curvatureDecay (an average of low-rank curvatures is not low rank)")
        }
    }

    public var stateCount: Int? { count }

    public mutating func reset() {
        t = 0; skipped = 0; count = nil; lambda = nil; path = nil; factorPath = nil
        dense = nil; lowRank = nil; diagonal = nil
        curvatureUpdates = 0; factorUpdates = 0; curvatureStep = nil
        factorDamping = 0; factorRequest = 0; prediction = nil; ratio = nil
        direction = []
    }

    // MARK: - Public state

    /// The λ the next factorization asks for: the fixed λ, or the adapted Levenberg–Marquardt λ.
    @inlinable
    public var currentDamping: Scalar {
        if case .fixed(let v) = damping { return v }
        return lambda ?? damping.initial
    }

    /// The λ in the current factor (larger than requested after a retry), nil before one.
    public var factoredDamping: Scalar? { factorPath == nil ? nil : factorDamping }

    /// Whether the current factor came from the Woodbury path.
    public var usesWoodbury: Bool { factorPath == .lowRank }

    /// The solver of the current factor: "cholesky", "cholesky (mixed precision)", "woodbury"
    /// or "diagonal"; nil before the first factorization.
    public var activeSolver: String? {
        switch factorPath {
        case nil: return nil
        case .diagonal?: return "diagonal"
        case .lowRank?: return "woodbury"
        case .dense?: return dense?.precision == .mixed ? "cholesky (mixed precision)" : "cholesky"
        }
    }

    /// The precision of the current dense factor (nil on the other paths).
    public var activeCholeskyPrecision: CholeskyPrecision? { factorPath == .dense ? dense?.precision : nil }

    /// Refinement iterations of the last mixed-precision solve (0 for a direct solve).
    public var lastRefinementIterations: Int { dense?.lastIterations ?? 0 }

    /// q(δθ) − q(0) = ∇Lᵀδθ + ½δθᵀF̄δθ of the last step (F̄ undamped), until reported.
    public var lastPredictedChange: Scalar? { prediction }

    /// ρ of the last ``reportLoss(before:after:)``.
    public var lastReductionRatio: Scalar? { ratio }

    /// The dense order from which ``NaturalGradientSolver/automatic`` factors in mixed precision
    /// (Double only): below it the refinement costs more than the Float factor saves.
    public static var mixedPrecisionThreshold: Int { 1024 }

    // MARK: - SecondOrderOptimizer

    /// `.matrix` when the next step wants a new curvature: none is held, or t is a multiple
    /// of `curvatureUpdateInterval`; nil once one was absorbed for this step.
    public var curvatureRequest: CurvatureRequest? {
        if curvatureStep == t && curvatureUpdates > 0 { return nil }
        if path == nil || t % curvatureUpdateInterval == 0 { return .matrix }
        return nil
    }

    /// True when ``curvatureRequest`` is not nil: call ``setCurvature(_:)`` first.
    public var needsCurvature: Bool { curvatureRequest != nil }

    /// True with Levenberg–Marquardt damping, which adapts λ from ``reportLoss(before:after:)``.
    public var wantsLossReports: Bool {
        if case .levenbergMarquardt = damping { return true }
        return false
    }

    /// Absorbs a ``CurvatureEstimate/matrix(_:)`` (see ``setCurvature(_:)``); Kronecker blocks
    /// are for K-FAC and throw ``NaturalGradientError/solverUnavailable(solver:reason:)``.
    public mutating func updateCurvature(_ estimate: CurvatureEstimate<Scalar>) throws {
        switch estimate {
        case let .matrix(c): try setCurvature(c)
        case .kronecker:
            throw NaturalGradientError.solverUnavailable(solver: solver.rawValue, reason: "Kronecker blocks need a K-FAC optimizer, not the natural gradient")
        }
    }

    // MARK: - Curvature

    /// Absorbs a curvature: F̄ ← F (kept by reference), or with `curvatureDecay` β
    /// F̄ ← βF̄ + (1 − β)F (the first initializes F̄). The factor is recomputed at the next
    /// step when the inverse cadence allows (see the type's documentation).
    /// - Throws: ``OptimizerError`` for an invalid hyperparameter; ``NaturalGradientError`` for a
    ///   curvature of the wrong shape or size, out-of-range values, a non-finite entry with
    ///   averaging, or one the solver cannot use. Nothing changes then.
    /// - Complexity: O(1) without averaging (O(mk) checks of probabilities); with averaging
    ///   the fold, e.g. one `syrk` O(rn²).
    @inlinable
    public mutating func setCurvature(_ curvature: Curvature<Scalar>) throws {
        try validate()
        guard curvatureUpdates < Int.max else { throw OptimizerError.counterOverflow(name: "curvatureUpdates") }
        try curvature.validate(parameterCount: count)
        let n = curvature.parameterCount
        let target = try path(for: curvature, parameters: n)
        // Fold into a running average only where one is kept (a diagonal, or a dense matrix); a
        // decay set after curvatures held by reference starts the average afresh.
        let averaging = curvatureDecay != nil && curvatureUpdates > 0 && (path == .diagonal || (path == .dense && dense?.matrix != nil))
        if curvatureDecay != nil {
            if averaging, target != path || n != orderOfEstimate {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "a \(path == .diagonal ? "diagonal" : "dense") curvature for \(orderOfEstimate) parameters like the running average", found: "\(curvature.name) for \(n)")
            }
            if let bad = Self.firstNonFiniteEntry(curvature) {
                throw NaturalGradientError.invalidCurvature("\(curvature.name) entry \(bad) is not finite; the running average would never recover")
            }
        }
        let decay: Scalar? = averaging ? curvatureDecay : nil
        switch target {
        case .diagonal:
            guard case let .diagonalMetric(d) = curvature else { return }
            if diagonal == nil { diagonal = DiagonalFactorization(curvature: d) } else { diagonal!.absorb(d, decay: decay) }
        case .dense:
            if dense == nil { dense = DenseCholeskyFactorization(order: n) }
            dense!.absorb(curvature, decay: curvatureDecay, first: !averaging)
        case .lowRank:
            if lowRank == nil { lowRank = WoodburyFactorization(order: n) }
            lowRank!.absorb(curvature)
        }
        // A solver no longer absorbing and not holding the factor is dropped.
        if target != .dense, factorPath != .dense { dense = nil }
        if target != .lowRank, factorPath != .lowRank { lowRank = nil }
        if target != .diagonal, factorPath != .diagonal { diagonal = nil }
        path = target
        count = n
        curvatureUpdates += 1
        curvatureStep = t
    }

    /// The order of the estimate being absorbed into.
    @usableFromInline var orderOfEstimate: Int {
        switch path {
        case nil: return count ?? 0
        case .diagonal?: return diagonal?.order ?? 0
        case .dense?: return dense?.order ?? 0
        case .lowRank?: return lowRank?.order ?? 0
        }
    }

    @inlinable
    static func firstNonFiniteEntry(_ c: Curvature<Scalar>) -> Int? {
        func scan(_ a: [Scalar]) -> Int? { a.withUnsafeBufferPointer { firstNonFinite($0) } }
        switch c {
        case let .metric(g), let .fisher(g): return scan(g.elements)
        case let .diagonalMetric(d): return scan(d)
        case let .empiricalFisher(s): return scan(s.elements)
        case let .gaussian(j, _, _), let .bernoulli(j, _), let .categorical(j, _), let .poisson(j, _): return scan(j.elements)
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
            case .cholesky, .mixedPrecision: p = .dense
            case .automatic: p = (curvatureDecay == nil && r < n) ? .lowRank : .dense
            }
        }
        if p == .dense, n > 46_340 { throw NaturalGradientError.curvatureTooLarge(parameters: n) }
        return p
    }

    /// The dense precision for order n.
    @inlinable
    func densePrecision(order n: Int) -> CholeskyPrecision {
        guard Scalar.self == Double.self else { return .working }
        switch solver {
        case .mixedPrecision: return .mixed
        case .automatic: return n >= Self.mixedPrecisionThreshold ? .mixed : .working
        case .cholesky, .woodbury: return .working
        }
    }

    // MARK: - Step

    /// Applies δθ (see the type's documentation) to `parameters` in place, factoring F̄ + λI
    /// first when the inverse cadence, a new λ or a missing factor asks for it.
    ///
    /// - Throws: ``OptimizerError`` for bad inputs (gradient or state of another length, an
    ///   invalid hyperparameter, a non-finite gradient under `.throwError`);
    ///   ``NaturalGradientError/missingCurvature(step:)`` when a factor is needed and no
    ///   curvature is held; ``NaturalGradientError/curvatureShapeMismatch(expected:found:)``
    ///   when the curvature is for another n; ``NaturalGradientError/notPositiveDefinite(order:lastDamping:attempts:)``
    ///   after the damping retries (or at once for a NaN/infinite pivot);
    ///   ``NaturalGradientError/nonFiniteStep`` when the direction is not finite. Nothing else
    ///   (no `LinearAlgebraError`). Whatever it throws, parameters, hyperparameters, λ and all
    ///   state are bit-identical to before the call.
    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        // A curvature (metric, Fisher) held for another n is named as such, not as "state".
        if let held = count, held != parameters.count, gradient.count == parameters.count {
            let form = path.map { "\($0)" } ?? "held"
            throw NaturalGradientError.curvatureShapeMismatch(
                expected: "a curvature of order \(parameters.count) (one row per parameter)",
                found: "a \(form) curvature of order \(held)")
        }
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            guard skipped < Int.max else { throw OptimizerError.counterOverflow(name: "skipped") }
            skipped += 1
            return
        }
        let n = parameters.count
        guard t < Int.max else { throw OptimizerError.counterOverflow(name: "t") }
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else {
            // Nothing to solve: no curvature is factored (and LAPACK is never called for n = 0).
            t += 1
            return
        }
        if path != nil, orderOfEstimate != n {
            throw NaturalGradientError.curvatureShapeMismatch(expected: "a curvature for \(n) parameters", found: "one for \(orderOfEstimate)")
        }
        let request = currentDamping
        let due = t % inverseUpdateInterval == 0 && factorUpdates != curvatureUpdates
        let refactor = factorPath == nil || factorPath != path || due || request != factorRequest
        if refactor, path == nil { throw NaturalGradientError.missingCurvature(step: t + 1) }

        if direction.count != n { direction = Array(repeating: 0, count: n) }
        var x = direction; direction = []
        defer { direction = x }
        var used = factorDamping
        var precision: CholeskyPrecision? = nil
        try x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            if refactor {
                precision = path == .dense ? densePrecision(order: n) : nil
                used = try factorCandidate(damping: request, precision: &precision)
            }
            solve(g, into: x, count: n, damping: used, candidate: refactor, precision: &precision)
        }
        let (gx, xx) = x.withUnsafeBufferPointer { xb in
            (Scalar.dot(count: n, x: g, incx: 1, y: xb.baseAddress!, incy: 1), Scalar.dot(count: n, x: xb.baseAddress!, incx: 1, y: xb.baseAddress!, incy: 1))
        }
        guard gx.isFinite, xx.isFinite else { throw NaturalGradientError.nonFiniteStep }
        // Commit: the factor, λ, the parameters, the counters.
        if refactor || precision != nil { commitCandidate(damping: used, request: request, newCurvature: refactor) }
        let c: Scalar
        if let epsilon = stepLength {
            c = gx > 0 ? (epsilon / gx).squareRoot() : 0
        } else {
            c = learningRate
        }
        x.withUnsafeBufferPointer { xb in Scalar.axpy(count: n, alpha: -c, x: xb.baseAddress!, incx: 1, y: p, incy: 1) }
        // δ = −c x with F̃x = g: ∇Lᵀδ = −c gᵀx, δᵀF̄δ = c²(gᵀx − λ‖x‖²).
        prediction = -c * gx + c * c * (gx - factorDamping * xx) / 2
        count = n
        t += 1
    }

    /// Factors F̄ + λI into the candidate of the current path, raising λ tenfold after a
    /// failure (from the damping floor when λ = 0). Returns the λ of the candidate.
    @inlinable
    mutating func factorCandidate(damping request: Scalar, precision: inout CholeskyPrecision?) throws -> Scalar {
        guard path != nil else { throw NaturalGradientError.missingCurvature(step: t + 1) }
        let n = orderOfEstimate
        /// 10⁻⁶·tr(F̄)/n (or 10⁻⁶), the first λ tried after λ = 0; computed only when needed.
        func dampingFloor() -> Scalar {
            let trace: Scalar
            switch path! {
            case .diagonal: trace = diagonal!.trace
            case .dense: trace = dense!.trace
            case .lowRank: trace = lowRank!.trace
            }
            let mean = trace / Scalar(Swift.max(n, 1))
            return (mean > 0 && mean.isFinite ? mean : 1) * 1e-6
        }
        // The Woodbury identity divides by λ: λ = 0 is never tried there.
        var lambda = (path == .lowRank && request == 0) ? dampingFloor() : request
        var attempts = 0
        while true {
            attempts += 1
            let outcome: FactorOutcome
            switch path! {
            case .diagonal: outcome = diagonal!.factor(damping: lambda)
            case .lowRank: outcome = lowRank!.factor(damping: lambda)
            case .dense:
                var o = dense!.factor(damping: lambda, precision: precision ?? .working)
                if o != .success, precision == .mixed {
                    // The Float factor failed: the working precision may still succeed.
                    precision = .working
                    o = dense!.factor(damping: lambda, precision: .working)
                }
                outcome = o
            }
            guard case let .notPositiveDefinite(order, finitePivot) = outcome else { return lambda }
            let next = lambda == 0 ? dampingFloor() : lambda * 10
            if attempts > maximumDampingRetries || !finitePivot || !next.isFinite {
                throw NaturalGradientError.notPositiveDefinite(order: order, lastDamping: Double(lambda), attempts: attempts)
            }
            lambda = next
        }
    }

    /// x ← F̃⁻¹g with the candidate or the committed factor; a mixed-precision solve that does
    /// not converge falls back to a working-precision candidate (then `precision` is
    /// `.working` and the candidate must be committed).
    @inlinable
    mutating func solve(_ g: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, count n: Int, damping used: Scalar,
                        candidate: Bool, precision: inout CholeskyPrecision?) {
        switch factorPathForSolve(candidate: candidate) {
        case .diagonal: diagonal!.solve(g, into: x, count: n, candidate: candidate)
        case .lowRank: lowRank!.solve(g, into: x, count: n, damping: used, candidate: candidate)
        case .dense:
            if dense!.solve(g, into: x, count: n, damping: used, candidate: candidate) { return }
            // Refinement did not converge: a working-precision factor of the same F̃.
            let saved = (dense!.matrix, dense!.source)
            if !candidate, dense!.matrix == nil, dense!.rows.rows > 0 {
                // The committed factor's own operator: the rows it was built from.
                dense!.source = .gaussian(jacobian: dense!.rows, samples: 1, beta: dense!.rowsScale)
            }
            let outcome = dense!.factor(damping: used, precision: .working)
            dense!.matrix = saved.0; dense!.source = saved.1
            precision = .working
            if outcome == .success {
                _ = dense!.solve(g, into: x, count: n, damping: used, candidate: true)
            } else {
                for i in 0..<n { x[i] = .nan }
            }
        }
    }

    @inlinable
    func factorPathForSolve(candidate: Bool) -> Path { candidate ? path! : factorPath! }

    /// The candidate becomes the factor; λ bookkeeping (a raised λ becomes the adapted one).
    @inlinable
    mutating func commitCandidate(damping used: Scalar, request: Scalar, newCurvature: Bool) {
        let target = path!
        switch target {
        case .diagonal: diagonal!.commit()
        case .lowRank: lowRank!.commit()
        case .dense: dense!.commit()
        }
        if factorPath != target {
            if target != .dense { dense = nil }
            if target != .lowRank { lowRank = nil }
            if target != .diagonal { diagonal = nil }
        }
        factorPath = target
        if newCurvature { factorUpdates = curvatureUpdates }
        factorDamping = used
        factorRequest = request
        if let raised = damping.retained(used: used, requested: request) {
            lambda = raised
            factorRequest = raised
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
        let rho = Damping<Scalar>.reductionRatio(before: before, after: after, predicted: predicted)
        prediction = nil
        ratio = rho
        if case .levenbergMarquardt = damping {
            lambda = damping.adapted(currentDamping, rho: rho)
        }
    }
}
