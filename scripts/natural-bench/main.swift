// Timing harness for NaturalGradient (run by hand with scripts/natural-bench/run; not a test).
import Descent
import Foundation

struct Rng {
    var s: UInt64
    mutating func next() -> Double {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53) * 2 - 1
    }
    mutating func normal() -> Double {   // Box–Muller
        let u = (next() + 1) / 2 + 1e-300, v = (next() + 1) / 2
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Logistic regression, m samples, d features + intercept: steps of exact vs empirical Fisher
/// scoring (η = 1, λ = 0) until max|∇L| < 1e-10.
func stepCounts(m: Int, d: Int, seed: UInt64) throws {
    var rng = Rng(s: seed)
    let n = d + 1
    var x = Matrix<Double>(rows: m, columns: n)
    var y = [Double](repeating: 0, count: m)
    let truth = (0..<n).map { _ in rng.normal() }
    for i in 0..<m {
        var z = 0.0
        for j in 0..<n { x[i, j] = j == d ? 1 : rng.normal(); z += x[i, j] * truth[j] }
        y[i] = (rng.next() + 1) / 2 < 1 / (1 + exp(-z)) ? 1 : 0
    }
    func probabilities(_ t: [Double]) -> [Double] {
        (0..<m).map { i in 1 / (1 + exp(-(0..<n).reduce(0) { $0 + x[i, $1] * t[$1] })) }
    }
    for empirical in [false, true] {
        var opt = try NaturalGradient<Double>(damping: .fixed(0))
        var theta = [Double](repeating: 0, count: n)
        var steps = 0
        while steps < 10_000 {
            let p = probabilities(theta)
            var g = [Double](repeating: 0, count: n)
            for i in 0..<m { for j in 0..<n { g[j] += (p[i] - y[i]) * x[i, j] / Double(m) } }
            if g.map(abs).max()! < 1e-10 { break }
            if empirical {
                var s = x
                for i in 0..<m { for j in 0..<n { s[i, j] = (p[i] - y[i]) * x[i, j] } }
                try opt.setCurvature(.empiricalFisher(scores: s))
            } else {
                try opt.setCurvature(.bernoulli(logitJacobian: x, probabilities: p))
            }
            try opt.step(&theta, gradient: g)
            steps += 1
        }
        print("  logistic m = \(m), n = \(n): \(empirical ? "empirical" : "exact    ") Fisher \(steps) steps to max|∇L| < 1e-10")
    }
}

/// Per-step time (curvature refreshed every step) of an empirical-Fisher step.
func stepTime(n: Int, m: Int, solver: NaturalGradientSolver, bernoulli: Bool = false, repeats: Int = 2) throws {
    var rng = Rng(s: 42)
    let start = DispatchTime.now().uptimeNanoseconds
    var s = Matrix<Double>(rows: m, columns: n)
    s.elements.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = rng.next() } }
    let p = (0..<m).map { _ in 0.5 + 0.4 * rng.next() }
    var g = [Double](repeating: 0, count: n)
    for i in 0..<n { g[i] = rng.next() }
    var theta = [Double](repeating: 0, count: n)
    let setup = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var opt = try NaturalGradient<Double>(damping: .fixed(1e-3), solver: solver)
    let curvature: Curvature<Double> = bernoulli ? .bernoulli(logitJacobian: s, probabilities: p) : .empiricalFisher(scores: s)
    var times: [Double] = []
    for _ in 0..<repeats {
        times.append(try seconds {
            try opt.setCurvature(curvature)
            try opt.step(&theta, gradient: g)
        })
    }
    print(String(format: "  n = %d, m = %d, %@%@: first step %.3f s, next %.3f s (data setup %.1f s)",
                 n, m, "\(solver)", bernoulli ? " (bernoulli)" : "", times[0], times.last!, setup))
}

/// Time of a reused-factor solve (refreshInterval > 1).
func solveTime(n: Int, m: Int, solver: NaturalGradientSolver) throws {
    var rng = Rng(s: 43)
    var s = Matrix<Double>(rows: m, columns: n)
    s.elements.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = rng.next() } }
    let g = (0..<n).map { _ in rng.next() }
    var theta = [Double](repeating: 0, count: n)
    var opt = try NaturalGradient<Double>(damping: .fixed(1e-3), refreshInterval: 1_000, solver: solver)
    try opt.setCurvature(.empiricalFisher(scores: s))
    try opt.step(&theta, gradient: g)
    try opt.step(&theta, gradient: g)
    let t = try seconds { for _ in 0..<5 { try opt.step(&theta, gradient: g) } } / 5
    print(String(format: "  n = %d, m = %d, %@: step with a reused factor %.4f s", n, m, "\(solver)", t))
}

