/// The fully connected layers that the perceptron and the autoencoder share, and their kernels
/// over a batch (row-major, one sample per row):
///
///     a⁰ = x,   zˡ = Wˡ aˡ⁻¹ + bˡ,   aˡ = h(zˡ) for an activated layer, aˡ = zˡ otherwise,
///
/// with the last layer never activated (its zᴸ are the model's outputs). θ holds the layers in
/// order, each as the row-major out × (in + 1) matrix [Wˡ | bˡ]: unit by unit, its weights then
/// its bias.
///
/// Backpropagation: from Δᴸ = ∂ℓ/∂zᴸ (one row per sample), Δˡ⁻¹ = (Δˡ Wˡ) ⊙ h'(Zˡ⁻¹) (h' = 1
/// for a linear layer), ∇[Wˡ | bˡ] = Δˡᵀ [Aˡ⁻¹ | 1].
///
/// Forward mode (the R-operator, Pearlmutter 1994) for a direction v = (Vˡ): R(a⁰) = 0,
///
///     R(zˡ) = Vˡ āˡ⁻¹ + Wˡ R(aˡ⁻¹),   R(aˡ) = h'(zˡ) ⊙ R(zˡ),
///
/// so R(zᴸ) = J v, the Jacobian of the outputs times v, for every sample at once.
///
/// Every kernel is one or two gemm per layer over the whole batch; nothing loops over the
/// parameters per sample except the per-sample rows, which are the n-wide output themselves.
@usableFromInline
struct DenseLayers<Scalar: BLASScalar>: Sendable {
    /// [d, h₁, …, K]: inputs, hidden widths, outputs.
    @usableFromInline let sizes: [Int]
    /// Offsets of each layer's [W | b] block in θ (layer l at `offsets[l − 1]`), with n last.
    @usableFromInline let offsets: [Int]
    /// h, applied after every layer l with `activated[l − 1]`.
    @usableFromInline let activation: HiddenActivation
    /// Whether layer l (at index l − 1) applies h; false for the last layer.
    @usableFromInline let activated: [Bool]

    /// - Parameters:
    ///   - sizes: [d, h₁, …, K], at least two entries.
    ///   - linearLayers: the layers l (1-based, below the last) that apply no activation.
    ///   - model: the model's name for the error message.
    /// - Throws: ``DataError/shapeMismatch(_:)`` when n does not fit an Int.
    @usableFromInline
    init(sizes: [Int], activation: HiddenActivation, linearLayers: Set<Int> = [], model: String) throws {
        precondition(sizes.count >= 2, "DenseLayers needs inputs and outputs")
        var off = [0]
        for l in 1..<sizes.count {
            let (block, o1) = sizes[l].multipliedReportingOverflow(by: sizes[l - 1] &+ 1)
            let (end, o2) = off[l - 1].addingReportingOverflow(block)
            guard !o1, !o2, sizes[l - 1] < Int.max else {
                throw DataError.shapeMismatch("\(model): layers \(sizes.map(String.init).joined(separator: "-")) have more parameters than an Int counts")
            }
            off.append(end)
        }
        self.sizes = sizes
        self.offsets = off
        self.activation = activation
        self.activated = (1..<sizes.count).map { $0 < sizes.count - 1 && !linearLayers.contains($0) }
    }

    /// L, the number of layers.
    @inlinable var count: Int { sizes.count - 1 }
    /// n, the number of parameters.
    @inlinable var dimension: Int { offsets.last! }
    /// K, the width of the output layer.
    @inlinable var outputCount: Int { sizes.last! }

