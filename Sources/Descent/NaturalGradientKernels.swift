/// Kernels of ``NaturalGradient`` over one r × r row-major buffer that holds two matrices:
/// the strictly lower triangle (with a separate diagonal vector) keeps the unfactored
/// symmetric M (F, or UUᵀ on the Woodbury path), the upper triangle with the diagonal holds
/// the Cholesky factor of M + λI. LAPACK's `potrf` on the upper triangle leaves the lower one
/// alone, so a failed factorization or a new λ can start again from M without a copy of it.
@usableFromInline
enum NaturalGradientKernels<Scalar: BLASScalar> {
    /// upper ← lowerᵀ, diagonal ← `diagonal` + λ.
    /// - Complexity: O(r²) strided copies (BLAS `copy`).
    @inlinable static func restoreUpper(_ a: UnsafeMutablePointer<Scalar>, diagonal: UnsafePointer<Scalar>, order r: Int, damping lambda: Scalar) {
        for i in 0..<r {
            a[i * r + i] = diagonal[i] + lambda
            let tail = r - i - 1
            if tail > 0 { Scalar.copy(count: tail, x: a + (i + 1) * r + i, incx: r, y: a + i * r + i + 1, incy: 1) }
        }
    }

    /// Factors M + λI (M in the lower triangle and `diagonal`), raising λ tenfold after each
    /// failure (from `floor` when λ = 0), at most 1 + `retries` factorizations.
    /// Returns the λ of the successful factor.
    /// - Throws: ``NaturalGradientError/notPositiveDefinite(order:lastDamping:attempts:)``.
    /// - Complexity: r³/3 flops per attempt.
    @inlinable static func factor(_ a: UnsafeMutablePointer<Scalar>, diagonal: UnsafePointer<Scalar>, order r: Int,
                                         damping: Scalar, floor: Scalar, retries: Int) throws -> Scalar {
        var lambda = damping
        var attempts = 0
        while true {
            restoreUpper(a, diagonal: diagonal, order: r, damping: lambda)
            attempts += 1
            var info = NaturalGradientCholesky.factor(a, order: r)
            if info == 0 {
                // OpenBLAS's potrf passes a NaN pivot (NaN ≤ 0 is false); a NaN or infinity
                // anywhere in M reaches the pivot of its column, so check the diagonal.
                guard let bad = (0..<r).first(where: { !a[$0 * r + $0].isFinite }) else { return lambda }
                info = bad + 1
            }
            // LAPACKE refuses a matrix holding a NaN (argument 4) before LAPACK sees it: the
            // failing minor is then the smallest leading one that contains a NaN.
            let order = info == -4 ? firstNaNMinor(a, order: r) : info
            if order <= 0 { throw LinearAlgebraError.illegalArgument(routine: "potrf", position: -info) }
            if attempts > retries {
                throw NaturalGradientError.notPositiveDefinite(order: order, lastDamping: Double(lambda), attempts: attempts)
            }
            lambda = lambda == 0 ? floor : lambda * 10
        }
    }

    /// 1 + the smallest j such that the upper triangle holds a NaN in column j (0 if none).
    @inlinable static func firstNaNMinor(_ a: UnsafePointer<Scalar>, order r: Int) -> Int {
        var best = r
        for i in 0..<r where i < best {
            for j in i..<best where a[i * r + j].isNaN { best = j; break }
        }
        return best == r ? 0 : best + 1
    }

    /// The diagonal analogue of ``factor(_:diagonal:order:damping:floor:retries:)``:
    /// `inverse`ᵢ ← dᵢ + λ once every dᵢ + λ > 0.
    @inlinable static func factorDiagonal(_ out: UnsafeMutablePointer<Scalar>, diagonal d: UnsafePointer<Scalar>, count n: Int,
                                                 damping: Scalar, floor: Scalar, retries: Int) throws -> Scalar {
        var lambda = damping
        var attempts = 0
        while true {
            attempts += 1
            var failed: Int? = nil
            for i in 0..<n where !(d[i] + lambda > 0 && (d[i] + lambda).isFinite) { failed = i; break }
            guard let bad = failed else {
                for i in 0..<n { out[i] = d[i] + lambda }
                return lambda
            }
            if attempts > retries {
                throw NaturalGradientError.notPositiveDefinite(order: bad + 1, lastDamping: Double(lambda), attempts: attempts)
            }
            lambda = lambda == 0 ? floor : lambda * 10
        }
    }

    /// The first λ tried after λ = 0 fails: 10⁻⁶ · tr(M)/n, or 10⁻⁶ when that is not a
    /// positive finite number.
    @inlinable static func dampingFloor(trace: Scalar, parameters n: Int) -> Scalar {
        let mean = trace / Scalar(Swift.max(n, 1))
        return (mean > 0 && mean.isFinite ? mean : 1) * 1e-6
    }
}
