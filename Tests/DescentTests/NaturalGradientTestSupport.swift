import Foundation
import Testing
@testable import Descent
import DescentProblems
import DescentTestSupport

// Plain scalar references for the natural-gradient tests, all in Double, written without BLAS.

/// Relative tolerance against a Double scalar reference (`DescentTestSupport.tolerance`).
func ngTolerance<S: BLASScalar>(_ s: S.Type) -> Double { tolerance(s) }

func doubles<S: BLASScalar>(_ x: [S]) -> [Double] { x.map { Double($0) } }

/// Solves A x = b by Gaussian elimination with partial pivoting.
func referenceSolve(_ a: [[Double]], _ b: [Double]) -> [Double] {
    let n = b.count
    var m = a, v = b
    for k in 0..<n {
        let p = (k..<n).max { abs(m[$0][k]) < abs(m[$1][k]) }!
        m.swapAt(k, p); v.swapAt(k, p)
        for i in (k + 1)..<max(k + 1, n) {
            let f = m[i][k] / m[k][k]
            for j in k..<n { m[i][j] -= f * m[k][j] }
            v[i] -= f * v[k]
        }
    }
    var x = Array(repeating: 0.0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = v[i]
        for j in (i + 1)..<max(i + 1, n) { s -= m[i][j] * x[j] }
        x[i] = s / m[i][i]
    }
    return x
}

/// F + λI.
func damped(_ f: [[Double]], _ lambda: Double) -> [[Double]] {
    var a = f
    for i in a.indices { a[i][i] += lambda }
    return a
}

func quadraticForm(_ a: [[Double]], _ x: [Double]) -> Double {
    var s = 0.0
    for i in x.indices { for j in x.indices { s += x[i] * a[i][j] * x[j] } }
    return s
}

func dotProduct(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// The rows of a row-major matrix as Double arrays.
func rowArrays<S: BLASScalar>(_ m: Matrix<S>) -> [[Double]] {
    (0..<m.rows).map { i in (0..<m.columns).map { Double(m.elements[i * m.columns + $0]) } }
}

// MARK: - Reference Fisher matrices, straight from the formulas.

/// (1/m) Σᵢ sᵢsᵢᵀ.
func referenceEmpiricalFisher(_ s: [[Double]]) -> [[Double]] {
    let n = s[0].count, m = Double(s.count)
    var f = Array(repeating: Array(repeating: 0.0, count: n), count: n)
    for row in s { for a in 0..<n { for b in 0..<n { f[a][b] += row[a] * row[b] / m } } }
    return f
}

/// (β²/m) Σᵢ JᵢᵀJᵢ over all rows.
func referenceGaussianFisher(_ j: [[Double]], samples: Int, beta: Double) -> [[Double]] {
    referenceEmpiricalFisher(j).map { $0.map { $0 * Double(j.count) / Double(samples) * beta * beta } }
}

/// (1/m) Σᵢ pᵢ(1 − pᵢ) jᵢjᵢᵀ.
func referenceBernoulliFisher(_ j: [[Double]], _ p: [Double]) -> [[Double]] {
    let n = j[0].count, m = Double(j.count)
    var f = Array(repeating: Array(repeating: 0.0, count: n), count: n)
    for (row, pi) in zip(j, p) { for a in 0..<n { for b in 0..<n { f[a][b] += pi * (1 - pi) * row[a] * row[b] / m } } }
    return f
}

/// (1/m) Σᵢ μᵢ jᵢjᵢᵀ (Poisson, log link: Λᵢ = μᵢ).
func referencePoissonFisher(_ j: [[Double]], _ mu: [Double]) -> [[Double]] {
    let n = j[0].count, m = Double(j.count)
    var f = Array(repeating: Array(repeating: 0.0, count: n), count: n)
    for (row, w) in zip(j, mu) { for a in 0..<n { for b in 0..<n { f[a][b] += w * row[a] * row[b] / m } } }
    return f
}

/// (1/m) Σᵢ JᵢᵀΛᵢJᵢ with Λᵢ = diag(pᵢ) − pᵢpᵢᵀ, Jᵢ rows i·k ..< (i+1)·k.
func referenceCategoricalFisher(_ j: [[Double]], _ p: [[Double]]) -> [[Double]] {
    let n = j[0].count, m = p.count, k = p[0].count
    var f = Array(repeating: Array(repeating: 0.0, count: n), count: n)
    for i in 0..<m {
        for c in 0..<k {
            for d in 0..<k {
                let lambda = (c == d ? p[i][c] : 0) - p[i][c] * p[i][d]
                for a in 0..<n { for b in 0..<n { f[a][b] += j[i * k + c][a] * lambda * j[i * k + d][b] / Double(m) } }
            }
        }
    }
    return f
}

// MARK: - Random problems

/// The library's SplitMix64 (its `uniform()` in [−1, 1) from DescentTestSupport): the same stream
/// the tests' own copy of the generator gave.
typealias SeededGenerator = SplitMix64

func randomMatrix<S: BLASScalar>(_ rows: Int, _ columns: Int, _ rng: inout SeededGenerator) -> Matrix<S> {
    try! Matrix(rows: rows, columns: columns, elements: (0..<rows * columns).map { _ in S(rng.uniform()) })
}

func randomVector<S: BLASScalar>(_ n: Int, _ rng: inout SeededGenerator) -> [S] { (0..<n).map { _ in S(rng.uniform()) } }

/// Softmax probabilities, rows summing to 1 in S.
func randomProbabilities<S: BLASScalar>(_ m: Int, _ k: Int, _ rng: inout SeededGenerator) -> Matrix<S> {
    var e: [S] = []
    for _ in 0..<m {
        let z = (0..<k).map { _ in exp(2 * rng.uniform()) }
        let total = z.reduce(0, +)
        e += z.map { S($0 / total) }
    }
    return try! Matrix(rows: m, columns: k, elements: e)
}

/// The reference dense F of any curvature form, computed from the formulas above.
func referenceFisher<S: BLASScalar>(_ c: Curvature<S>) -> [[Double]] {
    switch c {
    case let .metric(g), let .fisher(g): return rowArrays(g)
    case let .diagonalMetric(d):
        return d.indices.map { i in d.indices.map { $0 == i ? Double(d[i]) : 0 } }
    case let .empiricalFisher(s): return referenceEmpiricalFisher(rowArrays(s))
    case let .gaussian(j, samples, beta): return referenceGaussianFisher(rowArrays(j), samples: samples, beta: Double(beta))
    case let .bernoulli(j, p): return referenceBernoulliFisher(rowArrays(j), doubles(p))
    case let .categorical(j, p): return referenceCategoricalFisher(rowArrays(j), rowArrays(p))
    case let .poisson(j, mu): return referencePoissonFisher(rowArrays(j), doubles(mu))
    }
}

/// One random sample-form curvature of each kind for n parameters and m samples.
func randomSampleCurvatures<S: BLASScalar>(parameters n: Int, samples m: Int, seed: UInt64) -> [Curvature<S>] {
    var rng = SeededGenerator(seed: seed)
    let k = 3
    let p: [S] = (0..<m).map { _ in S(0.5 + 0.45 * rng.uniform()) }
    return [
        .empiricalFisher(scores: randomMatrix(m, n, &rng)),
        .gaussian(jacobian: randomMatrix(m * 2, n, &rng), samples: m, beta: S(1.5)),
        .bernoulli(logitJacobian: randomMatrix(m, n, &rng), probabilities: p),
        .categorical(logitJacobian: randomMatrix(m * k, n, &rng), probabilities: randomProbabilities(m, k, &rng)),
        .poisson(logJacobian: randomMatrix(m, n, &rng), rates: (0..<m).map { _ in S(2 + 1.5 * rng.uniform()) }),
    ]
}

// MARK: - The logistic and linear regression fixture (statsmodels)

struct RegressionFixture: Decodable {
    struct Problem: Decodable {
        var m: Int
        var d: Int
        var X: [[Double]]
        var y: [Double]
        var params: [Double]
    }
    var logistic: Problem
    var linear: Problem

    static func load() throws -> RegressionFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/logistic_mle.json")
        return try JSONDecoder().decode(RegressionFixture.self, from: Data(contentsOf: url))
    }
}

