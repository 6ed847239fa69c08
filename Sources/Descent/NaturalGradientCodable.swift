/// Checkpoints of ``NaturalGradient``: format 2 (the curvature layer) with a `format` key;
/// format 1 (before it, no `format` key) is still read — hyperparameters, counters, λ and the
/// curvature (or its running average) are restored and the factor is recomputed at the next
/// step from them at the current λ (format 1 stored it packed with the curvature in a layout
/// that no longer exists).
extension NaturalGradient {
    /// The current checkpoint format.
    public static var checkpointFormat: Int { 2 }

    @usableFromInline enum CodingKeys: String, CodingKey {
        case format, learningRate, damping, stepLength, curvatureUpdateInterval, inverseUpdateInterval, curvatureDecay, solver,
             maximumDampingRetries, nonFiniteGradientPolicy, t, skipped, count, lambda, path, factorPath, dense, lowRank, diagonal,
             curvatureUpdates, factorUpdates, curvatureStep, factorDamping, factorRequest, prediction, ratio
    }

    /// The keys of format 1 that format 2 does not share.
    enum LegacyKeys: String, CodingKey {
        case refreshInterval, path, buffer, diagonal, rows, rowsScale, hasCurvature, pending
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.checkpointFormat, forKey: .format)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(damping, forKey: .damping)
        try c.encodeIfPresent(stepLength, forKey: .stepLength)
        try c.encode(curvatureUpdateInterval, forKey: .curvatureUpdateInterval)
        try c.encode(inverseUpdateInterval, forKey: .inverseUpdateInterval)
        try c.encodeIfPresent(curvatureDecay, forKey: .curvatureDecay)
        try c.encode(solver, forKey: .solver)
        try c.encode(maximumDampingRetries, forKey: .maximumDampingRetries)
        try c.encode(nonFiniteGradientPolicy, forKey: .nonFiniteGradientPolicy)
        try c.encode(t, forKey: .t)
        try c.encode(skipped, forKey: .skipped)
        try c.encodeIfPresent(count, forKey: .count)
        try c.encodeIfPresent(lambda, forKey: .lambda)
        try c.encodeIfPresent(path, forKey: .path)
        try c.encodeIfPresent(factorPath, forKey: .factorPath)
        try c.encodeIfPresent(dense, forKey: .dense)
        try c.encodeIfPresent(lowRank, forKey: .lowRank)
        try c.encodeIfPresent(diagonal, forKey: .diagonal)
        try c.encode(curvatureUpdates, forKey: .curvatureUpdates)
        try c.encode(factorUpdates, forKey: .factorUpdates)
        try c.encodeIfPresent(curvatureStep, forKey: .curvatureStep)
        try c.encode(factorDamping, forKey: .factorDamping)
        try c.encode(factorRequest, forKey: .factorRequest)
        try c.encodeIfPresent(prediction, forKey: .prediction)
        try c.encodeIfPresent(ratio, forKey: .ratio)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decodeIfPresent(Int.self, forKey: .format) ?? 1
        guard format == 1 || format == Self.checkpointFormat else {
            throw OptimizerError.corruptCheckpoint("natural-gradient checkpoint format \(format) is newer than this version reads (\(Self.checkpointFormat))")
        }
        learningRate = try c.decode(Scalar.self, forKey: .learningRate)
        damping = try c.decode(Damping<Scalar>.self, forKey: .damping)
        stepLength = try c.decodeIfPresent(Scalar.self, forKey: .stepLength)
        curvatureDecay = try c.decodeIfPresent(Scalar.self, forKey: .curvatureDecay)
        solver = try c.decode(NaturalGradientSolver.self, forKey: .solver)
        maximumDampingRetries = try c.decode(Int.self, forKey: .maximumDampingRetries)
        nonFiniteGradientPolicy = try c.decode(NonFiniteGradientPolicy.self, forKey: .nonFiniteGradientPolicy)
        t = try c.decode(Int.self, forKey: .t)
        skipped = try c.decode(Int.self, forKey: .skipped)
        count = try c.decodeIfPresent(Int.self, forKey: .count)
        lambda = try c.decodeIfPresent(Scalar.self, forKey: .lambda)
        prediction = try c.decodeIfPresent(Scalar.self, forKey: .prediction)
        ratio = try c.decodeIfPresent(Scalar.self, forKey: .ratio)
        if format == 1 {
            curvatureUpdateInterval = 1
            inverseUpdateInterval = 1
            try decodeLegacy(try decoder.container(keyedBy: LegacyKeys.self))
            return
        }
        curvatureUpdateInterval = try c.decode(Int.self, forKey: .curvatureUpdateInterval)
        inverseUpdateInterval = try c.decode(Int.self, forKey: .inverseUpdateInterval)
        path = try c.decodeIfPresent(Path.self, forKey: .path)
        factorPath = try c.decodeIfPresent(Path.self, forKey: .factorPath)
        dense = try c.decodeIfPresent(DenseCholeskyFactorization<Scalar>.self, forKey: .dense)
        lowRank = try c.decodeIfPresent(WoodburyFactorization<Scalar>.self, forKey: .lowRank)
        diagonal = try c.decodeIfPresent(DiagonalFactorization<Scalar>.self, forKey: .diagonal)
        curvatureUpdates = try c.decode(Int.self, forKey: .curvatureUpdates)
        factorUpdates = try c.decode(Int.self, forKey: .factorUpdates)
        curvatureStep = try c.decodeIfPresent(Int.self, forKey: .curvatureStep)
        factorDamping = try c.decode(Scalar.self, forKey: .factorDamping)
        factorRequest = try c.decode(Scalar.self, forKey: .factorRequest)
    }

    /// Format 1: one packed buffer (the curvature in the strictly lower triangle and `diagonal`,
    /// the factor above), or the r × r Woodbury buffer with the rows, or the diagonal metric.
    mutating func decodeLegacy(_ c: KeyedDecodingContainer<LegacyKeys>) throws {
        let interval = try c.decode(Int.self, forKey: .refreshInterval)
        curvatureUpdateInterval = interval
        inverseUpdateInterval = interval
        let oldPath = try c.decode(String.self, forKey: .path)
        let hasCurvature = try c.decode(Bool.self, forKey: .hasCurvature)
        let pending = try c.decodeIfPresent(Curvature<Scalar>.self, forKey: .pending)
        let buffer = try c.decode([Scalar].self, forKey: .buffer)
        let diag = try c.decode([Scalar].self, forKey: .diagonal)
        func corrupt(_ why: String) -> OptimizerError { .corruptCheckpoint("format-1 natural-gradient checkpoint: \(why)") }
        if let pending {
            // A curvature waiting for its refresh is newer than what the buffer holds.
            try pending.validate(parameterCount: count)
            let target = try self.path(for: pending, parameters: pending.parameterCount)
            switch target {
            case .diagonal:
                guard case let .diagonalMetric(d) = pending else { throw corrupt("pending curvature") }
                diagonal = DiagonalFactorization(curvature: d)
            case .dense:
                dense = DenseCholeskyFactorization(order: pending.parameterCount)
                dense!.absorb(pending, decay: nil, first: true)
            case .lowRank:
                lowRank = WoodburyFactorization(order: pending.parameterCount)
                lowRank!.absorb(pending)
            }
            path = target
            count = pending.parameterCount
        } else if hasCurvature {
            switch oldPath {
            case "diagonal":
                diagonal = DiagonalFactorization(curvature: diag)
                path = .diagonal
            case "dense":
                let n = diag.count
                guard buffer.count == n * n, count.map({ $0 == n }) ?? true else { throw corrupt("packed buffer of \(buffer.count) for \(n) parameters") }
                var m = try Matrix<Scalar>(rows: n, columns: n)
                for i in 0..<n {
                    for j in 0..<i { m.elements[i * n + j] = buffer[i * n + j] }
                    m.elements[i * n + i] = diag[i]
                }
                dense = DenseCholeskyFactorization(order: n)
                dense!.matrix = m
                path = .dense
            case "lowRank":
                let rows = try c.decode(Matrix<Scalar>.self, forKey: .rows)
                let scale = try c.decode(Scalar.self, forKey: .rowsScale)
                guard rows.rows > 0, rows.elements.count == rows.rows * rows.columns else { throw corrupt("low-rank rows \(rows.rows) × \(rows.columns)") }
                lowRank = WoodburyFactorization(order: rows.columns)
                lowRank!.absorb(.gaussian(jacobian: rows, samples: 1, beta: scale))
                path = .lowRank
            default:
                throw corrupt("a curvature is recorded on solver path \"\(oldPath)\"")
            }
            if count == nil { count = orderOfEstimate }
        }
        if path != nil {
            curvatureUpdates = 1
            factorUpdates = 0
        }
    }

    /// Checks a decoded state: counters in range (not Int.max), λ finite, every buffer sized
    /// for `count` on its solver path, no NaN or infinity in the curvature or the factor.
    public func validateState() throws {
        func corrupt(_ why: String) -> OptimizerError { .corruptCheckpoint(why) }
        guard t >= 0, skipped >= 0, t < Int.max, skipped < Int.max else {
            throw corrupt("step counters out of range (t = \(t), skipped = \(skipped))")
        }
        guard curvatureUpdates >= 0, factorUpdates >= 0, factorUpdates <= curvatureUpdates, curvatureUpdates < Int.max else {
            throw corrupt("curvature counters out of range (\(curvatureUpdates) updates, \(factorUpdates) factored)")
        }
        if let s = curvatureStep, s < 0 || s > t { throw corrupt("curvature step \(s) outside 0…\(t)") }
        if let lambda { guard lambda > 0, lambda.isFinite else { throw corrupt("adapted damping λ = \(lambda)") } }
        guard factorDamping >= 0, factorDamping.isFinite, factorRequest >= 0, factorRequest.isFinite else {
            throw corrupt("factor damping \(factorDamping) (requested \(factorRequest)) must be finite and ≥ 0")
        }
        if let prediction, !prediction.isFinite { throw corrupt("predicted change \(prediction)") }
        if path == nil, factorPath != nil { throw corrupt("a factor without a curvature") }
        let used = Set([path, factorPath].compactMap { $0 })
        for (p, present) in [(Path.dense, dense != nil), (.lowRank, lowRank != nil), (.diagonal, diagonal != nil)] where present != used.contains(p) {
            throw corrupt("solver \(p.rawValue) state \(present ? "present" : "missing") for curvature path \(path?.rawValue ?? "none") and factor path \(factorPath?.rawValue ?? "none")")
        }
        guard let n = count else {
            if !used.isEmpty { throw corrupt("curvature state without a parameter count") }
            return
        }
        guard n >= 0 else { throw corrupt("parameter count \(n)") }
        if path == .dense || factorPath == .dense, n > 46_340 { throw corrupt("dense curvature for \(n) parameters") }
        try dense?.validate(count: n)
        try lowRank?.validate(count: n)
        try diagonal?.validate(count: n)
        if path == .dense, dense!.matrix == nil, dense!.source == nil { throw corrupt("dense path without a curvature") }
        if path == .lowRank, lowRank!.source == nil { throw corrupt("Woodbury path without a curvature") }
        switch factorPath {
        case .dense?: if dense!.precision == nil { throw corrupt("dense factor missing") }
        case .lowRank?: if lowRank!.factor.isEmpty { throw corrupt("Woodbury factor missing") }
        case .diagonal?: if diagonal!.factor.count != n { throw corrupt("diagonal factor has \(diagonal!.factor.count) elements, expected \(n)") }
        case nil:
            if dense?.precision != nil || !(lowRank?.factor.isEmpty ?? true) || !(diagonal?.factor.isEmpty ?? true) {
                throw corrupt("a factor is stored but no factor path")
            }
        }
        if factorPath != nil, factorDamping == 0, factorPath == .lowRank { throw corrupt("Woodbury factor with λ = 0") }
    }
}
