import Foundation
import Testing

/// The `--trace` CSV of a run with a validation set carries `validation_loss` and
/// `validation_accuracy` after the loss: filled on the evaluated steps (every
/// `--validate-every` steps and the last), empty on the others; without a validation set the
/// header is the plain `step,loss,theta…`.
@Suite("descent run --trace: validation columns")
struct TraceValidationTests {
    @Test func validationColumnsFollowTheLoss() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try descent(["run", "--problem", "logistic", "--optimizer", "adam", "--lr", "0.05", "--steps", "7",
                             "--validation-split", "0.2", "--validate-every", "3", "--trace", "v.csv"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOf: dir.appendingPathComponent("v.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(header.prefix(5)) == ["step", "loss", "validation_loss", "validation_accuracy", "theta0"])
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == 8 && rows.allSatisfy { $0.count == header.count })
        for row in rows {
            let step = try #require(Int(row[0]))
            let evaluated = step % 3 == 0 || step == 7
            #expect((Double(row[2]) != nil) == evaluated, "step \(step): \(row[2])")
            #expect((Double(row[3]) != nil) == evaluated, "step \(step): \(row[3])")
        }
        // The last row's validation loss is the summary's.
        let last = try #require(rows.last)
        #expect(r.stdout.contains("validation: loss \(last[2]), accuracy"), "\(r.stdout)")
        // Without a validation set: the plain header.
        let plain = try descent(["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "2", "--trace", "p.csv"], in: dir)
        #expect(plain.status == 0)
        let plainHeader = try String(contentsOf: dir.appendingPathComponent("p.csv"), encoding: .utf8).split(separator: "\n")[0]
        #expect(plainHeader.hasPrefix("step,loss,theta0,"))
    }
}
