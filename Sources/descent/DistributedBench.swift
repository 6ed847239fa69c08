import DescentDistributed
import DescentProblems
import Foundation

/// A data objective for the distributed benchmark with a cost per sample of one pass over θ:
/// sample i has a shift aᵢ and ℓᵢ(θ) = ½ Σⱼ (θⱼ − aᵢ)², so ∇L_B = θ − mean_B(a) is built by one
/// read–modify–write of the gradient per sample (a memory-bound "backward pass").
/// Concrete (Double): called through the distributed wrapper's generic witness, a generic type
/// would run its loop unspecialized.
struct BenchShiftedQuadratics: Objective {
    typealias Scalar = Double
    let dimension: Int
    let sampleCount: Int
    var name: String { "shifted-quadratics" }

    func shift(_ i: Int) -> Scalar { Scalar(i % 7) / 7 }

    func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                         gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        let count = batch?.count ?? sampleCount
        let w = 1 / Scalar(count)
        gradient.update(repeating: 0)
        var loss: Scalar = 0
        for k in 0..<count {
            let a = shift(batch?[k] ?? k)
            var s: Scalar = 0
            for j in 0..<dimension {
                let d = θ[j] - a
                gradient[j] += w * d
                s += d * d
            }
            loss += w * s / 2
        }
        return loss
    }

    func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: dimension) { g in lossAndGradient(at: θ, batch: batch, gradient: g) }
    }

    func initialParameters(seed: UInt64) -> [Scalar] { [Scalar](repeating: 1, count: dimension) }
}

