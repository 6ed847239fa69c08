import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// m × d inputs uniform in [0, 1] (seeded), with a few exact 0s and 1s as pixels have.
private func pixels(m: Int, d: Int, seed: UInt64) -> Matrix<Double> {
    var rng = SplitMix64(seed: seed)
    let values = (0..<(m * d)).map { i -> Double in i % 7 == 0 ? Double(i % 2) : rng.nextUniform() }
    return try! Matrix(rows: m, columns: d, elements: values)
}

private struct Case: Sendable, CustomTestStringConvertible {
    var activation: HiddenActivation
    var precision: Precision
    var testDescription: String { "\(activation.rawValue)/\(precision)" }
}

private let cases: [Case] = HiddenActivation.allCases.flatMap { a in Precision.allCases.map { Case(activation: a, precision: $0) } }

/// The scalar reference of one autoencoder in Double on the S-rounded data and θ.
private struct AutoencoderReference {
    var net: ScalarDenseNetwork
    var x: [[Double]]

    init<S: BLASScalar>(_ model: Autoencoder<S>, θ: [S]) {
        let d = model.inputCount
        net = .autoencoder(inputs: d, widths: model.encoderWidths, activation: model.hiddenActivation, θ: θ.map(Double.init))
        x = (0..<model.sampleCount).map { i in (0..<d).map { Double(model.inputs.elements[i * d + $0]) } }
    }

    func loss(_ rows: [Int]) -> Double {
        rows.reduce(0) { total, i in
            let z = net.forward(x[i]).last!
            return total + zip(z, x[i]).reduce(0) { $0 + scalarSoftplus($1.0) - $1.1 * $1.0 }
        } / Double(rows.count)
    }

    func perSampleGradient(_ i: Int) -> [Double] {
        let acts = net.forward(x[i])
        let seed = zip(acts.last!, x[i]).map { scalarSigmoid($0) - $1 }
        return net.parameterRow(acts, net.backward(acts, seed: seed))
    }

    func gradient(_ rows: [Int]) -> [Double] {
        var g = [Double](repeating: 0, count: net.parameterCount)
        for i in rows { for (j, v) in perSampleGradient(i).enumerated() { g[j] += v / Double(rows.count) } }
        return g
    }

    /// A_l and G_l (row-major, full) for output seeds per sample.
    func factors(_ rows: [Int], seeds: (Int, [Double]) -> [[Double]]) -> (a: [[Double]], g: [[Double]]) {
        let sizes = net.sizes, m = Double(rows.count)
        var a = (1..<sizes.count).map { [Double](repeating: 0, count: (sizes[$0 - 1] + 1) * (sizes[$0 - 1] + 1)) }
        var g = (1..<sizes.count).map { [Double](repeating: 0, count: sizes[$0] * sizes[$0]) }
        for i in rows {
            let acts = net.forward(x[i])
            for l in a.indices {
                let bar = acts[l] + [1]
                for p in bar.indices { for q in bar.indices { a[l][p * bar.count + q] += bar[p] * bar[q] / m } }
            }
            for u in seeds(i, acts.last!) {
                let deltas = net.backward(acts, seed: u)
                for l in g.indices {
                    let dl = deltas[l]
                    for p in dl.indices { for q in dl.indices { g[l][p * dl.count + q] += dl[p] * dl[q] / m } }
                }
            }
        }
        return (a, g)
    }
}

@Suite("The deep autoencoder")
struct AutoencoderTests {
    static let batches: [[Int]?] = [nil, [3, 0, 3, 1]]

    static func model<S: BLASScalar>(_: S.Type, activation: HiddenActivation, m: Int = 5, d: Int = 6,
                                     widths: [Int] = [4, 3, 2]) throws -> Autoencoder<S> {
        let x = pixels(m: m, d: d, seed: 7)
        return try Autoencoder(inputs: try Matrix(rows: m, columns: d, elements: x.elements.map { S($0) }),
                               encoderWidths: widths, hiddenActivation: activation)
    }

    static func parameters<S: BLASScalar>(_ model: Autoencoder<S>, seed: UInt64 = 9) -> [S] {
        randomVector(model.dimension, seed: seed, scale: 0.7).map { S($0) }
    }

