import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `descent bench` reads from the operating system: a monotonic clock, the peak resident
/// size, the memory available, the heap-allocation counter, and whether stderr is a terminal.
enum BenchSystem {
    /// Nanoseconds on a monotonic clock.
    @inline(__always) static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Peak resident set size of this process so far, in bytes (`getrusage`'s `ru_maxrss`).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on macOS
        #endif
    }

    /// `MemAvailable` from /proc/meminfo in bytes, or the physical memory where that is unknown.
    static func availableMemoryBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
            }
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }

    /// `descent_malloc_count` of the preloaded counter (libDescentMallocCounter), looked up once.
    private static let mallocCounter: (@convention(c) () -> Int64)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "descent_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> Int64).self)
    }()

    /// Heap allocations made so far by the whole process, or nil where they cannot be counted
    /// (the counter is not preloaded: see ``preloadAllocationCounter()``).
    @inline(__always) static func allocationCount() -> Int? {
        guard let counter = mallocCounter else { return nil }
        let c = counter()
        return c < 0 ? nil : Int(c)
    }

    /// How allocations are counted, for the output.
    static var allocationMethod: String {
        allocationCount() == nil
            ? "not counted (\(preloadUnavailableReason ?? "the counter is not loaded"))"
            : "malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign/valloc calls of all threads, counted by libDescentMallocCounter preloaded into the benchmark's process"
    }

    /// The environment variable that marks the re-executed benchmark process.
    static let preloadMarker = "DESCENT_BENCH_PRELOADED"

    /// The counter library built beside the executable, if any.
    static var counterLibrary: String? {
        #if os(Linux)
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("libDescentMallocCounter.so").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
        #else
        return nil
        #endif
    }

    /// Whether a sanitizer runtime owns the allocator in this process.
    static var sanitized: Bool {
        let process = UnsafeMutableRawPointer(bitPattern: 0)
        return dlsym(process, "__asan_init") != nil || dlsym(process, "__tsan_init") != nil
    }

    /// Why allocations cannot be counted, or nil when they can (or the process will be re-executed).
    static var preloadUnavailableReason: String? {
        if sanitized { return "a sanitizer owns the allocator" }
        if counterLibrary == nil { return "libDescentMallocCounter.so is not beside the executable" }
        if ProcessInfo.processInfo.environment[preloadMarker] != nil { return "the preloaded counter did not load" }
        return nil
    }

    /// Re-executes this process with the allocation counter preloaded (`LD_PRELOAD`), so that only
    /// the benchmark's process has its allocator interposed. Returns (without re-executing) when
    /// the counter is loaded already or cannot be: the benchmark then runs without counts.
    static func preloadAllocationCounter() {
        #if os(Linux)
        guard mallocCounter == nil, preloadUnavailableReason == nil, let library = counterLibrary else { return }
        var environment = ProcessInfo.processInfo.environment
        environment[preloadMarker] = "1"
        environment["LD_PRELOAD"] = [library, environment["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        let pairs = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        fflush(nil)
        execve("/proc/self/exe", arguments, pairs)
        // execve returned: run in this process, without counts.
        for p in arguments { free(p) }
        for p in pairs { free(p) }
        #endif
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}

/// A one-line progress display on stderr, shown only when stderr is a terminal.
struct BenchProgress {
    let total: Int
    let enabled: Bool
    private(set) var done = 0

    init(total: Int, enabled: Bool = BenchSystem.stderrIsTerminal) {
        self.total = total
        self.enabled = enabled
    }

    mutating func start(_ label: String) {
        guard enabled else { return }
        let text = "\r\u{1B}[2K[\(done + 1)/\(total)] \(label)"
        FileHandle.standardError.write(Data(text.utf8))
    }

    mutating func finish() {
        done += 1
        guard enabled, done == total else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// A note on its own line (e.g. a skipped case), printed whether or not stderr is a terminal.
    func note(_ text: String) {
        let prefix = enabled ? "\r\u{1B}[2K" : ""
        FileHandle.standardError.write(Data((prefix + text + "\n").utf8))
    }
}

/// Order statistics of timings.
enum BenchStatistics {
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted()
        let k = s.count / 2
        return s.count % 2 == 1 ? s[k] : (s[k - 1] + s[k]) / 2
    }
}

/// Keeps results observable so that the optimizer's stores cannot be dropped.
nonisolated(unsafe) var benchSink: Double = 0