/// Logistic regression with an intercept: θ = (w, b), zᵢ = xᵢ·w + b, mean negative log-likelihood.
struct LogisticProblem<S: BLASScalar> {
    let design: Matrix<S>   // m × (d+1): rows (xᵢ, 1) = ∂zᵢ/∂θ
    let y: [S]
    var m: Int { design.rows }
    var n: Int { design.columns }

    init(_ p: RegressionFixture.Problem) {
        design = try! Matrix(p.X.map { $0.map { S($0) } + [1] })
        y = p.y.map { S($0) }
    }

    func probabilities(_ theta: [S]) -> [S] {
        (0..<m).map { i in
            var z: S = 0
            for j in 0..<n { z += design[i, j] * theta[j] }
            return 1 / (1 + S(exp(-Double(z))))
        }
    }

    func loss(_ theta: [S]) -> Double {
        var total = 0.0
        for i in 0..<m {
            var z = 0.0
            for j in 0..<n { z += Double(design[i, j]) * Double(theta[j]) }
            total += log1p(exp(z)) - Double(y[i]) * z
        }
        return total / Double(m)
    }

    func gradient(_ theta: [S]) -> [S] {
        let p = probabilities(theta)
        var g = [S](repeating: 0, count: n)
        for i in 0..<m { for j in 0..<n { g[j] += (p[i] - y[i]) * design[i, j] / S(m) } }
        return g
    }

    /// The per-sample score gradients (pᵢ − yᵢ) xᵢ, rows of S for the empirical Fisher.
    func scores(_ theta: [S]) -> Matrix<S> {
        let p = probabilities(theta)
        var s = design
        for i in 0..<m { for j in 0..<n { s[i, j] = (p[i] - y[i]) * design[i, j] } }
        return s
    }
}
