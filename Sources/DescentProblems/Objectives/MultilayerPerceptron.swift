import Foundation

/// The activation of the perceptron's hidden units.
public enum HiddenActivation: String, Sendable, Codable, CaseIterable {
    /// σ(z) = 1/(1 + e^{−z}), σ' = σ(1 − σ).
    case sigmoid
    /// tanh z, tanh' = 1 − tanh².
    case tanh
}

/// The perceptron's output layer, which fixes its loss and output distribution.
public enum OutputLayer: String, Sendable, Codable, CaseIterable {
    /// One linear output ŷ; loss ½(y − ŷ)² (Gaussian, β = 1). Regression targets.
    case linear
    /// One logit z, p = σ(z); loss softplus(z) − yz (Bernoulli). Targets 0/1.
    case sigmoid
    /// K logits, p = softmax(z); loss logsumexp(z) − z_y (categorical). Targets 0..<K.
    case softmax
}

/// A small fully connected network ("Fisher information of a network" in docs/lecture.md):
///
///     a⁰ = x,   zˡ = Wˡ aˡ⁻¹ + bˡ,   aˡ = h(zˡ) (l < L),   output from z^L,
///     L_B(θ) = (1/|B|) Σ_{i∈B} ℓ(z^L_i, yᵢ)            (ℓ of ``OutputLayer``),
///
/// trained by backpropagation: δ^L = ∂ℓ/∂z^L, ∇Wˡ = Σᵢ δˡᵢ aˡ⁻¹ᵢᵀ / |B|, ∇bˡ = Σᵢ δˡᵢ / |B|,
/// δˡ⁻¹ = (δˡ Wˡ) ⊙ h'(zˡ⁻¹).
///
/// θ holds the layers in order, each as the row-major out × (in + 1) matrix [Wˡ | bˡ]: unit by
/// unit, its weights then its bias (so a perceptron without hidden layers and a softmax output
/// has exactly ``SoftmaxRegression``'s layout and loss). Initialization (``initialParameters(seed:)``):
/// Glorot/Xavier uniform Wˡ ~ U(−√(6/(in+out)), √(6/(in+out))), biases 0 — PyTorch's `nn.Linear`
/// default is Kaiming-uniform; we use Glorot as suited to sigmoid/tanh units.
///
/// Curvature: ``perSampleGradients(at:batch:)`` by per-sample backprop (outer products δˡᵢ aˡ⁻¹ᵢᵀ);
/// ``outputJacobian(at:batch:)`` backpropagates each output unit c's seed e_c to get ∂z^L_c/∂θ
/// per sample (w.r.t. ŷ for linear, the logits for sigmoid/softmax).
///
/// Kernel: two gemm per layer forward+backward (three with the input delta), all over the batch.
/// - Complexity: O(|B|·n) per evaluation; O(|B|·K·n) for the output Jacobian.
public struct MultilayerPerceptron<Scalar: BLASScalar>: Objective {
    public let data: Dataset<Scalar>
    /// [d, h₁, …, K]: inputs, hidden widths, outputs.
    public let layerSizes: [Int]
    public let hiddenActivation: HiddenActivation
    public let outputLayer: OutputLayer
    /// The layers and their kernels (shared with ``Autoencoder``).
    @usableFromInline let layers: DenseLayers<Scalar>
    /// Offsets of each layer's [W | b] block in θ (layer l at `offsets[l − 1]`), with n last.
    @inlinable var offsets: [Int] { layers.offsets }

