import Foundation
import DescentPlots
import DescentProblems

/// Tables and plots of the comparison.
enum ComparisonReport {
    struct Table {
        /// The title, the aligned table and the verdicts: what stdout shows.
        var text: String
        /// The title and the aligned table without the verdicts (the page lists those once, below it).
        var grid: String
        var markdown: String
        /// One-line verdicts: fewest steps to the tolerance, lowest final loss, failures.
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
        let title = "\(plan.identifier) — \(plan.title); \(steps) steps, \(gradient)"

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
        let grid = text.joined(separator: "\n")

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
        return Table(text: text.joined(separator: "\n"), grid: grid, markdown: md, winners: winners)
    }

    /// The index of an optimizer's style (hue and dash pattern) in ``Palette``: the same in
    /// every plot, distinct for all ten optimizers.
    static func styleIndex(_ name: OptimizerName) -> Int {
        OptimizerName.allCases.firstIndex(of: name) ?? 0
    }

    static func color(_ name: OptimizerName) -> String { Palette.color(styleIndex(name)) }

    static func dashPattern(_ name: OptimizerName) -> String { Palette.dashPattern(styleIndex(name)) }

    /// The files a section writes: loss against step, loss against wall time, and for 2-D
    /// problems the trajectories; named after ``ProblemPlan/identifier``, unique per section.
    static func fileNames(_ plan: ProblemPlan) -> (steps: String, time: String, paths: String) {
        ("\(plan.identifier)-loss.svg", "\(plan.identifier)-loss-time.svg", "\(plan.identifier)-paths.svg")
    }

    /// Writes `<identifier>-loss.svg` (loss against step), `<identifier>-loss-time.svg` (loss
    /// against the optimization's wall time, log scale: per-step costs differ by orders of
    /// magnitude between optimizers) and, for 2-D problems, `<identifier>-paths.svg`; returns
    /// the figures, each with its plot to inline.
    static func writePlots(plan: ProblemPlan, problem: Problem<Double>, outcomes: [Outcome], to dir: URL) throws -> [IndexPage.Figure] {
        var figures: [IndexPage.Figure] = []
        let id = plan.identifier
        let files = fileNames(plan)
        func label(_ o: Outcome) -> String { o.optimizer.rawValue + (o.diverged ? " (diverged)" : "") }
        let yLabel = plan.batchSize == nil ? "loss" : "full-data loss"

        let stepSeries = try outcomes.map { o in
            try LineSeries(name: label(o), x: o.lossSteps.map(Double.init), y: o.losses,
                           color: color(o.optimizer), dashPattern: dashPattern(o.optimizer))
        }
        let stepPlot = LinePlot(title: plan.title, xLabel: "step", yLabel: yLabel,
                                series: stepSeries, logY: plan.logY, yFloor: 1e-16, yRange: plan.yRange,
                                identifier: "\(id)-loss")
        let stepDocument = stepPlot.document()
        try write(stepDocument, to: dir.appendingPathComponent(files.steps))
        figures.append(IndexPage.Figure(file: files.steps, caption: "\(id): loss against step", inline: stepDocument))

        let timeSeries = try outcomes.map { o in
            try LineSeries(name: label(o), x: o.lossSeconds, y: o.losses,
                           color: color(o.optimizer), dashPattern: dashPattern(o.optimizer))
        }
        let timePlot = LinePlot(title: plan.title, xLabel: "wall time (s)", yLabel: yLabel,
                                series: timeSeries, logY: plan.logY, yFloor: 1e-16, yRange: plan.yRange,
                                logX: true, identifier: "\(id)-loss-time")
        let timeDocument = timePlot.document()
        try write(timeDocument, to: dir.appendingPathComponent(files.time))
        figures.append(IndexPage.Figure(file: files.time, caption: "\(id): loss against wall time", inline: timeDocument))

        if let surface = problem.surface, let domain = problem.domain {
            let grid = try Grid(x: domain.x, y: domain.y, columns: 161, rows: 161, surface)
            let levels: [Double]? = plan.name == .saddle ? stride(from: -2.0, through: 2.0, by: 0.25).map { $0 } : nil
            let trajectories = try outcomes.map { o in
                try Trajectory(name: o.optimizer.rawValue, x: o.path.map { $0[0] }, y: o.path.map { $0[1] },
                               color: color(o.optimizer), dashPattern: dashPattern(o.optimizer))
            }
            let contour = ContourPlot(title: plan.title, grid: grid, levels: levels, trajectories: trajectories,
                                      minima: problem.minimum.map { [$0] } ?? [],
                                      xLabel: plan.name == .quadratic ? "x̃" : "x", yLabel: plan.name == .quadratic ? "ỹ" : "y",
                                      identifier: "\(id)-paths")
            let pathsDocument = contour.document()
            try write(pathsDocument, to: dir.appendingPathComponent(files.paths))
            figures.append(IndexPage.Figure(file: files.paths, caption: "\(id): trajectories over contour lines", inline: pathsDocument))
        }
        return figures
    }

    static func write(_ svg: SVGDocument, to url: URL) throws {
        do { try svg.write(to: url) } catch {
            throw CLIError("\(Message.clip(url.path)): cannot write: \(error.localizedDescription)")
        }
    }
}
