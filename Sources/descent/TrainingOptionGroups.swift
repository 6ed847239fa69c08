import ArgumentParser
import Foundation
import DescentProblems

/// `descent run` options for saving and resuming training, validation, plateaus, early stopping
/// and the N-dimensional quadratic. Any of them routes the run through ``Run/executeSession(_:)``.
struct SessionOptions: ParsableArguments {
    @Option(help: "Write the training state to this file (atomically) at the end of the run and every --checkpoint-every steps.")
    var checkpoint: String?
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "With --checkpoint: also write it every N steps.")
    var checkpointEvery: Int?
    @Option(name: .customLong("checkpoint-format"), help: "Checkpoint encoding: binary (default) or json.")
    var checkpointFormat: CheckpointFormat?
    @Option(name: .customLong("stop-after"), parsing: .unconditional, help: "Stop after K steps of this invocation (and write --checkpoint).")
    var stopAfter: Int?
    @Option(help: """
        Continue from a checkpoint written by --checkpoint: the problem, data, optimizer and training options come from it; \
        --steps may raise the total; any other option must agree with it; --trace writes the rows after its step.
        """)
    var resume: String?
    @Option(name: .customLong("validation-split"), parsing: .unconditional, help: "Hold out this fraction of the data (seeded by --seed) for validation; --standardize then fits on the training part only.")
    var validationSplit: Double?
    @Option(name: .customLong("validate-every"), parsing: .unconditional, help: "Evaluate the validation loss every K steps (default 1).")
    var validateEvery: Int?
    @Option(parsing: .unconditional, help: "Early stopping: stop after P evaluations without improvement of the validation loss (the training loss without --validation-split) and restore the best θ.")
    var patience: Int?
    @Option(parsing: .unconditional, help: "Quadratic: N dimensions, curvatures geometric from a² to b² (N = 2 is the default problem).")
    var dimension: Int?

    /// The options stored in a checkpoint's arguments are replayed on --resume; these are not.
    static let perInvocation: Set<String> = ["--checkpoint", "--checkpoint-every", "--checkpoint-format", "--stop-after", "--resume", "--trace", "--steps",
                                             "--log", "--quiet", "--progress-interval"]

    func isActive(schedule: String?) -> Bool {
        checkpoint != nil || checkpointEvery != nil || stopAfter != nil || resume != nil || validationSplit != nil
            || validateEvery != nil || patience != nil || dimension != nil || (schedule?.lowercased().contains("plateau") ?? false)
    }

    func validate() throws {
        if let n = checkpointEvery, n < 1 { throw CLIError("--checkpoint-every: \(n) must be ≥ 1") }
        if checkpointEvery != nil, checkpoint == nil { throw CLIError("--checkpoint-every needs --checkpoint FILE") }
        if let k = stopAfter, k < 0 { throw CLIError("--stop-after: \(k) must be ≥ 0") }
        if let f = validationSplit, !(f > 0 && f < 1) { throw CLIError("--validation-split: \(f) must be in (0, 1)") }
        if let k = validateEvery, k < 1 { throw CLIError("--validate-every: \(k) must be ≥ 1") }
        if validateEvery != nil, validationSplit == nil { throw CLIError("--validate-every needs --validation-split") }
        if let p = patience, p < 1 { throw CLIError("--patience: \(p) must be ≥ 1") }
        if let n = dimension, n < 1 { throw CLIError("--dimension: \(n) must be ≥ 1") }
    }
}

extension CheckpointFormat: ExpressibleByArgument {}

/// `--schedule plateau:FACTOR:PATIENCE` → ``ReduceLROnPlateau`` (PyTorch's other defaults).
enum PlateauParser {
    static func parse<S: BLASScalar>(_ text: String) throws -> ReduceLROnPlateau<S> {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard fields.count <= 3, fields[0].lowercased() == "plateau" else {
            throw CLIError("--schedule '\(Message.clip(text))': expected plateau[:FACTOR[:PATIENCE]]")
        }
        var factor = 0.1, patience = 10
        if fields.count > 1 {
            guard let f = Double(fields[1]), f > 0, f < 1 else { throw CLIError("--schedule '\(Message.clip(text))': FACTOR '\(Message.clip(fields[1]))' must be a number in (0, 1)") }
            factor = f
        }
        if fields.count > 2 {
            guard let p = Int(fields[2]), p >= 0 else { throw CLIError("--schedule '\(Message.clip(text))': PATIENCE '\(Message.clip(fields[2]))' must be an integer ≥ 0") }
            patience = p
        }
        do { return try ReduceLROnPlateau<S>(factor: S(factor), patience: patience) } catch { throw CLIError("--schedule '\(Message.clip(text))': \(error)") }
    }
}

