import Foundation

/// K-FAC, Kronecker-factored approximate curvature (Martens & Grosse, 2015): the natural
/// gradient with the Fisher of every fully connected layer l approximated by a Kronecker
/// product of two small factors,
///
///     F_l ≈ A_l ⊗ G_l,   A_l = E[āāᵀ] (ā = [a; 1], the layer's input), G_l = E[Bᵀ Λ B]
///
/// (see ``KroneckerBlock``; the model supplies them through ``updateCurvature(_:)``). Per layer,
/// with the [W | b] block of θ as the o × i row-major matrix W (i = fan-in + 1):
///
///     Ā ← βĀ + (1 − β)A,  Ḡ ← βḠ + (1 − β)G            (every update; the first initializes)
///     π = √((tr Ā / i) / (tr Ḡ / o))                     (factored Tikhonov, M&G §6.3)
///     LA LAᵀ = Ā + π√λ I,  LG LGᵀ = Ḡ + (√λ/π) I        (Cholesky, every T steps: t = 0, T, 2T, …)
///     X = (Ḡ + (√λ/π)I)⁻¹ ∇W (Ā + π√λ I)⁻¹              (four triangular solves, no inverse)
///     ν = min(1, √(κ / (η² Σ_l ⟨∇W_l, X_l⟩)))            (KL clipping, only with `klClip` κ)
///     W ← W − ην X
///
/// The factors are refactored at steps t = 0, T, 2T, … (t counts applied steps, T =
/// `inverseUpdateInterval`), and whenever the requested λ differs from the one in the
/// factors (Levenberg–Marquardt, or a changed ``damping``); in between the factors are reused
/// with the current gradient. π is computed from the averages at refactoring time.
///
/// Damping: ``Damping/fixed(_:)`` (λ = 0 allowed where the factors are positive definite: for
/// a one-layer linear model with λ = 0 and η = 1 K-FAC is the exact natural gradient, i.e.
/// Gauss–Newton, and lands on least squares in one step), or
/// ``Damping/levenbergMarquardt(initial:factor:minimum:maximum:)`` from the reduction ratio
/// ρ = (L(θ + δ) − L(θ)) / (q(δ) − q(0)), q(δ) − q(0) = ∇Lᵀδ + ½ Σ_l ⟨δW_l, Ḡ δW_l Ā⟩, reported
/// with ``reportLoss(before:after:)``. If a damped factor is not positive definite, λ is raised
/// tenfold (from 10⁻⁶ · mean_l (tr Ā/i)(tr Ḡ/o) when λ = 0) up to `maximumDampingRetries`
/// times, all layers together; with Levenberg–Marquardt the raised λ becomes the adapted one.
///
/// Defaults: η = 0.1, λ = 10⁻³ fixed, β = 0.95, T = 10, no KL clipping, 8 damping retries.
///
/// Memory: the averages Σ_l (i² + o²), their Cholesky factors as much again, and as much again
/// of scratch (a refactoring writes into it and swaps only when every layer succeeded, so a
/// failure leaves the factors untouched), an n-vector direction and 2 · max_l(o·i) of scratch.
/// No n × n matrix. After the first step a step allocates nothing; checkpoints hold the
/// averages, the factors and the counters (not the scratch).
///
/// - Complexity: per step Σ_l (i²o + o²i) multiply-adds for the solves, plus Σ_l (i³ + o³)/3 for
///   the Cholesky factorizations on refactoring steps, plus Σ_l (i²o + o²i) for the quadratic
///   model with Levenberg–Marquardt; per ``updateCurvature(_:)`` Σ_l (i² + o²).
public struct KFAC<Scalar: BLASScalar>: SecondOrderOptimizer {
    public static var kind: String { "kfac" }

