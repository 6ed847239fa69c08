// descent-mpi-checks: run under `mpirun -np P` by Tests/DescentDistributedTests and
// scripts/test-distributed. Every rank runs the same checks; each check prints one line on
// rank 0 ("ok <name>" or "FAIL <name>: detail"), and the process exits 1 when any failed on any rank.
//
//   descent-mpi-checks            all checks
//   descent-mpi-checks fail       rank 1 (or 0 if alone) fails mid-run: the job must abort, not hang
import DescentDistributed
import DescentProblems
import Foundation

let world: Communicator
do { world = try Communicator.world() } catch { MPIEnvironment.abort("\(error)") }
nonisolated(unsafe) var failures = 0  // the checks run on the main thread only

/// Records one check: agreed over all ranks (a check fails if it failed anywhere).
func check(_ name: String, _ body: () throws -> String?) {
    var detail: String?
    do { detail = try body() } catch { detail = "threw \(error)" }
    let anyFailed: Double
    do { anyFailed = try world.allreduce(detail == nil ? 0.0 : 1.0, .max) } catch { MPIEnvironment.abort("\(error)") }
    if let detail { print("FAIL \(name) (rank \(world.rank) of \(world.size)): \(detail)") }
    else if anyFailed > 0 { if world.rank == 0 { print("FAIL \(name): failed on another rank") } }
    else if world.rank == 0 { print("ok \(name)") }
    if anyFailed > 0 { failures += 1 }
}

/// The norm-wise relative difference max_i |a_i − b_i| / max_i |b_i| (elements near zero are
/// judged on the vector's scale: Adam's first steps are ±η·sign(g), so a gradient component at
/// rounding level may flip between runs that differ only in summation order).
func relativeError<S: BinaryFloatingPoint>(_ a: [S], _ b: [S]) -> Double {
    guard a.count == b.count else { return .infinity }
    var difference = 0.0, scale = 1e-300
    for (x, y) in zip(a, b) {
        difference = Swift.max(difference, Double(abs(x - y)))
        scale = Swift.max(scale, Double(abs(y)))
    }
    return difference / scale
}

if CommandLine.arguments.dropFirst().first == "fail" {
    let victim = world.size > 1 ? 1 : 0
    try? world.barrier()
    if world.rank == victim { MPIEnvironment.abort("deliberate failure of rank \(victim) (check of the abort path)", code: 3) }
    // The other ranks wait in a collective that rank `victim` never joins: only the abort ends them.
    var x = [1.0]
    try? x.withUnsafeMutableBufferPointer { try world.allreduce($0) }
    print("rank \(world.rank) was not aborted")
    exit(0)
}

// MARK: - Collectives against plain sums

