import Foundation

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28 × 28 grey images of 10 kinds of clothing,
/// 60 000 for training and 10 000 for testing, as Debian's `dataset-fashion-mnist` installs them
/// (IDX files, gzip-compressed, in ``standardDirectory``; `scripts/install-deps` installs it).
///
/// ``load(directory:split:samples:as:)`` gives a ``Dataset`` of the first N images: 784 features
/// pixel / 255 ∈ [0, 1] (row by row), and the class label 0–9 as the target — a 10-class
/// classification for the perceptron and softmax regression, and the autoencoder's inputs.
public enum FashionMNIST {
    /// Where Debian's package puts the files.
    public static var standardDirectory: String { "/usr/share/datasets/fashion-mnist" }
    /// The side of an image.
    public static var side: Int { 28 }
    /// The number of classes.
    public static var classCount: Int { 10 }

    /// The training (60 000 images) or test (10 000) part.
    public enum Split: String, Sendable, CaseIterable {
        case train
        case test

        /// The file-name stem: `train` or `t10k`.
        var stem: String { self == .train ? "train" : "t10k" }
    }

    /// The path of the images (`labels` false) or labels file of `split` in `directory`: the
    /// `.gz` file, or the uncompressed one when only that exists.
    public static func path(directory: String = standardDirectory, split: Split, labels: Bool) -> String {
        let name = labels ? "\(split.stem)-labels-idx1-ubyte" : "\(split.stem)-images-idx3-ubyte"
        let base = (directory as NSString).appendingPathComponent(name)
        let compressed = base + ".gz"
        return FileManager.default.fileExists(atPath: compressed) || !FileManager.default.fileExists(atPath: base) ? compressed : base
    }

    /// True when the training images and labels are installed in `directory`.
    public static func isInstalled(directory: String = standardDirectory) -> Bool {
        FileManager.default.fileExists(atPath: path(directory: directory, split: .train, labels: false))
            && FileManager.default.fileExists(atPath: path(directory: directory, split: .train, labels: true))
    }

    /// The first `samples` images of `split` (all when nil) with their labels: features
    /// pixel / 255 (rounded once to `Scalar`), targets the labels.
    /// - Throws: ``DataError`` when a file is missing or malformed (see ``IDXReader``), when
    ///   `samples` is not in 1…(the images in the file), when the two files disagree on the count,
    ///   or for a label outside 0–9 (naming the file and sample).
    /// - Complexity: O(samples · 784); only the samples asked for are decompressed.
    public static func load<Scalar: BLASScalar>(directory: String = standardDirectory, split: Split = .train, samples: Int? = nil,
                                                as: Scalar.Type = Scalar.self) throws -> Dataset<Scalar> {
        if let samples, samples <= 0 { throw DataError.shapeMismatch("fashion-mnist: samples = \(samples) must be > 0") }
        let imagePath = path(directory: directory, split: split, labels: false)
        let labelPath = path(directory: directory, split: split, labels: true)
        let images = try IDXReader.read(imagePath, expectedSizes: [nil, side, side], maximumItems: samples)
        let labels = try IDXReader.read(labelPath, expectedSizes: [nil], maximumItems: samples)
        guard images.sizes[0] == labels.sizes[0] else {
            throw DataError.shapeMismatch("fashion-mnist: \(imagePath) has \(images.sizes[0]) images but \(labelPath) \(labels.sizes[0]) labels")
        }
        if let samples, samples > images.sizes[0] {
            throw DataError.shapeMismatch("fashion-mnist: \(samples) samples asked for, \(imagePath) has \(images.sizes[0])")
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DataError.invalidTarget(sample: bad, value: "\(labels.bytes[bad]) in \(labelPath)", expected: "a class label in 0..<\(classCount)")
        }
        let pixels = side * side
        // pixel / 255 correctly rounded in Double, then rounded once to Scalar: a table of 256.
        let table = (0..<256).map { Scalar(Double($0) / 255) }
        let features = images.bytes.map { table[Int($0)] }
        return try Dataset(features: try Matrix(rows: images.items, columns: pixels, elements: features),
                           targets: labels.bytes.map { Scalar($0) },
                           featureNames: (0..<pixels).map { "pixel\($0)" }, targetName: "label")
    }
}
