/// Shape-checked LAPACK routines: the Cholesky factorization and solve. They call LAPACK's
/// column-major routines on the row-major storage directly (see ``BLASScalar/potrf(triangle:n:a:lda:)``):
/// no copy, no transposition, no allocation.
public enum LAPACK {
    /// Factors the SPD matrix A = UᵀU in place (`?potrf`, upper triangle; the strictly lower
    /// triangle is left as it was).
    ///
    /// - Throws: ``LinearAlgebraError/notPositiveDefinite(order:)`` naming the order of the first
    ///   leading minor that is not positive definite (or whose pivot is NaN or infinite); A's
    ///   contents are then unspecified.
    /// - Complexity: n³/3 flops.
    @inlinable public static func potrf<S: BLASScalar>(_ a: inout Matrix<S>) throws {
        try a.checkShape()
        guard a.rows == a.columns else {
            throw LinearAlgebraError.dimensionMismatch(operation: "potrf", expected: "a square matrix", actual: "\(a.rows)×\(a.columns)")
        }
        try BLAS.checkIndexRange(a.elements.count)
        let n = a.rows
        guard n > 0 else { return }
        let info = a.elements.withUnsafeMutableBufferPointer { S.potrf(triangle: .upper, n: n, a: $0.baseAddress!, lda: n) }
        try check(info, routine: "potrf")
        // LAPACK may pass a NaN pivot (NaN ≤ 0 is false); a NaN or infinity anywhere in A
        // reaches the pivot of its column.
        if let bad = (0..<n).first(where: { !a.elements[$0 * n + $0].isFinite }) {
            throw LinearAlgebraError.notPositiveDefinite(order: bad + 1)
        }
    }

    /// Solves A X = B in place of B, given the upper Cholesky factor of A from ``potrf(_:)``.
    /// - Complexity: 2n² flops per right-hand side.
    @inlinable public static func potrs<S: BLASScalar>(factor: Matrix<S>, _ b: inout Matrix<S>) throws {
        try factor.checkShape(); try b.checkShape()
        let n = factor.rows
        guard factor.columns == n, b.rows == n else {
            throw LinearAlgebraError.dimensionMismatch(operation: "potrs", expected: "factor n×n and B n×k", actual: "factor \(factor.rows)×\(factor.columns), B \(b.rows)×\(b.columns)")
        }
        try BLAS.checkIndexRange(max(factor.elements.count, b.elements.count))
        guard n > 0, b.columns > 0 else { return }
        let nrhs = b.columns
        let info = factor.elements.withUnsafeBufferPointer { fp in
            b.elements.withUnsafeMutableBufferPointer { bp in
                S.potrs(triangle: .upper, n: n, nrhs: nrhs, a: fp.baseAddress!, lda: n, b: bp.baseAddress!, ldb: nrhs)
            }
        }
        try check(info, routine: "potrs")
    }

    /// Solves A x = b for one right-hand side, given the factor from ``potrf(_:)``.
    @inlinable public static func potrs<S: BLASScalar>(factor: Matrix<S>, _ b: inout [S]) throws {
        try factor.checkShape()
        let n = factor.rows
        guard factor.columns == n, b.count == n else {
            throw LinearAlgebraError.dimensionMismatch(operation: "potrs", expected: "factor n×n and b of n", actual: "factor \(factor.rows)×\(factor.columns), b of \(b.count)")
        }
        try BLAS.checkIndexRange(factor.elements.count)
        guard n > 0 else { return }
        let info = factor.elements.withUnsafeBufferPointer { fp in
            b.withUnsafeMutableBufferPointer { bp in
                S.potrs(triangle: .upper, n: n, nrhs: 1, a: fp.baseAddress!, lda: n, b: bp.baseAddress!, ldb: 1)
            }
        }
        try check(info, routine: "potrs")
    }

    /// Turns LAPACK's `info` into an error.
    @inlinable public static func check(_ info: Int, routine: String) throws {
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: info) }
        if info < 0 { throw LinearAlgebraError.illegalArgument(routine: routine, position: -info) }
    }
}
