/// Seeded synthetic data for each model, drawn with ``SplitMix64`` in Double (so a seed gives the
/// same data in both precisions, up to the final rounding, on every platform). Features are
/// standard normal unless stated; the true parameters use the models' θ layouts.
public enum SyntheticData {
    /// A data set with the parameters that generated it.
    public struct Problem<Scalar: BLASScalar>: Sendable {
        public var data: Dataset<Scalar>
        /// The generating θ in the model's layout (weights, then intercept last).
        public var trueParameters: [Scalar]
    }

    /// Throws ``DataError/shapeMismatch(_:)`` for m < 1, d < 1, K < 2 or an m·d (K·(d + 1))
    /// beyond Int; `LinearAlgebraError/allocationTooLarge(what:bytes:limit:)` when the
    /// generation's peak (m·d Doubles, their m × d copy in `Scalar`, m targets of each, K·(d + 1)
    /// parameters and K per-sample scores) exceeds what the process can allocate.
    static func checkSizes<Scalar>(samples m: Int, features d: Int, classes k: Int = 2, as _: Scalar.Type) throws {
        guard m >= 1, d >= 1, k >= 2 else {
            throw DataError.shapeMismatch("synthetic data: samples = \(m) and features = \(d) must be ≥ 1, classes = \(k) ≥ 2")
        }
        let (md, o1) = m.multipliedReportingOverflow(by: d)
        let (kd, o2) = k.multipliedReportingOverflow(by: d &+ 1)
        guard !o1, !o2, md < Int.max / 16, kd < Int.max / 16 else {
            throw DataError.shapeMismatch("synthetic data: \(m) samples × \(d) features × \(k) classes overflow the sizes of an array")
        }
        let stride = MemoryLayout<Double>.stride + MemoryLayout<Scalar>.stride
        let peak = MemoryLimit.sum([MemoryLimit.product([md + m, stride]), MemoryLimit.product([kd + 3 * k, stride])])
        try MemoryLimit.require(peak, for: "synthetic data of \(m) samples × \(d) features\(k > 2 ? " × \(k) classes" : "")")
    }

    @inlinable
    static func normals(_ rng: inout SplitMix64, _ count: Int) -> [Double] { (0..<count).map { _ in rng.nextNormal() } }

    static func matrix<Scalar: BLASScalar>(_ x: [Double], rows: Int, columns: Int) -> Matrix<Scalar> {
        try! Matrix(rows: rows, columns: columns, elements: x.map { Scalar($0) })
    }

    /// - Throws: ``DataError/shapeMismatch(_:)`` for sizes < 1 or beyond an array's (every generator).
    ///
    /// yᵢ = xᵢᵀw + b + σεᵢ with w ~ N(0, I), b ~ N(0, 1), ε ~ N(0, 1): for ``LinearRegression``.
    public static func linearRegression<Scalar: BLASScalar>(samples m: Int, features d: Int, noise σ: Double = 0.1,
                                                           seed: UInt64 = 0, as: Scalar.Type = Scalar.self) throws -> Problem<Scalar> {
        try checkSizes(samples: m, features: d, as: Scalar.self)
        var rng = SplitMix64(seed: seed)
        let w = normals(&rng, d), b = rng.nextNormal()
        let x = normals(&rng, m * d)
        let y = (0..<m).map { i in (0..<d).reduce(b) { $0 + x[i * d + $1] * w[$1] } + σ * rng.nextNormal() }
        return Problem(data: try Dataset(features: matrix(x, rows: m, columns: d), targets: y.map { Scalar($0) }),
                       trueParameters: (w + [b]).map { Scalar($0) })
    }

    /// yᵢ ~ Bernoulli(σ(xᵢᵀw + b)) with w ~ N(0, I)·scale, b ~ N(0, 1)·scale: for ``LogisticRegression``.
    public static func logisticRegression<Scalar: BLASScalar>(samples m: Int, features d: Int, scale: Double = 1,
                                                             seed: UInt64 = 0, as: Scalar.Type = Scalar.self) throws -> Problem<Scalar> {
        try checkSizes(samples: m, features: d, as: Scalar.self)
        var rng = SplitMix64(seed: seed)
        let w = normals(&rng, d).map { $0 * scale }, b = rng.nextNormal() * scale
        let x = normals(&rng, m * d)
        let y = (0..<m).map { i -> Double in
            let z = (0..<d).reduce(b) { $0 + x[i * d + $1] * w[$1] }
            return rng.nextUniform() < 1 / (1 + _exp(-z)) ? 1 : 0
        }
        return Problem(data: try Dataset(features: matrix(x, rows: m, columns: d), targets: y.map { Scalar($0) }),
                       trueParameters: (w + [b]).map { Scalar($0) })
    }

    /// yᵢ ~ Categorical(softmax(W xᵢ + c)), W, c ~ N(0, 1)·scale: for ``SoftmaxRegression``
    /// (θ layout class by class [W_k | c_k]).
    public static func softmaxRegression<Scalar: BLASScalar>(samples m: Int, features d: Int, classes k: Int, scale: Double = 1,
                                                            seed: UInt64 = 0, as: Scalar.Type = Scalar.self) throws -> Problem<Scalar> {
        try checkSizes(samples: m, features: d, classes: k, as: Scalar.self)
        var rng = SplitMix64(seed: seed)
        let θ = normals(&rng, k * (d + 1)).map { $0 * scale }
        let x = normals(&rng, m * d)
        let y = (0..<m).map { i -> Double in
            let z = (0..<k).map { c in (0..<d).reduce(θ[c * (d + 1) + d]) { $0 + x[i * d + $1] * θ[c * (d + 1) + $1] } }
            let mx = z.max()!
            let e = z.map { _exp($0 - mx) }
            let u = rng.nextUniform() * e.reduce(0, +)
            var acc = 0.0
            for c in 0..<k { acc += e[c]; if u < acc { return Double(c) } }
            return Double(k - 1)
        }
        return Problem(data: try Dataset(features: matrix(x, rows: m, columns: d), targets: y.map { Scalar($0) }),
                       trueParameters: θ.map { Scalar($0) })
    }

    /// Two interleaving half circles ("moons", as scikit-learn's `make_moons`): class 0 on
    /// (cos t, sin t), class 1 on (1 − cos t, ½ − sin t), t uniform in [0, π], plus N(0, noise²)
    /// jitter; samples alternate between the classes. Not linearly separable: for a sigmoid
    /// ``MultilayerPerceptron``. `trueParameters` is empty.
    public static func moons<Scalar: BLASScalar>(samples m: Int, noise: Double = 0.1, seed: UInt64 = 0,
                                                as: Scalar.Type = Scalar.self) throws -> Problem<Scalar> {
        try checkSizes(samples: m, features: 2, as: Scalar.self)
        var rng = SplitMix64(seed: seed)
        var x = [Double](), y = [Double]()
        x.reserveCapacity(2 * m)
        for i in 0..<m {
            let t = Double.pi * rng.nextUniform()
            let label = Double(i % 2)
            let (px, py) = label == 0 ? (_cos(t), _sin(t)) : (1 - _cos(t), 0.5 - _sin(t))
            x.append(px + noise * rng.nextNormal())
            x.append(py + noise * rng.nextNormal())
            y.append(label)
        }
        return Problem(data: try Dataset(features: matrix(x, rows: m, columns: 2), targets: y.map { Scalar($0) }, featureNames: ["x", "y"]),
                       trueParameters: [])
    }
}

import Foundation
@inlinable func _exp(_ x: Double) -> Double { Foundation.exp(x) }
