/// The deep autoencoder of Hinton & Salakhutdinov (2006), the problem on which K-FAC was shown
/// to pay (Martens & Grosse 2015, §13): the encoder's widths h₁, …, h_c (the last is the code),
/// the decoder mirrored, back to the d inputs,
///
///     d → h₁ → … → h_c → … → h₁ → d,
///
/// hidden units tanh (default) or sigmoid, the code layer linear, the output layer the logits z
/// of independent Bernoulli pixels p = σ(z), and the loss the sigmoid cross-entropy against the
/// input itself, summed over the outputs and averaged over the samples:
///
///     ℓᵢ(θ) = Σ_c [softplus(z_ic) − x_ic z_ic],   L_B(θ) = (1/|B|) Σ_{i∈B} ℓᵢ(θ),
///
/// softplus(z) = max(z, 0) + log1p(e^{−|z|}) (stable for any z), inputs x ∈ [0, 1]. Its
/// gradient in z is p − x, its Hessian in z diag(p(1 − p)) (the output Fisher).
///
/// θ is laid out as the perceptron's: layer by layer the row-major out × (in + 1) matrix
/// [Wˡ | bˡ], unit by unit its weights then its bias; ``initialParameters(seed:)`` is the
/// perceptron's seeded Glorot-uniform initialization. The kernels are the perceptron's
/// (`DenseLayers`): gemm over the batch throughout.
///
/// Curvature: K-FAC's ``kroneckerFactors(at:batch:fisher:step:seed:)`` in the perceptron's
/// `KroneckerBlock` form, ``fisherVectorProduct(at:batch:vector:product:)`` by the R-operator,
/// ``perSampleGradients(at:batch:)`` and, for small sizes, ``outputJacobian(at:batch:)``.
/// - Complexity: O(|B|·n) per loss and gradient, about three times the forward pass.
public struct Autoencoder<Scalar: BLASScalar>: Objective, FisherVectorProducing {
    /// m × d inputs in [0, 1] (the reconstruction targets too).
    public let inputs: Matrix<Scalar>
    /// The encoder's widths h₁, …, h_c; h_c is the code.
    public let encoderWidths: [Int]
    public let hiddenActivation: HiddenActivation
    /// [d, h₁, …, h_c, …, h₁, d].
    public let layerSizes: [Int]
    @usableFromInline let layers: DenseLayers<Scalar>

    /// The widths of Hinton & Salakhutdinov's MNIST autoencoder: 1000, 500, 250, 30.
    public static var standardEncoderWidths: [Int] { [1000, 500, 250, 30] }

    /// - Parameters:
    ///   - inputs: m × d, every value in [0, 1] (e.g. pixels / 255).
    ///   - encoderWidths: h₁, …, h_c, at least one, each > 0.
    ///   - hiddenActivation: tanh (default) or sigmoid; the code layer stays linear.
    /// - Throws: ``DataError`` for no samples, no inputs, no or a bad width, or an input outside
    ///   [0, 1] (naming the sample and column); `LinearAlgebraError/allocationTooLarge(what:bytes:limit:)`
    ///   when θ, its gradient and the full-batch workspace exceed what the process can allocate.
    public init(inputs: Matrix<Scalar>, encoderWidths: [Int] = Self.standardEncoderWidths,
                hiddenActivation: HiddenActivation = .tanh) throws {
        guard inputs.rows > 0 else { throw DataError.shapeMismatch("autoencoder: the data set has no samples") }
        guard inputs.columns > 0 else { throw DataError.shapeMismatch("autoencoder: the samples have no inputs") }
        guard !encoderWidths.isEmpty else { throw DataError.shapeMismatch("autoencoder: at least one encoder width (the code) is needed") }
        if let w = encoderWidths.first(where: { $0 <= 0 }) {
            throw DataError.shapeMismatch("autoencoder: encoder width \(w) must be > 0")
        }
        let d = inputs.columns
        for (index, x) in inputs.elements.enumerated() where !(x >= 0 && x <= 1) {
            throw DataError.shapeMismatch("autoencoder: input \(x) of sample \(index / d) (column \(index % d), counting from 0) is outside [0, 1]")
        }
        let sizes = [d] + encoderWidths + encoderWidths.dropLast().reversed() + [d]
        self.inputs = inputs
        self.encoderWidths = encoderWidths
        self.hiddenActivation = hiddenActivation
        self.layerSizes = sizes
        self.layers = try DenseLayers(sizes: sizes, activation: hiddenActivation, linearLayers: [encoderWidths.count], model: "autoencoder")
        // θ, its gradient and the full-batch workspace (activations and deltas, 2 · m · Σ sₗ)
        // must be allocatable: a width the process cannot hold throws here, not in an evaluation.
        let width = MemoryLimit.sum(sizes.dropFirst().map { $0 })
        let workspace = width.flatMap { MemoryLimit.product([2, inputs.rows, $0]) }
        let elements = MemoryLimit.sum([MemoryLimit.product([2, layers.dimension]), workspace])
        try MemoryLimit.require(elements.flatMap { MemoryLimit.bytes(count: $0, stride: MemoryLayout<Scalar>.stride) },
                                for: "autoencoder \(sizes.map(String.init).joined(separator: "-")) on \(inputs.rows) samples")
    }

