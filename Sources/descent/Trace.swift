import Foundation
import Descent
import DescentProblems

/// The `--trace` CSV: header `step,loss,theta0,theta1,…`, row 0 at the start point, then one row
/// per step. Numbers are Swift's `description` of the scalar (shortest round-tripping digits),
/// so `Double(text)` / `Float(text)` reads back the exact bits.
enum Trace {
    static func csv<S: BLASScalar>(_ history: [TrainingRecord<S>], dimension: Int) -> String {
        var out = "step,loss" + (0..<dimension).map { ",theta\($0)" }.joined() + "\n"
        out.reserveCapacity(history.count * (dimension + 2) * 12)
        for record in history {
            out += String(record.step)
            out += ","
            out += record.loss.description
            for v in record.parameters {
                out += ","
                out += v.description
            }
            out += "\n"
        }
        return out
    }

    /// Writes the CSV atomically (temporary name, then rename).
    static func write<S: BLASScalar>(_ history: [TrainingRecord<S>], dimension: Int, to path: String) throws {
        do {
            try AtomicFile.write(csv(history, dimension: dimension), to: URL(fileURLWithPath: path))
        } catch let error as AtomicFileError {
            throw CLIError("--trace \(error.description)")
        }
    }
}
