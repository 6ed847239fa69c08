/// The fixed damping λ, as the command line sets it: `.fixed(λ)`; reads the initial λ.
extension HyperparameterSpec where O: SecondOrderOptimizer {
    static func fixedDamping(_ path: WritableKeyPath<O, Damping<O.Scalar>>, _ summary: String) -> Self {
        .custom("damping", flag: "--damping", torch: "damping", .positive, summary,
                read: { "\($0[keyPath: path].initial)" },
                write: { o, v in
                    guard let x = v.scalar(O.Scalar.self) else { return false }
                    o[keyPath: path] = .fixed(x)
                    return true
                })
    }
}

extension NaturalGradient: RegisteredOptimizer {
    /// The command-line words of ``NaturalGradientSolver``.
    static var solverWords: [(word: String, solver: NaturalGradientSolver)] {
        [("auto", .automatic), ("cholesky", .cholesky), ("mixed", .mixedPrecision), ("woodbury", .woodbury)]
    }

    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate, "Step size η when no step length is set."),
         .fixedDamping(\.damping, "Damping λ of (F + λI)⁻¹∇L (fixed)."),
         .optionalNumber("stepLength", \.stepLength, flag: "--step-length", .positive,
                         "Fixed step length ‖δθ‖_F of the constrained step (docs/lecture.md)."),
         .optionalNumber("curvatureDecay", \.curvatureDecay, flag: "--curvature-decay", aliases: ["--rho"], .halfOpenUnit,
                         "Decay β of the curvature's moving average (default: each curvature as given)."),
         .custom("solver", flag: "--solver", .choice(solverWords.map(\.word)),
                 "How (F + λI)x = ∇L is solved: auto, cholesky, mixed (Float factor, Double refinement) or woodbury.",
                 read: { o in solverWords.first { $0.solver == o.solver }?.word },
                 write: { o, v in
                     guard case let .choice(word) = v, let s = solverWords.first(where: { $0.word == word }) else { return false }
                     o.solver = s.solver
                     return true
                 })]
    }
    public static var stateVersion: Int { checkpointFormat }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try NaturalGradient<T>() }
}

extension KFAC: RegisteredOptimizer {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.learningRate(\.learningRate),
         .fixedDamping(\.damping, "Damping λ of the factors (fixed)."),
         .number("factorDecay", \.factorDecay, flag: "--kfac-decay", torch: "factor_decay", .halfOpenUnit,
                 "Decay β of the factors' moving average (0: each batch's factors)."),
         .integer("inverseUpdateInterval", \.inverseUpdateInterval, flag: "--inverse-interval", torch: "inv_update_steps",
                  "Refactor (Cholesky) every T steps."),
         .optionalNumber("klClip", \.klClip, flag: "--kl-clip", torch: "kl_clip", .positive,
                         "KL clipping κ: ν = min(1, √(κ / (η² Σ⟨∇W, ΔW⟩))).")]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try KFAC<T>() }
}
