#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Splits `0..<count` into contiguous chunks, one per thread, and runs `body` on each chunk in
/// parallel; below `minimumPerThread` elements per chunk it runs `body(0..<count)` inline.
///
/// Element-wise optimizer kernels are memory (or divider) bound, so on a vector of millions of
/// elements a second core adds throughput; on small vectors waking a thread would cost more
/// than the work. Chunk boundaries fall on multiples of 64 elements (a cache line of Floats or
/// two of Doubles); for large n there are four chunks per thread, claimed dynamically by the
/// calling thread and a persistent pool of ``ParallelConfiguration/threads`` − 1 worker
/// threads started on first use. When the pool is already busy (a concurrent or nested call),
/// the call runs `body(0..<count)` inline on its own thread instead of waiting.
///
/// - Complexity: O(1) dispatch overhead plus the work of `body`: one broadcast, one wake-up per
///   worker, one short lock per chunk, and one 32-byte heap allocation per threaded call (the
///   escape check of `withoutActuallyEscaping`, which hands the non-escaping `body` to the
///   workers); calls below 2 × `minimumPerThread` elements run inline and allocate nothing.
@inlinable
public func parallelChunks(count: Int, minimumPerThread: Int = ParallelConfiguration.minimumPerThread,
                           _ body: (Range<Int>) -> Void) {
    let workers = Swift.min(ParallelConfiguration.threads, count / Swift.max(minimumPerThread, 1))
    if workers <= 1 {
        body(0..<count)
        return
    }
    // A few chunks per thread, claimed dynamically: on a shared machine a thread that loses
    // its core for a while does not hold up the whole step.
    let tasks = count / (workers * 4) >= 8192 ? workers * 4 : workers
    let chunk = ((count + tasks - 1) / tasks + 63) & ~63
    let ran = ChunkWorkerPool.shared.run(tasks: tasks, threads: workers) { w in
        let start = w * chunk
        let end = Swift.min(start + chunk, count)
        if start < end { body(start..<end) }
    }
    if !ran { body(0..<count) }
}

/// Process-wide settings of ``parallelChunks(count:minimumPerThread:_:)``.
public enum ParallelConfiguration {
    /// Threads used for element-wise kernels: the active processor count. Set it before the
    /// first parallel call; the pool grows if it is raised later.
    public nonisolated(unsafe) static var threads: Int = ProcessInfoCores.active
    /// Below this many elements per thread a kernel runs on one thread.
    public nonisolated(unsafe) static var minimumPerThread: Int = 1 << 16
}

@usableFromInline enum ProcessInfoCores {
    @usableFromInline static let active = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
}

/// The persistent worker threads behind ``parallelChunks(count:minimumPerThread:_:)``: one
/// mutex and two condition variables allocated once; a job is published by bumping a
/// generation counter under the mutex. Workers block (no spinning) between jobs, so an idle
/// process uses no CPU.
@usableFromInline
final class ChunkWorkerPool: @unchecked Sendable {
    @usableFromInline static let shared = ChunkWorkerPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Serializes callers; a caller that cannot take it runs its work inline.
    private let callerMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var generation: UInt64 = 0
    private var job: ((Int) -> Void)?
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

    /// Runs `body(k)` once for every k in 0..<tasks on the calling thread and `threads` − 1 pool
    /// threads, which claim the tasks in order; returns when all have finished. Returns false
    /// without running anything when the pool is in use by another call.
    @usableFromInline
    func run(tasks: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard pthread_mutex_trylock(callerMutex) == 0 else { return false }
        defer { pthread_mutex_unlock(callerMutex) }
        startThreads(upTo: threads - 1)
        withoutActuallyEscaping(body) { body in
            pthread_mutex_lock(mutex)
            job = body
            taskCount = tasks
            nextTask = 0
            active = threads - 1
            pending = threads - 1
            generation &+= 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)

            while let k = claim() { body(k) }

            pthread_mutex_lock(mutex)
            while pending > 0 { pthread_cond_wait(done, mutex) }
            job = nil
            pthread_mutex_unlock(mutex)
        }
        return true
    }

    /// Runs `body(w)` for w in 0..<workers, one task per thread.
    @usableFromInline
    func run(workers: Int, _ body: (Int) -> Void) -> Bool {
        run(tasks: workers, threads: workers, body)
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
            precondition(rc == 0, "parallelChunks: pthread_create failed with \(rc)")
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
            guard index <= active, job != nil else { continue }
            do {
                // The copy of the job is released before `pending` drops, so the caller's
                // `withoutActuallyEscaping` never sees it escape.
                let body = job!
                pthread_mutex_unlock(mutex)
                while let k = claim() { body(k) }
            }
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
        }
    }
}
