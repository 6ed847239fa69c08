// K-FAC's Kronecker factors for the fully connected models: the perceptron (every layer) and
// linear, logistic and softmax regression as one-layer networks.

/// The generator of the target drawn for sample `index` at `step` in ``FisherKind/sampled``
/// mode: SplitMix64 chained over the key (seed, step, index),
///
///     s₁ = SplitMix64(seed).next(),  s₂ = SplitMix64(s₁ ⊕ step).next(),  s₃ = SplitMix64(s₂ ⊕ index).next(),
///
/// then SplitMix64(s₃). Keyed by the sample's global index, so a draw does not depend on how a
/// batch is split or ordered.
@inlinable
public func kroneckerSampleGenerator(seed: UInt64, step: Int, index: Int) -> SplitMix64 {
    var a = SplitMix64(seed: seed)
    var b = SplitMix64(seed: a.next() ^ UInt64(truncatingIfNeeded: step))
    var c = SplitMix64(seed: b.next() ^ UInt64(truncatingIfNeeded: index))
    return SplitMix64(seed: c.next())
}

extension MultilayerPerceptron {
    /// K-FAC's factors for every layer l (input ā = [aˡ⁻¹; 1], pre-activation zˡ):
    ///
    ///     A_l = (1/m) Σᵢ āᵢ āᵢᵀ,     G_l = (1/m) Σᵢ Σ_s (Bᵢᵀ uᵢₛ)(Bᵢᵀ uᵢₛ)ᵀ,   Bᵢ = ∂z^L/∂zˡ,
    ///
    /// where the seeds uᵢₛ at the output (backpropagated like δ^L) are, by `fisher`:
    /// - ``FisherKind/exact``: Λᵢ = Σ_s uₛuₛᵀ, the output distribution's Fisher: Gaussian (β = 1)
    ///   u = 1; sigmoid u = √(p(1 − p)); softmax u_c = √p_c (e_c − p), c = 1…K (diag(p) − ppᵀ),
    ///   i.e. K backward passes, deterministic;
    /// - ``FisherKind/sampled``: one u = ∂ℓ(z, ŷ)/∂z with ŷ drawn from the model (Gaussian
    ///   ŷ = z + ε: u = −ε; Bernoulli: u = p − ŷ; categorical: u = p − e_ŷ), from
    ///   ``kroneckerSampleGenerator(seed:step:index:)`` keyed by the sample's data index;
    /// - ``FisherKind/empirical``: u = ∂ℓ(z, y)/∂z with the observed target y.
    ///
    /// Each block covers the layer's row-major [W | b] in θ (the perceptron's own layout).
    /// - Complexity: one forward pass, Σ_l |B|(dₗ + 1)²/2 for the A's, and per backward pass
    ///   (K for exact softmax, else 1) the backpropagation plus Σ_l |B|·sₗ²/2 (`syrk`).
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount), k = outputCount, depth = layerCount
        var blocks: [KroneckerBlock<Scalar>] = (1...depth).map { l in
            let o = layerSizes[l], i = layerSizes[l - 1] + 1
            return KroneckerBlock(parameterOffset: offsets[l - 1], outputs: o, inputs: i,
                                  activations: Array(repeating: 0, count: i * i),
                                  preactivationGradients: Array(repeating: 0, count: o * o))
        }
        let t = θ.baseAddress!
        let inv = 1 / Scalar(rows)
        let widest = (layerSizes.dropLast().max() ?? 0) + 1
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                // A_l = ĀᵀĀ/m with Ā = [input | 1].
                withUnsafeTemporaryAllocation(of: Scalar.self, capacity: rows * widest) { buffer in
                    let aug = buffer.baseAddress!
                    for l in 1...depth {
                        let d = layerSizes[l - 1], i = d + 1
                        let input: UnsafePointer<Scalar> = l == 1 ? x : UnsafePointer(acts[l - 2])
                        for r in 0..<rows {
                            if d > 0 { (aug + r * i).update(from: input + r * d, count: d) }
                            aug[r * i + d] = 1
                        }
                        blocks[l - 1].activations.withUnsafeMutableBufferPointer { c in
                            Scalar.syrk(triangle: .upper, transpose: .transpose, n: i, k: rows, alpha: inv, a: aug, lda: i,
                                        beta: 0, c: c.baseAddress!, ldc: i)
                        }
                    }
                }
                // G_l += ΔˡᵀΔˡ/m for each set of output seeds in deltas[L − 1].
                let top = deltas[depth - 1], z = UnsafePointer(acts[depth - 1])
                func accumulate() {
                    backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                    for l in 1...depth {
                        let o = layerSizes[l]
                        blocks[l - 1].preactivationGradients.withUnsafeMutableBufferPointer { c in
                            Scalar.syrk(triangle: .upper, transpose: .transpose, n: o, k: rows, alpha: inv, a: deltas[l - 1], lda: o,
                                        beta: 1, c: c.baseAddress!, ldc: o)
                        }
                    }
                }
                withUnsafeTemporaryAllocation(of: Scalar.self, capacity: k) { pb in
                    let p = pb.baseAddress!
                    switch fisher {
                    case .empirical:
                        _ = outputLoss(z, rows: rows, batch: batch, delta: top, scale: 1)
                        accumulate()
                    case .sampled:
                        for r in 0..<rows {
                            var rng = kroneckerSampleGenerator(seed: seed, step: step, index: sampleIndex(batch, r))
                            switch outputLayer {
                            case .linear:
                                top[r] = Scalar(-rng.nextNormal())
                            case .sigmoid:
                                let q = sigmoid(z[r])
                                top[r] = q - (rng.nextUniform() < Double(q) ? 1 : 0)
                            case .softmax:
                                Self.probabilities(z + r * k, count: k, into: p)
                                let u = rng.nextUniform()
                                var label = k - 1, cumulative = 0.0
                                for c in 0..<k {
                                    cumulative += Double(p[c])
                                    if u < cumulative { label = c; break }
                                }
                                for c in 0..<k { top[r * k + c] = p[c] - (c == label ? 1 : 0) }
                            }
                        }
                        accumulate()
                    case .exact:
                        switch outputLayer {
                        case .linear:
                            for r in 0..<rows { top[r] = 1 }
                            accumulate()
                        case .sigmoid:
                            for r in 0..<rows { let q = sigmoid(z[r]); top[r] = (q * (1 - q)).squareRoot() }
                            accumulate()
                        case .softmax:
                            for s in 0..<k {
                                for r in 0..<rows {
                                    Self.probabilities(z + r * k, count: k, into: p)
                                    let root = p[s].squareRoot()
                                    for c in 0..<k { top[r * k + c] = root * ((c == s ? 1 : 0) - p[c]) }
                                }
                                accumulate()
                            }
                        }
                    }
                }
            }
        }
        for l in blocks.indices {
            let i = blocks[l].inputs, o = blocks[l].outputs
            blocks[l].activations.withUnsafeMutableBufferPointer { Self.mirrorUpper($0.baseAddress!, order: i) }
            blocks[l].preactivationGradients.withUnsafeMutableBufferPointer { Self.mirrorUpper($0.baseAddress!, order: o) }
        }
        return blocks
    }

    /// p = softmax(z) of one row of K logits (max-shifted). - Complexity: O(K).
    @inlinable
    static func probabilities(_ z: UnsafePointer<Scalar>, count k: Int, into p: UnsafeMutablePointer<Scalar>) {
        var mx = z[0]
        for c in 1..<k { mx = Swift.max(mx, z[c]) }
        var s: Scalar = 0
        for c in 0..<k { let e = scalarExp(z[c] - mx); p[c] = e; s += e }
        for c in 0..<k { p[c] /= s }
    }

    /// Copies the upper triangle of the n × n row-major `a` into its lower one. - Complexity: O(n²).
    @inlinable
    static func mirrorUpper(_ a: UnsafeMutablePointer<Scalar>, order n: Int) {
        for i in 0..<n { for j in 0..<i { a[i * n + j] = a[j * n + i] } }
    }
}

// MARK: - Regressions as one-layer networks

extension LinearRegression {
    /// K-FAC's factors of the one-layer network ŷ = [w; b]ᵀ[x; 1] (Gaussian, β = 1): see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. θ = (w, b) is
    /// that network's [W | b]. The L2 term is not in the factors (the damping stands for it).
    /// - Complexity: |B|(d + 1)²/2 plus O(m) to check the targets.
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .linear) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }
}

extension LogisticRegression {
    /// K-FAC's factors of the one-layer sigmoid network z = [w; b]ᵀ[x; 1]; see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. The L2 term is not
    /// in the factors. - Complexity: |B|(d + 1)²/2 plus O(m) to check the targets.
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .sigmoid) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }
}

extension SoftmaxRegression {
    /// K-FAC's factors of the one-layer softmax network z = [W | c][x; 1] (θ's layout); see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. The L2 term is not
    /// in the factors. - Complexity: |B|((d + 1)² + K²)K/2 plus O(m) to check the targets.
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .softmax, classCount: classCount) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }
}
