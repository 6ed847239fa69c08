import Foundation

/// K-FAC with adaptive learning rate, momentum and damping, as kfac-jax 0.0.8's `Optimizer` with
/// `use_adaptive_learning_rate`, `use_adaptive_momentum`, `use_adaptive_damping` and no burn-in
/// (Martens & Grosse 2015, §6.3–7). One curvature block per layer (``KroneckerFactoredBlock``,
/// chosen by ``CurvatureBlockKind``); this driver owns the moving average, the cadences, the
/// damping, the retry on a failed factorization and the commit. Step t at θ with the loss ℓ and
/// gradient g on the batch B, the model reached through a ``CurvatureModel``:
///
///     ω_t = β ω_{t−1} + 1 (ω₋₁ = 0);  Ā ← (1 − 1/ω_t) Ā + A_t/ω_t,  Ḡ likewise   (weighted debiased average)
///     every T steps (t = 0, T, 2T, …): the π-adjusted damped inverses with the current λ
///     Δ = (Â ⊗ Ĝ)⁻¹ g per layer                      (cached inverses in between, with their λ)
///     C, D, b of ``StepQuadraticModel`` over (Δ, δ_{t−1}) with F = F_B(θ) exact (two F·v)
///     (w₀, w₁) = argmin ½wᵀ(C + λD)w + wᵀb;   δ_t = w₀Δ + w₁δ_{t−1};   θ ← θ + δ_t
///     α_t = −w₀ (``learningRate``),  μ_t = w₁ (``momentum``)
///     when (t + 1) mod K = 0: ρ = (L_B(θ + δ_t) − ℓ) / (½wᵀCw + wᵀb), λ ← λω^{±K} clamped (see
///     ``StepQuadraticModel/adaptedDamping(_:lossBefore:lossAfter:predictedChange:factor:minimum:maximum:lowerThreshold:upperThreshold:)``)
///
/// (β = ``factorDecay``, T = ``inverseUpdateInterval``, K = ``dampingInterval``, ω the factor
/// ``dampingDecay``.) With a fixed ``fixedMomentum`` μ only w₀ is adapted. If a damped factor
/// is not positive definite, λ is raised tenfold (up to ``maximumDampingRetries`` times, all
/// blocks together) and the raised λ becomes the adapted one.
///
/// Defaults kfac-jax's (β = 0.95, T = 5, K = 5, ω = 0.9, λmin = 10⁻⁸, λmax = ∞) except
/// λ₀ = ``defaultInitialDamping``, which kfac-jax leaves to the user.
///
/// Transactional: any throw (from the model, a non-finite direction, a failed factorization)
/// leaves θ and the whole state bit-identical. After the first step a step allocates only
/// what the model's answers allocate.
///
/// - Complexity: per step the blocks' averages Σ_l (i² + o²), their application Σ_l (i²o + o²i),
///   on refresh steps Σ_l (i³ + o³)/3, two Fisher-vector products and one loss evaluation every
///   K steps (from the model), and O(n) vector work. Memory: the blocks plus 6 n-vectors.
public struct AdaptiveKFAC<Scalar: BLASScalar>: ModelDrivenOptimizer {
    public static var kind: String { "kfac-adaptive" }
    /// λ₀ when none is given: 1, measured on the digits perceptrons (docs/natural-gradient.md:
    /// 10⁻³ fails on 64-256-256-10, 10⁻²…10 converge, 1 is best after 200 steps).
    public static var defaultInitialDamping: Scalar { 1 }

    /// The last step's α = −w₀ (read-only in effect: the quadratic model chooses it; a value
    /// set here is overwritten by the next step).
    public var learningRate: Scalar = 0
    /// λ₀ > 0.
    public var initialDamping: Scalar
    /// K ≥ 1: λ is adapted after steps K − 1, 2K − 1, ….
    public var dampingInterval: Int
    /// ω ∈ (0, 1): λ is multiplied or divided by ω^K.
    public var dampingDecay: Scalar
    public var minimumDamping: Scalar
    public var maximumDamping: Scalar
    /// β ∈ [0, 1) of the weighted moving average.
    public var factorDecay: Scalar
    /// T ≥ 1: inverses at steps 0, T, 2T, ….
    public var inverseUpdateInterval: Int
    /// nil: the momentum is adapted; a value: the momentum is fixed to it.
    public var fixedMomentum: Scalar?
    public var maximumDampingRetries: Int
    public var nonFiniteGradientPolicy: NonFiniteGradientPolicy