func collectives<S: BinaryFloatingPoint & MPIScalar>(_: S.Type) {
    let P = world.size, r = world.rank
    // Rank r holds x_r[i] = (r + 1) · (i + 1) + r/8: exact in Float and Double.
    func value(_ rank: Int, _ i: Int) -> S { S(rank + 1) * S(i + 1) + S(rank) / 8 }
    for count in [1, 7, 1000] {
        check("allreduce sum \(S.self) n=\(count)") {
            var x = (0..<count).map { value(r, $0) }
            try x.withUnsafeMutableBufferPointer { try world.allreduce($0, .sum) }
            let expected = (0..<count).map { i in (0..<P).reduce(S(0)) { $0 + value($1, i) } }
            return x == expected ? nil : "got \(x.prefix(3)), expected \(expected.prefix(3))"
        }
        check("allreduce max \(S.self) n=\(count)") {
            var x = (0..<count).map { i in i % P == r ? S(1000 + i) : value(r, i) }
            try x.withUnsafeMutableBufferPointer { try world.allreduce($0, .max) }
            let expected = (0..<count).map { i in (0..<P).map { q in i % P == q ? S(1000 + i) : value(q, i) }.max()! }
            return x == expected ? nil : "got \(x.prefix(3)), expected \(expected.prefix(3))"
        }
    }
    check("broadcast \(S.self)") {
        var x = (0..<5).map { value(r, $0) }
        let root = P - 1
        try x.withUnsafeMutableBufferPointer { try world.broadcast($0, root: root) }
        return x == (0..<5).map { value(root, $0) } ? nil : "got \(x)"
    }
    check("allgather \(S.self)") {
        let mine = (0..<3).map { value(r, $0) }
        var all = [S](repeating: -1, count: 3 * P)
        try mine.withUnsafeBufferPointer { m in try all.withUnsafeMutableBufferPointer { try world.allgather(m, into: $0) } }
        return all == (0..<P).flatMap { q in (0..<3).map { value(q, $0) } } ? nil : "got \(all)"
    }
    for n in [10, 11, 2] {  // uneven blocks, and fewer elements than ranks
        check("allgatherv in place \(S.self) n=\(n)") {
            let partition = try BlockPartition(count: n, parts: P)
            var x = [S](repeating: -1, count: n)
            for i in partition.range(of: r) { x[i] = value(0, i) }
            try x.withUnsafeMutableBufferPointer { try world.allgather(inPlace: $0, partition: partition) }
            return x == (0..<n).map { value(0, $0) } ? nil : "got \(x)"
        }
        check("reduce-scatter \(S.self) n=\(n)") {
            let partition = try BlockPartition(count: n, parts: P)
            let x = (0..<n).map { value(r, $0) }
            let mine = partition.range(of: r)
            var out = [S](repeating: -1, count: mine.count)
            try x.withUnsafeBufferPointer { xp in
                try out.withUnsafeMutableBufferPointer { try world.reduceScatter(xp, into: $0, partition: partition) }
            }
            var inPlace = x
            try inPlace.withUnsafeMutableBufferPointer { try world.reduceScatter(inPlace: $0, partition: partition) }
            let expected = mine.map { i in (0..<P).reduce(S(0)) { $0 + value($1, i) } }
            guard out == expected else { return "got \(out), expected \(expected)" }
            return Array(inPlace[mine]) == expected ? nil : "in place: got \(Array(inPlace[mine])), expected \(expected)"
        }
    }
    check("allgatherv counts \(S.self)") {
        let counts = (0..<P).map { $0 % 2 == 0 ? 2 : 0 }
        var x = [S](repeating: -1, count: counts.reduce(0, +))
        let offset = counts[..<r].reduce(0, +)
        for k in 0..<counts[r] { x[offset + k] = value(r, k) }
        try x.withUnsafeMutableBufferPointer { try world.allgather(inPlace: $0, counts: counts) }
        let expected = (0..<P).flatMap { q in (0..<counts[q]).map { value(q, $0) } }
        return x == expected ? nil : "got \(x)"
    }
}

collectives(Float.self)
collectives(Double.self)

check("split by parity") {
    guard let sub = try world.split(color: world.rank % 2, key: world.rank) else { return "no communicator" }
    let expectedSize = (world.size - world.rank % 2 + 1) / 2
    guard sub.size == expectedSize, sub.rank == world.rank / 2 else { return "rank \(sub.rank) of \(sub.size)" }
    let sum = try sub.allreduce(Int64(world.rank))
    let expected = Int64((0..<world.size).filter { $0 % 2 == world.rank % 2 }.reduce(0, +))
    return sum == expected ? nil : "sum \(sum), expected \(expected)"
}
check("split with undefined color") {
    let sub = try world.split(color: world.rank == 0 ? 0 : nil)
    return (sub != nil) == (world.rank == 0) ? nil : "unexpected communicator"
}
check("agreement on a checksum") {
    guard try world.agrees(on: 42) else { return "equal values disagree" }
    let differs = try world.agrees(on: UInt64(world.rank))
    return differs == (world.size == 1) ? nil : "different values agree"
}
check("errors are thrown, not fatal") {
    var x = [1.0]
    do { try x.withUnsafeMutableBufferPointer { try world.broadcast($0, root: world.size) }; return "no error" }
    catch let e as MPIError { return e.description.contains("root") ? nil : "\(e)" }
}
check("block partition") {
    let p = try BlockPartition(count: 10, parts: 3)
    let ranges = (0..<3).map { p.range(of: $0) }
    guard ranges == [0..<4, 4..<7, 7..<10] else { return "\(ranges)" }
    return (0..<10).allSatisfy { ranges[p.owner(of: $0)].contains($0) } ? nil : "owner"
}

