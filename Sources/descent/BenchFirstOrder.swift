import Descent

/// One first-order optimizer of the ``OptimizerRegistry`` as the benchmark runs it: its name
/// and the arrays its default configuration's kernel moves per step.
struct BenchOptimizer: Sendable {
    let descriptor: OptimizerDescriptor
    var name: String { descriptor.name }
    /// State arrays the optimizer allocates (for the memory check).
    var stateArrays: Int { descriptor.stateArrays ?? 0 }
    /// Parameters and state arrays read and written back; the gradient is read on top.
    var updatedArrays: Int { stateArrays + 1 }

    var arraysRead: Int { updatedArrays + 1 }
    var arraysWritten: Int { updatedArrays }

    static var all: [BenchOptimizer] { OptimizerRegistry.firstOrder.map(BenchOptimizer.init) }

    static func named(_ name: String) -> BenchOptimizer? { all.first { $0.name == name } }
}

/// Timings of one (optimizer, precision, n) case, all per step, medians over rounds.
struct FirstOrderTiming {
    /// With ``NonFiniteGradientPolicy/unchecked`` (as PyTorch, which does not check).
    var uncheckedSeconds: Double
    /// With the default ``NonFiniteGradientPolicy/throwError`` (one more read of the gradient).
    var checkedSeconds: Double
    /// The stream kernel with the same arrays read and written.
    var streamSeconds: Double
    /// Heap allocations per timed step, unchecked and checked (nil where they cannot be counted).
    var allocationsPerStep: Double?
    var checkedAllocationsPerStep: Double?
    var rounds: Int
    var stepsPerRound: Int
}

/// Runs the first-order cases.
enum BenchFirstOrder {
    /// Builds the optimizer `spec.name` with the library's defaults (PyTorch's; momentum 0.9
    /// for momentum and nesterov) and measures it on `buffers`.
    ///
    /// The optimizers listed in ``specialized(_:buffers:budgetSeconds:minimumRounds:)`` are
    /// timed through their concrete type, as a caller that names the type steps them; any other
    /// optimizer of the registry through `any Optimizer` (one dynamic dispatch more per step,
    /// visible at n ≈ 10³).
    static func measure<Scalar: BLASScalar>(_ spec: BenchOptimizer, buffers: BenchBuffers<Scalar>,
                                            budgetSeconds: Double, minimumRounds: Int) throws -> FirstOrderTiming? {
        if let t = try specialized(spec, buffers: buffers, budgetSeconds: budgetSeconds, minimumRounds: minimumRounds) {
            return t
        }
        let fresh = try spec.descriptor.make(Scalar.self)
        func open<O: Optimizer>(_ o: O) throws -> FirstOrderTiming where O.Scalar == Scalar {
            try time({ policy in
                var o = o
                o.nonFiniteGradientPolicy = policy
                return o
            }, spec, buffers, budgetSeconds, minimumRounds)
        }
        return try open(fresh)
    }

