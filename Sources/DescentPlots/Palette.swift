/// Styles for series: ten hues that stay distinct under the common forms of colour blindness,
/// each paired with its own dash pattern, so that ten series remain distinguishable by line
/// style alone (in grey print, or for a reader who cannot tell two of the hues apart).
///
/// The hues are Okabe & Ito's colour-blind-safe set without its yellow (too light on white),
/// extended with Paul Tol's wine and olive and a mid grey. Series 8 (black) is the only solid
/// line.
public enum Palette {
    public static let categorical = [
        "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
        "#999933", "#d55e00", "#882255", "#000000", "#777777",
    ]

    /// SVG `stroke-dasharray` values, one per hue; "" is a solid line.
    public static let dashPatterns = [
        "8 4", "3 3", "8 3 2 3", "2 3", "12 3 3 3",
        "5 2", "14 4", "8 3 2 3 2 3", "", "2 2 6 2",
    ]

    /// The `i`-th categorical color, cycling.
    public static func color(_ i: Int) -> String {
        categorical[cycled(i, categorical.count)]
    }

    /// The `i`-th dash pattern, cycling ("" for a solid line).
    public static func dashPattern(_ i: Int) -> String {
        dashPatterns[cycled(i, dashPatterns.count)]
    }

    static func cycled(_ i: Int, _ count: Int) -> Int { ((i % count) + count) % count }

    /// A sequential ramp (viridis' end points and middle) at `t` ∈ [0, 1], as `#rrggbb`.
    public static func sequential(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [
            (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
        ]
        let x = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func hex(_ v: Double) -> String {
            let n = Int((v).rounded())
            let digits = Array("0123456789abcdef")
            return String(digits[n / 16]) + String(digits[n % 16])
        }
        return "#" + hex(a.0 + f * (b.0 - a.0)) + hex(a.1 + f * (b.1 - a.1)) + hex(a.2 + f * (b.2 - a.2))
    }
}
