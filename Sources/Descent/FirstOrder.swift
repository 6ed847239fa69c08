import Foundation
import DescentLinearAlgebra

// MARK: - The first-order core
//
// Every first-order optimizer is a driver (written once, below) plus a per-element update
// rule (a small struct in the optimizer's file). The driver admits the step (hyperparameters,
// counts, the gradient's finiteness), keeps the counters, allocates the state lazily, and runs
// one fused, threaded pass over the elements in which each element's gradient is first
// negated (maximize) and given the coupled L2 term, θ is scaled (decoupled weight decay), and
// the rule updates θ and the element's state slots. The rule is a generic parameter of the
// pass, so each optimizer's loop is specialized and inlined: one pass over memory, as the
// hand-written loops were.

/// A first-order optimizer built on the shared element-wise core, so modifiers such as
/// ``DecoupledWeightDecay`` can fold their work into its single fused pass.
public protocol FirstOrderOptimizer: Optimizer {
    /// One step with θ scaled by `parameterScale` inside the same fused pass:
    ///
    ///     g ← (maximize ? −∇L : ∇L) + λθ     (the optimizer's own coupled decay, at the old θ)
    ///     θ ← s θ
    ///     θ, state ← rule(θ, g, state)
    ///
    /// ``DecoupledWeightDecay`` passes s = 1 − ηλ; `step(_:gradient:)` is s = 1 (θ unchanged
    /// by the scaling, bit for bit).
    /// - Throws: what `step(_:gradient:)` throws, and
    ///   ``OptimizerError/invalidHyperparameter(name:value:requirement:)`` when s is not finite;
    ///   parameters and state are then unchanged.
    /// - Complexity: one pass over θ, g and the state; no allocation after the first step.
    mutating func step(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                       parameterScale: Scalar) throws
}

/// What the driver needs from an optimizer: its counters, options that act on the gradient,
/// its state buffers, and the pass that runs its rule.
@usableFromInline
protocol FirstOrderCore: FirstOrderOptimizer {
    /// Steps applied (t of the formulas after the step).
    var t: Int { get set }
    /// Steps skipped under ``NonFiniteGradientPolicy/skipStep``.
    var skipped: Int { get set }
    /// Ascend instead of descend.
    var maximize: Bool { get }
    /// λ of the coupled L2 penalty g ← g + λθ (0 for none).
    var coupledWeightDecay: Scalar { get }
    /// Allocates the buffers the current options need for `count` parameters (the first step,
    /// or the first step after an option that needs a buffer was turned on).
    mutating func prepareState(count: Int)
    /// Runs the optimizer's rule over `pass` (one fused pass).
    mutating func run(_ pass: ElementPass<Scalar>)
    /// The state buffers by name; `required` ones hold `stateCount` elements whenever there is
    /// a state, optional ones (allocated when an option is on) that many or none.
    var stateBuffers: [StateBuffer<Scalar>] { get }
}

/// A named state buffer, for ``FirstOrderCore/validateCoreState()``.
@usableFromInline
struct StateBuffer<Scalar: BLASScalar> {
    @usableFromInline var name: String
    @usableFromInline var values: [Scalar]
    @usableFromInline var required: Bool
    @usableFromInline init(_ name: String, _ values: [Scalar], required: Bool = true) {
        self.name = name; self.values = values; self.required = required
    }
}

extension FirstOrderCore {
    /// The driver: admission, counters, lazy state, then the fused pass.
    ///
    /// Nothing is touched before every check has passed: a throw leaves θ, the state and the
    /// counters bit-identical.
    /// - Complexity: O(n): the gradient scan of the policy, then one fused pass.
    @inlinable
    mutating func coreStep(_ parameters: UnsafeMutableBufferPointer<Scalar>, gradient: UnsafeBufferPointer<Scalar>,
                           parameterScale: Scalar) throws {
        guard parameterScale.isFinite else {
            throw OptimizerError.invalidHyperparameter(name: "parameterScale", value: "\(parameterScale)",
                                                       requirement: "finite")
        }
        guard try admitsStep(parameterCount: parameters.count, gradient: gradient) else {
            guard skipped < Int.max else { throw OptimizerError.counterOverflow(name: "skipped") }
            skipped += 1
            return
        }
        guard t < Int.max else { throw OptimizerError.counterOverflow(name: "t") }
        let n = parameters.count
        prepareState(count: n)
        t += 1
        guard n > 0, let p = parameters.baseAddress, let g = gradient.baseAddress else { return }
        run(ElementPass(parameters: p, gradient: g, count: n, sign: maximize ? -1 : 1,
                        coupledDecay: coupledWeightDecay, scale: parameterScale))
    }

