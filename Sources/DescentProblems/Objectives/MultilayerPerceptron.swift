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

/// A small fully connected network (the lecture's (docs/lecture.md) "adaptation for neural networks"):
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
    /// Offsets of each layer's [W | b] block in θ (layer l at `offsets[l − 1]`), with n last.
    @usableFromInline let offsets: [Int]

    /// - Parameters:
    ///   - data: the training data; its feature count is the input width.
    ///   - hiddenLayers: widths of the hidden layers (may be empty), each > 0.
    ///   - hiddenActivation: tanh (default) or sigmoid.
    ///   - outputLayer: linear, sigmoid (0/1 targets) or softmax (class labels).
    ///   - classCount: K for a softmax output; default 1 + the largest label.
    /// - Throws: ``DataError`` for an empty data set, a bad width or a target the output cannot use.
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
        var off = [0]
        for l in 1..<layerSizes.count {
            let (block, o1) = layerSizes[l].multipliedReportingOverflow(by: layerSizes[l - 1] &+ 1)
            let (end, o2) = off[l - 1].addingReportingOverflow(block)
            guard !o1, !o2, layerSizes[l - 1] < Int.max else {
                throw DataError.shapeMismatch("perceptron: layers \(layerSizes.map(String.init).joined(separator: "-")) have more parameters than an Int counts")
            }
            off.append(end)
        }
        self.offsets = off
    }

    public var name: String { "mlp" }
    public var dimension: Int { offsets.last! }

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
    public func initialParameters(seed: UInt64) -> [Scalar] {
        var rng = SplitMix64(seed: seed)
        var θ = [Scalar](repeating: 0, count: dimension)
        for l in 1...layerCount {
            let fanIn = layerSizes[l - 1], fanOut = layerSizes[l]
            let limit = (6 / Double(fanIn + fanOut)).squareRoot()
            for o in 0..<fanOut {
                for j in 0..<fanIn { θ[offsets[l - 1] + o * (fanIn + 1) + j] = Scalar((2 * rng.nextUniform() - 1) * limit) }
            }
        }
        return θ
    }

    // MARK: Workspace

    /// Scratch for a batch of `rows`: activations A¹…A^L and deltas Δ¹…Δ^L, each rows × sₗ.
    @inlinable
    func withWorkspace<R>(rows: Int, _ body: (_ acts: [UnsafeMutablePointer<Scalar>], _ deltas: [UnsafeMutablePointer<Scalar>]) -> R) -> R {
        let width = layerSizes.dropFirst().reduce(0, +)
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 2 * rows * width) { buf in
            var acts: [UnsafeMutablePointer<Scalar>] = []
            var deltas: [UnsafeMutablePointer<Scalar>] = []
            acts.reserveCapacity(layerCount)
            deltas.reserveCapacity(layerCount)
            var p = buf.baseAddress!
            for l in 1...layerCount { acts.append(p); p += rows * layerSizes[l] }
            for l in 1...layerCount { deltas.append(p); p += rows * layerSizes[l] }
            return body(acts, deltas)
        }
    }

    /// The forward pass: acts[l − 1] ← Aˡ (hidden activations; the raw outputs z^L for l = L).
    @inlinable
    func forward(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>]) {
        for l in 1...layerCount {
            let inW = layerSizes[l - 1], outW = layerSizes[l]
            let w = θ + offsets[l - 1]
            let input: UnsafePointer<Scalar> = l == 1 ? x : UnsafePointer(acts[l - 2])
            let z = acts[l - 1]
            if inW > 0 {
                Scalar.gemm(transposeA: .none, transposeB: .transpose, m: rows, n: outW, k: inW, alpha: 1, a: input, lda: inW,
                            b: w, ldb: inW + 1, beta: 0, c: z, ldc: outW)
            } else {
                z.update(repeating: 0, count: rows * outW)
            }
            for i in 0..<rows { for o in 0..<outW { z[i * outW + o] += w[o * (inW + 1) + inW] } }
            if l < layerCount {
                let count = rows * outW
                switch hiddenActivation {
                case .sigmoid: for i in 0..<count { z[i] = sigmoid(z[i]) }
                case .tanh:
                    // Float: `floatTanh` (no libm call; libm's tanhf cost ~30 ns per element).
                    if Scalar.self == Float.self {
                        let zf = UnsafeMutableRawPointer(z).assumingMemoryBound(to: Float.self)
                        floatTanh(zf, count: count)
                    } else {
                        for i in 0..<count { z[i] = scalarTanh(z[i]) }
                    }
                }
            }
        }
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

    /// Propagates deltas[L − 1] (Δ^L, already set) down to Δ¹: Δˡ⁻¹ = (Δˡ Wˡ) ⊙ h'(Aˡ⁻¹),
    /// with entries below `floor` in magnitude set to 0 (default: the subnormals only, see
    /// `flushSubnormal`).
    @inlinable
    func backpropagateDeltas(rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                             flushBelow floor: Scalar = Scalar.leastNormalMagnitude) {
        var l = layerCount
        while l > 1 {
            let inW = layerSizes[l - 1], outW = layerSizes[l]
            let w = θ + offsets[l - 1]
            let below = deltas[l - 2], a = acts[l - 2]
            Scalar.gemm(transposeA: .none, transposeB: .none, m: rows, n: inW, k: outW, alpha: 1, a: deltas[l - 1], lda: outW,
                        b: w, ldb: inW + 1, beta: 0, c: below, ldc: inW)
            let count = rows * inW
            switch hiddenActivation {
            case .sigmoid: for i in 0..<count { below[i] = flushed(below[i] * (a[i] * (1 - a[i])), below: floor) }
            case .tanh: for i in 0..<count { below[i] = flushed(below[i] * (1 - a[i] * a[i]), below: floor) }
            }
            l -= 1
        }
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
        for l in 1...layerCount {
            let inW = layerSizes[l - 1], outW = layerSizes[l]
            let gw = g + offsets[l - 1], delta = deltas[l - 1]
            let input: UnsafePointer<Scalar> = l == 1 ? x : UnsafePointer(acts[l - 2])
            if inW > 0 {
                Scalar.gemm(transposeA: .transpose, transposeB: .none, m: outW, n: inW, k: rows, alpha: 1, a: delta, lda: outW,
                            b: input, ldb: inW, beta: 0, c: gw, ldc: inW + 1)
            }
            for o in 0..<outW {
                var s: Scalar = 0
                for i in 0..<rows { s += delta[i * outW + o] }
                gw[o * (inW + 1) + inW] = s
            }
        }
        return total * scale
    }

    /// Writes, for every sample i, the per-sample parameter gradient Σₗ vec(δˡᵢ [aˡ⁻¹ᵢ, 1]) implied by
    /// the deltas into row `rowIndex(i)` of `out` (n columns).
    @inlinable
    func writePerSampleRows(_ x: UnsafePointer<Scalar>, rows: Int, acts: [UnsafeMutablePointer<Scalar>],
                            deltas: [UnsafeMutablePointer<Scalar>], out: UnsafeMutablePointer<Scalar>, rowIndex: (Int) -> Int) {
        let n = dimension
        for i in 0..<rows {
            let row = out + rowIndex(i) * n
            for l in 1...layerCount {
                let inW = layerSizes[l - 1], outW = layerSizes[l]
                let a: UnsafePointer<Scalar> = (l == 1 ? x : UnsafePointer(acts[l - 2])) + i * inW
                let delta = deltas[l - 1] + i * outW
                let block = row + offsets[l - 1]
                for o in 0..<outW {
                    writeAugmentedRow(block + o * (inW + 1), coefficient: delta[o], x: a, d: inW)
                }
            }
        }
    }

    /// Row i = ∇ℓᵢ(θ) by per-sample backpropagation. - Complexity: O(|B|·n).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        var s = Matrix<Scalar>(rows: rows, columns: dimension)
        let t = θ.baseAddress!
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                _ = outputLoss(acts[layerCount - 1], rows: rows, batch: batch, delta: deltas[layerCount - 1], scale: 1)
                backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                s.elements.withUnsafeMutableBufferPointer { sp in
                    writePerSampleRows(x, rows: rows, acts: acts, deltas: deltas, out: sp.baseAddress!, rowIndex: { $0 })
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
        var j = Matrix<Scalar>(rows: rows * k, columns: dimension)
        var outputs = [Scalar](repeating: 0, count: rows * k)
        let t = θ.baseAddress!
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                outputs.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: acts[layerCount - 1], count: rows * k) }
                j.elements.withUnsafeMutableBufferPointer { jp in
                    for c in 0..<k {
                        let top = deltas[layerCount - 1]
                        top.update(repeating: 0, count: rows * k)
                        for i in 0..<rows { top[i * k + c] = 1 }
                        backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                        writePerSampleRows(x, rows: rows, acts: acts, deltas: deltas, out: jp.baseAddress!, rowIndex: { $0 * k + c })
                    }
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
        var z = Matrix<Scalar>(rows: rows, columns: k)
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
