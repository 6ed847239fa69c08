import ArgumentParser
import Descent

/// The optimizers the tool knows, by their command-line names.
enum OptimizerName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, nadam, radam, adamax, rprop, asgd, natural, kfac

    /// A sign-based method that needs the full-data gradient: `descent compare` runs it without
    /// the plan's minibatches.
    var fullBatchOnly: Bool { self == .rprop }

    /// The options (by their command-line names) that apply to this optimizer.
    var applicableOptions: Set<String> {
        switch self {
        case .sgd: return ["--lr", "--weight-decay"]
        case .momentum, .nesterov: return ["--lr", "--momentum", "--weight-decay"]
        case .adagrad: return ["--lr", "--eps", "--weight-decay"]
        case .rmsprop: return ["--lr", "--rho", "--eps", "--momentum", "--centered", "--weight-decay"]
        case .adadelta: return ["--lr", "--rho", "--eps", "--eps-outside-sqrt", "--weight-decay"]
        case .adam, .adamw: return ["--lr", "--beta1", "--beta2", "--eps", "--weight-decay", "--amsgrad"]
        case .nadam:
            return ["--lr", "--beta1", "--beta2", "--eps", "--weight-decay", "--momentum-decay", "--decoupled-weight-decay"]
        case .radam: return ["--lr", "--beta1", "--beta2", "--eps", "--weight-decay", "--decoupled-weight-decay"]
        case .adamax: return ["--lr", "--beta1", "--beta2", "--eps", "--weight-decay"]
        case .rprop: return ["--lr", "--etas", "--step-sizes"]
        case .asgd: return ["--lr", "--lambd", "--alpha", "--t0", "--weight-decay", "--use-average"]
        case .natural: return ["--lr", "--damping", "--fisher", "--step-length", "--rho", "--solver"]
        case .kfac: return ["--lr", "--damping", "--fisher", "--kfac-decay", "--inverse-interval", "--kl-clip"]
        }
    }
}

import DescentProblems

/// Which Fisher information the natural gradient uses (the training loop supplies it):
/// empirical F = SᵀS/m from per-sample gradients, or exact E[Jᵀ H J] from the output Jacobian.
extension FisherKind: ExpressibleByArgument {}

/// `--solver`: the natural gradient's ``NaturalGradientSolver`` by its command-line name.
enum NaturalSolverName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case auto, cholesky, mixed, woodbury

    var solver: NaturalGradientSolver {
        switch self {
        case .auto: return .automatic
        case .cholesky: return .cholesky
        case .mixed: return .mixedPrecision
        case .woodbury: return .woodbury
        }
    }
}

/// Hyperparameters as the user gave them: nil means "not set", and an unset option keeps the
/// library's default (the tool never restates a default). ``make(_:)`` builds the optimizer from
/// its defaults and then assigns only the values that were set.
struct OptimizerSettings: Sendable {
    var name: OptimizerName
    var learningRate: Double?
    var momentum: Double?
    var beta1: Double?
    var beta2: Double?
    var epsilon: Double?
    var rho: Double?
    var weightDecay: Double?
    var amsgrad: Bool?
    var centered: Bool?
    var epsilonOutsideSquareRoot: Bool?
    var damping: Double?
    var fisher: FisherKind?
    var stepLength: Double?
    /// K-FAC: β of the factor averages, T of the Cholesky refresh, κ of the KL clipping.
    var kfacDecay: Double?
    var inverseInterval: Int?
    var klClip: Double?
    /// `--group NAME:key=value[,…]` values, in order (first-order optimizers only).
    var groups: [String] = []
    /// The natural gradient's solver (`--solver`).
    var solver: NaturalSolverName?
    /// NAdam's ψ; NAdam's and RAdam's decoupled weight decay.
    var momentumDecay: Double?
    var decoupledWeightDecay: Bool?
    /// Rprop's (η₋, η₊) and (δ_min, δ_max), as `MINUS,PLUS` and `MIN,MAX`.
    var etas: String?
    var stepSizes: String?
    /// ASGD's λ, α, t₀, and whether the run reports the average ā as its final θ.
    var lambd: Double?
    var alpha: Double?
    var t0: Double?
    var useAverage: Bool?

