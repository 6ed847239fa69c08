extension BLASScalar {
    /// √x for an x that is ≥ 0 by construction (a sum of squares, or one plus ε).
    ///
    /// On Linux `squareRoot()` lowers to libm's `sqrt` with an `errno` path for negative
    /// inputs, a call that keeps LLVM from vectorizing the loop around it. Taking `abs` first
    /// proves the argument non-negative, so the call becomes a plain `sqrtpd`/`sqrtps` and the
    /// element-wise kernels vectorize (measured 2× on Adagrad's kernel, one thread). For
    /// x ≥ 0 and NaN the result is identical; only −0 maps to +0, which every caller then adds ε to.
    @inlinable @inline(__always)
    var nonNegativeSquareRoot: Self { Swift.abs(self).squareRoot() }
}
