import Foundation

/// Named parts of one flat parameter buffer θ ∈ ℝⁿ: the arrays of a model (a layer's weights,
/// its biases, an intercept) as views into the single vector that the optimizers step.
///
/// A *slice* is a named set of elements made of one or more contiguous runs (a `Range<Int>`
/// each; most slices are one run, a perceptron layer's weights are one run per unit because θ
/// stores each unit's weights followed by its bias). Slices never overlap one another and lie
/// inside 0 ..< ``count``; they may leave elements uncovered. A *group* is a named union of
/// slices (e.g. `weights` = every layer's weights), possibly empty. Slice and group names share
/// one namespace.
///
///     var layout = try ParameterLayout(count: 7, slices: [("W", 0..<6), ("b", 6..<7)])
///     try layout.addGroup("weights", slices: ["W"])
///     try θ.withUnsafeMutableBufferPointer { p in
///         try layout.withSlice("b", of: p) { b in b[0] = 0 }   // zero-copy view of θ[6..<7]
///     }
///
/// Every check throws ``ParameterLayoutError`` naming the offending slice or group; a
/// throwing mutation leaves the layout unchanged. Decoding re-validates.
/// - Complexity: construction O(s log s) for s runs; a lookup by name O(number of names).
public struct ParameterLayout: Sendable, Hashable, Codable {
    /// A named part of θ: one or more contiguous runs, ascending and disjoint.
    public struct Slice: Sendable, Hashable, Codable {
        public var name: String
        public var ranges: [Range<Int>]
        public init(name: String, ranges: [Range<Int>]) { self.name = name; self.ranges = ranges }
        /// The number of elements.
        public var count: Int { ranges.reduce(0) { $0 + $1.count } }
    }

    /// A named union of slices.
    public struct Group: Sendable, Hashable, Codable {
        public var name: String
        public var slices: [String]
        public init(name: String, slices: [String]) { self.name = name; self.slices = slices }
    }

    /// n, the length of the buffer the layout describes.
    public let count: Int
    /// The slices, in the order given.
    public private(set) var slices: [Slice]
    /// The groups, in the order added.
    public private(set) var groups: [Group]

    /// A layout of `count` elements with the given single-run slices.
    /// - Throws: ``ParameterLayoutError`` for a negative count, an empty or repeated name, a
    ///   range outside 0 ..< count, or two overlapping slices (both named).
    public init(count: Int, slices: [(name: String, range: Range<Int>)] = []) throws {
        try self.init(count: count, multiRunSlices: slices.map { Slice(name: $0.name, ranges: [$0.range]) })
    }

    /// A layout whose slices may have several runs each.
    /// - Throws: as ``init(count:slices:)``.
    public init(count: Int, multiRunSlices: [Slice]) throws {
        guard count >= 0 else { throw ParameterLayoutError.negativeCount(count) }
        self.count = count
        self.slices = []
        self.groups = []
        try Self.check(multiRunSlices, count: count)
        self.slices = multiRunSlices
    }

    /// One slice `name` over the whole buffer (`count` < 0 is read as 0), plus the given empty
    /// groups: the default layout of an objective without structure (`weights` = all,
    /// `biases` = none).
    public static func whole(_ name: String = "weights", count: Int, emptyGroups: [String] = ["biases"]) -> ParameterLayout {
        let n = Swift.max(0, count)
        var layout = ParameterLayout(unchecked: n, slices: [Slice(name: name, ranges: n > 0 ? [0..<n] : [])])
        layout.groups = emptyGroups.filter { $0 != name }.map { Group(name: $0, slices: []) }
        return layout
    }

    private init(unchecked count: Int, slices: [Slice]) {
        self.count = count; self.slices = slices; self.groups = []
    }

    /// `weights` = θ[0..<features], `biases` = θ[features] (a model with an intercept last).
    /// A negative `features` is read as 0.
    public static func weightsThenIntercept(features: Int) -> ParameterLayout {
        let d = Swift.max(0, Swift.min(features, Int.max - 1))
        return ParameterLayout(unchecked: d + 1, slices: [Slice(name: "weights", ranges: d > 0 ? [0..<d] : []),
                                                          Slice(name: "biases", ranges: [d..<(d + 1)])])
    }

