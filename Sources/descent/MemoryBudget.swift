import Foundation
import Descent
import DescentProblems
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sizes checked before anything is allocated: products in overflow-checked arithmetic, compared
/// with what this process can allocate (``MemoryLimit``: physical memory, and the headroom below
/// the address-space limit `ulimit -v`), so that a size the process cannot hold is a one-line
/// error instead of "Fatal error: failed to allocate".
enum MemoryBudget {
    /// The product of `factors`, or nil when it overflows `Int` (or a factor is negative).
    static func product(_ factors: Int...) -> Int? { product(factors) }

    static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (q, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = q
        }
        return p
    }

    /// The sum of `terms`, or nil when a term is nil or the sum overflows.
    static func sum(_ terms: [Int?]) -> Int? {
        var s = 0
        for t in terms {
            guard let t else { return nil }
            let (u, overflow) = s.addingReportingOverflow(t)
            if overflow { return nil }
            s = u
        }
        return s
    }

    /// Throws when a run's parameter-sized arrays (θ, gradient, optimizer state: about eight n-arrays)
    /// or its recorded trajectory ((steps + 1) rows of n + 2 numbers, with `--trace`) would not fit,
    /// or when the trace's target cannot be replaced (a directory, a device): before training.
    static func requireRun<S: BLASScalar>(_: S.Type, dimension n: Int, steps: Int, trace: String?) throws {
        let s = MemoryLayout<S>.size
        // The loss history: one record per step up to its limit (about 200 bytes with a checkpoint's copy).
        let history = product(Swift.min(steps &+ 1, TrainingOptions<S>.defaultHistoryLimit), 200)
        try require(sum([product(n, 8 * s), history]), for: "\(n) parameters")
        guard let trace else { return }
        try require(sum([product(n, 8 * s), product(steps &+ 1, n &+ 2, s + 24)]), for: "--trace with --steps \(steps) × \(n) parameters")
        do {
            try AtomicFile.checkWritable(URL(fileURLWithPath: trace))
        } catch let error as AtomicFileError {
            throw CLIError("--trace \(error.description)")
        }
    }

    /// Bytes as "1.5 GB" (powers of 1000).
    static func format(_ bytes: Int) -> String { MemoryLimit.format(bytes) }

    /// Throws unless `bytes` (nil: beyond Int) fits in what the process can allocate. `what`
    /// names the options responsible, e.g. "--samples 10000000000 × --features 5".
    static func require(_ bytes: Int?, for what: String) throws {
        let available = MemoryLimit.availableBytes
        let limit = MemoryLimit.addressSpaceLimit != nil ? "the address-space limit (ulimit -v) leaves" : "this machine has"
        guard let bytes else {
            throw CLIError("\(what): the sizes overflow 64-bit arithmetic, far beyond the \(format(available)) of memory \(limit)")
        }
        guard bytes <= available else {
            throw CLIError("\(what): needs about \(format(bytes)) of memory, more than the \(format(available)) \(limit)")
        }
    }
}

/// Whole-number options that may be written in scientific notation (`--samples 1e6`).
enum SizeArgument {
    /// "1000", "1e6", "2.5e3" → the whole number; anything else (fractions, negatives written as
    /// "-1" are left to the option's own check) throws.
    static func parse(_ text: String) throws -> Int {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let v = Int(s) { return v }
        guard let x = Double(s), x.isFinite, x.rounded() == x, abs(x) < 9.2e18 else {
            throw CLIError("'\(Message.clip(s))' is not a whole number")
        }
        return Int(x)
    }
}

/// Values echoed in messages are cut to a readable length.
enum Message {
    static let limit = MessageValue.limit

    /// `text` cut to `limit` characters with "…" and the total length when longer
    /// (``MessageValue/clip(_:limit:)``, the one rule of every message).
    static func clip(_ text: some StringProtocol, limit: Int = limit) -> String {
        MessageValue.clip(text, limit: limit)
    }

    /// An error's message without the path it names (the caller names the option and the path):
    /// the reason of a file error, else the description.
    static func reason(_ error: any Error) -> String {
        if let file = error as? AtomicFileError { return file.reason }
        return Message.clip(error.localizedDescription, limit: 300)
    }

    /// Up to `shown` names, then "and N more".
    static func list(_ names: [String], shown: Int = 8) -> String {
        let head = names.prefix(shown).map { "'\(clip($0, limit: 40))'" }.joined(separator: ", ")
        return names.count > shown ? head + " and \(names.count - shown) more" : head
    }
}
