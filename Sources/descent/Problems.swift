import ArgumentParser
import Foundation
import DescentProblems

/// The problems the tool knows, by their command-line names.
enum ProblemName: String, CaseIterable, ExpressibleByArgument, Sendable {
    case quadratic, rosenbrock, beale, saddle, linear, logistic, softmax, mlp, autoencoder

    var isPlane: Bool { [.quadratic, .rosenbrock, .beale, .saddle].contains(self) }
}

/// Problem options of `descent run` (and the fixed choices of `descent compare`).
extension HiddenActivation: ExpressibleByArgument {}

struct ProblemOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Quadratic: a of L = a²x̃² + b²ỹ² (library default 1).")
    var a: Double?
    @Option(parsing: .unconditional, help: "Quadratic: b of L = a²x̃² + b²ỹ² (library default 10).")
    var b: Double?
    @Option(parsing: .unconditional, help: "MLP: hidden layer widths, e.g. 16,8. Autoencoder: the encoder's widths, mirrored by the decoder (default 1000,500,250,30).")
    var hidden: String?
    @Option(help: "Data problems: a CSV file with a header row, a bundled set (breast-cancer, digits), or fashion-mnist (Debian's dataset-fashion-mnist). Without it: synthetic data. The autoencoder takes fashion-mnist or a CSV whose columns are all inputs in [0, 1].")
    var data: String?
    @Option(help: "The CSV column holding the target (default: target).")
    var target: String?
    @Flag(help: "Standardize the features (z-scores, population std).")
    var standardize = false
    @Option(parsing: .unconditional, help: "Synthetic data: number of samples (default 500); fashion-mnist: the first N training images (default all 60000).", transform: { try SizeArgument.parse($0) })
    var samples: Int?
    @Option(parsing: .unconditional, help: "Synthetic data: number of features (linear, logistic, softmax; default 5).", transform: { try SizeArgument.parse($0) })
    var features: Int?
    @Option(parsing: .unconditional, help: "Synthetic data: number of classes (softmax; default 3).", transform: { try SizeArgument.parse($0) })
    var classes: Int?
    @Option(help: "MLP and autoencoder: hidden activation, tanh|sigmoid (library default tanh).")
    var activation: HiddenActivation?
    @Option(parsing: .unconditional, help: "L2 penalty of the regression models (library default 0).")
    var l2: Double?

    func settings(_ name: ProblemName) -> ProblemSettings {
        ProblemSettings(name: name, a: a, b: b, hidden: hidden, data: data, target: target,
                        standardize: standardize, samples: samples, features: features, classes: classes,
                        activation: activation, l2: l2)
    }
}

/// A problem as chosen on the command line (unset values keep the library's defaults).
struct ProblemSettings: Sendable {
    var name: ProblemName
    var a: Double?
    var b: Double?
    var hidden: String?
    var data: String?
    var target: String?
    var standardize = false
    var samples: Int?
    var features: Int?
    var classes: Int?
    var activation: HiddenActivation?
    var l2: Double?

    /// Throws for an option that does not apply to the problem.
    func checkApplicable() throws {
        func refuse(_ option: String, _ users: String) throws {
            throw CLIError("\(option) does not apply to the \(name.rawValue) problem (it applies to \(users))")
        }
        if name != .quadratic, a != nil { try refuse("--a", "quadratic") }
        if name != .quadratic, b != nil { try refuse("--b", "quadratic") }
        if name != .mlp && name != .autoencoder, hidden != nil { try refuse("--hidden", "mlp, autoencoder") }
        if name != .mlp && name != .autoencoder, activation != nil { try refuse("--activation", "mlp, autoencoder") }
        if name == .mlp || name == .autoencoder, l2 != nil { try refuse("--l2", "linear, logistic, softmax") }
        if name == .mlp || name == .autoencoder || name.isPlane, features != nil { try refuse("--features", "linear, logistic, softmax (synthetic data)") }
        if name == .autoencoder {
            guard data != nil else { throw CLIError("the autoencoder needs --data: fashion-mnist, or a CSV file whose columns are all inputs in [0, 1]") }
            if target != nil { try refuse("--target", "linear, logistic, softmax, mlp; the autoencoder's CSV has no target column") }
            if standardize { try refuse("--standardize", "linear, logistic, softmax, mlp; the autoencoder's inputs stay in [0, 1]") }
        }
        if name != .softmax, classes != nil { try refuse("--classes", "softmax (synthetic data)") }
        if let a, !a.isFinite { throw CLIError("--a: \(a) is not a finite number") }
        if let b, !b.isFinite { throw CLIError("--b: \(b) is not a finite number") }
        if let l2, !(l2 >= 0 && l2.isFinite) { throw CLIError("--l2: \(l2) must be a finite number ≥ 0") }
        if let classes, classes > SoftmaxRegression<Double>.maximumClassCount {
            throw CLIError("--classes: \(classes) is more than the \(SoftmaxRegression<Double>.maximumClassCount) classes a softmax model takes")
        }
        if let features, features < 1 { throw CLIError("--features: \(features) must be ≥ 1") }
        if let classes, classes < 2 { throw CLIError("--classes: \(classes) must be ≥ 2") }
        if data != nil && (features != nil || classes != nil) { throw CLIError("--features and --classes apply to synthetic data only, not with --data") }
        if name.isPlane {
            if data != nil { try refuse("--data", "linear, logistic, softmax, mlp") }
            if target != nil { try refuse("--target", "linear, logistic, softmax, mlp") }
            if standardize { try refuse("--standardize", "linear, logistic, softmax, mlp") }
            if samples != nil { try refuse("--samples", "linear, logistic, softmax, mlp") }
            if l2 != nil { try refuse("--l2", "linear, logistic, softmax, mlp") }
        }
        if target != nil && data == nil { throw CLIError("--target needs --data") }
        if let samples, samples < 2 { throw CLIError("--samples: \(samples) must be ≥ 2") }
        if data != nil && data != DataSource.fashionMNIST && samples != nil {
            throw CLIError("--samples applies to synthetic data and --data \(DataSource.fashionMNIST) only, not with other --data")
        }
        if data == DataSource.fashionMNIST && target != nil { throw CLIError("--target does not apply to --data \(DataSource.fashionMNIST) (its target is the label)") }
    }