let mode = CommandLine.arguments.dropFirst().first ?? "all"
print("NaturalGradient timing (Double, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
if mode == "counts" || mode == "all" {
    try stepCounts(m: 200, d: 3, seed: 1)
    try stepCounts(m: 2_000, d: 20, seed: 2)
}
if mode == "n1e4" || mode == "all" {
    try stepTime(n: 10_000, m: 256, solver: .woodbury, repeats: 3)
    try solveTime(n: 10_000, m: 256, solver: .woodbury)
    try stepTime(n: 10_000, m: 256, solver: .cholesky)
    try solveTime(n: 10_000, m: 256, solver: .cholesky)
}
if mode == "n1e6" || mode == "all" {
    try stepTime(n: 1_000_000, m: 256, solver: .automatic, repeats: 3)
    try solveTime(n: 1_000_000, m: 256, solver: .automatic)
    try stepTime(n: 1_000_000, m: 256, solver: .automatic, bernoulli: true, repeats: 2)
}
if mode == "parts" {
    // Where a Cholesky-path step at n = 10⁴, m = 256 spends its time.
    let n = 10_000, m = 256
    var rng = Rng(s: 44)
    let s = (0..<m * n).map { _ in rng.next() }
    var c = [Double](repeating: 0, count: n * n)
    let tSyrk = seconds { s.withUnsafeBufferPointer { sb in c.withUnsafeMutableBufferPointer { cb in
        Double.syrk(triangle: .lower, transpose: .transpose, n: n, k: m, alpha: 1.0 / Double(m), a: sb.baseAddress!, lda: n, beta: 0, c: cb.baseAddress!, ldc: n)
    } } }
    var d = [Double](repeating: 0, count: n)
    for i in 0..<n { d[i] = c[i * n + i] }
    let tRestore = seconds { c.withUnsafeMutableBufferPointer { cb in d.withUnsafeBufferPointer { db in
        for i in 0..<n {
            cb[i * n + i] = db[i] + 1e-3
            if n - i - 1 > 0 { Double.copy(count: n - i - 1, x: cb.baseAddress! + (i + 1) * n + i, incx: n, y: cb.baseAddress! + i * n + i + 1, incy: 1) }
        }
    } } }
    var info = 0
    let tPotrf = seconds { info = c.withUnsafeMutableBufferPointer { Double.potrf(triangle: .upper, n: n, a: $0.baseAddress!, lda: n) } }
    var x = (0..<n).map { _ in rng.next() }
    let tPotrs = seconds { _ = c.withUnsafeBufferPointer { cb in x.withUnsafeMutableBufferPointer { Double.potrs(triangle: .upper, n: n, nrhs: 1, a: cb.baseAddress!, lda: n, b: $0.baseAddress!, ldb: 1) } } }
    print(String(format: "  syrk %.2f s, restore upper %.2f s, potrf (row-major LAPACKE) %.2f s (info %d), potrs %.3f s", tSyrk, tRestore, tPotrf, info, tPotrs))
}
if mode == "diag" || mode == "all" {
    // O(n) diagonal-metric step at n = 10⁶ (docs/lecture.md's G = diag(a², b²) generalized).
    let n = 1_000_000
    var rng = Rng(s: 45)
    let d = (0..<n).map { _ in 1.5 + rng.next() }
    let g = (0..<n).map { _ in rng.next() }
    var theta = [Double](repeating: 0, count: n)
    var opt = try NaturalGradient<Double>(damping: .fixed(1e-3))
    try opt.setCurvature(.diagonalMetric(d)); try opt.step(&theta, gradient: g)
    let t = try seconds { for _ in 0..<10 { try opt.setCurvature(.diagonalMetric(d)); try opt.step(&theta, gradient: g) } } / 10
    var adam = try Adam<Double>()
    try adam.step(&theta, gradient: g)
    let ta = try seconds { for _ in 0..<10 { try adam.step(&theta, gradient: g) } } / 10
    print(String(format: "  diagonal metric n = %d: %.2f ms per step (Adam: %.2f ms)", n, t * 1e3, ta * 1e3))
}