// MARK: - Trajectories: distributed equals one process

/// The single-process trajectory (every rank computes it alone) and the distributed one.
func compare<S: BLASScalar & MPIScalar, F: Objective, O: Optimizer>(
    _ name: String, _ objective: F, _ optimizer: O, options: TrainingOptions<S>, shard: Bool, tolerance: Double
) where F.Scalar == S, O.Scalar == S {
    check(name) {
        var options = options
        options.recordParameters = true
        let start = objective.initialParameters(seed: 7).map { $0 + S(0.01) }
        var single = optimizer
        let reference = try minimize(objective, from: start, optimizer: &single, options: options)
        var distributed = try DistributedOptimizer(optimizer, communicator: world, shardState: shard, verifyChecksum: true)
        let result = try minimizeDistributed(objective, from: start, optimizer: &distributed, options: options)
        guard result.history.count == reference.history.count else {
            return "\(result.history.count) records, single process \(reference.history.count)"
        }
        var worst = 0.0
        for (a, b) in zip(result.history, reference.history) {
            // The recorded ‖g‖ too: under sharding it comes from the norm carrier of the reduce-scattered gradient.
            worst = Swift.max(worst, relativeError(a.parameters, b.parameters), relativeError([a.loss], [b.loss]),
                              relativeError([a.gradientNorm], [b.gradientNorm]))
        }
        if S.self == Float.self, world.rank == 0 { print("note \(name): max relative difference \(worst) (tolerance \(tolerance))") }
        return worst <= tolerance ? nil : "relative difference \(worst) > \(tolerance)"
    }
}

let logistic = try! LogisticRegression(data: SyntheticData.logisticRegression(samples: 103, features: 5, seed: 3, as: Double.self).data, l2: 0.01)
let softmax = try! SoftmaxRegression(data: SyntheticData.softmaxRegression(samples: 61, features: 4, classes: 3, seed: 5, as: Double.self).data)
let mlp = try! MultilayerPerceptron(data: SyntheticData.moons(samples: 50, seed: 2, as: Double.self).data, hiddenLayers: [6], outputLayer: .sigmoid)
let batched = TrainingOptions<Double>(maxSteps: 25, batchSize: 16, seed: 11)
let full = TrainingOptions<Double>(maxSteps: 15)
// Every first-order optimizer of the registry, at its defaults except η.
let firstOrderRates: [String: Double] = ["sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.01,
                                         "adam": 0.01, "adamw": 0.01]
let firstOrder: [(String, any Optimizer<Double>)] = OptimizerRegistry.firstOrder.map { d in
    (d.name, try! d.make(Double.self, values: firstOrderRates[d.name].map { [("learningRate", .number($0))] } ?? []))
}
func compareAny<F: Objective>(_ name: String, _ f: F, _ o: any Optimizer<Double>, options: TrainingOptions<Double>, shard: Bool)
    where F.Scalar == Double {
    func open<O: Optimizer>(_ o: O) where O.Scalar == Double { compare(name, f, o, options: options, shard: shard, tolerance: 1e-10) }
    open(o)
}
for (name, optimizer) in firstOrder {
    compareAny("data-parallel \(name) logistic minibatch", logistic, optimizer, options: batched, shard: false)
    compareAny("sharded \(name) logistic minibatch", logistic, optimizer, options: batched, shard: true)
    compareAny("data-parallel \(name) softmax full batch", softmax, optimizer, options: full, shard: false)
}
compareAny("data-parallel adam mlp minibatch", mlp, try! Adam(learningRate: 0.01), options: batched, shard: false)
compareAny("sharded adam mlp minibatch", mlp, try! Adam(learningRate: 0.01), options: batched, shard: true)
compareAny("sharded adam rosenbrock (no samples)", Rosenbrock<Double>(), try! Adam(learningRate: 0.01), options: full, shard: true)
var clipped = batched
clipped.gradientClipNorm = 0.05
clipped.schedule = .cosine(initial: 0.05, minimum: 0.001, period: 25)
compareAny("data-parallel momentum clipped + cosine schedule", logistic, try! Momentum(learningRate: 0.05), options: clipped, shard: true)
compare("data-parallel natural gradient exact Fisher", logistic, try! NaturalGradient<Double>(learningRate: 0.5),
        options: batched, shard: false, tolerance: 1e-10)