    /// Builds the objective in precision `S`; `start` (when given) must have its dimension.
    func make<S: BLASScalar>(_: S.Type, seed: UInt64, start: [Double]?) throws -> Problem<S> {
        try checkApplicable()
        if let start, name.isPlane, start.count != 2 {
            throw CLIError("--start has \(start.count) values but the \(name.rawValue) problem has 2 parameters")
        }
        let s2: [S]? = start.map { $0.map { S($0) } }
        let problem: Problem<S>
        switch name {
        case .quadratic:
            var q = IllConditionedQuadratic<S>()
            if let a { q.a = S(a) }
            if let b { q.b = S(b) }
            if let s2 { q.standardStart = s2 }
            problem = Problem(plane: q)
        case .rosenbrock:
            problem = Problem(plane: try s2.map { try Rosenbrock<S>(start: $0) } ?? Rosenbrock<S>())
        case .beale:
            problem = Problem(plane: try s2.map { try Beale<S>(start: $0) } ?? Beale<S>())
        case .saddle:
            problem = Problem(plane: try s2.map { try Saddle<S>(start: $0) } ?? Saddle<S>())
        case .autoencoder:
            let data = try DataSource(spec: self).load(S.self, seed: seed)
            problem = Problem(objective: try makeAutoencoder(data: data), seed: seed)
        case .linear, .logistic, .softmax, .mlp:
            try checkSyntheticSize(S.self)
            let data = try DataSource(spec: self).load(S.self, seed: seed)
            if name == .mlp { try checkPerceptronSize(S.self, data: data) }
            let l2 = S(self.l2 ?? 0)
            let objective: any Objective<S>
            do {
                switch name {
                case .linear: objective = try LinearRegression(data: data, l2: l2)
                case .logistic: objective = try LogisticRegression(data: data, l2: l2)
                case .softmax: objective = try SoftmaxRegression(data: data, l2: l2)
                default: objective = try makePerceptron(data: data, l2: l2)
                }
            } catch let error as DataError {
                throw CLIError("\(name.rawValue): \(error)")
            }
            problem = Problem(objective: objective, seed: seed)
        }
        if let start, start.count != problem.objective.dimension {
            throw CLIError("--start has \(start.count) values but the \(name.rawValue) problem has \(problem.objective.dimension) parameters")
        }
        var p = problem
        if let s2 { p.start = s2 }
        return p
    }

    /// Throws when the synthetic data (drawn in Double, stored in `S`, copied once by the model)
    /// and the model's parameters would not fit in memory. CSV data is bounded by its file.
    func checkSyntheticSize<S: BLASScalar>(_: S.Type) throws {
        guard data == nil else { return }
        let m = samples ?? 500
        let d = name == .mlp ? 2 : (features ?? 5)
        let k = name == .softmax ? (classes ?? 3) : 1
        let s = MemoryLayout<S>.size
        let perValue = 8 + 2 * s
        let bytes = MemoryBudget.sum([
            MemoryBudget.product(m, d + 1, perValue),                      // features and targets
            MemoryBudget.product(k, d + 1, 8 * s),                         // θ, gradient, optimizer state
            name == .softmax ? MemoryBudget.product(m, k, 2 * s) : 0,      // class scores
        ])
        var what = "--samples \(m)"
        if name != .mlp { what += " × --features \(d)" }
        if name == .softmax { what += " × --classes \(k)" }
        try MemoryBudget.require(bytes, for: what)
    }

