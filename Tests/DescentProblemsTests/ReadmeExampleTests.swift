import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// The README's "Train a model" example, verbatim, so the README cannot rot.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("Logistic regression on breast cancer with Adam and with the natural gradient")
    func readmeExample() throws {
        // --- README begins ---
        let data = try BundledDataset.breastCancer.load(standardize: true, as: Double.self)
        let model = try LogisticRegression(data: data, l2: 1 / Double(data.features.rows))  // sklearn's C = 1
        let start = [Double](repeating: 0, count: model.dimension)

        // First order: Adam on minibatches of 64, cosine schedule.
        var adam = try Adam<Double>(learningRate: 0.05)
        let first = try minimize(model, from: start, optimizer: &adam,
                                 options: TrainingOptions(maxSteps: 500, batchSize: 64, seed: 1,
                                                          schedule: .cosine(initial: 0.05, minimum: 0, period: 500)))

        // Natural gradient: exact Fisher (F_sigmoid of docs/lecture.md), Levenberg–Marquardt damping.
        var natural = try NaturalGradient<Double>(learningRate: 1, damping: .levenbergMarquardt(initial: 1e-3))
        let second = try minimize(model, from: start, optimizer: &natural,
                                  options: TrainingOptions(maxSteps: 20, fisher: .exact))
        print(first.finalLoss, try model.accuracy(at: first.parameters)!)    // 0.06681 0.9877
        print(second.finalLoss, try model.accuracy(at: second.parameters)!)  // 0.06636 0.9877 (scikit-learn C = 1: 0.06636)
        // --- README ends ---
        #expect(second.finalLoss < first.finalLoss)
        #expect(try model.accuracy(at: second.parameters)! > 0.98)
        let reference = try #require(try fixture("breast_cancer_logistic.json")["l2"] as? [[String: Any]])
        let c1 = try #require(reference.first { ($0["C"] as? Double) == 1 })
        let nll = try #require(c1["objective"] as? Double)
        #expect(abs(second.finalLoss - nll) < 1e-8, "natural gradient \(second.finalLoss) vs sklearn objective \(nll)")
    }
}
