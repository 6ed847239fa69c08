import Descent
import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// Plain Double references of K-FAC's block algebra.
enum KFACReference {
    /// X (n × c) with M X = B by Gaussian elimination with partial pivoting (M n × n row-major).
    static func solve(_ m: [Double], order n: Int, _ b: [Double], columns c: Int) -> [Double] {
        var a = m, x = b
        for k in 0..<n {
            var p = k
            for r in k..<n where abs(a[r * n + k]) > abs(a[p * n + k]) { p = r }
            if p != k {
                for j in 0..<n { a.swapAt(k * n + j, p * n + j) }
                for j in 0..<c { x.swapAt(k * c + j, p * c + j) }
            }
            for r in 0..<n where r != k {
                let f = a[r * n + k] / a[k * n + k]
                if f == 0 { continue }
                for j in 0..<n { a[r * n + j] -= f * a[k * n + j] }
                for j in 0..<c { x[r * c + j] -= f * x[k * c + j] }
            }
        }
        for r in 0..<n { for j in 0..<c { x[r * c + j] /= a[r * n + r] } }
        return x
    }

    static func transpose(_ x: [Double], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = x[i * columns + j] } }
        return out
    }

    static func meanTrace(_ m: [Double], order n: Int) -> Double { (0..<n).reduce(0) { $0 + m[$1 * n + $1] } / Double(n) }

    /// (G + (√λ/π) I)⁻¹ ∇W (A + π√λ I)⁻¹, π = √((tr A/i)/(tr G/o)).
    static func precondition(a: [Double], g: [Double], gradient: [Double], outputs o: Int, inputs i: Int, damping lambda: Double) -> [Double] {
        let pi = (meanTrace(a, order: i) / meanTrace(g, order: o)).squareRoot()
        var ad = a, gd = g
        for j in 0..<i { ad[j * i + j] += pi * lambda.squareRoot() }
        for j in 0..<o { gd[j * o + j] += lambda.squareRoot() / pi }
        let y = solve(gd, order: o, gradient, columns: i)
        return transpose(solve(ad, order: i, transpose(y, rows: o, columns: i), columns: o), rows: i, columns: o)
    }

    /// ⟨X, G X A⟩.
    static func quadratic(_ x: [Double], a: [Double], g: [Double], outputs o: Int, inputs i: Int) -> Double {
        var s = 0.0
        for r in 0..<o { for c in 0..<i {
            var v = 0.0
            for r2 in 0..<o { for c2 in 0..<i { v += g[r * o + r2] * x[r2 * i + c2] * a[c2 * i + c] } }
            s += x[r * i + c] * v
        } }
        return s
    }

    /// A random symmetric positive definite n × n matrix RRᵀ/n + 0.1 I.
    static func spd(_ n: Int, _ rng: inout SplitMix64) -> [Double] {
        let r: [Double] = rng.vector(n * n)
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in 0..<n { s += r[i * n + k] * r[j * n + k] }
            m[i * n + j] = s / Double(n) + (i == j ? 0.1 : 0)
        } }
        return m
    }
}

@Suite("K-FAC optimizer")
struct KFACOptimizerTests {
    typealias Precision = OptimizerTestSupport.Precision

    /// Two layers: 2 × 3 at 0 and 3 × 3 at 6 (n = 15).
    static let shapes: [(o: Int, i: Int)] = [(2, 3), (3, 3)]

    struct Factors { var a: [[Double]]; var g: [[Double]] }

    static func factors(seed: UInt64) -> Factors {
        var rng = SplitMix64(seed: seed)
        return Factors(a: shapes.map { KFACReference.spd($0.i, &rng) }, g: shapes.map { KFACReference.spd($0.o, &rng) })
    }

    static func blocks<S: BLASScalar>(_ f: Factors, as _: S.Type) -> [KroneckerBlock<S>] {
        var offset = 0
        return shapes.enumerated().map { l, s in
            defer { offset += s.o * s.i }
            return KroneckerBlock(parameterOffset: offset, outputs: s.o, inputs: s.i, activations: f.a[l].map { S($0) },
                                  preactivationGradients: f.g[l].map { S($0) })
        }
    }

    static let n = 15

