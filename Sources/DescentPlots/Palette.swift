/// Colors for series: Tableau's ten categorical colors (matplotlib's default cycle), so
/// that plots look familiar to users of matplotlib.
public enum Palette {
    public static let categorical = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// The `i`-th categorical color, cycling.
    public static func color(_ i: Int) -> String {
        categorical[((i % categorical.count) + categorical.count) % categorical.count]
    }

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
