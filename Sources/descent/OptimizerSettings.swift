import ArgumentParser
import Descent

/// The optimizers the tool knows, by their command-line names.
enum OptimizerName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, natural, kfac

    /// The options (by their command-line names) that apply to this optimizer.
    var applicableOptions: Set<String> {
        switch self {
        case .sgd: return ["--lr", "--weight-decay"]
        case .momentum, .nesterov: return ["--lr", "--momentum", "--weight-decay"]
        case .adagrad: return ["--lr", "--eps", "--weight-decay"]
        case .rmsprop: return ["--lr", "--rho", "--eps", "--momentum", "--centered", "--weight-decay"]
        case .adadelta: return ["--lr", "--rho", "--eps", "--eps-outside-sqrt", "--weight-decay"]
        case .adam, .adamw: return ["--lr", "--beta1", "--beta2", "--eps", "--weight-decay", "--amsgrad"]
        case .natural: return ["--lr", "--damping", "--fisher", "--step-length", "--rho", "--solver"]
        case .kfac: return ["--lr", "--damping", "--fisher", "--kfac-decay", "--inverse-interval", "--kl-clip", "--adaptive",
                            "--damping-interval", "--damping-decay", "--min-damping", "--max-damping"]
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
    /// Adaptive K-FAC (`--adaptive`): K, ω, λmin, λmax of the damping adaptation.
    var adaptive: Bool?
    var dampingInterval: Int?
    var dampingDecay: Double?
    var minDamping: Double?
    var maxDamping: Double?
    /// `--group NAME:key=value[,…]` values, in order (first-order optimizers only).
    var groups: [String] = []
    /// The natural gradient's solver (`--solver`).
    var solver: NaturalSolverName?

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
        if adaptive != nil { out.append("--adaptive") }
        if dampingInterval != nil { out.append("--damping-interval") }
        if dampingDecay != nil { out.append("--damping-decay") }
        if minDamping != nil { out.append("--min-damping") }
        if maxDamping != nil { out.append("--max-damping") }
        if solver != nil { out.append("--solver") }
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
        if adaptive == true { parts.append("adaptive") }
        if let dampingInterval { parts.append("damping-interval=\(dampingInterval)") }
        add("damping-decay", dampingDecay); add("min-damping", minDamping); add("max-damping", maxDamping)
        if amsgrad == true { parts.append("amsgrad") }
        if centered == true { parts.append("centered") }
        if epsilonOutsideSquareRoot == true { parts.append("eps-outside-sqrt") }
        if let fisher { parts.append("fisher=\(fisher.rawValue)") }
        parts += groups.map { "group \($0)" }
        if let solver { parts.append("solver=\(solver.rawValue)") }
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
        case .natural:
            return try makeNaturalGradient(S.self)
        case .kfac:
            if adaptive == true { return try makeAdaptiveKFAC(S.self) }
            for (option, value) in [("--damping-interval", dampingInterval.map(Double.init)), ("--damping-decay", dampingDecay),
                                    ("--min-damping", minDamping), ("--max-damping", maxDamping)] where value != nil {
                throw CLIError("\(option) applies to adaptive K-FAC only: add --adaptive")
            }
            return try makeKFAC(S.self)
        }
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

    /// Adaptive K-FAC (kfac-jax's `Optimizer` with adaptive learning rate, momentum and damping):
    /// `--damping` λ₀, `--damping-interval` K, `--damping-decay` ω, `--min-damping`, `--max-damping`,
    /// `--kfac-decay` β, `--inverse-interval` T. The learning rate is chosen by the quadratic model.
    func makeAdaptiveKFAC<S: BLASScalar>(_: S.Type) throws -> AdaptiveKFAC<S> {
        if learningRate != nil { throw CLIError("--lr does not apply to adaptive K-FAC: the quadratic model chooses the learning rate") }
        if klClip != nil { throw CLIError("--kl-clip does not apply to adaptive K-FAC: the quadratic model chooses the step") }
        var o = try AdaptiveKFAC<S>()
        if let v = damping { o.initialDamping = S(v) }
        if let v = dampingInterval { o.dampingInterval = v }
        if let v = dampingDecay { o.dampingDecay = S(v) }
        if let v = minDamping { o.minimumDamping = S(v) }
        if let v = maxDamping { o.maximumDamping = S(v) }
        if let v = kfacDecay { o.factorDecay = S(v) }
        if let v = inverseInterval { o.inverseUpdateInterval = v }
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