    @Test("layers mirror the encoder; θ in the perceptron's layout; seeded Glorot start")
    func layout() throws {
        let model = try Self.model(Double.self, activation: .tanh)
        #expect(model.layerSizes == [6, 4, 3, 2, 3, 4, 6])
        #expect(model.dimension == 7 * 4 + 5 * 3 + 4 * 2 + 3 * 3 + 4 * 4 + 5 * 6)
        #expect(model.parameterLayout.slices.count == 12)
        let θ = model.initialParameters(seed: 5)
        #expect(θ == model.initialParameters(seed: 5) && θ != model.initialParameters(seed: 6))
        // Same generator, same order as the perceptron's: a perceptron with these hidden widths
        // and one linear output draws the same first-layer weights.
        let data = try Dataset(features: model.inputs, targets: [Double](repeating: 0.5, count: 5))
        let mlp = try MultilayerPerceptron(data: data, hiddenLayers: [4, 3, 2, 3, 4], outputLayer: .linear)
        #expect(Array(mlp.initialParameters(seed: 5).prefix(7 * 4)) == Array(θ.prefix(7 * 4)))
        var offset = 0
        for (i, o) in zip(model.layerSizes, model.layerSizes.dropFirst()) {
            let limit = (6 / Double(i + o)).squareRoot()
            for r in 0..<o {
                #expect(θ[offset + r * (i + 1) + i] == 0)
                #expect(θ[(offset + r * (i + 1))..<(offset + r * (i + 1) + i)].allSatisfy { abs($0) <= limit })
            }
            offset += o * (i + 1)
        }
    }

