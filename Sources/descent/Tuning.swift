import Foundation
import DescentProblems

/// `descent compare --tune`: the learning-rate grid search behind ``ComparisonPlan``.
///
/// For each problem and optimizer, every η of ``ComparisonPlan/grid(_:)`` is run for the
/// problem's number of steps (other hyperparameters at the library's defaults). The best η
/// reaches the tolerance in the fewest steps; when no η reaches it, the lowest final full-data
/// loss wins. Diverged runs never win.
enum Tuning {
    static func run(plans: [ProblemPlan], optimizers: [OptimizerName], steps: Int?, quiet: Bool) throws {
        let progress = ProgressBar(total: plans.count * optimizers.count, quiet: quiet)
        for plan in plans {
            let problem = try plan.settings.make(Double.self, seed: 0, start: nil)
            let steps = steps ?? plan.steps
            var lines = ["\(plan.identifier): \(steps) steps, tolerance loss ≤ \(plan.tolerance)"]
            var chosen: [String] = []
            for name in optimizers {
                if name == .natural && !suppliesCurvature(problem) {
                    progress.advance(label: "\(plan.identifier) · \(name.rawValue)")
                    continue
                }
                var results: [(lr: Double, outcome: Outcome)] = []
                for lr in ComparisonPlan.grid(name) {
                    progress.update(label: "\(plan.identifier) · \(name.rawValue) lr=\(lr)")
                    var settings = plan.settings(for: name)   // the problem's Fisher and damping for `natural`
                    settings.learningRate = lr
                    let outcome = try runComparison(plan, problem: problem, settings: settings, steps: steps)
                    results.append((lr, outcome))
                }
                progress.advance(label: "\(plan.identifier) · \(name.rawValue)")
                let best = results.filter { !$0.outcome.diverged }.min { a, b in
                    switch (a.outcome.stepsToTolerance, b.outcome.stepsToTolerance) {
                    case let (x?, y?): return x < y || (x == y && a.outcome.finalLoss < b.outcome.finalLoss)
                    case (_?, nil): return true
                    case (nil, _?): return false
                    case (nil, nil): return a.outcome.finalLoss < b.outcome.finalLoss
                    }
                }
                let cells = results.map { r in
                    "\(r.lr): " + (r.outcome.diverged ? "diverged" : ComparisonReport.format(r.outcome.finalLoss)
                        + (r.outcome.stepsToTolerance.map { "@\($0)" } ?? ""))
                }
                lines.append("  \(name.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) best \(best.map { "\($0.lr)" } ?? "none"): \(cells.joined(separator: "  "))")
                if let best { chosen.append(".\(name.rawValue): \(best.lr)") }
            }
            progress.finish()
            print(lines.joined(separator: "\n"))
            print("  plan: [\(chosen.joined(separator: ", "))]\n")
        }
    }
}
