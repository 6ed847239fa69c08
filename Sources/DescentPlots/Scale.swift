import Foundation

/// A tick on an axis: its data value and its label.
public struct Tick: Sendable, Equatable {
    public var value: Double
    /// The label's text; for powers of ten on a log axis the mantissa part, e.g. "10".
    public var label: String
    /// An exponent shown as a superscript after `label` (log axes: 10⁻³ is label "10", exponent "-3").
    public var exponent: String?

    public init(value: Double, label: String, exponent: String? = nil) {
        self.value = value
        self.label = label
        self.exponent = exponent
    }

    /// The label as plain text, e.g. "10^-3".
    public var plainText: String { exponent.map { label + "^" + $0 } ?? label }
}

/// A linear map from a data interval to a pixel interval, with "nice" ticks (1, 2, 5 × 10ᵏ).
public struct LinearScale: Sendable {
    public var domain: ClosedRange<Double>
    /// Pixel positions of `domain.lowerBound` and `domain.upperBound` (may be decreasing, as
    /// for a y axis).
    public var range: (Double, Double)

    public init(domain: ClosedRange<Double>, range: (Double, Double)) {
        self.domain = domain.lowerBound == domain.upperBound
            ? (domain.lowerBound - 1)...(domain.upperBound + 1) : domain
        self.range = range
    }

    public func callAsFunction(_ x: Double) -> Double {
        let t = (x - domain.lowerBound) / (domain.upperBound - domain.lowerBound)
        return range.0 + t * (range.1 - range.0)
    }

    /// The step 1, 2 or 5 × 10ᵏ giving about `count` intervals over the domain.
    public func tickStep(count: Int = 6) -> Double {
        let span = domain.upperBound - domain.lowerBound
        let raw = span / Double(max(count, 1))
        let power = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let mantissa = raw / power
        let nice: Double = mantissa < 1.5 ? 1 : mantissa < 3.5 ? 2 : mantissa < 7.5 ? 5 : 10
        return nice * power
    }

    /// Ticks at multiples of ``tickStep(count:)`` inside the domain.
    /// - Complexity: O(count).
    public func ticks(count: Int = 6) -> [Tick] {
        let step = tickStep(count: count)
        let decimals = max(0, -Int(Foundation.log10(step).rounded(.down)))
        var ticks: [Tick] = []
        var k = (domain.lowerBound / step).rounded(.up)
        while k * step <= domain.upperBound + step * 1e-9 {
            let v = k * step
            ticks.append(Tick(value: v, label: Self.label(v == 0 ? 0 : v, decimals: decimals)))
            k += 1
        }
        return ticks
    }

    static func label(_ v: Double, decimals: Int) -> String {
        if abs(v) >= 1e6 || (v != 0 && abs(v) < 1e-4) {
            return String(format: "%.1e", v)
        }
        let s = String(format: "%.\(decimals)f", v)
        return s == "-0" ? "0" : s
    }
}

/// A base-10 logarithmic map from a positive data interval to a pixel interval.
///
/// Ticks: every power of ten when the domain spans at least one decade (every second, third, …
/// when it spans many, so that at most about eight are labelled); 1, 2, 5 × 10ᵏ inside a
/// narrower domain.
public struct LogScale: Sendable {
    public var domain: ClosedRange<Double>
    public var range: (Double, Double)

    /// `domain` must be positive; a degenerate one is widened to a decade around its value.
    /// - Throws: ``PlotError/nonPositiveLogDomain(lowerBound:)``.
    public init(domain: ClosedRange<Double>, range: (Double, Double)) throws {
        guard domain.lowerBound > 0 else { throw PlotError.nonPositiveLogDomain(lowerBound: domain.lowerBound) }
        self.domain = domain.lowerBound == domain.upperBound
            ? (domain.lowerBound / Foundation.sqrt(10))...(domain.upperBound * Foundation.sqrt(10)) : domain
        self.range = range
    }

    /// The domain widened outwards to whole powers of ten.
    public static func decades(around domain: ClosedRange<Double>) -> ClosedRange<Double> {
        let lo = Foundation.pow(10, Foundation.log10(domain.lowerBound).rounded(.down))
        var hi = Foundation.pow(10, Foundation.log10(domain.upperBound).rounded(.up))
        if hi <= lo { hi = lo * 10 }
        return lo...hi
    }

    public func callAsFunction(_ x: Double) -> Double {
        let a = Foundation.log10(domain.lowerBound), b = Foundation.log10(domain.upperBound)
        let t = (Foundation.log10(x) - a) / (b - a)
        return range.0 + t * (range.1 - range.0)
    }

    /// The ticks inside the domain; at most about `maximumCount` when it spans many decades.
    public func ticks(maximumCount: Int = 8) -> [Tick] {
        let a = Foundation.log10(domain.lowerBound), b = Foundation.log10(domain.upperBound)
        let first = Int((a - 1e-9).rounded(.up)), last = Int((b + 1e-9).rounded(.down))
        if last - first >= 1 {
            let decades = last - first + 1
            let stride = max(1, (decades + maximumCount - 1) / maximumCount)
            var ticks: [Tick] = []
            // Align to multiples of the stride so 10⁰ is labelled when it is inside.
            var e = Int((Double(first) / Double(stride)).rounded(.up)) * stride
            while e <= last {
                ticks.append(Tick(value: Foundation.pow(10, Double(e)), label: "10", exponent: String(e)))
                e += stride
            }
            return ticks
        }
        // Less than two powers of ten inside: 1, 2, 5 × 10ᵏ.
        var ticks: [Tick] = []
        for e in (Int(a.rounded(.down)))...(Int(b.rounded(.up))) {
            for m in [1.0, 2, 5] {
                let v = m * Foundation.pow(10, Double(e))
                if v >= domain.lowerBound * (1 - 1e-12) && v <= domain.upperBound * (1 + 1e-12) {
                    ticks.append(Tick(value: v, label: Self.label(v)))
                }
            }
        }
        return ticks
    }

    static func label(_ v: Double) -> String {
        if v >= 1e5 || v < 1e-3 { return String(format: "%.0e", v) }
        var s = String(format: "%.3f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
