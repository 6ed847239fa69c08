import ArgumentParser
import Foundation
import DescentPlots
import DescentProblems

/// `descent compare`: every optimizer on the problems of the lecture's comparison
/// (docs/lecture.md), a table per problem, loss curves against steps and against wall time,
/// trajectories over contour lines (2-D problems), and an index.html.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the optimizers on the problems of docs/lecture.md: tables, SVG plots and index.html.",
        discussion: """
            Problems: \(ComparisonPlan.problems.map(\.identifier).joined(separator: ", ")) (mlp-wide: the 64-256-256-10 perceptron).
            Optimizers: \(OptimizerName.allCases.map(\.rawValue).joined(separator: ", ")).
            Learning rates are tuned per problem (see --tune and docs/comparison/README.md); everything else \
            keeps the library's defaults. Data problems use minibatches of 64 (mlp-wide: 256; seed 0); their \
            curves show the full-data loss at every iterate, against steps and against wall time.
            """)

    @Option(help: "Comma-separated problems (default: all).")
    var problems: String?
    @Option(help: "Comma-separated optimizers (default: all).")
    var optimizers: String?
    @Option(help: "Output folder for the SVG plots, index.html and summary.md.")
    var out: String = "out/comparison"
    @Flag(help: "No progress bar.")
    var quiet = false
    @Option(parsing: .unconditional, help: "Override every problem's number of steps (quick runs).")
    var steps: Int?
    @Flag(help: "Instead of the comparison, run the learning-rate grid search and print the best rate per problem and optimizer.")
    var tune = false

    /// The output folder, created when missing; an empty name or a path that is not a folder
    /// is refused.
    static func outputFolder(_ out: String) throws -> URL {
        guard !out.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError("--out: the output folder name is empty (use --out . for the current folder)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CLIError("--out \(Message.clip(out)): is not a directory")
        }
        let url = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw CLIError("--out \(Message.clip(out)): cannot create the output folder: \(errnoReason(error))")
        }
        return url
    }

    /// The POSIX reason of a Foundation file error when it has one, else its description.
    static func errnoReason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.localizedDescription
    }

    /// The sections `--problems` names (by ``ProblemPlan/identifier``), in the order given,
    /// without repeats; an unknown name throws listing the valid ones.
    func selectedPlans() throws -> [ProblemPlan] {
        guard let problems else { return ComparisonPlan.problems }
        let valid = ComparisonPlan.problems.map(\.identifier).joined(separator: ", ")
        var plans: [ProblemPlan] = []
        for item in problems.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !item.isEmpty {
            guard let plan = ComparisonPlan.problems.first(where: { $0.identifier == item }) else {
                let what = ProblemName(rawValue: item) != nil ? "'\(item)' is not part of the comparison" : "unknown name '\(Message.clip(item))'"
                throw CLIError("--problems: \(what); valid names: \(valid)")
            }
            if !plans.contains(where: { $0.identifier == plan.identifier }) { plans.append(plan) }
        }
        guard !plans.isEmpty else { throw CLIError("--problems: no names given") }
        return plans
    }

    func selectedOptimizers() throws -> [OptimizerName] {
        guard let optimizers else { return OptimizerName.allCases }
        return try ListParser.names(optimizers, option: "--optimizers", as: OptimizerName.self)
    }

    func run() throws {
        if let steps, steps < 1 { throw CLIError("--steps: \(steps) must be ≥ 1") }
        let plans = try selectedPlans()
        let names = try selectedOptimizers()
        if tune { return try Tuning.run(plans: plans, optimizers: names, steps: steps, quiet: quiet) }

        let outURL = try Self.outputFolder(out)
        let progress = ProgressBar(total: plans.count * names.count, quiet: quiet)
        var sections: [IndexPage.Section] = []
        var markdown: [String] = []
        let started = DispatchTime.now().uptimeNanoseconds

        for plan in plans {
            if plan.settings.data == "fashion-mnist", !FashionMNIST.isInstalled() {
                let note = "\(plan.identifier): left out — Debian's dataset-fashion-mnist is not installed (scripts/install-deps installs it)."
                print(note + "\n")
                markdown.append("- \(note)\n")
                for _ in names { progress.advance(label: plan.identifier) }
                continue
            }
            let problem = try plan.settings.make(Double.self, seed: 0, start: nil)
            let steps = self.steps ?? plan.steps
            let curvature = suppliesCurvature(problem)
            var outcomes: [Outcome] = []
            var notes: [String] = []
            for name in names {
                let label = "\(plan.identifier) · \(name.rawValue)"
                if let reason = plan.leftOut[name] {
                    notes.append("\(name.rawValue): left out — \(reason).")
                    progress.advance(label: label)
                    continue
                }
                if name == .natural && !curvature {
                    notes.append("natural: left out — the \(plan.identifier) problem supplies no curvature (Fisher or metric).")
                    progress.advance(label: label)
                    continue
                }
                if name == .kfac && !suppliesKroneckerFactors(problem) {
                    notes.append("kfac: left out — the \(plan.identifier) problem is not a network of fully connected layers (no Kronecker factors).")
                    progress.advance(label: label)
                    continue
                }
                progress.update(label: label)
                let outcome = try runComparison(plan, problem: problem, settings: plan.settings(for: name), steps: steps) {
                    progress.update(fraction: $0, label: label)
                }
                outcomes.append(outcome)
                progress.advance(label: label)
            }
            let table = ComparisonReport.table(plan: plan, steps: steps, outcomes: outcomes)
            progress.finish()
            print(table.text)
            for note in notes { print(note) }
            print("")
            let figures = try ComparisonReport.writePlots(plan: plan, problem: problem, outcomes: outcomes, to: outURL)
            sections.append(IndexPage.Section(heading: plan.title, table: table.grid, notes: table.winners + notes, figures: figures))
            markdown.append(table.markdown + (notes.isEmpty ? "" : "\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n"))
        }
        progress.finish()

        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        let page = IndexPage(title: "Descent: optimizer comparison", introduction: [
            "Every optimizer on the problems of the lecture's comparison (docs/lecture.md in the repository), Double precision, seed 0. Learning rates tuned per problem by a grid search (descent compare --tune); all other hyperparameters are the library's defaults (PyTorch's).",
            "Loss curves show the full-data loss at every iterate on a log scale (linear for the saddle, which is unbounded below), against steps (left) and against the wall time of the optimization (right, log scale: a step of the natural gradient or K-FAC costs many first-order steps). Contour plots: ○ start, ● end, ★ minimum. Click a legend entry to hide or show its curve.",
            "Generated by `descent compare` in \(String(format: "%.1f", seconds)) s.",
        ], sections: sections)
        do {
            try page.write(to: outURL.appendingPathComponent("index.html"))
            try AtomicFile.write("# Optimizer comparison (generated by `descent compare`)\n\n" + markdown.joined(separator: "\n"),
                                 to: outURL.appendingPathComponent("summary.md"))
        } catch let error as AtomicFileError {
            throw CLIError("--out: cannot write: \(error.description)")
        }
        print("wrote \(outURL.appendingPathComponent("index.html").path) (\(String(format: "%.1f", seconds)) s)")
    }
}