/// `--resume FILE`: the run's arguments are those stored in the checkpoint, plus the
/// per-invocation options typed now; any other option typed now must repeat the stored value.
enum ResumeArguments {
    static let separator = "\u{1F}"

    /// Splits arguments into (option, values) groups: `--name v`, `--name=v`, `--flag`.
    static func groups(_ args: [String]) -> [(String, [String])] {
        var result: [(String, [String])] = []
        for token in args {
            if token.hasPrefix("--") {
                if let eq = token.firstIndex(of: "=") {
                    result.append((String(token[..<eq]), [String(token[token.index(after: eq)...])]))
                } else {
                    result.append((token, []))
                }
            } else if !result.isEmpty {
                result[result.count - 1].1.append(token)
            } else {
                result.append(("", [token]))
            }
        }
        return result
    }

    static func flatten(_ groups: [(String, [String])]) -> [String] { groups.flatMap { [$0.0] + $0.1 }.filter { !$0.isEmpty } }

    /// The arguments to store in a checkpoint: the run's own minus the per-invocation options.
    static func storable(_ runArguments: [String]) -> String {
        flatten(groups(runArguments).filter { !SessionOptions.perInvocation.contains($0.0) || $0.0 == "--steps" }).joined(separator: separator)
    }

    /// `descent run … --resume FILE …` → the stored arguments merged with the typed ones.
    static func expand(_ args: [String]) throws -> [String] {
        guard args.first == "run" else { return args }
        let typed = groups(Array(args.dropFirst()))
        guard let resume = typed.first(where: { $0.0 == "--resume" }) else { return args }
        guard let path = resume.1.first, resume.1.count == 1 else { throw CLIError("--resume needs one FILE") }
        let summary: TrainingStateSummary = try DistributedLaunch.agreeing("--resume \(Message.clip(path))") {
            do {
                return try TrainingStateSummary(contentsOf: URL(fileURLWithPath: path))
            } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
                throw CLIError("--resume \(Message.clip(path)): no such file")
            } catch let error as AtomicFileError where !FileManager.default.fileExists(atPath: path) {
                throw CLIError("--resume \(Message.clip(path)): no such file (\(error.reason))")
            } catch {
                throw CLIError("--resume \(Message.clip(path)): \(Message.reason(error))")
            }
        }
        let kind = summary.optimizerKind.hasPrefix("distributed-") ? String(summary.optimizerKind.dropFirst("distributed-".count)) : summary.optimizerKind
        guard !OptimizerRegistry.names(checkpointKind: kind).isEmpty else {
            throw CLIError("--resume \(path): the checkpoint holds a \(summary.optimizerKind) optimizer, which this version does not know (known: \(OptimizerRegistry.names.joined(separator: ", ")))")
        }
        guard let stored = summary.metadata["arguments"] else {
            throw CLIError("--resume \(Message.clip(path)): the checkpoint holds no command-line arguments (it was not written by descent run)")
        }
        let storedGroups = groups(stored.isEmpty ? [] : stored.components(separatedBy: separator))
        for (name, values) in typed where !SessionOptions.perInvocation.contains(name) {
            let match = storedGroups.first { $0.0 == name && $0.1 == values } ?? storedGroups.first { $0.0 == name }
            guard let match, match.1 == values else {
                let given = ([name] + values).joined(separator: " ")
                let saved = match.map { ([$0.0] + $0.1).joined(separator: " ") } ?? "not set"
                throw CLIError("--resume \(Message.clip(path)): \(Message.clip(given)) contradicts the checkpoint (\(Message.clip(saved))); drop it to continue the saved run")
            }
        }
        let typedSteps = typed.contains { $0.0 == "--steps" }
        let kept = storedGroups.filter { !(typedSteps && $0.0 == "--steps") }
        let extra = typed.filter { SessionOptions.perInvocation.contains($0.0) }
        return ["run"] + flatten(kept + extra)
    }
}

