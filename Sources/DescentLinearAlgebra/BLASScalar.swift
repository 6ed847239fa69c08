import CBLAS
import CLAPACKE

/// A real floating-point type that BLAS and LAPACK have routines for: `Float` (the `s`
/// routines) and `Double` (the `d` routines).
///
/// The requirements are the raw routines, over unsafe pointers, with BLAS's own
/// conventions (strides, leading dimensions, row-major order). They check nothing:
/// the safe surface is ``BLAS``, ``LAPACK`` and ``Matrix``, which check shapes and
/// throw ``LinearAlgebraError``. Generic code written once over `BLASScalar` is
/// specialized by the compiler for each of the two types.
public protocol BLASScalar: BinaryFloatingPoint, Codable, Sendable, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// y ← αx + y.
    static func axpy(count n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int,
                     y: UnsafeMutablePointer<Self>, incy: Int)
    /// y ← αx + βy (OpenBLAS's `axpby` extension).
    static func axpby(count n: Int, alpha: Self, x: UnsafePointer<Self>, incx: Int,
                      beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// x ← αx.
    static func scal(count n: Int, alpha: Self, x: UnsafeMutablePointer<Self>, incx: Int)
    /// Returns xᵀy.
    static func dot(count n: Int, x: UnsafePointer<Self>, incx: Int,
                    y: UnsafePointer<Self>, incy: Int) -> Self
    /// Returns ‖x‖₂ (computed without overflow).
    static func nrm2(count n: Int, x: UnsafePointer<Self>, incx: Int) -> Self
    /// y ← x.
    static func copy(count n: Int, x: UnsafePointer<Self>, incx: Int,
                     y: UnsafeMutablePointer<Self>, incy: Int)
    /// y ← α op(A) x + βy, A row-major `rows × columns` with leading dimension `lda`.
    static func gemv(transpose: Transpose, rows: Int, columns: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, x: UnsafePointer<Self>, incx: Int,
                     beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// C ← α op(A) op(B) + βC, all row-major; op(A) is m × k, op(B) is k × n.
    static func gemm(transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
                     alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// C ← α op(A) op(A)ᵀ + βC on the `triangle` of the n × n row-major C;
    /// `transpose == .none`: A is n × k and C gets AAᵀ; `.transpose`: A is k × n and C gets AᵀA.
    static func syrk(triangle: Triangle, transpose: Transpose, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, beta: Self,
                     c: UnsafeMutablePointer<Self>, ldc: Int)
    /// y ← αAx + βy for the symmetric row-major n × n A of which only `triangle` is read.
    static func symv(triangle: Triangle, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, incx: Int, beta: Self, y: UnsafeMutablePointer<Self>, incy: Int)
    /// B ← α op(A)⁻¹ B for the triangular row-major n × n A (`triangle`), B row-major n × nrhs
    /// (`trsm`, left side, non-unit diagonal).
    static func trsm(triangle: Triangle, transpose: Transpose, n: Int, nrhs: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int)
    /// Cholesky factorization of the row-major SPD matrix A in place, reading and writing only
    /// `triangle`: `.upper` gives A = UᵀU, `.lower` A = LLᵀ.
    ///
    /// Calls LAPACK's column-major `?potrf` through LAPACKE's `_work` entry on the opposite
    /// triangle (the row-major upper triangle is the column-major lower one), so nothing is
    /// copied or transposed, nothing allocated, and there is no NaN pre-scan (a NaN reaches
    /// LAPACK, which may pass it as a pivot: check the factor's diagonal when it matters).
    /// Returns LAPACK's `info`: 0 on success, i > 0 when the leading minor of order i is
    /// not positive definite, i < 0 when argument −i was illegal. n = 0 returns 0 at once.
    static func potrf(triangle: Triangle, n: Int, a: UnsafeMutablePointer<Self>, lda: Int) -> Int
    /// Solves A X = B with the factor from `potrf` (same `triangle`), B row-major n × nrhs:
    /// column-major `?potrs` for one right-hand side, two `trsm` for several (no copy).
    static func potrs(triangle: Triangle, n: Int, nrhs: Int, a: UnsafePointer<Self>, lda: Int,
                      b: UnsafeMutablePointer<Self>, ldb: Int) -> Int
}

/// Whether a BLAS routine uses a matrix as it is or its transpose.
public enum Transpose: Sendable, Hashable {
    case none
    case transpose

    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Which triangle of a symmetric matrix a routine reads or writes.
public enum Triangle: Sendable, Hashable {
    case upper
    case lower

    @usableFromInline var cblas: CBLAS_UPLO { self == .upper ? CblasUpper : CblasLower }
    @usableFromInline var lapack: CChar { self == .upper ? CChar(UInt8(ascii: "U")) : CChar(UInt8(ascii: "L")) }
    /// The same triangle of a row-major matrix seen column-major (its transpose).
    @usableFromInline var columnMajorLAPACK: CChar { self == .upper ? CChar(UInt8(ascii: "L")) : CChar(UInt8(ascii: "U")) }
}

@usableFromInline let columnMajorLAPACK = Int32(LAPACK_COL_MAJOR)

extension Double: BLASScalar {
    @_transparent public static func axpy(count n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int,
                                          y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_daxpy(blasint(n), alpha, x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func axpby(count n: Int, alpha: Double, x: UnsafePointer<Double>, incx: Int,
                                           beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_daxpby(blasint(n), alpha, x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func scal(count n: Int, alpha: Double, x: UnsafeMutablePointer<Double>, incx: Int) {
        cblas_dscal(blasint(n), alpha, x, blasint(incx))
    }
    @_transparent public static func dot(count n: Int, x: UnsafePointer<Double>, incx: Int,
                                         y: UnsafePointer<Double>, incy: Int) -> Double {
        cblas_ddot(blasint(n), x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func nrm2(count n: Int, x: UnsafePointer<Double>, incx: Int) -> Double {
        cblas_dnrm2(blasint(n), x, blasint(incx))
    }
    @_transparent public static func copy(count n: Int, x: UnsafePointer<Double>, incx: Int,
                                          y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_dcopy(blasint(n), x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func gemv(transpose: Transpose, rows: Int, columns: Int, alpha: Double,
                                          a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>, incx: Int,
                                          beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_dgemv(CblasRowMajor, transpose.cblas, blasint(rows), blasint(columns), alpha, a, blasint(lda),
                    x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func gemm(transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
                                          alpha: Double, a: UnsafePointer<Double>, lda: Int,
                                          b: UnsafePointer<Double>, ldb: Int,
                                          beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA.cblas, transposeB.cblas, blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
    @_transparent public static func syrk(triangle: Triangle, transpose: Transpose, n: Int, k: Int, alpha: Double,
                                          a: UnsafePointer<Double>, lda: Int, beta: Double,
                                          c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dsyrk(CblasRowMajor, triangle.cblas, transpose.cblas, blasint(n), blasint(k), alpha, a, blasint(lda),
                    beta, c, blasint(ldc))
    }
    @_transparent public static func symv(triangle: Triangle, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                                          x: UnsafePointer<Double>, incx: Int, beta: Double, y: UnsafeMutablePointer<Double>, incy: Int) {
        cblas_dsymv(CblasRowMajor, triangle.cblas, blasint(n), alpha, a, blasint(lda), x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func trsm(triangle: Triangle, transpose: Transpose, n: Int, nrhs: Int, alpha: Double,
                                          a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        cblas_dtrsm(CblasRowMajor, CblasLeft, triangle.cblas, transpose.cblas, CblasNonUnit, blasint(n), blasint(nrhs),
                    alpha, a, blasint(lda), b, blasint(ldb))
    }
    @inlinable public static func potrf(triangle: Triangle, n: Int, a: UnsafeMutablePointer<Double>, lda: Int) -> Int {
        guard n > 0 else { return 0 }
        return Int(LAPACKE_dpotrf_work(columnMajorLAPACK, triangle.columnMajorLAPACK, Int32(n), a, Int32(lda)))
    }
    @inlinable public static func potrs(triangle: Triangle, n: Int, nrhs: Int, a: UnsafePointer<Double>, lda: Int,
                                        b: UnsafeMutablePointer<Double>, ldb: Int) -> Int {
        guard n > 0, nrhs > 0 else { return 0 }
        if nrhs == 1 {
            // A row-major n × 1 B is the column-major n × 1 B with leading dimension n.
            return Int(LAPACKE_dpotrs_work(columnMajorLAPACK, triangle.columnMajorLAPACK, Int32(n), 1, a, Int32(lda),
                                              b, Int32(n)))
        }
        // A = UᵀU: Uᵀ Y = B, U X = Y;  A = LLᵀ: L Y = B, Lᵀ X = Y.
        trsm(triangle: triangle, transpose: triangle == .upper ? .transpose : .none, n: n, nrhs: nrhs, alpha: 1,
             a: a, lda: lda, b: b, ldb: ldb)
        trsm(triangle: triangle, transpose: triangle == .upper ? .none : .transpose, n: n, nrhs: nrhs, alpha: 1,
             a: a, lda: lda, b: b, ldb: ldb)
        return 0
    }
}

extension Float: BLASScalar {
    @_transparent public static func axpy(count n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int,
                                          y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_saxpy(blasint(n), alpha, x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func axpby(count n: Int, alpha: Float, x: UnsafePointer<Float>, incx: Int,
                                           beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_saxpby(blasint(n), alpha, x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func scal(count n: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incx: Int) {
        cblas_sscal(blasint(n), alpha, x, blasint(incx))
    }
    @_transparent public static func dot(count n: Int, x: UnsafePointer<Float>, incx: Int,
                                         y: UnsafePointer<Float>, incy: Int) -> Float {
        cblas_sdot(blasint(n), x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func nrm2(count n: Int, x: UnsafePointer<Float>, incx: Int) -> Float {
        cblas_snrm2(blasint(n), x, blasint(incx))
    }
    @_transparent public static func copy(count n: Int, x: UnsafePointer<Float>, incx: Int,
                                          y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_scopy(blasint(n), x, blasint(incx), y, blasint(incy))
    }
    @_transparent public static func gemv(transpose: Transpose, rows: Int, columns: Int, alpha: Float,
                                          a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, incx: Int,
                                          beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_sgemv(CblasRowMajor, transpose.cblas, blasint(rows), blasint(columns), alpha, a, blasint(lda),
                    x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func gemm(transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
                                          alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                          b: UnsafePointer<Float>, ldb: Int,
                                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA.cblas, transposeB.cblas, blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
    @_transparent public static func syrk(triangle: Triangle, transpose: Transpose, n: Int, k: Int, alpha: Float,
                                          a: UnsafePointer<Float>, lda: Int, beta: Float,
                                          c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_ssyrk(CblasRowMajor, triangle.cblas, transpose.cblas, blasint(n), blasint(k), alpha, a, blasint(lda),
                    beta, c, blasint(ldc))
    }
    @_transparent public static func symv(triangle: Triangle, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                          x: UnsafePointer<Float>, incx: Int, beta: Float, y: UnsafeMutablePointer<Float>, incy: Int) {
        cblas_ssymv(CblasRowMajor, triangle.cblas, blasint(n), alpha, a, blasint(lda), x, blasint(incx), beta, y, blasint(incy))
    }
    @_transparent public static func trsm(triangle: Triangle, transpose: Transpose, n: Int, nrhs: Int, alpha: Float,
                                          a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) {
        cblas_strsm(CblasRowMajor, CblasLeft, triangle.cblas, transpose.cblas, CblasNonUnit, blasint(n), blasint(nrhs),
                    alpha, a, blasint(lda), b, blasint(ldb))
    }
    @inlinable public static func potrf(triangle: Triangle, n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> Int {
        guard n > 0 else { return 0 }
        return Int(LAPACKE_spotrf_work(columnMajorLAPACK, triangle.columnMajorLAPACK, Int32(n), a, Int32(lda)))
    }
    @inlinable public static func potrs(triangle: Triangle, n: Int, nrhs: Int, a: UnsafePointer<Float>, lda: Int,
                                        b: UnsafeMutablePointer<Float>, ldb: Int) -> Int {
        guard n > 0, nrhs > 0 else { return 0 }
        if nrhs == 1 {
            // A row-major n × 1 B is the column-major n × 1 B with leading dimension n.
            return Int(LAPACKE_spotrs_work(columnMajorLAPACK, triangle.columnMajorLAPACK, Int32(n), 1, a, Int32(lda),
                                              b, Int32(n)))
        }
        // A = UᵀU: Uᵀ Y = B, U X = Y;  A = LLᵀ: L Y = B, Lᵀ X = Y.
        trsm(triangle: triangle, transpose: triangle == .upper ? .transpose : .none, n: n, nrhs: nrhs, alpha: 1,
             a: a, lda: lda, b: b, ldb: ldb)
        trsm(triangle: triangle, transpose: triangle == .upper ? .none : .transpose, n: n, nrhs: nrhs, alpha: 1,
             a: a, lda: lda, b: b, ldb: ldb)
        return 0
    }
}
