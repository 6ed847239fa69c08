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

extension Objective {
    /// The default: ``lossAndGradient(at:batch:gradient:)``, then
    /// ``kroneckerFactors(at:batch:fisher:step:seed:)`` into `factors` (empty for none).
    /// - Complexity: the two calls'.
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        let loss = lossAndGradient(at: θ, batch: batch, gradient: gradient)
        factors = kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed) ?? []
        return loss
    }
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
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        var blocks: [KroneckerBlock<Scalar>] = []
        writeKroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed, into: &blocks)
        return blocks
    }

    /// ``kroneckerFactors(at:batch:fisher:step:seed:)`` written into `blocks` (reused when they
    /// have this network's layout).
    @inlinable
    func writeKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                               step: Int, seed: UInt64, into blocks: inout [KroneckerBlock<Scalar>]) {
        precondition(θ.count == dimension, "mlp: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        prepareKroneckerBlocks(&blocks)
        let t = θ.baseAddress!
        withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                accumulateKroneckerFactors(x, rows: rows, batch: batch, θ: t, acts: acts, deltas: deltas, fisher: fisher,
                                           step: step, seed: seed, into: &blocks)
            }
        }
    }

    /// ``lossAndGradient(at:batch:gradient:)`` and ``kroneckerFactors(at:batch:fisher:step:seed:)``
    /// from one forward pass, bit for bit the two calls' results; the factors are written into
    /// `factors`, reused without allocating when it already has this network's layout.
    /// - Complexity: one forward pass, the gradient's backward pass, and the factors' passes
    ///   (see ``kroneckerFactors(at:batch:fisher:step:seed:)``).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "mlp: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        prepareKroneckerBlocks(&factors)
        let t = θ.baseAddress!, g = gradient.baseAddress!
        return withBatchRows(data.features, batch) { x, _ in
            withWorkspace(rows: rows) { acts, deltas in
                forward(x, rows: rows, θ: t, acts: acts)
                let loss = backwardGradient(x, rows: rows, batch: batch, θ: t, acts: acts, deltas: deltas, gradient: g)
                accumulateKroneckerFactors(x, rows: rows, batch: batch, θ: t, acts: acts, deltas: deltas, fisher: fisher,
                                           step: step, seed: seed, deltasHoldGradient: true, into: &factors)
                return loss
            }
        }
    }

    /// Gives `blocks` this network's layout (one block per layer), keeping its buffers when the
    /// layout is already right (no allocation then).
    @inlinable
    func prepareKroneckerBlocks(_ blocks: inout [KroneckerBlock<Scalar>]) { layers.prepareKroneckerBlocks(&blocks) }

    /// After ``forward(_:rows:θ:acts:)``: overwrites the blocks' A_l and G_l (both triangles)
    /// with the factors of the batch (see ``kroneckerFactors(at:batch:fisher:step:seed:)``);
    /// `deltas` is scratch. A_l = ĀᵀĀ/m is formed without packing Ā = [input | 1]: `syrk` on
    /// the input for the d × d part, the column means for the bias row (summed into the
    /// contiguous last row, then copied), 1 in the corner.
    ///
    /// The empirical G_l is formed from the gradient's deltas Δ̃ = Δ/m (``outputLoss`` with
    /// scale 1/m, backpropagated) as m·Δ̃ᵀΔ̃: when `deltasHoldGradient` (after
    /// ``backwardGradient``) they are reused and no second backward pass runs; otherwise they
    /// are computed the same way, so both calls give the same bits.
    ///
    /// The sampled and exact seeds, and their backward pass, set entries below
    /// √(least normal magnitude) (1.1·10⁻¹⁹ in Float) to 0, so that no product in the `syrk`
    /// is subnormal: subnormal operands made OpenBLAS's kernels take microcode assists (the G
    /// factors' `syrk`s took 1.8 ms per step instead of 0.9 ms). Each dropped product is below
    /// 1.1·10⁻¹⁹ times the largest seed, far under G's damping. The empirical G keeps the
    /// gradient's deltas (subnormals flushed only), so both calls agree bit for bit.
    @inlinable
    func accumulateKroneckerFactors(_ x: UnsafePointer<Scalar>, rows: Int, batch: UnsafeBufferPointer<Int>?, θ t: UnsafePointer<Scalar>,
                                    acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                                    fisher: FisherKind, step: Int, seed: UInt64, deltasHoldGradient: Bool = false,
                                    into blocks: inout [KroneckerBlock<Scalar>]) {
        let k = outputCount, depth = layerCount
        let inv = 1 / Scalar(rows)
        layers.writeActivationFactors(x, rows: rows, acts: acts, into: &blocks)
        // G_l = Σ over the sets of output seeds in deltas[L − 1] of ΔˡᵀΔˡ/m (the first set
        // overwrites, the others add).
        let top = deltas[depth - 1], z = UnsafePointer(acts[depth - 1])
        let floor = Scalar.leastNormalMagnitude.squareRoot()
        var first = true
        func accumulate(alpha: Scalar = inv, backpropagate: Bool = true) {
            layers.accumulatePreactivationFactors(rows: rows, θ: t, acts: acts, deltas: deltas, alpha: alpha, first: first,
                                                  backpropagate: backpropagate, flushBelow: floor, into: &blocks)
            first = false
        }
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: k) { pb in
            let p = pb.baseAddress!
            switch fisher {
            case .empirical:
                if !deltasHoldGradient {
                    // The gradient's deltas exactly: its output seeds and backward pass (subnormals flushed only).
                    _ = outputLoss(z, rows: rows, batch: batch, delta: top, scale: inv)
                    backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
                }
                accumulate(alpha: Scalar(rows), backpropagate: false)
            case .sampled:
                for r in 0..<rows {
                    var rng = kroneckerSampleGenerator(seed: seed, step: step, index: sampleIndex(batch, r))
                    switch outputLayer {
                    case .linear:
                        top[r] = Scalar(-rng.nextNormal())
                    case .sigmoid:
                        let q = sigmoid(z[r])
                        top[r] = flushed(q - (rng.nextUniform() < Double(q) ? 1 : 0), below: floor)
                    case .softmax:
                        Self.probabilities(z + r * k, count: k, into: p)
                        let u = rng.nextUniform()
                        var label = k - 1, cumulative = 0.0
                        for c in 0..<k {
                            cumulative += Double(p[c])
                            if u < cumulative { label = c; break }
                        }
                        for c in 0..<k { top[r * k + c] = flushed(p[c] - (c == label ? 1 : 0), below: floor) }
                    }
                }
                accumulate()
            case .exact:
                switch outputLayer {
                case .linear:
                    for r in 0..<rows { top[r] = 1 }
                    accumulate()
                case .sigmoid:
                    for r in 0..<rows { let q = sigmoid(z[r]); top[r] = flushed((q * (1 - q)).squareRoot(), below: floor) }
                    accumulate()
                case .softmax:
                    for s in 0..<k {
                        for r in 0..<rows {
                            Self.probabilities(z + r * k, count: k, into: p)
                            let root = p[s].squareRoot()
                            for c in 0..<k { top[r * k + c] = flushed(root * ((c == s ? 1 : 0) - p[c]), below: floor) }
                        }
                        accumulate()
                    }
                }
            }
        }
        DenseLayers<Scalar>.mirrorFactors(&blocks)
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
}

