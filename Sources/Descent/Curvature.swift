/// The curvature F of ``NaturalGradient``: a metric G or a Fisher information matrix, in one
/// of the forms of docs/lecture.md. The caller supplies one per step (or per refresh) through
/// ``NaturalGradient/setCurvature(_:)``; n is the number of parameters, m the number of samples.
///
/// The four sample forms are all F = UᵀU for an r × n matrix U whose rows are scaled copies
/// of the rows the caller gives, which lets the Woodbury solver work with r × r matrices only:
///
/// | case | F | rows of U |
/// |---|---|---|
/// | ``empiricalFisher(scores:)`` | (1/m) SᵀS | sᵢ/√m |
/// | ``gaussian(jacobian:samples:beta:)`` | (β²/m) Σᵢ JᵢᵀJᵢ | β Jᵢ/√m |
/// | ``bernoulli(logitJacobian:probabilities:)`` | (1/m) Σᵢ pᵢ(1−pᵢ) jᵢjᵢᵀ | √(pᵢ(1−pᵢ)/m) jᵢ |
/// | ``categorical(logitJacobian:probabilities:)`` | (1/m) Σᵢ JᵢᵀΛᵢJᵢ | RᵢJᵢ/√m |
///
/// Matrices are row-major `Matrix` values; they are kept by reference (copy-on-write), not
/// copied, so a 256 × 10⁶ score matrix costs no extra memory on the Woodbury path.
public enum Curvature<Scalar: BLASScalar>: Codable, Sendable, Equatable {
    /// A full symmetric positive (semi)definite metric G, n × n. Only its lower triangle
    /// (with the diagonal) is read.
    case metric(Matrix<Scalar>)
    /// A diagonal metric G = diag(d), e.g. G = diag(a², b²) of docs/lecture.md; solved element-wise.
    case diagonalMetric([Scalar])
    /// The empirical Fisher F = (1/m) SᵀS from m per-sample score gradients, the rows of the
    /// m × n matrix S (formed with one BLAS `syrk`).
    case empiricalFisher(scores: Matrix<Scalar>)
    /// The Fisher of a Gaussian output with precision β² (F_linear of docs/lecture.md):
    /// F = (β²/m) Σᵢ JᵢᵀJᵢ, `jacobian` the (m·k) × n stack of the k × n output Jacobians Jᵢ.
    case gaussian(jacobian: Matrix<Scalar>, samples: Int, beta: Scalar)
    /// The Fisher of a Bernoulli (sigmoid) output (F_sigmoid of docs/lecture.md) in logit form:
    /// row i of the m × n `logitJacobian` is jᵢ = ∂zᵢ/∂θ for the logit zᵢ, pᵢ = σ(zᵢ), and
    /// F = (1/m) Σᵢ pᵢ(1 − pᵢ) jᵢjᵢᵀ. This equals Jᵧᵀ diag(1/(y(1−y))) Jᵧ with Jᵧ = y(1−y)jᵢ,
    /// but stays finite when an output saturates at p = 0 or 1.
    case bernoulli(logitJacobian: Matrix<Scalar>, probabilities: [Scalar])
    /// The Fisher of a categorical (softmax) output over k classes: `logitJacobian` is the
    /// (m·k) × n stack of the k × n logit Jacobians Jᵢ, `probabilities` the m × k softmax
    /// outputs (rows summing to 1), F = (1/m) Σᵢ JᵢᵀΛᵢJᵢ with Λᵢ = diag(pᵢ) − pᵢpᵢᵀ.
    ///
    /// Λᵢ is PSD and singular; it is factored as Λᵢ = RᵢᵀRᵢ with the rows of Rᵢ being
    /// √pₖ (eₖ − pᵢ) (k = 1…K), which uses Σₖ pₖ = 1 and needs no square root of a matrix.
    case categorical(logitJacobian: Matrix<Scalar>, probabilities: Matrix<Scalar>)
    /// A Fisher matrix of the caller's, n × n, e.g. the expected negative Hessian
    /// E[−∇² log p] of a GLM. Only its lower triangle (with the diagonal) is read.
    case fisher(Matrix<Scalar>)
    /// The Fisher of a Poisson output with the log link (a Poisson GLM, counts): row i of the
    /// m × n `logJacobian` is jᵢ = ∂zᵢ/∂θ for the log-rate zᵢ = log μᵢ, Λᵢ = μᵢ (the Poisson
    /// variance), F = (1/m) Σᵢ μᵢ jᵢjᵢᵀ (rows of U: √(μᵢ/m) jᵢ). `rates` are the μᵢ ≥ 0.
    case poisson(logJacobian: Matrix<Scalar>, rates: [Scalar])

    /// n, the number of parameters this curvature is for.
    public var parameterCount: Int {
        switch self {
        case let .metric(g), let .fisher(g): return g.columns
        case let .diagonalMetric(d): return d.count
        case let .empiricalFisher(s): return s.columns
        case let .gaussian(j, _, _), let .bernoulli(j, _), let .categorical(j, _), let .poisson(j, _): return j.columns
        }
    }