    /// The autoencoder of `data`'s features (its targets are ignored).
    /// - Throws: as ``init(inputs:encoderWidths:hiddenActivation:)``.
    public init(data: Dataset<Scalar>, encoderWidths: [Int] = Self.standardEncoderWidths,
                hiddenActivation: HiddenActivation = .tanh) throws {
        try self.init(inputs: data.features, encoderWidths: encoderWidths, hiddenActivation: hiddenActivation)
    }

    public var name: String { "autoencoder" }
    public var dimension: Int { layers.dimension }
    public var sampleCount: Int { inputs.rows }
    /// d, the inputs (and outputs) per sample.
    public var inputCount: Int { inputs.columns }

    /// Per layer l = 1, 2, …: `layerl.weights` and `layerl.biases`, and the groups `weights`
    /// and `biases`, as the perceptron's.
    public var parameterLayout: ParameterLayout {
        var slices: [ParameterLayout.Slice] = []
        for l in 1..<layerSizes.count {
            let block = ParameterLayout.rowBlocks(rows: layerSizes[l], weightsPerRow: layerSizes[l - 1], offset: layers.offsets[l - 1],
                                                  count: dimension, weights: "layer\(l).weights", biases: "layer\(l).biases")
            slices += block.slices
        }
        return .withAggregates(count: dimension, slices: slices)
    }

    /// Glorot-uniform weights from ``SplitMix64``(seed), zero biases (the perceptron's).
    public func initialParameters(seed: UInt64) -> [Scalar] { layers.glorotParameters(seed: seed) }

    // MARK: Loss