// MARK: - Regressions as one-layer networks

extension LinearRegression {
    /// K-FAC's factors of the one-layer network ŷ = [w; b]ᵀ[x; 1] (Gaussian, β = 1): see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. θ = (w, b) is
    /// that network's [W | b]. The L2 term is not in the factors (the damping stands for it).
    /// - Complexity: |B|(d + 1)²/2 plus O(m) to check the targets.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .linear) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }

    /// ``lossAndGradient(at:batch:gradient:)`` (its own, with the L2 term) and the one-layer
    /// network's factors written into `factors` (reused when they have its layout).
    /// - Complexity: the two evaluations'.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        let loss = lossAndGradient(at: θ, batch: batch, gradient: gradient)
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .linear) else { factors = []; return loss }
        net.writeKroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed, into: &factors)
        return loss
    }
}

extension LogisticRegression {
    /// K-FAC's factors of the one-layer sigmoid network z = [w; b]ᵀ[x; 1]; see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. The L2 term is not
    /// in the factors. - Complexity: |B|(d + 1)²/2 plus O(m) to check the targets.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .sigmoid) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }

    /// ``lossAndGradient(at:batch:gradient:)`` (its own, with the L2 term) and the one-layer
    /// network's factors written into `factors` (reused when they have its layout).
    /// - Complexity: the two evaluations'.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        let loss = lossAndGradient(at: θ, batch: batch, gradient: gradient)
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .sigmoid) else { factors = []; return loss }
        net.writeKroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed, into: &factors)
        return loss
    }
}

extension SoftmaxRegression {
    /// K-FAC's factors of the one-layer softmax network z = [W | c][x; 1] (θ's layout); see
    /// ``MultilayerPerceptron/kroneckerFactors(at:batch:fisher:step:seed:)``. The L2 term is not
    /// in the factors. - Complexity: |B|((d + 1)² + K²)K/2 plus O(m) to check the targets.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .softmax, classCount: classCount) else { return nil }
        return net.kroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed)
    }

    /// ``lossAndGradient(at:batch:gradient:)`` (its own, with the L2 term) and the one-layer
    /// network's factors written into `factors` (reused when they have its layout).
    /// - Complexity: the two evaluations'.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        let loss = lossAndGradient(at: θ, batch: batch, gradient: gradient)
        guard let net = try? MultilayerPerceptron(data: data, hiddenLayers: [], outputLayer: .softmax, classCount: classCount) else { factors = []; return loss }
        net.writeKroneckerFactors(at: θ, batch: batch, fisher: fisher, step: step, seed: seed, into: &factors)
        return loss
    }
}
