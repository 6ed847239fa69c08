import ArgumentParser
import Descent
import Foundation

/// `descent bench`: time per step of the first-order optimizers against the machine's memory
/// bandwidth, and of the natural-gradient step against the LAPACK/BLAS calls it is made of.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the optimizers: time per step, bandwidth, overhead, memory.",
        discussion: """
        First-order rows: the median time per step over repeated steps after a warm-up, on real \
        arrays, with the gradient alternating between two buffers. ns_per_element, gbps and \
        ratio are measured with nonFiniteGradientPolicy = .unchecked (as PyTorch, which does \
        not check); checked_* is the default .throwError, which reads the gradient once more. \
        limit_gbps is a plain stream kernel moving the same arrays with the same threads, \
        timed in the same rounds. Natural rows: the full natural-gradient step next to the raw \
        BLAS/LAPACK calls it consists of, on the same matrices. Never change OPENBLAS_* for a run.
        """
    )

    @Option(name: .long, help: "Benchmarks to run: first-order, natural, all (default: all, or first-order when --optimizer is given), checkpoint (write/read speed; JSON up to 1e7), or autoencoder (its loss+gradient, F·v and factors).")
    var kind: BenchKind?

    @Option(name: .long, help: "Comma-separated first-order optimizers (default: all of \(BenchOptimizer.all.map(\.name).joined(separator: ","))).")
    var optimizer: [String] = []

    @Option(name: .long, help: "Comma-separated parameter counts, e.g. 1e3,1e5,2e7 (default: 1e3,1e5,1e7,1e8 as memory allows).")
    var sizes: String?

    @Option(name: .long, help: "float, double or both.")
    var precision: BenchPrecision = .both

    @Flag(name: .long, help: "Print one JSON object per line instead of the table.")
    var json = false

    @Option(name: .long, help: "Time budget per first-order case in seconds (at least --rounds rounds are run).")
    var seconds: Double = 0.5

    @Option(name: .long, help: "Minimum number of timed rounds per case.")
    var rounds: Int = 5

    @Option(name: .long, help: "Threads for the element-wise kernels (default: the active cores).")
    var threads: Int?

    @Option(name: .long, help: "Comma-separated n for the natural-gradient Cholesky step (default 256,1024,4096,8192).")
    var choleskySizes: String?

    @Option(name: .long, help: "Comma-separated n for the Woodbury step (default 1e4,1e5,1e6).")
    var woodburySizes: String?

    @Option(name: .long, help: "Comma-separated sample counts m for the Woodbury step (default 64,256).")
    var woodburyRanks: String?

    @Option(name: .long, help: "Score rows m of the empirical Fisher in the Cholesky case (m = min(this, n)).")
    var choleskySamples: Int = 256

    @OptionGroup(title: "K-FAC (--kind kfac, kfac-race)")
    var kfacOptions: BenchKFACOptions

    @OptionGroup(title: "Autoencoder (--kind autoencoder)")
    var autoencoderOptions: BenchAutoencoderOptions

    mutating func validate() throws {
        optimizer = optimizer.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
        for name in optimizer where BenchOptimizer.named(name) == nil && !(kind == .distributed && name == "kfac") {
            throw ValidationError("unknown optimizer '\(name)'; known: \(BenchOptimizer.all.map(\.name).joined(separator: ", "))")
        }
        guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be > 0, got \(seconds)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be ≥ 1, got \(rounds)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        _ = try Bench.parseSizes(sizes, option: "--sizes")
        _ = try Bench.parseSizes(choleskySizes, option: "--cholesky-sizes")
        _ = try Bench.parseSizes(woodburySizes, option: "--woodbury-sizes")
        _ = try Bench.parseSizes(woodburyRanks, option: "--woodbury-ranks")
    }

    /// Parses "1e3,100000,2e7" into counts ≥ 1.
    static func parseSizes(_ text: String?, option: String) throws -> [Int]? {
        guard let text else { return nil }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let s = item.trimmingCharacters(in: .whitespaces)
            guard let x = Double(s), x >= 1, x <= 1e12, x.rounded() == x else {
                throw ValidationError("\(option): '\(Message.clip(s))' is not a positive whole number")
            }
            return Int(x)
        }
    }

    func run() throws {
        BenchSystem.preloadAllocationCounter()
        if let threads { ParallelConfiguration.threads = threads }
        let kind = self.kind ?? (optimizer.isEmpty ? .all : .firstOrder)
        if kind == .distributed, optimizer.contains("kfac") {  // under mpirun; the digits perceptron
            return try DistributedBench.runKFAC(hidden: try kfacOptions.widths(), batch: kfacOptions.batch, steps: max(rounds, 5), json: json)
        }
        if kind == .distributed {  // under mpirun; --sizes default 1e7, 4 samples per rank
            return try DistributedBench.run(sizes: try Bench.parseSizes(sizes, option: "--sizes") ?? [10_000_000], steps: max(rounds, 5),
                                            samplesPerRank: 4, json: json)
        }
        if kind == .checkpoint {
            return try BenchCheckpoint.run(sizes: try Bench.parseSizes(sizes, option: "--sizes") ?? [10_000_000, 100_000_000],
                                           precisions: precision.scalars, jsonLimit: 10_000_000, json: json,
                                           directory: FileManager.default.temporaryDirectory)
        }
        if kind == .autoencoder {
            return try BenchAutoencoder.run(options: autoencoderOptions, precisions: precision.scalars, rounds: rounds, seconds: seconds, json: json)
        }
        var runner = BenchRunner(json: json, seconds: seconds, rounds: rounds)
        if !json {
            print(OpenBLAS.summary)
            print("kernels: \(KernelSelection.current.explanation)")
            if let hint = OpenBLAS.machineKernelHint { print("hint: \(hint)") }
        }
        if kind == .kfac || kind == .kfacRace {
            try runKFAC(kind, runner: &runner)
            return
        }
        if kind != .natural {
            let specs = optimizer.isEmpty ? BenchOptimizer.all : optimizer.compactMap(BenchOptimizer.named)
            let explicit = try Bench.parseSizes(sizes, option: "--sizes")
            try runner.firstOrder(specs: specs, sizes: explicit ?? [1_000, 100_000, 10_000_000, 100_000_000],
                                  explicitSizes: explicit != nil, precisions: precision.scalars)
        }
        if kind != .firstOrder {
            try runner.natural(choleskySizes: try Bench.parseSizes(choleskySizes, option: "") ?? [256, 1024, 4096, 8192],
                               woodburySizes: try Bench.parseSizes(woodburySizes, option: "") ?? [10_000, 100_000, 1_000_000],
                               ranks: try Bench.parseSizes(woodburyRanks, option: "") ?? [64, 256],
                               choleskySamples: choleskySamples)
        }
        runner.finish()
    }
}

enum BenchKind: String, ExpressibleByArgument, CaseIterable {
    case firstOrder = "first-order"
    case natural
    case all
    case distributed
    /// K-FAC on the digits perceptron (BenchKFAC.swift); not part of `all`.
    case kfac
    case kfacRace = "kfac-race"
    /// Checkpoint write/read speed (not part of `all`: it writes GBs to disk).
    case checkpoint
    /// The autoencoder's loss, gradient, F·v and factors (BenchAutoencoder.swift); not part of `all`.
    case autoencoder
}

enum BenchPrecision: String, ExpressibleByArgument, CaseIterable {
    case float, double, both

    var scalars: [String] {
        switch self {
        case .float: return ["float"]
        case .double: return ["double"]
        case .both: return ["float", "double"]
        }
    }
}
