import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// `minimize` drives the natural gradient: it supplies the Fisher the options ask for, on the
/// step's own minibatch, and reports losses for Levenberg–Marquardt damping.
@Suite("Natural gradient in the training loop")
struct NaturalGradientTrainingTests {
    func logisticFixture() throws -> (LogisticRegression<Double>, [Double]) {
        let f = try #require(try fixture("logistic_mle.json")["logistic"] as? [String: Any])
        let x = try Matrix<Double>(try matrixRows(f["X"]))
        let data = try Dataset(features: x, targets: try doubles(f["y"]))
        return (try LogisticRegression(data: data), try doubles(f["params"]))
    }

    @Test("Fisher scoring through minimize reaches the statsmodels MLE in ≤ 10 steps")
    func exactFisherScoring() throws {
        let (objective, mle) = try logisticFixture()
        var optimizer = try NaturalGradient<Double>(learningRate: 1, damping: .fixed(0))
        let result = try minimize(objective, from: [Double](repeating: 0, count: objective.dimension),
                                  optimizer: &optimizer, options: TrainingOptions(maxSteps: 10, fisher: .exact))
        #expect(relativeError(result.parameters, mle) < 1e-8)
        #expect(optimizer.stepCount == 10)
    }

    @Test("The empirical Fisher converges too, in more steps than the exact one")
    func empiricalFisher() throws {
        let (objective, mle) = try logisticFixture()
        func steps(_ fisher: FisherKind) throws -> Int {
            var optimizer = try NaturalGradient<Double>(learningRate: 1, damping: .fixed(1e-8))
            let result = try minimize(objective, from: [Double](repeating: 0, count: objective.dimension),
                                      optimizer: &optimizer, options: TrainingOptions(maxSteps: 200, gradientTolerance: 1e-10, fisher: fisher))
            #expect(result.stopReason == .gradientTolerance)
            #expect(relativeError(result.parameters, mle) < 1e-7)
            return result.steps
        }
        let exact = try steps(.exact), empirical = try steps(.empirical)
        #expect(exact < empirical, "exact \(exact) steps, empirical \(empirical)")
    }

    @Test("Levenberg–Marquardt damping adapts from the reported losses on Rosenbrock", arguments: Precision.allCases)
    func levenbergMarquardt(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let objective = Rosenbrock<S>()
            var optimizer = try NaturalGradient<S>(learningRate: 1, damping: .levenbergMarquardt(initial: 1))
            let result = try minimize(objective, from: objective.standardStart, optimizer: &optimizer,
                                      options: TrainingOptions(maxSteps: 200))
            #expect(optimizer.lastReductionRatio != nil)
            #expect(optimizer.currentDamping != 1, "λ never adapted")
            #expect(Double(result.finalLoss) < 1e-6, "final loss \(result.finalLoss)")
        }
        precision == .double ? try run(Double.self) : try run(Float.self)
    }

    @Test("Minibatch curvature comes from the step's own batch (same seed, same run)")
    func minibatchReproducible() throws {
        let (objective, _) = try logisticFixture()
        func run() throws -> [Double] {
            var optimizer = try NaturalGradient<Double>(learningRate: 0.5, damping: .fixed(1e-3))
            return try minimize(objective, from: [Double](repeating: 0, count: objective.dimension), optimizer: &optimizer,
                                options: TrainingOptions(maxSteps: 30, batchSize: 32, seed: 7)).history.map(\.loss)
        }
        let a = try run(), b = try run()
        #expect(a == b)
        #expect(a.last! < a.first!)
    }

    @Test("An objective without curvature gives a clear error")
    func noCurvature() throws {
        var optimizer = try NaturalGradient<Double>()
        #expect(throws: TrainingError.curvatureUnavailable(objective: Saddle<Double>().name, fisher: "exact")) {
            _ = try minimize(Saddle<Double>(), from: [1, 1], optimizer: &optimizer)
        }
    }
}
