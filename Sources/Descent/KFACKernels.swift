import DescentLinearAlgebra

/// One layer of ``KFAC``'s block layout: the parameters `offset ..< offset + outputs · inputs`,
/// row-major [W | b] (`inputs` = fan-in + 1, the bias last).
public struct KFACLayer: Codable, Sendable, Equatable {
    public var offset: Int
    public var outputs: Int
    public var inputs: Int

    public init(offset: Int, outputs: Int, inputs: Int) {
        self.offset = offset
        self.outputs = outputs
        self.inputs = inputs
    }

    @usableFromInline var shape: String { "\(outputs) × \(inputs) at offset \(offset)" }
}

/// The per-block kernels of ``KFAC``.
@usableFromInline
enum KFACKernels<Scalar: BLASScalar> {
    /// tr(M)/n of the n × n row-major M. - Complexity: O(n).
    @inlinable static func meanDiagonal(_ m: UnsafePointer<Scalar>, order n: Int) -> Scalar {
        var s: Scalar = 0
        for i in 0..<n { s += m[i * n + i] }
        return s / Scalar(n)
    }

    /// π = √((tr A / dim A) / (tr G / dim G)) (Martens & Grosse 2015, §6.3), or 1 when either
    /// mean is not a positive finite number.
    @inlinable static func pi(meanA: Scalar, meanG: Scalar) -> Scalar {
        guard meanA > 0, meanG > 0, meanA.isFinite, meanG.isFinite else { return 1 }
        let p = (meanA / meanG).squareRoot()
        return p > 0 && p.isFinite ? p : 1
    }

    /// ȳ ← βȳ + (1 − β)x elementwise, in one vectorized pass (the factors' moving average; it
    /// replaces OpenBLAS's `axpby`, which took ~2 % of a K-FAC step's samples). - Complexity: O(count).
    @inlinable static func movingAverage(_ x: UnsafePointer<Scalar>, count: Int, decay beta: Scalar, into y: UnsafeMutablePointer<Scalar>) {
        let alpha = 1 - beta
        for j in 0..<count { y[j] = beta * y[j] + alpha * x[j] }
    }

    /// out ← M + δI (n × n). - Complexity: O(n²).
    @inlinable static func copyDamped(_ m: UnsafePointer<Scalar>, order n: Int, shift: Scalar, into out: UnsafeMutablePointer<Scalar>) {
        out.update(from: m, count: n * n)
        for i in 0..<n { out[i * n + i] += shift }
    }

    /// out (cols × rows, row-major) ← inᵀ for `in` rows × cols row-major. - Complexity: O(rows·cols).
    @inlinable static func transpose(_ x: UnsafePointer<Scalar>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Scalar>) {
        // Blocked so both sides stay in cache for wide layers.
        let tile = 32
        var i0 = 0
        while i0 < rows {
            let i1 = Swift.min(rows, i0 + tile)
            var j0 = 0
            while j0 < columns {
                let j1 = Swift.min(columns, j0 + tile)
                for i in i0..<i1 { for j in j0..<j1 { out[j * rows + i] = x[i * columns + j] } }
                j0 = j1
            }
            i0 = i1
        }
    }

    /// x ← (G + γI)⁻¹ ∇W (A + αI)⁻¹ for one o × i row-major block, with the Cholesky factors of
    /// the damped A (i × i) and G (o × o) from `KFACCholesky.factor` (row-major upper Uᵀ U):
    /// `potrs` with G on x (row-major o × i, so G̃⁻¹ from the left), a transpose into `work`
    /// (o · i), `potrs` with A on ∇Wᵀ, and a transpose back. No inverse is formed.
    ///
    /// Both solves take B row-major, which CBLAS hands to the right-side column-major `trsm`
    /// kernels: on OpenBLAS 0.3.21 those run about twice as fast as the left-side ones that a
    /// column-major B (LAPACK's `potrs`) gets, for the same flops (measured with
    /// `descent bench --kind kfac`; see docs/benchmarks.md).
    /// - Complexity: i²·o + o²·i multiply-adds (four triangular solves) and two O(o·i) transposes.
    @inlinable static func precondition(_ g: UnsafePointer<Scalar>, outputs o: Int, inputs i: Int,
                                        factorA: UnsafePointer<Scalar>, factorG: UnsafePointer<Scalar>,
                                        into x: UnsafeMutablePointer<Scalar>, work: UnsafeMutablePointer<Scalar>) {
        x.update(from: g, count: o * i)
        if o == 1 {
            // G is 1 × 1: its factor is √(G + γ); ∇W is one row, so ∇Wᵀ is the same memory.
            _ = Scalar.potrs(triangle: .upper, n: i, nrhs: 1, a: factorA, lda: i, b: x, ldb: 1)
            let l = factorG[0]
            let inv = 1 / (l * l)
            for j in 0..<i { x[j] *= inv }
            return
        }
        _ = Scalar.potrs(triangle: .upper, n: o, nrhs: i, a: factorG, lda: o, b: x, ldb: i)
        transpose(UnsafePointer(x), rows: o, columns: i, into: work)
        _ = Scalar.potrs(triangle: .upper, n: i, nrhs: o, a: factorA, lda: i, b: work, ldb: o)
        transpose(UnsafePointer(work), rows: i, columns: o, into: x)
    }

    /// ⟨X, G X A⟩ = vec(X)ᵀ (G ⊗ A) vec(X) for the o × i row-major X (the block's quadratic form),
    /// with two `gemm` into `work` (2 · o · i). - Complexity: o²·i + o·i² multiply-adds.
    @inlinable static func quadraticForm(_ x: UnsafePointer<Scalar>, outputs o: Int, inputs i: Int,
                                         a: UnsafePointer<Scalar>, g: UnsafePointer<Scalar>, work: UnsafeMutablePointer<Scalar>) -> Scalar {
        let gx = work, gxa = work + o * i
        Scalar.gemm(transposeA: .none, transposeB: .none, m: o, n: i, k: o, alpha: 1, a: g, lda: o, b: x, ldb: i,
                    beta: 0, c: gx, ldc: i)
        Scalar.gemm(transposeA: .none, transposeB: .none, m: o, n: i, k: i, alpha: 1, a: gx, lda: i, b: a, ldb: i,
                    beta: 0, c: gxa, ldc: i)
        return Scalar.dot(count: o * i, x: x, incx: 1, y: gxa, incy: 1)
    }
}
