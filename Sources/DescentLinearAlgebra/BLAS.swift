/// Shape-checked BLAS operations on Swift arrays and ``Matrix``.
///
/// Each routine checks its operands' sizes and throws ``LinearAlgebraError`` naming them;
/// the work is one call into OpenBLAS. For hot loops use the unsafe-pointer requirements
/// of ``BLASScalar`` directly.
public enum BLAS {
    @inlinable static func checkIndexRange(_ n: Int) throws {
        if n > Int(Int32.max) { throw LinearAlgebraError.dimensionTooLarge(n) }
    }

    @inlinable static func checkSameCount(_ op: String, _ a: Int, _ b: Int) throws {
        guard a == b else { throw LinearAlgebraError.dimensionMismatch(operation: op, expected: "\(a) elements", actual: "\(b)") }
        try checkIndexRange(a)
    }

    /// y ← αx + y. - Complexity: O(n).
    @inlinable public static func axpy<S: BLASScalar>(_ alpha: S, _ x: [S], _ y: inout [S]) throws {
        try checkSameCount("axpy", x.count, y.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                S.axpy(count: xp.count, alpha: alpha, x: xb, incx: 1, y: yb, incy: 1)
            }
        }
    }

    /// x ← αx. - Complexity: O(n).
    @inlinable public static func scal<S: BLASScalar>(_ alpha: S, _ x: inout [S]) throws {
        try checkIndexRange(x.count)
        x.withUnsafeMutableBufferPointer { xp in
            guard let xb = xp.baseAddress else { return }
            S.scal(count: xp.count, alpha: alpha, x: xb, incx: 1)
        }
    }

    /// xᵀy. - Complexity: O(n).
    @inlinable public static func dot<S: BLASScalar>(_ x: [S], _ y: [S]) throws -> S {
        try checkSameCount("dot", x.count, y.count)
        return x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return 0 }
                return S.dot(count: xp.count, x: xb, incx: 1, y: yb, incy: 1)
            }
        }
    }

    /// ‖x‖₂. - Complexity: O(n).
    @inlinable public static func nrm2<S: BLASScalar>(_ x: [S]) throws -> S {
        try checkIndexRange(x.count)
        return x.withUnsafeBufferPointer { xp in
            guard let xb = xp.baseAddress else { return 0 }
            return S.nrm2(count: xp.count, x: xb, incx: 1)
        }
    }

    /// y ← x. - Complexity: O(n).
    @inlinable public static func copy<S: BLASScalar>(_ x: [S], into y: inout [S]) throws {
        try checkSameCount("copy", x.count, y.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                S.copy(count: xp.count, x: xb, incx: 1, y: yb, incy: 1)
            }
        }
    }

    /// y ← α op(A) x + βy. - Complexity: O(rows · columns).
    @inlinable public static func gemv<S: BLASScalar>(_ transpose: Transpose, alpha: S = 1, _ a: Matrix<S>,
                                                     _ x: [S], beta: S = 0, _ y: inout [S]) throws {
        try a.checkShape()
        let (inCount, outCount) = transpose == .none ? (a.columns, a.rows) : (a.rows, a.columns)
        guard x.count == inCount, y.count == outCount else {
            throw LinearAlgebraError.dimensionMismatch(operation: "gemv", expected: "x of \(inCount), y of \(outCount) for a \(a.rows) × \(a.columns) matrix", actual: "x of \(x.count), y of \(y.count)")
        }
        try checkIndexRange(a.elements.count)
        guard a.rows > 0, a.columns > 0 else {
            if beta != 1 { for i in y.indices { y[i] = beta == 0 ? 0 : beta * y[i] } }
            return
        }
        let rows = a.rows, columns = a.columns
        a.elements.withUnsafeBufferPointer { ap in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    S.gemv(transpose: transpose, rows: rows, columns: columns, alpha: alpha, a: ap.baseAddress!,
                           lda: columns, x: xp.baseAddress!, incx: 1, beta: beta, y: yp.baseAddress!, incy: 1)
                }
            }
        }
    }

    /// C ← α op(A) op(B) + βC. - Complexity: O(m · n · k).
    @inlinable public static func gemm<S: BLASScalar>(_ transposeA: Transpose, _ transposeB: Transpose,
                                                     alpha: S = 1, _ a: Matrix<S>, _ b: Matrix<S>,
                                                     beta: S = 0, _ c: inout Matrix<S>) throws {
        try a.checkShape(); try b.checkShape(); try c.checkShape()
        let (m, k) = transposeA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        let (kb, n) = transposeB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
        guard k == kb, c.rows == m, c.columns == n else {
            throw LinearAlgebraError.dimensionMismatch(operation: "gemm", expected: "op(A) \(m)×\(k) · op(B) \(k)×\(n) = C \(m)×\(n)", actual: "op(B) \(kb)×\(n), C \(c.rows)×\(c.columns)")
        }
        try checkIndexRange(max(a.elements.count, b.elements.count, c.elements.count))
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in c.elements.indices { c.elements[i] = beta == 0 ? 0 : beta * c.elements[i] }
            return
        }
        let lda = a.columns, ldb = b.columns, ldc = c.columns
        a.elements.withUnsafeBufferPointer { ap in
            b.elements.withUnsafeBufferPointer { bp in
                c.elements.withUnsafeMutableBufferPointer { cp in
                    S.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                           a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                           beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
    }

    /// C ← α AᵀA + βC (`transpose: .transpose`, A is k × n) or C ← α AAᵀ + βC (`.none`, A is n × k),
    /// written to both triangles of the n × n matrix C. - Complexity: O(n² · k).
    @inlinable public static func syrk<S: BLASScalar>(_ transpose: Transpose, alpha: S = 1, _ a: Matrix<S>,
                                                     beta: S = 0, _ c: inout Matrix<S>) throws {
        try a.checkShape(); try c.checkShape()
        let (n, k) = transpose == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        guard c.rows == n, c.columns == n else {
            throw LinearAlgebraError.dimensionMismatch(operation: "syrk", expected: "C \(n)×\(n)", actual: "C \(c.rows)×\(c.columns)")
        }
        try checkIndexRange(max(a.elements.count, c.elements.count))
        guard n > 0, k > 0 else {
            for i in c.elements.indices { c.elements[i] = beta == 0 ? 0 : beta * c.elements[i] }
            return
        }
        let lda = a.columns
        a.elements.withUnsafeBufferPointer { ap in
            c.elements.withUnsafeMutableBufferPointer { cp in
                S.syrk(triangle: .upper, transpose: transpose, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                       lda: lda, beta: beta, c: cp.baseAddress!, ldc: n)
            }
        }
        c.symmetrizeFromUpper()
    }
}