    /// - Parameters:
    ///   - data: the training data; its feature count is the input width.
    ///   - hiddenLayers: widths of the hidden layers (may be empty), each > 0.
    ///   - hiddenActivation: tanh (default) or sigmoid.
    ///   - outputLayer: linear, sigmoid (0/1 targets) or softmax (class labels).
    ///   - classCount: K for a softmax output; default 1 + the largest label.
    /// - Throws: ``DataError`` for an empty data set, a bad width or a target the output cannot use;
    ///   `LinearAlgebraError/allocationTooLarge(what:bytes:limit:)` when θ, its gradient and the
    ///   full-batch workspace exceed what the process can allocate (see `MemoryLimit`).
    public init(data: Dataset<Scalar>, hiddenLayers: [Int], hiddenActivation: HiddenActivation = .tanh,
                outputLayer: OutputLayer, classCount: Int? = nil) throws {
        guard data.sampleCount > 0 else { throw DataError.shapeMismatch("perceptron: the data set has no samples") }
        if let w = hiddenLayers.first(where: { $0 <= 0 }) {
            throw DataError.shapeMismatch("perceptron: hidden layer width \(w) must be > 0")
        }
        let k: Int
        switch outputLayer {
        case .linear:
            k = 1
        case .sigmoid:
            k = 1
            for (i, y) in data.targets.enumerated() where y != 0 && y != 1 {
                throw DataError.invalidTarget(sample: i, value: "\(y)", expected: "0 or 1")
            }
        case .softmax:
            k = try SoftmaxRegression<Scalar>.inferredClassCount(data, classCount)
            guard k >= 2 else { throw DataError.shapeMismatch("perceptron: classCount = \(k) must be ≥ 2") }
            for (i, y) in data.targets.enumerated() where !(y >= 0 && y < Scalar(k) && y == y.rounded()) {
                throw DataError.invalidTarget(sample: i, value: "\(y)", expected: "an integer class label in 0..<\(k)")
            }
        }
        self.data = data
        self.layerSizes = [data.featureCount] + hiddenLayers + [k]
        self.hiddenActivation = hiddenActivation
        self.outputLayer = outputLayer
        self.layers = try DenseLayers(sizes: layerSizes, activation: hiddenActivation, model: "perceptron")
        // θ, its gradient and the full-batch workspace (activations and deltas, 2 · m · Σ sₗ)
        // must be allocatable: a width the process cannot hold throws here, not in an evaluation.
        let width = MemoryLimit.sum(layerSizes.dropFirst().map { $0 })
        let workspace = width.flatMap { MemoryLimit.product([2, data.sampleCount, $0]) }
        let elements = MemoryLimit.sum([MemoryLimit.product([2, layers.dimension]), workspace])
        try MemoryLimit.require(elements.flatMap { MemoryLimit.bytes(count: $0, stride: MemoryLayout<Scalar>.stride) },
                                for: "perceptron \(layerSizes.map(String.init).joined(separator: "-")) on \(data.sampleCount) samples")
    }

    public var name: String { "mlp" }
    public var dimension: Int { layers.dimension }

    /// Per layer l = 1, 2, …: `layerl.weights` (Wˡ, one run per unit) and `layerl.biases` (bˡ),
    /// and the groups `weights` (every Wˡ) and `biases` (every bˡ).
    public var parameterLayout: ParameterLayout {
        var slices: [ParameterLayout.Slice] = []
        for l in 1..<layerSizes.count {
            let block = ParameterLayout.rowBlocks(rows: layerSizes[l], weightsPerRow: layerSizes[l - 1], offset: offsets[l - 1],
                                                  count: dimension, weights: "layer\(l).weights", biases: "layer\(l).biases")
            slices += block.slices
        }
        return .withAggregates(count: dimension, slices: slices)
    }
    public var sampleCount: Int { data.sampleCount }
    /// K, the number of outputs.
    public var outputCount: Int { layerSizes.last! }
    @inlinable var layerCount: Int { layerSizes.count - 1 }

    /// Glorot-uniform weights from ``SplitMix64``(seed), zero biases.
    public func initialParameters(seed: UInt64) -> [Scalar] { layers.glorotParameters(seed: seed) }

    // MARK: Workspace

    /// Scratch for a batch of `rows`: activations A¹…A^L and deltas Δ¹…Δ^L, each rows × sₗ.
    @inlinable
    func withWorkspace<R>(rows: Int, _ body: (_ acts: [UnsafeMutablePointer<Scalar>], _ deltas: [UnsafeMutablePointer<Scalar>]) -> R) -> R {
        layers.withWorkspace(rows: rows, body)
    }