    init(_ name: OptimizerName, learningRate: Double? = nil) {
        self.name = name
        self.learningRate = learningRate
    }

    /// The options that were set, by command-line name.
    var setOptions: [String] {
        var out: [String] = []
        if learningRate != nil { out.append("--lr") }
        if momentum != nil { out.append("--momentum") }
        if beta1 != nil { out.append("--beta1") }
        if beta2 != nil { out.append("--beta2") }
        if epsilon != nil { out.append("--eps") }
        if rho != nil { out.append("--rho") }
        if weightDecay != nil { out.append("--weight-decay") }
        if amsgrad != nil { out.append("--amsgrad") }
        if centered != nil { out.append("--centered") }
        if epsilonOutsideSquareRoot != nil { out.append("--eps-outside-sqrt") }
        if damping != nil { out.append("--damping") }
        if fisher != nil { out.append("--fisher") }
        if stepLength != nil { out.append("--step-length") }
        if kfacDecay != nil { out.append("--kfac-decay") }
        if inverseInterval != nil { out.append("--inverse-interval") }
        if klClip != nil { out.append("--kl-clip") }
        if solver != nil { out.append("--solver") }
        if momentumDecay != nil { out.append("--momentum-decay") }
        if decoupledWeightDecay != nil { out.append("--decoupled-weight-decay") }
        if etas != nil { out.append("--etas") }
        if stepSizes != nil { out.append("--step-sizes") }
        if lambd != nil { out.append("--lambd") }
        if alpha != nil { out.append("--alpha") }
        if t0 != nil { out.append("--t0") }
        if useAverage != nil { out.append("--use-average") }
        return out
    }

    /// Throws for an option that does not apply to the chosen optimizer, naming the optimizers it
    /// applies to.
    func checkApplicable() throws {
        for option in setOptions where !name.applicableOptions.contains(option) {
            let users = OptimizerName.allCases.filter { $0.applicableOptions.contains(option) }.map(\.rawValue)
            throw CLIError("\(option) does not apply to \(name.rawValue) (it applies to \(users.joined(separator: ", ")))")
        }
    }

    /// A short description of the set values, e.g. "lr=0.01 momentum=0.9".
    var summary: String {
        var parts: [String] = []
        func add(_ key: String, _ v: Double?) { if let v { parts.append("\(key)=\(v)") } }
        add("lr", learningRate); add("momentum", momentum); add("beta1", beta1); add("beta2", beta2)
        add("eps", epsilon); add("rho", rho); add("weight-decay", weightDecay); add("damping", damping)
        add("step-length", stepLength)
        add("kfac-decay", kfacDecay); add("kl-clip", klClip)
        if let inverseInterval { parts.append("inverse-interval=\(inverseInterval)") }
        if amsgrad == true { parts.append("amsgrad") }
        if centered == true { parts.append("centered") }
        if epsilonOutsideSquareRoot == true { parts.append("eps-outside-sqrt") }
        if let fisher { parts.append("fisher=\(fisher.rawValue)") }
        parts += groups.map { "group \($0)" }
        if let solver { parts.append("solver=\(solver.rawValue)") }
        add("momentum-decay", momentumDecay); add("lambd", lambd); add("alpha", alpha); add("t0", t0)
        if let etas { parts.append("etas=\(etas)") }
        if let stepSizes { parts.append("step-sizes=\(stepSizes)") }
        if decoupledWeightDecay == true { parts.append("decoupled-weight-decay") }
        if useAverage == true { parts.append("use-average") }
        return parts.isEmpty ? "defaults" : parts.joined(separator: " ")
    }