    /// Checks a decoded state: counters in 0 ..< Int.max (so the next step can count),
    /// every buffer of the right length (none without a state), every element finite.
    /// Throws ``OptimizerError/corruptCheckpoint(_:)`` naming the counter or the buffer and index.
    /// - Complexity: O(n) reads of every buffer.
    func validateCoreState() throws {
        for (name, value) in [("t", t), ("skipped", skipped)] {
            guard value >= 0 else {
                throw OptimizerError.corruptCheckpoint("negative step count (\(name) = \(value))")
            }
            guard value < Int.max else {
                throw OptimizerError.corruptCheckpoint("step counter \(name) = \(value) cannot be incremented")
            }
        }
        let buffers = stateBuffers
        guard let count = stateCount else {
            for b in buffers where !b.values.isEmpty {
                throw OptimizerError.corruptCheckpoint("buffer \(b.name) has \(b.values.count) elements but no state was allocated")
            }
            return
        }
        for b in buffers where b.values.count != count && (b.required || !b.values.isEmpty) {
            throw OptimizerError.corruptCheckpoint(
                "buffer \(b.name) has \(b.values.count) elements, expected \(count)\(b.required ? "" : " or none")")
        }
        for b in buffers {
            if let i = b.values.withUnsafeBufferPointer({ firstNonFinite($0) }) {
                throw OptimizerError.corruptCheckpoint("buffer \(b.name) element \(i) is \(b.values[i])")
            }
        }
    }
}

// MARK: - The fused pass

/// One step's element-wise inputs: θ and g, and what the driver applies to every element
/// before the rule (the sign for maximize, the coupled decay λ, the scale of θ).
@frozen @usableFromInline
struct ElementPass<Scalar: BLASScalar> {
    @usableFromInline let parameters: UnsafeMutablePointer<Scalar>
    @usableFromInline let gradient: UnsafePointer<Scalar>
    @usableFromInline let count: Int
    @usableFromInline let sign: Scalar
    @usableFromInline let coupledDecay: Scalar
    @usableFromInline let scale: Scalar

    @inlinable
    init(parameters: UnsafeMutablePointer<Scalar>, gradient: UnsafePointer<Scalar>, count: Int,
         sign: Scalar, coupledDecay: Scalar, scale: Scalar) {
        self.parameters = parameters; self.gradient = gradient; self.count = count
        self.sign = sign; self.coupledDecay = coupledDecay; self.scale = scale
    }

    /// Runs `rule` over every element, split across the cores for large n:
    ///
    ///     g ← sign · g + λ θ;   θ ← s θ;   rule.update(&θ, g, state, i)
    ///
    /// - Complexity: one pass over θ, g and the slots the rule touches; no allocation.
    /// Without maximize, coupled decay or scale (the common case) the loop reads g and θ as
    /// they are: a specialization of its own, so those three multiplications cost nothing.
    @inlinable
    func run<R: ElementRule>(_ rule: R, _ state: StateSlots<Scalar>) where R.Scalar == Scalar {
        let plainGradient = sign == 1 && coupledDecay == 0
        switch (plainGradient, scale == 1) {
        case (true, true):
            parallelChunks(count: count, FusedKernel<R, FlagOn, FlagOn>(pass: self, rule: rule, state: state))
        case (true, false):
            // Decoupled weight decay (AdamW): θ is scaled, g is read as it is.
            parallelChunks(count: count, FusedKernel<R, FlagOn, FlagOff>(pass: self, rule: rule, state: state))
        case (false, _):
            parallelChunks(count: count, FusedKernel<R, FlagOff, FlagOff>(pass: self, rule: rule, state: state))
        }
    }
}

/// The per-element update of an optimizer: a small struct of the step's constants whose
/// `update` reads and writes one element's θ and state slots.
@usableFromInline
protocol ElementRule {
    associatedtype Scalar: BLASScalar
    /// Updates element `i`: `theta` is θᵢ (already scaled), `g` its gradient (already signed
    /// and with the coupled decay), `state` the optimizer's buffers.
    func update(_ theta: inout Scalar, _ g: Scalar, _ state: StateSlots<Scalar>, _ i: Int)
}

/// Up to three state buffers of an optimizer, as base pointers; a rule touches only those its
/// optimizer allocated (the others repeat the first and are never read).
@frozen @usableFromInline
struct StateSlots<Scalar> {
    @usableFromInline let first: UnsafeMutablePointer<Scalar>
    @usableFromInline let second: UnsafeMutablePointer<Scalar>
    @usableFromInline let third: UnsafeMutablePointer<Scalar>

    @inlinable
    init(_ first: UnsafeMutablePointer<Scalar>, _ second: UnsafeMutablePointer<Scalar>? = nil,
         _ third: UnsafeMutablePointer<Scalar>? = nil) {
        self.first = first
        self.second = second ?? first
        self.third = third ?? first
    }
}

/// The fused loop. `PlainGradient` skips the sign and the coupled decay (g read as it is),
/// `Unscaled` the scale of θ (only meaningful with `PlainGradient`: the general loop applies
/// all three). Each combination is its own straight loop.
@usableFromInline
struct FusedKernel<R: ElementRule, PlainGradient: StaticFlag, Unscaled: StaticFlag>: ChunkKernel {
    @usableFromInline let pass: ElementPass<R.Scalar>
    @usableFromInline let rule: R
    @usableFromInline let state: StateSlots<R.Scalar>

