import Dispatch

/// Splits `0..<count` into contiguous chunks, one per core, and runs `body` on each chunk in
/// parallel; below `minimumPerThread` elements per chunk it runs `body(0..<count)` inline.
///
/// Element-wise optimizer kernels are memory bound, so on a vector of millions of elements a
/// second core adds bandwidth; on small vectors the dispatch would cost more than the work.
/// Chunk boundaries fall on multiples of 64 elements (a cache line of Floats or two of Doubles).
///
/// - Complexity: O(1) dispatch overhead plus the work of `body`.
@inlinable
public func parallelChunks(count: Int, minimumPerThread: Int = ParallelConfiguration.minimumPerThread,
                           _ body: (Range<Int>) -> Void) {
    let workers = Swift.min(ParallelConfiguration.threads, count / Swift.max(minimumPerThread, 1))
    if workers <= 1 {
        body(0..<count)
        return
    }
    let chunk = ((count + workers - 1) / workers + 63) & ~63
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let start = w * chunk
        let end = Swift.min(start + chunk, count)
        if start < end { body(start..<end) }
    }
}

/// Process-wide settings of ``parallelChunks(count:minimumPerThread:_:)``.
public enum ParallelConfiguration {
    /// Threads used for element-wise kernels: the active processor count.
    public nonisolated(unsafe) static var threads: Int = ProcessInfoCores.active
    /// Below this many elements per thread a kernel runs on one thread.
    public nonisolated(unsafe) static var minimumPerThread: Int = 1 << 16
}

import Foundation

@usableFromInline enum ProcessInfoCores {
    @usableFromInline static let active = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
}