    public var stepCount: Int { t }
    public var skippedSteps: Int { skipped }
    public var stateCount: Int? { count }

    @usableFromInline var t = 0
    @usableFromInline var skipped = 0
    @usableFromInline var count: Int? = nil
    /// The current λ (nil: λ₀).
    @usableFromInline var lambda: Scalar? = nil
    /// ω_t of the weighted average.
    @usableFromInline var averageWeight: Scalar = 0
    @usableFromInline var blocks: [KroneckerFactoredBlock<Scalar>] = []
    /// δ_{t−1}.
    @usableFromInline var velocity: [Scalar] = []
    @usableFromInline var stepMomentum: Scalar = 0
    @usableFromInline var ratio: Scalar? = nil
    @usableFromInline var predictedChange: Scalar? = nil
    @usableFromInline var dampingUsed: Scalar? = nil
    /// μ = w₁ of the last step.
    public var momentum: Scalar { stepMomentum }
    /// ρ of the last damping adaptation (nil before one, or when its quotient was NaN).
    public var lastReductionRatio: Scalar? { ratio }
    /// ½wᵀCw + wᵀb of the last step.
    public var lastPredictedChange: Scalar? { predictedChange }
    /// λ used in the last step (the inverses may hold an older λ between refreshes).
    public var lastDamping: Scalar? { dampingUsed }
    // Scratch.
    @usableFromInline var direction: [Scalar] = []
    @usableFromInline var fisherDirection: [Scalar] = []
    @usableFromInline var fisherVelocity: [Scalar] = []
    @usableFromInline var update: [Scalar] = []
    @usableFromInline var trial: [Scalar] = []
    @usableFromInline var work: [Scalar] = []

    enum CodingKeys: String, CodingKey {
        case learningRate, initialDamping, dampingInterval, dampingDecay, minimumDamping, maximumDamping, factorDecay
        case inverseUpdateInterval, fixedMomentum, maximumDampingRetries, nonFiniteGradientPolicy
        case t, skipped, count, lambda, averageWeight, blocks, velocity, stepMomentum, ratio, predictedChange, dampingUsed
    }

    /// - Throws: ``OptimizerError/invalidHyperparameter(name:value:requirement:)``.
    public init(initialDamping: Scalar = AdaptiveKFAC.defaultInitialDamping, dampingInterval: Int = 5, dampingDecay: Scalar = 0.9,
                minimumDamping: Scalar = 1e-8, maximumDamping: Scalar = .infinity, factorDecay: Scalar = 0.95,
                inverseUpdateInterval: Int = 5, fixedMomentum: Scalar? = nil, maximumDampingRetries: Int = 8,
                nonFiniteGradientPolicy: NonFiniteGradientPolicy = .throwError) throws {
        self.initialDamping = initialDamping
        self.dampingInterval = dampingInterval
        self.dampingDecay = dampingDecay
        self.minimumDamping = minimumDamping
        self.maximumDamping = maximumDamping
        self.factorDecay = factorDecay
        self.inverseUpdateInterval = inverseUpdateInterval
        self.fixedMomentum = fixedMomentum
        self.maximumDampingRetries = maximumDampingRetries
        self.nonFiniteGradientPolicy = nonFiniteGradientPolicy
        try validate()
    }