    /// A row-major `rows` × (`weightsPerRow` + 1) block [W | b] at `offset` in a buffer of
    /// `count` (default: the block's size): slice `weights` = each row's first `weightsPerRow`
    /// elements (one run per row), slice `biases` = each row's last element. Negative sizes
    /// are read as 0; a block that does not fit in `count` is cut at `count`.
    public static func rowBlocks(rows: Int, weightsPerRow: Int, offset: Int = 0, count: Int? = nil,
                                 weights: String, biases: String) -> ParameterLayout {
        let r = Swift.max(0, rows), w = Swift.max(0, Swift.min(weightsPerRow, Int.max - 1)), o = Swift.max(0, offset)
        let stride = w + 1
        let (size, o1) = r.multipliedReportingOverflow(by: stride)
        let (end, o2) = o.addingReportingOverflow(size)
        let n = Swift.max(0, count ?? (o1 || o2 ? 0 : end))
        let fitting = n > o ? Swift.min(r, (n - o) / stride) : 0
        var wr: [Range<Int>] = [], br: [Range<Int>] = []
        wr.reserveCapacity(w > 0 ? fitting : 0)
        br.reserveCapacity(fitting)
        for i in 0..<fitting {
            let start = o + i * stride                 // ≤ n − stride: no overflow
            if w > 0 { wr.append(start..<(start + w)) }
            br.append((start + w)..<(start + stride))
        }
        return ParameterLayout(unchecked: n, slices: [Slice(name: weights, ranges: wr), Slice(name: biases, ranges: br)])
    }

    /// `slices` (assumed disjoint, inside 0 ..< count, names distinct and not `weights` or
    /// `biases`) plus the groups `weights` (every slice whose name ends in `weights`) and
    /// `biases` (every slice whose name ends in `biases`).
    public static func withAggregates(count: Int, slices: [Slice]) -> ParameterLayout {
        var layout = ParameterLayout(unchecked: Swift.max(0, count), slices: slices)
        layout.groups = [Group(name: "weights", slices: slices.map(\.name).filter { $0.hasSuffix("weights") }),
                         Group(name: "biases", slices: slices.map(\.name).filter { $0.hasSuffix("biases") })]
        return layout
    }

    /// Adds the group `name`, the union of `members` (slice names; may be empty).
    /// - Throws: ``ParameterLayoutError/duplicateName(_:)``, ``ParameterLayoutError/emptyName``,
    ///   ``ParameterLayoutError/unknownName(_:valid:)`` for a member that is not a slice.
    public mutating func addGroup(_ name: String, slices members: [String]) throws {
        guard !name.isEmpty else { throw ParameterLayoutError.emptyName }
        guard !names.contains(name) else { throw ParameterLayoutError.duplicateName(name) }
        let sliceNames = slices.map(\.name)
        for m in members where !sliceNames.contains(m) {
            throw ParameterLayoutError.unknownName(m, valid: sliceNames)
        }
        groups.append(Group(name: name, slices: members))
    }

    /// Every slice name, then every group name.
    public var names: [String] { slices.map(\.name) + groups.map(\.name) }

    /// The runs of the slice or group `name`, ascending, adjacent runs merged.
    /// - Throws: ``ParameterLayoutError/unknownName(_:valid:)`` listing the valid names.
    public func ranges(of name: String) throws -> [Range<Int>] {
        if let s = slices.first(where: { $0.name == name }) { return Self.merged(s.ranges) }
        if let g = groups.first(where: { $0.name == name }) {
            return Self.merged(slices.filter { g.slices.contains($0.name) }.flatMap(\.ranges))
        }
        throw ParameterLayoutError.unknownName(name, valid: names)
    }

    /// The elements no slice covers, as ascending runs.
    public var uncovered: [Range<Int>] { Self.complement(of: slices.flatMap(\.ranges), count: count) }

    /// A zero-copy view of the single-run slice `name` in `buffer` (which must have ``count``
    /// elements).
    /// - Throws: ``ParameterLayoutError/unknownName(_:valid:)``,
    ///   ``ParameterLayoutError/notContiguous(_:runs:)`` for a slice or group of several runs,
    ///   ``ParameterLayoutError/bufferCountMismatch(expected:found:)``.
    public func slice<S>(_ name: String, of buffer: UnsafeMutableBufferPointer<S>) throws -> UnsafeMutableBufferPointer<S> {
        guard buffer.count == count else { throw ParameterLayoutError.bufferCountMismatch(expected: count, found: buffer.count) }
        let runs = try ranges(of: name)
        guard runs.count <= 1 else { throw ParameterLayoutError.notContiguous(name, runs: runs.count) }
        return UnsafeMutableBufferPointer(rebasing: buffer[runs.first ?? 0..<0])
    }

    /// Calls `body` with the zero-copy view of the single-run slice `name` in `buffer`.
    /// - Throws: what ``slice(_:of:)`` throws, and what `body` throws.
    public func withSlice<S, R>(_ name: String, of buffer: UnsafeMutableBufferPointer<S>,
                                _ body: (UnsafeMutableBufferPointer<S>) throws -> R) throws -> R {
        try body(slice(name, of: buffer))
    }

    /// The values of the slice or group `name` in `array`, copied in ascending order.
    /// - Throws: as ``ranges(of:)``, and ``ParameterLayoutError/bufferCountMismatch(expected:found:)``.
    /// - Complexity: O(elements of the slice).
    public func values<S>(of name: String, in array: [S]) throws -> [S] {
        guard array.count == count else { throw ParameterLayoutError.bufferCountMismatch(expected: count, found: array.count) }
        return try ranges(of: name).flatMap { array[$0] }
    }