    /// The reference direction x = P g over both blocks, with factors `f` given in Double.
    static func direction(_ f: Factors, gradient: [Double], damping: Double) -> [Double] {
        var x: [Double] = []
        var offset = 0
        for (l, s) in shapes.enumerated() {
            x += KFACReference.precondition(a: f.a[l], g: f.g[l], gradient: Array(gradient[offset..<offset + s.o * s.i]),
                                            outputs: s.o, inputs: s.i, damping: damping)
            offset += s.o * s.i
        }
        return x
    }

    static func rounded<S: BLASScalar>(_ f: Factors, _: S.Type) -> Factors {
        Factors(a: f.a.map { $0.map { Double(S($0)) } }, g: f.g.map { $0.map { Double(S($0)) } })
    }

    @Test("one π-damped step against the plain reference", arguments: Precision.allCases)
    func dampedStep(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let f = Self.factors(seed: 1)
            var rng = SplitMix64(seed: 2)
            let g: [S] = rng.vector(Self.n), θ0: [S] = rng.vector(Self.n)
            var opt = try KFAC<S>(learningRate: 0.7, damping: .fixed(0.1))
            try opt.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            var θ = θ0
            try opt.step(&θ, gradient: g)
            let x = Self.direction(Self.rounded(f, S.self), gradient: g.map(Double.init), damping: Double(S(0.1)))
            let expected = zip(θ0, x).map { Double($0) - Double(S(0.7)) * $1 }
            #expect(OptimizerTestSupport.relativeError(θ, expected) < (S.self == Double.self ? 1e-12 : 1e-5))
            #expect(opt.stepCount == 1)
            let pis = opt.dampingBalance.map(Double.init)
            #expect(pis.count == 2)
            let pi0 = (KFACReference.meanTrace(f.a[0], order: 3) / KFACReference.meanTrace(f.g[0], order: 2)).squareRoot()
            #expect(abs(pis[0] - pi0) / pi0 < 1e-5)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("the factors are averaged with decay β (the first initializes), refactored every T steps with the current gradient", arguments: Precision.allCases)
    func inverseInterval(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let beta = 0.8, lambda = 0.05, lr = 0.3
            var opt = try KFAC<S>(learningRate: S(lr), damping: .fixed(S(lambda)), factorDecay: S(beta), inverseUpdateInterval: 3)
            var rng = SplitMix64(seed: 7)
            var θ: [S] = rng.vector(Self.n)
            var reference = θ.map(Double.init)
            var average: Factors? = nil
            var inFactors: Factors? = nil
            for step in 0..<7 {
                let f = Self.rounded(Self.factors(seed: 100 + UInt64(step)), S.self)
                try opt.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
                if let a = average {
                    average = Factors(a: zip(a.a, f.a).map { zip($0, $1).map { beta * $0 + (1 - beta) * $1 } },
                                      g: zip(a.g, f.g).map { zip($0, $1).map { beta * $0 + (1 - beta) * $1 } })
                } else {
                    average = f
                }
                if step % 3 == 0 { inFactors = average }
                let g: [S] = rng.vector(Self.n)
                try opt.step(&θ, gradient: g)
                let x = Self.direction(inFactors!, gradient: g.map(Double.init), damping: Double(S(lambda)))
                for j in 0..<Self.n { reference[j] -= Double(S(lr)) * x[j] }
                #expect(OptimizerTestSupport.relativeError(θ, reference) < (S.self == Double.self ? 1e-11 : 1e-4), "step \(step)")
            }
            let averages = opt.factorAverages
            #expect(OptimizerTestSupport.relativeError(averages[1].activations, average!.a[1]) < (S.self == Double.self ? 1e-12 : 1e-5))
            #expect(opt.curvatureUpdates == 7)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("KL clipping scales the step by ν = min(1, √(κ / (η² Σ⟨∇W, X⟩)))", arguments: Precision.allCases)
    func klClipping(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let f = Self.rounded(Self.factors(seed: 3), S.self)
            var rng = SplitMix64(seed: 4)
            let g: [S] = rng.vector(Self.n)
            let x = Self.direction(f, gradient: g.map(Double.init), damping: Double(S(0.01)))
            let vg = zip(g, x).reduce(0) { $0 + Double($1.0) * $1.1 }
            let lr = 0.9, kappa = 1e-3
            let nu = min(1, (Double(S(kappa)) / (Double(S(lr)) * Double(S(lr)) * vg)).squareRoot())
            #expect(nu < 1)
            var opt = try KFAC<S>(learningRate: S(lr), damping: .fixed(S(0.01)), klClip: S(kappa))
            try opt.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            var θ = [S](repeating: 0, count: Self.n)
            try opt.step(&θ, gradient: g)
            let expected = x.map { -Double(S(lr)) * nu * $0 }
            #expect(OptimizerTestSupport.relativeError(θ, expected) < (S.self == Double.self ? 1e-12 : 1e-5))
            // A large κ does not clip.
            var loose = try KFAC<S>(learningRate: S(lr), damping: .fixed(S(0.01)), klClip: 1e6)
            try loose.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            var θ2 = [S](repeating: 0, count: Self.n)
            try loose.step(&θ2, gradient: g)
            #expect(OptimizerTestSupport.relativeError(θ2, x.map { -Double(S(lr)) * $0 }) < (S.self == Double.self ? 1e-12 : 1e-5))
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("Levenberg–Marquardt: ρ from the Kronecker quadratic model, λ adapted and refactored", arguments: Precision.allCases)
    func levenbergMarquardt(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let f = Self.rounded(Self.factors(seed: 5), S.self)
            var rng = SplitMix64(seed: 6)
            let g: [S] = rng.vector(Self.n)
            let lr = 0.5
            var opt = try KFAC<S>(learningRate: S(lr), damping: .levenbergMarquardt(initial: 0.01), inverseUpdateInterval: 100)
            #expect(opt.wantsLossReports)
            try opt.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            var θ = [S](repeating: 0, count: Self.n)
            try opt.step(&θ, gradient: g)
            // Predicted reduction −c gᵀx + c²/2 Σ⟨x, G x A⟩ with c = η.
            let x = Self.direction(f, gradient: g.map(Double.init), damping: Double(S(0.01)))
            var xfx = 0.0, offset = 0
            for (l, s) in Self.shapes.enumerated() {
                xfx += KFACReference.quadratic(Array(x[offset..<offset + s.o * s.i]), a: f.a[l], g: f.g[l], outputs: s.o, inputs: s.i)
                offset += s.o * s.i
            }
            let c = Double(S(lr))
            let predicted = -c * zip(g, x).reduce(0) { $0 + Double($1.0) * $1.1 } + c * c * xfx / 2
            // after − before = predicted: ρ = 1 > 3/4, λ ← λ/1.5.
            try opt.reportLoss(before: 10, after: S(10 + predicted))
            let rho = try #require(opt.lastReductionRatio)
            #expect(abs(Double(rho) - 1) < (S.self == Double.self ? 1e-9 : 1e-3))
            #expect(abs(Double(opt.currentDamping) - Double(S(0.01)) / 1.5) < 1e-6)
            #expect(throws: KFACError.noStepToEvaluate) { try opt.reportLoss(before: 1, after: 1) }
            // The new λ refactors at the next step even inside the interval.
            try opt.step(&θ, gradient: g)
            #expect(opt.factoredDamping == opt.currentDamping)
            // A bad step (ρ < 1/4) raises λ.
            let before = opt.currentDamping
            try opt.reportLoss(before: 1, after: 2)
            #expect(opt.currentDamping == before * 1.5)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    /// Runs `body`, expects it to throw `error`, and checks that parameters and checkpoint are unchanged.
    static func expectUnchanged<S: BLASScalar>(_ opt: inout KFAC<S>, _ θ: inout [S], _ error: KFACError,
                                               _ body: (inout KFAC<S>, inout [S]) throws -> Void) throws {
        let snapshot = try opt.checkpoint(), θ0 = θ
        #expect(throws: error) { try body(&opt, &θ) }
        #expect(try opt.checkpoint() == snapshot)
        #expect(OptimizerTestSupport.bitIdentical(θ, θ0))
    }

    @Test("every error is named and leaves parameters and state untouched", arguments: Precision.allCases)
    func errors(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let f = Self.factors(seed: 9)
            var rng = SplitMix64(seed: 10)
            let g: [S] = rng.vector(Self.n)
            var θ: [S] = rng.vector(Self.n)
            var opt = try KFAC<S>(inverseUpdateInterval: 2)
            try Self.expectUnchanged(&opt, &θ, .missingCurvature(step: 1)) { o, p in try o.step(&p, gradient: g) }
            try opt.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            try opt.step(&θ, gradient: g)
            // Bad blocks.
            var blocks = Self.blocks(f, as: S.self)
            blocks[1].activations[4] = .nan
            try Self.expectUnchanged(&opt, &θ, .nonFiniteFactor(layer: 1, factor: "A", index: 4, value: "nan")) { o, _ in
                try o.updateCurvature(.kronecker(blocks))
            }
            blocks = Self.blocks(f, as: S.self)
            blocks[0].preactivationGradients.removeLast()
            try Self.expectUnchanged(&opt, &θ, .blockShapeMismatch(layer: 0, reason: "G has 3 entries, expected 2² = 4")) { o, _ in
                try o.updateCurvature(.kronecker(blocks))
            }
            blocks = Self.blocks(f, as: S.self)
            blocks[1].parameterOffset = 5
            try Self.expectUnchanged(&opt, &θ, .blockShapeMismatch(layer: 1, reason: "parameterOffset = 5, expected 6 (blocks must tile θ in order)")) { o, _ in
                try o.updateCurvature(.kronecker(blocks))
            }
            let single = Array(Self.blocks(f, as: S.self).prefix(1))
            try Self.expectUnchanged(&opt, &θ, .blockLayoutChanged(layer: 1, expected: "2 layers", found: "1 blocks")) { o, _ in
                try o.updateCurvature(.kronecker(single))
            }
            try Self.expectUnchanged(&opt, &θ, .unsupportedCurvature("dense (.matrix)")) { o, _ in
                try o.updateCurvature(.matrix(.diagonalMetric([S](repeating: 1, count: Self.n))))
            }
            // Blocks that do not tile a longer θ (fresh optimizer: the layout is not yet bound to n).
            var fresh = try KFAC<S>()
            try fresh.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            var longer = θ + [0]
            try Self.expectUnchanged(&fresh, &longer, .blocksDoNotTile(covered: 15, parameters: 16)) { o, p in
                try o.step(&p, gradient: g + [0])
            }
            // A factor that is not positive definite even after the retries (refactoring step t = 2).
            var bad = Self.blocks(f, as: S.self)
            for j in 0..<3 { bad[1].preactivationGradients[j * 3 + j] = -1e6 }
            var strict = try KFAC<S>(damping: .fixed(0), factorDecay: 0, inverseUpdateInterval: 1, maximumDampingRetries: 2)
            try strict.updateCurvature(.kronecker(Self.blocks(f, as: S.self)))
            try strict.step(&θ, gradient: g)
            try strict.updateCurvature(.kronecker(bad))
            do {
                let snapshot = try strict.checkpoint(), θ0 = θ
                #expect(performing: { try strict.step(&θ, gradient: g) }, throws: { error in
                    guard case let KFACError.notPositiveDefinite(layer, factor, _, _, attempts) = error else { return false }
                    return layer == 1 && factor == "G" && attempts == 3
                })
                #expect(try strict.checkpoint() == snapshot)
                #expect(OptimizerTestSupport.bitIdentical(θ, θ0))
                #expect(strict.stepCount == 1)
            }
            // Non-finite gradient and bad hyperparameters are OptimizerErrors, also with nothing changed.
            var gBad = g
            gBad[3] = .infinity
            let snapshot = try opt.checkpoint(), θ0 = θ
            #expect(throws: OptimizerError.self) { try opt.step(&θ, gradient: gBad) }
            opt.learningRate = -1
            #expect(throws: OptimizerError.self) { try opt.step(&θ, gradient: g) }
            opt.learningRate = 0.1
            #expect(try opt.checkpoint() == snapshot)
            #expect(OptimizerTestSupport.bitIdentical(θ, θ0))
            #expect(throws: OptimizerError.self) { try KFAC<S>(factorDecay: 1) }
            #expect(throws: OptimizerError.self) { try KFAC<S>(inverseUpdateInterval: 0) }
            #expect(throws: OptimizerError.self) { try KFAC<S>(klClip: 0) }
            #expect(KFACError.nonFiniteStep.errorDescription?.contains("not finite") == true)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("λ = 0 on singular factors retries from the floor and keeps the raised λ with Levenberg–Marquardt", arguments: Precision.allCases)
    func dampingRetry(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            // A = āāᵀ of one sample: rank 1, singular; λ = 0 fails, the retry succeeds.
            let a: [S] = [1, 2, 1, 2, 4, 2, 1, 2, 1]
            let block = KroneckerBlock<S>(parameterOffset: 0, outputs: 1, inputs: 3, activations: a, preactivationGradients: [2])
            var opt = try KFAC<S>(damping: .fixed(0))
            try opt.updateCurvature(.kronecker([block]))
            var θ: [S] = [0, 0, 0]
            try opt.step(&θ, gradient: [1, 1, 1])
            let used = try #require(opt.factoredDamping)
            #expect(used > 0)
            #expect(θ.allSatisfy { $0.isFinite })
            var lm = try KFAC<S>(damping: .levenbergMarquardt(initial: 1e-8, minimum: 1e-8))
            try lm.updateCurvature(.kronecker([block]))
            θ = [0, 0, 0]
            try lm.step(&θ, gradient: [1, 1, 1])
            if S.self == Float.self || (lm.factoredDamping ?? 0) > 1e-8 {
                #expect(lm.currentDamping == lm.factoredDamping)
            }
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("checkpoints round-trip bit-identically and corrupt ones are refused", arguments: Precision.allCases)
    func checkpoints(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var opt = try KFAC<S>(learningRate: 0.2, damping: .levenbergMarquardt(initial: 0.01), factorDecay: 0.9,
                                  inverseUpdateInterval: 2, klClip: 0.1)
            var rng = SplitMix64(seed: 11)
            var θ: [S] = rng.vector(Self.n)
            for s in 0..<3 {
                try opt.updateCurvature(.kronecker(Self.blocks(Self.factors(seed: 20 + UInt64(s)), as: S.self)))
                try opt.step(&θ, gradient: rng.vector(Self.n))
                try opt.reportLoss(before: 1, after: 0.9)
            }
            let data = try opt.checkpoint()
            var restored = try KFAC<S>(checkpoint: data, parameterCount: Self.n)
            #expect(try restored.checkpoint() == data)
            var θ2 = θ
            let blocks = Self.blocks(Self.factors(seed: 30), as: S.self)
            let g: [S] = rng.vector(Self.n)
            try opt.updateCurvature(.kronecker(blocks)); try opt.step(&θ, gradient: g)
            try restored.updateCurvature(.kronecker(blocks)); try restored.step(&θ2, gradient: g)
            #expect(OptimizerTestSupport.bitIdentical(θ, θ2))
            #expect(try opt.checkpoint() == restored.checkpoint())
            #expect(throws: OptimizerError.self) { try KFAC<S>(checkpoint: data, parameterCount: Self.n + 1) }
            #expect(throws: OptimizerError.self) { try Adam<S>(checkpoint: data) }

            // Corruptions: a truncated buffer, a NaN, a negative counter, a broken layout.
            let object = try #require(try JSONSerialization.jsonObject(with: KFAC<S>(checkpoint: data).checkpoint(format: .json)) as? [String: Any])
            func corrupted(_ edit: (inout [String: Any]) -> Void) throws -> Data {
                var o = object
                var inner = try #require(o["optimizer"] as? [String: Any])
                edit(&inner)
                o["optimizer"] = inner
                return try JSONSerialization.data(withJSONObject: o)
            }
            let edits: [(inout [String: Any]) -> Void] = [
                { $0["averageA"] = Array(($0["averageA"] as! [Any]).dropLast()) },
                { var g = $0["factorG"] as! [Any]; g[0] = "nan"; $0["factorG"] = g },
                { $0["t"] = -1 },
                { var l = $0["layers"] as! [[String: Any]]; l[1]["offset"] = 7; $0["layers"] = l },
                { $0["pis"] = [] as [Any] },
                { $0["count"] = 16 },
            ]
            for (k, edit) in edits.enumerated() {
                let bad = try corrupted(edit)
                #expect(throws: OptimizerError.self, "corruption \(k)") { try KFAC<S>(checkpoint: bad) }
            }
            // A fresh optimizer round-trips too.
            let empty = try KFAC<S>().checkpoint()
            #expect(try KFAC<S>(checkpoint: empty).checkpoint() == empty)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }
}
