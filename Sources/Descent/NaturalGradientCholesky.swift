import CLAPACKE

/// Cholesky factor and solve of a symmetric matrix stored row-major, without LAPACKE's
/// row-major transposition.
///
/// LAPACKE's row-major `?potrf`/`?potrs` allocate an n × n copy, transpose into it, call
/// LAPACK and transpose back: for n = 10⁴ that is an 800 MB allocation and two passes per
/// call, which makes a solve with a kept factor several times slower than the triangular
/// solves themselves. For a symmetric matrix the row-major upper triangle *is* the
/// column-major lower one, so calling the column-major `_work` routines with `'L'` gives the
/// same upper factor U (A = UᵀU in row-major terms) in place, with no allocation. The `_work`
/// routines also skip LAPACKE's NaN pre-scan, so LAPACK itself reports a NaN as a failing pivot.
@usableFromInline
enum NaturalGradientCholesky {
    static let lower = CChar(UInt8(ascii: "L"))

    /// Factors the row-major upper triangle of the n × n `a` in place; returns LAPACK's `info`.
    @usableFromInline static func factor<S: BLASScalar>(_ a: UnsafeMutablePointer<S>, order n: Int) -> Int {
        if S.self == Double.self {
            return Int(LAPACKE_dpotrf_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n),
                                           UnsafeMutableRawPointer(a).assumingMemoryBound(to: Double.self), Int32(n)))
        } else if S.self == Float.self {
            return Int(LAPACKE_spotrf_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n),
                                           UnsafeMutableRawPointer(a).assumingMemoryBound(to: Float.self), Int32(n)))
        }
        return S.potrf(triangle: .upper, n: n, a: a, lda: n)
    }

    /// Solves (UᵀU) x = b in place of b with the factor from ``factor(_:order:)``.
    @usableFromInline static func solve<S: BLASScalar>(_ a: UnsafePointer<S>, order n: Int, _ b: UnsafeMutablePointer<S>) -> Int {
        if S.self == Double.self {
            return Int(LAPACKE_dpotrs_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n), 1,
                                           UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(n),
                                           UnsafeMutableRawPointer(b).assumingMemoryBound(to: Double.self), Int32(n)))
        } else if S.self == Float.self {
            return Int(LAPACKE_spotrs_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n), 1,
                                           UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(n),
                                           UnsafeMutableRawPointer(b).assumingMemoryBound(to: Float.self), Int32(n)))
        }
        return S.potrs(triangle: .upper, n: n, nrhs: 1, a: a, lda: n, b: b, ldb: 1)
    }
}