extension Run {
    /// A run with any of the session options: validation split, plateau, early stopping,
    /// checkpoints, pause and resume, the N-dimensional quadratic.
    func executeSession<S: BLASScalar>(_: S.Type) throws {
        try session.validate()
        var settings = problemOptions.settings(self.problem)
        let startValues = try start.map { try ListParser.numbers($0, option: "--start") }

        // The objective (and a validation part).
        var objective: any Objective<S>
        var validation: (any Objective<S>)? = nil
        var startPoint: [S]
        var samples = ""
        if let n = session.dimension {
            guard self.problem == .quadratic else { throw CLIError("--dimension applies to the quadratic problem only") }
            try settings.checkApplicable()
            let stride = MemoryLayout<S>.stride
            // θ, g, up to three optimizer buffers, the best θ of early stopping: checked before allocating.
            try MemoryBudget.require(MemoryBudget.product(n, stride, 6), for: "--dimension \(n) (the memory needed for \(precision.rawValue) θ, gradient and optimizer state)")
            if trace != nil, n > 10_000 { throw CLIError("--trace records θ at every step: use it with --dimension ≤ 10000 (got \(n))") }
            do {
                objective = try IllConditionedQuadraticND<S>(dimension: n, a: S(settings.a ?? 1), b: S(settings.b ?? 10))
            } catch { throw CLIError("\(error)") }
            if let v = startValues, v.count != 1 && v.count != n {
                throw CLIError("--start has \(v.count) values but the quadratic has \(n) parameters (give 1 value to fill them all)")
            }
            startPoint = startValues.map { $0.count == 1 ? [S](repeating: S($0[0]), count: n) : $0.map { S($0) } } ?? objective.initialParameters(seed: training.seed)
        } else if let fraction = session.validationSplit {
            guard !self.problem.isPlane else { throw CLIError("--validation-split applies to data problems (linear, logistic, softmax, mlp, autoencoder)") }
            try settings.checkApplicable()
            let standardize = settings.standardize
            settings.standardize = false
            let data = try DataSource(spec: settings).load(S.self, seed: training.seed)
            var split: DatasetSplit<S>
            do { split = try data.split(validationFraction: fraction, seed: training.seed) } catch { throw CLIError("--validation-split: \(error)") }
            if standardize { split = try split.standardized() }
            objective = try makeObjective(settings, data: split.training)
            validation = try makeObjective(settings, data: split.validation)
            startPoint = objective.initialParameters(seed: training.seed)
            if let v = startValues {
                guard v.count == objective.dimension else { throw CLIError("--start has \(v.count) values but the \(self.problem.rawValue) problem has \(objective.dimension) parameters") }
                startPoint = v.map { S($0) }
            }
            samples = ", \(split.training.sampleCount) training + \(split.validation.sampleCount) validation samples"
        } else {
            let problem = try settings.make(S.self, seed: training.seed, start: startValues)
            objective = problem.objective
            startPoint = problem.start
            if objective.sampleCount > 0 { samples = ", \(objective.sampleCount) samples" }
        }
        if let b = training.batchSize, objective.sampleCount == 0 {
            throw CLIError("--batch-size \(b): the \(self.problem.rawValue) problem has no data samples")
        }
        try MemoryBudget.requireRun(S.self, dimension: objective.dimension, steps: training.steps, trace: trace)

        let optimizer: any Optimizer<S>
        do {
            optimizer = try optimizerOptions.settings(self.optimizer).make(S.self, layout: objective.parameterLayout)
        } catch let error as OptimizerError {
            throw CLIError("\(self.optimizer.rawValue): \(error)")
        }
        // Training options: a plateau replaces the schedule; patience and validation add theirs.
        var arguments = training
        var plateau: ReduceLROnPlateau<S>? = nil
        if let s = training.schedule, let at = s.lowercased().range(of: "plateau") {
            // plateau[:…] alone, or warmup:W[:F]+plateau[:…] (the warm-up, then the plateau).
            let offset = s.lowercased().distance(from: s.lowercased().startIndex, to: at.lowerBound)
            let head = String(s.prefix(offset)), tail = String(s.dropFirst(offset))
            plateau = try PlateauParser.parse(tail)
            if head.isEmpty {
                arguments.schedule = nil
            } else {
                guard head.hasSuffix("+"), head.lowercased().hasPrefix("warmup:"), head.dropLast().split(separator: "+").count == 1 else {
                    throw CLIError("--schedule '\(Message.clip(s))': only a warm-up can come before a plateau (warmup:STEPS[:START_FACTOR]+plateau[:FACTOR[:PATIENCE]])")
                }
                arguments.schedule = String(head.dropLast())
            }
        }
        var options = try arguments.options(S.self, learningRate: optimizer.learningRate, recordParameters: trace != nil)
        if let fisher = optimizerOptions.fisher { options.fisher = fisher }
        options.plateau = plateau
        options.validationInterval = session.validateEvery ?? 1
        if let p = session.patience {
            do { options.earlyStopping = try EarlyStopping(patience: p) } catch { throw CLIError("--patience: \(error)") }
        }

        func withObjective<F: Objective>(_ f: F) throws where F.Scalar == S {
            let v: F? = try validation.map {
                guard let v = $0 as? F else { throw CLIError("internal: validation objective of another type") }
                return v
            }
            func withOptimizer<O: Optimizer>(_ o: O) throws where O.Scalar == S {
                try runSession(objective: f, validation: v, optimizer: o, start: startPoint, options: options, samples: samples)
            }
            try withOptimizer(optimizer)
        }
        try withObjective(objective)
    }

