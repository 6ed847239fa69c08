/// Adaptive K-FAC's hyperparameters as the command line sets them (`descent run --optimizer kfac
/// --adaptive`). It has no learning rate (the quadratic model chooses it), so it is not one of
/// ``OptimizerRegistry/all``'s rows; the command line builds it from these specs.
extension AdaptiveKFAC: RegisteredOptimizer {
    public static var hyperparameters: [HyperparameterSpec<Self>] {
        [.number("initialDamping", \.initialDamping, flag: "--damping", torch: "initial_damping", .positive,
                 "Initial damping λ₀ (adapted every K steps)."),
         .integer("dampingInterval", \.dampingInterval, flag: "--damping-interval", torch: "damping_adaptation_interval",
                  "Adapt λ every K steps."),
         .number("dampingDecay", \.dampingDecay, flag: "--damping-decay", torch: "damping_adaptation_decay", .positive,
                 "λ is multiplied or divided by ω^K (ω in (0, 1))."),
         .number("minimumDamping", \.minimumDamping, flag: "--min-damping", torch: "min_damping", .positive, "Smallest λ."),
         .number("maximumDamping", \.maximumDamping, flag: "--max-damping", torch: "max_damping", .positive, "Largest λ."),
         .number("factorDecay", \.factorDecay, flag: "--kfac-decay", torch: "curvature_ema", .halfOpenUnit,
                 "Decay β of the factors' weighted moving average."),
         .integer("inverseUpdateInterval", \.inverseUpdateInterval, flag: "--inverse-interval", torch: "inverse_update_period",
                  "Refresh the damped inverses every T steps.")]
    }
    public static func withDefaults<T: BLASScalar>(_: T.Type) throws -> any RegisteredOptimizer<T> { try AdaptiveKFAC<T>() }
}
