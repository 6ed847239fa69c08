import Foundation
import Descent
import DescentProblems

/// The `--trace` CSV: header `step,loss,theta0,theta1,…`, row 0 at the start point, then one row
/// per step. Numbers are Swift's `description` of the scalar (shortest round-tripping digits),
/// so `Double(text)` / `Float(text)` reads back the exact bits.
///
/// When the run evaluates a validation set (`--validation-split`), two columns follow the loss:
/// `step,loss,validation_loss,validation_accuracy,theta0,…`, filled on the steps the validation
/// set was evaluated and empty on the others (the accuracy is also empty for a model that is
/// not a classifier). Runs without a validation set keep the plain header.
enum Trace {
    static func csv<S: BLASScalar>(_ history: [TrainingRecord<S>], dimension: Int) -> String {
        let validated = history.contains { $0.validationLoss != nil || $0.validationAccuracy != nil }
        var out = "step,loss" + (validated ? ",validation_loss,validation_accuracy" : "")
            + (0..<dimension).map { ",theta\($0)" }.joined() + "\n"
        out.reserveCapacity(history.count * (dimension + 4) * 12)
        for record in history {
            out += String(record.step)
            out += ","
            out += record.loss.description
            if validated {
                out += ","
                if let v = record.validationLoss { out += v.description }
                out += ","
                if let a = record.validationAccuracy { out += a.description }
            }
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