    /// Builds the data problem's objective on `data` (already split and standardized).
    func makeObjective<S: BLASScalar>(_ settings: ProblemSettings, data: Dataset<S>) throws -> any Objective<S> {
        let l2 = S(settings.l2 ?? 0)
        do {
            switch settings.name {
            case .linear: return try LinearRegression(data: data, l2: l2)
            case .logistic: return try LogisticRegression(data: data, l2: l2)
            case .softmax: return try SoftmaxRegression(data: data, l2: l2)
            case .autoencoder: return try settings.makeAutoencoder(data: data)
            default: return try settings.makePerceptron(data: data, l2: l2)
            }
        } catch let error as DataError {
            throw CLIError("\(settings.name.rawValue): \(error)")
        }
    }

    func runSession<F: Objective, O: Optimizer>(objective: F, validation: F?, optimizer: O, start: [F.Scalar],
                                                options: TrainingOptions<F.Scalar>, samples: String) throws where O.Scalar == F.Scalar {
        typealias S = F.Scalar
        if distributed.distributed && !O.kind.hasPrefix("distributed-") {  // wrap, then come back here
            return try runDistributedSession(objective: objective, validation: validation, optimizer: optimizer, start: start,
                                             options: options, samples: samples)
        }
        var state: TrainingState<O>
        if let resume = session.resume {
            let mine = try distributed.resumePath(resume)
            state = try distributed.agreeing("--resume \(Message.clip(resume))") {
                do {
                    return try TrainingState<O>(contentsOf: URL(fileURLWithPath: mine))
                } catch {
                    throw CLIError("--resume \(Message.clip(mine)): \(Message.reason(error))")
                }
            }
            try distributed.checkSameStep(state.step, path: resume)
            guard state.parameters.count == objective.dimension else {
                throw CLIError("--resume \(Message.clip(resume)): the checkpoint holds \(state.parameters.count) parameters, the problem has \(objective.dimension)")
            }
            guard training.steps >= state.step else {
                throw CLIError("--steps \(training.steps): the checkpoint is already at step \(state.step); --steps may only raise the total")
            }
            state.options.maxSteps = training.steps
            state.options.recordParameters = trace != nil
            state.options.historyLimit = trace != nil ? nil : TrainingOptions<S>.defaultHistoryLimit
        } else {
            let runArguments = Array(CommandLine.arguments.drop { $0 != "run" }.dropFirst())
            do {
                var metadata = ["arguments": ResumeArguments.storable(runArguments), "precision": precision.rawValue]
                if let every = session.checkpointEvery { metadata["checkpoint-every"] = String(every) }
                if let ranks = distributed.rankCount { metadata["ranks"] = "\(ranks)" }
                state = try TrainingState(parameters: start, optimizer: optimizer, options: options, metadata: metadata)
            } catch { throw CLIError("\(error)") }
        }
        let firstStep = state.step
        // Resuming into the same file keeps its encoding (a JSON checkpoint starts with "{").
        let resumedJSON = session.checkpoint == nil && session.resume.map {
            (try? FileHandle(forReadingFrom: URL(fileURLWithPath: $0)).read(upToCount: 1)) == Data("{".utf8)
        } == true
        let format = session.checkpointFormat ?? (resumedJSON ? .json : .binary)
        // --resume without --checkpoint keeps checkpointing to the file it resumed from, at the
        // saved --checkpoint-every.
        let checkpointPath = session.checkpoint ?? session.resume
        let url = checkpointPath.map { URL(fileURLWithPath: $0) }
        let checkpointEvery = session.checkpointEvery
            ?? (session.checkpoint == nil && session.resume != nil ? state.metadata["checkpoint-every"].flatMap { Int($0) } : nil)
        if session.checkpointEvery != nil || session.checkpoint != nil { state.metadata["checkpoint-every"] = checkpointEvery.map(String.init) }
        if let url {  // before training: a checkpoint that cannot be written fails now, not after the run
            let mine = distributed.rankPath(url.path, step: state.step)
            try distributed.agreeing("--checkpoint \(Message.clip(url.path))") {
                do { try AtomicFile.checkWritable(URL(fileURLWithPath: mine)) } catch {
                    throw CLIError("--checkpoint \(Message.clip(mine)): \(Message.reason(error))")
                }
            }
        }
        func save() throws {
            guard let url else { return }
            // With --distributed: one file per rank, written and published as one set.
            try distributed.writeCheckpointSet(url.path, step: state.step) { path in
                do { try state.write(to: URL(fileURLWithPath: path), format: format) } catch {
                    throw CLIError("--checkpoint \(Message.clip(path)): cannot write the checkpoint: \(Message.reason(error))")
                }
            }
        }

        // Run in chunks of --checkpoint-every steps: pausing is bit-identical, so the chunks
        // give the same trajectory as one call.
        var remaining = session.stopAfter
        var result: TrainingResult<S>? = nil
        let monitor = try RunMonitor<S>(totalSteps: training.steps, quiet: quiet, logPath: distributed.isPrimary ? log : nil,
                                        validating: validation != nil, pipeInterval: progressInterval)
        let control: TrainingCallback<O> = { record, _, _ in monitor.observe(record); return .continue }
        defer { monitor.abandon() }
        let (_, seconds) = try timed { () throws -> Void in
            repeat {
                var chunk = checkpointEvery
                if let r = remaining { chunk = Swift.min(chunk ?? r, r) }
                state.options.stopAfter = chunk
                let before = state.step
                do {
                    result = try minimize(objective, state: &state, validation: validation, control: control)
                } catch let error as TrainingError {
                    throw CLIError("\(error)")
                }
                if let r = remaining { remaining = r - (state.step - before) }
                try save()
            } while result?.stopReason == .paused && (remaining.map { $0 > 0 } ?? true)
        }
        state.options.stopAfter = nil
        guard let result else { throw CLIError("internal: no result") }
        try monitor.finish(paused: result.stopReason == .paused)

        // A paused run's trace ends at its last step; the resumed run's trace starts at the
        // paused step with the loss of the batch that step used (one step, one row, one meaning).
        let history = state.history.filter { $0.step >= firstStep } + (result.stopReason == .paused ? [] : [result.history.last!])
        if let trace, distributed.isPrimary {
            try Trace.write(history, dimension: objective.dimension, to: trace)
        }
        let final = result.history.last!
        let summary = try optimizerOptions.settings(self.optimizer).summary
        var lines = [
            "problem:    \(self.problem.rawValue) (\(objective.dimension) parameters\(samples))",
            "optimizer:  \(self.optimizer.rawValue) (\(summary)), \(precision.rawValue)",
            "steps:      \(state.step)\(firstStep > 0 ? " (resumed at \(firstStep))" : "") (stopped: \(result.stopReason.rawValue))",
            "final loss: \(final.loss)\(validation != nil ? " (training)" : "")",
        ]
        if let accuracy = result.parameters.withUnsafeBufferPointer({ objective.accuracy(at: $0) }) {
            lines.append("accuracy:   \(String(format: "%.4f", accuracy))\(validation != nil ? " (training)" : "")")
        }
        if let v = final.validationLoss { lines.append("validation: loss \(v)" + (final.validationAccuracy.map { String(format: ", accuracy %.4f", $0) } ?? "")) }
        if let e = state.options.earlyStopping, let best = e.bestStep { lines.append("best:       step \(best) (monitored loss \(e.best))") }
        if state.options.plateau != nil { lines.append("plateau:    \(state.options.plateau!.reductions) reductions, η = \(state.optimizer.learningRate)") }
        if objective.dimension <= 4 {
            lines.append("θ:          \(result.parameters.map(\.description).joined(separator: ", "))")
        }
        lines.append("time:       \(String(format: "%.3f", seconds)) s")
        if let trace { lines.append("trace:      \(trace) (\(history.count) rows)") }
        if let log { lines.append("log:        \(log)") }
        if let url {
            lines.append("checkpoint: \(url.path) (step \(state.step)\(result.stopReason == .paused ? "; continue with --resume \(url.path)" : ""))")
        }
        lines.append(contentsOf: distributed.summaryLines)
        if distributed.isPrimary { print(lines.joined(separator: "\n")) }
    }
}
