// K-FAC's Kronecker factors of the autoencoder, in the perceptron's `KroneckerBlock` form (one
// block per layer over its [W | b] in θ), so that K-FAC trains it as it trains the perceptron.

extension Autoencoder {
    /// K-FAC's factors for every layer l (input ā = [aˡ⁻¹; 1], pre-activation zˡ):
    ///
    ///     A_l = (1/m) Σᵢ āᵢ āᵢᵀ,     G_l = (1/m) Σᵢ Σ_s (Bᵢᵀ uᵢₛ)(Bᵢᵀ uᵢₛ)ᵀ,   Bᵢ = ∂zᴸ/∂zˡ,
    ///
    /// with the output seeds uᵢₛ (d logits, independent Bernoulli pixels p = σ(z)) by `fisher`:
    /// - ``FisherKind/exact``: Σ_s uₛuₛᵀ = diag(p(1 − p)), uₛ = √(p_s(1 − p_s)) e_s, s = 1…d:
    ///   d backward passes, deterministic (for small problems: the cost is d gradients);
    /// - ``FisherKind/sampled``: one u = p − ŷ with every pixel ŷ_c ~ Bernoulli(p_c) drawn in
    ///   order c = 1…d from ``kroneckerSampleGenerator(seed:step:index:)`` keyed by the sample's
    ///   data index;
    /// - ``FisherKind/empirical``: u = p − x, the gradient's own seed.
    ///
    /// Entries of the exact and sampled seeds and of their backward pass below √(least normal)
    /// are set to 0, as the perceptron's (see its factors).
    /// - Complexity: one forward pass, Σ_l |B|(dₗ + 1)²/2 for the A's, and per backward pass
    ///   (d for exact, else 1) the backpropagation plus Σ_l |B|·sₗ²/2 (`syrk`).
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func kroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                 step: Int, seed: UInt64) -> [KroneckerBlock<Scalar>]? {
        precondition(θ.count == dimension, "autoencoder: θ has \(θ.count) elements, expected \(dimension)")
        let rows = batchCount(batch, sampleCount: sampleCount)
        var blocks: [KroneckerBlock<Scalar>] = []
        layers.prepareKroneckerBlocks(&blocks)
        withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, deltas in
                layers.forward(x, rows: rows, θ: θ.baseAddress!, acts: acts)
                accumulateKroneckerFactors(x, rows: rows, batch: batch, θ: θ.baseAddress!, acts: acts, deltas: deltas,
                                           fisher: fisher, step: step, seed: seed, deltasHoldGradient: false, into: &blocks)
            }
        }
        return blocks
    }

    /// ``lossAndGradient(at:batch:gradient:)`` and ``kroneckerFactors(at:batch:fisher:step:seed:)``
    /// from one forward pass, bit for bit the two calls' results; `factors` is reused without
    /// allocating when it already has this network's layout.
    /// - Complexity: one forward pass, the gradient's backward pass and the factors' passes.
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    @inlinable
    public func lossGradientAndKroneckerFactors(at θ: UnsafeBufferPointer<Scalar>, batch: UnsafeBufferPointer<Int>?, fisher: FisherKind,
                                                step: Int, seed: UInt64, gradient: UnsafeMutableBufferPointer<Scalar>,
                                                factors: inout [KroneckerBlock<Scalar>]) -> Scalar {
        precondition(θ.count == dimension && gradient.count == dimension, "autoencoder: θ and gradient need \(dimension) elements")
        let rows = batchCount(batch, sampleCount: sampleCount)
        layers.prepareKroneckerBlocks(&factors)
        let t = θ.baseAddress!
        return withBatchRows(inputs, batch) { x, _ in
            layers.withWorkspace(rows: rows) { acts, deltas in
                layers.forward(x, rows: rows, θ: t, acts: acts)
                let loss = backwardGradient(x, rows: rows, θ: t, acts: acts, deltas: deltas, gradient: gradient.baseAddress!)
                accumulateKroneckerFactors(x, rows: rows, batch: batch, θ: t, acts: acts, deltas: deltas, fisher: fisher,
                                           step: step, seed: seed, deltasHoldGradient: true, into: &factors)
                return loss
            }
        }
    }

    /// After the forward pass: overwrites the blocks' A_l and G_l (both triangles) with the
    /// batch's factors; `deltas` is scratch, or holds the gradient's deltas when
    /// `deltasHoldGradient` (then the empirical G reuses them).
    @inlinable
    func accumulateKroneckerFactors(_ x: UnsafePointer<Scalar>, rows: Int, batch: UnsafeBufferPointer<Int>?, θ t: UnsafePointer<Scalar>,
                                    acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                                    fisher: FisherKind, step: Int, seed: UInt64, deltasHoldGradient: Bool,
                                    into blocks: inout [KroneckerBlock<Scalar>]) {
        let d = inputCount, depth = layers.count, count = rows * d
        let inv = 1 / Scalar(rows)
        layers.writeActivationFactors(x, rows: rows, acts: acts, into: &blocks)
        let top = deltas[depth - 1], z = UnsafePointer(acts[depth - 1])
        let floor = Scalar.leastNormalMagnitude.squareRoot()
        switch fisher {
        case .empirical:
            if !deltasHoldGradient {
                _ = reconstructionLoss(z, inputs: x, rows: rows, delta: top, scale: inv)
                layers.backpropagateDeltas(rows: rows, θ: t, acts: acts, deltas: deltas)
            }
            layers.accumulatePreactivationFactors(rows: rows, θ: t, acts: acts, deltas: deltas, alpha: Scalar(rows), first: true,
                                                  backpropagate: false, flushBelow: floor, into: &blocks)
        case .sampled:
            for r in 0..<rows {
                var rng = kroneckerSampleGenerator(seed: seed, step: step, index: sampleIndex(batch, r))
                for c in 0..<d {
                    let q = sigmoid(z[r * d + c])
                    top[r * d + c] = flushed(q - (rng.nextUniform() < Double(q) ? 1 : 0), below: floor)
                }
            }
            layers.accumulatePreactivationFactors(rows: rows, θ: t, acts: acts, deltas: deltas, alpha: inv, first: true,
                                                  backpropagate: true, flushBelow: floor, into: &blocks)
        case .exact:
            withUnsafeTemporaryAllocation(of: Scalar.self, capacity: count) { rootBuffer in
                let root = rootBuffer.baseAddress!
                for i in 0..<count { let q = sigmoid(z[i]); root[i] = flushed((q * (1 - q)).squareRoot(), below: floor) }
                for s in 0..<d {
                    top.update(repeating: 0, count: count)
                    for r in 0..<rows { top[r * d + s] = root[r * d + s] }
                    layers.accumulatePreactivationFactors(rows: rows, θ: t, acts: acts, deltas: deltas, alpha: inv, first: s == 0,
                                                          backpropagate: true, flushBelow: floor, into: &blocks)
                }
            }
        }
        DenseLayers<Scalar>.mirrorFactors(&blocks)
    }
}
