import Descent
import Foundation
import DescentTestSupport

/// Plain scalar implementations of each optimizer's formula, in Double, written from the doc
/// comments (one element at a time, no BLAS, no fusion) to check the kernels against.
/// Each reads its hyperparameters from an optimizer so Float runs use the same rounded values.
protocol ScalarReference {
    var lr: Double { get set }
    mutating func step(_ p: inout [Double], _ g: [Double])
}

/// g ← (maximize ? −∇L : ∇L) + λθ.
private func effectiveGradient(_ g: Double, _ p: Double, maximize: Bool, weightDecay: Double) -> Double {
    (maximize ? -g : g) + weightDecay * p
}

struct SGDReference: ScalarReference {
    var lr: Double
    let wd: Double, maximize: Bool
    init<S>(_ o: SGD<S>) { lr = Double(o.learningRate); wd = Double(o.weightDecay); maximize = o.maximize }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        for i in p.indices { p[i] = p[i] - lr * effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: wd) }
    }
}

struct MomentumReference: ScalarReference {
    var lr: Double
    let mu: Double, wd: Double, nesterov: Bool, maximize: Bool
    var v: [Double] = []
    init<S>(_ o: Momentum<S>) {
        lr = Double(o.learningRate); mu = Double(o.momentum); wd = Double(o.weightDecay)
        nesterov = o.nesterov; maximize = o.maximize
    }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if v.isEmpty { v = Array(repeating: 0, count: p.count) }
        for i in p.indices {
            let gi = effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: wd)
            v[i] = mu * v[i] - lr * gi
            p[i] = nesterov ? p[i] + mu * v[i] - lr * gi : p[i] + v[i]
        }
    }
}

struct AdagradReference: ScalarReference {
    var lr: Double
    let decay: Double, initial: Double, eps: Double, wd: Double, maximize: Bool
    var G: [Double] = []
    var t = 0
    init<S>(_ o: Adagrad<S>) {
        lr = Double(o.learningRate); decay = Double(o.learningRateDecay)
        initial = Double(o.initialAccumulatorValue); eps = Double(o.epsilon)
        wd = Double(o.weightDecay); maximize = o.maximize
    }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if G.isEmpty { G = Array(repeating: initial, count: p.count) }
        t += 1
        let lrT = lr / (1 + Double(t - 1) * decay)
        for i in p.indices {
            let gi = effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: wd)
            G[i] += gi * gi
            p[i] -= lrT * gi / (G[i].squareRoot() + eps)
        }
    }
}

struct RMSPropReference: ScalarReference {
    var lr: Double
    let rho: Double, eps: Double, mu: Double, centered: Bool, wd: Double, maximize: Bool
    var G: [Double] = [], a: [Double] = [], b: [Double] = []
    init<S>(_ o: RMSProp<S>) {
        lr = Double(o.learningRate); rho = Double(o.rho); eps = Double(o.epsilon); mu = Double(o.momentum)
        centered = o.centered; wd = Double(o.weightDecay); maximize = o.maximize
    }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if G.isEmpty {
            G = Array(repeating: 0, count: p.count); a = G; b = G
        }
        for i in p.indices {
            let gi = effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: wd)
            G[i] = rho * G[i] + (1 - rho) * gi * gi
            let D: Double
            if centered {
                a[i] = rho * a[i] + (1 - rho) * gi
                D = (G[i] - a[i] * a[i]).squareRoot() + eps
            } else {
                D = G[i].squareRoot() + eps
            }
            if mu > 0 {
                b[i] = mu * b[i] + gi / D
                p[i] -= lr * b[i]
            } else {
                p[i] -= lr * gi / D
            }
        }
    }
}

struct AdadeltaReference: ScalarReference {
    var lr: Double
    let rho: Double, eps: Double, inside: Bool, wd: Double, maximize: Bool
    var G: [Double] = [], X: [Double] = []
    init<S>(_ o: Adadelta<S>) {
        lr = Double(o.learningRate); rho = Double(o.rho); eps = Double(o.epsilon)
        inside = o.epsilonPlacement == .insideSquareRoot; wd = Double(o.weightDecay); maximize = o.maximize
    }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if G.isEmpty { G = Array(repeating: 0, count: p.count); X = G }
        for i in p.indices {
            let gi = effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: wd)
            G[i] = rho * G[i] + (1 - rho) * gi * gi
            let D = inside ? (G[i] + eps).squareRoot() : G[i].squareRoot() + eps
            let v = -(X[i] + eps).squareRoot() * gi / D
            X[i] = rho * X[i] + (1 - rho) * v * v
            p[i] += lr * v
        }
    }
}

struct AdamReference: ScalarReference {
    var lr: Double
    let b1: Double, b2: Double, eps: Double, wd: Double, amsgrad: Bool, maximize: Bool, decoupled: Bool
    var m: [Double] = [], G: [Double] = [], Gmax: [Double] = []
    var t = 0
    init<S>(_ o: Adam<S>) {
        lr = Double(o.learningRate); b1 = Double(o.beta1); b2 = Double(o.beta2); eps = Double(o.epsilon)
        wd = Double(o.weightDecay); amsgrad = o.amsgrad; maximize = o.maximize; decoupled = false
    }
    init<S>(_ o: AdamW<S>) {
        lr = Double(o.learningRate); b1 = Double(o.beta1); b2 = Double(o.beta2); eps = Double(o.epsilon)
        wd = Double(o.weightDecay); amsgrad = o.amsgrad; maximize = o.maximize; decoupled = true
    }
    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); G = m; Gmax = m }
        t += 1
        for i in p.indices {
            if decoupled { p[i] *= 1 - lr * wd }
            let gi = effectiveGradient(g[i], p[i], maximize: maximize, weightDecay: decoupled ? 0 : wd)
            m[i] = b1 * m[i] + (1 - b1) * gi
            G[i] = b2 * G[i] + (1 - b2) * gi * gi
            Gmax[i] = Swift.max(Gmax[i], G[i])
            let mHat = m[i] / (1 - pow(b1, Double(t)))
            let GHat = (amsgrad ? Gmax[i] : G[i]) / (1 - pow(b2, Double(t)))
            p[i] -= lr * mHat / (GHat.squareRoot() + eps)
        }
    }
}
