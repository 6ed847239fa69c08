#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Work on a range of indices, run by `parallelChunks(count:minimumPerThread:_:)` on
/// several threads at once: `callAsFunction` must only touch the elements of its range (and
/// read shared values), so that chunks can run concurrently.
@usableFromInline
package protocol ChunkKernel: SendableMetatype {
    func callAsFunction(_ range: Range<Int>)
}

/// Work split into numbered tasks, for ``ChunkWorkerPool/run(tasks:threads:kernel:)``.
@usableFromInline
package protocol TaskKernel: SendableMetatype {
    func callAsFunction(task: Int)
}

/// Splits `0..<count` into contiguous chunks and runs `kernel` on each chunk in parallel on up
/// to `threads` threads (``ParallelConfiguration/threads`` unless pinned, as the tests do);
/// below `minimumPerThread` elements per chunk it runs `kernel(0..<count)` inline.
///
/// Element-wise optimizer kernels are memory (or divider) bound, so on a vector of millions of
/// elements a second core adds throughput; on small vectors waking a thread would cost more
/// than the work. Chunk boundaries fall on multiples of 64 elements (a cache line of Floats or
/// two of Doubles); for large n there are four chunks per thread, claimed dynamically by the
/// calling thread and a persistent pool of ``ParallelConfiguration/threads`` − 1 worker
/// threads started on first use. When the pool is already busy (a concurrent or nested call),
/// the call runs `kernel(0..<count)` inline on its own thread instead of waiting.
///
/// The kernel is handed to the workers as a pointer to the caller's stack and a non-capturing
/// function specialized for `K`, so a call allocates nothing (where `K` is a concrete type at
/// the call site, which the optimizers' kernels are).
///
/// - Complexity: O(1) dispatch overhead plus the work of `kernel`: one broadcast, one wake-up
///   per worker and one short lock per chunk; no allocation.
@inlinable
package func parallelChunks<K: ChunkKernel>(count: Int, minimumPerThread: Int = ParallelConfiguration.minimumPerThread,
                                            threads: Int = ParallelConfiguration.threads, _ kernel: K) {
    let workers = Swift.min(threads, count / Swift.max(minimumPerThread, 1))
    if workers <= 1 {
        kernel(0..<count)
        return
    }
    // A few chunks per thread, claimed dynamically: on a shared machine a thread that loses
    // its core for a while does not hold up the whole step.
    let tasks = count / (workers * 4) >= 8192 ? workers * 4 : workers
    let chunk = ((count + tasks - 1) / tasks + 63) & ~63
    let job = ChunkedKernel(kernel: kernel, chunk: chunk, count: count)
    if !ChunkWorkerPool.shared.run(tasks: tasks, threads: workers, kernel: job) { kernel(0..<count) }
}

/// Task k of a chunked kernel: the elements `k·chunk ..< min((k + 1)·chunk, count)`.
@usableFromInline
struct ChunkedKernel<K: ChunkKernel>: TaskKernel {
    @usableFromInline let kernel: K
    @usableFromInline let chunk: Int
    @usableFromInline let count: Int
    @inlinable init(kernel: K, chunk: Int, count: Int) { self.kernel = kernel; self.chunk = chunk; self.count = count }
    @inlinable func callAsFunction(task w: Int) {
        let start = w * chunk
        let end = Swift.min(start + chunk, count)
        if start < end { kernel(start..<end) }
    }
}

/// `parallelChunks(count:minimumPerThread:_:)` for a closure (the benchmark's stream
/// kernel). Handing a non-escaping closure to the workers costs one 32-byte heap allocation per
/// threaded call (the escape check of `withoutActuallyEscaping`); the optimizers use the
/// ``ChunkKernel`` form, which allocates nothing.
/// - Complexity: as the kernel form, plus that allocation when more than one thread runs.
@inlinable
package func parallelChunks(count: Int, minimumPerThread: Int = ParallelConfiguration.minimumPerThread,
                            _ body: (Range<Int>) -> Void) {
    let workers = Swift.min(ParallelConfiguration.threads, count / Swift.max(minimumPerThread, 1))
    if workers <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        parallelChunks(count: count, minimumPerThread: minimumPerThread, ClosureKernel(body: body))
    }
}

@usableFromInline
struct ClosureKernel: ChunkKernel {
    @usableFromInline let body: (Range<Int>) -> Void
    @inlinable init(body: @escaping (Range<Int>) -> Void) { self.body = body }
    @inlinable func callAsFunction(_ range: Range<Int>) { body(range) }
}