    /// The forward pass: acts[l − 1] ← Aˡ (hidden activations; the raw outputs z^L for l = L).
    @inlinable
    func forward(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>]) {
        layers.forward(x, rows: rows, θ: θ, acts: acts)
    }

    /// Σᵢ ℓᵢ over the batch from the outputs z^L; writes ∂ℓᵢ/∂z^L_i · scale into `delta` when given.
    @inlinable
    func outputLoss(_ z: UnsafePointer<Scalar>, rows: Int, batch: UnsafeBufferPointer<Int>?,
                    delta: UnsafeMutablePointer<Scalar>?, scale: Scalar) -> Scalar {
        let k = outputCount
        var total: Scalar = 0
        data.targets.withUnsafeBufferPointer { y in
            for i in 0..<rows {
                let yi = y[sampleIndex(batch, i)]
                switch outputLayer {
                case .linear:
                    let r = z[i] - yi
                    total += r * r / 2
                    delta?[i] = flushSubnormal(scale * r)
                case .sigmoid:
                    total += softplus(z[i]) - yi * z[i]
                    delta?[i] = flushSubnormal(scale * (sigmoid(z[i]) - yi))
                case .softmax:
                    let row = z + i * k
                    var mx = row[0]
                    for c in 1..<k { mx = Swift.max(mx, row[c]) }
                    var s: Scalar = 0
                    for c in 0..<k { s += scalarExp(row[c] - mx) }
                    let label = Int(yi)
                    total += scalarLog(s) - (row[label] - mx)
                    if let delta {
                        for c in 0..<k { delta[i * k + c] = flushSubnormal(scale * (scalarExp(row[c] - mx) / s - (c == label ? 1 : 0))) }
                    }
                }
            }
        }
        return total
    }

    /// Propagates deltas[L − 1] (Δ^L, already set) down to Δ¹ (see `DenseLayers`).
    @inlinable
    func backpropagateDeltas(rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                             flushBelow floor: Scalar = Scalar.leastNormalMagnitude) {
        layers.backpropagateDeltas(rows: rows, θ: θ, acts: acts, deltas: deltas, flushBelow: floor)
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, _ in
                forward(x, rows: rows, θ: θ.baseAddress!, acts: acts)
                return outputLoss(acts[layerCount - 1], rows: rows, batch: batch, delta: nil, scale: 1) * (1 / Scalar(rows))
            }
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "mlp: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        let t = θ.baseAddress!, g = gradient.baseAddress!
        return withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                return backwardGradient(x, rows: rows, batch: batch, θ: t, acts: acts, deltas: deltas, gradient: g)
            }
        }
    }

    /// After ``forward(_:rows:θ:acts:)``: the mean loss over the batch, with ∇L_B written into
    /// `g` by backpropagation (Δ^L = ∂ℓ/∂z^L / |B|, ∇[Wˡ | bˡ] = Δˡᵀ[Aˡ⁻¹ | 1]).
    /// - Complexity: two gemm per layer (three with the input delta).
    @inlinable
    func backwardGradient(_ x: UnsafePointer<Scalar>, rows: Int, batch: UnsafeBufferPointer<Int>?, θ t: UnsafePointer<Scalar>,
                          acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                          gradient g: UnsafeMutablePointer<Scalar>) -> Scalar {
        let scale = 1 / Scalar(rows)
        let total = outputLoss(acts[layerCount - 1], rows: rows, batch: batch, delta: deltas[layerCount - 1], scale: scale)
        backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
        layers.writeParameterGradient(x, rows: rows, acts: acts, deltas: deltas, into: g)
        return total * scale
    }

    /// Row i = ∇ℓᵢ(θ) by per-sample backpropagation. - Complexity: O(|B|·n).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        var s = Matrix<Scalar>(checkedRows: rows, columns: dimension)
        let t = θ.baseAddress!
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                _ = outputLoss(acts[layerCount - 1], rows: rows, batch: batch, delta: deltas[layerCount - 1], scale: 1)
                backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                s.elements.withUnsafeMutableBufferPointer { sp in
                    layers.writePerSampleRows(x, rows: rows, acts: acts, deltas: deltas, out: sp.baseAddress!, rowIndex: { $0 })
                }
            }
        }
        return s
    }

    /// J (|B|·K × n), row i·K + c = ∂(output c of sample i)/∂θ: ŷ for a linear output (Gaussian,
    /// β = 1), the logits for sigmoid (Bernoulli, p = σ(z)) and softmax (categorical, P).
    /// - Complexity: O(|B|·K·n).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), k = outputCount
        var j = Matrix<Scalar>(checkedRows: rows * k, columns: dimension)
        var outputs = [Scalar](repeating: 0, count: rows * k)
        let t = θ.baseAddress!
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                outputs.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: acts[layerCount - 1], count: rows * k) }
                j.elements.withUnsafeMutableBufferPointer { jp in
                    layers.writeOutputJacobian(x, rows: rows, θ: t, acts: acts, deltas: deltas, out: jp.baseAddress!)
                }
            }
        }
        let distribution: OutputDistribution<Scalar>
        switch outputLayer {
        case .linear: distribution = .gaussian(beta: 1)
        case .sigmoid: distribution = .bernoulli(probabilities: outputs.map(sigmoid))
        case .softmax:
            var p = try! Matrix<Scalar>(rows: rows, columns: k, elements: outputs)
            for i in 0..<rows {
                var mx = p.elements[i * k]
                for c in 1..<k { mx = Swift.max(mx, p.elements[i * k + c]) }
                var s: Scalar = 0
                for c in 0..<k { let e = scalarExp(p.elements[i * k + c] - mx); p.elements[i * k + c] = e; s += e }
                for c in 0..<k { p.elements[i * k + c] /= s }
            }
            distribution = .categorical(probabilities: p)
        }
        return OutputJacobian(jacobian: j, samples: rows, outputs: k, distribution: distribution)
    }

    /// The raw outputs z^L (m × K) for the rows of `features`.
    /// - Throws: ``DataError`` when θ or the feature columns do not fit the model.
    public func outputs(_ θ: [Scalar], features: Matrix<Scalar>) throws -> Matrix<Scalar> {
        guard θ.count == dimension else { throw DataError.dimensionMismatch(objective: name, expected: dimension, found: θ.count) }
        guard features.columns == data.featureCount else {
            throw DataError.shapeMismatch("mlp.outputs: \(features.columns) feature columns, the model has \(data.featureCount)")
        }
        let rows = features.rows, k = outputCount
        var z = Matrix<Scalar>(checkedRows: rows, columns: k)
        guard rows > 0 else { return z }
        withBatchRows(features, nil) { x, _ in
            withWorkspace(rows: rows) { acts, _ in
                θ.withUnsafeBufferPointer { forward(x, rows: rows, θ: $0.baseAddress!, acts: acts) }
                z.elements.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: acts[layerCount - 1], count: rows * k) }
            }
        }
        return z
    }

    /// Classification accuracy over all data (sigmoid: z > 0; softmax: first argmax); nil for a linear output.
    public func accuracy(at θ: UnsafeBufferPointer<Scalar>) -> Double? {
        guard outputLayer != .linear else { return nil }
        guard let z = try? outputs(Array(θ), features: data.features) else { return nil }
        let k = outputCount
        var correct = 0
        for i in 0..<sampleCount {
            let predicted: Int
            if outputLayer == .sigmoid { predicted = z.elements[i] > 0 ? 1 : 0 }
            else {
                var best = 0
                for c in 1..<k where z.elements[i * k + c] > z.elements[i * k + best] { best = c }
                predicted = best
            }
            if Scalar(predicted) == data.targets[i] { correct += 1 }
        }
        return Double(correct) / Double(sampleCount)
    }
}
