import ArgumentParser
import Foundation
import DescentProblems

/// `descent run`: one optimizer on one problem, a summary on stdout and optionally a trace.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Minimize one problem with one optimizer.",
        discussion: """
            Problems: \(ProblemName.allCases.map(\.rawValue).joined(separator: ", ")).
            Optimizers: \(OptimizerName.allCases.map(\.rawValue).joined(separator: ", ")).
            Unset hyperparameters keep the library's defaults (PyTorch's), e.g. --optimizer adadelta uses η = 1.
            Data problems (linear, logistic, softmax, mlp) use synthetic data unless --data names a CSV file
            or a bundled set (breast-cancer, digits).
            --trace FILE writes CSV `step,loss,theta0,…`: row 0 at the start, one row per step, numbers that
            read back bit-exactly. With --validation-split the columns validation_loss,validation_accuracy follow
            the loss (empty on steps without an evaluation).
            --group NAME:key=value[,key=value] (repeatable) overrides hyperparameters for a part of the parameters,
            e.g. --optimizer adamw --weight-decay 0.1 --group biases:weight-decay=0.
            Further optimizer options (--name VALUE or --name=VALUE):
            \(RegistryOptions.help(excluding: OptimizerOptions.declared))
            """)

    @Option(help: "The problem: \(ProblemName.allCases.map(\.rawValue).joined(separator: "|")).")
    var problem: ProblemName
    @Option(help: "The optimizer: \(OptimizerName.allCases.map(\.rawValue).joined(separator: "|")).")
    var optimizer: OptimizerName
    @OptionGroup(title: "Optimizer options") var optimizerOptions: OptimizerOptions
    @OptionGroup(title: "Training options") var training: TrainingArguments
    @OptionGroup(title: "Problem options") var problemOptions: ProblemOptions
    @OptionGroup(title: "Saving, resuming and validation") var session: SessionOptions
    @Option(parsing: .unconditional, help: "Starting point, comma-separated (default: the problem's standard start).")
    var start: String?
    @Option(help: "Arithmetic precision: float|double.")
    var precision: Precision = .double
    @Option(help: "Write the trajectory as CSV to this file.")
    var trace: String?
    @Flag(help: "No progress line on standard error (by default: redrawn on a terminal, one line every 10 s otherwise).")
    var quiet = false
    @Option(name: .customLong("progress-interval"), parsing: .unconditional,
            help: "Seconds between progress lines when standard error is not a terminal (default 10).")
    var progressInterval: Double = 10
    @Option(help: "Write a loss-only CSV to this file: step,loss,seconds,learning_rate[,validation_loss,validation_accuracy], one row per step.")
    var log: String?
    @OptionGroup(title: "Distributed options (mpirun -np P descent run --distributed …)") var distributed: DistributedArguments

    enum Precision: String, CaseIterable, ExpressibleByArgument { case float, double }

    func run() throws {
        switch precision {
        case .double: try execute(Double.self)
        case .float: try execute(Float.self)
        }
    }

    func validate() throws {
        guard progressInterval >= 0, progressInterval.isFinite else {
            throw CLIError("--progress-interval: \(progressInterval) must be a finite number of seconds ≥ 0")
        }
    }

    func execute<S: BLASScalar>(_: S.Type) throws {
        if distributed.shardState, !optimizerOptions.group.isEmpty {
            throw CLIError("--group cannot be combined with --shard-state (each rank steps a shard of θ, not the groups); drop --shard-state")
        }
        if session.isActive(schedule: training.schedule) { return try executeSession(S.self) }
        let startValues = try start.map { try ListParser.numbers($0, option: "--start") }
        let problem = try problemOptions.settings(self.problem).make(S.self, seed: training.seed, start: startValues)
        try MemoryBudget.requireRun(S.self, dimension: problem.objective.dimension, steps: training.steps, trace: trace)
        let optimizer: any Optimizer<S>
        do {
            optimizer = try optimizerOptions.settings(self.optimizer).make(S.self, layout: problem.objective.parameterLayout)
        } catch let error as OptimizerError {
            throw CLIError("\(self.optimizer.rawValue): \(error)")
        }
        var options = try training.options(S.self, learningRate: optimizer.learningRate, recordParameters: trace != nil)
        if let fisher = optimizerOptions.fisher { options.fisher = fisher }
        if let b = training.batchSize, problem.objective.sampleCount == 0 {
            throw CLIError("--batch-size \(b): the \(self.problem.rawValue) problem has no data samples")
        }
        let monitor = try RunMonitor<S>(totalSteps: training.steps, quiet: quiet, logPath: distributed.isPrimary ? log : nil, validating: false,
                                       pipeInterval: progressInterval)
        let observe: (TrainingRecord<S>) -> TrainingControl = { monitor.observe($0); return .continue }
        let ((result, trained), seconds) = try timed { () throws -> (TrainingResult<S>, any Optimizer<S>) in
            do {
                if distributed.distributed {
                    return (try distributed.train(problem.objective, from: problem.start, optimizer: optimizer, options: options,
                                                  callback: observe), optimizer)
                }
                return try trainKeepingOptimizer(problem.objective, from: problem.start, optimizer: optimizer, options: options,
                                                 callback: observe)
            } catch let error as TrainingError {
                monitor.abandon()
                throw CLIError("\(error)")
            } catch {
                monitor.abandon()
                throw error
            }
        }
        try monitor.finish(paused: result.stopReason == .paused)
        if let trace, distributed.isPrimary {
            try Trace.write(result.history, dimension: problem.objective.dimension, to: trace)
        }
        let summary = try optimizerOptions.settings(self.optimizer).summary
        var lines = [
            "problem:    \(self.problem.rawValue) (\(problem.objective.dimension) parameters\(problem.objective.sampleCount > 0 ? ", \(problem.objective.sampleCount) samples" : ""))",
            "optimizer:  \(self.optimizer.rawValue) (\(summary)), \(precision.rawValue)",
            "steps:      \(result.steps) (stopped: \(result.stopReason.rawValue))",
            "final loss: \(result.finalLoss)",
        ]
        if let line = naturalSolverLine(trained) { lines.append(line) }
        if let accuracy = result.parameters.withUnsafeBufferPointer({ problem.objective.accuracy(at: $0) }) {
            lines.append("accuracy:   \(String(format: "%.4f", accuracy))")
        }
        if problem.objective.dimension <= 4 {
            lines.append("θ:          \(result.parameters.map(\.description).joined(separator: ", "))")
        }
        lines.append("time:       \(String(format: "%.3f", seconds)) s")
        if let trace { lines.append("trace:      \(trace) (\(result.history.count) rows)") }
        if let log { lines.append("log:        \(log)") }
        lines.append(contentsOf: distributed.summaryLines)
        if distributed.isPrimary { print(lines.joined(separator: "\n")) }
    }
}
