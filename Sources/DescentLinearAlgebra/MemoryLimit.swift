import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What this process can allocate: checked before a size-dependent allocation, so that a size
/// the process cannot hold is a thrown ``LinearAlgebraError/allocationTooLarge(what:bytes:limit:)``
/// instead of "Fatal error: failed to allocate" (or a bad pointer when a byte count wraps).
///
///     limit = min(physical memory, RLIMIT_AS soft limit − address space in use)
///
/// The address-space limit (`ulimit -v`) counts virtual memory, so the headroom is the limit
/// less what the process has already mapped (`VmSize` of /proc/self/status); physical memory
/// is `sysconf(_SC_PHYS_PAGES) × _SC_PAGESIZE`. Both are read at each call (a limit can be
/// lowered at run time). The check is an upper bound: an allocation it admits may still fail
/// when other processes hold the memory.
/// - Complexity: one `getrlimit` and, under a finite limit, one read of /proc/self/status.
public enum MemoryLimit {
    /// The machine's physical memory in bytes.
    public static var physicalBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0, case let (p, overflow) = pages.multipliedReportingOverflow(by: pageSize), !overflow {
            return p
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// The soft `RLIMIT_AS` in bytes, nil when unlimited.
    public static var addressSpaceLimit: Int? {
        var limit = rlimit()
        #if canImport(Glibc)
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0 else { return nil }
        #else
        guard getrlimit(RLIMIT_AS, &limit) == 0 else { return nil }
        #endif
        guard limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// The address space this process has mapped (`VmSize`), 0 where it cannot be read.
    public static var addressSpaceInUse: Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmSize:") {
            let digits = line.dropFirst("VmSize:".count).filter(\.isNumber)
            return (Int(digits) ?? 0).multipliedReportingOverflow(by: 1024).partialValue
        }
        return 0
    }

    /// The most bytes a new allocation can take: physical memory, and under an address-space
    /// limit the headroom left below it.
    public static var availableBytes: Int {
        let physical = physicalBytes
        guard let limit = addressSpaceLimit else { return physical }
        return Swift.max(0, Swift.min(physical, limit - addressSpaceInUse))
    }

    /// `count` elements of `stride` bytes, or nil when the product overflows `Int` or a factor
    /// is negative.
    public static func bytes(count: Int, stride: Int) -> Int? {
        guard count >= 0, stride >= 0 else { return nil }
        let (b, overflow) = count.multipliedReportingOverflow(by: stride)
        return overflow ? nil : b
    }

    /// The product of `factors` (element counts and sizes), nil on overflow or a negative factor.
    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (q, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = q
        }
        return p
    }

    /// The sum of `terms`, nil when a term is nil, negative, or the sum overflows.
    public static func sum(_ terms: [Int?]) -> Int? {
        var s = 0
        for t in terms {
            guard let t, t >= 0 else { return nil }
            let (u, overflow) = s.addingReportingOverflow(t)
            if overflow { return nil }
            s = u
        }
        return s
    }

    /// Throws ``LinearAlgebraError/allocationTooLarge(what:bytes:limit:)`` unless `bytes`
    /// (nil: beyond `Int`) fits in ``availableBytes``. `what` names the allocation, e.g.
    /// "a 100000 × 100000 matrix".
    public static func require(_ bytes: Int?, for what: @autoclosure () -> String) throws {
        // Small requests never need the system calls.
        if let bytes, bytes <= 1 << 24 { return }
        let available = availableBytes
        guard let bytes, bytes <= available else {
            throw LinearAlgebraError.allocationTooLarge(what: what(), bytes: bytes, limit: available)
        }
    }

    /// Throws unless `count` elements of `Element` fit (see ``require(_:for:)``).
    public static func require<Element>(_ count: Int, of _: Element.Type, for what: @autoclosure () -> String) throws {
        try require(bytes(count: count, stride: MemoryLayout<Element>.stride), for: what())
    }

    /// Bytes as "1.5 GB" (powers of 1000).
    public static func format(_ bytes: Int) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(bytes), i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(bytes) bytes" : String(format: "%.3g %@", v, units[i])
    }
}
