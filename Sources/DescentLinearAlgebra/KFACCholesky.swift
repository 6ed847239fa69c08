import CLAPACKE

/// The Cholesky calls of K-FAC (`KFAC` in Descent) on symmetric row-major buffers through LAPACK's column-major
/// `_work` routines (no LAPACKE transposed copy, no allocation): for a symmetric matrix the
/// row-major upper triangle is the column-major lower one, so `'L'` factors A = LLᵀ in place.
public enum KFACCholesky {
    static let lower = CChar(UInt8(ascii: "L"))

    /// Factors the n × n symmetric `a` in place; LAPACK's `info` (0: success).
    public static func factor<S: BLASScalar>(_ a: UnsafeMutablePointer<S>, order n: Int) -> Int {
        if S.self == Double.self {
            return Int(LAPACKE_dpotrf_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n),
                                           UnsafeMutableRawPointer(a).assumingMemoryBound(to: Double.self), Int32(n)))
        } else if S.self == Float.self {
            return Int(LAPACKE_spotrf_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n),
                                           UnsafeMutableRawPointer(a).assumingMemoryBound(to: Float.self), Int32(n)))
        }
        return S.potrf(triangle: .upper, n: n, a: a, lda: n)
    }

    /// Solves A X = B in place of B by the two triangular solves of LAPACK `potrs`, with the
    /// factor from ``factor(_:order:)``; B is column-major n × nrhs (leading dimension n), i.e.
    /// the row-major nrhs × n matrix Bᵀ.
    ///
    /// A column-major B takes OpenBLAS's left-side `trsm` kernels, which in 0.3.21 run about
    /// half as fast as the right-side ones for the same flops (n = 256, 257 right-hand sides:
    /// 2.3 against 1.2 ms on 2 threads). K-FAC therefore solves with the factor through
    /// `BLASScalar.potrs(triangle: .upper, …)` on row-major right-hand sides instead.
    public static func solve<S: BLASScalar>(_ a: UnsafePointer<S>, order n: Int, columns nrhs: Int,
                                                       _ b: UnsafeMutablePointer<S>) -> Int {
        if S.self == Double.self {
            return Int(LAPACKE_dpotrs_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n), Int32(nrhs),
                                           UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(n),
                                           UnsafeMutableRawPointer(b).assumingMemoryBound(to: Double.self), Int32(n)))
        } else if S.self == Float.self {
            return Int(LAPACKE_spotrs_work(Int32(LAPACK_COL_MAJOR), lower, Int32(n), Int32(nrhs),
                                           UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(n),
                                           UnsafeMutableRawPointer(b).assumingMemoryBound(to: Float.self), Int32(n)))
        }
        return S.potrs(triangle: .upper, n: n, nrhs: nrhs, a: a, lda: n, b: b, ldb: nrhs)
    }
}
