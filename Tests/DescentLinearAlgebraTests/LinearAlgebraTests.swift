import DescentLinearAlgebra
import Testing
import DescentTestSupport

/// Each BLAS/LAPACK wrapper against a plain scalar reference computed in Double, in Float
/// and Double; shape errors name the sizes.
@Suite("BLAS and LAPACK wrappers")
struct LinearAlgebraTests {

    struct Generator {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53) * 2 - 1
        }
        mutating func vector<S: BLASScalar>(_ n: Int) -> [S] { (0..<n).map { _ in S(next()) } }
        mutating func matrix<S: BLASScalar>(_ r: Int, _ c: Int) -> Matrix<S> {
            try! Matrix(rows: r, columns: c, elements: vector(r * c))
        }
    }

    static func tolerance<S: BLASScalar>(_ s: S.Type) -> Double { DescentTestSupport.tolerance(s) }

    /// ‖x − r‖∞ / max(‖r‖∞, 1): sums of k products lose accuracy relative to their terms.
    static func error<S: BLASScalar>(_ x: [S], _ r: [Double]) -> Double {
        precondition(x.count == r.count)
        let num = zip(x, r).map { abs(Double($0) - $1) }.max() ?? 0
        return num / max(r.map(abs).max() ?? 0, 1)
    }

    /// Element (i, j) of op(A) in Double.
    static func op<S: BLASScalar>(_ a: Matrix<S>, _ t: Transpose, _ i: Int, _ j: Int) -> Double {
        Double(t == .none ? a[i, j] : a[j, i])
    }

    static func level1<S: BLASScalar>(_: S.Type) throws {
        var rng = Generator(state: 1)
        let tol = tolerance(S.self)
        let x: [S] = rng.vector(101), y0: [S] = rng.vector(101)
        let alpha = S(0.75), beta = S(-1.25)

        var y = y0
        try BLAS.axpy(alpha, x, &y)
        #expect(error(y, x.indices.map { Double(alpha) * Double(x[$0]) + Double(y0[$0]) }) <= tol)

        var z = x
        try BLAS.scal(alpha, &z)
        #expect(error(z, x.map { Double(alpha) * Double($0) }) <= tol)

        let d = try BLAS.dot(x, y0)
        #expect(error([d], [x.indices.reduce(0.0) { $0 + Double(x[$1]) * Double(y0[$1]) }]) <= tol)

        let norm = try BLAS.nrm2(x)
        #expect(error([norm], [x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()]) <= tol)

        var c = [S](repeating: 0, count: 101)
        try BLAS.copy(x, into: &c)
        #expect(c == x)

        // axpby has no safe wrapper: call the raw routine.
        var w = y0
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeMutableBufferPointer { wp in
                S.axpby(count: 101, alpha: alpha, x: xp.baseAddress!, incx: 1, beta: beta, y: wp.baseAddress!, incy: 1)
            }
        }
        #expect(error(w, x.indices.map { Double(alpha) * Double(x[$0]) + Double(beta) * Double(y0[$0]) }) <= tol)

        // Shape errors name both counts.
        var short = [S](repeating: 0, count: 100)
        #expect(throws: LinearAlgebraError.dimensionMismatch(operation: "axpy", expected: "101 elements", actual: "100")) {
            try BLAS.axpy(alpha, x, &short)
        }
        #expect(throws: LinearAlgebraError.self) { _ = try BLAS.dot(x, short) }
        #expect(throws: LinearAlgebraError.self) { try BLAS.copy(x, into: &short) }
        // Empty vectors are fine.
        #expect(try BLAS.dot([S](), []) == 0)
        #expect(try BLAS.nrm2([S]()) == 0)
    }

    static func gemv<S: BLASScalar>(_: S.Type) throws {
        var rng = Generator(state: 2)
        let a: Matrix<S> = rng.matrix(7, 5)
        for t in [Transpose.none, .transpose] {
            let (inCount, outCount) = t == .none ? (5, 7) : (7, 5)
            let x: [S] = rng.vector(inCount), y0: [S] = rng.vector(outCount)
            let alpha = S(1.5), beta = S(0.5)
            var y = y0
            try BLAS.gemv(t, alpha: alpha, a, x, beta: beta, &y)
            let ref = (0..<outCount).map { i in
                Double(alpha) * (0..<inCount).reduce(0.0) { $0 + op(a, t, i, $1) * Double(x[$1]) } + Double(beta) * Double(y0[i])
            }
            #expect(error(y, ref) <= tolerance(S.self), "gemv \(t)")
            var wrong = [S](repeating: 0, count: outCount + 1)
            #expect(throws: LinearAlgebraError.self) { try BLAS.gemv(t, a, x, &wrong) }
        }
        var y = [S](repeating: 0, count: 7)
        do {
            try BLAS.gemv(.none, a, [S](repeating: 1, count: 6), &y)
            Issue.record("gemv accepted x of 6 for a 7 × 5 matrix")
        } catch let error as LinearAlgebraError {
            #expect(error.description.contains("7 × 5") && error.description.contains("x of 6"), "\(error)")
        }
    }

    static func gemm<S: BLASScalar>(_: S.Type) throws {
        var rng = Generator(state: 3)
        let (m, n, k) = (4, 6, 3)
        for ta in [Transpose.none, .transpose] {
            for tb in [Transpose.none, .transpose] {
                let a: Matrix<S> = ta == .none ? rng.matrix(m, k) : rng.matrix(k, m)
                let b: Matrix<S> = tb == .none ? rng.matrix(k, n) : rng.matrix(n, k)
                let c0: Matrix<S> = rng.matrix(m, n)
                var c = c0
                let alpha = S(-0.5), beta = S(2)
                try BLAS.gemm(ta, tb, alpha: alpha, a, b, beta: beta, &c)
                var ref = [Double]()
                for i in 0..<m {
                    for j in 0..<n {
                        let s = (0..<k).reduce(0.0) { $0 + op(a, ta, i, $1) * op(b, tb, $1, j) }
                        ref.append(Double(alpha) * s + Double(beta) * Double(c0[i, j]))
                    }
                }
                #expect(error(c.elements, ref) <= tolerance(S.self), "gemm \(ta) \(tb)")
            }
        }
        var c = try Matrix<S>(rows: 4, columns: 6)
        #expect(throws: LinearAlgebraError.self) { try BLAS.gemm(.none, .none, rng.matrix(4, 3), rng.matrix(4, 6), &c) }
        #expect(throws: LinearAlgebraError.self) { try BLAS.gemm(.none, .none, rng.matrix(4, 3), rng.matrix(3, 5), &c) }
    }

    static func syrk<S: BLASScalar>(_: S.Type) throws {
        var rng = Generator(state: 4)
        let (n, k) = (5, 8)
        for t in [Transpose.none, .transpose] {
            // .none: A is n × k, C = α AAᵀ + βC; .transpose: A is k × n, C = α AᵀA + βC.
            let a: Matrix<S> = t == .none ? rng.matrix(n, k) : rng.matrix(k, n)
            var sym: Matrix<S> = rng.matrix(n, n)
            for i in 0..<n { for j in 0..<i { sym[i, j] = sym[j, i] } }
            var c = sym
            let alpha = S(0.5), beta = S(-1)
            try BLAS.syrk(t, alpha: alpha, a, beta: beta, &c)
            var ref = [Double]()
            for i in 0..<n {
                for j in 0..<n {
                    let s = (0..<k).reduce(0.0) { acc, l in
                        acc + (t == .none ? Double(a[i, l]) * Double(a[j, l]) : Double(a[l, i]) * Double(a[l, j]))
                    }
                    ref.append(Double(alpha) * s + Double(beta) * Double(sym[i, j]))
                }
            }
            #expect(error(c.elements, ref) <= tolerance(S.self), "syrk \(t)")
            #expect(c == c.transposed, "syrk fills both triangles")
            var wrong = try Matrix<S>(rows: n + 1, columns: n + 1)
            #expect(throws: LinearAlgebraError.dimensionMismatch(operation: "syrk", expected: "C \(n)×\(n)", actual: "C \(n + 1)×\(n + 1)")) {
                try BLAS.syrk(t, a, &wrong)
            }
        }
    }

    static func cholesky<S: BLASScalar>(_: S.Type) throws {
        var rng = Generator(state: 5)
        let n = 6
        // A = BᵀB + n I is symmetric positive definite.
        let b: Matrix<S> = rng.matrix(n, n)
        var a = try Matrix<S>(rows: n, columns: n)
        for i in 0..<n {
            for j in 0..<n {
                a[i, j] = S((0..<n).reduce(0.0) { $0 + Double(b[$1, i]) * Double(b[$1, j]) } + (i == j ? Double(n) : 0))
            }
        }
        var factor = a
        try LAPACK.potrf(&factor)
        // UᵀU = A on the upper factor.
        var rebuilt = [Double]()
        for i in 0..<n {
            for j in 0..<n {
                rebuilt.append((0...min(i, j)).reduce(0.0) { $0 + Double(factor[$1, i]) * Double(factor[$1, j]) })
            }
        }
        #expect(error(a.elements, rebuilt) <= tolerance(S.self) * 10)

        // One right-hand side and several: A x = r.
        let x: [S] = rng.vector(n)
        var rhs = (0..<n).map { i in S((0..<n).reduce(0.0) { $0 + Double(a[i, $1]) * Double(x[$1]) }) }
        try LAPACK.potrs(factor: factor, &rhs)
        #expect(error(rhs, x.map { Double($0) }) <= tolerance(S.self) * 100)

        let xs: Matrix<S> = rng.matrix(n, 3)
        var bs = try Matrix<S>(rows: n, columns: 3)
        for i in 0..<n {
            for j in 0..<3 { bs[i, j] = S((0..<n).reduce(0.0) { $0 + Double(a[i, $1]) * Double(xs[$1, j]) }) }
        }
        try LAPACK.potrs(factor: factor, &bs)
        #expect(error(bs.elements, xs.elements.map { Double($0) }) <= tolerance(S.self) * 100)

        // Shape errors.
        var notSquare = try Matrix<S>(rows: 2, columns: 3)
        #expect(throws: LinearAlgebraError.self) { try LAPACK.potrf(&notSquare) }
        var wrongRHS = [S](repeating: 0, count: n + 1)
        #expect(throws: LinearAlgebraError.self) { try LAPACK.potrs(factor: factor, &wrongRHS) }
        var wrongB = try Matrix<S>(rows: n - 1, columns: 2)
        #expect(throws: LinearAlgebraError.self) { try LAPACK.potrs(factor: factor, &wrongB) }

        // Not positive definite: the leading minor of order 3 fails, and the error says so.
        var indefinite = try Matrix<S>.identity(4)
        indefinite[1, 1] = 2
        indefinite[2, 2] = -1
        #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 3)) { try LAPACK.potrf(&indefinite) }
        #expect(LinearAlgebraError.notPositiveDefinite(order: 3).description.contains("order 3"))
    }

    /// The raw column-major routines on row-major storage: the lower triangle gives A = LLᵀ
    /// and leaves the upper one alone; a NaN is reported by the pivot check; n = 0 is a no-op.
    static func rawCholesky<S: BLASScalar>(_: S.Type) throws {
        let n = 4
        let a: [[Double]] = [[4, 1, 0.5, 0], [1, 3, 0.2, 0.1], [0.5, 0.2, 2, 0.3], [0, 0.1, 0.3, 1]]
        var buffer = [S](repeating: 99, count: n * n)
        for i in 0..<n { for j in 0...i { buffer[i * n + j] = S(a[i][j]) } }
        let info = buffer.withUnsafeMutableBufferPointer { S.potrf(triangle: .lower, n: n, a: $0.baseAddress!, lda: n) }
        #expect(info == 0)
        for i in 0..<n {
            for j in 0..<n {
                if j > i { #expect(buffer[i * n + j] == 99, "upper triangle untouched") ; continue }
                let llt = (0...min(i, j)).reduce(0.0) { $0 + Double(buffer[i * n + $1]) * Double(buffer[j * n + $1]) }
                #expect(abs(llt - a[i][j]) <= tolerance(S.self) * 10)
            }
        }
        var x: [S] = [1, 2, 3, 4]
        _ = buffer.withUnsafeBufferPointer { f in x.withUnsafeMutableBufferPointer { S.potrs(triangle: .lower, n: n, nrhs: 1, a: f.baseAddress!, lda: n, b: $0.baseAddress!, ldb: 1) } }
        let back = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + a[i][$1] * Double(x[$1]) } }
        #expect(error(back.map { S($0) }, [1, 2, 3, 4]) <= tolerance(S.self) * 100)
        var empty: [S] = []
        #expect(empty.withUnsafeMutableBufferPointer { S.potrf(triangle: .upper, n: 0, a: $0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, lda: 0) } == 0)
        var nan = try Matrix<S>.identity(3)
        nan[1, 1] = .nan
        #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2)) { try LAPACK.potrf(&nan) }
    }

    @Test(arguments: Precision.allCases) func rawColumnMajorCholesky(_ p: Precision) throws {
        try Self.rawCholesky(p.scalarType)
    }

    @Test func openBLASDiagnosticsAndKernelHint() {
        #expect(!OpenBLAS.coreName.isEmpty && OpenBLAS.threads >= 1)
        #expect(OpenBLAS.summary.contains(OpenBLAS.coreName))
        #expect(OpenBLAS.kernelHint(core: "Prescott", cpuFlags: ["avx2", "fma", "avx512f"])?.contains("OPENBLAS_CORETYPE=Haswell") == true)
        #expect(OpenBLAS.kernelHint(core: "Prescott", cpuFlags: ["avx2"]) == nil)
        #expect(OpenBLAS.kernelHint(core: "Prescott", cpuFlags: ["avx2", "fma"])?.contains("Haswell") == true)
        #expect(OpenBLAS.kernelHint(core: "Prescott", cpuFlags: ["sse2"]) == nil)
        #expect(OpenBLAS.kernelHint(core: "SkylakeX", cpuFlags: ["avx512f"]) == nil)
        #expect(OpenBLAS.cpuFlags(cpuinfo: "/nonexistent").isEmpty)
    }

    /// The kernel-set decision made before the first BLAS call: the user's variable wins, `keep`
    /// keeps, a generic core on AVX2+FMA asks for Haswell, and a re-run reports what it set.
    @Test func coreSelectionRules() {
        let avx: Set<String> = ["avx2", "fma", "avx512f"]
        typealias S = OpenBLAS.CoreSelection
        #expect(OpenBLAS.coreSelection(environment: [:], core: "Prescott", cpuFlags: avx) == S.reexecute(with: "Haswell", replacing: "Prescott"))
        #expect(OpenBLAS.coreSelection(environment: ["OPENBLAS_CORETYPE": "Prescott"], core: "Prescott", cpuFlags: avx) == S.userSetting("Prescott"))
        #expect(OpenBLAS.coreSelection(environment: ["OPENBLAS_CORETYPE": "SkylakeX"], core: "SkylakeX", cpuFlags: avx) == S.userSetting("SkylakeX"))
        #expect(OpenBLAS.coreSelection(environment: ["DESCENT_BLAS_CORE": "keep"], core: "Prescott", cpuFlags: avx) == S.kept("Prescott", preferred: "Haswell"))
        #expect(OpenBLAS.coreSelection(environment: [:], core: "Haswell", cpuFlags: avx) == S.openBLASChoice("Haswell"))
        #expect(OpenBLAS.coreSelection(environment: [:], core: "Prescott", cpuFlags: ["sse2"]) == S.openBLASChoice("Prescott"))
        let rerun = ["OPENBLAS_CORETYPE": "Haswell", S.markerVariable: "Haswell", S.replacedVariable: "Prescott"]
        #expect(OpenBLAS.coreSelection(environment: rerun, core: "Haswell", cpuFlags: avx) == S.selected("Haswell", replacing: "Prescott"))
        // A user who overrides the variable after a re-run (marker left over) is still the user.
        let overridden = ["OPENBLAS_CORETYPE": "Prescott", S.markerVariable: "Haswell"]
        #expect(OpenBLAS.coreSelection(environment: overridden, core: "Prescott", cpuFlags: avx) == S.userSetting("Prescott"))
    }

    static func shapes<S: BLASScalar>(_: S.Type) throws {
        #expect(throws: LinearAlgebraError.invalidShape(rows: 2, columns: 3, count: 5)) {
            _ = try Matrix<S>(rows: 2, columns: 3, elements: [S](repeating: 0, count: 5))
        }
        #expect(throws: LinearAlgebraError.self) { _ = try Matrix<S>([[1, 2], [3]]) }
        var broken = try Matrix<S>(rows: 2, columns: 2)
        broken.elements.append(1)
        var y = [S](repeating: 0, count: 2)
        #expect(throws: LinearAlgebraError.invalidShape(rows: 2, columns: 2, count: 5)) {
            try BLAS.gemv(.none, broken, [1, 1], &y)
        }
        let m = try Matrix<S>([[1, 2, 3], [4, 5, 6]])
        #expect(m[1, 2] == 6 && m.transposed[2, 1] == 6 && m.transposed.rows == 3)
    }

    @Test(arguments: Precision.allCases) func level1Routines(_ p: Precision) throws {
        try Self.level1(p.scalarType)
    }
    @Test(arguments: Precision.allCases) func gemvBothWays(_ p: Precision) throws {
        try Self.gemv(p.scalarType)
    }
    @Test(arguments: Precision.allCases) func gemmAllTransposes(_ p: Precision) throws {
        try Self.gemm(p.scalarType)
    }
    @Test(arguments: Precision.allCases) func syrkBothWays(_ p: Precision) throws {
        try Self.syrk(p.scalarType)
    }
    @Test(arguments: Precision.allCases) func choleskyFactorAndSolve(_ p: Precision) throws {
        try Self.cholesky(p.scalarType)
    }
    @Test(arguments: Precision.allCases) func matrixShapes(_ p: Precision) throws {
        try Self.shapes(p.scalarType)
    }
}
