import Descent

/// Arrays for one (size, precision) of the first-order benchmark, shared by all optimizers of
/// that case: the parameters, two gradients the steps alternate between (so that a step never
/// sees the gradient of the step before), and scratch arrays for the stream kernel.
/// 64-byte aligned, as PyTorch's and NumPy's allocations are; freed by ``deallocate()``.
struct BenchBuffers<Scalar: BLASScalar> {
    let count: Int
    let parameters: UnsafeMutableBufferPointer<Scalar>
    let gradients: [UnsafeMutableBufferPointer<Scalar>]
    let scratch: [UnsafeMutableBufferPointer<Scalar>]

    init(count: Int, scratchArrays: Int) {
        self.count = count
        func make() -> UnsafeMutableBufferPointer<Scalar> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<Scalar>.stride,
                                                       alignment: 64)
            return UnsafeMutableBufferPointer(start: raw.bindMemory(to: Scalar.self, capacity: count), count: count)
        }
        parameters = make()
        gradients = [make(), make()]
        scratch = (0..<scratchArrays).map { _ in make() }
        // Deterministic values of both signs, away from zero and from denormals.
        for i in 0..<count {
            let u = Scalar(i % 977) / 977           // [0, 1)
            parameters[i] = u - 0.5
            gradients[0][i] = (i & 1 == 0 ? 1 : -1) * (0.1 + u)
            gradients[1][i] = (i & 2 == 0 ? 1 : -1) * (1.1 - u)
        }
        for s in scratch {
            for i in 0..<count { s[i] = Scalar(i % 101) / 101 + 0.25 }
        }
    }

    /// Bytes one more array of this size would take.
    static func arrayBytes(_ count: Int) -> Int { count * MemoryLayout<Scalar>.stride }

    func deallocate() {
        parameters.deallocate()
        for g in gradients { g.deallocate() }
        for s in scratch { s.deallocate() }
    }
}
