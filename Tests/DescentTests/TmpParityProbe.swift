import Descent
import Foundation
import Testing

@Suite struct TmpParityProbe {
    @Test func probe() throws {
        for c in GoldenTrajectoryTests.fixture.cases {
            let ours = try GoldenTrajectoryTests.run(c, as: Double.self)
            var maxUlp: UInt64 = 0
            var firstBad = -1
            for (t, (x, r)) in zip(ours, c.trajectory).enumerated() {
                for (a, b) in zip(x, r) {
                    let d = a.bitPattern > b.bitPattern ? a.bitPattern - b.bitPattern : b.bitPattern - a.bitPattern
                    if d > 0 && firstBad < 0 { firstBad = t }
                    maxUlp = max(maxUlp, d)
                }
            }
            print("PROBE D \(c.name) maxUlp=\(maxUlp) firstBad=\(firstBad)")
        }
        for c in GoldenTrajectoryTests.fixture.floatCases {
            let ours = try GoldenTrajectoryTests.run(c, as: Float.self)
            var maxUlp: UInt32 = 0
            var firstBad = -1
            var worstRatio = 0.0
            for (t, (x, r)) in zip(ours, c.trajectory).enumerated() {
                for (a, b0) in zip(x, r) {
                    let b = Float(b0)
                    let d = a.bitPattern > b.bitPattern ? a.bitPattern - b.bitPattern : b.bitPattern - a.bitPattern
                    if d > 0 && firstBad < 0 { firstBad = t }
                    maxUlp = max(maxUlp, d)
                    if t > 0 { worstRatio = max(worstRatio, Double(d) / Double(t)) }
                }
            }
            print("PROBE F \(c.name) maxUlp=\(maxUlp) firstBad=\(firstBad) ulpPerStep=\(worstRatio)")
        }
    }
}
