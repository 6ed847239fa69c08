import Foundation
import Testing
import DescentProblems
import DescentTestSupport

/// The README's parameter-group examples, verbatim, so the README cannot rot.
@Suite("README parameter groups")
struct ReadmeGroupsExampleTests {
    @Test("A two-array model and a perceptron trained with parameter groups")
    func readmeGroupsExample() throws {
        // --- README begins ---
        // A model of two arrays, W (3 weights) and b (a bias), in one flat θ: ŷ = W·x + b
        // (the data fit W = (2, 1, 1), b = 1 exactly).
        let layout = try ParameterLayout(count: 4, slices: [("W", 0..<3), ("b", 3..<4)])
        // AdamW: weight decay 0.1 on W, none on b (torch's param groups, optax's multi_transform).
        var adamw = try ParameterGroups(AdamW<Double>(learningRate: 0.05, weightDecay: 0.1), layout: layout,
                                        groups: [("b", ["weight-decay": 0])])
        let x: [[Double]] = [[1, 0, 2], [0, 1, 1], [1, 1, 0], [2, 1, 1], [0, 0, 1]], y: [Double] = [5, 3, 4, 7, 2]
        var theta = [Double](repeating: 0, count: 4), gradient = theta
        for _ in 0..<3000 {
            try theta.withUnsafeMutableBufferPointer { p in
                try gradient.withUnsafeMutableBufferPointer { g in
                    let (W, b) = (try layout.slice("W", of: p), try layout.slice("b", of: p))   // views, no copies
                    let (gW, gb) = (try layout.slice("W", of: g), try layout.slice("b", of: g))
                    gW.update(repeating: 0); gb[0] = 0
                    for (xi, yi) in zip(x, y) {        // ∇ of (1/2m) Σ (W·xᵢ + b − yᵢ)²
                        let r = (zip(W, xi).map(*).reduce(0, +) + b[0] - yi) / Double(x.count)
                        for j in 0..<3 { gW[j] += r * xi[j] }
                        gb[0] += r
                    }
                }
            }
            try adamw.step(&theta, gradient: gradient)
        }
        print(theta)   // ≈ [1.969, 0.949, 0.950, 1.105]: W shrunk by the decay, b (undecayed) above 1

        // A perceptron: its layout names every layer's weights and biases, and groups them.
        let data = try BundledDataset.breastCancer.load(standardize: true, as: Double.self)
        let mlp = try MultilayerPerceptron(data: data, hiddenLayers: [8], outputLayer: .sigmoid)
        print(mlp.parameterLayout.names)   // layer1.weights, layer1.biases, layer2.weights, layer2.biases, weights, biases
        var optimizer = try ParameterGroups(AdamW<Double>(learningRate: 0.01, weightDecay: 0.1), layout: mlp.parameterLayout,
                                            groups: [("biases", ["weight-decay": 0]), ("layer1.weights", ["lr": 0.005])])
        // The schedule scales every group's rate: layer 1's weights get 0.005 · 0.99ᵗ, the others 0.01 · 0.99ᵗ.
        let result = try minimize(mlp, from: mlp.initialParameters(seed: 0), optimizer: &optimizer,
                                  options: TrainingOptions(maxSteps: 200, batchSize: 64, seed: 1,
                                                           schedule: .exponential(initial: 0.01, factor: 0.99)))
        print(result.finalLoss, try mlp.accuracy(at: result.parameters)!)   // 0.0796 0.9807
        // --- README ends ---
        print(optimizer.groupLearningRates)
        let normW = (theta[0] * theta[0] + theta[1] * theta[1] + theta[2] * theta[2]).squareRoot()
        #expect(normW < 6.0.squareRoot() && theta[3] > 1)   // the decay shrinks W; b, undecayed, makes up for it
        #expect(result.finalLoss < (try mlp.loss(at: mlp.initialParameters(seed: 0))))
        #expect(try mlp.accuracy(at: result.parameters)! > 0.95)
        #expect(mlp.parameterLayout.names == ["layer1.weights", "layer1.biases", "layer2.weights", "layer2.biases", "weights", "biases"])
    }
}