var empirical = full
empirical.fisher = .empirical
compare("data-parallel natural gradient empirical Fisher", softmax, try! NaturalGradient<Double>(learningRate: 0.5),
        options: empirical, shard: false, tolerance: 1e-10)
for fisher in [FisherKind.exact, .sampled, .empirical] {
    var kfacOptions = batched
    kfacOptions.fisher = fisher
    compare("data-parallel kfac mlp \(fisher.rawValue) Fisher", mlp, try! KFAC<Double>(learningRate: 0.1),
            options: kfacOptions, shard: false, tolerance: 1e-10)
}
// Adaptive K-FAC: the factors, the loss at the trial point and the quadratic model's three
// Fisher forms are allreduced; every rank takes the single process's step.
for fisher in [FisherKind.exact, .sampled] {
    var adaptiveOptions = batched
    adaptiveOptions.fisher = fisher
    compare("data-parallel adaptive kfac mlp \(fisher.rawValue) Fisher minibatch", mlp,
            try! AdaptiveKFAC<Double>(initialDamping: 0.1, dampingInterval: 2, inverseUpdateInterval: 3),
            options: adaptiveOptions, shard: false, tolerance: 1e-10)
}
compare("data-parallel adaptive kfac softmax full batch", softmax, try! AdaptiveKFAC<Double>(), options: full, shard: false, tolerance: 1e-10)

// Regression: a forced Woodbury solver with n ≤ |B|·k got the dense allreduced Fisher and failed;
// minimizeDistributed now gathers the rows for it.
compare("data-parallel natural gradient forced woodbury, n ≤ |B|·k (rows gathered)", logistic,
        try! NaturalGradient<Double>(learningRate: 0.5, solver: .woodbury), options: batched, shard: false, tolerance: 1e-10)
compare("data-parallel natural gradient mlp exact Fisher (rows gathered, n > |B|·k)", mlp, try! NaturalGradient<Double>(learningRate: 0.5),
        options: batched, shard: false, tolerance: 1e-10)

// Float: the partial sums are added in another order than the single process's, so each
// gradient/curvature differs by a few ulps (ε = 6·10⁻⁸); over T = 20–25 steps of a non-chaotic
// trajectory these add up to about T · few ε ≈ 10⁻⁶ of ‖θ‖∞. Tolerance 1e-5: 10× that bound.
let logisticFloat = try! LogisticRegression(data: SyntheticData.logisticRegression(samples: 103, features: 5, seed: 3, as: Float.self).data)
let mlpFloat = try! MultilayerPerceptron(data: SyntheticData.moons(samples: 50, seed: 2, as: Float.self).data, hiddenLayers: [6], outputLayer: .sigmoid)
let batchedFloat = TrainingOptions<Float>(maxSteps: 20, batchSize: 16, seed: 11)
let floatTolerance = 1e-5
compare("data-parallel adam logistic Float", logisticFloat, try! Adam<Float>(learningRate: 0.01),
        options: batchedFloat, shard: true, tolerance: floatTolerance)
compare("data-parallel sgd logistic Float", logisticFloat, try! SGD<Float>(learningRate: 0.1),
        options: batchedFloat, shard: false, tolerance: floatTolerance)
compare("data-parallel momentum mlp Float", mlpFloat, try! Momentum<Float>(learningRate: 0.05, momentum: 0.9),
        options: batchedFloat, shard: true, tolerance: floatTolerance)