    /// The optimizer with the library's defaults, overridden by the set values, validated.
    func make<S: BLASScalar>(_: S.Type) throws -> any Optimizer<S> {
        try checkApplicable()
        func s(_ v: Double?) -> S? { v.map { S($0) } }
        switch name {
        case .sgd:
            var o = try SGD<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .momentum, .nesterov:
            var o = try Momentum<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(momentum) { o.momentum = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            o.nesterov = name == .nesterov
            try o.validate()
            return o
        case .adagrad:
            var o = try Adagrad<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .rmsprop:
            var o = try RMSProp<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(rho) { o.rho = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(momentum) { o.momentum = v }
            if let v = centered { o.centered = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .adadelta:
            var o = try Adadelta<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(rho) { o.rho = v }
            if let v = s(epsilon) { o.epsilon = v }
            if epsilonOutsideSquareRoot == true { o.epsilonPlacement = .outsideSquareRoot }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .adam:
            var o = try Adam<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(beta1) { o.beta1 = v }
            if let v = s(beta2) { o.beta2 = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            if let v = amsgrad { o.amsgrad = v }
            try o.validate()
            return o
        case .adamw:
            var o = try AdamW<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(beta1) { o.beta1 = v }
            if let v = s(beta2) { o.beta2 = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            if let v = amsgrad { o.amsgrad = v }
            try o.validate()
            return o
        case .nadam:
            var o = try NAdam<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(beta1) { o.beta1 = v }
            if let v = s(beta2) { o.beta2 = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            if let v = s(momentumDecay) { o.momentumDecay = v }
            if let v = decoupledWeightDecay { o.decoupledWeightDecay = v }
            try o.validate()
            return o
        case .radam:
            var o = try RAdam<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(beta1) { o.beta1 = v }
            if let v = s(beta2) { o.beta2 = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            if let v = decoupledWeightDecay { o.decoupledWeightDecay = v }
            try o.validate()
            return o
        case .adamax:
            var o = try Adamax<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(beta1) { o.beta1 = v }
            if let v = s(beta2) { o.beta2 = v }
            if let v = s(epsilon) { o.epsilon = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .rprop:
            var o = try Rprop<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let etas {
                let pair = try Self.pair(etas, option: "--etas", names: "MINUS,PLUS")
                o.etaMinus = S(pair.0); o.etaPlus = S(pair.1)
            }
            if let stepSizes {
                let pair = try Self.pair(stepSizes, option: "--step-sizes", names: "MIN,MAX")
                o.minimumStepSize = S(pair.0); o.maximumStepSize = S(pair.1)
            }
            try o.validate()
            return o
        case .asgd:
            var o = try ASGD<S>()
            if let v = s(learningRate) { o.learningRate = v }
            if let v = s(lambd) { o.lambda = v }
            if let v = s(alpha) { o.alpha = v }
            if let v = s(t0) { o.averagingStart = v }
            if let v = s(weightDecay) { o.weightDecay = v }
            try o.validate()
            return o
        case .natural:
            return try makeNaturalGradient(S.self)
        case .kfac:
            return try makeKFAC(S.self)
        }
    }

    /// `A,B` of `--etas` / `--step-sizes`: exactly two numbers.
    static func pair(_ text: String, option: String, names: String) throws -> (Double, Double) {
        let values = try ListParser.numbers(text, option: option)
        guard values.count == 2 else { throw CLIError("\(option) '\(text)': expected two numbers \(names)") }
        return (values[0], values[1])
    }

    /// K-FAC: `--lr` η, `--damping` λ (fixed), `--kfac-decay` β, `--inverse-interval` T, `--kl-clip` κ.
    func makeKFAC<S: BLASScalar>(_: S.Type) throws -> KFAC<S> {
        var o = try KFAC<S>()
        if let v = learningRate { o.learningRate = S(v) }
        if let v = damping { o.damping = .fixed(S(v)) }
        if let v = kfacDecay { o.factorDecay = S(v) }
        if let v = inverseInterval { o.inverseUpdateInterval = v }
        if let v = klClip { o.klClip = S(v) }
        try o.validate()
        return o
    }

    /// The natural gradient θ ← θ − η (F + λI)⁻¹∇L; `--rho` sets its curvature moving average.
    func makeNaturalGradient<S: BLASScalar>(_: S.Type) throws -> any Optimizer<S> {
        var o = try NaturalGradient<S>()
        if let v = learningRate { o.learningRate = S(v) }
        if let v = damping { o.damping = .fixed(S(v)) }
        if let v = stepLength { o.stepLength = S(v) }
        if let v = rho { o.curvatureDecay = S(v) }
        if let v = solver { o.solver = v.solver }
        try o.validate()
        return o
    }
}
