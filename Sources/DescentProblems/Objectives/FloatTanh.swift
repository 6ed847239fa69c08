/// tanh of a `Float`, computed in `Double` without a libm call, rounded once.
///
///     tanh x = sign(x) · (1 − 2 / (e^{2|x|} + 1))        (|x| ≥ 2⁻¹⁰, |x| clamped to 10)
///     tanh x = x − x³/3                                  (|x| < 2⁻¹⁰)
///
/// e^y for y = 2|x| ∈ [2⁻⁹, 20]: y = k ln 2 + r with k = round(y / ln 2) (the 1.5·2⁵² rounding
/// trick, so no `round` call and k's bits come out of the sum), |r| ≤ ln 2 / 2, e^r by its
/// Taylor polynomial to degree 11 (remainder ≤ 0.347¹²/12! ≈ 7·10⁻¹⁵) and 2ᵏ from the exponent
/// bits. Error before the final rounding: a few 10⁻¹⁶ relative from e^y, amplified by at most
/// 1/tanh(2⁻¹⁰) ≈ 10³ where 1 − 2/(e^y + 1) cancels: ≤ 10⁻¹² relative, far below half a `Float`
/// ulp (3·10⁻⁸), so the result is the correctly rounded tanh except where the true value lies
/// within 10⁻¹² of a rounding boundary (then one ulp off). For |x| ≥ 10 the result is ±1, as
/// the rounded tanh is from 9.01 on; NaN stays NaN, ±0 keeps its sign.
///
/// Why not libm: glibc's `tanhf` (through `expm1f`) costs ~30 ns per element here, 4 ms per
/// forward pass of the 64-256-256-10 perceptron on 256 samples, ~40 % of an Adam step; this
/// branch-light form costs a few ns (measured in `descent bench --kind kfac`).
/// - Complexity: O(1): 20 multiply-adds and one division in `Double`.
@inlinable @inline(__always)
func floatTanh(_ x: Float) -> Float {
    let d = Double(x)
    let a = Swift.min(d.magnitude, 10)  // NaN stays NaN (min returns its first argument)
    let y = 2 * a
    let shifter = 6_755_399_441_055_744.0  // 1.5 · 2⁵²: adding it rounds to an integer
    let shifted = y * 1.442_695_040_888_963_4 + shifter  // y / ln 2 + 1.5·2⁵²
    let k = shifted - shifter
    let r = y - k * 0.693_147_180_559_945_3
    var p = 1.0 / 39_916_800  // 1/11!
    p = p * r + 1.0 / 3_628_800
    p = p * r + 1.0 / 362_880
    p = p * r + 1.0 / 40_320
    p = p * r + 1.0 / 5_040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    // 2ᵏ: k sits in the low bits of `shifted` (0 ≤ k ≤ 29 here; garbage but no trap for NaN).
    let kBits = shifted.bitPattern &- shifter.bitPattern
    let scale = Double(bitPattern: (kBits &+ 1023) << 52)
    let large = 1 - 2 / (p * scale + 1)
    let small = a - a * a * a / 3
    let magnitude = a < 0x1p-10 ? small : large
    return Float(Double(signOf: d, magnitudeOf: magnitude))
}

/// ``floatTanh(_:)`` on `count` Floats in place, split across the cores from 2 × 16 384
/// elements on (each element is independent, so the split does not change a bit).
/// - Complexity: O(count), one pass.
@inlinable
func floatTanh(_ z: UnsafeMutablePointer<Float>, count: Int) {
    parallelChunks(count: count, minimumPerThread: 16_384) { range in
        for i in range { z[i] = floatTanh(z[i]) }
    }
}