    // MARK: Checks

    static func check(_ slices: [Slice], count: Int) throws {
        var seen = Set<String>()
        var runs: [(range: Range<Int>, name: String)] = []
        for s in slices {
            guard !s.name.isEmpty else { throw ParameterLayoutError.emptyName }
            guard seen.insert(s.name).inserted else { throw ParameterLayoutError.duplicateName(s.name) }
            for r in s.ranges {
                guard r.lowerBound >= 0, r.upperBound <= count else {
                    throw ParameterLayoutError.sliceOutOfRange(s.name, range: r, count: count)
                }
                if !r.isEmpty { runs.append((r, s.name)) }
            }
        }
        runs.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(runs, runs.dropFirst()) where a.range.upperBound > b.range.lowerBound {
            throw ParameterLayoutError.overlap(a.name, b.name)
        }
    }

    /// Sorted, empty runs dropped, adjacent or overlapping runs joined.
    static func merged(_ runs: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in runs.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, last.upperBound >= r.lowerBound {
                out[out.count - 1] = last.lowerBound..<Swift.max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// 0 ..< count minus the union of `runs`.
    static func complement(of runs: [Range<Int>], count: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var next = 0
        for r in merged(runs) {
            if r.lowerBound > next { out.append(next..<r.lowerBound) }
            next = Swift.max(next, r.upperBound)
        }
        if next < count { out.append(next..<count) }
        return out
    }

    // MARK: Codable

    private enum CodingKeys: String, CodingKey { case count, slices, groups }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let count = try c.decode(Int.self, forKey: .count)
        try self.init(count: count, multiRunSlices: try c.decode([Slice].self, forKey: .slices))
        for g in try c.decode([Group].self, forKey: .groups) { try addGroup(g.name, slices: g.slices) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(slices, forKey: .slices)
        try c.encode(groups, forKey: .groups)
    }
}

/// A layout or parameter-group specification that does not fit; the message names the slice,
/// group or key.
public enum ParameterLayoutError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case negativeCount(Int)
    case emptyName
    case duplicateName(String)
    /// A slice's run lies outside 0 ..< count.
    case sliceOutOfRange(String, range: Range<Int>, count: Int)
    /// Two slices share elements.
    case overlap(String, String)
    /// No slice or group has this name; `valid` lists those that exist.
    case unknownName(String, valid: [String])
    /// The slice or group has several runs and cannot be one buffer view.
    case notContiguous(String, runs: Int)
    /// The buffer's length is not the layout's.
    case bufferCountMismatch(expected: Int, found: Int)
    /// Two parameter groups share elements.
    case overlappingGroups(String, String)
    /// A group override names a hyperparameter this optimizer has not (or cannot be set per group).
    case unknownKey(String, group: String, optimizer: String, valid: [String])
    /// A group override's value has the wrong type (a number for a flag or the reverse).
    case invalidValue(key: String, group: String, value: String, requirement: String)
    /// The same group was given twice.
    case repeatedGroup(String)

    public var description: String {
        func list(_ v: [String]) -> String {
            v.isEmpty ? "none" : v.prefix(12).map { q($0) }.joined(separator: ", ") + (v.count > 12 ? " and \(v.count - 12) more" : "")
        }
        func q(_ name: String) -> String { MessageValue.clip(name, limit: 60) }
        switch self {
        case let .negativeCount(n): return "parameter layout: count \(n) is negative"
        case .emptyName: return "parameter layout: a slice or group has an empty name"
        case let .duplicateName(n): return "parameter layout: the name \(q(n)) is used twice"
        case let .sliceOutOfRange(n, r, c): return "parameter layout: slice \(q(n)) covers \(r.lowerBound)..<\(r.upperBound), outside 0..<\(c)"
        case let .overlap(a, b): return "parameter layout: slices \(q(a)) and \(q(b)) overlap"
        case let .unknownName(n, valid): return "unknown parameter slice or group \(q(n)) (valid: \(list(valid)))"
        case let .notContiguous(n, runs): return "parameter slice or group \(q(n)) has \(runs) separate runs, not one contiguous view"
        case let .bufferCountMismatch(e, f): return "parameter layout: the buffer has \(f) elements, the layout \(e)"
        case let .overlappingGroups(a, b): return "parameter groups \(q(a)) and \(q(b)) overlap"
        case let .unknownKey(k, g, o, valid): return "group \(q(g)): unknown key \(q(k)) for \(q(o)) (valid: \(list(valid)))"
        case let .invalidValue(k, g, v, r): return "group \(q(g)): invalid \(q(k)) = \(q(v)): must be \(r)"
        case let .repeatedGroup(g): return "parameter group \(q(g)) is given twice"
        }
    }

    public var errorDescription: String? { description }
}
