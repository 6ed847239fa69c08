import DescentLinearAlgebra
import Foundation

/// The curvature block of a dense layer (kfac-jax's `KroneckerFactored`/`Dense` block): the
/// layer's Fisher block over [W | b] (o × i row-major, i = fan-in + 1) approximated as Ā ⊗ Ḡ,
/// with the π-adjusted factored damping of Martens & Grosse 2015 §6.3 in kfac-jax's form
/// (`pi_adjusted_kronecker_factors`, norms tr(·)/dim):
///
///     nA = tr Ā / i,  nG = tr Ḡ / o,  c = exp((log nA + log nG)/2),  d = √λ / c
///     Â = (Ā/nA + d I) c = Ā √(nG/nA) + √λ I,   Ĝ = (Ḡ/nG + d I) c = Ḡ √(nA/nG) + √λ I
///     X = Ĝ⁻¹ ∇W Â⁻¹                                  (Â ⊗ Ĝ = (Ā + π√λ I) ⊗ (Ḡ + √λ/π I), π = √(nA/nG))
///
/// with kfac-jax's special cases: a 1 × 1 Ḡ (one output) is a scalar factor and takes no
/// damping, Â = (Ā/nA + λ/(nA nG) I) c, Ĝ = c (so Â Ĝ = nG Ā + λ I); a factor with a zero norm
/// gives Â = Ĝ = √λ I. The inverse is kept as the Cholesky factors of Â and Ĝ (four triangular
/// solves per application, no explicit inverse).
///
/// The averages are kfac-jax's weighted debiased moving average, staged by the driver with
/// keep = 1 − take (see ``AdaptiveKFAC``).
///
/// - Complexity: staging the average O(i² + o²); staging the inverse (i³ + o³)/3 multiply-adds;
///   applying it i²o + o²i. Memory: 3 (i² + o²) elements.
public struct KroneckerFactoredBlock<Scalar: BLASScalar>: CurvatureBlock {
    public let layer: KFACLayer
    /// Ā (i × i) and Ḡ (o × o), row-major.
    public private(set) var averageA: [Scalar]
    public private(set) var averageG: [Scalar]
    /// Cholesky factors of Â and Ĝ (row-major upper), empty before the first inverse.
    @usableFromInline var factorA: [Scalar] = []
    @usableFromInline var factorG: [Scalar] = []
    // Staging buffers, not part of the state.
    @usableFromInline var stagedA: [Scalar] = []
    @usableFromInline var stagedG: [Scalar] = []
    @usableFromInline var stagedFactorA: [Scalar] = []
    @usableFromInline var stagedFactorG: [Scalar] = []
    @usableFromInline var averageStaged = false
    @usableFromInline var inverseStaged = false

    enum CodingKeys: String, CodingKey { case layer, averageA, averageG, factorA, factorG }

    /// An empty block (zero averages, no inverse) for `layer`.
    /// - Throws: ``KFACError/blockShapeMismatch(layer:reason:)`` for a non-positive size,
    ///   ``KFACError/sizeOverflow(_:)``.
    public init(layer: KFACLayer) throws {
        guard layer.outputs > 0, layer.inputs > 0, layer.offset >= 0 else {
            throw KFACError.blockShapeMismatch(layer: 0, reason: "outputs = \(layer.outputs), inputs = \(layer.inputs) must be > 0")
        }
        let (ii, o1) = layer.inputs.multipliedReportingOverflow(by: layer.inputs)
        let (oo, o2) = layer.outputs.multipliedReportingOverflow(by: layer.outputs)
        let (_, o3) = layer.outputs.multipliedReportingOverflow(by: layer.inputs)
        guard !(o1 || o2 || o3) else { throw KFACError.sizeOverflow("block \(layer.outputs) × \(layer.inputs)") }
        self.layer = layer
        averageA = Array(repeating: 0, count: ii)
        averageG = Array(repeating: 0, count: oo)
    }