    /// The optimizers timed through their concrete type (specialized loops).
    static func specialized<Scalar: BLASScalar>(_ spec: BenchOptimizer, buffers: BenchBuffers<Scalar>,
                                                budgetSeconds: Double, minimumRounds: Int) throws -> FirstOrderTiming? {
        let b = budgetSeconds, r = minimumRounds
        switch spec.name {
        case "sgd": return try time({ try SGD<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "momentum": return try time({ try Momentum<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "nesterov": return try time({ try Momentum<Scalar>(nesterov: true, nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "adagrad": return try time({ try Adagrad<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "rmsprop": return try time({ try RMSProp<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "adadelta": return try time({ try Adadelta<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "adam": return try time({ try Adam<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        case "adamw": return try time({ try AdamW<Scalar>(nonFiniteGradientPolicy: $0) }, spec, buffers, b, r)
        default: return nil
        }
    }

    /// Alternates, round after round, a batch of stream-kernel passes, a batch of unchecked
    /// steps and a batch of checked steps on the same arrays, so that all three see the same
    /// machine load; a batch lasts ≥ 2 ms (one step for large n) and each round's time per step
    /// enters the medians.
    static func time<O: Optimizer>(_ make: (NonFiniteGradientPolicy) throws -> O, _ spec: BenchOptimizer,
                                   _ buffers: BenchBuffers<O.Scalar>, _ budgetSeconds: Double,
                                   _ minimumRounds: Int) throws -> FirstOrderTiming {
        // One optimizer (one state) for both variants: the policy is switched between batches.
        var opt = try make(.unchecked)
        let p = buffers.parameters
        let g0 = UnsafeBufferPointer(buffers.gradients[0]), g1 = UnsafeBufferPointer(buffers.gradients[1])
        let x0 = buffers.gradients[0], scratch = buffers.scratch, updated = spec.updatedArrays

        // Warm-up: the first step allocates the state; a few more bring everything in.
        for i in 0..<3 {
            opt.nonFiniteGradientPolicy = i & 1 == 0 ? .unchecked : .throwError
            try opt.step(p, gradient: i & 1 == 0 ? g0 : g1)
            BenchStream.run(read: x0, update: scratch, count: updated)
        }
        opt.nonFiniteGradientPolicy = .unchecked
        let t0 = BenchSystem.now()
        try opt.step(p, gradient: g1)
        let single = Double(BenchSystem.now() - t0) * 1e-9
        let steps = Swift.max(1, Swift.min(100_000, Int(2e-3 / Swift.max(single, 1e-9))))

        var stream: [Double] = [], unchecked: [Double] = [], checkedTimes: [Double] = []
        var allocations = 0, checkedAllocations = 0, countedSteps = 0
        let counting = BenchSystem.allocationCount() != nil
        let start = BenchSystem.now()
        var parity = 0
        while true {
            var a = BenchSystem.now()
            for _ in 0..<steps { BenchStream.run(read: x0, update: scratch, count: updated) }
            var b = BenchSystem.now()
            stream.append(Double(b - a) * 1e-9 / Double(steps))

            opt.nonFiniteGradientPolicy = .unchecked
            var before = BenchSystem.allocationCount() ?? 0
            a = BenchSystem.now()
            for _ in 0..<steps {
                try opt.step(p, gradient: parity & 1 == 0 ? g0 : g1)
                parity &+= 1
            }
            b = BenchSystem.now()
            allocations += (BenchSystem.allocationCount() ?? 0) - before
            unchecked.append(Double(b - a) * 1e-9 / Double(steps))

            opt.nonFiniteGradientPolicy = .throwError
            before = BenchSystem.allocationCount() ?? 0
            a = BenchSystem.now()
            for _ in 0..<steps {
                try opt.step(p, gradient: parity & 1 == 0 ? g0 : g1)
                parity &+= 1
            }
            b = BenchSystem.now()
            checkedAllocations += (BenchSystem.allocationCount() ?? 0) - before
            checkedTimes.append(Double(b - a) * 1e-9 / Double(steps))
            countedSteps += steps

            let elapsed = Double(BenchSystem.now() - start) * 1e-9
            if unchecked.count >= minimumRounds && (elapsed >= budgetSeconds || unchecked.count >= 1000) { break }
        }
        benchSink += Double(p[0]) + Double(p[p.count - 1])
        return FirstOrderTiming(uncheckedSeconds: BenchStatistics.median(unchecked),
                                checkedSeconds: BenchStatistics.median(checkedTimes),
                                streamSeconds: BenchStatistics.median(stream),
                                allocationsPerStep: counting ? Double(allocations) / Double(countedSteps) : nil,
                                checkedAllocationsPerStep: counting ? Double(checkedAllocations) / Double(countedSteps) : nil,
                                rounds: unchecked.count, stepsPerRound: steps)
    }
}
