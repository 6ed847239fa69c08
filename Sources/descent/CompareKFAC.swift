import DescentProblems

extension ComparisonPlan {
    /// The wider network of issue 9's K-FAC target: MLP 64-256-256-10 on digits, minibatches of
    /// 256, until the training loss is ≤ 0.05. Learning rates: K-FAC 0.1 (λ = 10⁻³, κ = 10⁻³,
    /// T = 10, sampled factors); Adam, RMSProp and Nesterov the best of the grid of
    /// `descent bench --kind kfac-race` (docs/benchmarks.md, K-FAC section); the others at the
    /// values of the 64-16-10 plan or a guess (not tuned on this network).
    static let widePerceptron = ProblemPlan(
        settings: ProblemSettings(name: .mlp, hidden: "256,256", data: "digits", standardize: true),
        title: "MLP 64-256-256-10, digits (standardized), batch 256",
        steps: 300, batchSize: 256, tolerance: 0.05,
        learningRates: [.sgd: 0.3, .momentum: 0.03, .nesterov: 0.3, .adagrad: 0.03, .rmsprop: 3e-3,
                        .adadelta: 30, .adam: 1e-2, .adamw: 1e-2, .natural: 1, .kfac: 0.1],
        naturalFisher: .empirical, naturalDamping: 0.1)
}

/// Whether the problem's objective supplies K-FAC's Kronecker factors (a network of fully
/// connected layers: the perceptron, linear/logistic/softmax regression).
func suppliesKroneckerFactors<S: BLASScalar>(_ problem: Problem<S>) -> Bool {
    func open<F: Objective>(_ f: F) -> Bool where F.Scalar == S {
        guard f.sampleCount > 0 else { return false }
        return problem.start.withUnsafeBufferPointer { θ in
            [0].withUnsafeBufferPointer { f.kroneckerFactors(at: θ, batch: $0, fisher: .empirical, step: 0, seed: 0) != nil }
        }
    }
    return open(problem.objective)
}
