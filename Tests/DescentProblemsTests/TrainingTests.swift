import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

struct TrainingTests {
    func checkReproducible<S: BLASScalar>(_: S.Type) throws {
        let problem = try SyntheticData.logisticRegression(samples: 120, features: 4, seed: 5, as: S.self)
        let objective = try LogisticRegression(data: problem.data)
        func run(seed: UInt64) throws -> TrainingResult<S> {
            var adam = try Adam<S>(learningRate: 0.05)
            let options = TrainingOptions<S>(maxSteps: 40, batchSize: 16, seed: seed,
                                             schedule: .warmup(steps: 5, startFactor: 0.1, then: .cosine(initial: 0.05, minimum: 0.001, period: 35)),
                                             gradientClipNorm: 1, recordParameters: true)
            return try minimize(objective, from: objective.initialParameters(seed: 0), optimizer: &adam, options: options)
        }
        let a = try run(seed: 7), b = try run(seed: 7), c = try run(seed: 8)
        func strip(_ r: TrainingResult<S>) -> [TrainingRecord<S>] { r.history.map { var x = $0; x.elapsed = 0; return x } }
        #expect(strip(a) == strip(b))
        #expect(a.parameters == b.parameters)
        #expect(strip(a) != strip(c))
        #expect(a.history.count == 41 && a.stopReason == .maxSteps && a.steps == 40)
        #expect(a.history.map(\.step) == Array(0...40))
        // The last record is the full-data loss at the returned parameters.
        #expect(try a.finalLoss == objective.loss(at: a.parameters))
        #expect(a.history.last!.parameters == a.parameters)
    }

    @Test("the same seed gives an identical history", arguments: Precision.allCases)
    func reproducible(_ p: Precision) throws {
        try checkReproducible(p.scalarType)
    }

