import DescentLinearAlgebra
import Testing
import DescentTestSupport

/// `KFACCholesky`: factor then the two triangular solves (`potrs`), against a plain scalar
/// Cholesky and forward/back substitution in Double, for orders from 1 to 257.
@Suite struct KFACCholeskyTests {
    /// A = MᵀM/k + I (well conditioned, SPD), row-major = column-major (symmetric).
    static func spd(_ n: Int, seed: UInt64) -> [Double] {
        var rng = LinearAlgebraTests.Generator(state: seed)
        let k = n + 3
        let m: [Double] = (0..<(k * n)).map { _ in rng.next() }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for r in 0..<k { s += m[r * n + i] * m[r * n + j] }
            a[i * n + j] = s / Double(k) + (i == j ? 1 : 0)
        } }
        return a
    }

    /// x = A⁻¹ b for each column of the column-major n × nrhs `b`, by a scalar Cholesky.
    static func reference(_ a: [Double], _ n: Int, _ b: [Double], _ nrhs: Int) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)  // row-major lower
        for i in 0..<n { for j in 0...i {
            var s = a[i * n + j]
            for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = i == j ? s.squareRoot() : s / l[j * n + j]
        } }
        var x = b
        for c in 0..<nrhs {
            for i in 0..<n {
                var s = x[c * n + i]
                for k in 0..<i { s -= l[i * n + k] * x[c * n + k] }
                x[c * n + i] = s / l[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                var s = x[c * n + i]
                for k in (i + 1)..<Swift.max(i + 1, n) { s -= l[k * n + i] * x[c * n + k] }
                x[c * n + i] = s / l[i * n + i]
            }
        }
        return x
    }

    @Test(arguments: Precision.allCases, [(1, 1), (5, 3), (31, 4), (32, 32), (33, 7), (64, 2), (100, 40), (257, 9)])
    func solvesLikeScalarCholesky(_ p: Precision, _ shape: (Int, Int)) {
        func run<S: BLASScalar>(_: S.Type) {
            let (n, nrhs) = shape
            let a = Self.spd(n, seed: UInt64(n))
            var rng = LinearAlgebraTests.Generator(state: UInt64(nrhs))
            let b: [Double] = (0..<(n * nrhs)).map { _ in rng.next() }
            let expected = Self.reference(a, n, b, nrhs)
            var factor = a.map { S($0) }
            var x = b.map { S($0) }
            let info = factor.withUnsafeMutableBufferPointer { KFACCholesky.factor($0.baseAddress!, order: n) }
            #expect(info == 0)
            let solveInfo = factor.withUnsafeBufferPointer { f in
                x.withUnsafeMutableBufferPointer { KFACCholesky.solve(f.baseAddress!, order: n, columns: nrhs, $0.baseAddress!) }
            }
            #expect(solveInfo == 0)
            // cond(A) ≤ ~(1 + n)/1: Float loses a few digits more at n = 257.
            let error = relativeError(x.map { Double($0) }, expected)
            #expect(error <= (S.self == Double.self ? 1e-12 : 1e-5), "n = \(n), nrhs = \(nrhs): \(error)")
        }
        p.scalarType == Float.self ? run(Float.self) : run(Double.self)
    }
}
