import Foundation
@testable import DescentProblems

/// A plain scalar fully connected network in Double (nested arrays, one sample at a time): the
/// independent reference for the perceptron's and the autoencoder's gradients, output
/// Jacobians, Fisher-vector products and K-FAC factors. Layer l applies `activation` when
/// `activated[l]`, else it is linear.
struct ScalarDenseNetwork {
    var sizes: [Int]
    var activated: [Bool]
    var activation: HiddenActivation
    var weights: [[[Double]]]   // layer → unit o → [w…, b]

    init(sizes: [Int], activated: [Bool], activation: HiddenActivation, θ: [Double]) {
        self.sizes = sizes
        self.activated = activated
        self.activation = activation
        var off = 0
        weights = (1..<sizes.count).map { l in
            let o = sizes[l], i = sizes[l - 1] + 1
            defer { off += o * i }
            return (0..<o).map { r in Array(θ[(off + r * i)..<(off + (r + 1) * i)]) }
        }
    }

    /// The autoencoder's network: [d] + widths + mirrored + [d], code layer and output linear.
    static func autoencoder(inputs d: Int, widths: [Int], activation: HiddenActivation, θ: [Double]) -> ScalarDenseNetwork {
        let sizes = [d] + widths + widths.dropLast().reversed() + [d]
        let activated = (1..<sizes.count).map { $0 != widths.count && $0 != sizes.count - 1 }
        return ScalarDenseNetwork(sizes: sizes, activated: activated, activation: activation, θ: θ)
    }

    var parameterCount: Int { (1..<sizes.count).reduce(0) { $0 + sizes[$1] * (sizes[$1 - 1] + 1) } }

    func h(_ z: Double) -> Double { activation == .tanh ? Foundation.tanh(z) : 1 / (1 + Foundation.exp(-z)) }
    func hPrime(fromActivation a: Double) -> Double { activation == .tanh ? 1 - a * a : a * (1 - a) }

    /// [x, a¹, …, a^{L−1}, z^L].
    func forward(_ x: [Double]) -> [[Double]] {
        var acts = [x]
        for (l, w) in weights.enumerated() {
            let a = acts.last!
            let z = w.map { row in zip(row, a).reduce(row.last!) { $0 + $1.0 * $1.1 } }
            acts.append(activated[l] ? z.map(h) : z)
        }
        return acts
    }

    /// δ¹…δ^L from the output seed δ^L.
    func backward(_ acts: [[Double]], seed: [Double]) -> [[Double]] {
        var deltas = [[Double]](repeating: [], count: weights.count)
        deltas[weights.count - 1] = seed
        var l = weights.count - 1
        while l > 0 {
            let w = weights[l]
            var below = [Double](repeating: 0, count: sizes[l])
            for j in 0..<sizes[l] {
                var s = 0.0
                for r in 0..<w.count { s += w[r][j] * deltas[l][r] }
                below[j] = s * (activated[l - 1] ? hPrime(fromActivation: acts[l][j]) : 1)
            }
            deltas[l - 1] = below
            l -= 1
        }
        return deltas
    }

    /// Σ_l vec(δˡ [aˡ⁻¹, 1]) in θ's layout.
    func parameterRow(_ acts: [[Double]], _ deltas: [[Double]]) -> [Double] {
        var row: [Double] = []
        for l in 0..<weights.count {
            for o in 0..<sizes[l + 1] {
                for j in 0..<sizes[l] { row.append(deltas[l][o] * acts[l][j]) }
                row.append(deltas[l][o])
            }
        }
        return row
    }

    /// The output Jacobian of one sample, K rows of n.
    func outputJacobian(_ x: [Double]) -> [[Double]] {
        let acts = forward(x)
        let k = sizes.last!
        return (0..<k).map { c in
            parameterRow(acts, backward(acts, seed: (0..<k).map { $0 == c ? 1 : 0 }))
        }
    }
}

func scalarSigmoid(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }
func scalarSoftplus(_ z: Double) -> Double { max(z, 0) + Foundation.log1p(Foundation.exp(-abs(z))) }
func scalarSoftmax(_ z: [Double]) -> [Double] {
    let m = z.max()!
    let e = z.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

/// F = (1/m) Σᵢ Jᵢᵀ Hᵢ Jᵢ, explicitly (n × n, row-major), from per-sample Jacobians (K × n) and
/// output Hessians (K × K).
func explicitFisher(jacobians: [[[Double]]], hessians: [[[Double]]]) -> [[Double]] {
    let n = jacobians[0][0].count, m = Double(jacobians.count)
    var f = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for (j, hm) in zip(jacobians, hessians) {
        let k = j.count
        for a in 0..<k {
            for b in 0..<k where hm[a][b] != 0 {
                let w = hm[a][b] / m
                for p in 0..<n where j[a][p] != 0 {
                    let s = w * j[a][p]
                    for q in 0..<n { f[p][q] += s * j[b][q] }
                }
            }
        }
    }
    return f
}

/// F v and the bound c·ε·(n + K)·‖F‖_F·‖v‖₂ that a product computed in precision ε may miss it by.
func fisherTimes(_ f: [[Double]], _ v: [Double]) -> [Double] {
    f.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
}

func frobenius(_ f: [[Double]]) -> Double { f.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }.squareRoot() }
func norm2(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
func maxAbsDifference<S: BinaryFloatingPoint>(_ a: [S], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}