// The natural gradient solves (F + λI)x = g: the ulp-level differences of F and g are amplified by up
// to cond(F + λI); measured 1.4e-5 (10–100× the first-order runs): tolerance 1e-4.
compare("data-parallel natural gradient logistic Float", logisticFloat, try! NaturalGradient<Float>(learningRate: 0.5),
        options: batchedFloat, shard: false, tolerance: 1e-4)
compare("data-parallel kfac mlp Float", mlpFloat, try! KFAC<Float>(learningRate: 0.1),
        options: batchedFloat, shard: false, tolerance: floatTolerance)

// MARK: - Bytes per step equal the formula

/// Replicated: per evaluation one allreduce of n + 1 (gradient and loss). Sharded (ZeRO-1): per
/// evaluation one reduce-scatter of n and one allreduce of 2 (loss, ‖g_slice‖²), per step one
/// allgather of n. Ring bytes per rank: allreduce 2(P−1)/P, reduce-scatter and allgather (P−1)/P.
for shard in [false, true] {
    check("traffic per step equals the formula (\(shard ? "sharded: reduce-scatter + allgather" : "replicated: one allreduce"))") {
        let statistics = CommunicationStatistics()
        var adam = try DistributedOptimizer(try Adam<Double>(learningRate: 0.01), communicator: world, shardState: shard, statistics: statistics)
        let steps = 6, n = logistic.dimension, P = Double(world.size)
        let result = try minimizeDistributed(logistic, from: logistic.initialParameters(seed: 1), optimizer: &adam,
                                             options: TrainingOptions(maxSteps: steps, batchSize: 16, seed: 11), statistics: statistics)
        let evaluations = result.history.count  // steps + 1 (the final record)
        guard evaluations == steps + 1 else { return "\(evaluations) evaluations" }
        let s = statistics.snapshot
        let payload = shard ? evaluations * (n + 2) * 8 + steps * n * 8 : evaluations * (n + 1) * 8
        let ring = shard ? Double(evaluations) * ((P - 1) / P * Double(n * 8) + 2 * (P - 1) / P * 16) + Double(steps) * (P - 1) / P * Double(n * 8)
                         : Double(evaluations) * 2 * (P - 1) / P * Double((n + 1) * 8)
        let collectives = shard ? 2 * evaluations + steps : evaluations
        guard s.payloadBytes == payload else { return "payload \(s.payloadBytes) B, formula \(payload) B" }
        guard s.collectives == collectives else { return "\(s.collectives) collectives, formula \(collectives)" }
        return abs(s.ringBytesPerRank - ring) <= 1e-9 * max(ring, 1) ? nil : "ring bytes \(s.ringBytesPerRank), formula \(ring)"
    }
}

// The natural gradient's two curvature paths: dense (logistic, n = 6 ≤ |B| = 16: one allreduce of
// n² + 2 per update) and rows (perceptron, n = 25 > |B|·k = 16: a 2-scalar agreement on the base's own
// curvature, then the Jacobian rows |B|·n and the probabilities |B| allgathered).
func naturalTraffic<F: Objective>(_ label: String, _ objective: F, dense: Bool) where F.Scalar == Double {
    check("natural gradient traffic per step equals the formula (\(label))") {
        let statistics = CommunicationStatistics()
        var natural = try DistributedOptimizer(try NaturalGradient<Double>(learningRate: 0.5), communicator: world, statistics: statistics)
        let steps = 5, n = objective.dimension, b = 16
        let result = try minimizeDistributed(objective, from: objective.initialParameters(seed: 7), optimizer: &natural,
                                             options: TrainingOptions(maxSteps: steps, batchSize: b, seed: 11), statistics: statistics)
        let lossReports = natural.wantsLossReports ? steps * 8 : 0
        // The batches' sizes (an epoch's last batch is short: 50 = 3 · 16 + 2).
        var sampler = try MinibatchSampler(sampleCount: objective.sampleCount, batchSize: b, seed: 11)
        let rows = (0..<steps).reduce(0) { total, _ in total + sampler.nextBatch().count }
        let curvature = dense ? steps * (n * n + 2) * 8 : steps * 2 * 8 + (rows * n + rows) * 8
        let payload = result.history.count * (n + 1) * 8 + curvature + lossReports
        let s = statistics.snapshot
        return s.payloadBytes == payload ? nil : "payload \(s.payloadBytes) B in \(s.collectives) collectives, formula \(payload) B (loss reports \(natural.wantsLossReports), steps \(natural.stepCount))"
    }
}
naturalTraffic("dense Fisher allreduce", logistic, dense: true)
naturalTraffic("rows allgathered", mlp, dense: false)