    /// η ≥ 0.
    public var learningRate: Scalar
    /// λ: fixed or Levenberg–Marquardt.
    public var damping: Damping<Scalar>
    /// β ∈ [0, 1) of the factors' moving average (0: each update's factors as given).
    public var factorDecay: Scalar
    /// T ≥ 1: Cholesky factorizations at steps 0, T, 2T, ….
    public var inverseUpdateInterval: Int
    /// κ > 0 of the KL clipping, or nil for none.
    public var klClip: Scalar?
    /// How many times a failed factorization is retried with λ raised tenfold (≥ 0).
    public var maximumDampingRetries: Int
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }

    @usableFromInline var t: Int = 0
    @usableFromInline var skipped: Int = 0
    /// n, once a step has been taken.
    @usableFromInline var count: Int? = nil
    /// The block layout of the averages (empty before the first update).
    @usableFromInline var layers: [KFACLayer] = []
    /// Ā_l and Ḡ_l, concatenated over the layers.
    @usableFromInline var averageA: [Scalar] = []
    @usableFromInline var averageG: [Scalar] = []
    /// Curvature updates absorbed so far.
    @usableFromInline var updates: Int = 0
    /// Cholesky factors (column-major lower = row-major upper) of the damped averages.
    @usableFromInline var factorA: [Scalar] = []
    @usableFromInline var factorG: [Scalar] = []
    /// π_l of the factors.
    @usableFromInline var pis: [Scalar] = []
    @usableFromInline var factorValid: Bool = false
    /// λ in the factors, and the λ requested when they were made.
    @usableFromInline var factorDamping: Scalar = 0
    @usableFromInline var factorRequest: Scalar = 0
    /// The adapted λ of Levenberg–Marquardt damping (nil: not yet adapted).
    @usableFromInline var lambda: Scalar? = nil
    @usableFromInline var prediction: Scalar? = nil
    @usableFromInline var ratio: Scalar? = nil
    // Scratch, not part of the state.
    @usableFromInline var spareA: [Scalar] = []
    @usableFromInline var spareG: [Scalar] = []
    @usableFromInline var sparePis: [Scalar] = []
    @usableFromInline var direction: [Scalar] = []
    @usableFromInline var work: [Scalar] = []
    /// KAISA: which layers this process factors and preconditions (KFAC+Partition.swift); nil: all.
    @usableFromInline package var workSharing: (any KFACWorkSharing)? = nil

    @usableFromInline enum CodingKeys: String, CodingKey {
        case learningRate, damping, factorDecay, inverseUpdateInterval, klClip, maximumDampingRetries, nonFiniteGradientPolicy
        case t, skipped, count, layers, averageA, averageG, updates, factorA, factorG, pis, factorValid
        case factorDamping, factorRequest, lambda, prediction, ratio
    }

    /// - Parameters:
    ///   - learningRate: η ≥ 0 (default 0.1).
    ///   - damping: λ (default fixed 10⁻³).
    ///   - factorDecay: β ∈ [0, 1) (default 0.95).
    ///   - inverseUpdateInterval: T ≥ 1 (default 10).
    ///   - klClip: κ > 0, or nil (default).
    ///   - maximumDampingRetries: default 8.
    ///   - nonFiniteGradientPolicy: what a NaN or infinite gradient does (default: throw).
    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(learningRate: Scalar = 0.1, damping: Damping<Scalar> = .fixed(1e-3), factorDecay: Scalar = 0.95,
                inverseUpdateInterval: Int = 10, klClip: Scalar? = nil, maximumDampingRetries: Int = 8,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.learningRate = learningRate
        self.damping = damping
        self.factorDecay = factorDecay
        self.inverseUpdateInterval = inverseUpdateInterval
        self.klClip = klClip
        self.maximumDampingRetries = maximumDampingRetries
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    @inlinable
    public func validate() throws {
        try Hyperparameter.nonNegative("learningRate", learningRate)
        try damping.validate()
        try Hyperparameter.halfOpenUnit("factorDecay", factorDecay)
        guard inverseUpdateInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "inverseUpdateInterval", value: "\(inverseUpdateInterval)", requirement: "≥ 1")
        }
        if let klClip { try Hyperparameter.positive("klClip", klClip) }
        guard maximumDampingRetries >= 0 else {
            throw OptimizerError.invalidHyperparameter(name: "maximumDampingRetries", value: "\(maximumDampingRetries)", requirement: "≥ 0")
        }
    }

    /// Checks a decoded state: counters, the layout (positive sizes, contiguous from 0, no
    /// overflow, tiling n), every buffer's length against it, and that the averages, factors,
    /// π, λ and the loss model are finite.
    public func validateState() throws {
        func corrupt(_ s: String) -> OptimizerError { .corruptCheckpoint(s) }
        guard t >= 0, skipped >= 0, updates >= 0 else {
            throw corrupt("negative counter (t = \(t), skipped = \(skipped), updates = \(updates))")
        }
        let sizes: (a: Int, g: Int, n: Int)
        do { sizes = try Self.totals(layers) } catch { throw corrupt("layout: \(error)") }
        if let count {
            guard count == sizes.n, !layers.isEmpty else { throw corrupt("state for \(count) parameters, layout covers \(sizes.n)") }
        }
        if layers.isEmpty {
            guard averageA.isEmpty, averageG.isEmpty, factorA.isEmpty, factorG.isEmpty, pis.isEmpty, !factorValid, updates == 0 else {
                throw corrupt("factor buffers without a layout")
            }
        } else {
            guard updates > 0 else { throw corrupt("a layout but no curvature update") }
            guard averageA.count == sizes.a else { throw corrupt("buffer averageA has \(averageA.count) elements, expected \(sizes.a)") }
            guard averageG.count == sizes.g else { throw corrupt("buffer averageG has \(averageG.count) elements, expected \(sizes.g)") }
            if factorValid {
                guard factorA.count == sizes.a else { throw corrupt("buffer factorA has \(factorA.count) elements, expected \(sizes.a)") }
                guard factorG.count == sizes.g else { throw corrupt("buffer factorG has \(factorG.count) elements, expected \(sizes.g)") }
                guard pis.count == layers.count else { throw corrupt("buffer pis has \(pis.count) elements, expected \(layers.count)") }
            } else {
                guard factorA.isEmpty || factorA.count == sizes.a, factorG.isEmpty || factorG.count == sizes.g,
                      pis.isEmpty || pis.count == layers.count else { throw corrupt("factor buffers of the wrong length") }
            }
        }
        for (name, buffer) in [("averageA", averageA), ("averageG", averageG), ("factorA", factorA), ("factorG", factorG), ("pis", pis)] {
            if let i = buffer.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw corrupt("buffer \(name) has a non-finite entry \(buffer[i]) at \(i)")
            }
        }
        if let bad = pis.first(where: { $0 <= 0 }) { throw corrupt("π = \(bad) must be > 0") }
        guard factorDamping >= 0, factorDamping.isFinite, factorRequest >= 0, factorRequest.isFinite else {
            throw corrupt("factor damping \(factorDamping) (requested \(factorRequest)) must be finite and ≥ 0")
        }
        if let lambda, !(lambda >= 0 && lambda.isFinite) { throw corrupt("λ = \(lambda) must be finite and ≥ 0") }
        if let prediction, !prediction.isFinite { throw corrupt("predicted reduction \(prediction) is not finite") }
    }

    /// Σ i², Σ o², Σ o·i of a layout, checking sizes, contiguity from 0 and overflow.
    @usableFromInline
    static func totals(_ layers: [KFACLayer]) throws -> (a: Int, g: Int, n: Int) {
        var a = 0, g = 0, n = 0
        for (l, layer) in layers.enumerated() {
            guard layer.outputs > 0, layer.inputs > 0 else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "outputs = \(layer.outputs), inputs = \(layer.inputs) must be > 0")
            }
            guard layer.offset == n else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "parameterOffset = \(layer.offset), expected \(n) (blocks must tile θ in order)")
            }
            let (ii, o1) = layer.inputs.multipliedReportingOverflow(by: layer.inputs)
            let (oo, o2) = layer.outputs.multipliedReportingOverflow(by: layer.outputs)
            let (oi, o3) = layer.outputs.multipliedReportingOverflow(by: layer.inputs)
            let (a2, o4) = a.addingReportingOverflow(ii)
            let (g2, o5) = g.addingReportingOverflow(oo)
            let (n2, o6) = n.addingReportingOverflow(oi)
            guard !(o1 || o2 || o3 || o4 || o5 || o6), Int32(exactly: layer.inputs) != nil, Int32(exactly: layer.outputs) != nil else {
                throw KFACError.sizeOverflow("layer \(l): \(layer.outputs) × \(layer.inputs)")
            }
            a = a2; g = g2; n = n2
        }
        return (a, g, n)
    }

    public var stateCount: Int? { count }

    public mutating func reset() {
        t = 0; skipped = 0; count = nil; layers = []; averageA = []; averageG = []; updates = 0
        factorA = []; factorG = []; pis = []; factorValid = false; factorDamping = 0; factorRequest = 0
        lambda = nil; prediction = nil; ratio = nil
        spareA = []; spareG = []; sparePis = []; direction = []; work = []
    }

    // MARK: - Public state

    /// The λ the next factorization asks for: the fixed λ, or the adapted Levenberg–Marquardt λ.
    @inlinable
    public var currentDamping: Scalar {
        if case .fixed(let v) = damping { return v }
        return lambda ?? damping.initial
    }

    /// The λ in the current factors (larger than requested after a retry), nil before one.
    public var factoredDamping: Scalar? { factorValid ? factorDamping : nil }

    /// π_l of the current factors (empty before the first factorization).
    public var dampingBalance: [Scalar] { factorValid ? pis : [] }

    /// The layout of the factor averages (empty before the first update).
    public var layout: [KFACLayer] { layers }

    /// The averaged factors Ā_l (i × i) and Ḡ_l (o × o), row-major, one pair per layer.
    public var factorAverages: [(activations: [Scalar], preactivationGradients: [Scalar])] {
        var out: [(activations: [Scalar], preactivationGradients: [Scalar])] = []
        var oa = 0, og = 0
        for layer in layers {
            let ii = layer.inputs * layer.inputs, oo = layer.outputs * layer.outputs
            out.append((Array(averageA[oa..<oa + ii]), Array(averageG[og..<og + oo])))
            oa += ii; og += oo
        }
        return out
    }

    /// Curvature updates absorbed so far.
    public var curvatureUpdates: Int { updates }

    /// ρ of the last ``reportLoss(before:after:)``, nil before one.
    public var lastReductionRatio: Scalar? { ratio }

    // MARK: - SecondOrderOptimizer

    /// `.kronecker` every step: the factor averages are updated every step.
    public var curvatureRequest: CurvatureRequest? { .kronecker }

    /// True with Levenberg–Marquardt damping.
    public var wantsLossReports: Bool {
        if case .levenbergMarquardt = damping { return true }
        return false
    }

    /// Absorbs Kronecker factors into the moving averages: Ā ← βĀ + (1 − β)A, Ḡ ← βḠ + (1 − β)G
    /// (the first update initializes them). The blocks must tile θ in order from offset 0 with
    /// the layout of the earlier updates (and, after a step, the parameter count).
    /// - Throws: ``KFACError`` (`.unsupportedCurvature` for a dense curvature,
    ///   `.blockShapeMismatch`, `.blockLayoutChanged`, `.blocksDoNotTile`, `.nonFiniteFactor`,
    ///   `.sizeOverflow`), with nothing changed.
    /// - Complexity: Σ_l (i² + o²); allocates only on the first update.
    @inlinable
    public mutating func updateCurvature(_ estimate: CurvatureEstimate<Scalar>) throws {
        guard case let .kronecker(blocks) = estimate else { throw KFACError.unsupportedCurvature("dense (.matrix)") }
        guard !blocks.isEmpty else { throw KFACError.blocksDoNotTile(covered: 0, parameters: count ?? 0) }
        guard updates < Int.max else { throw OptimizerError.counterOverflow(name: "updates") }
        try checkBlocks(blocks)
        if updates == 0 || layers.isEmpty {
            var newLayers: [KFACLayer] = []
            newLayers.reserveCapacity(blocks.count)
            var a: [Scalar] = [], g: [Scalar] = []
            for b in blocks {
                newLayers.append(KFACLayer(offset: b.parameterOffset, outputs: b.outputs, inputs: b.inputs))
                a.append(contentsOf: b.activations)
                g.append(contentsOf: b.preactivationGradients)
            }
            layers = newLayers
            averageA = a
            averageG = g
        } else {
            let beta = factorDecay
            var oa = 0, og = 0
            averageA.withUnsafeMutableBufferPointer { ab in
                averageG.withUnsafeMutableBufferPointer { gb in
                    for b in blocks {
                        let ii = b.inputs * b.inputs, oo = b.outputs * b.outputs
                        b.activations.withUnsafeBufferPointer {
                            KFACKernels<Scalar>.movingAverage($0.baseAddress!, count: ii, decay: beta, into: ab.baseAddress! + oa)
                        }
                        b.preactivationGradients.withUnsafeBufferPointer {
                            KFACKernels<Scalar>.movingAverage($0.baseAddress!, count: oo, decay: beta, into: gb.baseAddress! + og)
                        }
                        oa += ii; og += oo
                    }
                }
            }
        }
        updates += 1
    }

    /// Shapes, tiling, layout and finiteness of `blocks` (no allocation when a layout exists).
    @inlinable
    func checkBlocks(_ blocks: [KroneckerBlock<Scalar>]) throws {
        var n = 0
        for (l, b) in blocks.enumerated() {
            guard b.outputs > 0, b.inputs > 0 else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "outputs = \(b.outputs), inputs = \(b.inputs) must be > 0")
            }
            guard b.parameterOffset == n else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "parameterOffset = \(b.parameterOffset), expected \(n) (blocks must tile θ in order)")
            }
            let (ii, o1) = b.inputs.multipliedReportingOverflow(by: b.inputs)
            let (oo, o2) = b.outputs.multipliedReportingOverflow(by: b.outputs)
            let (oi, o3) = b.outputs.multipliedReportingOverflow(by: b.inputs)
            let (n2, o4) = n.addingReportingOverflow(oi)
            guard !(o1 || o2 || o3 || o4), Int32(exactly: b.inputs) != nil, Int32(exactly: b.outputs) != nil else {
                throw KFACError.sizeOverflow("block \(l): \(b.outputs) × \(b.inputs)")
            }
            guard b.activations.count == ii else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "A has \(b.activations.count) entries, expected \(b.inputs)² = \(ii)")
            }
            guard b.preactivationGradients.count == oo else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "G has \(b.preactivationGradients.count) entries, expected \(b.outputs)² = \(oo)")
            }
            if !layers.isEmpty {
                let found = KFACLayer(offset: b.parameterOffset, outputs: b.outputs, inputs: b.inputs)
                guard l < layers.count else {
                    throw KFACError.blockLayoutChanged(layer: l, expected: "no block (\(layers.count) layers)", found: found.shape)
                }
                guard layers[l] == found else {
                    throw KFACError.blockLayoutChanged(layer: l, expected: layers[l].shape, found: found.shape)
                }
            }
            if let i = b.activations.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw KFACError.nonFiniteFactor(layer: l, factor: "A", index: i, value: "\(b.activations[i])")
            }
            if let i = b.preactivationGradients.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw KFACError.nonFiniteFactor(layer: l, factor: "G", index: i, value: "\(b.preactivationGradients[i])")
            }
            n = n2
        }
        if !layers.isEmpty, blocks.count != layers.count {
            throw KFACError.blockLayoutChanged(layer: blocks.count, expected: "\(layers.count) layers", found: "\(blocks.count) blocks")
        }
        if let count, n != count { throw KFACError.blocksDoNotTile(covered: n, parameters: count) }
    }

    // MARK: - Step

    /// Preconditions the gradient block by block and applies W ← W − ην X (see the type's
    /// formulas), refactoring first at steps 0, T, 2T, … or when λ changed.
    /// - Throws: ``OptimizerError`` (gradient count, state count, hyperparameter, non-finite
    ///   gradient); ``KFACError/missingCurvature(step:)`` before any update,
    ///   ``KFACError/blocksDoNotTile(covered:parameters:)`` when the layout does not cover the
    ///   parameters, ``KFACError/notPositiveDefinite(layer:factor:order:lastDamping:attempts:)``,
    ///   ``KFACError/nonFiniteStep``. After any throw, parameters and state are unchanged.
    /// - Complexity: see the type.
    @inlinable
    @_specialize(where Scalar == Float) @_specialize(where Scalar == Double)
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            guard skipped < Int.max else { throw OptimizerError.counterOverflow(name: "skipped") }
            skipped += 1
            return
        }
        guard t < Int.max else { throw OptimizerError.counterOverflow(name: "t") }
        let n = parameters.count
        guard !layers.isEmpty, updates > 0 else { throw KFACError.missingCurvature(step: t + 1) }
        let covered = layers.last.map { $0.offset + $0.outputs * $0.inputs } ?? 0
        guard covered == n else { throw KFACError.blocksDoNotTile(covered: covered, parameters: n) }
        ensureScratch(parameters: n)

        let request = currentDamping
        let refactorNow = !factorValid || t % inverseUpdateInterval == 0 || request != factorRequest
        var used = factorDamping
        if refactorNow { used = try factorSpare(damping: request) }

        // x = block-diag preconditioned gradient, into `direction`.
        var x = direction; direction = []
        var w = work; work = []
        defer { direction = x; work = w }
        let fa = refactorNow ? spareA : factorA, fg = refactorNow ? spareG : factorG
        let g = gradient.baseAddress!
        x.withUnsafeMutableBufferPointer { xb in
            w.withUnsafeMutableBufferPointer { wb in
                fa.withUnsafeBufferPointer { ab in
                    fg.withUnsafeBufferPointer { gb in
                        var oa = 0, og = 0
                        for (l, layer) in layers.enumerated() {
                            let o = layer.outputs, i = layer.inputs
                            if ownsLayer(l) { KFACKernels<Scalar>.precondition(g + layer.offset, outputs: o, inputs: i, factorA: ab.baseAddress! + oa,
                                                             factorG: gb.baseAddress! + og, into: xb.baseAddress! + layer.offset,
                                                             work: wb.baseAddress!) }
                            oa += i * i; og += o * o
                        }
                    }
                }
            }
        }
        if let workSharing { try x.withUnsafeMutableBufferPointer { try workSharing.share($0, layers: layers) } }
        guard x.withUnsafeBufferPointer({ firstNonFinite($0) }) == nil else { throw KFACError.nonFiniteStep }
        let vg = x.withUnsafeBufferPointer { Scalar.dot(count: n, x: g, incx: 1, y: $0.baseAddress!, incy: 1) }
        var nu: Scalar = 1
        if let klClip, vg > 0, learningRate > 0 {
            let s = (klClip / (learningRate * learningRate * vg)).squareRoot()
            if s.isFinite { nu = Swift.min(1, s) }
        }
        let c = learningRate * nu
        var predicted: Scalar? = nil
        if wantsLossReports {
            // q(δ) − q(0) with δ = −c x: −c gᵀx + c²/2 Σ_l ⟨x_l, Ḡ x_l Ā⟩.
            var xfx: Scalar = 0
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeMutableBufferPointer { wb in
                    averageA.withUnsafeBufferPointer { ab in
                        averageG.withUnsafeBufferPointer { gb in
                            var oa = 0, og = 0
                            for layer in layers {
                                let o = layer.outputs, i = layer.inputs
                                xfx += KFACKernels<Scalar>.quadraticForm(xb.baseAddress! + layer.offset, outputs: o, inputs: i,
                                                                         a: ab.baseAddress! + oa, g: gb.baseAddress! + og,
                                                                         work: wb.baseAddress!)
                                oa += i * i; og += o * o
                            }
                        }
                    }
                }
            }
            predicted = -c * vg + c * c * xfx / 2
        }

        // Commit: nothing below throws.
        if refactorNow {
            swap(&factorA, &spareA)
            swap(&factorG, &spareG)
            swap(&pis, &sparePis)
            factorValid = true
            factorDamping = used
            factorRequest = request
            if let raised = damping.retained(used: used, requested: request) {
                lambda = raised
                factorRequest = raised
            }
        }
        count = n
        x.withUnsafeBufferPointer { Scalar.axpy(count: n, alpha: -c, x: $0.baseAddress!, incx: 1, y: parameters.baseAddress!, incy: 1) }
        prediction = predicted
        t += 1
    }

    /// Sizes the scratch for n parameters and the layout (allocates only when it changed).
    @inlinable
    mutating func ensureScratch(parameters n: Int) {
        let (sa, sg) = layers.reduce((0, 0)) { ($0.0 + $1.inputs * $1.inputs, $0.1 + $1.outputs * $1.outputs) }
        let widest = layers.reduce(0) { Swift.max($0, $1.outputs * $1.inputs) }
        if spareA.count != sa { spareA = Array(repeating: 0, count: sa) }
        if spareG.count != sg { spareG = Array(repeating: 0, count: sg) }
        if sparePis.count != layers.count { sparePis = Array(repeating: 1, count: layers.count) }
        if direction.count != n { direction = Array(repeating: 0, count: n) }
        if work.count != 2 * widest { work = Array(repeating: 0, count: 2 * widest) }
    }

    /// Factors every layer's damped averages into the spare buffers with λ = `request`, raising
    /// it tenfold on failure (all layers again). Returns the λ used; the factors stay in the
    /// spare buffers (the caller swaps them in).
    /// - Throws: ``KFACError/notPositiveDefinite(layer:factor:order:lastDamping:attempts:)``.
    @inlinable
    mutating func factorSpare(damping request: Scalar) throws -> Scalar {
        var sa = spareA, sg = spareG, sp = sparePis
        spareA = []; spareG = []; sparePis = []
        defer { spareA = sa; spareG = sg; sparePis = sp }
        let layers = self.layers
        return try averageA.withUnsafeBufferPointer { ab in
            try averageG.withUnsafeBufferPointer { gb in
                try sa.withUnsafeMutableBufferPointer { fab in
                    try sg.withUnsafeMutableBufferPointer { fgb in
                        try sp.withUnsafeMutableBufferPointer { pb in
                            let a = ab.baseAddress!, g = gb.baseAddress!, fa = fab.baseAddress!, fg = fgb.baseAddress!
                            // The first λ after λ = 0 fails: 10⁻⁶ · mean_l (tr Ā/i)(tr Ḡ/o).
                            var scale: Scalar = 0
                            var oa = 0, og = 0
                            for layer in layers {
                                let i = layer.inputs, o = layer.outputs
                                scale += KFACKernels.meanDiagonal(a + oa, order: i) * KFACKernels.meanDiagonal(g + og, order: o)
                                oa += i * i; og += o * o
                            }
                            scale /= Scalar(layers.count)
                            let floor: Scalar = (scale > 0 && scale.isFinite ? scale : 1) * 1e-6
                            var lambda = request
                            var attempts = 0
                            while true {
                                attempts += 1
                                let root = lambda.squareRoot()
                                var failure: (layer: Int, factor: String, order: Int)? = nil
                                oa = 0; og = 0
                                for (l, layer) in layers.enumerated() {
                                    let i = layer.inputs, o = layer.outputs
                                    guard ownsLayer(l) else { oa += i * i; og += o * o; continue }
                                    let pi = KFACKernels.pi(meanA: KFACKernels.meanDiagonal(a + oa, order: i),
                                                            meanG: KFACKernels.meanDiagonal(g + og, order: o))
                                    pb[l] = pi
                                    KFACKernels.copyDamped(a + oa, order: i, shift: pi * root, into: fa + oa)
                                    if let order = Self.factorFailure(fa + oa, order: i) { failure = (l, "A", order); break }
                                    KFACKernels.copyDamped(g + og, order: o, shift: root / pi, into: fg + og)
                                    if let order = Self.factorFailure(fg + og, order: o) { failure = (l, "G", order); break }
                                    oa += i * i; og += o * o
                                }
                                guard let failure = try agreedFailure(failure) else { return lambda }
                                // λ raised past the largest finite value cannot help: the retries end there
                                // whatever maximumDampingRetries allows (at most ~330 for Double, ~50 for Float).
                                let next = lambda == 0 ? floor : lambda * 10
                                if attempts > maximumDampingRetries || !next.isFinite {
                                    throw KFACError.notPositiveDefinite(layer: failure.layer, factor: failure.factor, order: failure.order,
                                                                        lastDamping: Double(lambda), attempts: attempts)
                                }
                                lambda = next
                            }
                        }
                    }
                }
            }
        }
    }

    /// Cholesky-factors the n × n `a` in place; nil on success, else the failing minor's order
    /// (a NaN or infinite pivot counts as a failure).
    @inlinable
    static func factorFailure(_ a: UnsafeMutablePointer<Scalar>, order n: Int) -> Int? {
        let info = KFACCholesky.factor(a, order: n)
        if info > 0 { return info }
        if info < 0 { return 0 }
        for i in 0..<n where !a[i * n + i].isFinite { return i + 1 }
        return nil
    }

    // MARK: - Levenberg–Marquardt

    /// Reports the loss before and after the last step: ρ = (after − before) / (q(δ) − q(0))
    /// and, with Levenberg–Marquardt damping, λ/ω when ρ > 3/4, λω when ρ < 1/4 (clamped); a
    /// changed λ refactors at the next step. A non-finite `after` counts as ρ = −∞. With fixed
    /// damping nothing is recorded (no loss model is kept) and nothing is thrown.
    /// - Throws: ``KFACError/noStepToEvaluate``, ``KFACError/nonFiniteLoss(_:)``, state unchanged.
    @inlinable
    public mutating func reportLoss(before: Scalar, after: Scalar) throws {
        guard wantsLossReports else { return }
        guard let predicted = prediction else { throw KFACError.noStepToEvaluate }
        guard before.isFinite else { throw KFACError.nonFiniteLoss("\(before)") }
        let rho = Damping<Scalar>.reductionRatio(before: before, after: after, predicted: predicted)
        prediction = nil
        ratio = rho
        lambda = damping.adapted(currentDamping, rho: rho)
    }
}