    @Test("full-batch SGD on the quadratic follows θ ← θ − η∇L exactly")
    func sgdTrajectory() throws {
        let q = IllConditionedQuadratic<Double>(a: 1, b: 3)
        var sgd = try SGD<Double>(learningRate: 0.05)
        let result = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 10, recordParameters: true))
        var θ = [1.0, 1.0]
        for record in result.history {
            #expect(relativeError(record.parameters, θ) <= 1e-15)
            #expect(relativeError(record.loss, θ[0] * θ[0] + 9 * θ[1] * θ[1]) <= 1e-15)
            θ = [θ[0] - 0.05 * 2 * θ[0], θ[1] - 0.05 * 18 * θ[1]]
        }
    }

    @Test("stopping rules: tolerances, callback, wall time, divergence")
    func stopping() throws {
        let q = IllConditionedQuadratic<Double>()
        var sgd = try SGD<Double>(learningRate: 0.004)
        let g = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 100_000, gradientTolerance: 1e-6))
        #expect(g.stopReason == .gradientTolerance && g.history.last!.gradientNorm <= 1e-6)
        #expect(g.history.dropLast().allSatisfy { $0.gradientNorm > 1e-6 })
        sgd.reset()
        let l = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 100_000, lossTolerance: 1e-8))
        #expect(l.stopReason == .lossTolerance && l.finalLoss <= 1e-8 && l.history.dropLast().allSatisfy { $0.loss > 1e-8 })
        let c = try minimize(q, from: [1, 1], optimizer: &sgd) { $0.step == 3 ? .stop : .continue }
        #expect(c.stopReason == .callback && c.steps == 3)
        let w = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 10, maxSeconds: 0))
        #expect(w.stopReason == .wallTime && w.steps == 0)
        var big = try SGD<Double>(learningRate: 1)
        let d = try minimize(q, from: [1, 1], optimizer: &big, options: TrainingOptions(maxSteps: 100_000))
        #expect(d.stopReason == .diverged && !d.finalLoss.isFinite)
        #expect(throws: TrainingError.parameterCountMismatch(expected: 2, found: 3)) { try minimize(q, from: [1, 1, 1], optimizer: &sgd) }
        #expect(throws: TrainingError.invalidOption(name: "batchSize", value: "0", requirement: "> 0")) {
            try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(batchSize: 0))
        }
    }

    @Test("minibatches cover every sample once per epoch, reproducibly")
    func sampler() throws {
        #expect(throws: TrainingError.invalidOption(name: "batchSize", value: "0", requirement: "> 0")) {
            try MinibatchSampler(sampleCount: 10, batchSize: 0, seed: 3)
        }
        #expect(throws: TrainingError.self) { try MinibatchSampler(sampleCount: 0, batchSize: 4, seed: 3) }
        var s = try MinibatchSampler(sampleCount: 10, batchSize: 4, seed: 3)
        var epoch1 = [[Int]]()
        for _ in 0..<3 { epoch1.append(s.nextBatch()) }
        #expect(epoch1.map(\.count) == [4, 4, 2])
        #expect(epoch1.flatMap { $0 }.sorted() == Array(0..<10))
        let second = (0..<3).flatMap { _ in s.nextBatch() }
        #expect(second.sorted() == Array(0..<10))
        #expect(second != epoch1.flatMap { $0 })
        var t = try MinibatchSampler(sampleCount: 10, batchSize: 4, seed: 3)
        #expect(t.nextBatch() == epoch1[0])
    }

    @Test("SplitMix64 reproduces the reference stream; normals have the right moments")
    func generator() {
        // Reference values of Vigna's splitmix64.c seeded with 0.
        var r = SplitMix64(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF)
        #expect(r.next() == 0x6E78_9E6A_A1B9_65F4)
        var n = SplitMix64(seed: 1)
        let z = (0..<20000).map { _ in n.nextNormal() }
        let mean = z.reduce(0, +) / 20000, variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        var u = SplitMix64(seed: 2)
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(u.nextInt(below: 7)) })
    }

    func checkSchedules<S: BLASScalar>(_: S.Type) throws {
        let tol = tolerance(S.self)
        for t in 0..<40 {
            let td = Double(t)
            #expect(LearningRateSchedule<S>.constant(0.3).rate(at: t) == 0.3)
            #expect(relativeError(Double(LearningRateSchedule<S>.step(initial: 0.1, every: 7, factor: 0.5).rate(at: t)), 0.1 * pow(0.5, Double(t / 7))) <= tol)
            #expect(relativeError(Double(LearningRateSchedule<S>.exponential(initial: 0.1, factor: 0.9).rate(at: t)), 0.1 * pow(0.9, td)) <= tol)
            let cosRef = t < 30 ? 0.01 + 0.5 * (0.2 - 0.01) * (1 + cos(Double.pi * td / 30)) : 0.01
            #expect(relativeError(Double(LearningRateSchedule<S>.cosine(initial: 0.2, minimum: 0.01, period: 30).rate(at: t)), cosRef) <= tol)
            let warm = LearningRateSchedule<S>.warmup(steps: 10, startFactor: 0.25, then: .exponential(initial: 0.1, factor: 0.9))
            let warmRef = t < 10 ? 0.1 * (0.25 + 0.75 * td / 10) : 0.1 * pow(0.9, td - 10)
            #expect(relativeError(Double(warm.rate(at: t)), warmRef) <= tol)
        }
        #expect(throws: OptimizerError.self) { try LearningRateSchedule<S>.cosine(initial: 0.1, minimum: 0, period: 0).validate() }
        #expect(throws: OptimizerError.self) { try LearningRateSchedule<S>.constant(-1).validate() }
        // minimize sets the optimizer's learning rate from the schedule and records it.
        let q = IllConditionedQuadratic<S>()
        var sgd = try SGD<S>(learningRate: 1e-3)
        let schedule = LearningRateSchedule<S>.step(initial: 1e-3, every: 2, factor: 0.5)
        let r = try minimize(q, from: [1, 1], optimizer: &sgd, options: TrainingOptions(maxSteps: 6, schedule: schedule))
        #expect(r.history.dropLast().map(\.learningRate) == (0..<6).map { schedule.rate(at: $0) })
        #expect(sgd.learningRate == schedule.rate(at: 5))
    }

    @Test("schedules give the documented learning rates", arguments: Precision.allCases)
    func schedules(_ p: Precision) throws {
        try checkSchedules(p.scalarType)
    }

    func checkClipping<S: BLASScalar>(_: S.Type) throws {
        var g: [S] = [3, -4, 12]  // norm 13
        let norm = try clipGradientNorm(&g, maxNorm: 2)
        #expect(norm == 13)
        let clipped = Double(try BLAS.nrm2(g))
        #expect(clipped <= 2 && clipped >= 2 * (1 - 1e-5))
        #expect(relativeError(g.map { Double($0) }, [3, -4, 12].map { $0 * 2 / (13 + 1e-6) }) <= tolerance(S.self))
        var small: [S] = [0.1, 0.2]
        try clipGradientNorm(&small, maxNorm: 1)
        #expect(small == [0.1, 0.2])
        // In the loop: with SGD(η = 1) every step moves θ by at most the clip norm.
        var sgd = try SGD<S>(learningRate: 1)
        let r = try minimize(Rosenbrock<S>(), from: [-1.5, 2], optimizer: &sgd,
                             options: TrainingOptions(maxSteps: 20, gradientClipNorm: 0.5, recordParameters: true))
        for (a, b) in zip(r.history, r.history.dropFirst()) {
            let dx = Double(b.parameters[0] - a.parameters[0]), dy = Double(b.parameters[1] - a.parameters[1])
            #expect((dx * dx + dy * dy).squareRoot() <= 0.5 * (1 + 1e-5))
        }
        #expect(r.history.first!.gradientNorm > 0.5, "the recorded norm is before clipping")
    }

    @Test("clipping bounds the global norm", arguments: Precision.allCases)
    func clipping(_ p: Precision) throws {
        try checkClipping(p.scalarType)
    }
}
