import Descent

/// The natural-gradient benchmark (Double): the full ``NaturalGradient`` step with an empirical
/// Fisher from m score rows next to the raw BLAS/LAPACK calls it consists of, on the same
/// matrices, alternating round by round.
///
/// - Cholesky (n × n): step = setCurvature(.empiricalFisher(S)) + step; raw = syrk (SᵀS/m, upper
///   triangle) + λ on the diagonal + potrf + potrs (LAPACK's column-major routines, no
///   LAPACKE transposition).
/// - Mixed precision (n × n): the same step with ``NaturalGradientSolver/mixedPrecision``
///   (`ssyrk` + `spotrf`, Double refinement); raw = the Double calls above, so the ratio is the
///   speed-up over the plain Double solve.
/// - Woodbury (m ≪ n): raw = syrk (AAᵀ, m × m) + λ/s² on the diagonal + potrf + gemv (Ag) +
///   potrs + gemv (Aᵀv, accumulated into x) + axpy (θ update).
enum BenchNatural {
    struct Timing {
        var seconds: Double
        var rawSeconds: Double
        var allocationsPerStep: Double?
        var rawAllocationsPerStep: Double?
        var rounds: Int
    }

    static func scores(rows m: Int, columns n: Int) -> Matrix<Double> {
        var s = Matrix<Double>(checkedRows: m, columns: n)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        s.elements.withUnsafeMutableBufferPointer { e in
            for i in 0..<e.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                e[i] = Double(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
            }
        }
        return s
    }

    static func measure(solver: NaturalGradientSolver, n: Int, m: Int, minimumRounds: Int, budgetSeconds: Double) throws -> Timing {
        let lambda = 1e-3
        let s = scores(rows: m, columns: n)
        var parameters = [Double](repeating: 0.5, count: n)
        var gradient = [Double](repeating: 0, count: n)
        for i in 0..<n { gradient[i] = Double(i % 7) / 7 - 0.4 }
        var opt = try NaturalGradient<Double>(learningRate: 1e-3, damping: .fixed(lambda), solver: solver,
                                              nonFiniteGradientPolicy: .unchecked)
        let dense = solver == .cholesky || solver == .mixedPrecision
        let order = dense ? n : m
        var work = [Double](repeating: 0, count: order * order)
        var x = [Double](repeating: 0, count: n)
        var v = [Double](repeating: 0, count: m)

        func full() throws {
            try opt.setCurvature(.empiricalFisher(scores: s))
            try opt.step(&parameters, gradient: gradient)
        }
        func raw() {
            s.elements.withUnsafeBufferPointer { sb in
                work.withUnsafeMutableBufferPointer { wb in
                    x.withUnsafeMutableBufferPointer { xb in
                        v.withUnsafeMutableBufferPointer { vb in
                            parameters.withUnsafeMutableBufferPointer { pb in
                                gradient.withUnsafeBufferPointer { gb in
                                    let a = sb.baseAddress!, w = wb.baseAddress!, xp = xb.baseAddress!, g = gb.baseAddress!
                                    if dense {
                                        // F = SᵀS/m in the upper triangle (row-major) = lower (column-major).
                                        Double.syrk(triangle: .upper, transpose: .transpose, n: n, k: m, alpha: 1 / Double(m),
                                                    a: a, lda: n, beta: 0, c: w, ldc: n)
                                        for i in 0..<n { w[i * n + i] += lambda }
                                        _ = Double.potrf(triangle: .upper, n: n, a: w, lda: n)
                                        Double.copy(count: n, x: g, incx: 1, y: xp, incy: 1)
                                        _ = Double.potrs(triangle: .upper, n: n, nrhs: 1, a: w, lda: n, b: xp, ldb: 1)
                                    } else {
                                        let vp = vb.baseAddress!
                                        let s2 = 1 / Double(m)
                                        Double.syrk(triangle: .upper, transpose: .none, n: m, k: n, alpha: 1,
                                                    a: a, lda: n, beta: 0, c: w, ldc: m)
                                        for i in 0..<m { w[i * m + i] += lambda / s2 }
                                        _ = Double.potrf(triangle: .upper, n: m, a: w, lda: m)
                                        Double.gemv(transpose: .none, rows: m, columns: n, alpha: 1, a: a, lda: n, x: g, incx: 1,
                                                    beta: 0, y: vp, incy: 1)
                                        _ = Double.potrs(triangle: .upper, n: m, nrhs: 1, a: w, lda: m, b: vp, ldb: 1)
                                        Double.copy(count: n, x: g, incx: 1, y: xp, incy: 1)
                                        Double.gemv(transpose: .transpose, rows: m, columns: n, alpha: -1 / lambda, a: a, lda: n,
                                                    x: vp, incx: 1, beta: 1 / lambda, y: xp, incy: 1)
                                    }
                                    Double.axpy(count: n, alpha: -1e-3, x: xp, incx: 1, y: pb.baseAddress!, incy: 1)
                                }
                            }
                        }
                    }
                }
            }
        }

        try full(); raw()  // warm-up: buffers allocated, pages touched
        var fullTimes: [Double] = [], rawTimes: [Double] = []
        var allocations = 0, rawAllocations = 0
        let start = BenchSystem.now()
        while true {
            let rawBefore = BenchSystem.allocationCount() ?? 0
            var a = BenchSystem.now()
            raw()
            var b = BenchSystem.now()
            rawAllocations += (BenchSystem.allocationCount() ?? 0) - rawBefore
            rawTimes.append(Double(b - a) * 1e-9)
            let before = BenchSystem.allocationCount() ?? 0
            a = BenchSystem.now()
            try full()
            b = BenchSystem.now()
            allocations += (BenchSystem.allocationCount() ?? 0) - before
            fullTimes.append(Double(b - a) * 1e-9)
            let elapsed = Double(BenchSystem.now() - start) * 1e-9
            if fullTimes.count >= minimumRounds && (elapsed >= budgetSeconds || fullTimes.count >= 200) { break }
        }
        benchSink += parameters[0] + x[0]
        return Timing(seconds: BenchStatistics.median(fullTimes), rawSeconds: BenchStatistics.median(rawTimes),
                      allocationsPerStep: BenchSystem.allocationCount() == nil ? nil : Double(allocations) / Double(fullTimes.count),
                      rawAllocationsPerStep: BenchSystem.allocationCount() == nil ? nil : Double(rawAllocations) / Double(rawTimes.count),
                      rounds: fullTimes.count)
    }
}
