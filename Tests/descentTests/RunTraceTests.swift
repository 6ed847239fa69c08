import Foundation
import Testing
import DescentProblems

/// `descent run --trace` against the library's own trajectory, bit for bit, in both precisions.
///
/// The tool reads every number as a Double and rounds it once to the run's precision, so the
/// library side below builds its values the same way (`S(0.01)` from a Double).
@Suite struct RunTraceTests {
    /// The IEEE bits of a Float or Double (so −0 ≠ +0 and NaNs compare by payload).
    func bits<S: BLASScalar>(_ x: S) -> UInt64 {
        if let f = x as? Float { return UInt64(f.bitPattern) }
        return (x as! Double).bitPattern
    }

    /// Parses the trace CSV: header, then `step,loss,theta…` rows.
    func readTrace<S: BLASScalar & LosslessStringConvertible>(_ url: URL, as: S.Type) throws -> (header: [String], rows: [(Int, S, [S])]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = try #require(lines.first).split(separator: ",").map(String.init)
        let rows = try lines.dropFirst().map { line -> (Int, S, [S]) in
            let cells = line.split(separator: ",").map(String.init)
            return (try #require(Int(cells[0])), try #require(S(cells[1])), try cells.dropFirst(2).map { try #require(S($0)) })
        }
        return (header, rows)
    }

    /// Runs the tool with a trace and compares it with `expected`, the library's history.
    func check<S: BLASScalar & LosslessStringConvertible>(_ arguments: [String], expected: TrainingResult<S>, dimension: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("trace.csv")
        let precision = S.self == Float.self ? "float" : "double"
        let result = try descent(["run"] + arguments + ["--precision", precision, "--trace", trace.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("final loss:"))
        let (header, rows) = try readTrace(trace, as: S.self)
        #expect(header == ["step", "loss"] + (0..<dimension).map { "theta\($0)" })
        #expect(rows.count == expected.history.count)
        #expect(rows.first?.0 == 0)
        for (row, record) in zip(rows, expected.history) {
            #expect(row.0 == record.step)
            #expect(bits(row.1) == bits(record.loss), "step \(record.step): loss \(row.1) vs \(record.loss)")
            #expect(row.2.map(bits) == record.parameters.map(bits), "step \(record.step): θ \(row.2) vs \(record.parameters)")
        }
        // No temporary file is left next to the trace.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["trace.csv"])
    }

    func rosenbrockAdam<S: BLASScalar & LosslessStringConvertible>(_: S.Type) throws {
        var adam = try Adam<S>(learningRate: S(0.01))
        let f = try Rosenbrock<S>(start: [S(-1.5), S(2)])
        let expected = try minimize(f, from: f.standardStart, optimizer: &adam,
                                    options: TrainingOptions(maxSteps: 300, recordParameters: true))
        try check(["--problem", "rosenbrock", "--optimizer", "adam", "--lr", "0.01", "--start", "-1.5,2", "--steps", "300"],
                  expected: expected, dimension: 2)
    }

    func quadraticNesterov<S: BLASScalar & LosslessStringConvertible>(_: S.Type) throws {
        var o = try Momentum<S>(learningRate: S(0.01), momentum: S(0.8), nesterov: true)
        let f = try IllConditionedQuadratic<S>(a: S(2), b: S(5), start: [S(0.5), S(-0.25)])
        let expected = try minimize(f, from: f.standardStart, optimizer: &o, options: TrainingOptions(maxSteps: 100, recordParameters: true))
        try check(["--problem", "quadratic", "--a", "2", "--b", "5", "--optimizer", "nesterov", "--lr", "0.01", "--momentum", "0.8",
                   "--start", "0.5,-0.25", "--steps", "100"], expected: expected, dimension: 2)
    }

    /// `--optimizer adadelta` alone keeps the library's defaults (η = 1).
    func bealeAdadeltaDefaults<S: BLASScalar & LosslessStringConvertible>(_: S.Type) throws {
        var o = try Adadelta<S>()
        let f = Beale<S>()
        let expected = try minimize(f, from: f.standardStart, optimizer: &o, options: TrainingOptions(maxSteps: 50, recordParameters: true))
        try check(["--problem", "beale", "--optimizer", "adadelta", "--steps", "50"], expected: expected, dimension: 2)
    }

    /// Synthetic data, minibatches, a schedule and clipping.
    func logisticMinibatches<S: BLASScalar & LosslessStringConvertible>(_: S.Type) throws {
        var o = try RMSProp<S>(learningRate: S(0.05), centered: true)
        let data = try SyntheticData.logisticRegression(samples: 200, features: 5, seed: 7, as: S.self).data
        let f = try LogisticRegression(data: data)
        let options = TrainingOptions<S>(maxSteps: 60, batchSize: 32, seed: 7,
                                         schedule: .step(initial: S(0.05), every: 10, factor: S(0.5)),
                                         gradientClipNorm: S(1), recordParameters: true)
        let expected = try minimize(f, from: f.initialParameters(seed: 7), optimizer: &o, options: options)
        try check(["--problem", "logistic", "--samples", "200", "--seed", "7", "--batch-size", "32", "--optimizer", "rmsprop",
                   "--centered", "--lr", "0.05", "--schedule", "step:10:0.5", "--clip-norm", "1", "--steps", "60"],
                  expected: expected, dimension: 6)
    }

    @Test func rosenbrockAdamDouble() throws { try rosenbrockAdam(Double.self) }
    @Test func rosenbrockAdamFloat() throws { try rosenbrockAdam(Float.self) }
    @Test func quadraticNesterovDouble() throws { try quadraticNesterov(Double.self) }
    @Test func quadraticNesterovFloat() throws { try quadraticNesterov(Float.self) }
    @Test func adadeltaDefaultsDouble() throws { try bealeAdadeltaDefaults(Double.self) }
    @Test func adadeltaDefaultsFloat() throws { try bealeAdadeltaDefaults(Float.self) }
    @Test func logisticMinibatchesDouble() throws { try logisticMinibatches(Double.self) }
    @Test func logisticMinibatchesFloat() throws { try logisticMinibatches(Float.self) }
}
