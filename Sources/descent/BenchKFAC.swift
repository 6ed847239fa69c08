import Descent
import DescentProblems
import Foundation

/// `descent bench --kind kfac` and `--kind kfac-race`: K-FAC on the digits perceptron.
///
/// - Step rows (`solver: "kfac"`): the average time of a whole K-FAC training step (minibatch
///   gradient + Kronecker factors + moving average + preconditioned step, refactoring every T
///   steps) over the same steps as one Adam training step (minibatch gradient + Adam step) on
///   the same network, batches and precision, interleaved round by round; the refactoring
///   steps and the others are also reported apart.
/// - Race rows: steps and wall time until the full-data training loss is ≤ a target for
///   K-FAC and for Adam, RMSProp and Nesterov with each learning rate of a grid (the loss is
///   checked every `checkEvery` steps, outside the timed region).
enum BenchKFAC {
    struct Network<S: BLASScalar> {
        var net: MultilayerPerceptron<S>
        var hidden: [Int]
        var label: String { ([64] + hidden + [10]).map(String.init).joined(separator: "-") }

        init(hidden: [Int]) throws {
            let data: Dataset<S> = try BundledDataset.digits.load(standardize: true)
            self.net = try MultilayerPerceptron(data: data, hiddenLayers: hidden, hiddenActivation: .tanh, outputLayer: .softmax)
            self.hidden = hidden
        }
    }

    struct StepTiming {
        var kfacSeconds: Double
        var refactorSeconds: Double
        var reuseSeconds: Double
        var adamSeconds: Double
        var steps: Int
        /// Heap allocations per timed K-FAC and Adam step (nil where they cannot be counted).
        var kfacAllocations: Double?
        var adamAllocations: Double?
    }

