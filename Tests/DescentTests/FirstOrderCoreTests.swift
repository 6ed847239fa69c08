import Foundation
import Testing
@testable import Descent
import DescentProblems
import DescentTestSupport

/// The shared first-order core: counters that cannot overflow, restored state that must be
/// finite, the decoupled weight decay modifier, and the thread pool behind the fused pass.
@Suite("First-order core")
struct FirstOrderCoreTests {
    typealias Support = OptimizerTestSupport
    static let count = 7

    /// Every optimizer of the suite plus the modifier around two bases.
    static func optimizers<S: BLASScalar>(_: S.Type) throws -> [any Optimizer<S>] {
        try Support.everyOptimizer(S.self) + [
            try DecoupledWeightDecay(SGD<S>(learningRate: 0.05), weightDecay: 0.1),
            try DecoupledWeightDecay(RMSProp<S>(momentum: 0.5, centered: true), weightDecay: 0.1),
        ]
    }

    static func stepped<O: Optimizer>(_ o: O) throws -> O {
        var o = o
        var rng = SplitMix64(seed: 5)
        var x: [O.Scalar] = rng.vector(count)
        for _ in 0..<2 { try o.step(&x, gradient: rng.vector(count)) }
        return o
    }

    /// The optimizer object inside a checkpoint, following `base` through modifiers.
    static func edited(_ data: Data, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        func descend(_ object: inout [String: Any]) {
            if var base = object["base"] as? [String: Any] {
                descend(&base)
                object["base"] = base
            } else {
                edit(&object)
            }
        }
        var outer = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var inner = try #require(outer["optimizer"] as? [String: Any])
        descend(&inner)
        outer["optimizer"] = inner
        return try JSONSerialization.data(withJSONObject: outer)
    }

    static func expectCorrupt(_ body: () throws -> Void, mentioning text: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected a corrupt-checkpoint error mentioning \(text)", sourceLocation: sourceLocation)
        } catch let OptimizerError.corruptCheckpoint(reason) {
            #expect(reason.contains(text), "\(reason)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    /// t or skipped at Int.max in a checkpoint is refused at restore (the next step would trap),
    /// for every optimizer: 2 counters × 16 optimizers.
    @Test(arguments: Support.precisions) func countersAtIntMaxAreRefused(_ s: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Self.optimizers(S.self) { try check(o) }
        }
        func check<O: Optimizer>(_ o: O) throws {
            for fresh in [true, false] {
                let data = try (fresh ? o : Self.stepped(o)).checkpoint(format: .json)
                for counter in ["t", "skipped"] {
                    let bad = try Self.edited(data) { $0[counter] = Int.max }
                    Self.expectCorrupt({ _ = try O(checkpoint: bad) },
                                       mentioning: "step counter \(counter) = \(Int.max) cannot be incremented")
                    // One below is still accepted and steps (a fresh state with t > 0 is refused
                    // at the step for its missing buffers, so only stepped ones).
                    guard !fresh else { continue }
                    var ok = try O(checkpoint: Self.edited(data) { $0[counter] = Int.max - 1 })
                    var x = [O.Scalar](repeating: 1, count: Self.count)
                    try ok.step(&x, gradient: [O.Scalar](repeating: 0.5, count: Self.count))
                }
            }
        }
        try run(s)
    }

    /// A counter already at Int.max (reachable only by editing memory) makes the step throw a
    /// named error before anything is touched.
    @Test(arguments: Support.precisions) func stepAtIntMaxThrowsAndTouchesNothing(_ s: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var adam = try Self.stepped(Adam<S>())
            adam.t = Int.max
            var x = [S](repeating: 1, count: Self.count)
            let before = try adam.checkpoint()
            #expect(throws: OptimizerError.counterOverflow(name: "t")) {
                try adam.step(&x, gradient: [S](repeating: 0.5, count: Self.count))
            }
            #expect(x == [S](repeating: 1, count: Self.count))
            #expect(try adam.checkpoint() == before)