    @Test("loss and gradient against the scalar reference", arguments: cases)
    fileprivate func lossAndGradient(_ c: Case) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: c.activation)
            let θ = Self.parameters(model)
            let reference = AutoencoderReference(model, θ: θ)
            for batch in Self.batches {
                let rows = batch ?? Array(0..<model.sampleCount)
                let (loss, gradient) = try model.lossAndGradient(at: θ, batch: batch)
                // Sums of d = 6 terms per sample over depth 6: a few ε of the reference.
                #expect(relativeError(Double(loss), reference.loss(rows)) < 8 * tolerance(S.self))
                #expect(relativeError(gradient.map(Double.init), reference.gradient(rows)) < 8 * tolerance(S.self))
                #expect(try model.loss(at: θ, batch: batch) == loss)
            }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("the gradient matches central finite differences of the loss", arguments: HiddenActivation.allCases)
    func finiteDifferences(_ activation: HiddenActivation) throws {
        let model = try Self.model(Double.self, activation: activation)
        let θ = Self.parameters(model)
        let numeric = finiteDifferenceGradient(θ) { try! model.loss(at: $0) }
        // Central differences with h = 1e-6: truncation h²·f''' plus rounding ε/h ≈ 1e-10.
        #expect(relativeError(try model.gradient(at: θ), numeric) < 1e-7)
    }

    @Test("a numerically stable loss for large logits", arguments: Precision.allCases)
    func stableLoss(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: .tanh)
            let θ = Self.parameters(model).map { $0 * 200 }
            let (loss, gradient) = try model.lossAndGradient(at: θ)
            #expect(loss.isFinite && gradient.allSatisfy(\.isFinite))
            let reference = AutoencoderReference(model, θ: θ)
            #expect(relativeError(Double(loss), reference.loss(Array(0..<5))) < 1e-3)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("per-sample gradients and the output Jacobian against the scalar reference", arguments: cases)
    fileprivate func perSample(_ c: Case) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: c.activation)
            let θ = Self.parameters(model)
            let reference = AutoencoderReference(model, θ: θ)
            let batch = [3, 0, 3, 1]
            let rows = try #require(try model.perSampleGradients(at: θ, batch: batch))
            let n = model.dimension
            for (r, i) in batch.enumerated() {
                #expect(relativeError(Array(rows.elements[(r * n)..<((r + 1) * n)]).map(Double.init), reference.perSampleGradient(i))
                        < 8 * tolerance(S.self))
            }
            let jacobian = try #require(try model.outputJacobian(at: θ, batch: batch))
            #expect(jacobian.samples == 4 && jacobian.outputs == 6)
            for (r, i) in batch.enumerated() {
                let expected = reference.net.outputJacobian(reference.x[i]).flatMap { $0 }
                let found = Array(jacobian.jacobian.elements[(r * 6 * n)..<((r + 1) * 6 * n)]).map(Double.init)
                #expect(relativeError(found, expected) < 8 * tolerance(S.self))
            }
            guard case let .bernoulli(p) = jacobian.distribution else { Issue.record("not Bernoulli"); return }
            let z = reference.net.forward(reference.x[3]).last!
            #expect(relativeError(Array(p.prefix(6)).map(Double.init), z.map(scalarSigmoid)) < 8 * tolerance(S.self))
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("the scalar reference's Jacobian is the finite-difference one")
    func referenceJacobian() throws {
        let model = try Self.model(Double.self, activation: .tanh)
        let θ = Self.parameters(model)
        let x = AutoencoderReference(model, θ: θ).x[2]
        let analytic = AutoencoderReference(model, θ: θ).net.outputJacobian(x)
        for c in 0..<6 {
            let numeric = finiteDifferenceGradient(θ) { t in
                ScalarDenseNetwork.autoencoder(inputs: 6, widths: [4, 3, 2], activation: .tanh, θ: t).forward(x).last![c]
            }
            #expect(relativeError(analytic[c], numeric) < 1e-7)
        }
    }

    @Test("F v against the explicit Fisher Σ Jᵢᵀ diag(p(1 − p)) Jᵢ / m", arguments: cases)
    fileprivate func fisherVectorProduct(_ c: Case) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: c.activation)
            let θ = Self.parameters(model)
            let reference = AutoencoderReference(model, θ: θ)
            let v = randomVector(model.dimension, seed: 17).map { S($0) }
            let vd = v.map(Double.init)
            for batch in Self.batches {
                let rows = batch ?? Array(0..<model.sampleCount)
                let jacobians = rows.map { reference.net.outputJacobian(reference.x[$0]) }
                let hessians = rows.map { i -> [[Double]] in
                    let p = reference.net.forward(reference.x[i]).last!.map(scalarSigmoid)
                    return (0..<6).map { a in (0..<6).map { b in a == b ? p[a] * (1 - p[a]) : 0 } }
                }
                let f = explicitFisher(jacobians: jacobians, hessians: hessians)
                let expected = fisherTimes(f, vd)
                let product = try model.fisherVectorProduct(at: θ, batch: batch, vector: v)
                let limit = FisherVectorProductTests.bound(S.self, length: model.dimension + rows.count, fisher: f, vector: vd)
                #expect(maxAbsDifference(product, expected) <= limit)
            }
            #expect(throws: DataError.self) { try model.fisherVectorProduct(at: θ, vector: Array(v.dropLast())) }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("Kronecker factors (exact, sampled, empirical) against the scalar reference", arguments: cases)
    fileprivate func kroneckerFactors(_ c: Case) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: c.activation)
            let θ = Self.parameters(model)
            let reference = AutoencoderReference(model, θ: θ)
            let batch = [3, 0, 3, 1]
            let step = 4, seed: UInt64 = 99
            for fisher in [FisherKind.exact, .sampled, .empirical] {
                let blocks = try #require(θ.withUnsafeBufferPointer { tp in
                    batch.withUnsafeBufferPointer { model.kroneckerFactors(at: tp, batch: $0, fisher: fisher, step: step, seed: seed) }
                })
                let expected = reference.factors(batch) { i, z in
                    let p = z.map(scalarSigmoid)
                    switch fisher {
                    case .exact:
                        return (0..<6).map { s in (0..<6).map { $0 == s ? (p[s] * (1 - p[s])).squareRoot() : 0 } }
                    case .empirical:
                        return [zip(p, reference.x[i]).map { $0 - $1 }]
                    case .sampled:
                        var rng = kroneckerSampleGenerator(seed: seed, step: step, index: i)
                        // The draw compares with the model's own rounded probability.
                        return [p.map { q in q - (rng.nextUniform() < Double(S(q)) ? 1 : 0) }]
                    }
                }
                #expect(blocks.count == 6)
                for (l, block) in blocks.enumerated() {
                    #expect(block.parameterOffset == model.layers.offsets[l])
                    #expect(relativeError(block.activations.map(Double.init), expected.a[l]) < 8 * tolerance(S.self))
                    #expect(relativeError(block.preactivationGradients.map(Double.init), expected.g[l]) < 8 * tolerance(S.self),
                            "\(fisher) G\(l + 1)")
                }
                // The fused evaluation gives the same bits as the two calls.
                var fused: [KroneckerBlock<S>] = []
                var gradient = [S](repeating: 0, count: model.dimension)
                let loss = θ.withUnsafeBufferPointer { tp in
                    batch.withUnsafeBufferPointer { bp in
                        gradient.withUnsafeMutableBufferPointer {
                            model.lossGradientAndKroneckerFactors(at: tp, batch: bp, fisher: fisher, step: step, seed: seed,
                                                                  gradient: $0, factors: &fused)
                        }
                    }
                }
                let separate = try model.lossAndGradient(at: θ, batch: batch)
                #expect(loss == separate.loss && bitIdentical(gradient, separate.gradient))
                for (f, b) in zip(fused, blocks) {
                    #expect(bitIdentical(f.activations, b.activations) && bitIdentical(f.preactivationGradients, b.preactivationGradients))
                }
            }
        }
        c.precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("K-FAC trains it through minimize", arguments: Precision.allCases)
    func kfacTrains(_ precision: Precision) throws {
        func run<S: BLASScalar>(_: S.Type) throws {
            let model = try Self.model(S.self, activation: .tanh, m: 20, d: 8, widths: [6, 3])
            let start = model.initialParameters(seed: 1)
            var kfac = try KFAC<S>(learningRate: 0.2, damping: .fixed(0.1), factorDecay: 0.9, inverseUpdateInterval: 1)
            let result = try minimize(model, from: start, optimizer: &kfac, options: TrainingOptions(maxSteps: 20, fisher: .sampled))
            #expect(result.finalLoss < (try model.loss(at: start)) - 0.1)
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }

    @Test("a CSV without a target column: every column an input, targets 0")
    func csvWithoutTarget() throws {
        let data = try CSVLoader.parse("a,b\n0,1\n\n0.5,0.25\n", targetColumn: nil, as: Double.self)
        #expect(data.features.elements == [0, 1, 0.5, 0.25] && data.features.columns == 2)
        #expect(data.targets == [0, 0] && data.featureNames == ["a", "b"])
        #expect(throws: DataError.noRows(path: "<csv>")) { try CSVLoader.parse("a,b\n", targetColumn: nil, as: Double.self) }
        let model = try Autoencoder(data: data, encoderWidths: [1])
        #expect(model.layerSizes == [2, 1, 2])
    }

    @Test("bad inputs are refused with a DataError naming them")
    func badInputs() throws {
        let bad = try Matrix<Double>(rows: 2, columns: 3, elements: [0, 0.5, 1, 0.2, 1.5, 0])
        #expect(throws: DataError.shapeMismatch("autoencoder: input 1.5 of sample 1 (column 1, counting from 0) is outside [0, 1]")) {
            try Autoencoder(inputs: bad, encoderWidths: [2])
        }
        let good = try Matrix<Double>(rows: 2, columns: 3, elements: [0, 0.5, 1, 0.2, 0.5, 0])
        #expect(throws: DataError.shapeMismatch("autoencoder: at least one encoder width (the code) is needed")) {
            try Autoencoder(inputs: good, encoderWidths: [])
        }
        #expect(throws: DataError.shapeMismatch("autoencoder: encoder width 0 must be > 0")) {
            try Autoencoder(inputs: good, encoderWidths: [2, 0])
        }
        let nan = try Matrix<Double>(rows: 1, columns: 2, elements: [0.5, .nan])
        #expect(throws: DataError.self) { try Autoencoder(inputs: nan, encoderWidths: [1]) }
    }
}