    /// The K-FAC training step as `minimize` takes it: gradient and factors from one evaluation
    /// into reused buffers (`factors`), the moving average, the preconditioned step.
    static func kfacStep<S: BLASScalar>(_ net: MultilayerPerceptron<S>, θ: inout [S], gradient: inout [S], factors: inout [KroneckerBlock<S>],
                                        optimizer: inout KFAC<S>, sampler: inout MinibatchSampler, step: Int, fisher: FisherKind,
                                        seed: UInt64) throws {
        try sampler.withNextBatch { batch in
            _ = θ.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    net.lossGradientAndKroneckerFactors(at: t, batch: batch, fisher: fisher, step: step, seed: seed, gradient: g, factors: &factors)
                }
            }
            try optimizer.updateCurvature(.kronecker(factors))
            try optimizer.step(&θ, gradient: gradient)
        }
    }

    /// A first-order training step.
    static func firstOrderStep<S: BLASScalar, O: Optimizer>(_ net: MultilayerPerceptron<S>, θ: inout [S], gradient: inout [S],
                                                          optimizer: inout O, sampler: inout MinibatchSampler) throws where O.Scalar == S {
        try sampler.withNextBatch { batch in
            _ = θ.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in net.lossAndGradient(at: t, batch: batch, gradient: g) }
            }
            try optimizer.step(&θ, gradient: gradient)
        }
    }

    /// Average seconds per K-FAC and per Adam training step over `steps` steps each (after
    /// `warmup`), interleaved in rounds of T steps.
    static func measureSteps<S: BLASScalar>(_: S.Type, hidden: [Int], batchSize: Int, fisher: FisherKind, interval: Int,
                                            steps: Int, warmup: Int = 10) throws -> StepTiming {
        let network = try Network<S>(hidden: hidden)
        let net = network.net
        var θk = net.initialParameters(seed: 0), θa = θk
        var gk = [S](repeating: 0, count: net.dimension), ga = gk
        var factors: [KroneckerBlock<S>] = []
        var kfac = try KFAC<S>(learningRate: 0.1, inverseUpdateInterval: interval, nonFiniteGradientPolicy: .unchecked)
        var adam = try Adam<S>(learningRate: 1e-3, nonFiniteGradientPolicy: .unchecked)
        var sk = try MinibatchSampler(sampleCount: net.sampleCount, batchSize: batchSize, seed: 1)
        var sa = try MinibatchSampler(sampleCount: net.sampleCount, batchSize: batchSize, seed: 1)
        var t = 0
        for _ in 0..<warmup {
            try kfacStep(net, θ: &θk, gradient: &gk, factors: &factors, optimizer: &kfac, sampler: &sk, step: t, fisher: fisher, seed: 0)
            try firstOrderStep(net, θ: &θa, gradient: &ga, optimizer: &adam, sampler: &sa)
            t += 1
        }
        var kTotal = 0.0, refactor = 0.0, reuse = 0.0, nRefactor = 0, nReuse = 0, aTotal = 0.0
        var done = 0
        var kAllocations = 0, aAllocations = 0
        while done < steps {
            for _ in 0..<interval where done < steps {
                let refactors = kfac.stepCount % interval == 0
                let before = BenchSystem.allocationCount() ?? 0
                let c0 = DispatchTime.now().uptimeNanoseconds
                try kfacStep(net, θ: &θk, gradient: &gk, factors: &factors, optimizer: &kfac, sampler: &sk, step: t, fisher: fisher, seed: 0)
                let c1 = DispatchTime.now().uptimeNanoseconds
                kAllocations += (BenchSystem.allocationCount() ?? 0) - before
                let dt = Double(c1 - c0) * 1e-9
                kTotal += dt
                if refactors { refactor += dt; nRefactor += 1 } else { reuse += dt; nReuse += 1 }
                t += 1
                done += 1
            }
        }
        for _ in 0..<steps {
            let before = BenchSystem.allocationCount() ?? 0
            let c0 = DispatchTime.now().uptimeNanoseconds
            try firstOrderStep(net, θ: &θa, gradient: &ga, optimizer: &adam, sampler: &sa)
            aTotal += Double(DispatchTime.now().uptimeNanoseconds - c0) * 1e-9
            aAllocations += (BenchSystem.allocationCount() ?? 0) - before
        }
        let counting = BenchSystem.allocationCount() != nil
        return StepTiming(kfacSeconds: kTotal / Double(steps), refactorSeconds: nRefactor > 0 ? refactor / Double(nRefactor) : .nan,
                          reuseSeconds: nReuse > 0 ? reuse / Double(nReuse) : .nan, adamSeconds: aTotal / Double(steps), steps: steps,
                          kfacAllocations: counting ? Double(kAllocations) / Double(steps) : nil,
                          adamAllocations: counting ? Double(aAllocations) / Double(steps) : nil)
    }

    struct RaceResult {
        var optimizer: String
        var learningRate: Double
        var steps: Int?
        var seconds: Double
        var finalLoss: Double
    }

    /// Trains from the same start until the full-data loss ≤ `target` (checked every
    /// `checkEvery` steps) or `maxSteps`; returns steps and training seconds (checks excluded).
    static func race<S: BLASScalar>(_ net: MultilayerPerceptron<S>, name: String, learningRate: Double, batchSize: Int,
                                    target: Double, maxSteps: Int, checkEvery: Int,
                                    step: (inout [S], inout [S], inout MinibatchSampler, Int) throws -> Void) throws -> RaceResult {
        var θ = net.initialParameters(seed: 0)
        var g = [S](repeating: 0, count: net.dimension)
        var sampler = try MinibatchSampler(sampleCount: net.sampleCount, batchSize: batchSize, seed: 1)
        var seconds = 0.0
        var loss = Double(try net.loss(at: θ))
        var t = 0
        while t < maxSteps {
            let c0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<checkEvery where t < maxSteps {
                try step(&θ, &g, &sampler, t)
                t += 1
            }
            seconds += Double(DispatchTime.now().uptimeNanoseconds - c0) * 1e-9
            loss = Double(try net.loss(at: θ))
            if !loss.isFinite { break }
            if loss <= target { return RaceResult(optimizer: name, learningRate: learningRate, steps: t, seconds: seconds, finalLoss: loss) }
        }
        return RaceResult(optimizer: name, learningRate: learningRate, steps: nil, seconds: seconds, finalLoss: loss)
    }
}

extension BenchRunner {
    /// Prints one row: a JSON line with `--json`, else an aligned table line.
    func kfacPrint(_ fields: [(String, BenchJSON)]) {
        if json {
            print(BenchRow(fields: fields).jsonLine)
        } else {
            print(fields.map { key, value -> String in
                switch value {
                case let .number(x): return "\(key)=\(BenchTable.fixed(x, x < 1 ? 5 : 3))"
                default: return "\(key)=\(value.text)"
                }
            }.joined(separator: " "))
        }
        fflush(nil)
    }

