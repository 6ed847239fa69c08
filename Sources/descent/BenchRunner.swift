import Descent
import Foundation

/// Runs the cases `descent bench` asked for, prints each JSON line as soon as it is measured
/// (`--json`) or the tables at the end.
struct BenchRunner {
    let json: Bool
    let seconds: Double
    let rounds: Int
    var firstOrderRows: [BenchRow] = []
    var naturalRows: [BenchRow] = []
    var notes: [String] = []
    var progress = BenchProgress(total: 0)

    init(json: Bool, seconds: Double, rounds: Int) {
        self.json = json
        self.seconds = seconds
        self.rounds = rounds
    }

    mutating func emit(_ row: BenchRow, natural: Bool = false) {
        if natural { naturalRows.append(row) } else { firstOrderRows.append(row) }
        if json {
            print(row.jsonLine)
            fflush(nil)  // all streams: `stdout` is a global var Swift 6 refuses
        }
    }

    mutating func note(_ text: String) {
        notes.append(text)
        progress.note("descent bench: " + text)
    }

    // MARK: First order

    mutating func firstOrder(specs: [BenchOptimizer], sizes: [Int], explicitSizes: Bool, precisions: [String]) throws {
        progress = BenchProgress(total: specs.count * sizes.count * precisions.count)
        for precision in precisions {
            for n in sizes {
                if precision == "float" {
                    try firstOrderSize(Float.self, precision: precision, n: n, specs: specs, explicit: explicitSizes)
                } else {
                    try firstOrderSize(Double.self, precision: precision, n: n, specs: specs, explicit: explicitSizes)
                }
            }
        }
    }

    mutating func firstOrderSize<Scalar: BLASScalar>(_: Scalar.Type, precision: String, n: Int,
                                                     specs: [BenchOptimizer], explicit: Bool) throws {
        let scratch = specs.map(\.updatedArrays).max() ?? 1
        let arrays = 3 + scratch + (specs.map(\.stateArrays).max() ?? 0)
        let needed = arrays * BenchBuffers<Scalar>.arrayBytes(n)
        let available = BenchSystem.availableMemoryBytes()
        if Double(needed) > (explicit ? 0.85 : 0.5) * Double(available) {
            note("skipping n = \(n) \(precision): needs \(BenchTable.bytes(needed)), \(BenchTable.bytes(available)) available")
            for _ in specs { progress.finish() }
            return
        }
        let buffers = BenchBuffers<Scalar>(count: n, scratchArrays: scratch)
        defer { buffers.deallocate() }
        let size = MemoryLayout<Scalar>.stride
        for spec in specs {
            progress.start("\(spec.name) \(precision) n = \(BenchTable.size(n))")
            defer { progress.finish() }
            guard let t = try BenchFirstOrder.measure(spec, buffers: buffers, budgetSeconds: seconds,
                                                      minimumRounds: rounds) else {
                note("\(spec.name) is not in this build of the library; skipped")
                continue
            }
            let bytes = (spec.arraysRead + spec.arraysWritten) * n * size
            let checkedBytes = bytes + n * size
            let gbps = Double(bytes) / t.uncheckedSeconds * 1e-9
            let limit = Double(bytes) / t.streamSeconds * 1e-9
            var fields: [(String, BenchJSON)] = [
                ("kind", .string("first-order")),
                ("optimizer", .string(spec.name)),
                ("precision", .string(precision)),
                ("n", .int(n)),
                ("policy", .string("unchecked")),
                ("ns_per_element", .number(t.uncheckedSeconds / Double(n) * 1e9)),
                ("gbps", .number(gbps)),
                ("limit_gbps", .number(limit)),
                ("ratio_to_limit", .number(gbps / limit)),
                ("seconds_per_step", .number(t.uncheckedSeconds)),
                ("bytes_per_step", .int(bytes)),
                ("arrays_read", .int(spec.arraysRead)),
                ("arrays_written", .int(spec.arraysWritten)),
                ("checked_policy", .string("throwError")),
                ("checked_ns_per_element", .number(t.checkedSeconds / Double(n) * 1e9)),
                ("checked_gbps", .number(Double(checkedBytes) / t.checkedSeconds * 1e-9)),
                ("checked_seconds_per_step", .number(t.checkedSeconds)),
                ("checked_bytes_per_step", .int(checkedBytes)),
                ("limit_ns_per_element", .number(t.streamSeconds / Double(n) * 1e9)),
                ("threads", .int(ParallelConfiguration.threads)),
                ("rounds", .int(t.rounds)),
                ("steps_per_round", .int(t.stepsPerRound)),
            ]
            fields.append(("allocations_per_step", t.allocationsPerStep.map { .number($0) } ?? .null))
            fields.append(("checked_allocations_per_step", t.checkedAllocationsPerStep.map { .number($0) } ?? .null))
            fields.append(("allocation_method", .string(BenchSystem.allocationMethod)))
            fields.append(("peak_rss_bytes", .int(BenchSystem.peakResidentBytes())))
            emit(BenchRow(fields: fields))
        }
    }

    // MARK: Output

