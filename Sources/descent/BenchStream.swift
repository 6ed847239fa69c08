import Descent

/// The machine's limit for an element-wise update: a plain stream kernel that reads
/// `updated + 1` arrays and writes `updated` of them in place, in one pass,
///
///     xⱼ[i] ← a·xⱼ[i] + b·x₀[i],   j = 1 … updated,
///
/// split over the threads exactly as the optimizers' kernels are (``parallelChunks``). It
/// moves the same bytes as an optimizer that reads the gradient and `updated` arrays of
/// parameters and state and writes those back (SGD: 1, Momentum/Adagrad/RMSProp: 2,
/// Adam/AdamW/Adadelta: 3), with almost no arithmetic.
/// - Complexity: O(n · (2·updated + 1)) memory traffic.
enum BenchStream {
    @inline(never)
    static func run<Scalar: BLASScalar>(read x0: UnsafeMutableBufferPointer<Scalar>,
                                        update arrays: [UnsafeMutableBufferPointer<Scalar>], count updated: Int,
                                        a: Scalar = 0.5, b: Scalar = 0.5) {
        let n = x0.count
        guard n > 0 else { return }
        let r = x0.baseAddress!
        switch updated {
        case 1:
            let x1 = arrays[0].baseAddress!
            parallelChunks(count: n) { range in
                for i in range { x1[i] = a * x1[i] + b * r[i] }
            }
        case 2:
            let x1 = arrays[0].baseAddress!, x2 = arrays[1].baseAddress!
            parallelChunks(count: n) { range in
                for i in range {
                    let g = b * r[i]
                    x1[i] = a * x1[i] + g
                    x2[i] = a * x2[i] + g
                }
            }
        case 3:
            let x1 = arrays[0].baseAddress!, x2 = arrays[1].baseAddress!, x3 = arrays[2].baseAddress!
            parallelChunks(count: n) { range in
                for i in range {
                    let g = b * r[i]
                    x1[i] = a * x1[i] + g
                    x2[i] = a * x2[i] + g
                    x3[i] = a * x3[i] + g
                }
            }
        default:
            preconditionFailure("stream kernel for \(updated) written arrays is not implemented")
        }
    }
}
