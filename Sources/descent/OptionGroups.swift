import ArgumentParser
import DescentProblems

// Every numeric option uses `.unconditional` parsing so that negative values work as typed
// (`--start -1.5,2`, `--lr -1` reaches the library's validation and its error message).

/// Optimizer hyperparameters. Unset options keep the library's defaults.
///
/// The options shared by several optimizers are declared here (with their help); every other
/// option of an optimizer in the ``OptimizerRegistry`` (`--lr-decay`, `--curvature-decay`, …)
/// is read from the registry (``registryOptions``), so a new optimizer brings its own.
struct OptimizerOptions: ParsableArguments {
    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate η (default: the optimizer's own, e.g. 1e-3 for adam, 1 for adadelta).")
    var learningRate: Double?
    @Option(parsing: .unconditional, help: "Momentum μ (momentum, nesterov, rmsprop).")
    var momentum: Double?
    @Option(parsing: .unconditional, help: "β₁, decay of Adam's first moment.")
    var beta1: Double?
    @Option(parsing: .unconditional, help: "β₂, decay of Adam's second moment.")
    var beta2: Double?
    @Option(name: .customLong("eps"), parsing: .unconditional, help: "ε of adagrad, rmsprop, adadelta, adam(w).")
    var epsilon: Double?
    @Option(parsing: .unconditional, help: "Decay ρ of RMSProp's and Adadelta's running averages (natural: the same as --curvature-decay).")
    var rho: Double?
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay λ (L2 added to the gradient; decoupled for adamw).")
    var weightDecay: Double?
    @Flag(help: "AMSGrad variant of adam/adamw.")
    var amsgrad = false
    @Flag(help: "Centered RMSProp.")
    var centered = false
    @Flag(name: .customLong("eps-outside-sqrt"), help: "Adadelta in the form of docs/lecture.md: √G + ε instead of √(G + ε).")
    var epsOutsideSqrt = false
    @Option(parsing: .unconditional, help: "Damping λ of the natural gradient, (F + λI)⁻¹∇L.")
    var damping: Double?
    @Option(help: "Fisher information of the natural gradient (empirical|exact) or K-FAC's factors (exact|sampled|empirical).")
    var fisher: FisherKind?
    @Option(name: .customLong("step-length"), parsing: .unconditional, help: "Natural gradient: fixed step length ‖δθ‖_F (the constrained step of docs/lecture.md).")
    var stepLength: Double?
    @Option(name: .customLong("kfac-decay"), parsing: .unconditional, help: "K-FAC: decay β of the factors' moving average (default 0.95; 0 = each batch's factors).")
    var kfacDecay: Double?
    @Option(name: .customLong("inverse-interval"), parsing: .unconditional, help: "K-FAC: refactor (Cholesky) every T steps (default 10; adaptive 5).")
    var inverseInterval: Int?
    @Option(name: .customLong("kl-clip"), parsing: .unconditional, help: "K-FAC: KL clipping κ, ν = min(1, √(κ / (η² Σ⟨∇W, ΔW⟩))).")
    var klClip: Double?
    @Flag(inversion: .prefixedNo, help: """
        K-FAC: adaptive learning rate, momentum and damping (kfac-jax's Optimizer; --damping is then λ₀, default 1). \
        The default for kfac unless --lr or --kl-clip is given (they set the fixed-step K-FAC).
        """)
    var adaptive: Bool?
    @Option(name: .customLong("damping-interval"), parsing: .unconditional, help: "Adaptive K-FAC: adapt λ every K steps (default 5).")
    var dampingInterval: Int?
    @Option(name: .customLong("damping-decay"), parsing: .unconditional, help: "Adaptive K-FAC: λ is multiplied or divided by ω^K (default ω = 0.9).")
    var dampingDecay: Double?
    @Option(name: .customLong("min-damping"), parsing: .unconditional, help: "Adaptive K-FAC: smallest λ (default 1e-8).")
    var minDamping: Double?
    @Option(name: .customLong("max-damping"), parsing: .unconditional, help: "Adaptive K-FAC: largest λ (default ∞).")
    var maxDamping: Double?
    @Option(name: .customLong("group"), parsing: .singleValue, help: ArgumentHelp("""
        Per-group overrides, repeatable: NAME:key=value[,key=value]. NAME is a slice or group of the problem's \
        parameters (weights, biases; mlp: layer1.weights, layer1.biases, …); keys lr, weight-decay and the \
        optimizer's own (momentum, nesterov, beta1, beta2, eps, amsgrad, rho, centered, lr-decay, initial-accumulator). \
        Parameters in no group keep the optimizer's settings. First-order optimizers only.
        """, valueName: "NAME:key=value"))
    var group: [String] = []
    @Option(help: "Natural gradient: how (F + λI)x = ∇L is solved: auto (default) | cholesky | mixed (Float factor, Double refinement) | woodbury (low-rank curvature). A diagonal metric is always solved element-wise.")
    var solver: String?
    /// The options declared above (the others are read from the registry).
    static let declared: Set<String> = [
        "--lr", "--momentum", "--beta1", "--beta2", "--eps", "--rho", "--weight-decay", "--amsgrad", "--centered",
        "--eps-outside-sqrt", "--damping", "--fisher", "--step-length", "--kfac-decay", "--inverse-interval", "--kl-clip", "--solver",
        "--adaptive", "--no-adaptive", "--damping-interval", "--damping-decay", "--min-damping", "--max-damping",
    ]
    /// The options of the registry not declared above, as typed (`--lr-decay 0.01`).
    @Argument(parsing: .allUnrecognized, help: .hidden)
    var registryOptions: [String] = []

    func settings(_ name: OptimizerName) throws -> OptimizerSettings {
        var s = OptimizerSettings(name, learningRate: learningRate)
        let numbers: [(String, Double?)] = [
            ("--momentum", momentum), ("--beta1", beta1), ("--beta2", beta2), ("--eps", epsilon), ("--rho", rho),
            ("--weight-decay", weightDecay), ("--damping", damping), ("--step-length", stepLength),
            ("--kfac-decay", kfacDecay), ("--inverse-interval", inverseInterval.map(Double.init)), ("--kl-clip", klClip),
            ("--damping-interval", dampingInterval.map(Double.init)), ("--damping-decay", dampingDecay),
            ("--min-damping", minDamping), ("--max-damping", maxDamping),
        ]
        for (option, value) in numbers { s.set(option, number: value) }
        for (option, on) in [("--amsgrad", amsgrad), ("--centered", centered), ("--eps-outside-sqrt", epsOutsideSqrt),
                             ("--adaptive", adaptive ?? (name == .kfac && learningRate == nil && klClip == nil))] where on {
            s.set(option, .flag(true))
        }
        if let solver { s.set("--solver", try RegistryOptions.value(solver, option: "--solver")) }
        for (option, value) in try RegistryOptions.parse(registryOptions) { s.set(option, value) }
        s.fisher = fisher
        s.groups = group
        return s
    }
}

/// The training loop's options.
struct TrainingArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of optimizer steps.")
    var steps: Int = 1000
    @Option(parsing: .unconditional, help: "Seed of the minibatch order, the synthetic data and the MLP's initialization.")
    var seed: UInt64 = 0
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Minibatch size (data problems); without it every step uses the full-data gradient.")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: """
        Learning-rate schedule, starting from --lr: constant | step:EVERY:FACTOR | exponential:FACTOR | \
        cosine[:PERIOD[:MIN]] (PERIOD defaults to --steps) | warmup:STEPS[:START_FACTOR][+SCHEDULE] | \
        plateau[:FACTOR[:PATIENCE]] (reduce η when the monitored loss stops improving; defaults 0.1, 10) | \
        warmup:STEPS[:START_FACTOR]+plateau[:FACTOR[:PATIENCE]].
        """)
    var schedule: String?
    @Option(name: .customLong("clip-norm"), parsing: .unconditional, help: "Clip the gradient to this global norm before each step.")
    var clipNorm: Double?
    @Option(name: .customLong("loss-tolerance"), parsing: .unconditional, help: "Stop once the loss is ≤ this.")
    var lossTolerance: Double?
    @Option(name: .customLong("gradient-tolerance"), parsing: .unconditional, help: "Stop once ‖∇L‖ ≤ this.")
    var gradientTolerance: Double?

    func validate() throws {
        guard steps >= 0 else { throw CLIError("--steps: \(steps) must be ≥ 0") }
        if let b = batchSize, b <= 0 { throw CLIError("--batch-size: \(b) must be > 0") }
        if let c = clipNorm, !(c > 0) { throw CLIError("--clip-norm: \(c) must be > 0") }
    }

    /// The library's options; `learningRate` is the optimizer's initial η (for the schedule).
    func options<S: BLASScalar>(_: S.Type, learningRate: S, recordParameters: Bool) throws -> TrainingOptions<S> {
        try validate()
        return TrainingOptions<S>(
            maxSteps: steps, batchSize: batchSize, seed: seed,
            schedule: try schedule.map { try ScheduleParser.parse($0, initial: learningRate, steps: steps) },
            gradientClipNorm: clipNorm.map { S($0) },
            lossTolerance: lossTolerance.map { S($0) }, gradientTolerance: gradientTolerance.map { S($0) },
            recordParameters: recordParameters,
            // A trace writes every step (its memory is checked up front); otherwise the history is bounded.
            historyLimit: recordParameters ? nil : TrainingOptions<S>.defaultHistoryLimit)
    }
}

/// `--schedule` text → ``LearningRateSchedule``.
enum ScheduleParser {
    static func parse<S: BLASScalar>(_ text: String, initial: S, steps: Int) throws -> LearningRateSchedule<S> {
        let parts = text.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, parts[1].trimmingCharacters(in: .whitespaces).isEmpty {
            throw CLIError("--schedule '\(Message.clip(text))': nothing follows '+' (write WARMUP+SCHEDULE, e.g. warmup:10+cosine)")
        }
        let head = parts.first ?? ""
        let fields = head.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func number(_ i: Int, _ what: String) throws -> Double {
            guard i < fields.count, let v = Double(fields[i]), v.isFinite else {
                throw CLIError("--schedule '\(Message.clip(text))': \(what) \(i < fields.count ? "'\(Message.clip(fields[i]))' is not a number" : "is missing")")
            }
            return v
        }
        func integer(_ i: Int, _ what: String) throws -> Int {
            guard i < fields.count, let v = Int(fields[i]), v > 0 else {
                throw CLIError("--schedule '\(Message.clip(text))': \(what) \(i < fields.count ? "'\(Message.clip(fields[i]))' is not a positive integer" : "is missing")")
            }
            return v
        }
        let schedule: LearningRateSchedule<S>
        switch fields[0].lowercased() {
        case "constant":
            schedule = .constant(initial)
        case "step":
            schedule = .step(initial: initial, every: try integer(1, "EVERY"), factor: S(try number(2, "FACTOR")))
        case "exponential", "exp":
            schedule = .exponential(initial: initial, factor: S(try number(1, "FACTOR")))
        case "cosine":
            let period = fields.count > 1 ? try integer(1, "PERIOD") : max(steps, 1)
            let minimum = fields.count > 2 ? try number(2, "MIN") : 0
            schedule = .cosine(initial: initial, minimum: S(minimum), period: period)
        case "warmup":
            let w = try integer(1, "STEPS")
            let f = fields.count > 2 ? try number(2, "START_FACTOR") : 0
            let then = parts.count > 1 ? try parse(parts[1], initial: initial, steps: max(steps - w, 1)) : .constant(initial)
            schedule = .warmup(steps: w, startFactor: S(f), then: then)
        default:
            throw CLIError("--schedule '\(Message.clip(text))': unknown schedule '\(Message.clip(fields[0]))'; valid: constant, step, exponential, cosine, warmup")
        }
        if parts.count > 1, fields[0].lowercased() != "warmup" {
            throw CLIError("--schedule '\(Message.clip(text))': only warmup can be followed by '+SCHEDULE'")
        }
        do { try schedule.validate() } catch { throw CLIError("--schedule '\(Message.clip(text))': \(error)") }
        return schedule
    }
}