    public var parameterRange: Range<Int> { layer.offset ..< layer.offset + layer.outputs * layer.inputs }
    public var workCount: Int { layer.outputs * layer.inputs }
    public var hasInverse: Bool { !factorA.isEmpty }

    @inlinable
    public mutating func stageAverage(_ statistics: KroneckerBlock<Scalar>, keep: Scalar, take: Scalar) throws {
        let i = layer.inputs, o = layer.outputs
        guard statistics.outputs == o, statistics.inputs == i, statistics.parameterOffset == layer.offset else {
            throw KFACError.blockLayoutChanged(layer: 0, expected: layer.shape,
                                               found: "\(statistics.outputs) × \(statistics.inputs) at offset \(statistics.parameterOffset)")
        }
        guard statistics.activations.count == i * i, statistics.preactivationGradients.count == o * o else {
            throw KFACError.blockShapeMismatch(layer: 0, reason: "A has \(statistics.activations.count) entries, G \(statistics.preactivationGradients.count); expected \(i * i) and \(o * o)")
        }
        if let k = statistics.activations.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            throw KFACError.nonFiniteFactor(layer: 0, factor: "A", index: k, value: "\(statistics.activations[k])")
        }
        if let k = statistics.preactivationGradients.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            throw KFACError.nonFiniteFactor(layer: 0, factor: "G", index: k, value: "\(statistics.preactivationGradients[k])")
        }
        if stagedA.count != i * i { stagedA = Array(repeating: 0, count: i * i) }
        if stagedG.count != o * o { stagedG = Array(repeating: 0, count: o * o) }
        Self.blend(averageA, statistics.activations, keep: keep, take: take, into: &stagedA)
        Self.blend(averageG, statistics.preactivationGradients, keep: keep, take: take, into: &stagedG)
        averageStaged = true
    }

    /// out ← keep · old + take · new, elementwise (kfac-jax: value·(1 − η) + new·η).
    @inlinable
    static func blend(_ old: [Scalar], _ new: [Scalar], keep: Scalar, take: Scalar, into out: inout [Scalar]) {
        old.withUnsafeBufferPointer { a in
            new.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    for k in 0..<c.count { c[k] = a[k] * keep + b[k] * take }
                }
            }
        }
    }

    @inlinable
    public mutating func stageInverse(damping lambda: Scalar) -> (factor: String, order: Int)? {
        let i = layer.inputs, o = layer.outputs
        if stagedFactorA.count != i * i { stagedFactorA = Array(repeating: 0, count: i * i) }
        if stagedFactorG.count != o * o { stagedFactorG = Array(repeating: 0, count: o * o) }
        let a = averageStaged ? stagedA : averageA, g = averageStaged ? stagedG : averageG
        Self.dampedFactors(a, g, inputs: i, outputs: o, damping: lambda, intoA: &stagedFactorA, intoG: &stagedFactorG)
        if let order = stagedFactorA.withUnsafeMutableBufferPointer({ Self.factorFailure($0.baseAddress!, order: i) }) {
            return ("A", order)
        }
        if let order = stagedFactorG.withUnsafeMutableBufferPointer({ Self.factorFailure($0.baseAddress!, order: o) }) {
            return ("G", order)
        }
        inverseStaged = true
        return nil
    }

    /// Â and Ĝ of the type's formulas (kfac-jax's `pi_adjusted_kronecker_factors`, k = 2).
    @inlinable
    static func dampedFactors(_ a: [Scalar], _ g: [Scalar], inputs i: Int, outputs o: Int, damping lambda: Scalar,
                              intoA fa: inout [Scalar], intoG fg: inout [Scalar]) {
        let nA = a.withUnsafeBufferPointer { KFACKernels.meanDiagonal($0.baseAddress!, order: i) }
        let nG = g.withUnsafeBufferPointer { KFACKernels.meanDiagonal($0.baseAddress!, order: o) }
        guard Swift.min(nA, nG) > 0 else {
            // kfac-jax's zero case: each factor is λ^(1/2) I.
            let root = lambda.squareRoot()
            for k in 0..<(i * i) { fa[k] = 0 }
            for k in 0..<(o * o) { fg[k] = 0 }
            for k in 0..<i { fa[k * i + k] = root }
            for k in 0..<o { fg[k * o + k] = root }
            return
        }
        // c = exp(mean(log n)), as kfac-jax (the geometric mean, safe from underflow of nA·nG).
        let c = Scalar(Foundation.exp((Foundation.log(Double(nA)) + Foundation.log(Double(nG))) / 2))
        if o == 1 {
            // G is a scalar factor: the damping goes into A alone, d̂ = λ / c², Ĝ = c.
            let dHat = lambda / (c * c)
            for k in 0..<(i * i) { fa[k] = (a[k] / nA) * c }
            for k in 0..<i { fa[k * i + k] = (a[k * i + k] / nA + dHat) * c }
            fg[0] = c
            return
        }
        let d = lambda.squareRoot() / c
        for k in 0..<(i * i) { fa[k] = (a[k] / nA) * c }
        for k in 0..<i { fa[k * i + k] = (a[k * i + k] / nA + d) * c }
        for k in 0..<(o * o) { fg[k] = (g[k] / nG) * c }
        for k in 0..<o { fg[k * o + k] = (g[k * o + k] / nG + d) * c }
    }

    /// Cholesky-factors the n × n `a` in place; nil on success, else the failing minor's order.
    @inlinable
    static func factorFailure(_ a: UnsafeMutablePointer<Scalar>, order n: Int) -> Int? {
        let info = KFACCholesky.factor(a, order: n)
        if info > 0 { return info }
        if info < 0 { return 0 }
        for k in 0..<n where !a[k * n + k].isFinite { return k + 1 }
        return nil
    }

    @inlinable
    public func applyInverse(_ gradient: UnsafePointer<Scalar>, into x: UnsafeMutablePointer<Scalar>, work: UnsafeMutablePointer<Scalar>) {
        let fa = inverseStaged ? stagedFactorA : factorA, fg = inverseStaged ? stagedFactorG : factorG
        fa.withUnsafeBufferPointer { ab in
            fg.withUnsafeBufferPointer { gb in
                KFACKernels<Scalar>.precondition(gradient, outputs: layer.outputs, inputs: layer.inputs, factorA: ab.baseAddress!,
                                                 factorG: gb.baseAddress!, into: x, work: work)
            }
        }
    }

    public mutating func commitStaged() {
        if averageStaged { swap(&averageA, &stagedA); swap(&averageG, &stagedG); averageStaged = false }
        if inverseStaged { swap(&factorA, &stagedFactorA); swap(&factorG, &stagedFactorG); inverseStaged = false }
    }

    public mutating func discardStaged() {
        averageStaged = false
        inverseStaged = false
    }

    public func validateState() throws {
        let i = layer.inputs, o = layer.outputs
        guard i > 0, o > 0, layer.offset >= 0 else { throw OptimizerError.corruptCheckpoint("block \(layer.shape): sizes must be > 0") }
        guard averageA.count == i * i, averageG.count == o * o else {
            throw OptimizerError.corruptCheckpoint("block \(layer.shape): averages of \(averageA.count) and \(averageG.count) entries")
        }
        guard (factorA.isEmpty && factorG.isEmpty) || (factorA.count == i * i && factorG.count == o * o) else {
            throw OptimizerError.corruptCheckpoint("block \(layer.shape): factors of \(factorA.count) and \(factorG.count) entries")
        }
        for (name, buffer) in [("averageA", averageA), ("averageG", averageG), ("factorA", factorA), ("factorG", factorG)] {
            if let k = buffer.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("block \(layer.shape): \(name)[\(k)] = \(buffer[k])")
            }
        }
    }
}
