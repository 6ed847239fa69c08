/// A sample-form ``Curvature`` seen as F = UᵀU with U = `scale` · B · A: A the caller's r × n
/// matrix (scores or Jacobian rows) and B a per-sample weighting that is the identity for the
/// empirical and Gaussian forms, diag(√(pᵢ(1−pᵢ))) for the Bernoulli form and the block
/// diagonal of the Rᵢ (rows √pₖ(eₖ − pᵢ)) for the categorical form.
@usableFromInline
struct LowRankCurvature<Scalar: BLASScalar> {
    @usableFromInline let source: Curvature<Scalar>
    /// The scalar factor of U: 1/√m, or β/√m for the Gaussian form.
    @usableFromInline let scale: Scalar

    @usableFromInline init(_ curvature: Curvature<Scalar>) {
        source = curvature
        switch curvature {
        case let .empiricalFisher(s):
            scale = 1 / Scalar(s.rows).squareRoot()
        case let .gaussian(_, samples, beta):
            scale = beta / Scalar(samples).squareRoot()
        case let .bernoulli(j, _):
            scale = 1 / Scalar(j.rows).squareRoot()
        case let .categorical(_, p):
            scale = 1 / Scalar(p.rows).squareRoot()
        case let .poisson(j, _):
            scale = 1 / Scalar(j.rows).squareRoot()
        case .metric, .fisher, .diagonalMetric:
            preconditionFailure("LowRankCurvature of a \(curvature.name)")
        }
    }

    /// The caller's r × n matrix A.
    @usableFromInline var rows: Matrix<Scalar> {
        switch source {
        case let .empiricalFisher(s): return s
        case let .gaussian(j, _, _), let .bernoulli(j, _), let .categorical(j, _), let .poisson(j, _): return j
        case .metric, .fisher, .diagonalMetric: preconditionFailure()
        }
    }

    /// Whether U needs B applied to A (Bernoulli, categorical), i.e. a scaled copy.
    @usableFromInline var isWeighted: Bool {
        switch source {
        case .bernoulli, .categorical, .poisson: return true
        default: return false
        }
    }

    /// Writes B · A (r × n, row-major) to `destination`.
    /// - Complexity: O(r n) for the Bernoulli form, O(r n k) (one k × k `gemm` per sample) for
    ///   the categorical form; no heap allocation.
    @usableFromInline func writeWeightedRows(to destination: UnsafeMutablePointer<Scalar>) {
        let a = rows
        let r = a.rows, n = a.columns
        guard r > 0, n > 0 else { return }
        a.elements.withUnsafeBufferPointer { ab in
            let src = ab.baseAddress!
            switch source {
            case let .bernoulli(_, p):
                for i in 0..<r {
                    Scalar.copy(count: n, x: src + i * n, incx: 1, y: destination + i * n, incy: 1)
                    Scalar.scal(count: n, alpha: (p[i] * (1 - p[i])).squareRoot(), x: destination + i * n, incx: 1)
                }
            case let .poisson(_, mu):
                for i in 0..<r {
                    Scalar.copy(count: n, x: src + i * n, incx: 1, y: destination + i * n, incy: 1)
                    Scalar.scal(count: n, alpha: mu[i].squareRoot(), x: destination + i * n, incx: 1)
                }
            case let .categorical(_, probabilities):
                let k = probabilities.columns, m = probabilities.rows
                probabilities.elements.withUnsafeBufferPointer { pb in
                    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: k * k) { rb in
                        let rBlock = rb.baseAddress!
                        for i in 0..<m {
                            let p = pb.baseAddress! + i * k
                            // Rᵢ[c, d] = √p_c (δ_cd − p_d), so that RᵢᵀRᵢ = diag(p) − ppᵀ.
                            for c in 0..<k {
                                let root = p[c].squareRoot()
                                for d in 0..<k { rBlock[c * k + d] = root * ((c == d ? 1 : 0) - p[d]) }
                            }
                            Scalar.gemm(transposeA: .none, transposeB: .none, m: k, n: n, k: k, alpha: 1,
                                        a: rBlock, lda: k, b: src + i * k * n, ldb: n,
                                        beta: 0, c: destination + i * k * n, ldc: n)
                        }
                    }
                }
            default:
                Scalar.copy(count: r * n, x: src, incx: 1, y: destination, incy: 1)
            }
        }
    }

    /// B · A as a new matrix (or A itself when B is the identity). Allocates; for inspection.
    @usableFromInline func weightedRows() -> Matrix<Scalar> {
        guard isWeighted else { return rows }
        var w = Matrix<Scalar>(checkedRows: rows.rows, columns: rows.columns)
        w.elements.withUnsafeMutableBufferPointer { if let b = $0.baseAddress { writeWeightedRows(to: b) } }
        return w
    }
}
