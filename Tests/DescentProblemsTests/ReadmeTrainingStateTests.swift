import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// The README's "Saving, resuming and controlling a run" example, verbatim.
@Suite("README training-state example")
struct ReadmeTrainingStateTests {
    @Test func example() throws {
        // --- README begins ---
        let data = try BundledDataset.breastCancer.load(standardize: false, as: Double.self)
        let split = try data.split(validationFraction: 0.2, seed: 1).standardized()   // fitted on training only
        let model = try LogisticRegression(data: split.training), validation = try LogisticRegression(data: split.validation)
        let options = TrainingOptions<Double>(maxSteps: 2000, batchSize: 32, seed: 1, stopAfter: 100, validationInterval: 10,
                                              plateau: try ReduceLROnPlateau(factor: 0.5, patience: 2),
                                              earlyStopping: try EarlyStopping(patience: 5))
        var state = try TrainingState(parameters: model.initialParameters(seed: 0), optimizer: try SGD<Double>(learningRate: 0.5),
                                      options: options)
        _ = try minimize(model, state: &state, validation: validation)         // pauses after 100 steps
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("run.ckpt")
        try state.write(to: url)                                               // atomic: temporary file, then rename

        var resumed = try TrainingState<SGD<Double>>(contentsOf: url)          // later, or in another process
        resumed.options.stopAfter = nil
        let result = try minimize(model, state: &resumed, validation: validation)
        print(result.stopReason, result.history.last!.validationLoss!)         // earlyStopping, at the best θ
        // --- README ends ---
        try? FileManager.default.removeItem(at: url)
        #expect(state.step == 100)
        #expect(result.stopReason == .earlyStopping)
        #expect(result.history.last!.validationLoss! == Scalar(resumed.options.earlyStopping!.best))
        #expect(result.parameters == resumed.options.earlyStopping!.bestParameters)
    }
    typealias Scalar = Double
}
