import DescentProblems

extension ComparisonPlan {
    /// The deep autoencoder, the problem on which curvature was shown to pay (Hinton &
    /// Salakhutdinov 2006; Martens & Grosse 2015 §13), sized for the comparison's time budget:
    /// 784-64-16-64-784 (tanh, linear code, sigmoid cross-entropy summed over the 784 pixels)
    /// on the first 300 Fashion-MNIST training images, full batch, 60 steps. K-FAC runs as
    /// kfac-jax's adaptive optimizer (learning rate, momentum and damping from the quadratic
    /// model with the exact Fisher). First-order learning rates: the best final loss of a grid
    /// around each optimizer's optimum after 100 steps on 500 images (descent run). The natural
    /// gradient is left out: a dense Fisher of ~10⁵ parameters is what K-FAC approximates. K-FAC's
    /// factors are sampled (one backward pass), as kfac-jax's autoencoder example estimates them.
    /// Left out as well (with a note) when Debian's dataset-fashion-mnist is not installed.
    static let autoencoder = ProblemPlan(
        settings: ProblemSettings(name: .autoencoder, hidden: "64,16", data: "fashion-mnist", samples: 300),
        title: "Autoencoder 784-64-16-64-784, Fashion-MNIST (300 images), full batch",
        steps: 60, batchSize: nil, tolerance: 300,
        learningRates: [.sgd: 0.03, .momentum: 0.01, .nesterov: 0.01, .adagrad: 0.03, .rmsprop: 0.003,
                        .adadelta: 1, .adam: 0.01, .adamw: 0.01],
        kfacFisher: .sampled, kfacClip: nil,
        leftOut: [.natural: "a dense or low-rank Fisher of ~10⁵ parameters is what K-FAC approximates; it costs 40× a K-FAC step here"])
}