    /// Glorot-uniform weights Wˡ ~ U(−√(6/(in+out)), √(6/(in+out))) from ``SplitMix64``(seed),
    /// drawn layer by layer, unit by unit; zero biases. - Complexity: O(n).
    func glorotParameters(seed: UInt64) -> [Scalar] {
        var rng = SplitMix64(seed: seed)
        var θ = [Scalar](repeating: 0, count: dimension)
        for l in 1...count {
            let fanIn = sizes[l - 1], fanOut = sizes[l]
            let limit = (6 / Double(fanIn + fanOut)).squareRoot()
            for o in 0..<fanOut {
                for j in 0..<fanIn { θ[offsets[l - 1] + o * (fanIn + 1) + j] = Scalar((2 * rng.nextUniform() - 1) * limit) }
            }
        }
        return θ
    }

    // MARK: Workspace

    /// Scratch for a batch of `rows`: activations A¹…Aᴸ and deltas Δ¹…Δᴸ, each rows × sₗ.
    @inlinable
    func withWorkspace<R>(rows: Int, _ body: (_ acts: [UnsafeMutablePointer<Scalar>], _ deltas: [UnsafeMutablePointer<Scalar>]) -> R) -> R {
        let width = sizes.dropFirst().reduce(0, +)
        return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 2 * rows * width) { buf in
            var acts: [UnsafeMutablePointer<Scalar>] = []
            var deltas: [UnsafeMutablePointer<Scalar>] = []
            acts.reserveCapacity(count)
            deltas.reserveCapacity(count)
            var p = buf.baseAddress!
            for l in 1...count { acts.append(p); p += rows * sizes[l] }
            for l in 1...count { deltas.append(p); p += rows * sizes[l] }
            return body(acts, deltas)
        }
    }

    /// The input of layer l: the batch's features for l = 1, else Aˡ⁻¹.
    @inlinable @inline(__always)
    func input(_ l: Int, _ x: UnsafePointer<Scalar>, _ acts: [UnsafeMutablePointer<Scalar>]) -> UnsafePointer<Scalar> {
        l == 1 ? x : UnsafePointer(acts[l - 2])
    }

    // MARK: Forward and backward

    /// The forward pass: acts[l − 1] ← Aˡ (the raw outputs Zᴸ for l = L).
    /// - Complexity: one gemm per layer, O(rows·n).
    @inlinable
    func forward(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>]) {
        for l in 1...count {
            let inW = sizes[l - 1], outW = sizes[l]
            let w = θ + offsets[l - 1]
            let z = acts[l - 1]
            affineRows(input(l, x, acts), rows: rows, inputs: inW, outputs: outW, weights: w, into: z)
            if activated[l - 1] { activate(z, count: rows * outW) }
        }
    }

    /// h applied in place to `count` values.
    @inlinable
    func activate(_ z: UnsafeMutablePointer<Scalar>, count: Int) {
        switch activation {
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

    /// Propagates deltas[L − 1] (Δᴸ, already set) down to Δ¹: Δˡ⁻¹ = (Δˡ Wˡ) ⊙ h'(Aˡ⁻¹) (h' = 1
    /// below a linear layer), with entries below `floor` in magnitude set to 0 (default: the
    /// subnormals only, see `flushSubnormal`). - Complexity: one gemm per layer above the first.
    @inlinable
    func backpropagateDeltas(rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>], deltas: [UnsafeMutablePointer<Scalar>],
                             flushBelow floor: Scalar = Scalar.leastNormalMagnitude) {
        var l = count
        while l > 1 {
            let inW = sizes[l - 1], outW = sizes[l]
            let w = θ + offsets[l - 1]
            let below = deltas[l - 2], a = acts[l - 2]
            Scalar.gemm(transposeA: .none, transposeB: .none, m: rows, n: inW, k: outW, alpha: 1, a: deltas[l - 1], lda: outW,
                        b: w, ldb: inW + 1, beta: 0, c: below, ldc: inW)
            let count = rows * inW
            if !activated[l - 2] {
                for i in 0..<count { below[i] = flushed(below[i], below: floor) }
            } else {
                switch activation {
                case .sigmoid: for i in 0..<count { below[i] = flushed(below[i] * (a[i] * (1 - a[i])), below: floor) }
                case .tanh: for i in 0..<count { below[i] = flushed(below[i] * (1 - a[i] * a[i]), below: floor) }
                }
            }
            l -= 1
        }
    }

    /// After the deltas are set: g ← Σ over the batch of Δˡᵀ [Aˡ⁻¹ | 1] for every layer
    /// (overwritten). - Complexity: one gemm per layer plus O(rows·Σ sₗ) for the biases.
    @inlinable
    func writeParameterGradient(_ x: UnsafePointer<Scalar>, rows: Int, acts: [UnsafeMutablePointer<Scalar>],
                                deltas: [UnsafeMutablePointer<Scalar>], into g: UnsafeMutablePointer<Scalar>) {
        for l in 1...count {
            let inW = sizes[l - 1], outW = sizes[l]
            let gw = g + offsets[l - 1], delta = deltas[l - 1]
            if inW > 0 {
                Scalar.gemm(transposeA: .transpose, transposeB: .none, m: outW, n: inW, k: rows, alpha: 1, a: delta, lda: outW,
                            b: input(l, x, acts), ldb: inW, beta: 0, c: gw, ldc: inW + 1)
            }
            for o in 0..<outW {
                var s: Scalar = 0
                for i in 0..<rows { s += delta[i * outW + o] }
                gw[o * (inW + 1) + inW] = s
            }
        }
    }

    /// Writes, for every sample i, the per-sample parameter gradient Σₗ vec(δˡᵢ [aˡ⁻¹ᵢ, 1]) implied by
    /// the deltas into row `rowIndex(i)` of `out` (n columns). - Complexity: O(rows·n).
    @inlinable
    func writePerSampleRows(_ x: UnsafePointer<Scalar>, rows: Int, acts: [UnsafeMutablePointer<Scalar>],
                            deltas: [UnsafeMutablePointer<Scalar>], out: UnsafeMutablePointer<Scalar>, rowIndex: (Int) -> Int) {
        let n = dimension
        for i in 0..<rows {
            let row = out + rowIndex(i) * n
            for l in 1...count {
                let inW = sizes[l - 1], outW = sizes[l]
                let a = input(l, x, acts) + i * inW
                let delta = deltas[l - 1] + i * outW
                let block = row + offsets[l - 1]
                for o in 0..<outW {
                    writeAugmentedRow(block + o * (inW + 1), coefficient: delta[o], x: a, d: inW)
                }
            }
        }
    }

    /// After the forward pass: the output Jacobian J ((rows·K) × n, row i·K + c =
    /// ∂zᴸ_c(sample i)/∂θ) into `out`, by one backward pass per output unit c with the seed e_c.
    /// - Complexity: K backward passes and O(rows·K·n) writes.
    @inlinable
    func writeOutputJacobian(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>],
                             deltas: [UnsafeMutablePointer<Scalar>], out: UnsafeMutablePointer<Scalar>) {
        let k = outputCount
        for c in 0..<k {
            let top = deltas[count - 1]
            top.update(repeating: 0, count: rows * k)
            for i in 0..<rows { top[i * k + c] = 1 }
            backpropagateDeltas(rows: rows, θ: θ, acts: acts, deltas: deltas)
            writePerSampleRows(x, rows: rows, acts: acts, deltas: deltas, out: out, rowIndex: { $0 * k + c })
        }
    }

    // MARK: Fisher-vector product

    /// After the forward pass: the R-operator's forward pass for the direction `v` (n values in
    /// θ's layout), tangents[l − 1] ← R(Aˡ) for l < L and tangents[L − 1] ← R(Zᴸ) = J v.
    /// - Complexity: two gemm per layer (one for the first), O(rows·n).
    @inlinable
    func forwardTangent(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, direction v: UnsafePointer<Scalar>,
                        acts: [UnsafeMutablePointer<Scalar>], tangents: [UnsafeMutablePointer<Scalar>]) {
        for l in 1...count {
            let inW = sizes[l - 1], outW = sizes[l]
            let rz = tangents[l - 1]
            affineRows(input(l, x, acts), rows: rows, inputs: inW, outputs: outW, weights: v + offsets[l - 1], into: rz)
            if l > 1 && inW > 0 {
                Scalar.gemm(transposeA: .none, transposeB: .transpose, m: rows, n: outW, k: inW, alpha: 1, a: tangents[l - 2], lda: inW,
                            b: θ + offsets[l - 1], ldb: inW + 1, beta: 1, c: rz, ldc: outW)
            }
            if activated[l - 1] {
                let a = acts[l - 1], count = rows * outW
                switch activation {
                case .sigmoid: for i in 0..<count { rz[i] *= a[i] * (1 - a[i]) }
                case .tanh: for i in 0..<count { rz[i] *= 1 - a[i] * a[i] }
                }
            }
        }
    }

    /// F v = Σᵢ Jᵢᵀ (Hᵢ Jᵢ v) over the batch rows `x`, written into `product`: the forward pass,
    /// the R-operator's forward pass for J v, `outputHessian` turning each row of J v into
    /// Hᵢ Jᵢ v (its arguments: the outputs Zᴸ, the rows × K values to transform in place), and
    /// one backward pass with those as the output deltas. The mean over the batch is the
    /// caller's (fold 1/|B| into `outputHessian`).
    ///
    /// Error: each stage is a product of the matrices of the forward and backward passes, so the
    /// result carries a relative error of a few ε·L·(max width) in ‖F‖‖v‖.
    /// - Complexity: five gemm per layer, O(rows·n), no per-sample loop over the parameters.
    @inlinable
    func fisherVectorProduct(_ x: UnsafePointer<Scalar>, rows: Int, θ: UnsafePointer<Scalar>, direction v: UnsafePointer<Scalar>,
                             product: UnsafeMutablePointer<Scalar>,
                             outputHessian: (_ outputs: UnsafePointer<Scalar>, _ tangent: UnsafeMutablePointer<Scalar>) -> Void) {
        withWorkspace(rows: rows) { acts, deltas in
            forward(x, rows: rows, θ: θ, acts: acts)
            // The tangents live in the deltas' buffers: R(Aˡ) is consumed before Δˡ is written.
            forwardTangent(x, rows: rows, θ: θ, direction: v, acts: acts, tangents: deltas)
            let top = deltas[count - 1]
            outputHessian(UnsafePointer(acts[count - 1]), top)
            for i in 0..<(rows * outputCount) { top[i] = flushSubnormal(top[i]) }
            backpropagateDeltas(rows: rows, θ: θ, acts: acts, deltas: deltas)
            writeParameterGradient(x, rows: rows, acts: acts, deltas: deltas, into: product)
        }
    }

    // MARK: Kronecker factors

    /// Gives `blocks` this network's layout (one block per layer), keeping its buffers when the
    /// layout is already right (no allocation then).
    @inlinable
    func prepareKroneckerBlocks(_ blocks: inout [KroneckerBlock<Scalar>]) {
        let depth = count
        let fits = blocks.count == depth && blocks.indices.allSatisfy { l in
            blocks[l].parameterOffset == offsets[l] && blocks[l].outputs == sizes[l + 1] && blocks[l].inputs == sizes[l] + 1
                && blocks[l].activations.count == blocks[l].inputs * blocks[l].inputs
                && blocks[l].preactivationGradients.count == blocks[l].outputs * blocks[l].outputs
        }
        if fits { return }
        blocks = (1...depth).map { l in
            let o = sizes[l], i = sizes[l - 1] + 1
            return KroneckerBlock(parameterOffset: offsets[l - 1], outputs: o, inputs: i,
                                  activations: Array(repeating: 0, count: i * i),
                                  preactivationGradients: Array(repeating: 0, count: o * o))
        }
    }

    /// After the forward pass: every block's A_l = ĀᵀĀ/m (upper triangle), formed without
    /// packing Ā = [input | 1]: `syrk` on the input for the d × d part, the column means for
    /// the bias row (summed into the contiguous last row, then copied), 1 in the corner.
    /// - Complexity: Σ_l rows·(dₗ + 1)²/2.
    @inlinable
    func writeActivationFactors(_ x: UnsafePointer<Scalar>, rows: Int, acts: [UnsafeMutablePointer<Scalar>],
                                into blocks: inout [KroneckerBlock<Scalar>]) {
        let inv = 1 / Scalar(rows)
        for l in 1...count {
            let d = sizes[l - 1], i = d + 1
            let input = input(l, x, acts)
            blocks[l - 1].activations.withUnsafeMutableBufferPointer { cb in
                let c = cb.baseAddress!
                if d > 0 {
                    Scalar.syrk(triangle: .upper, transpose: .transpose, n: d, k: rows, alpha: inv, a: input, lda: d,
                                beta: 0, c: c, ldc: i)
                    // The bias column: the input's column means, accumulated row by row into the
                    // contiguous last row (lower triangle, overwritten by the mirror below).
                    let last = c + d * i
                    last.update(repeating: 0, count: d)
                    for r in 0..<rows {
                        let row = input + r * d
                        for j in 0..<d { last[j] += row[j] }
                    }
                    for j in 0..<d { last[j] *= inv; c[j * i + d] = last[j] }
                }
                c[d * i + d] = 1
            }
        }
    }

    /// G_l ← α ΔˡᵀΔˡ (overwriting when `first`, else added; upper triangle) for every layer,
    /// after backpropagating deltas[L − 1] with `floor` when `backpropagate`.
    /// - Complexity: the backward pass plus Σ_l rows·sₗ²/2 (`syrk`).
    @inlinable
    func accumulatePreactivationFactors(rows: Int, θ: UnsafePointer<Scalar>, acts: [UnsafeMutablePointer<Scalar>],
                                        deltas: [UnsafeMutablePointer<Scalar>], alpha: Scalar, first: Bool,
                                        backpropagate: Bool, flushBelow floor: Scalar, into blocks: inout [KroneckerBlock<Scalar>]) {
        if backpropagate { backpropagateDeltas(rows: rows, θ: θ, acts: acts, deltas: deltas, flushBelow: floor) }
        for l in 1...count {
            let o = sizes[l]
            blocks[l - 1].preactivationGradients.withUnsafeMutableBufferPointer { c in
                Scalar.syrk(triangle: .upper, transpose: .transpose, n: o, k: rows, alpha: alpha, a: deltas[l - 1], lda: o,
                            beta: first ? 0 : 1, c: c.baseAddress!, ldc: o)
            }
        }
    }

    /// Copies both factors' upper triangles into their lower ones. - Complexity: O(Σ_l dₗ² + sₗ²).
    @inlinable
    static func mirrorFactors(_ blocks: inout [KroneckerBlock<Scalar>]) {
        for l in blocks.indices {
            let i = blocks[l].inputs, o = blocks[l].outputs
            blocks[l].activations.withUnsafeMutableBufferPointer { mirrorUpper($0.baseAddress!, order: i) }
            blocks[l].preactivationGradients.withUnsafeMutableBufferPointer { mirrorUpper($0.baseAddress!, order: o) }
        }
    }

    /// Copies the upper triangle of the n × n row-major `a` into its lower one. - Complexity: O(n²).
    @inlinable
    static func mirrorUpper(_ a: UnsafeMutablePointer<Scalar>, order n: Int) {
        // In 32 × 32 tiles, so both the rows written and the columns read stay in cache.
        let tile = 32
        var i0 = 0
        while i0 < n {
            let i1 = Swift.min(n, i0 + tile)
            var j0 = 0
            while j0 < i1 {
                let j1 = Swift.min(i1, j0 + tile)
                for i in i0..<i1 {
                    let je = Swift.min(j1, i)
                    if j0 < je { for j in j0..<je { a[i * n + j] = a[j * n + i] } }
                }
                j0 = j1
            }
            i0 = i1
        }
    }
}
