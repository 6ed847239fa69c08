import Foundation

/// Everything a run needs to continue as if never interrupted: θ, the optimizer (hyperparameters
/// and state, curvature averages included), the options (schedule, clipping, stopping rules,
/// and the live state of ``ReduceLROnPlateau`` and ``EarlyStopping``), the sampler's position
/// and generator, the step t, the history so far and the elapsed time.
///
/// ``minimize(_:state:validation:control:)`` advances a state; saving it (``checkpoint(format:)``,
/// ``write(to:format:)``) and continuing from the restored value gives bit-identical θ at every
/// later step, for every optimizer, with minibatches, schedules, clipping and plateaus:
///
///     var state = try TrainingState(parameters: start, optimizer: adam, options: options)
///     _ = try minimize(model, state: &state)               // pauses after options.stopAfter steps
///     try state.write(to: url)
///     var resumed = try TrainingState<Adam<Double>>(contentsOf: url)
///     _ = try minimize(model, state: &resumed)             // continues at step t
///
/// `metadata` carries what the caller needs to rebuild the objective (the command line stores
/// its problem and data options there).
///
/// - Complexity: O(n) memory for θ plus the optimizer's state plus the history; a checkpoint
///   stores θ, the optimizer's arrays and the sampler's permutation as raw blocks.
public struct TrainingState<O: Optimizer>: Sendable, Codable {
    public typealias Scalar = O.Scalar
    /// The kind written into checkpoints.
    public static var kind: String { "training-state" }

    /// θ_t.
    public var parameters: [Scalar]
    public var optimizer: O
    /// The options; the plateau and early-stopping values in them carry their counters. Raise
    /// `maxSteps` to train longer; set `stopAfter` to pause again.
    public var options: TrainingOptions<Scalar>
    /// t, the optimizer steps taken so far.
    public var step: Int
    /// The minibatch sampler (nil for full-data runs, or before the first step).
    public var sampler: MinibatchSampler?
    /// One record per step taken (t = 0 ..< step); the final record of a run is in its result only.
    public var history: [TrainingRecord<Scalar>]
    /// Seconds of training so far (counts towards ``TrainingOptions/maxSeconds``).
    public var elapsed: Double
    /// The reason the last call ended when it was final (not ``StopReason/paused`` or the step
    /// limit, which a larger `maxSteps` continues); nil while the run can continue.
    public var finished: StopReason?
    /// Free-form strings for the caller (e.g. the command line's problem description).
    public var metadata: [String: String]

    /// A fresh state at t = 0.
    /// - Throws: ``TrainingError`` for invalid options.
    public init(parameters: [Scalar], optimizer: O, options: TrainingOptions<Scalar> = TrainingOptions(),
                metadata: [String: String] = [:]) throws {
        try options.validate()
        self.parameters = parameters
        self.optimizer = optimizer
        self.options = options
        self.step = 0
        self.sampler = nil
        self.history = []
        self.elapsed = 0
        self.finished = nil
        self.metadata = metadata
    }

    private enum CodingKeys: String, CodingKey {
        case version, kind, scalar, optimizerKind, parameters, optimizer, options, step, sampler, history, elapsed, finished, metadata
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(BinaryCheckpoint.formatVersion, forKey: .version)
        try c.encode(Self.kind, forKey: .kind)
        try c.encode(String(describing: Scalar.self), forKey: .scalar)
        try c.encode(O.kind, forKey: .optimizerKind)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(options, forKey: .options)
        try c.encode(step, forKey: .step)
        try c.encodeIfPresent(sampler, forKey: .sampler)
        try c.encode(HistoryColumns(history), forKey: .history)
        try c.encode(elapsed, forKey: .elapsed)
        try c.encodeIfPresent(finished, forKey: .finished)
        try c.encode(metadata, forKey: .metadata)
    }