    @inlinable
    init(pass: ElementPass<R.Scalar>, rule: R, state: StateSlots<R.Scalar>) {
        self.pass = pass; self.rule = rule; self.state = state
    }

    @inlinable
    func callAsFunction(_ range: Range<Int>) {
        let p = pass.parameters, g = pass.gradient
        let sign = pass.sign, wd = pass.coupledDecay, s = pass.scale
        let rule = self.rule, state = self.state
        if PlainGradient.isOn && Unscaled.isOn {
            for i in range {
                var theta = p[i]
                rule.update(&theta, g[i], state, i)
                p[i] = theta
            }
        } else if PlainGradient.isOn {
            for i in range {
                var theta = p[i] * s
                rule.update(&theta, g[i], state, i)
                p[i] = theta
            }
        } else {
            for i in range {
                let gi = sign * g[i] + wd * p[i]
                var theta = p[i] * s
                rule.update(&theta, gi, state, i)
                p[i] = theta
            }
        }
    }
}

// MARK: - Options as types

/// A Boolean option known at compile time, so a rule's `if` on it is folded away and each
/// combination of options gets its own straight loop.
@usableFromInline
protocol StaticFlag { static var isOn: Bool { get } }

@usableFromInline
enum FlagOn: StaticFlag { @inlinable static var isOn: Bool { true } }

@usableFromInline
enum FlagOff: StaticFlag { @inlinable static var isOn: Bool { false } }

// MARK: - PyTorch's element formulas

/// PyTorch's `lerp(a, b, w)`: a + w (b − a) for |w| < 0.5, else b − (b − a)(1 − w); the two
/// forms keep the result exact at w = 0 and w = 1. Adam's first moment (w = 1 − β₁) and
/// centered RMSProp's average (w = 1 − ρ) use it, as torch does.
@inlinable @inline(__always)
func torchLerp<S: BLASScalar>(_ a: S, _ b: S, weight w: S) -> S {
    w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
}

/// 1 − β computed in `Double` and rounded once, as torch computes `1 - beta` on the Python
/// float before casting it to the tensor's type.
@inlinable
func oneMinus<S: BLASScalar>(_ beta: S) -> S { S(1 - decimalDouble(beta)) }

/// The `Double` a hyperparameter stands for, for the scalars a step derives from it in
/// `Double` (1 − β, bias corrections, η / (1 + (t − 1)·decay), 1 − ηλ), as torch derives them
/// from the user's Python floats.
///
/// A `Double` hyperparameter is itself. A `Float` one is read as its shortest decimal form, the
/// one `description` prints and the user most likely wrote: `Float(0.99)` = 0.9900000095…
/// stands for 0.99, so 1 − ρ is 1 − 0.99 rounded once to `Float` (0.0099999998, torch's value)
/// rather than 0.0099999905 (8 ulp away, a drift RMSProp had once). The decimal
/// is the first of 1…9 significant digits that rounds back to the same `Float` (9 always does),
/// so the result rounds to the hyperparameter exactly and differs from `Double(x)` by less than
/// half a `Float` ulp.
/// - Complexity: O(1): at most nine roundings against exact powers of ten (a table, not `pow`
///   or `log10`: this runs several times per step, and at n = 10³ the libm calls cost Adam
///   Float ~10 % of its step); no allocation.
@inlinable
func decimalDouble<S: BLASScalar>(_ x: S) -> Double {
    let d = Double(x)
    guard S.self == Float.self, d.isFinite, d != 0 else { return d }
    let target = Float(d)
    // ⌊log₁₀|d|⌋ from the binary exponent: |d| = m·2ᵉ with m ∈ [1, 2) puts it at
    // ⌊e·log₁₀2⌋ or one above (no `log10` call: this runs several times per step).
    let a = Swift.abs(d)
    var exponent = Int((Double(Int(a.exponent)) * 0.301029995663981195).rounded(.down))
    let next = exponent + 1
    if (next >= 0 ? a >= exactPowerOfTen(next) : a * exactPowerOfTen(-next) >= 1) { exponent = next }
    for digits in 1...9 {
        let p = digits - 1 - exponent
        let candidate: Double
        if p >= 0 {
            let scale = exactPowerOfTen(p)
            candidate = (d * scale).rounded() / scale
        } else {
            let scale = exactPowerOfTen(-p)
            candidate = (d / scale).rounded() * scale
        }
        if Float(candidate) == target { return candidate }
    }
    return d
}

/// 10ᵏ for k ≥ 0: exact from the table up to 10²² (the largest power of ten a `Double` holds
/// exactly), `pow` beyond (reached only for `Float`s below 10⁻¹⁴ or above 10²²).
@inlinable @inline(__always)
func exactPowerOfTen(_ k: Int) -> Double {
    switch k {
    case 0: return 1
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    case 22: return 1e22
    default: return Foundation.pow(10.0, Double(k))
    }
}