    /// Σᵢ ℓᵢ over the batch from the logits Z (rows × d) and the batch's inputs X; writes
    /// (σ(Z) − X)·scale into `delta` when given (subnormals flushed, see `flushSubnormal`).
    /// The terms (one exp and one log1p each) are computed split across the cores from
    /// 2 × 16 384 outputs on, then summed in order, so the result does not depend on the split.
    /// - Complexity: O(rows·d), one scratch buffer of rows·d.
    @inlinable
    func reconstructionLoss(_ z: UnsafePointer<Scalar>, inputs x: UnsafePointer<Scalar>, rows: Int,
                            delta: UnsafeMutablePointer<Scalar>?, scale: Scalar) -> Scalar {
        let count = rows * inputCount
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: count) { buffer -> Scalar in
            let terms = buffer.baseAddress!
            parallelChunks(count: count, minimumPerThread: 16_384) { range in
                if let delta {
                    for i in range {
                        let zi = z[i], e = scalarExp(-abs(zi))
                        terms[i] = Swift.max(zi, 0) + scalarLog1p(e) - x[i] * zi
                        // σ(z) from the same e^{−|z|}: 1/(1 + e) for z ≥ 0, e/(1 + e) below.
                        let p = zi >= 0 ? 1 / (1 + e) : e / (1 + e)
                        delta[i] = flushSubnormal(scale * (p - x[i]))
                    }
                } else {
                    for i in range { terms[i] = softplus(z[i]) - x[i] * z[i] }
                }
            }
            var total: Scalar = 0
            for i in 0..<count { total += terms[i] }
            return total
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func loss(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Scalar {
        precondition(θ.count == dimension, "autoencoder: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, _ in
                layers.forward(x, rows: rows, θ: θ.baseAddress!, acts: acts)
                return reconstructionLoss(acts[layers.count - 1], inputs: x, rows: rows, delta: nil, scale: 1) * (1 / Scalar(rows))
            }
        }
    }

    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossAndGradient(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                gradient: UnsafeMutableBufferPointer<Scalar>) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "autoencoder: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        return withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, deltas in
                layers.forward(x, rows: rows, θ: θ.baseAddress!, acts: acts)
                return backwardGradient(x, rows: rows, θ: θ.baseAddress!, acts: acts, deltas: deltas, gradient: gradient.baseAddress!)
            }
        }
    }

    /// After the forward pass: the mean loss, with ∇L_B written into `g` (Δᴸ = (σ(Zᴸ) − X)/|B|,
    /// backpropagated). - Complexity: two gemm per layer (one for the first).
    @inlinable
    func backwardGradient(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>],
                          deltas: [UnsafeMutablePointer<Scalar>], gradient g: UnsafeMutablePointer<Scalar>) -> Scalar {
        let scale = 1 / Scalar(rows)
        let total = reconstructionLoss(acts[layers.count - 1], inputs: x, rows: rows, delta: deltas[layers.count - 1], scale: scale)
        layers.backpropagateDeltas(rows: rows, θ: θ, acts: acts, deltas: deltas)
        layers.writeParameterGradient(x, rows: rows, acts: acts, deltas: deltas, into: g)
        return total * scale
    }

    // MARK: Curvature

    /// Row i = ∇ℓᵢ(θ) by per-sample backpropagation. - Complexity: O(|B|·n) time and memory.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func perSampleGradients(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> Matrix<Scalar>? {
        precondition(θ.count == dimension, "autoencoder: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        guard var s = try? Matrix<Scalar>(rows: rows, columns: dimension) else { return nil }
        let t = θ.baseAddress!
        withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, deltas in
                layers.forward(x, rows: rows, θ: t, acts: acts)
                _ = reconstructionLoss(acts[layers.count - 1], inputs: x, rows: rows, delta: deltas[layers.count - 1], scale: 1)
                layers.backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                s.elements.withUnsafeMutableBufferPointer { sp in
                    layers.writePerSampleRows(x, rows: rows, acts: acts, deltas: deltas, out: sp.baseAddress!, rowIndex: { $0 })
                }
            }
        }
        return s
    }

    /// The most entries |B|·d·n of an output Jacobian this objective forms (2²⁶, 512 MiB in
    /// Double); nil beyond it.
    public static var outputJacobianLimit: Int { 1 << 26 }

    /// J (|B|·d × n) of the logits, row i·d + c = ∂z_ic/∂θ, with the Bernoulli probabilities
    /// σ(z); nil when |B|·d·n exceeds ``outputJacobianLimit``.
    /// - Complexity: d backward passes, O(|B|·d·n).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public func outputJacobian(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?) -> OutputJacobian<Scalar>? {
        precondition(θ.count == dimension, "autoencoder: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), k = inputCount
        let (entries, overflow) = (rows * k).multipliedReportingOverflow(by: dimension)
        guard !overflow, entries <= Self.outputJacobianLimit else { return nil }
        guard var j = try? Matrix<Scalar>(rows: rows * k, columns: dimension) else { return nil }
        var p = [Scalar](repeating: 0, count: rows * k)
        let t = θ.baseAddress!
        withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, deltas in
                layers.forward(x, rows: rows, θ: t, acts: acts)
                let z = acts[layers.count - 1]
                for i in 0..<(rows * k) { p[i] = sigmoid(z[i]) }
                j.elements.withUnsafeMutableBufferPointer { jp in
                    layers.writeOutputJacobian(x, rows: rows, θ: t, acts: acts, deltas: deltas, out: jp.baseAddress!)
                }
            }
        }
        return OutputJacobian(jacobian: j, samples: rows, outputs: k, distribution: .bernoulli(probabilities: p))
    }

    /// F v = (1/|B|) Σᵢ Jᵢᵀ diag(pᵢ(1 − pᵢ)) Jᵢ v by the R-operator and one backward pass (see
    /// `DenseLayers`); the Gauss–Newton product of the loss, equal to its Fisher's.
    /// - Complexity: five gemm per layer, O(|B|·n).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func fisherVectorProduct(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?,
                                    vector: UnsafeBufferPointer<Scalar>, product: UnsafeMutableBufferPointer<Scalar>) {
        precondition(θ.count == dimension && vector.count == dimension && product.count == dimension,
                     "autoencoder: θ, vector and product need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount), count = rows * inputCount
        let inv = 1 / Scalar(rows)
        withBatchRows(inputs, batch) { x, _ in
            layers.fisherVectorProduct(x, rows: rows, θ: θ.baseAddress!, direction: vector.baseAddress!, product: product.baseAddress!) { z, t in
                parallelChunks(count: count, minimumPerThread: 16_384) { range in
                    for i in range { let p = sigmoid(z[i]); t[i] *= p * (1 - p) * inv }
                }
            }
        }
    }
}