// KAISA: K-FAC's layers factored round-robin, the preconditioned updates shared by one allgather of
// n per step; the factors summed by one allreduce of Σ_l (i_l² + o_l²) per curvature update; one
// 1-scalar allreduce per refactoring (T = 10: steps 0, 10, 20) agrees that every factorization succeeded.
check("kaisa traffic per step equals the formula") {
    let statistics = CommunicationStatistics()
    var kfac = try DistributedOptimizer(try KFAC<Double>(learningRate: 0.1), communicator: world, statistics: statistics)
    let steps = 25
    let result = try minimizeDistributed(mlp, from: mlp.initialParameters(seed: 7), optimizer: &kfac,
                                         options: TrainingOptions(maxSteps: steps, batchSize: 16, seed: 11), statistics: statistics)
    let n = mlp.dimension, evaluations = result.history.count
    let factors = kfac.inner.layout.reduce(0) { $0 + $1.inputs * $1.inputs + $1.outputs * $1.outputs }
    let kaisa = world.size > 1
    let refactors = (steps + 9) / 10
    let payload = evaluations * (n + 1) * 8 + steps * factors * 8 + (kaisa ? steps * n * 8 + refactors * 8 : 0)
    let s = statistics.snapshot
    return s.payloadBytes == payload ? nil : "payload \(s.payloadBytes) B, formula \(payload) B"
}

// MARK: - Sharded checkpoints restore onto the same ranks

check("sharded checkpoint round trip") {
    var options = batched
    options.maxSteps = 10
    let start = logistic.initialParameters(seed: 1)
    var straight = try DistributedOptimizer(try Adam<Double>(learningRate: 0.01), communicator: world, shardState: true)
    let twenty = try minimizeDistributed(logistic, from: start, optimizer: &straight, options: TrainingOptions(maxSteps: 20, batchSize: 16, seed: 11))
    var first = try DistributedOptimizer(try Adam<Double>(learningRate: 0.01), communicator: world, shardState: true)
    _ = try minimizeDistributed(logistic, from: start, optimizer: &first, options: options)
    let data = try JSONEncoder().encode(first)
    guard first.inner.stateCount == first.partition?.range(of: world.rank).count else { return "state is not the slice" }
    var restored = try JSONDecoder().decode(DistributedOptimizer<Adam<Double>>.self, from: data)
    // The first half's θ: replay it, then continue with the restored state on the second half's batches.
    var replay = try DistributedOptimizer(try Adam<Double>(learningRate: 0.01), communicator: world, shardState: true)
    let half = try minimizeDistributed(logistic, from: start, optimizer: &replay, options: options)
    let full = try DistributedObjective(logistic, communicator: world)
    var θ = half.parameters
    var sampler = try MinibatchSampler(sampleCount: logistic.sampleCount, batchSize: 16, seed: 11)
    for _ in 0..<10 { _ = sampler.nextBatch() }
    for _ in 10..<20 {
        let batch = sampler.nextBatch()
        var g = [Double](repeating: 0, count: θ.count)
        θ.withUnsafeBufferPointer { tp in g.withUnsafeMutableBufferPointer { gp in
            batch.withUnsafeBufferPointer { _ = full.lossAndGradient(at: tp, batch: $0, gradient: gp) } } }
        try restored.step(&θ, gradient: g)
    }
    let e = relativeError(θ, twenty.parameters)
    return e <= 1e-12 ? nil : "restored run differs by \(e)"
}

if world.rank == 0 { print(failures == 0 ? "all checks passed on \(world.size) ranks" : "\(failures) checks failed") }
MPIEnvironment.finalize()
exit(failures == 0 ? 0 : 1)