    /// The number of rows r of U for the sample forms (F = UᵀU), nil for the matrix forms.
    public var rank: Int? {
        switch self {
        case .metric, .fisher, .diagonalMetric: return nil
        case let .empiricalFisher(s): return s.rows
        case let .gaussian(j, _, _), let .bernoulli(j, _), let .categorical(j, _), let .poisson(j, _): return j.rows
        }
    }

    /// A short name for messages.
    public var name: String {
        switch self {
        case .metric: return "metric"
        case .diagonalMetric: return "diagonalMetric"
        case .empiricalFisher: return "empiricalFisher"
        case .gaussian: return "gaussian"
        case .bernoulli: return "bernoulli"
        case .categorical: return "categorical"
        case .fisher: return "fisher"
        case .poisson: return "poisson"
        }
    }

    /// Checks the shapes (and probabilities) and, when given, that n is `parameterCount`.
    /// Throws ``NaturalGradientError`` naming the offending value. Values of a metric or a
    /// Fisher matrix are not scanned: a NaN shows up as a failed factorization.
    /// - Complexity: O(m·k) for the probability forms, O(1) otherwise.
    public func validate(parameterCount n: Int? = nil) throws {
        func shape(_ a: Matrix<Scalar>, _ what: String) throws {
            do { try a.checkShape() } catch {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "\(what) with rows × columns elements", found: "\(a.rows) × \(a.columns) with \(a.elements.count) elements")
            }
        }
        switch self {
        case let .metric(g), let .fisher(g):
            try shape(g, "\(name) matrix")
            guard g.rows == g.columns else {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "a square \(name) matrix", found: "\(g.rows) × \(g.columns)")
            }
        case .diagonalMetric:
            break
        case let .empiricalFisher(s):
            try shape(s, "scores")
            guard s.rows > 0 else { throw NaturalGradientError.curvatureShapeMismatch(expected: "at least one score row", found: "0 rows") }
        case let .gaussian(j, samples, beta):
            try shape(j, "jacobian")
            guard samples > 0, j.rows % samples == 0, j.rows > 0 else {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "jacobian rows a positive multiple of samples = \(samples)", found: "\(j.rows) rows")
            }
            guard beta.isFinite else { throw NaturalGradientError.invalidCurvature("beta = \(beta) must be finite") }
        case let .bernoulli(j, p):
            try shape(j, "logitJacobian")
            guard j.rows == p.count, j.rows > 0 else {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "one probability per logitJacobian row (\(j.rows))", found: "\(p.count) probabilities")
            }
            for (i, v) in p.enumerated() where !(v >= 0 && v <= 1) {
                throw NaturalGradientError.invalidCurvature("probabilities[\(i)] = \(v) is not in [0, 1]")
            }
        case let .poisson(j, mu):
            try shape(j, "logJacobian")
            guard j.rows == mu.count, j.rows > 0 else {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "one rate per logJacobian row (\(j.rows))", found: "\(mu.count) rates")
            }
            for (i, v) in mu.enumerated() where !(v >= 0 && v.isFinite) {
                throw NaturalGradientError.invalidCurvature("rates[\(i)] = \(v) is not finite and ≥ 0")
            }
        case let .categorical(j, p):
            try shape(j, "logitJacobian"); try shape(p, "probabilities")
            guard p.rows > 0, p.columns > 0, j.rows == p.rows * p.columns else {
                throw NaturalGradientError.curvatureShapeMismatch(expected: "logitJacobian rows = samples × classes = \(p.rows) × \(p.columns)", found: "\(j.rows) rows")
            }
            let k = p.columns
            let tolerance = Scalar(k) * Scalar.ulpOfOne.squareRoot()
            for i in 0..<p.rows {
                var sum: Scalar = 0
                for c in 0..<k {
                    let v = p.elements[i * k + c]
                    guard v >= 0 && v <= 1 else {
                        throw NaturalGradientError.invalidCurvature("probabilities[\(i), \(c)] = \(v) is not in [0, 1]")
                    }
                    sum += v
                }
                guard abs(sum - 1) <= tolerance else {
                    throw NaturalGradientError.invalidCurvature("probabilities row \(i) sums to \(sum), not 1 (within \(tolerance))")
                }
            }
        }
        if let n, parameterCount != n {
            throw NaturalGradientError.curvatureShapeMismatch(expected: "a curvature for \(n) parameters", found: "\(name) for \(parameterCount)")
        }
    }

    /// The dense n × n matrix F this curvature stands for, for inspection and tests.
    /// - Complexity: O(r n²) for the sample forms (one `syrk`); allocates n² scalars.
    public func matrix() throws -> Matrix<Scalar> {
        try validate()
        let n = parameterCount
        switch self {
        case let .metric(g), let .fisher(g):
            var f = g
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { f.elements[i * n + j] = g.elements[j * n + i] } }
            return f
        case let .diagonalMetric(d):
            var f = Matrix<Scalar>(checkedRows: n, columns: n)
            for i in 0..<n { f.elements[i * n + i] = d[i] }
            return f
        default:
            let u = LowRankCurvature(self)
            var f = Matrix<Scalar>(checkedRows: n, columns: n)
            try BLAS.syrk(.transpose, alpha: u.scale * u.scale, u.weightedRows(), beta: 0, &f)
            return f
        }
    }
}
