import Foundation
import DescentPlots
import DescentProblems

/// Tables and plots of the comparison.
enum ComparisonReport {
    struct Table {
        var text: String
        var markdown: String
        /// One-line verdicts: fewest steps to the tolerance, lowest final loss, fastest.
        var winners: [String]
    }

    static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        return String(format: "%.4e", x)
    }

    static func describeTolerance(_ plan: ProblemPlan) -> String { "loss ≤ \(ComparisonReport.short(plan.tolerance))" }

    static func short(_ x: Double) -> String {
        abs(x) < 1e-3 && x != 0 ? String(format: "%.0e", x) : "\(x)"
    }

    static func table(plan: ProblemPlan, steps: Int, outcomes: [Outcome]) -> Table {
        let header = ["optimizer", "lr", "final loss", "steps to \(describeTolerance(plan))", "time (ms)", "stop"]
            + (outcomes.contains { $0.accuracy != nil } ? ["accuracy"] : [])
        var rows: [[String]] = []
        for o in outcomes {
            var row = [
                o.optimizer.rawValue,
                o.settings.learningRate.map { "\($0)" } ?? "default",
                format(o.finalLoss),
                o.stepsToTolerance.map(String.init) ?? "—",
                String(format: "%.1f", o.seconds * 1000),
                o.failure != nil ? "error" : o.stopReason,
            ]
            if header.count > 6 { row.append(o.accuracy.map { String(format: "%.4f", $0) } ?? "—") }
            rows.append(row)
        }
        let gradient = plan.batchSize.map { "minibatches of \($0)" } ?? "full-data gradients"
        let title = "\(plan.name.rawValue) — \(plan.title); \(steps) steps, \(gradient)"

        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
        var text = [title, line(header), line(widths.map { String(repeating: "-", count: $0) })]
        text += rows.map(line)

        var winners: [String] = []
        let finite = outcomes.filter { !$0.diverged }
        if let best = outcomes.filter({ $0.stepsToTolerance != nil }).min(by: { $0.stepsToTolerance! < $1.stepsToTolerance! }) {
            winners.append("fewest steps to \(describeTolerance(plan)): \(best.optimizer.rawValue) (\(best.stepsToTolerance!))")
        } else {
            winners.append("no optimizer reached \(describeTolerance(plan)) in \(steps) steps")
        }
        if let best = finite.min(by: { $0.finalLoss < $1.finalLoss }) {
            winners.append("lowest final loss: \(best.optimizer.rawValue) (\(format(best.finalLoss)))")
        }
        let diverged = outcomes.filter(\.diverged).map(\.optimizer.rawValue)
        if !diverged.isEmpty { winners.append("diverged or failed: \(diverged.joined(separator: ", "))") }
        for o in outcomes { if let f = o.failure { winners.append("\(o.optimizer.rawValue): \(f)") } }
        text += winners

        var md = "### \(plan.title)\n\n\(steps) steps, \(gradient), seed 0.\n\n"
        md += "| " + header.joined(separator: " | ") + " |\n"
        md += "|" + header.enumerated().map { i, _ in i == 0 ? "---" : "---:" }.joined(separator: "|") + "|\n"
        for row in rows { md += "| " + row.joined(separator: " | ") + " |\n" }
        md += "\n" + winners.map { "- \($0)" }.joined(separator: "\n") + "\n"
        return Table(text: text.joined(separator: "\n"), markdown: md, winners: winners)
    }

    /// The color of an optimizer, the same in every plot.
    static func color(_ name: OptimizerName) -> String {
        Palette.color(OptimizerName.allCases.firstIndex(of: name) ?? 0)
    }

    /// Writes `<problem>-loss.svg` and, for 2-D problems, `<problem>-paths.svg`; returns the figures.
    static func writePlots(plan: ProblemPlan, problem: Problem<Double>, outcomes: [Outcome], to dir: URL) throws -> [IndexPage.Figure] {
        var figures: [IndexPage.Figure] = []
        let name = plan.name.rawValue
        let series = try outcomes.map { o in
            try LineSeries(name: o.optimizer.rawValue + (o.diverged ? " (diverged)" : ""), x: o.lossSteps.map(Double.init), y: o.losses,
                       color: color(o.optimizer))
        }
        let lossPlot = LinePlot(title: plan.title, xLabel: "step", yLabel: plan.batchSize == nil ? "loss" : "full-data loss",
                                series: series, logY: plan.logY, yFloor: 1e-16, yRange: plan.yRange)
        let lossFile = "\(name)-loss.svg"
        try write(lossPlot.document(), to: dir.appendingPathComponent(lossFile))
        figures.append(IndexPage.Figure(file: lossFile, caption: "\(name): loss against step"))

        if let surface = problem.surface, let domain = problem.domain {
            let grid = try Grid(x: domain.x, y: domain.y, columns: 161, rows: 161, surface)
            let levels: [Double]? = plan.name == .saddle ? stride(from: -2.0, through: 2.0, by: 0.25).map { $0 } : nil
            let trajectories = try outcomes.map { o in
                try Trajectory(name: o.optimizer.rawValue, x: o.path.map { $0[0] }, y: o.path.map { $0[1] }, color: color(o.optimizer))
            }
            let contour = ContourPlot(title: plan.title, grid: grid, levels: levels, trajectories: trajectories,
                                      minima: problem.minimum.map { [$0] } ?? [],
                                      xLabel: plan.name == .quadratic ? "x̃" : "x", yLabel: plan.name == .quadratic ? "ỹ" : "y")
            let pathFile = "\(name)-paths.svg"
            try write(contour.document(), to: dir.appendingPathComponent(pathFile))
            figures.append(IndexPage.Figure(file: pathFile, caption: "\(name): trajectories over contour lines"))
        }
        return figures
    }

    static func write(_ svg: SVGDocument, to url: URL) throws {
        do { try svg.write(to: url) } catch {
            throw CLIError("\(Message.clip(url.path)): cannot write: \(error.localizedDescription)")
        }
    }
}