    /// Decodes and checks a state: kind, scalar type and optimizer named in the error when they
    /// differ; θ and the optimizer's state of the same length; the history consistent with t.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 0
        guard version <= BinaryCheckpoint.formatVersion else {
            throw CheckpointError.unsupportedVersion(found: version, supported: BinaryCheckpoint.formatVersion)
        }
        let kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "?"
        guard kind == Self.kind else { throw CheckpointError.kindMismatch(expected: Self.kind, found: kind) }
        let scalar = try c.decode(String.self, forKey: .scalar), optimizerKind = try c.decode(String.self, forKey: .optimizerKind)
        guard scalar == String(describing: Scalar.self), optimizerKind == O.kind else {
            throw OptimizerError.checkpointMismatch(expected: "\(O.kind)<\(Scalar.self)>", found: "\(optimizerKind)<\(scalar)>")
        }
        parameters = try c.decode([Scalar].self, forKey: .parameters)
        optimizer = try c.decode(O.self, forKey: .optimizer)
        try optimizer.validate()
        try optimizer.validateState()
        options = try c.decode(TrainingOptions<Scalar>.self, forKey: .options)
        step = try c.decode(Int.self, forKey: .step)
        sampler = try c.decodeIfPresent(MinibatchSampler.self, forKey: .sampler)
        history = try c.decode(HistoryColumns<Scalar>.self, forKey: .history).records
        elapsed = try c.decode(Double.self, forKey: .elapsed)
        finished = try c.decodeIfPresent(StopReason.self, forKey: .finished)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        if let n = optimizer.stateCount, n != parameters.count {
            throw OptimizerError.stateCountMismatch(state: n, parameters: parameters.count)
        }
        guard step >= 0, history.count <= step else {
            throw TrainingError.corruptState("step \(step) with \(history.count) history records")
        }
        if let e = options.earlyStopping, e.restoreBest, !e.bestParameters.isEmpty, e.bestParameters.count != parameters.count {
            throw TrainingError.corruptState("early stopping keeps \(e.bestParameters.count) best parameters for \(parameters.count)")
        }
    }

    /// The state as a checkpoint (binary by default).
    public func checkpoint(format: CheckpointFormat = .binary) throws -> Data {
        try CheckpointCoding.encode(self, format: format)
    }

    /// Restores ``checkpoint(format:)``'s output (either format).
    /// - Throws: `CheckpointError` for a damaged or newer file, `OptimizerError` for another
    ///   optimizer or scalar type, ``TrainingError/corruptState(_:)`` for an inconsistent one.
    public init(checkpoint data: Data) throws {
        self = try CheckpointCoding.decode(Self.self, from: data)
    }

    /// Writes the state to `url` atomically (temporary name, then rename); the binary format
    /// streams θ and the optimizer's arrays without copying them.
    public func write(to url: URL, format: CheckpointFormat = .binary) throws {
        try CheckpointCoding.write(self, format: format, to: url)
    }

    /// Reads a state written by ``write(to:format:)``.
    public init(contentsOf url: URL) throws {
        self = try CheckpointCoding.read(Self.self, from: url)
    }
}

/// The metadata of a training-state checkpoint, readable without knowing its optimizer type
/// (to choose the type to decode).
public struct TrainingStateSummary: Sendable, Decodable {
    public var version: Int?
    public var kind: String
    public var scalar: String
    public var optimizerKind: String
    public var step: Int
    public var metadata: [String: String]

    /// Reads the summary of the checkpoint at `url` (the whole file is checked).
    public init(contentsOf url: URL) throws {
        self = try CheckpointCoding.read(Self.self, from: url)
        guard kind == TrainingState<SGD<Double>>.kind else {
            throw CheckpointError.kindMismatch(expected: TrainingState<SGD<Double>>.kind, found: kind)
        }
    }
}

/// The history stored column by column, so that its numbers go to raw blocks.
struct HistoryColumns<Scalar: BLASScalar>: Codable {
    var step: [Int] = [], loss: [Scalar] = [], gradientNorm: [Scalar] = [], learningRate: [Scalar] = []
    var elapsed: [Double] = []
    /// θ of every record, concatenated (empty unless recorded); `parameterCounts[i]` elements each.
    var parameters: [Scalar] = []
    var parameterCounts: [Int] = []
    /// Steps with a validation evaluation, with their loss and accuracy (NaN: none).
    var validationSteps: [Int] = [], validationLoss: [Scalar] = [], validationAccuracy: [Double] = []

    init(_ records: [TrainingRecord<Scalar>]) {
        for (i, r) in records.enumerated() {
            step.append(r.step); loss.append(r.loss); gradientNorm.append(r.gradientNorm)
            learningRate.append(r.learningRate); elapsed.append(r.elapsed)
            parameters.append(contentsOf: r.parameters); parameterCounts.append(r.parameters.count)
            if r.validationLoss != nil || r.validationAccuracy != nil {
                validationSteps.append(i)
                validationLoss.append(r.validationLoss ?? .nan)
                validationAccuracy.append(r.validationAccuracy ?? .nan)
            }
        }
    }

    var records: [TrainingRecord<Scalar>] {
        get throws {
            let n = step.count
            guard [loss.count, gradientNorm.count, learningRate.count, elapsed.count, parameterCounts.count].allSatisfy({ $0 == n }),
                  validationLoss.count == validationSteps.count, validationAccuracy.count == validationSteps.count,
                  MemoryLimit.sum(parameterCounts) == parameters.count,
                  validationSteps.allSatisfy({ (0..<n).contains($0) }) else {
                throw TrainingError.corruptState("history columns of different lengths")
            }
            var result: [TrainingRecord<Scalar>] = []
            result.reserveCapacity(n)
            var offset = 0
            for i in 0..<n {
                let p = Array(parameters[offset..<(offset + parameterCounts[i])])
                offset += parameterCounts[i]
                result.append(TrainingRecord(step: step[i], loss: loss[i], gradientNorm: gradientNorm[i], learningRate: learningRate[i],
                                             elapsed: elapsed[i], parameters: p))
            }
            for (k, i) in validationSteps.enumerated() {
                result[i].validationLoss = validationLoss[k].isNaN ? nil : validationLoss[k]
                result[i].validationAccuracy = validationAccuracy[k].isNaN ? nil : validationAccuracy[k]
            }
            return result
        }
    }
}