/// `descent bench --kind distributed` (run it under `mpirun -np P`): Adam data-parallel, replicated
/// and with sharded state, on the shifted quadratics with `samplesPerRank` samples on every rank
/// (weak scaling: the work per rank does not depend on P). Rank 0 prints one row per case: the step
/// time, the time inside MPI ("communication"), the rest ("compute": gradient + optimizer step),
/// the payload bytes per step counted by the library next to the formula, the optimizer state per rank.
enum DistributedBench {
    static func run(sizes: [Int], steps: Int, samplesPerRank: Int, json: Bool) throws {
        let world = try Communicator.world()
        let P = world.size
        var rows: [[String]] = [["P", "n", "state", "step ms", "compute ms", "comm ms", "payload B/step", "measured = formula", "ring B/rank/step", "state B/rank"]]
        for n in sizes {
            // Baselines without MPI, the same per-rank work (samplesPerRank samples): the plain step written
            // out (gradient, norm, Adam: specialized), and `minimize` with a bare Adam (which DescentProblems
            // runs unspecialized: the optimizer's element loop on generic scalars).
            do {
                let objective = BenchShiftedQuadratics(dimension: n, sampleCount: samplesPerRank)
                let start = objective.initialParameters(seed: 0)
                var adam = try Adam<Double>(learningRate: 1e-3)
                var θ = start, g = [Double](repeating: 0, count: n)
                func plainStep() throws {
                    let loss = θ.withUnsafeBufferPointer { tp in g.withUnsafeMutableBufferPointer { objective.lossAndGradient(at: tp, batch: nil, gradient: $0) } }
                    let norm = g.withUnsafeBufferPointer { Double.nrm2(count: n, x: $0.baseAddress!, incx: 1) }
                    guard loss.isFinite, norm.isFinite else { throw CLIError("bench: non-finite loss") }
                    try θ.withUnsafeMutableBufferPointer { tp in try g.withUnsafeBufferPointer { try adam.step(tp, gradient: $0) } }
                }
                try plainStep()
                var t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<steps { try plainStep() }
                var slowest = try world.allreduce(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, .max)
                var perStep = slowest / Double(steps) * 1e3
                rows.append(["\(P)", "\(n)", "plain step (no MPI)", String(format: "%.2f", perStep), String(format: "%.2f", perStep), "0", "0", "-", "0", "\(2 * 8 * n)"])
                var bare = try Adam<Double>(learningRate: 1e-3)
                _ = try minimize(objective, from: start, optimizer: &bare, options: TrainingOptions(maxSteps: 1))
                t0 = DispatchTime.now().uptimeNanoseconds
                let result = try minimize(objective, from: start, optimizer: &bare, options: TrainingOptions(maxSteps: steps))
                slowest = try world.allreduce(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, .max)
                perStep = slowest / Double(result.history.count) * 1e3
                rows.append(["\(P)", "\(n)", "minimize, bare Adam", String(format: "%.2f", perStep), String(format: "%.2f", perStep), "0", "0", "-", "0", "\(2 * 8 * n)"])
            }
            for shard in [false, true] {
                let objective = BenchShiftedQuadratics(dimension: n, sampleCount: samplesPerRank * P)
                let statistics = CommunicationStatistics()
                var adam = try DistributedOptimizer(try Adam<Double>(learningRate: 1e-3), communicator: world, shardState: shard,
                                                    statistics: statistics)
                let start = objective.initialParameters(seed: 0)
                // One untimed step (allocates the state, warms the pages), then `steps` timed ones.
                _ = try minimizeDistributed(objective, from: start, optimizer: &adam, options: TrainingOptions(maxSteps: 1), statistics: statistics)
                statistics.reset()
                try world.barrier()
                let t0 = DispatchTime.now().uptimeNanoseconds
                let result = try minimizeDistributed(objective, from: start, optimizer: &adam,
                                                     options: TrainingOptions(maxSteps: steps), statistics: statistics)
                let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                // `minimize` evaluates steps + 1 times (the final record) and steps optimizer steps.
                let evaluations = Double(result.history.count)
                let s = statistics.snapshot
                let slowest = try world.allreduce(wall, .max), comm = try world.allreduce(s.seconds, .max)
                // Per evaluation (steps + 1, the last is the final record) one allreduce of n + 1; per step
                // (sharded) one allgather of n: the formula, to compare with the library's own count.
                // Sharded (ZeRO-1): per evaluation a reduce-scatter of n and an allreduce of 2 (loss, ‖g_slice‖²).
                let formulaTotal = shard ? Int(evaluations) * (n + 2) * 8 + steps * n * 8 : Int(evaluations) * (n + 1) * 8
                let perStep = shard ? (n + 2) * 8 + n * 8 : (n + 1) * 8
                let stateBytes = 2 * 8 * (shard ? (try BlockPartition(count: n, parts: P)).range(of: world.rank).count : n)
                let maxState = try world.allreduce(Int64(stateBytes), .max)
                let row = ["\(P)", "\(n)", shard ? "sharded" : "replicated",
                           String(format: "%.2f", slowest / evaluations * 1e3),
                           String(format: "%.2f", (slowest - comm) / evaluations * 1e3),
                           String(format: "%.2f", comm / evaluations * 1e3),
                           "\(perStep)", s.payloadBytes == formulaTotal ? "yes" : "no (\(s.payloadBytes) vs \(formulaTotal))",
                           String(format: "%.0f", s.ringBytesPerRank / evaluations), "\(maxState)"]
                if json, world.rank == 0 {
                    let keys = rows[0].map { $0.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "/", with: "_per_") }
                    print("{" + zip(keys, row).map { "\"\($0)\": \(Double($1) != nil ? $1 : "\"\($1)\"")" }.joined(separator: ", ") + "}")
                }
                rows.append(row)
            }
        }
        printTable(rows, json: json, rank: world.rank)
        guard world.rank == 0, !json else { return }
        print("distributed data-parallel Adam (Double), \(samplesPerRank) samples per rank, \(steps) steps, P = \(P)")
        print("payload per step: replicated: gradient n + loss 1 allreduced; sharded (ZeRO-1): gradient n reduce-scattered, loss and")
        print("‖g_slice‖² (2) allreduced, θ (n) allgathered; 8 bytes each. measured = formula: the library's byte count over the run")
        print("equals (steps+1)·(n+1)·8, sharded (steps+1)·(n+2)·8 + steps·n·8. compute = step − comm.")
        print("ring B/rank: 2(P−1)/P · allreduce + (P−1)/P · (reduce-scatter + allgather) payload; comm = time inside MPI (slowest rank).")
    }

    static func printTable(_ rows: [[String]], json: Bool, rank: Int) {
        guard rank == 0, !json else { return }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows { print(row.indices.map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
    }

    /// `descent bench --kind distributed --optimizer kfac`: K-FAC data-parallel on the digits
    /// perceptron (64-256-256-10 by default), global minibatch `batch` split over the ranks, KAISA
    /// (layers factored round-robin, one allgather of the updates) at P > 1. Rank 0 prints the step
    /// time, the time inside MPI, the payload per step (gradient + factors + shared updates).
    static func runKFAC(hidden: [Int], batch: Int, steps: Int, json: Bool) throws {
        let world = try Communicator.world()
        let P = world.size
        let network = try BenchKFAC.Network<Double>(hidden: hidden)
        let statistics = CommunicationStatistics()
        var kfac = try DistributedOptimizer(try KFAC<Double>(learningRate: 0.01), communicator: world, statistics: statistics)
        let start = network.net.initialParameters(seed: 0)
        let options = TrainingOptions<Double>(maxSteps: steps, batchSize: batch, seed: 1)
        var warm = options
        warm.maxSteps = 1
        _ = try minimizeDistributed(network.net, from: start, optimizer: &kfac, options: warm, statistics: statistics)
        statistics.reset()
        try world.barrier()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = try minimizeDistributed(network.net, from: start, optimizer: &kfac, options: options, statistics: statistics)
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        let s = statistics.snapshot
        let slowest = try world.allreduce(wall, .max), comm = try world.allreduce(s.seconds, .max)
        let n = network.net.dimension
        let factors = kfac.inner.layout.reduce(0) { $0 + $1.inputs * $1.inputs + $1.outputs * $1.outputs }
        let perStep = Double(s.payloadBytes) / Double(steps)
        let row = ["\(P)", network.label, "\(n)", "\(batch)", P > 1 ? "KAISA (\(kfac.inner.layout.count) layers round-robin)" : "one rank",
                   String(format: "%.2f", slowest / Double(steps) * 1e3), String(format: "%.2f", (slowest - comm) / Double(steps) * 1e3),
                   String(format: "%.2f", comm / Double(steps) * 1e3), String(format: "%.0f", perStep),
                   "\((n + 1) * 8 + factors * 8 + (P > 1 ? n * 8 : 0))", "\(result.history.last.map { String(format: "%.4f", Double($0.loss)) } ?? "-")"]
        let header = ["P", "network", "n", "batch", "work", "step ms", "compute ms", "comm ms", "payload B/step", "formula B/step", "final loss"]
        if json, world.rank == 0 {
            let keys = header.map { $0.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "/", with: "_per_") }
            print("{" + zip(keys, row).map { "\"\($0)\": \(Double($1) != nil ? $1 : "\"\($1)\"")" }.joined(separator: ", ") + "}")
        }
        printTable([header, row], json: json, rank: world.rank)
        guard world.rank == 0, !json else { return }
        print("distributed K-FAC (Double), global batch \(batch), \(steps) steps (refactoring every 10), P = \(P)")
        print("formula B/step: gradient + loss (n + 1) + factors Σ_l (i² + o²) allreduced, + the preconditioned updates (n) allgathered")
        print("at P > 1; 8 bytes each (the measured payload adds the final record's n + 1 and one 8-byte agreement per refactoring).")
    }
}