    public func validate() throws {
        try Hyperparameter.positive("initialDamping", initialDamping)
        guard dampingInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "dampingInterval", value: "\(dampingInterval)", requirement: "≥ 1")
        }
        guard dampingDecay > 0, dampingDecay < 1 else {
            throw OptimizerError.invalidHyperparameter(name: "dampingDecay", value: "\(dampingDecay)", requirement: "in (0, 1)")
        }
        try Hyperparameter.positive("minimumDamping", minimumDamping)
        guard maximumDamping >= minimumDamping, !maximumDamping.isNaN else {
            throw OptimizerError.invalidHyperparameter(name: "maximumDamping", value: "\(maximumDamping)", requirement: "≥ minimumDamping = \(minimumDamping)")
        }
        try Hyperparameter.halfOpenUnit("factorDecay", factorDecay)
        guard inverseUpdateInterval >= 1 else {
            throw OptimizerError.invalidHyperparameter(name: "inverseUpdateInterval", value: "\(inverseUpdateInterval)", requirement: "≥ 1")
        }
        if let mu = fixedMomentum, !mu.isFinite {
            throw OptimizerError.invalidHyperparameter(name: "fixedMomentum", value: "\(mu)", requirement: "finite")
        }
        guard maximumDampingRetries >= 0 else {
            throw OptimizerError.invalidHyperparameter(name: "maximumDampingRetries", value: "\(maximumDampingRetries)", requirement: "≥ 0")
        }
    }

    public func validateState() throws {
        func corrupt(_ s: String) -> OptimizerError { .corruptCheckpoint(s) }
        guard t >= 0, skipped >= 0 else { throw corrupt("negative counter (t = \(t), skipped = \(skipped))") }
        if let lambda, !(lambda > 0 && lambda.isFinite) { throw corrupt("λ = \(lambda) must be finite and > 0") }
        guard averageWeight >= 0, averageWeight.isFinite else { throw corrupt("average weight \(averageWeight)") }
        var n = 0
        for block in blocks {
            try block.validateState()
            guard block.parameterRange.lowerBound == n else { throw corrupt("blocks must tile θ in order (block at \(block.parameterRange.lowerBound), expected \(n))") }
            n = block.parameterRange.upperBound
        }
        if let count {
            guard count == n, velocity.count == n else { throw corrupt("state for \(count) parameters: blocks cover \(n), velocity has \(velocity.count)") }
        } else {
            guard velocity.isEmpty else { throw corrupt("a velocity without a step") }
        }
        if let i = velocity.withUnsafeBufferPointer({ firstNonFinite($0) }) { throw corrupt("velocity[\(i)] = \(velocity[i])") }
    }

    public mutating func reset() {
        t = 0; skipped = 0; count = nil; lambda = nil; averageWeight = 0; blocks = []; velocity = []
        stepMomentum = 0; learningRate = 0; ratio = nil; predictedChange = nil; dampingUsed = nil
        direction = []; fisherDirection = []; fisherVelocity = []; update = []; trial = []; work = []
    }

    /// The λ of the next step.
    public var currentDamping: Scalar { lambda ?? initialDamping }

    /// The averaged factors of every block (Ā_l, Ḡ_l), row-major.
    public var factorAverages: [(activations: [Scalar], preactivationGradients: [Scalar])] {
        blocks.map { ($0.averageA, $0.averageG) }
    }

    /// A step needs the model: this throws ``KFACError/modelRequired``.
    public mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>) throws {
        throw KFACError.modelRequired
    }

    /// One adaptive step (see the type). - Throws: ``OptimizerError`` (gradient count,
    /// hyperparameter, non-finite gradient), ``KFACError`` (statistics that do not tile θ or
    /// changed shape, non-finite statistics or direction, ``KFACError/nonFiniteLoss(_:)``,
    /// ``KFACError/notPositiveDefinite(layer:factor:order:lastDamping:attempts:)``), and the
    /// model's errors; θ and the state are then unchanged.
    @inlinable
    public mutating func step<Model: CurvatureModel>(_ parameters: UnsafeMutableBufferPointer<Scalar>, loss: Scalar,
                                                     gradient: UnsafeBufferPointer<Scalar>, model: Model) throws
        where Model.Scalar == Scalar {
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            skipped += 1
            return
        }
        guard loss.isFinite else { throw KFACError.nonFiniteLoss("\(loss)") }
        let n = parameters.count
        let θ = UnsafeBufferPointer(parameters)
        let statistics = try model.layerStatistics(at: θ)
        var fresh: [KroneckerFactoredBlock<Scalar>]? = nil
        if blocks.isEmpty {
            fresh = try Self.makeBlocks(statistics, parameters: n)
        } else {
            guard statistics.count == blocks.count else {
                throw KFACError.blockLayoutChanged(layer: statistics.count, expected: "\(blocks.count) layers", found: "\(statistics.count) blocks")
            }
            guard blocks.last!.parameterRange.upperBound == n else {
                throw KFACError.blocksDoNotTile(covered: blocks.last!.parameterRange.upperBound, parameters: n)
            }
        }
        var working = fresh ?? blocks
        if fresh == nil { blocks = [] }
        var committed = false
        defer {
            if !committed { for l in working.indices { working[l].discardStaged() } }
            if fresh == nil || committed { blocks = working }
        }
        ensureScratch(parameters: n, blocks: working)

        // The weighted debiased moving average: ω ← βω + 1, average ← (1 − 1/ω) average + new/ω.
        let weight = factorDecay * averageWeight + 1
        let take = 1 / weight, keep = 1 - take
        for l in working.indices {
            do { try working[l].stageAverage(statistics[l], keep: keep, take: take) } catch let error as KFACError {
                throw error.atLayer(l)
            }
        }

        // Inverses every T steps, with the current λ (raised tenfold on failure).
        var lambdaUsed = currentDamping
        if t % inverseUpdateInterval == 0 || !working.allSatisfy(\.hasInverse) {
            var attempts = 0
            while true {
                attempts += 1
                var failure: (layer: Int, factor: String, order: Int)? = nil
                for l in working.indices {
                    if let f = working[l].stageInverse(damping: lambdaUsed) { failure = (l, f.factor, f.order); break }
                }
                guard let failure else { break }
                if attempts > maximumDampingRetries {
                    throw KFACError.notPositiveDefinite(layer: failure.layer, factor: failure.factor, order: failure.order,
                                                        lastDamping: Double(lambdaUsed), attempts: attempts)
                }
                lambdaUsed = Swift.min(lambdaUsed * 10, maximumDamping)
            }
        }

        // Δ = C̃⁻¹ g, block by block.
        let g = gradient.baseAddress!
        direction.withUnsafeMutableBufferPointer { xb in
            work.withUnsafeMutableBufferPointer { wb in
                for block in working {
                    let lo = block.parameterRange.lowerBound
                    block.applyInverse(g + lo, into: xb.baseAddress! + lo, work: wb.baseAddress!)
                }
            }
        }
        guard direction.withUnsafeBufferPointer({ firstNonFinite($0) }) == nil else { throw KFACError.nonFiniteStep }

        // The quadratic model over (Δ, δ) with the exact Fisher.
        let hasVelocity = count != nil && velocity.withUnsafeBufferPointer { v in v.contains { $0 != 0 } }
        let needsVelocityProduct = hasVelocity && fixedMomentum != 0
        let forms = try direction.withUnsafeBufferPointer { xb in
            try velocity.withUnsafeBufferPointer { vb in
                try fisherDirection.withUnsafeMutableBufferPointer { s1 in
                    try fisherVelocity.withUnsafeMutableBufferPointer { s2 in
                        try model.fisherQuadraticForms(at: θ, first: xb, second: needsVelocityProduct ? vb : nil, scratch: s1, scratch2: s2)
                    }
                }
            }
        }
        let quadratic = quadraticModel(gradient: gradient, parameters: n, forms: forms, withVelocity: needsVelocityProduct)
        let w = quadratic.coefficients(damping: lambdaUsed, momentum: fixedMomentum)
        let predicted = quadratic.change(w)
        guard w.0.isFinite, w.1.isFinite else { throw KFACError.nonFiniteStep }

        // δ = w₀Δ + w₁δ_prev, the trial point θ + δ.
        update.withUnsafeMutableBufferPointer { u in
            direction.withUnsafeBufferPointer { x in
                velocity.withUnsafeBufferPointer { v in
                    for k in 0..<n { u[k] = w.0 * x[k] + (hasVelocity ? w.1 * v[k] : 0) }
                }
            }
        }
        trial.withUnsafeMutableBufferPointer { tr in
            update.withUnsafeBufferPointer { u in for k in 0..<n { tr[k] = θ[k] + u[k] } }
        }
        guard trial.withUnsafeBufferPointer({ firstNonFinite($0) }) == nil else { throw KFACError.nonFiniteStep }

        // λ every K steps from the reduction ratio at the trial point.
        var nextLambda = lambdaUsed
        var rho: Scalar? = nil
        if (t + 1) % dampingInterval == 0 {
            let after = try trial.withUnsafeBufferPointer { try model.loss(at: $0) }
            let factor = Scalar(Foundation.pow(Double(dampingDecay), Double(dampingInterval)))
            let adapted = StepQuadraticModel<Scalar>.adaptedDamping(lambdaUsed, lossBefore: loss, lossAfter: after, predictedChange: predicted,
                                                                    factor: factor, minimum: minimumDamping, maximum: maximumDamping)
            nextLambda = adapted.damping
            rho = adapted.rho
        }

        // Commit: nothing below throws.
        for l in working.indices { working[l].commitStaged() }
        committed = true
        averageWeight = weight
        trial.withUnsafeBufferPointer { parameters.baseAddress!.update(from: $0.baseAddress!, count: n) }
        swap(&velocity, &update)
        count = n
        dampingUsed = lambdaUsed
        lambda = nextLambda
        learningRate = -w.0
        stepMomentum = w.1
        if (t + 1) % dampingInterval == 0 { ratio = rho.flatMap { $0.isNaN ? nil : $0 } }
        predictedChange = predicted
        t += 1
    }

    /// C (the model's quadratic forms), D and b over (Δ, δ) (δ terms zero without a velocity product).
    @inlinable
    func quadraticModel(gradient: UnsafeBufferPointer<Scalar>, parameters n: Int, forms: (Scalar, Scalar, Scalar),
                        withVelocity: Bool) -> StepQuadraticModel<Scalar> {
        func dot(_ a: [Scalar], _ b: [Scalar]) -> Scalar {
            a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in Scalar.dot(count: n, x: x.baseAddress!, incx: 1, y: y.baseAddress!, incy: 1) } }
        }
        func dotGradient(_ a: [Scalar]) -> Scalar {
            a.withUnsafeBufferPointer { x in Scalar.dot(count: n, x: gradient.baseAddress!, incx: 1, y: x.baseAddress!, incy: 1) }
        }
        let d00 = dot(direction, direction), b0 = dotGradient(direction)
        guard withVelocity else {
            return StepQuadraticModel(c00: forms.0, c01: 0, c11: 0, d00: d00, d01: 0, d11: 0, b0: b0, b1: 0)
        }
        return StepQuadraticModel(c00: forms.0, c01: forms.1, c11: forms.2, d00: d00, d01: dot(direction, velocity),
                                  d11: dot(velocity, velocity), b0: b0, b1: dotGradient(velocity))
    }

    /// Blocks for the first statistics: each from ``CurvatureBlockKind``, tiling θ in order.
    @inlinable
    static func makeBlocks(_ statistics: [KroneckerBlock<Scalar>], parameters n: Int) throws -> [KroneckerFactoredBlock<Scalar>] {
        var out: [KroneckerFactoredBlock<Scalar>] = []
        var covered = 0
        for (l, s) in statistics.enumerated() {
            guard s.parameterOffset == covered else {
                throw KFACError.blockShapeMismatch(layer: l, reason: "parameterOffset = \(s.parameterOffset), expected \(covered) (blocks must tile θ in order)")
            }
            do { out.append(try CurvatureBlockKind.kind(of: s).makeBlock(for: s)) } catch let error as KFACError { throw error.atLayer(l) }
            covered = out.last!.parameterRange.upperBound
        }
        guard covered == n, !out.isEmpty else { throw KFACError.blocksDoNotTile(covered: covered, parameters: n) }
        return out
    }

    @inlinable
    mutating func ensureScratch(parameters n: Int, blocks: [KroneckerFactoredBlock<Scalar>]) {
        if direction.count != n { direction = Array(repeating: 0, count: n) }
        if fisherDirection.count != n { fisherDirection = Array(repeating: 0, count: n) }
        if fisherVelocity.count != n { fisherVelocity = Array(repeating: 0, count: n) }
        if update.count != n { update = Array(repeating: 0, count: n) }
        if trial.count != n { trial = Array(repeating: 0, count: n) }
        let widest = 2 * blocks.reduce(0) { Swift.max($0, $1.workCount) }
        if work.count < widest { work = Array(repeating: 0, count: widest) }
    }
}