@Suite("The autoencoder against PyTorch")
struct AutoencoderTorchTests {
    @Test("loss, gradient and F v equal torch's (autograd, torch.func.jvp/vjp)", arguments: Precision.allCases)
    func againstTorch(_ precision: Precision) throws {
        let f = try fixture("torch_autoencoder.json")
        let x = try matrixRows(f["inputs"])
        let widths = try #require(f["encoder_widths"] as? [Int])
        let θ = try doubles(f["theta"]), v = try doubles(f["vector"])
        let cases = try #require(f["cases"] as? [[String: Any]])
        func run<S: BLASScalar>(_: S.Type) throws {
            let inputs = try Matrix<S>(rows: x.count, columns: x[0].count, elements: x.flatMap { $0 }.map { S($0) })
            for c in cases {
                let name = try #require(c["activation"] as? String)
                let activation = try #require(HiddenActivation(rawValue: name))
                let batch = c["batch"] as? [Int]
                let model = try Autoencoder(inputs: inputs, encoderWidths: widths, hiddenActivation: activation)
                let (loss, gradient) = try model.lossAndGradient(at: θ.map { S($0) }, batch: batch)
                let product = try model.fisherVectorProduct(at: θ.map { S($0) }, batch: batch, vector: v.map { S($0) })
                // Double: a few ulps of depth-6 sums; Float: the inputs and θ rounded to Float.
                let limit = 16 * tolerance(S.self)
                #expect(relativeError(Double(loss), try #require(c["loss"] as? Double)) < limit)
                #expect(relativeError(gradient.map(Double.init), try doubles(c["gradient"])) < limit, "\(activation) \(String(describing: batch))")
                #expect(relativeError(product.map(Double.init), try doubles(c["fisher_vector_product"])) < limit,
                        "\(activation) \(String(describing: batch))")
            }
        }
        precision == .float ? try run(Float.self) : try run(Double.self)
    }
}