    /// Throws when the perceptron's parameters and activations would not fit in memory.
    func checkPerceptronSize<S: BLASScalar>(_: S.Type, data: Dataset<S>) throws {
        let widths = try hidden.map { try ListParser.integers($0, option: "--hidden") } ?? [16]
        let k = Swift.max(1, Swift.min(data.classCount ?? 1, SoftmaxRegression<S>.maximumClassCount))
        let layers = [data.featureCount] + widths + [k > 2 ? k : 1]
        var parameters: [Int?] = []
        for (i, o) in zip(layers, layers.dropFirst()) { parameters.append(MemoryBudget.product(i + 1, o)) }
        let s = MemoryLayout<S>.size
        let bytes = MemoryBudget.sum([
            MemoryBudget.sum(parameters).flatMap { MemoryBudget.product($0, 8 * s) },
            MemoryBudget.sum(widths.map { MemoryBudget.product(data.sampleCount, $0, 3 * s) }),
        ])
        try MemoryBudget.require(bytes, for: "--hidden \(Message.clip(hidden ?? "16"))")
    }

    /// The autoencoder of `data`'s features: `--hidden` the encoder's widths (default
    /// 1000,500,250,30), `--activation`; throws when its parameters and activations would not fit.
    func makeAutoencoder<S: BLASScalar>(data: Dataset<S>) throws -> any Objective<S> {
        let widths = try hidden.map { try ListParser.integers($0, option: "--hidden") } ?? Autoencoder<S>.standardEncoderWidths
        let layers = [data.featureCount] + widths + widths.dropLast().reversed() + [data.featureCount]
        var parameters: [Int?] = []
        for (i, o) in zip(layers, layers.dropFirst()) { parameters.append(MemoryBudget.product(i + 1, o)) }
        let s = MemoryLayout<S>.size
        let bytes = MemoryBudget.sum([
            MemoryBudget.sum(parameters).flatMap { MemoryBudget.product($0, 8 * s) },
            MemoryBudget.sum(layers.dropFirst().map { MemoryBudget.product(data.sampleCount, $0, 3 * s) }),
        ])
        try MemoryBudget.require(bytes, for: "--hidden \(Message.clip(hidden ?? widths.map(String.init).joined(separator: ",")))")
        do {
            return try Autoencoder(data: data, encoderWidths: widths, hiddenActivation: activation ?? .tanh)
        } catch let error as DataError {
            throw CLIError("autoencoder: \(error)")
        }
    }

    func makePerceptron<S: BLASScalar>(data: Dataset<S>, l2: S) throws -> any Objective<S> {
        let widths = try hidden.map { try ListParser.integers($0, option: "--hidden") } ?? [16]
        // The output layer follows the targets: K > 2 classes → softmax, 0/1 → sigmoid, else linear.
        let output: OutputLayer
        switch data.classCount {
        case let k? where k > 2: output = .softmax
        case 2?, 1?: output = .sigmoid
        default: output = .linear
        }
        if let activation {
            return try MultilayerPerceptron(data: data, hiddenLayers: widths, hiddenActivation: activation, outputLayer: output)
        }
        return try MultilayerPerceptron(data: data, hiddenLayers: widths, outputLayer: output)
    }
}

/// An objective with its starting point and, for 2-D test functions, what a contour plot needs.
struct Problem<S: BLASScalar> {
    var objective: any Objective<S>
    var start: [S]
    /// f(x, y) in Double, for contour plots of 2-D problems.
    var surface: ((Double, Double) -> Double)?
    var domain: PlotDomain?
    var minimum: (x: Double, y: Double)?
    var minimumValue: Double?

    init(objective: any Objective<S>, seed: UInt64) {
        self.objective = objective
        self.start = objective.initialParameters(seed: seed)
    }

    init<P: PlaneObjective>(plane: P) where P.Scalar == S {
        self.objective = plane
        self.start = plane.standardStart
        // The surface in Double precision regardless of S, so contours look the same.
        self.surface = { x, y in Double(plane.value(x: S(x), y: S(y))) }
        self.domain = plane.domain
        if let m = plane.minimum {
            self.minimum = (Double(m.point[0]), Double(m.point[1]))
            self.minimumValue = Double(m.value)
        }
    }
}