    /// `solver: "kfac"` rows: K-FAC's average training step vs Adam's on the same network.
    mutating func kfac(hidden: [Int], batchSize: Int, interval: Int, steps: Int, precisions: [String], fishers: [FisherKind]) throws {
        for precision in precisions {
            for fisher in fishers {
                let t = precision == "float"
                    ? try BenchKFAC.measureSteps(Float.self, hidden: hidden, batchSize: batchSize, fisher: fisher, interval: interval, steps: steps)
                    : try BenchKFAC.measureSteps(Double.self, hidden: hidden, batchSize: batchSize, fisher: fisher, interval: interval, steps: steps)
                kfacPrint([
                    ("kind", .string("kfac")), ("solver", .string("kfac")), ("precision", .string(precision)),
                    ("network", .string(([64] + hidden + [10]).map(String.init).joined(separator: "-"))),
                    ("batch", .int(batchSize)), ("fisher", .string(fisher.rawValue)), ("inverse_interval", .int(interval)),
                    ("seconds_per_step", .number(t.kfacSeconds)), ("seconds_refactoring_step", .number(t.refactorSeconds)),
                    ("seconds_reuse_step", .number(t.reuseSeconds)), ("adam_seconds_per_step", .number(t.adamSeconds)),
                    ("ratio_to_adam", .number(t.kfacSeconds / t.adamSeconds)), ("steps", .int(t.steps)),
                    ("allocations_per_step", t.kfacAllocations.map { .number($0) } ?? .null),
                    ("adam_allocations_per_step", t.adamAllocations.map { .number($0) } ?? .null),
                ])
            }
        }
    }

    /// Race rows: steps and seconds to the target loss for K-FAC and the tuned first-order optimizers.
    mutating func kfacRace(hidden: [Int], batchSize: Int, interval: Int, fisher: FisherKind, target: Double, maxSteps: Int,
                           checkEvery: Int, kfacGrid: [BenchKFACOptions.KFACSetting], firstOrder: Bool) throws {
        let net = try BenchKFAC.Network<Float>(hidden: hidden).net
        let label = ([64] + hidden + [10]).map(String.init).joined(separator: "-")
        var results: [BenchKFAC.RaceResult] = []
        func report(_ r: BenchKFAC.RaceResult) {
            results.append(r)
            kfacPrint([("kind", .string("kfac-race")), ("network", .string(label)), ("optimizer", .string(r.optimizer)),
                       ("lr", .number(r.learningRate)), ("target_loss", .number(target)),
                       ("steps", r.steps.map { .int($0) } ?? .null), ("seconds", .number(r.seconds)), ("final_loss", .number(r.finalLoss))])
        }
        for k in kfacGrid {
            var o = try KFAC<Float>(learningRate: Float(k.lr), damping: .fixed(Float(k.damping)), factorDecay: Float(k.decay),
                                    inverseUpdateInterval: k.interval ?? interval, klClip: k.clip.map { Float($0) })
            var factors: [KroneckerBlock<Float>] = []
            report(try BenchKFAC.race(net, name: "kfac \(k.label(interval: interval))", learningRate: k.lr, batchSize: batchSize, target: target,
                                      maxSteps: maxSteps, checkEvery: checkEvery) { θ, g, s, t in
                try BenchKFAC.kfacStep(net, θ: &θ, gradient: &g, factors: &factors, optimizer: &o, sampler: &s, step: t, fisher: fisher, seed: 0)
            })
        }
        let grids: [(String, [Double])] = firstOrder ? [("adam", [1e-3, 3e-3, 1e-2, 3e-2]), ("rmsprop", [3e-4, 1e-3, 3e-3, 1e-2]),
                                                        ("nesterov", [0.03, 0.1, 0.3, 1])] : []
        for (name, lrs) in grids {
            for lr in lrs {
                var o: any Optimizer<Float>
                switch name {
                case "adam": o = try Adam<Float>(learningRate: Float(lr))
                case "rmsprop": o = try RMSProp<Float>(learningRate: Float(lr))
                default: o = try Momentum<Float>(learningRate: Float(lr), momentum: 0.9, nesterov: true)
                }
                report(try BenchKFAC.race(net, name: name, learningRate: lr, batchSize: batchSize, target: target, maxSteps: maxSteps, checkEvery: checkEvery) { θ, g, s, _ in
                    try BenchKFAC.firstOrderStep(net, θ: &θ, gradient: &g, optimizer: &o, sampler: &s)
                })
            }
        }
        let firstOrder = results.filter { !$0.optimizer.hasPrefix("kfac") && $0.steps != nil }
        if let best = firstOrder.min(by: { $0.steps! < $1.steps! }), let k = results.filter({ $0.optimizer.hasPrefix("kfac") && $0.steps != nil }).min(by: { $0.steps! < $1.steps! }) {
            let fastest = firstOrder.min(by: { $0.seconds < $1.seconds })!
            kfacPrint([("kind", .string("kfac-race-summary")), ("kfac_steps", .int(k.steps!)), ("kfac_seconds", .number(k.seconds)),
                       ("best_first_order", .string("\(best.optimizer) lr=\(best.learningRate)")), ("best_steps", .int(best.steps!)),
                       ("step_ratio", .number(Double(k.steps!) / Double(best.steps!))),
                       ("fastest_first_order", .string("\(fastest.optimizer) lr=\(fastest.learningRate)")), ("fastest_seconds", .number(fastest.seconds)),
                       ("time_ratio", .number(k.seconds / fastest.seconds))])
        }
    }
}