    func finish() {
        guard !json else { return }
        var out: [String] = []
        if !firstOrderRows.isEmpty {
            out.append("First-order optimizers: median time per step; 'unchecked' = nonFiniteGradientPolicy .unchecked (as PyTorch),")
            out.append("'default' = .throwError (reads the gradient once more); stream = plain kernel moving the same arrays, same threads.")
            var table = [["optimizer", "precision", "n", "ns/elem", "GB/s", "stream GB/s", "of stream", "ns/elem default", "GB/s default", "time/step", "allocs/step", "allocs default"]]
            for r in firstOrderRows {
                func d(_ k: String) -> Double { if case let .number(x)? = r[k] { return x }; return .nan }
                func s(_ k: String) -> String { if case let .string(x)? = r[k] { return x }; return "" }
                func i(_ k: String) -> Int { if case let .int(x)? = r[k] { return x }; return 0 }
                table.append([s("optimizer"), s("precision"), BenchTable.size(i("n")),
                              BenchTable.fixed(d("ns_per_element"), 3), BenchTable.fixed(d("gbps"), 1),
                              BenchTable.fixed(d("limit_gbps"), 1), BenchTable.fixed(100 * d("ratio_to_limit"), 0) + " %",
                              BenchTable.fixed(d("checked_ns_per_element"), 3), BenchTable.fixed(d("checked_gbps"), 1),
                              BenchTable.seconds(d("seconds_per_step")),
                              BenchTable.fixed(d("allocations_per_step"), 2), BenchTable.fixed(d("checked_allocations_per_step"), 2)])
            }
            out.append(BenchTable.render(table))
            out.append("")
        }
        if !naturalRows.isEmpty {
            out.append("Natural gradient: full step vs. the raw BLAS/LAPACK calls it consists of, same matrices.")
            var table = [["solver", "precision", "n", "m", "step", "raw calls", "ratio", "allocs/step", "raw allocs"]]
            for r in naturalRows {
                func d(_ k: String) -> Double { if case let .number(x)? = r[k] { return x }; return .nan }
                func s(_ k: String) -> String { if case let .string(x)? = r[k] { return x }; return "" }
                func i(_ k: String) -> Int { if case let .int(x)? = r[k] { return x }; return 0 }
                table.append([s("solver"), s("precision"), BenchTable.size(i("n")), String(i("m")),
                              BenchTable.seconds(d("seconds")), BenchTable.seconds(d("raw_seconds")),
                              BenchTable.fixed(d("seconds") / d("raw_seconds"), 3),
                              BenchTable.fixed(d("allocations_per_step"), 1), BenchTable.fixed(d("raw_allocations_per_step"), 1)])
            }
            out.append(BenchTable.render(table))
            out.append("")
        }
        out.append("Peak resident size: \(BenchTable.bytes(BenchSystem.peakResidentBytes())) (getrusage ru_maxrss).")
        out.append("Allocations: \(BenchSystem.allocationMethod); counted over the timed steps only (the first step allocates the state).")
        for n in notes { out.append("Note: " + n) }
        print(out.joined(separator: "\n"))
    }

    mutating func natural(choleskySizes: [Int], woodburySizes: [Int], ranks: [Int], choleskySamples: Int) throws {
        var cases: [(NaturalGradientSolver, Int, Int)] = choleskySizes.map { (.cholesky, $0, Swift.min(choleskySamples, $0)) }
        cases += choleskySizes.map { (.mixedPrecision, $0, Swift.min(choleskySamples, $0)) }
        for n in woodburySizes { for m in ranks where m < n { cases.append((.woodbury, n, m)) } }
        progress = BenchProgress(total: cases.count)
        for (solver, n, m) in cases {
            let name = solver == .cholesky ? "cholesky" : solver == .mixedPrecision ? "cholesky" : "woodbury"
            let bytes = 8 * (solver != .woodbury ? 2 * n * n + m * n : 2 * m * n + 2 * m * m) + 8 * 6 * n
            if Double(bytes) > 0.5 * Double(BenchSystem.availableMemoryBytes()) {
                note("skipping natural \(name) n = \(n), m = \(m): needs \(BenchTable.bytes(bytes))")
                progress.finish()
                continue
            }
            progress.start("natural \(name) n = \(BenchTable.size(n)) m = \(m)")
            defer { progress.finish() }
            let t = try BenchNatural.measure(solver: solver, n: n, m: m, minimumRounds: Swift.max(3, rounds / 2),
                                             budgetSeconds: seconds * 2)
            var fields: [(String, BenchJSON)] = [
                ("kind", .string("natural")),
                ("solver", .string(name)),
                ("precision", .string(solver == .mixedPrecision ? "mixed" : "double")),
                ("n", .int(n)),
                ("m", .int(m)),
                ("seconds", .number(t.seconds)),
                ("raw_seconds", .number(t.rawSeconds)),
                ("ratio", .number(t.seconds / t.rawSeconds)),
                ("raw_calls", .string(solver != .woodbury ? "syrk+potrf+potrs" : "syrk+potrf+gemv+potrs+gemv+axpy")),
                ("rounds", .int(t.rounds)),
            ]
            fields.append(("allocations_per_step", t.allocationsPerStep.map { .number($0) } ?? .null))
            fields.append(("raw_allocations_per_step", t.rawAllocationsPerStep.map { .number($0) } ?? .null))
            fields.append(("peak_rss_bytes", .int(BenchSystem.peakResidentBytes())))
            emit(BenchRow(fields: fields), natural: true)
        }
    }
}