/// Process-wide settings of `parallelChunks(count:minimumPerThread:_:)`. Set them
/// before the first parallel call, from one thread (the benchmark and the tests do); they are
/// read without synchronization on every step.
@usableFromInline
package enum ParallelConfiguration {
    /// Threads used for element-wise kernels: the active processor count. The pool grows if it
    /// is raised later.
    @inlinable package static var threads: Int {
        get { storage[0] }
        set { storage[0] = newValue }
    }
    /// Below this many elements per thread a kernel runs on one thread.
    @inlinable package static var minimumPerThread: Int {
        get { storage[1] }
        set { storage[1] = newValue }
    }
    /// Both settings behind one pointer: a `static var` is read through the runtime's dynamic
    /// exclusivity check (`swift_beginAccess`), which cost a small step (SGD at n = 10³, ~150 ns)
    /// a measurable share; a load through a constant pointer costs nothing.
    @usableFromInline nonisolated(unsafe) static let storage: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        p[0] = ProcessInfoCores.active
        p[1] = 1 << 16
        return p
    }()
}

@usableFromInline enum ProcessInfoCores {
    @usableFromInline static let active = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// The persistent worker threads behind `parallelChunks(count:minimumPerThread:_:)`: one
/// mutex and two condition variables allocated once; a job is published by bumping a
/// generation counter under the mutex. Workers block (no spinning) between jobs, so an idle
/// process uses no CPU.
@usableFromInline
package final class ChunkWorkerPool: @unchecked Sendable {
    @usableFromInline package static let shared = ChunkWorkerPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Serializes callers; a caller that cannot take it runs its work inline.
    private let callerMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var generation: UInt64 = 0
    private var invoke: (@Sendable (UnsafeRawPointer, Int) -> Void)?
    private var context: UnsafeRawPointer?
    private var active = 0
    private var pending = 0
    private var nextTask = 0
    private var taskCount = 0
    private var started = 0

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(callerMutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    /// Runs `kernel(task: k)` once for every k in 0..<tasks on the calling thread and
    /// `threads` − 1 pool threads, which claim the tasks in order; returns when all have
    /// finished. Returns false without running anything when the pool is in use by another call
    /// (a concurrent or nested call), so the caller runs the work itself.
    ///
    /// The workers see `kernel` through a pointer to this frame and a function with no captures
    /// (specialized for `K`), so nothing is allocated.
    @inlinable
    package func run<K: TaskKernel>(tasks: Int, threads: Int, kernel: K) -> Bool {
        withUnsafePointer(to: kernel) { pointer in
            run(tasks: tasks, threads: threads, context: UnsafeRawPointer(pointer)) { raw, k in
                raw.assumingMemoryBound(to: K.self).pointee(task: k)
            }
        }
    }

    /// The type-erased form: `invoke(context, k)` for every task k.
    @usableFromInline
    func run(tasks: Int, threads: Int, context: UnsafeRawPointer,
             invoke: @escaping @Sendable (UnsafeRawPointer, Int) -> Void) -> Bool {
        guard pthread_mutex_trylock(callerMutex) == 0 else { return false }
        defer { pthread_mutex_unlock(callerMutex) }
        startThreads(upTo: threads - 1)
        pthread_mutex_lock(mutex)
        self.invoke = invoke
        self.context = context
        taskCount = tasks
        nextTask = 0
        // Fewer workers when a thread could not be created; the caller claims the rest.
        active = Swift.min(threads - 1, started)
        pending = active
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        while let k = claim() { invoke(context, k) }

        pthread_mutex_lock(mutex)
        while pending > 0 { pthread_cond_wait(done, mutex) }
        self.invoke = nil
        self.context = nil
        pthread_mutex_unlock(mutex)
        return true
    }

    /// The next unclaimed task, or nil.
    private func claim() -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard nextTask < taskCount else { return nil }
        nextTask += 1
        return nextTask - 1
    }

    private func startThreads(upTo count: Int) {
        while started < count {
            started += 1
            let index = started
            pthread_mutex_lock(mutex)
            let seen = generation  // a new thread must not miss the job published right after this
            pthread_mutex_unlock(mutex)
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index, seen: seen)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                #if canImport(Darwin)
                let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                #else
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                #endif
                context.pool.workerLoop(index: context.index, seen: context.seen)  // never returns
            }, context)
            guard rc == 0 else {
                // No thread (resource limit): release the context and run with those we have.
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                started -= 1
                return
            }
            pthread_detach(thread)
        }
    }

    private final class WorkerContext {
        let pool: ChunkWorkerPool
        let index: Int
        let seen: UInt64
        init(pool: ChunkWorkerPool, index: Int, seen: UInt64) { self.pool = pool; self.index = index; self.seen = seen }
    }

    private func workerLoop(index: Int, seen start: UInt64) -> Never {
        var seen = start
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            guard index <= active, let invoke, let context else { continue }
            pthread_mutex_unlock(mutex)
            while let k = claim() { invoke(context, k) }
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
        }
    }
}