            var sgd = try SGD<S>(nonFiniteGradientPolicy: .skipStep)
            sgd.skipped = Int.max
            #expect(throws: OptimizerError.counterOverflow(name: "skipped")) {
                try sgd.step(&x, gradient: [S](repeating: .nan, count: Self.count))
            }
            #expect(sgd.skippedSteps == Int.max && sgd.stepCount == 0)
            #expect(OptimizerError.counterOverflow(name: "t").errorDescription?.contains("counter t") == true)
        }
        try run(s)
    }

    /// A NaN or infinity in any restored state buffer is refused, naming the buffer and index.
    @Test(arguments: Support.precisions) func nonFiniteStateIsRefused(_ s: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            for o in try Self.optimizers(S.self) { try check(o) }
        }
        func check<O: Optimizer>(_ o: O) throws {
            let data = try Self.stepped(o).checkpoint(format: .json)
            let object = try #require(try JSONSerialization.jsonObject(with: Self.edited(data) { _ in }) as? [String: Any])
            _ = object
            var names: [String] = []
            _ = try Self.edited(data) { inner in
                names = inner.keys.filter { (inner[$0] as? [Any])?.isEmpty == false }.sorted()
            }
            for name in names {
                for bad in ["nan", "inf", "-inf"] {
                    let edited = try Self.edited(data) { inner in
                        var values = inner[name] as! [Any]
                        values[3] = bad
                        inner[name] = values
                    }
                    Self.expectCorrupt({ _ = try O(checkpoint: edited) }, mentioning: "buffer \(name) element 3 is")
                }
            }
        }
        try run(s)
    }

    /// The modifier is torch's decoupled decay: θ(1 − ηλ) then the base step, and AdamW is
    /// exactly Adam inside it; a non-finite scale is refused.
    @Test(arguments: Support.precisions) func decoupledWeightDecayModifier(_ s: any BLASScalar.Type) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            var rng = SplitMix64(seed: 9)
            var a: [S] = rng.vector(Self.count), b = a, c = a
            var sgdw = try DecoupledWeightDecay(SGD<S>(learningRate: 0.1), weightDecay: 0.2)
            var adamw = try AdamW<S>(learningRate: 0.01, weightDecay: 0.3)
            var wrapped = try DecoupledWeightDecay(Adam<S>(learningRate: 0.01), weightDecay: 0.3)
            for _ in 0..<4 {
                let g: [S] = rng.vector(Self.count)
                let shrink = S(1 - 0.1 * Double(S(0.2)))
                let expected = zip(c, g).map { p, gi in p * shrink - S(0.1) * gi }
                try sgdw.step(&c, gradient: g)
                #expect(c == expected)
                try adamw.step(&a, gradient: g)
                try wrapped.step(&b, gradient: g)
                #expect(Support.bitIdentical(a, b))
            }
            #expect(DecoupledWeightDecay<SGD<S>>.kind == "sgd+decoupled_weight_decay")
            let restored = try DecoupledWeightDecay<SGD<S>>(checkpoint: sgdw.checkpoint())
            #expect(restored.weightDecay == sgdw.weightDecay && restored.stepCount == 4)
            var x = a
            let zero = [S](repeating: 0, count: Self.count)
            #expect(throws: OptimizerError.self) {
                try x.withUnsafeMutableBufferPointer { xb in
                    try zero.withUnsafeBufferPointer { try adamw.step(xb, gradient: $0, parameterScale: .nan) }
                }
            }
            #expect(x == a)
            #expect(throws: OptimizerError.self) { _ = try DecoupledWeightDecay(SGD<S>(), weightDecay: -1) }
        }
        try run(s)
    }

    // MARK: The pool

    /// An element-wise kernel that records which chunks ran: y[i] = 3 x[i] + 1.
    struct Affine: ChunkKernel {
        let x: UnsafePointer<Double>
        let y: UnsafeMutablePointer<Double>
        let visits: UnsafeMutablePointer<Int>
        func callAsFunction(_ range: Range<Int>) {
            for i in range {
                y[i] = 3 * x[i] + 1
                visits[i] += 1
            }
        }
    }

    /// Adam's fused pass pinned to 1, 2 and 4 threads is bit-identical to the serial pass, and
    /// every element is visited exactly once.
    @Test(arguments: [1, 2, 4]) func pinnedThreadsAreBitIdenticalToSerial(_ threads: Int) throws {
        let n = 3 * 8192 * 4 + 777
        var rng = SplitMix64(seed: UInt64(threads))
        let g: [Double] = rng.vector(n), p0: [Double] = rng.vector(n), m0: [Double] = rng.vector(n)
        let v0: [Double] = (rng.vector(n) as [Double]).map { $0 * $0 }
        func fused(threads: Int) -> ([Double], [Double], [Double]) {
            var p = p0, m = m0, v = v0
            p.withUnsafeMutableBufferPointer { pb in
                m.withUnsafeMutableBufferPointer { mb in
                    v.withUnsafeMutableBufferPointer { vb in
                        g.withUnsafeBufferPointer { gb in
                            let pass = ElementPass(parameters: pb.baseAddress!, gradient: gb.baseAddress!, count: n,
                                                   sign: -1, coupledDecay: 0.01, scale: 0.999)
                            let rule = AdamRule<Double, FlagOff>(0.01, 0.3, 0.999, 0.1, 0.001, 1e-8)
                            let kernel = FusedKernel<AdamRule<Double, FlagOff>, FlagOff, FlagOff>(pass: pass, rule: rule, state: StateSlots(mb.baseAddress!, vb.baseAddress!))
                            parallelChunks(count: n, minimumPerThread: 1024, threads: threads, kernel)
                        }
                    }
                }
            }
            return (p, m, v)
        }
        let serial = fused(threads: 1), threaded = fused(threads: threads)
        #expect(Support.bitIdentical(serial.0, threaded.0))
        #expect(Support.bitIdentical(serial.1, threaded.1))
        #expect(Support.bitIdentical(serial.2, threaded.2))

        let x: [Double] = rng.vector(n)
        var y = [Double](repeating: 0, count: n), visits = [Int](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                visits.withUnsafeMutableBufferPointer { vb in
                    parallelChunks(count: n, minimumPerThread: 1024, threads: threads,
                                   Affine(x: xb.baseAddress!, y: yb.baseAddress!, visits: vb.baseAddress!))
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
        #expect(y.indices.allSatisfy { y[$0] == 3 * x[$0] + 1 })
    }

    /// A kernel that starts a parallel pass of its own: the nested call finds the pool busy and
    /// runs inline on its thread; every element is still visited once.
    struct Nested: ChunkKernel {
        let inner: Affine
        let outerVisits: UnsafeMutablePointer<Int>
        func callAsFunction(_ range: Range<Int>) {
            for i in range { outerVisits[i] += 1 }
            // Each chunk runs the whole inner pass over its own range.
            let shifted = Affine(x: inner.x + range.lowerBound, y: inner.y + range.lowerBound,
                                 visits: inner.visits + range.lowerBound)
            parallelChunks(count: range.count, minimumPerThread: 16, threads: 4, shifted)
        }
    }

    @Test func nestedCallsFallBackToInline() {
        let n = 64 * 1024
        let x = (0..<n).map { Double($0) * 0.5 }
        var y = [Double](repeating: 0, count: n)
        var visits = [Int](repeating: 0, count: n), outer = [Int](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                visits.withUnsafeMutableBufferPointer { vb in
                    outer.withUnsafeMutableBufferPointer { ob in
                        let inner = Affine(x: xb.baseAddress!, y: yb.baseAddress!, visits: vb.baseAddress!)
                        parallelChunks(count: n, minimumPerThread: 1024, threads: 4,
                                       Nested(inner: inner, outerVisits: ob.baseAddress!))
                    }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 } && outer.allSatisfy { $0 == 1 })
        #expect(y.indices.allSatisfy { y[$0] == 3 * x[$0] + 1 })
    }

    /// Concurrent callers: whoever finds the pool busy runs inline; all results are right.
    @Test func concurrentCallersShareThePool() async {
        let n = 256 * 1024
        await withTaskGroup(of: Bool.self) { group in
            for seed in 0..<4 {
                group.addTask {
                    let x = (0..<n).map { Double($0 ^ seed) }
                    var y = [Double](repeating: 0, count: n), visits = [Int](repeating: 0, count: n)
                    for _ in 0..<5 {
                        x.withUnsafeBufferPointer { xb in
                            y.withUnsafeMutableBufferPointer { yb in
                                visits.withUnsafeMutableBufferPointer { vb in
                                    parallelChunks(count: n, minimumPerThread: 4096, threads: 2,
                                                   Affine(x: xb.baseAddress!, y: yb.baseAddress!, visits: vb.baseAddress!))
                                }
                            }
                        }
                    }
                    return visits.allSatisfy { $0 == 5 } && y.indices.allSatisfy { y[$0] == 3 * x[$0] + 1 }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}

/// `decimalDouble`: a Float hyperparameter stands for its shortest decimal form.
@Suite struct DecimalHyperparameterTests {
    /// Against Swift's own shortest round-trip printing (an independent algorithm): Floats written
    /// as short decimals, and random bit patterns. In [1e-15, 1e15] — where the powers of ten are
    /// exact in `Double`, and every hyperparameter in practice — the result is a decimal with as
    /// few significant digits as the printed one (the printed one itself, or at an exact tie its
    /// neighbour); everywhere it rounds back to the same Float.
    @Test func equalsTheShortestDecimalSwiftPrints() {
        var generator = SplitMix64(seed: 7)
        var values: [Float] = [0.9, 0.99, 0.999, 0.95, 1e-8, 1e-3, 3e-4, 0.1, 0.01, 0.3, 1, 2, 10, 123456.7]
        for _ in 0..<20_000 {
            let bits = UInt32(truncatingIfNeeded: generator.next()) & 0x7FFF_FFFF
            let f = Float(bitPattern: bits)
            if f.isFinite && f != 0 { values.append(f) }
        }
        values += [1e-30, 3.4e38, .leastNormalMagnitude, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        // Powers of ten and their neighbours: where ⌊log₁₀|x|⌋, estimated from the binary exponent, steps.
        for k in -44...38 {
            let p = Float("1e\(k)")!
            values += [p.nextDown, p, p.nextUp, -p]
        }
        var longer: [Float] = []
        for f in values {
            let ours = decimalDouble(f)
            #expect(Float(ours) == f, "\(f): \(ours) does not round back")
            guard f >= 1e-15 && f <= 1e15 else { continue }
            if Self.significantDigits("\(ours)") > Self.significantDigits("\(f)") { longer.append(f) }
        }
        #expect(longer.isEmpty, "\(longer.count) longer than the printed decimal, e.g. \(longer.prefix(5))")
        #expect(decimalDouble(Float(0.99)) == 0.99 && decimalDouble(Float(0.999)) == 0.999)
        #expect(decimalDouble(Float(1e-8)) == 1e-8 && decimalDouble(Float(3e-4)) == 3e-4)
    }

    /// Significant digits of a printed number: "0.0012300" → 3, "1.5e-07" → 2.
    static func significantDigits(_ text: String) -> Int {
        let mantissa = text.split(whereSeparator: { $0 == "e" || $0 == "E" }).first.map(String.init) ?? text
        let digits = mantissa.filter(\.isNumber).drop { $0 == "0" }
        return digits.reversed().drop { $0 == "0" }.count
    }

    @Test func doubleIsItselfAndSpecialValuesPassThrough() {
        for d in [0.99, 1e-300, -0.5, 0.0] { #expect(decimalDouble(d) == d) }
        #expect(decimalDouble(Float.infinity) == .infinity)
        #expect(decimalDouble(Float.nan).isNaN)
        #expect(decimalDouble(Float(0)) == 0)
        #expect(1 - decimalDouble(Float(0.99)) == 1 - 0.99)
    }
}
