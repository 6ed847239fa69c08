import Foundation
import Testing
@testable import DescentProblems
import DescentTestSupport

/// Central finite differences of `f` at θ (Double), step h·max(1, |θⱼ|).
func finiteDifferenceGradient(_ θ: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    (0..<θ.count).map { j in
        let step = h * max(1, abs(θ[j]))
        var p = θ, m = θ
        p[j] += step
        m[j] -= step
        return (f(p) - f(m)) / (2 * step)
    }
}

/// max |a − b| / max(1, max |b|): the mixed measure of `DescentTestSupport.relativeError`.
func relativeError<S: BinaryFloatingPoint>(_ a: [S], _ b: [S]) -> Double {
    DescentTestSupport.relativeError(a, b, floor: 1)
}

func relativeError<S: BinaryFloatingPoint>(_ a: S, _ b: S) -> Double {
    DescentTestSupport.relativeError(a, b, floor: 1)
}

/// A fixture file in Tests/Fixtures.
func fixture(_ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try #require(object as? [String: Any])
}

func doubles(_ any: Any?) throws -> [Double] { try #require(any as? [Double]) }
func matrixRows(_ any: Any?) throws -> [[Double]] { try #require(any as? [[Double]]) }

/// A small random data set (seeded) in Double: m × d normals; targets by `label`.
func randomData(m: Int, d: Int, seed: UInt64, label: (inout SplitMix64, Int) -> Double) -> Dataset<Double> {
    var rng = SplitMix64(seed: seed)
    let x = (0..<(m * d)).map { _ in rng.nextNormal() }
    let y = (0..<m).map { label(&rng, $0) }
    return try! Dataset(features: try! Matrix(rows: m, columns: d, elements: x), targets: y)
}

func randomVector(_ n: Int, seed: UInt64, scale: Double = 0.5) -> [Double] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in scale * rng.nextNormal() }
}