import ArgumentParser

/// `descent bench --kind kfac|kfac-race` options.
struct BenchKFACOptions: ParsableArguments {
    @Option(name: .customLong("kfac-hidden"), help: "Hidden widths of the digits perceptron (default 256,256: 64-256-256-10).")
    var hidden: String = "256,256"
    @Option(name: .customLong("kfac-batch"), help: "Minibatch size (default 256).")
    var batch: Int = 256
    @Option(name: .customLong("kfac-steps"), help: "Timed steps per K-FAC/Adam row (default 50).")
    var steps: Int = 50
    @Option(name: .customLong("inverse-interval"), help: "K-FAC's T (default 10).")
    var interval: Int = 10
    @Option(name: .customLong("kfac-fisher"), help: "Comma-separated estimation modes for the step rows (default sampled,empirical,exact); the race uses the first.")
    var fisher: String = "sampled,empirical,exact"
    @Option(name: .customLong("target-loss"), help: "Race: training loss to reach (default 0.05).")
    var target: Double = 0.05
    @Option(name: .customLong("max-steps"), help: "Race: steps before giving up (default 2000).")
    var maxSteps: Int = 2000

    @Option(name: .customLong("check-every"), help: "Race: full-data loss checked every this many steps (default 1).")
    var checkEvery: Int = 1
    @Option(name: .customLong("kfac-grid"), help: "Race: K-FAC settings 'lr/λ/κ/β[/T]' separated by ';' (κ 'off': no KL clipping; default: the comparison plan's setting).")
    var kfacGrid: String = BenchKFACOptions.defaultGrid
    @Flag(name: .customLong("kfac-only"), help: "Race: K-FAC settings only (no first-order grid).")
    var kfacOnly = false

    /// The 64-256-256-10 comparison plan's K-FAC setting (ComparisonPlan.widePerceptron) and
    /// the same with T = 10.
    static let defaultGrid = "1/0.001/0.02/0.95/1;1/0.001/0.02/0.95/10"

    /// One K-FAC setting of the race.
    struct KFACSetting {
        var lr: Double, damping: Double, clip: Double?, decay: Double, interval: Int?
        func label(interval t: Int) -> String {
            "η=\(lr) λ=\(damping) κ=\(clip.map { "\($0)" } ?? "off") β=\(decay) T=\(interval ?? t)"
        }
    }

    func grid() throws -> [KFACSetting] {
        try kfacGrid.split(separator: ";").map { entry in
            let f = entry.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 4 || f.count == 5, let lr = Double(f[0]), let lambda = Double(f[1]), let beta = Double(f[3]),
                  f[2] == "off" || Double(f[2]) != nil, f.count == 4 || Int(f[4]) != nil else {
                throw ValidationError("--kfac-grid: '\(entry)' is not lr/λ/κ/β[/T]")
            }
            return KFACSetting(lr: lr, damping: lambda, clip: f[2] == "off" ? nil : Double(f[2]), decay: beta,
                               interval: f.count == 5 ? Int(f[4]) : nil)
        }
    }

    func validate() throws {
        _ = try grid()
        guard batch > 0, steps > 0, interval > 0, maxSteps > 0, target > 0, checkEvery > 0 else {
            throw ValidationError("--kfac-batch, --kfac-steps, --inverse-interval, --max-steps and --target-loss must be > 0")
        }
        _ = try widths()
        _ = try fishers()
    }

    func widths() throws -> [Int] {
        try hidden.split(separator: ",").map {
            guard let w = Int($0.trimmingCharacters(in: .whitespaces)), w > 0 else { throw ValidationError("--kfac-hidden: '\($0)' is not a positive width") }
            return w
        }
    }

    func fishers() throws -> [FisherKind] {
        try fisher.split(separator: ",").map {
            guard let f = FisherKind(rawValue: $0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--kfac-fisher: '\($0)' is not exact|sampled|empirical") }
            return f
        }
    }
}

extension Bench {
    func runKFAC(_ kind: BenchKind, runner: inout BenchRunner) throws {
        let o = kfacOptions
        if kind == .kfac {
            try runner.kfac(hidden: try o.widths(), batchSize: o.batch, interval: o.interval, steps: o.steps,
                            precisions: precision.scalars, fishers: try o.fishers())
        } else {
            try runner.kfacRace(hidden: try o.widths(), batchSize: o.batch, interval: o.interval, fisher: try o.fishers()[0],
                                target: o.target, maxSteps: o.maxSteps, checkEvery: o.checkEvery, kfacGrid: try o.grid(),
                                firstOrder: !o.kfacOnly)
        }
    }
}
